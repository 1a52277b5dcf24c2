package replicator

import (
	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/cursor"
)

// gcBound returns the local position below which the tail index may be
// pruned, and whether there is anything to prune.
//
// A run may go once nothing can still need it: every subscription in scope
// has it at or below its mark-delete position here, and every remote has
// acknowledged each of its entries for every one of those subscriptions
// (or will never have the entry). Pruning only ever costs a mapping, so a
// mistake here would mean duplicates after a failover, never a loss; the
// conditions keep even that from happening.
func (w *worker) gcBound(ts cursor.TopicState, runs []ackset.Run, remotes []string) (ackset.Position, bool) {
	var subs []string
	for sub, st := range ts.Subscriptions {
		if !w.subscriptionInScope(sub) {
			continue
		}
		if ts.CheckCursor(st) != nil {
			return ackset.Position{}, false // its mark-delete position proves nothing
		}
		subs = append(subs, sub)
	}
	if len(subs) == 0 || len(remotes) == 0 {
		return ackset.Position{}, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	never := map[string]ackset.Set{}
	for _, r := range remotes {
		never[r] = w.neverThereLocked(r)
	}
	var bound ackset.Position
	pruned := 0
	for _, run := range runs {
		if !w.runDoneLocked(run, ts, subs, remotes, never) {
			break
		}
		bound = ackset.Position{Ledger: run.Local.Ledger, Entry: run.Local.Entry + run.Count}
		pruned++
	}
	return bound, pruned > 0
}

// runDoneLocked: the run is acknowledged here by every subscription and
// acknowledged (or never to be had) on every remote (w.mu held).
func (w *worker) runDoneLocked(run ackset.Run, ts cursor.TopicState, subs, remotes []string, never map[string]ackset.Set) bool {
	last := ackset.Position{Ledger: run.Local.Ledger, Entry: run.Local.Entry + run.Count - 1}
	var entries ackset.Set
	if entries.AddRange(run.Origin, run.OriginLedger, run.OriginEntry, run.OriginEntry+run.Count-1) != nil {
		return false
	}
	for _, sub := range subs {
		if ts.Subscriptions[sub].MarkDelete.Less(last) {
			return false
		}
		for _, r := range remotes {
			is, ok := w.imported[subRemote{sub, r}]
			if !ok || !entries.Difference(is.set).Difference(never[r]).IsEmpty() {
				return false
			}
		}
	}
	return true
}

// collectGarbage prunes the tail index as far as gcBound allows.
func (w *worker) collectGarbage(ts cursor.TopicState, runs []ackset.Run) {
	bound, ok := w.gcBound(ts, runs, w.d.remotesOf(w.namespace))
	if !ok {
		return
	}
	if err := w.d.deps.Store.Prune(w.topic, bound); err != nil {
		w.log.Warn("pruning the tail index failed", "below", bound.String(), "err", err)
		return
	}
	w.d.metrics.IndexPruned.WithLabelValues(w.d.cfg.Cluster, w.namespace, w.topic).Inc()
}
