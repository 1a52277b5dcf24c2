package demo

import (
	"context"
	"fmt"

	"github.com/subsync/subsync/integration/emulator"
	"github.com/subsync/subsync/integration/testbed"
)

// clusters is where the demo's east and west run: the embedded emulator,
// or real Apache Pulsar brokers from the test bed.
type clusters interface {
	describe() string
	serviceURL(name string) string
	webURL(name string) string
	// fail stops a whole cluster at once, as a site failure would.
	fail(name string) error
	close()
}

type emulated struct{ sim *emulator.Sim }

func startEmulated(o Options) (clusters, error) {
	sim, err := emulator.Start(emulator.Options{Logger: o.Logger, Clusters: []emulator.ClusterOptions{
		{Name: primaryCluster, SnapshotFrequency: o.SnapshotFrequency},
		{Name: standbyCluster, SnapshotFrequency: o.SnapshotFrequency},
	}})
	if err != nil {
		return nil, err
	}
	return emulated{sim}, nil
}

func (e emulated) describe() string              { return "emulated clusters" }
func (e emulated) serviceURL(name string) string { return e.sim.Cluster(name).ServiceURL() }
func (e emulated) webURL(name string) string     { return e.sim.Cluster(name).WebURL() }
func (e emulated) fail(name string) error        { return e.sim.StopCluster(name) }
func (e emulated) close()                        { e.sim.Close() }

type realBrokers struct{ bed *testbed.Bed }

// startReal starts real standalone brokers of the given Pulsar version;
// their PIP-33 snapshot frequency is the test bed's (1 s).
func startReal(ctx context.Context, version string) (clusters, error) {
	bed, err := testbed.Start(ctx, testbed.Options{Version: version, Clusters: []string{primaryCluster, standbyCluster},
		LedgerMaxEntries: 1000})
	if err != nil {
		return nil, err
	}
	return realBrokers{bed}, nil
}

func (r realBrokers) describe() string {
	return fmt.Sprintf("real Apache Pulsar %s clusters", r.bed.Version())
}
func (r realBrokers) serviceURL(name string) string { return r.bed.Cluster(name).ServiceURL() }
func (r realBrokers) webURL(name string) string     { return r.bed.Cluster(name).WebURL() }

// fail SIGKILLs the broker's JVM.
func (r realBrokers) fail(name string) error { return r.bed.Kill(name) }
func (r realBrokers) close()                 { r.bed.Close() }
