package replicator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/apache/pulsar-client-go/pulsar/log"
	"github.com/apache/pulsar-client-go/pulsaradmin"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/admin/config"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"

	"github.com/subsync/subsync/integration/testbed"
)

// newBenchPair is the pair a benchmark measures: the real brokers of the
// test bed when it runs under `testbed exec` (clusters east and west),
// else the emulator.
func newBenchPair(b *testing.B) *pair {
	if testbed.RemoteFromEnv() == nil {
		return newPairTB(b)
	}
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	p := &pair{ns: "subsync/bench-" + hex.EncodeToString(suffix), keys: testKeys(b), clients: map[string]pulsar.Client{},
		admins: map[string]pulsaradmin.Client{}, cancel: map[string]context.CancelFunc{},
		done: map[string]chan struct{}{}, daemons: map[string]*Daemon{}, dirs: map[string]string{}}
	for _, letter := range []string{"A", "B"} {
		name := os.Getenv("PULSAR_" + letter + "_CLUSTER")
		if name != "east" && name != "west" {
			b.Fatalf("the test bed's clusters must be east and west, not %q", name)
		}
		adm, err := pulsaradmin.NewClient(&config.Config{WebServiceURL: os.Getenv("PULSAR_" + letter + "_WEB_URL")})
		if err != nil {
			b.Fatal(err)
		}
		if err := adm.Namespaces().CreateNamespace(p.ns); err != nil {
			b.Fatal(err)
		}
		if err := adm.Namespaces().SetNamespaceReplicationClusters(p.ns, []string{"east", "west"}); err != nil {
			b.Fatal(err)
		}
		// The benchmark reads the standby's copy before any subscription
		// there holds it; a real broker would have trimmed it.
		if err := adm.Namespaces().SetRetention(p.ns, utils.RetentionPolicies{RetentionTimeInMinutes: 60, RetentionSizeInMB: 1024}); err != nil {
			b.Fatal(err)
		}
		cl, err := pulsar.NewClient(pulsar.ClientOptions{URL: os.Getenv("PULSAR_" + letter + "_SERVICE_URL"),
			Logger: log.DefaultNopLogger(), OperationTimeout: 10 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(cl.Close)
		p.clients[name], p.admins[name] = cl, adm
		p.dirs[name] = b.TempDir()
	}
	return p
}
