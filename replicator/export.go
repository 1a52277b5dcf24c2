package replicator

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/cursor"
	"github.com/subsync/subsync/mapping"
	"github.com/subsync/subsync/owner"
	"github.com/subsync/subsync/snapshot"
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

// syncAll runs the owner decision (package owner) for every subscription
// the topic has, was told about or remembers, exports what it says when
// export is set, and performs its steps. only, when non-nil, limits the
// round to those subscriptions.
func (w *worker) syncAll(ctx context.Context, now time.Time, ts cursor.TopicState, runs []ackset.Run, export bool, only map[string]bool) {
	live := liveRuns(ts, runs)
	indexed := indexedSet(live)
	for _, sub := range w.subscriptionsOf(ts) {
		if only == nil || only[sub] {
			w.syncOne(ctx, now, ts, live, indexed, sub, export)
		}
	}
}

// liveRuns keeps the runs whose local ledger the topic still has. A run in
// a ledger the topic no longer lists says nothing about its subscriptions:
// the ledger was trimmed (what a subscription acknowledged there was
// exported before and is carried), or it belonged to an incarnation of the
// topic deleted since, whose entries no subscription of this one consumed.
// Below a live mark-delete position such a run would count as acknowledged.
func liveRuns(ts cursor.TopicState, runs []ackset.Run) []ackset.Run {
	ledgers := make(map[int64]bool, len(ts.Ledgers))
	for _, l := range ts.Ledgers {
		ledgers[l.ID] = true
	}
	out := make([]ackset.Run, 0, len(runs))
	for _, r := range runs {
		if ledgers[r.Local.Ledger] {
			out = append(out, r)
		}
	}
	return out
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

func (w *worker) syncOne(ctx context.Context, now time.Time, ts cursor.TopicState, runs []ackset.Run, indexed ackset.Set, sub string, export bool) {
	st, exists := ts.Subscriptions[sub]
	if exists && ts.CheckCursor(st) != nil {
		w.d.metrics.CursorsRefused.WithLabelValues(w.d.cfg.Cluster, w.namespace, w.topic, sub).Inc()
		w.d.rateLog.warn(w.log, now, "cursor_refused", "cursor refused, not synced", "subscription", sub, "err", ts.CheckCursor(st))
		return
	}
	prev, err := w.exportStateOf(sub)
	if err != nil {
		w.log.Warn("sync failed", "subscription", sub, "err", err)
		return
	}
	local := owner.Local{Exists: exists}
	if exists {
		set, err := ackset.FromCursor(st.MarkDelete, st.Deleted, runs)
		if err != nil {
			w.log.Error("translating cursor failed", "subscription", sub, "err", err)
			return
		}
		// Entries pruned from the index or trimmed from the topic stay
		// acknowledged: the cursor can no longer say so, and the remotes'
		// own pruning waits for them. Not into a new incarnation of the
		// subscription: what the deleted one acknowledged is not its own.
		local.Acked = set
		if prev.mem.Known {
			local.Acked = set.Union(prev.set.Difference(indexed))
		}
		local.AppConsumers = st.AppConsumers(w.d.applier.ConsumerName())
		local.LastFlow = st.LastFlow
	}
	step := owner.Decide(w.ownerConfig(), now.UnixMilli(), local, w.reportsOf(sub), prev.mem)
	w.d.metrics.Role.WithLabelValues(w.d.cfg.Cluster, w.namespace, w.topic, sub).Set(float64(step.Role))
	if step.Role != prev.role || step.Owner != prev.owner {
		w.log.Info("subscription role", "subscription", sub, "role", step.Role.String(), "owner", step.Owner,
			"consumers", local.AppConsumers, "active", step.Export.Active)
	}
	w.mu.Lock()
	prev.role, prev.owner = step.Role, step.Owner
	w.mu.Unlock()
	if export && step.Export.Send {
		if err := w.exportOne(ctx, now, sub, st.MarkDelete, prev, step); err != nil {
			w.log.Warn("export failed", "subscription", sub, "err", err)
		}
	} else if err := w.remember(now, sub, prev, step.Memory); err != nil {
		w.log.Warn("keeping subscription state failed", "subscription", sub, "err", err)
	}
	w.perform(ctx, now, ts, runs, sub, step)
}

func (w *worker) ownerConfig() owner.Config {
	return owner.Config{Self: w.d.cfg.Cluster, Silence: silenceIntervals * w.d.fullStateInterval().Milliseconds(),
		Linger: linger.Milliseconds()}
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

// exportOne publishes what changed in sub's state since the last export: a
// delta, or the full state on a new stream, when the consumers' presence
// or the subscription's existence changed, and every full-state interval.
func (w *worker) exportOne(ctx context.Context, now time.Time, sub string, mdp ackset.Position, prev *exportState, step owner.Step) error {
	ex := step.Export
	epoch, seq := prev.epoch, prev.seq+1
	if !prev.current {
		// A new stream starts with a full state. Its epoch is stored before
		// anything carries it: a restart after a publish whose checkpoint
		// failed must still pick a greater one.
		epoch, seq = snapshot.NextEpoch(prev.epoch, w.epoch), 1
		if err := w.storeExport(sub, exportRecord{epoch: epoch, set: prev.set, mem: prev.mem}, 0); err != nil {
			return err
		}
	}
	changed := ex.Active != prev.active || ex.Exists == prev.deleted
	full := !prev.current || changed || now.Sub(prev.lastFull) >= w.d.fullStateInterval()
	delta := ackset.Diff(prev.set, ex.Acked)
	if !full && delta.IsEmpty() {
		return w.remember(now, sub, prev, step.Memory)
	}
	u := &snapshot.Update{Topic: w.topic, Subscription: sub, Sender: w.d.cfg.Cluster, Epoch: epoch,
		Sequence: seq, Full: full, SenderMDP: mdp, SentAt: now.UnixMilli(),
		Active: ex.Active, LastActive: ex.LastActive, Deleted: !ex.Exists}
	var err error
	if full {
		u.AckSet, err = ackset.Encode(ex.Acked)
	} else {
		u.AckSet, err = ackset.EncodeDelta(delta)
	}
	if err != nil {
		return fmt.Errorf("encoding ack set: %w", err)
	}
	if err := w.ctrl.publish(ctx, u); err != nil {
		return err
	}
	if err := w.storeExport(sub, exportRecord{epoch: epoch, set: ex.Acked, mem: step.Memory}, u.Sequence); err != nil {
		return err
	}
	next := &exportState{epoch: epoch, seq: u.Sequence, set: ex.Acked, lastFull: prev.lastFull, current: true,
		mem: step.Memory, memAt: now, active: ex.Active, deleted: !ex.Exists, role: step.Role, owner: step.Owner}
	kind := "delta"
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
		a.Mirroring == b.Mirroring && a.Applied.Equal(b.Applied) && a.LocalOnly.Equal(b.LocalOnly)
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

// indexedSet is every EntryID the runs map.
func indexedSet(runs []ackset.Run) ackset.Set {
	var out ackset.Set
	for _, r := range runs {
		_ = out.AddRange(r.Origin, r.OriginLedger, r.OriginEntry, r.OriginEntry+r.Count-1)
	}
	return out
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
