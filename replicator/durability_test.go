package replicator

import (
	"context"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"maps"
	"testing"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/cursor"
	"github.com/subsync/subsync/mapping"
	"github.com/subsync/subsync/snapshot"
)

// Finding 11: a flush that fails must not leave the entries it carried
// looking like stale copies when the tail reads them again.
func TestFailedTailFlushDoesNotLoseStamps(t *testing.T) {
	w := newUnitWorker(t, Config{})
	dir := t.TempDir()
	store, err := mapping.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	w.d.deps.Store = store
	pos := ackset.Position{Ledger: 10, Entry: 0}
	msg := replicatedMsg{id: pulsar.NewMessageID(10, 0, -1, 0), from: "east",
		props: map[string]string{SourcePositionProperty: "3:0"}}
	read := func() error {
		w.mu.Lock()
		stamps := maps.Clone(w.tail.lastStamp)
		w.mu.Unlock()
		b := &mapping.RunBuilder{}
		w.appendEntry(context.Background(), b, stamps, pos, msg)
		return w.flushTail(b, pos, true, stamps)
	}
	_ = store.Close() // the flush fails, as on a full disk
	if err := read(); err == nil {
		t.Fatal("flush into a closed store succeeded")
	}
	store, err = mapping.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	w.d.deps.Store = store
	if err := read(); err != nil { // the tail's restart reads the entry again
		t.Fatal(err)
	}
	id, ok, err := store.LookupEntry(w.topic, pos)
	if err != nil || !ok || id != (ackset.EntryID{Origin: "east", Ledger: 3, Entry: 0}) {
		t.Fatalf("entry 10:0 after the re-read: %v, %t, %v; want east 3:0", id, ok, err)
	}
}

// Finding 11: a new epoch is stored before it is published, so a restart
// after a publish whose checkpoint never happened still moves forward.
func TestNewEpochIsStoredBeforeItIsPublished(t *testing.T) {
	w := newUnitWorker(t, Config{})
	w.epoch = 1_000
	w.ctrl = &controlChannel{d: w.d, namespace: w.namespace, topic: "ctl", producer: failingProducer{}}
	ts := cursor.TopicState{LastConfirmed: ackset.Position{Ledger: 1, Entry: 0}, Ledgers: []cursor.Ledger{{ID: 1}},
		Subscriptions: map[string]cursor.SubState{"billing": {MarkDelete: ackset.Position{Ledger: 1, Entry: 0}}}}
	w.syncAll(context.Background(), w.d.now(), ts, nil, true, nil)
	if got := testutil.ToFloat64(w.d.metrics.UpdatesSent.WithLabelValues(w.d.cfg.Cluster, w.namespace, "full")); got != 0 {
		t.Fatalf("%v updates counted as sent through a failing producer", got)
	}
	st, found, err := w.d.deps.Store.Exported(w.topic, "billing")
	if err != nil || !found {
		t.Fatalf("no export state stored before publishing: %t, %v", found, err)
	}
	r, err := decodeExport(st.Data)
	epoch := r.epoch
	if err != nil || epoch != 1_000 {
		t.Fatalf("stored epoch %d (%v), want the one about to be published, 1000", epoch, err)
	}
	prev, err := w.exportStateOf("billing")
	if err != nil {
		t.Fatal(err)
	}
	// A restart within the same millisecond must still pick a greater epoch.
	if next := snapshot.NextEpoch(prev.epoch, w.epoch); next <= 1_000 {
		t.Fatalf("epoch after restart %d, want > 1000", next)
	}
}

// Finding 11: imports the store holds are loaded at start, so they are
// applied even when the remote never sends again (it failed over).
func TestStoredImportsAreRestoredAtStart(t *testing.T) {
	w := newUnitWorker(t, Config{})
	var set ackset.Set
	if err := set.AddRange("east", 3, 0, 9); err != nil {
		t.Fatal(err)
	}
	data, err := encodeImport(importRecord{epoch: 5, set: set})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.d.deps.Store.PutImported(w.topic, "billing", "east", mapping.State{Seq: 4, Data: data}); err != nil {
		t.Fatal(err)
	}
	if err := w.restore(); err != nil {
		t.Fatal(err)
	}
	is, ok := w.imported[subRemote{"billing", "east"}]
	if !ok || is.set.Cardinality() != 10 || is.epoch != 5 || is.seq != 4 {
		t.Fatalf("restored import = %+v, %t; want 10 entries, epoch 5, seq 4", is, ok)
	}
}
