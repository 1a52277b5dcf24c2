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
	req, abandoned, err := w.tracker.Begin(now, w.topic, ts.LastConfirmed, remotes)
	for _, a := range abandoned {
		w.countAbandoned(a)
	}
	if err != nil {
		w.log.Warn("starting snapshot failed", "err", err)
		return
	}
	if err := w.ctrl.publish(ctx, &req); err != nil {
		w.log.Warn("publishing snapshot request failed", "err", err)
	}
}

func (w *worker) countAbandoned(a snapshot.Abandoned) {
	for _, r := range a.Missing {
		w.d.metrics.SnapshotTimeouts.WithLabelValues(w.d.cfg.Cluster, w.namespace, r).Inc()
	}
}

// respond answers a remote's request with this cluster's LAC and the
// highest entry of the requester's origin the tail has indexed.
func (w *worker) respond(ctx context.Context, req *snapshot.SnapshotRequest) {
	w.mu.Lock()
	state := snapshot.ResponderState{Cluster: w.d.cfg.Cluster, LAC: w.state.LastConfirmed}
	if wm, ok := w.tail.watermark[req.Requester]; ok {
		state.Watermark = &wm
	}
	w.mu.Unlock()
	if state.LAC == (ackset.Position{}) {
		if ts, err := cursor.ReadTopic(ctx, w.d.admin, w.topic); err == nil {
			state.LAC = ts.LastConfirmed
		}
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
	w.d.metrics.SnapshotRTT.WithLabelValues(w.d.cfg.Cluster, w.namespace, m.Remote).Observe(res.RoundTrip.Seconds())
	w.mu.Lock()
	if prev, ok := w.remotes[m.Remote]; ok && m.Watermark != nil && prev.watermark != nil && m.Watermark.Less(*prev.watermark) {
		// Answers may arrive out of order; a watermark never goes back.
		m.Watermark = prev.watermark
	}
	w.remotes[m.Remote] = &remoteSnapshot{at: now, watermark: m.Watermark, rtt: res.RoundTrip}
	w.mu.Unlock()
	w.reportReplicationLag()
}

// localEntriesAfter counts this cluster's own entries positioned after the
// watermark and at or before lac: produced here, not yet received there.
func localEntriesAfter(runs []ackset.Run, local string, watermark *ackset.Position, lac ackset.Position) int64 {
	var n int64
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
			n += last - first + 1
		}
	}
	return n
}
