package replicator

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

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
	p := newEmptyPair(b, "subsync/bench-"+hex.EncodeToString(suffix))
	for _, letter := range []string{"A", "B"} {
		name := os.Getenv("PULSAR_" + letter + "_CLUSTER")
		if name != "east" && name != "west" {
			b.Fatalf("the test bed's clusters must be east and west, not %q", name)
		}
		p.addCluster(b, name, os.Getenv("PULSAR_"+letter+"_SERVICE_URL"), os.Getenv("PULSAR_"+letter+"_WEB_URL"))
	}
	return p
}
