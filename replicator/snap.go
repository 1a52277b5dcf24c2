package replicator

import (
	"context"
	"time"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/cursor"
	"github.com/subsync/subsync/mapping"
	"github.com/subsync/subsync/snapshot"
)

// snapshotTick expires unanswered requests and, every SnapshotInterval,
// asks each remote how far it has received this topic.
func (w *worker) snapshotTick(ctx context.Context, now time.Time, ts cursor.TopicState, runs []ackset.Run) {
	for _, a := range w.tracker.Tick(now) {
		w.countAbandoned(a)
	}
	if now.Sub(w.lastSnap) < w.d.cfg.SnapshotInterval {
		return
	}
	remotes := w.d.remotesOf(w.namespace)
	if len(remotes) == 0 || ts.LastConfirmed.Entry < 0 {
		return
	}
	w.lastSnap = now
	w.collectGarbage(ts, runs)
	req, abandoned, err := w.tracker.Begin(now, w.topic, ts.LastConfirmed, remotes)
	for _, a := range abandoned {
		w.countAbandoned(a)
	}
	if err != nil {
		w.log.Warn("starting snapshot failed", "err", err)
		return
	}
	w.mu.Lock()
	w.replAtRequest[req.ID] = replicatorMarks(ts)
	w.mu.Unlock()
	if err := w.ctrl.publish(ctx, &req); err != nil {
		w.log.Warn("publishing snapshot request failed", "err", err)
	}
}

// replicatorMarks is each geo-replicator cursor's mark-delete position,
// leaving out cursors the topic's layout contradicts: an impossible one
// would pass entries the remote lacks off as skipped for good.
func replicatorMarks(ts cursor.TopicState) map[string]ackset.Position {
	out := map[string]ackset.Position{}
	for remote, c := range ts.Replicators {
		if ts.CheckCursor(c) == nil {
			out[remote] = c.MarkDelete
		}
	}
	return out
}

func (w *worker) countAbandoned(a snapshot.Abandoned) {
	w.mu.Lock()
	delete(w.replAtRequest, a.ID)
	w.mu.Unlock()
	for _, r := range a.Missing {
		w.d.metrics.SnapshotTimeouts.WithLabelValues(w.d.cfg.Cluster, w.namespace, r).Inc()
	}
}

// respond answers a remote's request with this cluster's LAC, how far the
// tail has read, and which entries of the requester's origin it has
// indexed. The LAC is read afresh: the requester trusts "tail at or past
// LAC" to mean the index holds every copy that had arrived.
func (w *worker) respond(ctx context.Context, req *snapshot.SnapshotRequest) {
	if req.Requester == w.d.cfg.Cluster {
		return
	}
	if v := w.requests.Admit(*req, w.d.now().UnixMilli()); v != snapshot.RequestNew {
		w.reject(v.String())
		return
	}
	ts, runs, ok := w.readState(ctx)
	if !ok {
		return
	}
	state := snapshot.ResponderState{Cluster: w.d.cfg.Cluster, LAC: ts.LastConfirmed}
	w.mu.Lock()
	if wm, ok := w.tail.watermark[req.Requester]; ok {
		state.Watermark = &wm
	}
	if w.tail.started {
		tp := w.tail.position
		state.TailPosition = &tp
	}
	w.mu.Unlock()
	if have, err := ackset.Encode(originSet(runs, req.Requester)); err == nil {
		state.Have = have
	}
	resp, ok := snapshot.Respond(w.d.now(), *req, state)
	if !ok {
		return
	}
	if err := w.ctrl.publish(ctx, &resp); err != nil {
		w.log.Warn("publishing snapshot response failed", "remoteCluster", req.Requester, "err", err)
	}
}

// snapshotResponse records the mapping a remote's answer completes and
// the replication lag it shows.
func (w *worker) snapshotResponse(resp *snapshot.SnapshotResponse) {
	now := w.d.now()
	res := w.tracker.OnResponse(now, *resp)
	if res.Outcome != snapshot.Accepted {
		if res.Outcome != snapshot.NotOurs {
			w.reject("snapshot_" + res.Outcome.String())
		}
		return
	}
	m := res.Mapping
	sm := mapping.SnapshotMapping{Local: m.LocalLAC, RemoteLAC: m.RemoteLAC, TimeUnixMs: now.UnixMilli(),
		RemoteWatermark: ackset.Position{Ledger: -1, Entry: -1}}
	if m.Watermark != nil {
		sm.RemoteWatermark = *m.Watermark
	}
	if err := w.d.deps.Store.PutSnapshot(w.topic, m.Remote, sm); err != nil {
		w.log.Warn("storing snapshot mapping failed", "remoteCluster", m.Remote, "err", err)
	}
	w.pruneSnapshots(m.Remote)
	w.d.metrics.SnapshotRTT.WithLabelValues(w.d.cfg.Cluster, w.namespace, m.Remote).Observe(res.RoundTrip.Seconds())
	next := &remoteSnapshot{at: now, watermark: m.Watermark, rtt: res.RoundTrip}
	w.mu.Lock()
	if p, ok := w.replAtRequest[m.RequestID][m.Remote]; ok && m.TailCaughtUp {
		next.processed = &p
	}
	if res.Complete {
		delete(w.replAtRequest, m.RequestID)
	}
	w.mu.Unlock()
	if m.Have != "" {
		if have, err := ackset.Decode([]byte(m.Have)); err == nil {
			next.have = &have
		} else {
			w.reject("bad_payload")
		}
	}
	w.mu.Lock()
	if prev, ok := w.remotes[m.Remote]; ok && prev.watermark != nil && (m.Watermark == nil || m.Watermark.Less(*prev.watermark)) {
		// Answers may arrive out of order: keep the newer picture whole.
		next.watermark, next.have, next.processed = prev.watermark, prev.have, prev.processed
	}
	w.remotes[m.Remote] = next
	w.mu.Unlock()
	w.reportReplicationLag()
}

// originSet is the set of one origin's entries the runs hold.
func originSet(runs []ackset.Run, origin string) ackset.Set {
	var out ackset.Set
	for _, r := range runs {
		if r.Origin == origin {
			_ = out.AddRange(origin, r.OriginLedger, r.OriginEntry, r.OriginEntry+r.Count-1)
		}
	}
	return out
}

// localEntriesAfter returns this cluster's own entries positioned after
// the watermark and at or before lac: produced here, not known to be there.
func localEntriesAfter(runs []ackset.Run, local string, watermark *ackset.Position, lac ackset.Position) ackset.Set {
	var out ackset.Set
	for _, r := range runs {
		if r.Origin != local {
			continue
		}
		first, last := r.Local.Entry, r.Local.Entry+r.Count-1
		switch {
		case r.Local.Ledger > lac.Ledger:
			continue
		case r.Local.Ledger == lac.Ledger:
			last = min(last, lac.Entry)
		}
		if watermark != nil {
			switch {
			case r.Local.Ledger < watermark.Ledger:
				continue
			case r.Local.Ledger == watermark.Ledger:
				first = max(first, watermark.Entry+1)
			}
		}
		if last >= first {
			// Runs were validated when stored, so the range is valid.
			_ = out.AddRange(local, r.Local.Ledger, first, last)
		}
	}
	return out
}

// keptSnapshots is how many snapshot mappings per topic and remote the
// store keeps: with the default 10 s interval, the last quarter hour.
const keptSnapshots = 100

// pruneSnapshots drops all but the newest keptSnapshots mappings.
func (w *worker) pruneSnapshots(remote string) {
	ms, err := w.d.deps.Store.Snapshots(w.topic, remote)
	if err != nil || len(ms) <= keptSnapshots {
		return
	}
	below := ms[len(ms)-keptSnapshots].Local
	if err := w.d.deps.Store.PruneSnapshots(w.topic, remote, below); err != nil {
		w.log.Warn("pruning snapshot mappings failed", "remoteCluster", remote, "err", err)
	}
}
