package replicator

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/cursor"
	"github.com/subsync/subsync/mapping"
	"github.com/subsync/subsync/snapshot"
)

// export publishes, for every subscription in scope, what changed in its
// acknowledged set since the last export: a delta, or the full state on a
// new epoch and at least every FullStateEvery export intervals.
func (w *worker) export(ctx context.Context, now time.Time, ts cursor.TopicState, runs []ackset.Run) {
	indexed := indexedSet(runs)
	for sub, st := range ts.Subscriptions {
		if !w.subscriptionInScope(sub) {
			continue
		}
		if err := ts.CheckCursor(st); err != nil {
			w.d.metrics.CursorsRefused.WithLabelValues(w.d.cfg.Cluster, w.namespace, w.topic, sub).Inc()
			w.d.rateLog.warn(w.log, w.d.now(), "cursor_refused", "cursor refused, not exported", "subscription", sub, "err", err)
			continue
		}
		set, err := ackset.FromCursor(st.MarkDelete, st.Deleted, runs)
		if err != nil {
			w.log.Error("translating cursor failed", "subscription", sub, "err", err)
			continue
		}
		prev, err := w.exportStateOf(sub)
		if err != nil {
			w.log.Warn("export failed", "subscription", sub, "err", err)
			continue
		}
		// Entries pruned from the index stay acknowledged in what is sent:
		// the cursor can no longer say so, and the remotes' own pruning
		// waits for this set to contain them.
		set = set.Union(prev.set.Difference(indexed))
		if err := w.exportOne(ctx, now, sub, st.MarkDelete, prev, set); err != nil {
			w.log.Warn("export failed", "subscription", sub, "err", err)
		}
	}
}

func (w *worker) exportOne(ctx context.Context, now time.Time, sub string, mdp ackset.Position, prev *exportState, set ackset.Set) error {
	epoch, seq := prev.epoch, prev.seq+1
	if !prev.current {
		// A new incarnation starts a new stream, with a full state. Its
		// epoch is stored before anything carries it: a restart after a
		// publish whose checkpoint failed must still pick a greater one.
		epoch, seq = snapshot.NextEpoch(prev.epoch, w.epoch), 1
		if err := w.storeExport(sub, epoch, 0, prev.set); err != nil {
			return err
		}
	}
	full := !prev.current || now.Sub(prev.lastFull) >= w.d.fullStateInterval()
	delta := ackset.Diff(prev.set, set)
	if !full && delta.IsEmpty() {
		return nil
	}
	u := &snapshot.Update{Topic: w.topic, Subscription: sub, Sender: w.d.cfg.Cluster, Epoch: epoch,
		Sequence: seq, Full: full, SenderMDP: mdp, SentAt: now.UnixMilli()}
	var err error
	if full {
		u.AckSet, err = ackset.Encode(set)
	} else {
		u.AckSet, err = ackset.EncodeDelta(delta)
	}
	if err != nil {
		return fmt.Errorf("encoding ack set: %w", err)
	}
	if err := w.ctrl.publish(ctx, u); err != nil {
		return err
	}
	if err := w.storeExport(sub, epoch, u.Sequence, set); err != nil {
		return err
	}
	kind := "delta"
	next := &exportState{epoch: epoch, seq: u.Sequence, set: set, lastFull: prev.lastFull, current: true}
	if full {
		kind, next.lastFull = "full", now
	}
	w.mu.Lock()
	w.exported[sub] = next
	w.mu.Unlock()
	w.d.metrics.UpdatesSent.WithLabelValues(w.d.cfg.Cluster, w.namespace, kind).Inc()
	w.d.metrics.AcksExported.WithLabelValues(w.d.cfg.Cluster, w.namespace, w.topic, sub).Add(float64(delta.Added.Cardinality()))
	return nil
}

// storeExport checkpoints what was (or is about to be) exported for sub.
func (w *worker) storeExport(sub string, epoch int64, seq uint64, set ackset.Set) error {
	stored, err := encodeState(epoch, set)
	if err != nil {
		return err
	}
	if err := w.d.deps.Store.PutExported(w.topic, sub, mapping.State{Seq: seq, Data: stored}); err != nil {
		return fmt.Errorf("checkpointing export of %s: %w", sub, err)
	}
	return nil
}

// indexedSet is every EntryID the runs map.
func indexedSet(runs []ackset.Run) ackset.Set {
	var out ackset.Set
	for _, r := range runs {
		_ = out.AddRange(r.Origin, r.OriginLedger, r.OriginEntry, r.OriginEntry+r.Count-1)
	}
	return out
}

// exportStateOf returns the last export of sub, from memory or the store.
func (w *worker) exportStateOf(sub string) (*exportState, error) {
	w.mu.Lock()
	es, ok := w.exported[sub]
	w.mu.Unlock()
	if ok {
		return es, nil
	}
	st, found, err := w.d.deps.Store.Exported(w.topic, sub)
	if err != nil {
		return nil, fmt.Errorf("reading exported state: %w", err)
	}
	es = &exportState{}
	if found {
		epoch, set, err := decodeState(st.Data)
		if err != nil {
			w.log.Warn("stored export unreadable; starting afresh", "subscription", sub, "err", err)
		} else {
			es = &exportState{epoch: epoch, seq: st.Seq, set: set}
		}
	}
	return es, nil
}

// encodeState is the stored form of an exported or imported state: the
// sender's epoch, then the ack set's own encoding.
func encodeState(epoch int64, set ackset.Set) ([]byte, error) {
	enc, err := ackset.Encode(set)
	if err != nil {
		return nil, fmt.Errorf("encoding ack set: %w", err)
	}
	out := binary.AppendVarint(nil, epoch)
	return append(out, enc...), nil
}

func decodeState(b []byte) (int64, ackset.Set, error) {
	epoch, n := binary.Varint(b)
	if n <= 0 {
		return 0, ackset.Set{}, errors.New("stored state: bad epoch")
	}
	set, err := ackset.Decode(b[n:])
	if err != nil {
		return 0, ackset.Set{}, fmt.Errorf("stored state: %w", err)
	}
	return epoch, set, nil
}
