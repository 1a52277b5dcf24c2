package replicator

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/cursor"
	"github.com/subsync/subsync/mapping"
	"github.com/subsync/subsync/snapshot"
)

func fullUpdate(t *testing.T, sender string, epoch int64, entries int64) *snapshot.Update {
	t.Helper()
	var set ackset.Set
	if err := set.AddRange(sender, 3, 0, entries-1); err != nil {
		t.Fatal(err)
	}
	enc, err := ackset.Encode(set)
	if err != nil {
		t.Fatal(err)
	}
	return &snapshot.Update{Topic: "persistent://public/geo/orders", Subscription: "billing", Sender: sender,
		Epoch: epoch, Sequence: 1, Full: true, AckSet: enc}
}

func importedCount(w *worker) uint64 {
	is, ok := w.imported[subRemote{"billing", "east"}]
	if !ok {
		return 0
	}
	return is.set.Cardinality()
}

// Finding 9: an update whose epoch is far ahead of the receiver's clock is
// rejected and counted; it cannot silence the stream, and neither can one
// stored before the bound existed.
func TestFarFutureEpochCannotSilenceAStream(t *testing.T) {
	w := newUnitWorker(t, Config{})
	now := w.d.now().UnixMilli()
	w.importUpdate(fullUpdate(t, "east", math.MaxInt64, 5))
	if got := rejected(w, "epoch_ahead"); got != 1 {
		t.Fatalf("epoch_ahead rejections = %v, want 1", got)
	}
	w.importUpdate(fullUpdate(t, "east", now, 10))
	if got := importedCount(w); got != 10 {
		t.Fatalf("after an honest full state: %d entries imported, want 10", got)
	}

	// A receiver restarted over a store that holds a MaxInt64 epoch.
	w2 := newUnitWorker(t, Config{})
	data, err := encodeImport(importRecord{epoch: math.MaxInt64})
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.d.deps.Store.PutImported(w2.topic, "billing", "east", mapping.State{Seq: 9, Data: data}); err != nil {
		t.Fatal(err)
	}
	w2.importUpdate(fullUpdate(t, "east", now, 7))
	if got := importedCount(w2); got != 7 {
		t.Fatalf("after restart over a stored MaxInt64 epoch: %d entries imported, want 7", got)
	}

	// A receiver whose clock ran an hour ahead accepted such an epoch; once
	// its clock is right again, the sender's honest full state applies.
	w3 := newUnitWorker(t, Config{})
	ahead := now + time.Hour.Milliseconds()
	w3.d.now = func() time.Time { return time.UnixMilli(ahead) }
	w3.importUpdate(fullUpdate(t, "east", ahead, 3))
	w3.d.now = func() time.Time { return time.UnixMilli(now) }
	w3.importUpdate(fullUpdate(t, "east", now, 8))
	if got := importedCount(w3); got != 8 {
		t.Fatalf("after the receiver's clock came back: %d entries imported, want 8", got)
	}
}

// Finding 9 (and 8): a correctly signed message from a cluster the
// namespace does not replicate with is rejected and counted.
func TestUnknownSenderIsRejected(t *testing.T) {
	w := newUnitWorker(t, Config{})
	cc := &controlChannel{d: w.d, namespace: w.namespace, log: w.log}
	for _, sender := range []string{"mallory", "eats"} {
		b, err := snapshot.Encode(fullUpdate(t, sender, w.d.now().UnixMilli(), 3), w.d.cfg.Keys.Current())
		if err != nil {
			t.Fatal(err)
		}
		// A topic out of scope: were the sender accepted, it would be
		// counted as out_of_scope instead, without any Pulsar connection.
		cc.handle(context.Background(), b)
	}
	if got := rejected(w, "unknown_sender"); got != 2 {
		t.Fatalf("unknown_sender rejections = %v, want 2", got)
	}
}

// countingAdmin counts reads and fails them.
type countingAdmin struct {
	cursor.Admin
	reads atomic.Int64
}

func (a *countingAdmin) InternalStats(context.Context, string) (utils.PersistentTopicInternalStats, error) {
	a.reads.Add(1)
	return utils.PersistentTopicInternalStats{}, errors.New("unavailable")
}

// Finding 9: 5,000 replayed copies of one snapshot request draw one answer
// (here: one admin read, which every answer starts with).
func TestReplayedSnapshotRequestIsAnsweredOnce(t *testing.T) {
	w := newUnitWorker(t, Config{})
	adm := &countingAdmin{}
	w.d.admin, w.d.adminSlots = adm, make(slots, 1)
	req := &snapshot.SnapshotRequest{ID: "east-" + itoa(w.d.now().UnixMilli()) + "-1", Topic: w.topic,
		Requester: "east", RequesterLAC: ackset.Position{Ledger: 3, Entry: 9}, SentAt: w.d.now().UnixMilli()}
	for range 5000 {
		w.respond(context.Background(), req)
	}
	if got := adm.reads.Load(); got != 1 {
		t.Fatalf("5000 replays of one request: %d admin reads, want 1", got)
	}
	if got := rejected(w, "snapshot_request_replayed"); got != 4999 {
		t.Fatalf("replays counted %v, want 4999", got)
	}
}
