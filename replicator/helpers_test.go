package replicator

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/cursor"
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
		log: slog.New(slog.DiscardHandler), remotes: map[string][]string{"public/geo": {"east"}},
		rateLog: newRateLog(rejectLogEvery), applier: cursor.NewApplier(nil, nil, cursor.ApplierOptions{})}
	d.keys.Store(cfg.Keys)
	d.health = newHealth(d)
	w := &worker{d: d, topic: "persistent://public/geo/orders", namespace: "public/geo",
		log: d.log, exported: map[string]*exportState{}, imported: map[subRemote]*importState{},
		remotes: map[string]*remoteSnapshot{}, dirty: map[string]bool{}, seq: snapshot.NewSequencer(),
		tail: tailState{watermark: map[string]ackset.Position{}, lastStamp: map[string]ackset.Position{}}}
	return w
}

// rejected reads the rejection counter of one reason.
func rejected(w *worker, reason string) float64 {
	return testutil.ToFloat64(w.d.metrics.UpdatesRejected.WithLabelValues(w.d.cfg.Cluster, w.namespace, reason))
}

var matchAll = []*regexp.Regexp{regexp.MustCompile(".*")}

// replicatedMsg is a message as the Go client shows a replicated copy.
type replicatedMsg struct {
	pulsar.Message
	id    pulsar.MessageID
	from  string
	props map[string]string
}

func (m replicatedMsg) ID() pulsar.MessageID          { return m.id }
func (m replicatedMsg) IsReplicated() bool            { return m.from != "" }
func (m replicatedMsg) GetReplicatedFrom() string     { return m.from }
func (m replicatedMsg) Properties() map[string]string { return m.props }

// failingProducer refuses every send.
type failingProducer struct{ pulsar.Producer }

func (failingProducer) Send(context.Context, *pulsar.ProducerMessage) (pulsar.MessageID, error) {
	return nil, errors.New("producer closed")
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// recordingProducer keeps what is sent.
type recordingProducer struct {
	pulsar.Producer
	sent []*pulsar.ProducerMessage
}

func (p *recordingProducer) Send(_ context.Context, m *pulsar.ProducerMessage) (pulsar.MessageID, error) {
	p.sent = append(p.sent, m)
	return pulsar.NewMessageID(1, int64(len(p.sent)), -1, 0), nil
}
