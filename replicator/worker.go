package replicator

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/cursor"
	"github.com/subsync/subsync/engine"
	"github.com/subsync/subsync/owner"
	"github.com/subsync/subsync/snapshot"
)

// worker syncs one topic partition. Its tail goroutine feeds the index;
// its loop goroutine owns everything else (export, import, apply,
// snapshots), so that state needs a lock only for reports.
type worker struct {
	d         *Daemon
	topic     string
	namespace string
	ctrl      *controlChannel
	log       *slog.Logger
	inbox     chan snapshot.Message
	done      chan struct{}
	// epoch is the period of acting's (nsWork.epoch): a new stream per
	// subscription starts with it.
	epoch int64

	mu       sync.Mutex
	tail     tailState
	stats    cursor.StatsCache // loop goroutine only
	state    cursor.TopicState // last read
	stateAt  time.Time         // when state was read
	runs     []ackset.Run      // the index as of the last read
	exported map[string]*exportState
	imported map[subRemote]*importState
	remotes  map[string]*remoteSnapshot
	seq      *snapshot.Sequencer
	tracker  *snapshot.Tracker
	requests snapshot.RequestFilter // loop goroutine only: requests answered
	lastSnap time.Time
	// replAtRequest remembers, per pending snapshot request, each
	// replicator cursor's mark-delete position when it was sent.
	replAtRequest map[string]map[string]ackset.Position
	indexRuns     int
	// dirty holds the subscriptions whose imports changed since they were
	// last applied; the loop applies them as soon as the inbox is drained,
	// not at the next tick.
	dirty map[string]bool
	// zeroed holds the subscription/remote pairs whose counters exist
	// (remote "" for the subscription's own), so each is created once.
	zeroed map[subRemote]bool
}

// tailState is what the tail has read so far.
type tailState struct {
	position  ackset.Position
	started   bool
	watermark map[string]ackset.Position // origin -> highest origin position seen
	lastStamp map[string]ackset.Position // origin -> newest stamp read by the tail
}

type subRemote struct{ sub, remote string }

// exportState is the last state published for one subscription, and the
// owner decision's memory of it.
type exportState struct {
	epoch    int64
	seq      uint64
	set      ackset.Set
	lastFull time.Time
	// current is false for a state restored from a previous incarnation.
	current bool
	// active and deleted are what the last update said.
	active, deleted bool
	mem             owner.Memory
	memAt           time.Time // when mem was last stored
	// role and owner are the last decision's, for reports; seen is what
	// the last read showed of the consumers (not stored).
	role  owner.Role
	owner string
	seen  engine.Seen
}

// importState is a remote cluster's last known acked set for one
// subscription, and what applying it last did.
type importState struct {
	set        ackset.Set
	active     bool  // the sender's application consumers were attached
	lastActive int64 // when the sender last saw them, unix ms
	deleted    bool  // the sender deleted the subscription
	epoch      int64
	seq        uint64
	sentAt     time.Time
	received   time.Time
	notApplied int64
	deferred   bool
	reason     string
}

// remoteSnapshot is the snapshot protocol's last word from one remote.
type remoteSnapshot struct {
	at        time.Time
	watermark *ackset.Position // highest local-origin entry the remote had; nil: none
	have      *ackset.Set      // the local-origin entries the remote had; nil: not sent
	// processed is how far Pulsar's replicator to the remote had gone (its
	// cursor's mark-delete position) when the answered request was sent,
	// kept only when the remote's tail had caught up when it answered: then
	// every processed entry the remote lacks was skipped for good.
	processed *ackset.Position
	rtt       time.Duration
}

func newWorker(d *Daemon, topic, ns string, ctrl *controlChannel, epoch int64) (*worker, error) {
	// One topic has at most timeout/interval requests in flight; a small
	// bound keeps a thousand trackers cheap.
	pending := int(d.cfg.SnapshotTimeout/d.cfg.SnapshotInterval) + 2
	tr, err := snapshot.NewTracker(snapshot.TrackerConfig{Cluster: d.cfg.Cluster,
		IDPrefix: fmt.Sprintf("%s-%d", d.cfg.Cluster, epoch), Timeout: d.cfg.SnapshotTimeout,
		MaxPending: pending, MaxRemembered: 4 * pending})
	if err != nil {
		return nil, err
	}
	w := &worker{d: d, topic: topic, namespace: ns, ctrl: ctrl, epoch: epoch,
		log:           d.log.With("topic", topic, "namespace", ns),
		inbox:         make(chan snapshot.Message, 256),
		done:          make(chan struct{}),
		exported:      map[string]*exportState{},
		imported:      map[subRemote]*importState{},
		remotes:       map[string]*remoteSnapshot{},
		dirty:         map[string]bool{},
		zeroed:        map[subRemote]bool{},
		replAtRequest: map[string]map[string]ackset.Position{},
		seq:           snapshot.NewSequencer(),
		tracker:       tr,
		// Stats (types, consumers) are re-read every ten intervals, or at
		// once when a new cursor appears; internalStats every interval.
		stats: cursor.StatsCache{MaxAge: 10 * d.cfg.ExportInterval},
		tail:  tailState{watermark: map[string]ackset.Position{}, lastStamp: map[string]ackset.Position{}},
	}
	if err := w.restore(); err != nil {
		return nil, err
	}
	d.metrics.InitTopic(d.cfg.Cluster, ns, topic)
	return w, nil
}

// restore reloads what the store remembers: the tail checkpoint and
// watermarks, the imported states, and the exported ones (a subscription
// deleted here while the daemon was down is known only from its record).
func (w *worker) restore() error {
	st := w.d.deps.Store
	cp, ok, err := st.TailCheckpoint(w.topic)
	if err != nil {
		return fmt.Errorf("topic %s: reading tail checkpoint: %w", w.topic, err)
	}
	if ok {
		w.tail.position, w.tail.started = cp, true
	}
	runs, err := st.Runs(w.topic, minPosition, maxPosition)
	if err != nil {
		return fmt.Errorf("topic %s: reading tail index: %w", w.topic, err)
	}
	for _, r := range runs {
		w.observeRun(r)
	}
	for origin, p := range w.tail.watermark {
		if origin != w.d.cfg.Cluster {
			w.tail.lastStamp[origin] = p
		}
	}
	w.indexRuns = len(runs)
	if err := w.restoreExports(); err != nil {
		return err
	}
	return w.restoreImports()
}

// restoreExports loads every exported state the store holds for the topic.
func (w *worker) restoreExports() error {
	subs, err := w.d.deps.Store.ExportedKeys(w.topic)
	if err != nil {
		return fmt.Errorf("restoring exports of %s: %w", w.topic, err)
	}
	for _, sub := range subs {
		if IsSystemCursor(sub) || !w.subscriptionInScope(sub) {
			continue
		}
		if _, err := w.exportStateOf(sub); err != nil {
			return fmt.Errorf("restoring export of %s: %w", sub, err)
		}
	}
	return nil
}

var (
	minPosition = ackset.Position{Ledger: -1, Entry: -1}
	maxPosition = ackset.Position{Ledger: 1<<63 - 1, Entry: 1<<63 - 1}
)

// observeRun raises the origin watermark (w.mu held or before start).
func (w *worker) observeRun(r ackset.Run) {
	last := ackset.Position{Ledger: r.OriginLedger, Entry: r.OriginEntry + r.Count - 1}
	if cur, ok := w.tail.watermark[r.Origin]; !ok || cur.Less(last) {
		w.tail.watermark[r.Origin] = last
	}
}

// deliver queues a control message for the loop goroutine, or drops and
// counts it when the queue is full: the namespace's control loop must
// never wait for one topic (its admin calls may be slow). A dropped update
// costs a gap until the next full state, a dropped snapshot message one
// snapshot round; neither acknowledges anything.
func (w *worker) deliver(msg snapshot.Message) {
	select {
	case w.inbox <- msg:
	default:
		w.reject("inbox_full")
		w.d.rateLog.warn(w.log, w.d.now(), "inbox_full", "topic busy; control message dropped", "type", msg.Type().String())
	}
}

// run drives the worker until ctx ends.
func (w *worker) run(ctx context.Context) {
	defer close(w.done)
	tailDone := make(chan struct{})
	go func() {
		defer close(tailDone)
		w.tailLoop(ctx)
	}()
	// The daemon's Run returns only after the tail's last flush, so the
	// store is never closed under it.
	defer func() { <-tailDone }()
	// Spread the workers' ticks over the interval, so a thousand topics do
	// not hit the admin API in one burst.
	select {
	case <-ctx.Done():
		return
	case <-time.After(w.phase()):
	}
	tick := time.NewTicker(w.d.cfg.ExportInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case msg := <-w.inbox:
			w.handle(ctx, msg)
			if len(w.inbox) == 0 && len(w.dirty) > 0 {
				w.applyDirty(ctx)
			}
		case <-tick.C:
			w.tick(ctx)
		}
	}
}

// applyDirty applies the imports that changed, with a fresh read of the
// topic's cursors.
func (w *worker) applyDirty(ctx context.Context) {
	ts, runs, ok := w.readState(ctx)
	if !ok {
		return
	}
	w.syncAll(ctx, w.d.now(), ts, runs, false, w.dirty)
	clear(w.dirty)
}

// phase is the worker's fixed offset within the export interval, from a
// hash of its topic name.
func (w *worker) phase() time.Duration {
	h := fnv.New32a()
	_, _ = h.Write([]byte(w.topic))
	return time.Duration(h.Sum32()) % w.d.cfg.ExportInterval
}

// readState reads the topic's cursors and its tail index, and keeps both
// for reports. It logs and reports false when either read fails.
func (w *worker) readState(ctx context.Context) (cursor.TopicState, []ackset.Run, bool) {
	if err := w.d.adminSlots.acquire(ctx); err != nil {
		return cursor.TopicState{}, nil, false
	}
	readCtx, cancel := context.WithTimeout(ctx, w.d.cfg.AdminTimeout)
	ts, err := cursor.ReadTopicCached(readCtx, w.d.admin, w.topic, &w.stats, w.d.now())
	cancel()
	w.d.adminSlots.release()
	if err != nil {
		w.d.health.failed(w.namespace, opAdminRead)
		w.log.Warn("reading cursors failed", "err", err)
		return cursor.TopicState{}, nil, false
	}
	w.d.health.succeeded(w.namespace, opAdminRead)
	runs, err := w.d.deps.Store.Runs(w.topic, minPosition, maxPosition)
	if err != nil {
		w.log.Error("reading tail index failed", "err", err)
		return cursor.TopicState{}, nil, false
	}
	w.mu.Lock()
	w.state, w.runs, w.indexRuns, w.stateAt = ts, runs, len(runs), w.d.now()
	w.mu.Unlock()
	w.zeroCounters(ts)
	return ts, runs, true
}

// replicationLagLocked counts this cluster's own entries, up to the last
// read LAC, that Pulsar's replicator to remote has not processed yet: not
// acknowledged on its pulsar.repl.<remote> cursor. The replicator
// acknowledges an entry once the remote has persisted its copy, or when it
// skips the entry for good (replicate_to, TTL), so this is exactly what is
// still on its way. Without a replicator cursor (not read yet), every own
// entry after the remote's last snapshot watermark counts (w.mu held).
func (w *worker) replicationLagLocked(remote string) int64 {
	lac := w.state.LastConfirmed
	if repl, ok := w.state.Replicators[remote]; ok && w.state.CheckCursor(repl) == nil {
		pending := localEntriesAfter(w.runs, w.d.cfg.Cluster, &repl.MarkDelete, lac)
		return int64(pending.Difference(rangesSet(w.d.cfg.Cluster, repl.Deleted)).Cardinality())
	}
	var wm *ackset.Position
	if rs, ok := w.remotes[remote]; ok {
		wm = rs.watermark
	}
	return int64(localEntriesAfter(w.runs, w.d.cfg.Cluster, wm, lac).Cardinality())
}

// neverThereLocked returns this cluster's own entries the remote will
// never have: at or below the watermark of its last snapshot answer but
// absent from its index. Replication and the remote's tail both keep
// order, so such an entry was skipped by the replicator (replicate_to,
// TTL), not delayed (w.mu held).
func (w *worker) neverThereLocked(remote string) ackset.Set {
	rs, ok := w.remotes[remote]
	if !ok || rs.have == nil {
		return ackset.Set{}
	}
	upTo := rs.watermark
	if rs.processed != nil && (upTo == nil || upTo.Less(*rs.processed)) {
		upTo = rs.processed
	}
	if upTo == nil {
		return ackset.Set{}
	}
	return localEntriesAfter(w.runs, w.d.cfg.Cluster, nil, *upTo).Difference(*rs.have)
}

// rangesSet turns local IDM ranges into a set of this cluster's entries;
// ranges crossing ledgers (never printed by Pulsar's default range set)
// are left out.
func rangesSet(local string, rs []ackset.Range) ackset.Set {
	var out ackset.Set
	for _, r := range rs {
		if ledger, first, last, ok := r.Entries(); ok && last >= first {
			_ = out.AddRange(local, ledger, first, last)
		}
	}
	return out
}

func (w *worker) reportReplicationLag() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, remote := range w.d.remotesOf(w.namespace) {
		w.d.metrics.ReplicationLag.WithLabelValues(w.d.cfg.Cluster, w.namespace, w.topic, remote).
			Set(float64(w.replicationLagLocked(remote)))
	}
}

// tick reads the topic's cursors once and uses that for export, apply
// and the snapshot protocol.
func (w *worker) tick(ctx context.Context) {
	now := w.d.now()
	ts, runs, ok := w.readState(ctx)
	if !ok {
		return
	}
	w.d.metrics.IndexRuns.WithLabelValues(w.d.cfg.Cluster, w.namespace, w.topic).Set(float64(len(runs)))
	w.reportReplicationLag()
	w.reportTailLag(ts)
	w.syncAll(ctx, now, ts, runs, true, nil)
	clear(w.dirty)
	w.snapshotTick(ctx, now, ts, runs)
}

func (w *worker) reportTailLag(ts cursor.TopicState) {
	w.mu.Lock()
	pos, started := w.tail.position, w.tail.started
	w.mu.Unlock()
	lag := int64(-1)
	switch {
	case ts.LastConfirmed.Entry < 0:
		lag = 0
	case started && pos.Ledger == ts.LastConfirmed.Ledger:
		lag = ts.LastConfirmed.Entry - pos.Entry
	case !started && ts.LastConfirmed.Entry >= 0:
		lag = ts.LastConfirmed.Entry + 1
	}
	w.d.metrics.TailLagEntries.WithLabelValues(w.d.cfg.Cluster, w.namespace, w.topic).Set(float64(lag))
}

func (w *worker) handle(ctx context.Context, msg snapshot.Message) {
	switch m := msg.(type) {
	case *snapshot.Update:
		w.importUpdate(m)
	case *snapshot.SnapshotRequest:
		w.respond(ctx, m)
	case *snapshot.SnapshotResponse:
		w.snapshotResponse(m)
	}
}

// inScope applies the subscription include/exclude patterns.
func (w *worker) subscriptionInScope(sub string) bool { return w.d.subscriptionInScope(sub) }
