package replicator

import (
	"log/slog"
	"regexp"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/subsync/subsync/mapping"
	"github.com/subsync/subsync/snapshot"
)

// newUnitWorker is a worker with a real store and metrics but no Pulsar:
// enough for the loop goroutine's decisions on control messages.
func newUnitWorker(t *testing.T, cfg Config) *worker {
	t.Helper()
	store, err := mapping.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	if cfg.Cluster == "" {
		cfg.Cluster = "west"
	}
	if len(cfg.Namespaces) == 0 {
		cfg.Namespaces = []string{"public/geo"}
	}
	if cfg.Keys == nil {
		cfg.Keys = testKeys(t)
	}
	cfg = cfg.WithDefaults()
	d := &Daemon{cfg: cfg, deps: Deps{Store: store}, metrics: NewMetrics(nil), now: time.Now,
		log: slog.New(slog.DiscardHandler), remotes: map[string][]string{"public/geo": {"east"}}}
	w := &worker{d: d, topic: "persistent://public/geo/orders", namespace: "public/geo",
		log: d.log, exported: map[string]*exportState{}, imported: map[subRemote]*importState{},
		remotes: map[string]*remoteSnapshot{}, dirty: map[subRemote]bool{}, seq: snapshot.NewSequencer()}
	return w
}

// rejected reads the rejection counter of one reason.
func rejected(w *worker, reason string) float64 {
	return testutil.ToFloat64(w.d.metrics.UpdatesRejected.WithLabelValues(w.d.cfg.Cluster, w.namespace, reason))
}

var matchAll = []*regexp.Regexp{regexp.MustCompile(".*")}
