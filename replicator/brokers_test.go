package replicator

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/cursor"
	"github.com/subsync/subsync/snapshot"
)

// Finding 10: an internalStats whose mark-delete position lies beyond the
// topic's last entry is refused and counted, never exported, and prunes
// nothing.
func TestImpossibleCursorIsNeitherExportedNorPruned(t *testing.T) {
	w := newUnitWorker(t, Config{})
	prod := &recordingProducer{}
	w.ctrl = &controlChannel{d: w.d, namespace: w.namespace, topic: "ctl", producer: prod}
	p := func(l, e int64) ackset.Position { return ackset.Position{Ledger: l, Entry: e} }
	runs := []ackset.Run{{Local: p(9, 0), Origin: "west", OriginLedger: 9, OriginEntry: 0, Count: 5}}
	ts := cursor.TopicState{LastConfirmed: p(9, 4), Ledgers: []cursor.Ledger{{ID: 9}},
		Subscriptions: map[string]cursor.SubState{"billing": {MarkDelete: p(9, 54)}}}
	w.syncAll(t.Context(), w.d.now(), ts, runs, true, nil)
	if len(prod.sent) != 0 {
		t.Fatalf("%d updates published for a cursor beyond the LAC", len(prod.sent))
	}
	if got := testutil.ToFloat64(w.d.metrics.CursorsRefused.WithLabelValues("west", w.namespace, w.topic, "billing")); got != 1 {
		t.Fatalf("cursors_refused_total = %v, want 1", got)
	}
	if _, ok := w.gcBound(ts, runs, []string{"east"}); ok {
		t.Fatal("an impossible cursor allowed pruning")
	}
	// The same cursor at the LAC is exported.
	ts.Subscriptions["billing"] = cursor.SubState{MarkDelete: p(9, 4)}
	w.syncAll(t.Context(), w.d.now(), ts, runs, true, nil)
	if len(prod.sent) != 1 {
		t.Fatalf("%d updates published for a cursor at the LAC, want 1", len(prod.sent))
	}
}

// Finding 10: the namespace's control loop never waits for a topic whose
// queue is full; what does not fit is dropped and counted.
func TestControlLoopNeverWaitsForABusyTopic(t *testing.T) {
	w := newUnitWorker(t, Config{})
	w.inbox = make(chan snapshot.Message, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 3 {
			w.deliver(&snapshot.SnapshotRequest{ID: "east-1-1", Topic: w.topic, Requester: "east"})
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("deliver blocked on a full topic queue")
	}
	if got := rejected(w, "inbox_full"); got != 2 {
		t.Fatalf("inbox_full = %v, want 2", got)
	}
}

// Finding 10: 50,000 junk control messages are all counted but logged at a
// bounded rate.
func TestRejectedControlMessagesAreLoggedAtABoundedRate(t *testing.T) {
	w := newUnitWorker(t, Config{})
	var buf bytes.Buffer
	cc := &controlChannel{d: w.d, namespace: w.namespace, log: slog.New(slog.NewTextHandler(&buf, nil))}
	for i := range 50000 {
		cc.handle(t.Context(), []byte("junk "+itoa(int64(i))))
	}
	if got := rejected(w, "malformed"); got != 50000 {
		t.Fatalf("malformed = %v, want 50000", got)
	}
	if lines := strings.Count(buf.String(), "\n"); lines < 1 || lines > 2 {
		t.Fatalf("%d log lines for 50,000 rejections within seconds, want 1 or 2:\n%.500s", lines, buf.String())
	}
}

// Finding 10: an impossible geo-replicator cursor is not taken as proof
// that the entries it covers were processed.
func TestImpossibleReplicatorCursorIsIgnored(t *testing.T) {
	p := func(l, e int64) ackset.Position { return ackset.Position{Ledger: l, Entry: e} }
	ts := cursor.TopicState{LastConfirmed: p(9, 4), Ledgers: []cursor.Ledger{{ID: 9}},
		Replicators: map[string]cursor.SubState{"east": {MarkDelete: p(9, 54)}, "south": {MarkDelete: p(9, 2)}}}
	marks := replicatorMarks(ts)
	if _, ok := marks["east"]; ok || marks["south"] != p(9, 2) {
		t.Fatalf("replicator marks %v, want south's 9:2 only", marks)
	}
	w := newUnitWorker(t, Config{})
	w.state = ts
	w.runs = []ackset.Run{{Local: p(9, 0), Origin: "west", OriginLedger: 9, OriginEntry: 0, Count: 5}}
	if got := w.replicationLagLocked("east"); got != 5 {
		t.Fatalf("replication lag to east %d, want all 5 local entries (its cursor proves nothing)", got)
	}
}

// hungAdmin never answers before its context ends.
type hungAdmin struct{ cursor.Admin }

func (hungAdmin) InternalStats(ctx context.Context, _ string) (utils.PersistentTopicInternalStats, error) {
	<-ctx.Done()
	return utils.PersistentTopicInternalStats{}, ctx.Err()
}

// Finding 10: a hung admin call holds its topic for AdminTimeout at most,
// and gives its admin slot back.
func TestHungAdminCallIsBounded(t *testing.T) {
	w := newUnitWorker(t, Config{AdminTimeout: 200 * time.Millisecond})
	w.d.admin, w.d.adminSlots = hungAdmin{}, make(slots, 1)
	start := time.Now()
	for range 2 { // the second read needs the slot back
		if _, _, ok := w.readState(t.Context()); ok {
			t.Fatal("a hung read succeeded")
		}
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("two hung reads took %s with AdminTimeout 200ms", took)
	}
}
