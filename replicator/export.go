package replicator

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/cursor"
	"github.com/subsync/subsync/engine"
	"github.com/subsync/subsync/mapping"
	"github.com/subsync/subsync/owner"
)

// silenceIntervals is how many full-state intervals a remote's claim of
// active consumers counts without a newer update: a remote sends a full
// state every interval, so three missed ones mean it (or its link) is gone.
const silenceIntervals = 3

// linger is how long a cluster whose consumers asked for messages counts
// as active after they left (owner.Config.Linger): long enough for a
// cluster with consumers attached to take their last acknowledgements in
// (union) before it owns alone, even when the consumers came and went
// before this daemon started acting.
const linger = 30 * time.Second

// lastActiveEvery bounds how often a subscription's record is written
// only because its consumers are still attached: a restart forgets at most
// this much of when they were last seen.
const lastActiveEvery = 10 * time.Second

// syncAll runs a sync round (package engine) for every subscription the
// topic has, was told about or remembers, and performs what it decides.
// export says whether the round may publish; only, when non-nil, limits
// it to those subscriptions.
func (w *worker) syncAll(ctx context.Context, now time.Time, ts cursor.TopicState, runs []ackset.Run, export bool, only map[string]bool) {
	r := engine.NewRead(now.UnixMilli(), ts, runs, w.tailCaughtUp(ts))
	cfg := w.engineConfig()
	for _, sub := range w.subscriptionsOf(ts) {
		if only == nil || only[sub] {
			w.syncOne(ctx, now, cfg, r, sub, export)
		}
	}
}

// subscriptionsOf lists, sorted, the subscriptions in scope that the topic
// has, or that this daemon exported or imported before.
func (w *worker) subscriptionsOf(ts cursor.TopicState) []string {
	seen := map[string]bool{}
	for sub := range ts.Subscriptions {
		seen[sub] = true
	}
	w.mu.Lock()
	for sub := range w.exported {
		seen[sub] = true
	}
	for k := range w.imported {
		seen[k.sub] = true
	}
	w.mu.Unlock()
	out := make([]string, 0, len(seen))
	for sub := range seen {
		if !IsSystemCursor(sub) && w.subscriptionInScope(sub) {
			out = append(out, sub)
		}
	}
	slices.Sort(out)
	return out
}

// syncOne performs one subscription's Ready: change the cursor, then
// publish (after persisting a new stream's epoch) and keep the next state.
func (w *worker) syncOne(ctx context.Context, now time.Time, cfg engine.Config, r engine.Read, sub string, export bool) {
	prev, err := w.exportStateOf(sub)
	if err != nil {
		w.log.Warn("sync failed", "subscription", sub, "err", err)
		return
	}
	w.mu.Lock()
	seen := prev.seen
	w.mu.Unlock()
	rd, err := engine.Decide(cfg, r, sub, engine.Subscription{Stream: prev.stream(), Memory: prev.mem, Reports: w.reportsOf(sub), Seen: seen}, export)
	switch {
	case err != nil:
		w.log.Error("sync round failed", "subscription", sub, "err", err)
		return
	case rd.Refused != nil:
		w.d.metrics.CursorsRefused.WithLabelValues(w.d.cfg.Cluster, w.namespace, w.topic, sub).Inc()
		w.d.rateLog.warn(w.log, now, "cursor_refused", "cursor refused, not synced", "subscription", sub, "err", rd.Refused)
		return
	}
	w.noteRole(sub, prev, rd.Step)
	w.mu.Lock()
	prev.seen = rd.Next.Seen
	w.mu.Unlock()
	if !w.performCursor(ctx, now, sub, rd) {
		// The subscription the step created does not exist: the decision
		// took it for created, so the next read would find it "deleted
		// here". Keep the previous memory; the next round decides again.
		rd.Next.Memory = prev.mem
	}
	if rd.Publish != nil {
		if err := w.publishUpdate(ctx, now, prev, rd); err != nil {
			w.log.Warn("export failed", "subscription", sub, "err", err)
		}
	} else if err := w.remember(now, sub, prev, rd.Next.Memory); err != nil {
		w.log.Warn("keeping subscription state failed", "subscription", sub, "err", err)
	}
}

func (w *worker) engineConfig() engine.Config {
	return engine.Config{Cluster: w.d.cfg.Cluster, Topic: w.topic, FullEvery: w.d.fullStateInterval().Milliseconds(),
		EpochBase: w.epoch, AckConsumer: w.d.applier.ConsumerName(), ResetThreshold: w.d.cfg.ResetThreshold,
		Owner: owner.Config{Self: w.d.cfg.Cluster, Silence: silenceIntervals * w.d.fullStateInterval().Milliseconds(),
			Linger: linger.Milliseconds()}}
}

// noteRole reports the subscription's role, and logs a change.
func (w *worker) noteRole(sub string, prev *exportState, step owner.Step) {
	w.d.metrics.Role.WithLabelValues(w.d.cfg.Cluster, w.namespace, w.topic, sub).Set(float64(step.Role))
	w.mu.Lock()
	changed := step.Role != prev.role || step.Owner != prev.owner
	prev.role, prev.owner = step.Role, step.Owner
	w.mu.Unlock()
	if changed {
		w.log.Info("subscription role", "subscription", sub, "role", step.Role.String(), "owner", step.Owner,
			"active", step.Export.Active)
	}
}

// reportsOf is every remote's last word on sub.
func (w *worker) reportsOf(sub string) map[string]owner.Report {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]owner.Report{}
	for k, is := range w.imported {
		if k.sub != sub || is.epoch == 0 {
			continue
		}
		out[k.remote] = owner.Report{Presence: owner.Presence{Active: is.active, LastActive: is.lastActive},
			Exists: !is.deleted, Acked: is.set, Received: is.received.UnixMilli()}
	}
	return out
}

// publishUpdate publishes the Ready's update, a new stream's epoch stored
// before anything carries it (a restart after a publish whose checkpoint
// failed must still pick a greater one), then keeps the next state.
func (w *worker) publishUpdate(ctx context.Context, now time.Time, prev *exportState, rd engine.Ready) error {
	if rd.NewEpoch != 0 {
		if err := w.storeExport(rd.Sub, exportRecord{epoch: rd.NewEpoch, set: prev.set, mem: prev.mem}, 0); err != nil {
			return err
		}
		w.mu.Lock()
		prev.epoch, prev.seq = rd.NewEpoch, 0
		w.mu.Unlock()
	}
	if err := w.ctrl.publish(ctx, rd.Publish); err != nil {
		return err
	}
	next := rd.Next.Stream
	if err := w.storeExport(rd.Sub, exportRecord{epoch: next.Epoch, set: next.Set, mem: rd.Next.Memory}, next.Seq); err != nil {
		return err
	}
	es := &exportState{mem: rd.Next.Memory, memAt: now, role: prev.role, owner: prev.owner}
	es.setStream(next)
	w.mu.Lock()
	w.exported[rd.Sub] = es
	w.mu.Unlock()
	kind := "delta"
	if rd.Publish.Full {
		kind = "full"
	}
	w.d.metrics.UpdatesSent.WithLabelValues(w.d.cfg.Cluster, w.namespace, kind).Inc()
	w.d.metrics.AcksExported.WithLabelValues(w.d.cfg.Cluster, w.namespace, w.topic, rd.Sub).Add(float64(rd.Added))
	return nil
}

// remember keeps the decision's memory when it changed: at once for what
// it decides on, at most every lastActiveEvery for the time consumers
// were last seen.
func (w *worker) remember(now time.Time, sub string, prev *exportState, mem owner.Memory) error {
	if sameMemory(prev.mem, mem) && (mem.LastActive == prev.mem.LastActive || now.Sub(prev.memAt) < lastActiveEvery) {
		return nil
	}
	if err := w.storeExport(sub, exportRecord{epoch: prev.epoch, set: prev.set, mem: mem}, prev.seq); err != nil {
		return err
	}
	w.mu.Lock()
	prev.mem, prev.memAt = mem, now
	w.mu.Unlock()
	return nil
}

// sameMemory compares everything but LastActive.
func sameMemory(a, b owner.Memory) bool {
	return a.Known == b.Known && a.Deleted == b.Deleted && a.OwnerDeleted == b.OwnerDeleted &&
		a.DeletedOwning == b.DeletedOwning && a.Idle == b.Idle && a.Mirroring == b.Mirroring &&
		a.Applied.Equal(b.Applied) && a.LocalOnly.Equal(b.LocalOnly)
}

// storeExport checkpoints sub's record.
func (w *worker) storeExport(sub string, r exportRecord, seq uint64) error {
	stored, err := encodeExport(r)
	if err != nil {
		return err
	}
	if err := w.d.deps.Store.PutExported(w.topic, sub, mapping.State{Seq: seq, Data: stored}); err != nil {
		return fmt.Errorf("checkpointing export of %s: %w", sub, err)
	}
	return nil
}

// exportStateOf returns sub's record, from memory or the store.
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
		r, err := decodeExport(st.Data)
		if err != nil {
			w.log.Warn("stored export unreadable; starting afresh", "subscription", sub, "err", err)
		} else {
			es = &exportState{epoch: r.epoch, seq: st.Seq, set: r.set, mem: r.mem, memAt: w.d.now()}
		}
	}
	w.mu.Lock()
	if existing, ok := w.exported[sub]; ok {
		es = existing
	} else {
		w.exported[sub] = es
	}
	w.mu.Unlock()
	return es, nil
}

// stream is the engine's view of the export state.
func (es *exportState) stream() engine.Stream {
	return engine.Stream{Epoch: es.epoch, Seq: es.seq, Set: es.set, LastFull: es.lastFull.UnixMilli(),
		Current: es.current, Active: es.active, Deleted: es.deleted}
}

func (es *exportState) setStream(s engine.Stream) {
	es.epoch, es.seq, es.set, es.current = s.Epoch, s.Seq, s.Set, s.Current
	es.lastFull, es.active, es.deleted = time.UnixMilli(s.LastFull), s.Active, s.Deleted
}
