package replicator

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/cursor"
	"github.com/subsync/subsync/engine"
	"github.com/subsync/subsync/owner"
)

// FailoverOptions are the thresholds of FailoverCheck.
type FailoverOptions struct {
	// MaxNotAcked is how many entries acknowledged here but not on the
	// standby are tolerated per subscription (default 0).
	MaxNotAcked int64
	// MaxLagEntries is the tolerated replication lag in entries (default 0).
	MaxLagEntries int64
}

// FailoverCheck reports whether each subscription could move to each
// standby now. It reads every topic's cursors afresh (the last export
// tick may be up to an export interval old, and the consumers' last
// acknowledgements are exactly what it would miss) and compares what
// they hold, as the owner decision exports it, with the standby's last
// report. The stored state of this daemon (its last reports from the
// standbys and its decision memory) is all it needs besides, so it
// answers as soon as the daemon acts again after a restart.
func (d *Daemon) FailoverCheck(ctx context.Context, o FailoverOptions) FailoverReport {
	r := FailoverReport{Cluster: d.cfg.Cluster, GeneratedAt: d.now(), Ready: true, Subscriptions: []FailoverSubscription{},
		Namespaces: []FailoverNamespace{}, Problems: []string{}, ExportIntervalSeconds: d.cfg.ExportInterval.Seconds(),
		FullStateIntervalSeconds: d.fullStateInterval().Seconds()}
	if err := d.Ready(); err != nil {
		r.Ready = false
		r.Problems = append(r.Problems, fmt.Sprintf("the daemon is not ready: %v", err))
	}
	for _, ns := range d.cfg.Namespaces {
		waiting := d.workOf(ns) == nil
		r.Ready = r.Ready && !waiting
		r.Namespaces = append(r.Namespaces, FailoverNamespace{Namespace: ns, Remotes: append([]string{}, d.remotesOf(ns)...),
			Waiting: waiting})
	}
	workers := d.workerList()
	checks := make([]topicCheck, len(workers))
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			checks[i] = w.failover(ctx, o)
		}()
	}
	wg.Wait()
	for _, c := range checks {
		if c.problem != "" {
			r.Ready = false
			r.Problems = append(r.Problems, c.problem)
		}
		for _, fs := range c.subs {
			r.Ready = r.Ready && fs.Ready
			r.Subscriptions = append(r.Subscriptions, fs)
		}
	}
	return r
}

// topicCheck is one topic partition's part of a failover check: its
// subscription/standby pairs, or why it could not be checked.
type topicCheck struct {
	subs    []FailoverSubscription
	problem string
}

// freshRead is one topic's cursors read at check time, with the tail
// index as of then.
type freshRead struct {
	ts          cursor.TopicState
	runs        []ackset.Run
	indexed     ackset.Set
	tail        ackset.Position
	tailStarted bool
}

// readNow reads the topic's cursors (stats and internalStats, no cache),
// then how far the tail has indexed, then the index: runs are stored with
// the tail's checkpoint, so every position up to that tail position is in
// the runs read after it.
func (w *worker) readNow(ctx context.Context) (freshRead, error) {
	if err := w.d.adminSlots.acquire(ctx); err != nil {
		return freshRead{}, fmt.Errorf("topic %s: waiting for an admin slot: %w", w.topic, err)
	}
	readCtx, cancel := context.WithTimeout(ctx, w.d.cfg.AdminTimeout)
	ts, err := cursor.ReadTopic(readCtx, w.d.admin, w.topic)
	cancel()
	w.d.adminSlots.release()
	if err != nil {
		w.d.health.failed(w.namespace, opAdminRead)
		return freshRead{}, err
	}
	w.d.health.succeeded(w.namespace, opAdminRead)
	w.mu.Lock()
	fr := freshRead{ts: ts, tail: w.tail.position, tailStarted: w.tail.started}
	w.mu.Unlock()
	if fr.runs, err = w.d.deps.Store.Runs(w.topic, minPosition, maxPosition); err != nil {
		return freshRead{}, fmt.Errorf("topic %s: reading the tail index: %w", w.topic, err)
	}
	fr.indexed = engine.IndexedSet(fr.runs)
	return fr, nil
}

// failover checks every subscription of the topic in scope towards every
// standby, on a fresh read of its cursors.
func (w *worker) failover(ctx context.Context, o FailoverOptions) topicCheck {
	fr, err := w.readNow(ctx)
	if err != nil {
		return topicCheck{problem: fmt.Sprintf("cannot read the cursors now: %v", err)}
	}
	now := w.d.now()
	r := engine.NewRead(now.UnixMilli(), fr.ts, fr.runs, caughtUp(fr.tail, fr.tailStarted, fr.ts.LastConfirmed))
	var out []FailoverSubscription
	for _, sub := range sortedKeys(fr.ts.Subscriptions) {
		if !w.d.subscriptionInScope(sub) {
			continue
		}
		out = append(out, w.failoverSub(r, fr, sub, o)...)
	}
	for i := range out {
		out[i].ReadAt = now
	}
	return topicCheck{subs: out}
}

// failoverSub runs the sync round (package engine) on the fresh read, as
// the next export would, and compares what its owner decision exports,
// the set the standby is to mirror, with the standby's last report.
func (w *worker) failoverSub(r engine.Read, fr freshRead, sub string, o FailoverOptions) []FailoverSubscription {
	st := fr.ts.Subscriptions[sub]
	remotes := w.d.remotesOf(w.namespace)
	notReady := func(reason string) []FailoverSubscription {
		out := make([]FailoverSubscription, 0, len(remotes))
		for _, remote := range remotes {
			out = append(out, FailoverSubscription{Topic: w.topic, Subscription: sub, Standby: remote, Reason: reason})
		}
		return out
	}
	prev, err := w.exportStateOf(sub)
	if err != nil {
		return notReady(err.Error())
	}
	w.mu.Lock()
	s := engine.Subscription{Stream: prev.stream(), Memory: prev.mem, Seen: prev.seen}
	w.mu.Unlock()
	s.Reports = w.reportsOf(sub)
	rd, err := engine.Decide(w.engineConfig(), r, sub, s, false)
	switch {
	case err != nil:
		return notReady(err.Error())
	case rd.Refused != nil:
		return notReady(fmt.Sprintf("cursor refused: %v", rd.Refused))
	}
	step := rd.Step
	consumers := st.AppConsumers(w.d.applier.ConsumerName())
	unindexed := unindexedAck(fr, st)

	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]FailoverSubscription, 0, len(remotes))
	for _, remote := range remotes {
		fs := FailoverSubscription{Topic: w.topic, Subscription: sub, Standby: remote, Ready: true,
			Role: step.Role.String(), Owner: step.Owner, Consumers: consumers}
		is, reported := w.imported[subRemote{sub, remote}]
		var theirs ackset.Set
		if reported {
			theirs, fs.StandbyUpdateAt = is.set, is.received
		}
		fs.NotAckedOnStandby = int64(step.Export.Acked.Difference(theirs).Difference(w.neverThereLocked(remote)).Cardinality())
		if step.Role == owner.Owns {
			// The standby mirrors this cluster exactly: what it holds
			// beyond this set would never be delivered after a switch.
			fs.AckedOnStandbyOnly = int64(theirs.Intersect(fr.indexed).Difference(step.Export.Acked).Cardinality())
		}
		var reasons []string
		if unindexed != "" {
			reasons = append(reasons, unindexed)
		}
		if !reported && (!step.Export.Acked.IsEmpty() || step.Role == owner.Owns || step.Role == owner.Shares) {
			reasons = append(reasons, "no state received from the standby yet")
		}
		if fs.NotAckedOnStandby > o.MaxNotAcked {
			reasons = append(reasons, fmt.Sprintf("%d acknowledged here, not on %s", fs.NotAckedOnStandby, remote))
		}
		if fs.AckedOnStandbyOnly > 0 {
			reasons = append(reasons, fmt.Sprintf("%d acknowledged on %s, not here (%s mirrors this cluster and has not reset them yet)",
				fs.AckedOnStandbyOnly, remote, remote))
		}
		lag, why := w.replicationPendingLocked(fr, remote)
		fs.ReplicationLagEntries = lag
		if why != "" {
			reasons = append(reasons, why)
		}
		if lag > o.MaxLagEntries {
			reasons = append(reasons, fmt.Sprintf("%d entries not known to have reached %s", lag, remote))
		}
		if len(reasons) > 0 {
			fs.Ready, fs.Reason = false, strings.Join(reasons, "; ")
		}
		out = append(out, fs)
	}
	return out
}

// unindexedAck says why the cursor holds acknowledgements the tail index
// cannot name yet (its highest acknowledged position is past the tail),
// or "" when it holds none: those would be left out of the comparison.
func unindexedAck(fr freshRead, st cursor.SubState) string {
	hi := st.MarkDelete
	if n := len(st.Deleted); n > 0 && hi.Less(st.Deleted[n-1].To) {
		hi = st.Deleted[n-1].To
	}
	if hi.Entry < 0 || (len(fr.ts.Ledgers) > 0 && hi.Ledger < fr.ts.Ledgers[0].ID) {
		// Nothing acknowledged, or only trimmed history.
		return ""
	}
	if fr.tailStarted && !fr.tail.Less(hi) {
		return ""
	}
	tail := "nothing"
	if fr.tailStarted {
		tail = fr.tail.String()
	}
	return fmt.Sprintf("acknowledged up to %s, the tail has indexed up to %s", hi, tail)
}

// replicationPendingLocked counts this cluster's own entries, up to the
// fresh LAC, that Pulsar's replicator to remote has not processed: not
// acknowledged on its pulsar.repl.<remote> cursor as read now. Entries
// the tail has not indexed yet are of unknown origin: while the
// replicator has not processed up to the LAC either, they make the
// answer unknown (the reason says so). Without a replicator cursor the
// last snapshot answer's watermark stands in, and without one the answer
// is unknown (w.mu held).
func (w *worker) replicationPendingLocked(fr freshRead, remote string) (int64, string) {
	lac := fr.ts.LastConfirmed
	self := w.d.cfg.Cluster
	repl, ok := fr.ts.Replicators[remote]
	if !ok || fr.ts.CheckCursor(repl) != nil {
		rs, answered := w.remotes[remote]
		if !answered {
			return 0, "no replicator cursor towards " + remote + " and no snapshot answered by it yet"
		}
		return int64(localEntriesAfter(fr.runs, self, rs.watermark, lac).Cardinality()), ""
	}
	pending := localEntriesAfter(fr.runs, self, &repl.MarkDelete, lac).Difference(rangesSet(self, repl.Deleted))
	if repl.MarkDelete.Less(lac) && lac.Entry >= 0 && (!fr.tailStarted || fr.tail.Less(lac)) {
		return int64(pending.Cardinality()), fmt.Sprintf("entries after %s are not indexed yet; the replicator to %s has processed up to %s",
			tailText(fr), remote, repl.MarkDelete)
	}
	return int64(pending.Cardinality()), ""
}

func tailText(fr freshRead) string {
	if !fr.tailStarted {
		return "the topic's start"
	}
	return fr.tail.String()
}
