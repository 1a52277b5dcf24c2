package replicator

import (
	"context"
	"fmt"
	"time"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/cursor"
	"github.com/subsync/subsync/mapping"
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
	next, added, err := mergeUpdate(is.set, u)
	if err != nil {
		w.reject("bad_payload")
		w.d.rateLog.warn(w.log, w.d.now(), "bad_payload", "update payload rejected", "subscription", k.sub, "remoteCluster", k.remote, "err", err)
		return
	}
	stored, err := encodeState(u.Epoch, next)
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
	is.set, is.epoch, is.seq = next, u.Epoch, u.Sequence
	is.sentAt, is.received = time.UnixMilli(u.SentAt), w.d.now()
	w.mu.Unlock()
	if added > 0 {
		w.dirty[k] = true
	}
	w.d.metrics.AcksImported.WithLabelValues(w.d.cfg.Cluster, w.namespace, w.topic, k.sub, k.remote).Add(float64(added))
}

// mergeUpdate applies a full state or delta to the previous set. Only
// additions count as imported: the receiver never un-acknowledges.
func mergeUpdate(prev ackset.Set, u *snapshot.Update) (ackset.Set, uint64, error) {
	if u.Full {
		set, err := ackset.Decode(u.AckSet)
		if err != nil {
			return ackset.Set{}, 0, err
		}
		return set, set.Difference(prev).Cardinality(), nil
	}
	d, err := ackset.DecodeDelta(u.AckSet)
	if err != nil {
		return ackset.Set{}, 0, err
	}
	return d.Apply(prev), d.Added.Cardinality(), nil
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
		epoch, set, err := decodeState(st.Data)
		switch {
		case err == nil && snapshot.EpochPlausible(epoch, w.d.now().UnixMilli()):
			is.set, is.epoch, is.seq = set, epoch, st.Seq
			w.seq.Restore(snapshot.StreamKey{Topic: w.topic, Subscription: k.sub, Sender: k.remote},
				snapshot.Applied{Epoch: epoch, Sequence: st.Seq})
		case err == nil:
			// Stored before epochs were bounded: keep the set, but let the
			// sender's next full state take over the stream.
			is.set = set
			w.log.Warn("stored import has an epoch far ahead of the clock; waiting for the next full state",
				"subscription", k.sub, "remoteCluster", k.remote, "epoch", epoch)
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

// applyAll makes every local cursor include what remote clusters
// acknowledged, as far as the tail index maps it.
func (w *worker) applyAll(ctx context.Context, now time.Time, ts cursor.TopicState, runs []ackset.Run) {
	w.mu.Lock()
	keys := make([]subRemote, 0, len(w.imported))
	for k, is := range w.imported {
		if !is.set.IsEmpty() {
			keys = append(keys, k)
		}
	}
	w.mu.Unlock()
	for _, k := range keys {
		w.applyOne(ctx, now, ts, runs, k)
	}
	clear(w.dirty)
}

func (w *worker) applyOne(ctx context.Context, now time.Time, ts cursor.TopicState, runs []ackset.Run, k subRemote) {
	labels := []string{w.d.cfg.Cluster, w.namespace, w.topic, k.sub, k.remote}
	w.mu.Lock()
	is := w.imported[k]
	set, sentAt := is.set, is.sentAt
	w.mu.Unlock()
	want, err := ackset.ToLocal(set, runs)
	if err != nil {
		w.log.Error("translating remote state failed", "subscription", k.sub, "remoteCluster", k.remote, "err", err)
		return
	}
	plan := cursor.PlanApply(ts, k.sub, want, cursor.PlanOptions{ResetThreshold: w.d.cfg.ResetThreshold})
	pending := pendingAcks(ts, k.sub, want)
	if !sentAt.IsZero() {
		w.d.metrics.SyncLagSeconds.WithLabelValues(labels...).Set(now.Sub(sentAt).Seconds())
	}
	w.d.metrics.SyncLagEntries.WithLabelValues(labels...).Set(float64(pending))
	if plan.Skipped > 0 {
		w.d.metrics.AcksSkipped.WithLabelValues(labels...).Add(float64(plan.Skipped))
	}
	deferred, reason := plan.Deferred, plan.Reason
	if !deferred && (plan.Create || plan.ResetTo != nil || len(plan.Acks) > 0) {
		res, err := w.d.applier.Apply(ctx, w.topic, k.sub, plan)
		switch {
		case err != nil:
			w.d.metrics.ApplyErrors.WithLabelValues(labels...).Inc()
			w.log.Warn("applying remote state failed", "subscription", k.sub, "remoteCluster", k.remote, "err", err)
		case res.Deferred:
			deferred, reason = true, "exclusive-type consumers attached"
		default:
			pending = 0
			w.d.metrics.AcksApplied.WithLabelValues(labels...).Add(float64(res.Acked))
			w.d.metrics.SyncLagEntries.WithLabelValues(labels...).Set(0)
		}
	}
	if deferred {
		w.d.metrics.AcksDeferred.WithLabelValues(labels...).Inc()
		w.d.metrics.Deferred.WithLabelValues(labels...).Set(1)
	} else {
		w.d.metrics.Deferred.WithLabelValues(labels...).Set(0)
	}
	w.mu.Lock()
	is.notApplied, is.deferred, is.reason = pending, deferred, reason
	w.mu.Unlock()
}

// pendingAcks counts the wanted local entries the cursor does not have
// yet, whatever the plan (a deferred plan carries no acks, a reset covers
// some without listing them).
func pendingAcks(ts cursor.TopicState, sub string, want []ackset.Range) int64 {
	if s, ok := ts.Subscriptions[sub]; ok {
		s.Consumers = 0
		ts.Subscriptions = map[string]cursor.SubState{sub: s}
	}
	return cursor.PlanApply(ts, sub, want, cursor.PlanOptions{ResetThreshold: -1}).AckCount()
}
