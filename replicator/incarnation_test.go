package replicator

import (
	"testing"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/cursor"
	"github.com/subsync/subsync/mapping"
	"github.com/subsync/subsync/owner"
	"github.com/subsync/subsync/snapshot"
)

// lastUpdate decodes the last update the worker published.
func lastUpdate(t *testing.T, w *worker, prod *recordingProducer) *snapshot.Update {
	t.Helper()
	if len(prod.sent) == 0 {
		t.Fatal("nothing published")
	}
	msg, err := snapshot.Decode(prod.sent[len(prod.sent)-1].Payload, w.d.keys.Load())
	if err != nil {
		t.Fatal(err)
	}
	u, ok := msg.(*snapshot.Update)
	if !ok {
		t.Fatalf("published a %T, want an update", msg)
	}
	return u
}

// Finding 1, on the owner's side: the topic was deleted and recreated
// here, the tail index still holds the old incarnation's runs (east's
// entries 3:0..9 in ledger 9), and consumers of a new subscription own
// it. Below its mark-delete position in the new ledger, the old runs
// must not count as acknowledged: east would mirror them and lose its
// unconsumed messages.
func TestOldIncarnationsRunsAreNotExported(t *testing.T) {
	w := newUnitWorker(t, Config{})
	prod := &recordingProducer{}
	w.ctrl = &controlChannel{d: w.d, namespace: w.namespace, topic: "ctl", producer: prod}
	p := func(l, e int64) ackset.Position { return ackset.Position{Ledger: l, Entry: e} }
	runs := []ackset.Run{{Local: p(9, 0), Origin: "east", OriginLedger: 3, OriginEntry: 0, Count: 10}}
	ts := cursor.TopicState{LastConfirmed: p(20, 1), Ledgers: []cursor.Ledger{{ID: 20}},
		Subscriptions: map[string]cursor.SubState{"billing": {MarkDelete: p(20, 1), Type: "Shared", Consumers: 1,
			ConsumerNames: []string{"app"}}}}
	w.syncAll(t.Context(), w.d.now(), ts, runs, true, nil)
	u := lastUpdate(t, w, prod)
	set, err := ackset.Decode(u.AckSet)
	if err != nil {
		t.Fatal(err)
	}
	if !set.IsEmpty() || !u.Active {
		t.Fatalf("exported %v (active %v); want nothing acknowledged from the deleted incarnation", set, u.Active)
	}
	// The same runs in a ledger the topic has: exported.
	ts.Ledgers = []cursor.Ledger{{ID: 9, Entries: 10}, {ID: 20}}
	w.syncAll(t.Context(), w.d.now(), ts, runs, true, nil)
	if u := lastUpdate(t, w, prod); u.Full {
		t.Fatal("want a delta")
	}
}

// A subscription deleted and created again here starts with nothing: what
// the deleted one exported is not carried into the new one.
func TestRecreatedSubscriptionCarriesNothing(t *testing.T) {
	w := newUnitWorker(t, Config{})
	prod := &recordingProducer{}
	w.ctrl = &controlChannel{d: w.d, namespace: w.namespace, topic: "ctl", producer: prod}
	p := func(l, e int64) ackset.Position { return ackset.Position{Ledger: l, Entry: e} }
	runs := []ackset.Run{{Local: p(9, 0), Origin: "east", OriginLedger: 3, OriginEntry: 0, Count: 10}}
	sub := cursor.SubState{MarkDelete: p(9, 9), Type: "Shared", Consumers: 1, ConsumerNames: []string{"app"}}
	ts := cursor.TopicState{LastConfirmed: p(9, 9), Ledgers: []cursor.Ledger{{ID: 9}},
		Subscriptions: map[string]cursor.SubState{"billing": sub}}
	w.syncAll(t.Context(), w.d.now(), ts, runs, true, nil)
	// Pruned from the index, then the subscription deleted ...
	delete(ts.Subscriptions, "billing")
	w.syncAll(t.Context(), w.d.now(), ts, nil, true, nil)
	if u := lastUpdate(t, w, prod); !u.Deleted {
		t.Fatal("the deletion was not exported")
	}
	// ... and created again at the start.
	sub.MarkDelete = p(9, -1)
	ts.Subscriptions["billing"] = sub
	w.syncAll(t.Context(), w.d.now(), ts, nil, true, nil)
	u := lastUpdate(t, w, prod)
	set, err := ackset.Decode(u.AckSet)
	if err != nil || !u.Full || u.Deleted || !set.IsEmpty() {
		t.Fatalf("recreated subscription exported %v (full %v, deleted %v, err %v); want a full, empty state", set, u.Full, u.Deleted, err)
	}
}

// A subscription deleted here while the daemon was down: its stored record
// is loaded at start, so the deletion is seen and exported even when no
// remote ever reported the subscription.
func TestDeletionWhileDownIsExportedAfterRestart(t *testing.T) {
	w := newUnitWorker(t, Config{})
	prod := &recordingProducer{}
	w.ctrl = &controlChannel{d: w.d, namespace: w.namespace, topic: "ctl", producer: prod}
	data, err := encodeExport(exportRecord{epoch: 7, mem: owner.Memory{Known: true, LastActive: 5}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.d.deps.Store.PutExported(w.topic, "billing", mapping.State{Seq: 3, Data: data}); err != nil {
		t.Fatal(err)
	}
	if err := w.restore(); err != nil {
		t.Fatal(err)
	}
	ts := cursor.TopicState{LastConfirmed: ackset.Position{Ledger: 9, Entry: -1}, Ledgers: []cursor.Ledger{{ID: 9}},
		Subscriptions: map[string]cursor.SubState{}}
	w.syncAll(t.Context(), w.d.now(), ts, nil, true, nil)
	if u := lastUpdate(t, w, prod); !u.Deleted || u.Subscription != "billing" {
		t.Fatalf("published %+v; want billing's deletion", u)
	}
}
