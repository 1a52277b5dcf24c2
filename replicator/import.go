package replicator

import (
	"context"
	"fmt"
	"time"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/cursor"
	"github.com/subsync/subsync/engine"
	"github.com/subsync/subsync/mapping"
	"github.com/subsync/subsync/owner"
	"github.com/subsync/subsync/snapshot"
)

// importUpdate merges a remote cluster's update into its known acked set
// for the subscription, persists it, and leaves applying to the next tick.
func (w *worker) importUpdate(u *snapshot.Update) {
	if IsSystemCursor(u.Subscription) {
		w.reject("system_cursor")
		return
	}
	if !w.subscriptionInScope(u.Subscription) {
		w.reject("out_of_scope")
		return
	}
	nowMs := w.d.now().UnixMilli()
	if !snapshot.EpochPlausible(u.Epoch, nowMs) {
		// Accepted, it would make every later update of the stream stale.
		w.reject("epoch_ahead")
		return
	}
	k := subRemote{sub: u.Subscription, remote: u.Sender}
	is, err := w.importStateOf(k)
	if err != nil {
		w.log.Error("reading imported state failed", "subscription", k.sub, "remoteCluster", k.remote, "err", err)
		return
	}
	if last, ok := w.seq.Last(snapshot.KeyOf(u)); ok && !snapshot.EpochPlausible(last.Epoch, nowMs) {
		// Accepted while this daemon's clock ran ahead: it no longer
		// holds the stream, the sender's next full state does.
		w.seq.Forget(snapshot.KeyOf(u))
	}
	switch w.seq.Classify(u) {
	case snapshot.Stale:
		w.reject("stale")
		return
	case snapshot.Gap:
		w.reject("gap")
		return
	}
	next, added, err := engine.Merge(is.set, u)
	if err != nil {
		w.reject("bad_payload")
		w.d.rateLog.warn(w.log, w.d.now(), "bad_payload", "update payload rejected", "subscription", k.sub, "remoteCluster", k.remote, "err", err)
		return
	}
	stored, err := encodeImport(importRecord{epoch: u.Epoch, set: next, active: u.Active,
		lastActive: u.LastActive, deleted: u.Deleted})
	if err != nil {
		w.log.Error("encoding imported state failed", "err", err)
		return
	}
	if err := w.d.deps.Store.PutImported(w.topic, k.sub, k.remote, mapping.State{Seq: u.Sequence, Data: stored}); err != nil {
		w.log.Error("persisting imported state failed", "err", err)
		return
	}
	w.seq.Applied(u)
	w.mu.Lock()
	changed := added > 0 || is.active != u.Active || is.deleted != u.Deleted || !next.Equal(is.set)
	is.set, is.epoch, is.seq = next, u.Epoch, u.Sequence
	is.active, is.lastActive, is.deleted = u.Active, u.LastActive, u.Deleted
	is.sentAt, is.received = time.UnixMilli(u.SentAt), w.d.now()
	w.mu.Unlock()
	if changed {
		w.dirty[k.sub] = true
	}
	w.d.metrics.AcksImported.WithLabelValues(w.d.cfg.Cluster, w.namespace, w.topic, k.sub, k.remote).Add(float64(added))
}

func (w *worker) reject(reason string) {
	w.d.metrics.UpdatesRejected.WithLabelValues(w.d.cfg.Cluster, w.namespace, reason).Inc()
}

// importStateOf returns the import state of k, restoring it (and the
// sequencer's position) from the store the first time.
func (w *worker) importStateOf(k subRemote) (*importState, error) {
	w.mu.Lock()
	is, ok := w.imported[k]
	w.mu.Unlock()
	if ok {
		return is, nil
	}
	is = &importState{}
	st, found, err := w.d.deps.Store.Imported(w.topic, k.sub, k.remote)
	if err != nil {
		return nil, err
	}
	if found {
		r, err := decodeImport(st.Data)
		switch {
		case err == nil && snapshot.EpochPlausible(r.epoch, w.d.now().UnixMilli()):
			is.set, is.epoch, is.seq = r.set, r.epoch, st.Seq
			is.active, is.lastActive, is.deleted = r.active, r.lastActive, r.deleted
			// Its receipt is unknown: as old as a silent remote's, so an
			// active claim counts only once renewed.
			is.received = time.Time{}
			w.seq.Restore(snapshot.StreamKey{Topic: w.topic, Subscription: k.sub, Sender: k.remote},
				snapshot.Applied{Epoch: r.epoch, Sequence: st.Seq})
		case err == nil:
			// Stored before epochs were bounded: keep the set, but let the
			// sender's next full state take over the stream.
			is.set, is.epoch = r.set, 1
			is.lastActive, is.deleted = r.lastActive, r.deleted
			w.log.Warn("stored import has an epoch far ahead of the clock; waiting for the next full state",
				"subscription", k.sub, "remoteCluster", k.remote, "epoch", r.epoch)
		default:
			w.log.Warn("stored import unreadable; waiting for the next full state", "subscription", k.sub, "remoteCluster", k.remote, "err", err)
		}
	}
	w.mu.Lock()
	w.imported[k] = is
	w.mu.Unlock()
	return is, nil
}

// restoreImports loads every import the store holds for the topic, so
// that a restarted daemon applies them without waiting for the remote to
// send again: after a failover the remote may never send again, and an
// import persisted but not yet applied (deferred, failed, interrupted)
// would otherwise be lost on the standby.
func (w *worker) restoreImports() error {
	keys, err := w.d.deps.Store.ImportedKeys(w.topic)
	if err != nil {
		return fmt.Errorf("restoring imports of %s: %w", w.topic, err)
	}
	for _, k := range keys {
		if IsSystemCursor(k.Subscription) || !w.subscriptionInScope(k.Subscription) {
			continue
		}
		if _, err := w.importStateOf(subRemote{k.Subscription, k.Remote}); err != nil {
			return fmt.Errorf("restoring import of %s from %s: %w", k.Subscription, k.Remote, err)
		}
	}
	return nil
}

// performCursor changes the local cursor as the round decided: delete it,
// or create it and apply the plan. It reports false when a creation the
// plan needed failed.
func (w *worker) performCursor(ctx context.Context, now time.Time, sub string, rd engine.Ready) bool {
	w.noteSources(sub, rd.Sources)
	if rd.Delete {
		w.deleteMirrored(ctx, sub, rd.Step.Owner)
		return true
	}
	if rd.Plan == nil {
		return true
	}
	plan := *rd.Plan
	// Counted against the owner, or while several clusters are active
	// against the first of them.
	labels := []string{w.d.cfg.Cluster, w.namespace, w.topic, sub, rd.Step.Owner}
	if len(rd.Sources) > 0 {
		labels[4] = rd.Sources[0]
	}
	if plan.Skipped > 0 {
		w.d.metrics.AcksSkipped.WithLabelValues(labels...).Add(float64(plan.Skipped))
	}
	pending := rd.Pending
	deferred, reason := plan.Deferred, plan.Reason
	created := true
	if !deferred && (plan.Create || plan.ResetTo != nil || len(plan.Acks) > 0) {
		res, err := w.d.applier.Apply(ctx, w.topic, sub, plan)
		created = !plan.Create || res.Created || err == nil
		switch {
		case err != nil:
			w.d.metrics.ApplyErrors.WithLabelValues(labels...).Inc()
			w.log.Warn("applying remote state failed", "subscription", sub, "remoteCluster", labels[4], "err", err)
		case res.Deferred:
			deferred, reason = true, res.Reason
		default:
			pending = 0
			w.d.metrics.AcksApplied.WithLabelValues(labels...).Add(float64(res.Acked))
			if res.Reset && plan.ResetTo != nil && rd.Step.Apply == owner.ApplyExact {
				w.d.metrics.MirrorResets.WithLabelValues(w.d.cfg.Cluster, w.namespace, w.topic, sub).Inc()
			}
		}
	}
	w.d.metrics.SyncLagEntries.WithLabelValues(labels...).Set(float64(pending))
	if deferred {
		w.d.metrics.AcksDeferred.WithLabelValues(labels...).Inc()
	}
	w.d.metrics.Deferred.WithLabelValues(labels...).Set(boolGauge(deferred))
	w.mu.Lock()
	for k, is := range w.imported {
		if k.sub == sub {
			is.notApplied, is.deferred, is.reason = pending, deferred, reason
		}
	}
	w.mu.Unlock()
	w.noteApplied(now, sub, pending)
	return created
}

// tailCaughtUp: the tail index covers the topic up to its LAC, so every
// local position a mirror holds is one the index can judge.
func (w *worker) tailCaughtUp(ts cursor.TopicState) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return caughtUp(w.tail.position, w.tail.started, ts.LastConfirmed)
}

// caughtUp: a tail at tail (started: it read something) has indexed every
// entry up to lac.
func caughtUp(tail ackset.Position, started bool, lac ackset.Position) bool {
	return lac.Entry < 0 || (started && !tail.Less(lac))
}

// deleteMirrored deletes a subscription its owner deleted.
func (w *worker) deleteMirrored(ctx context.Context, sub, ownerCluster string) {
	reason, err := w.d.applier.Delete(ctx, w.topic, sub)
	switch {
	case err != nil:
		w.d.metrics.ApplyErrors.WithLabelValues(w.d.cfg.Cluster, w.namespace, w.topic, sub, ownerCluster).Inc()
		w.log.Warn("deleting a subscription its owner deleted failed", "subscription", sub, "remoteCluster", ownerCluster, "err", err)
	case reason != "":
		w.log.Info("not deleting a subscription its owner deleted", "subscription", sub, "remoteCluster", ownerCluster, "reason", reason)
	default:
		w.d.metrics.SubsDeleted.WithLabelValues(w.d.cfg.Cluster, w.namespace, w.topic, sub).Inc()
		w.log.Info("deleted a subscription its owner deleted", "subscription", sub, "remoteCluster", ownerCluster)
	}
}
