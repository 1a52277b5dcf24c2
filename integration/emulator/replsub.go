package emulator

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/subsync/subsync/integration/ledger"
	"github.com/subsync/subsync/integration/wire"
)

// Marker types of Pulsar's replicated subscriptions (PIP-33).
const (
	markerSnapshotRequest  = 10
	markerSnapshotResponse = 11
	markerSnapshot         = 12
	markerUpdate           = 13
)

// snapshotTimeout is Pulsar's replicatedSubscriptionsSnapshotTimeoutSeconds.
const snapshotTimeout = 30 * time.Second

// maxCachedSnapshots is replicatedSubscriptionsSnapshotMaxCachedPerSubscription (4.x).
const maxCachedSnapshots = 30

// The marker payloads are the emulator's own JSON: no consumer ever sees a
// marker, so only the emulator reads them.
type clusterPosition struct {
	Cluster string `json:"cluster"`
	Ledger  int64  `json:"ledgerId"`
	Entry   int64  `json:"entryId"`
}

func (c clusterPosition) position() ledger.Position {
	return ledger.Position{Ledger: c.Ledger, Entry: c.Entry}
}

type markerBody struct {
	SnapshotID   string            `json:"snapshotId,omitempty"`
	Source       string            `json:"sourceCluster,omitempty"`
	Responder    *clusterPosition  `json:"cluster,omitempty"`
	Local        *clusterPosition  `json:"localMessageId,omitempty"`
	Clusters     []clusterPosition `json:"clusters,omitempty"`
	Subscription string            `json:"subscriptionName,omitempty"`
}

// snapshotRef is a completed snapshot as a subscription caches it.
type snapshotRef struct {
	local    ledger.Position
	clusters []clusterPosition
}

type pendingSnapshot struct {
	started   time.Time
	request   ledger.Position
	responses map[string]ledger.Position
}

// replSubController is the emulator's ReplicatedSubscriptionsController
// for one topic.
type replSubController struct {
	t *Topic

	mu            sync.Mutex
	seq           int
	pending       map[string]*pendingSnapshot
	lastSnapStart int64 // unix ms when the last snapshot request was written
}

func newReplSubController(t *Topic) *replSubController {
	return &replSubController{t: t, pending: map[string]*pendingSnapshot{}}
}

func (rc *replSubController) run() {
	freq := rc.t.cluster.opts.SnapshotFrequency
	tick := time.NewTicker(freq)
	defer tick.Stop()
	for {
		select {
		case <-rc.t.stopCh:
			return
		case now := <-tick.C:
			rc.tick(now)
		}
	}
}

// tick starts a snapshot when Pulsar would: replicated subscriptions on,
// a replicated subscription present, every remote reachable, and new data
// since the last snapshot; it also expires old pending snapshots.
func (rc *replSubController) tick(now time.Time) {
	rc.mu.Lock()
	for id, p := range rc.pending {
		if now.Sub(p.started) > snapshotTimeout {
			delete(rc.pending, id)
		}
	}
	rc.mu.Unlock()
	if !rc.t.cluster.opts.replicatedSubscriptions() || !rc.hasReplicatedSubscription() {
		return
	}
	remotes := rc.t.remoteClusters()
	if len(remotes) == 0 || !rc.remotesReachable(remotes) {
		return
	}
	rc.mu.Lock()
	if rc.t.lastData.Load() <= rc.lastSnapStart {
		rc.mu.Unlock()
		return
	}
	rc.seq++
	id := fmt.Sprintf("%s-%d-%d", rc.t.cluster.name, now.UnixNano(), rc.seq)
	rc.lastSnapStart = now.UnixMilli()
	rc.mu.Unlock()
	pos := rc.writeMarker(markerSnapshotRequest, markerBody{SnapshotID: id, Source: rc.t.cluster.name}, remotes, now)
	rc.mu.Lock()
	rc.pending[id] = &pendingSnapshot{started: now, request: pos, responses: map[string]ledger.Position{}}
	rc.mu.Unlock()
}

func (rc *replSubController) hasReplicatedSubscription() bool {
	for _, s := range rc.t.subscriptions() {
		if s.isReplicated() {
			return true
		}
	}
	return false
}

func (rc *replSubController) remotesReachable(remotes []string) bool {
	sim := rc.t.cluster.sim
	for _, r := range remotes {
		rcl := sim.cluster(r)
		if rcl == nil || !rcl.Running() || !sim.linkUp(rc.t.cluster.name, r) {
			return false
		}
	}
	return true
}

func (rc *replSubController) writeMarker(kind int32, body markerBody, replicateTo []string, now time.Time) ledger.Position {
	payload, _ := json.Marshal(body) // plain structs always marshal
	meta := &wire.Metadata{
		ProducerName: proto.String("pulsar.marker"),
		SequenceId:   proto.Uint64(0),
		PublishTime:  proto.Uint64(uint64(now.UnixMilli())),
		MarkerType:   proto.Int32(kind),
		ReplicateTo:  replicateTo,
	}
	raw, err := wire.BuildEntry(meta, payload)
	if err != nil {
		rc.t.cluster.log.Error("building marker", "err", err)
		return ledger.Position{}
	}
	return rc.t.publish(raw, meta, now)
}

// receivedReplicatedMarker handles a marker that arrived by replication at
// position pos of this topic.
func (rc *replSubController) receivedReplicatedMarker(meta *wire.Metadata, raw []byte, pos ledger.Position) {
	pe, err := wire.ParseEntry(raw)
	if err != nil {
		return
	}
	var body markerBody
	if err := json.Unmarshal(pe.Payload, &body); err != nil {
		return
	}
	now := time.Now()
	switch meta.GetMarkerType() {
	case markerSnapshotRequest:
		rc.writeMarker(markerSnapshotResponse, markerBody{SnapshotID: body.SnapshotID,
			Responder: &clusterPosition{Cluster: rc.t.cluster.name, Ledger: pos.Ledger, Entry: pos.Entry}},
			[]string{body.Source}, now)
	case markerSnapshotResponse:
		rc.receivedResponse(body, now)
	case markerUpdate:
		rc.receivedUpdate(body)
	}
}

func (rc *replSubController) receivedResponse(body markerBody, now time.Time) {
	if body.Responder == nil {
		return
	}
	rc.mu.Lock()
	p, ok := rc.pending[body.SnapshotID]
	if !ok {
		rc.mu.Unlock()
		return
	}
	p.responses[body.Responder.Cluster] = body.Responder.position()
	remotes := rc.t.remoteClusters()
	for _, r := range remotes {
		if _, ok := p.responses[r]; !ok {
			rc.mu.Unlock()
			return
		}
	}
	delete(rc.pending, body.SnapshotID)
	rc.mu.Unlock()
	snap := markerBody{SnapshotID: body.SnapshotID,
		Local: &clusterPosition{Cluster: rc.t.cluster.name, Ledger: p.request.Ledger, Entry: p.request.Entry}}
	for _, r := range remotes {
		pos := p.responses[r]
		snap.Clusters = append(snap.Clusters, clusterPosition{Cluster: r, Ledger: pos.Ledger, Entry: pos.Entry})
	}
	rc.writeMarker(markerSnapshot, snap, []string{rc.t.cluster.name}, now)
}

// receivedUpdate moves (or creates) the named subscription to the
// position the origin's snapshot mapped for this cluster.
func (rc *replSubController) receivedUpdate(body markerBody) {
	var target *ledger.Position
	for _, c := range body.Clusters {
		if c.Cluster == rc.t.cluster.name {
			p := c.position()
			target = &p
		}
	}
	if target == nil || body.Subscription == "" {
		return
	}
	s, _, err := rc.t.getOrCreateSubscription(body.Subscription, subscribeOptions{
		durable: true, initial: wire.InitialPosition_Earliest, replicated: true})
	if err != nil {
		return
	}
	s.mu.Lock()
	if s.cursor.MarkDeletePosition().Compare(*target) < 0 {
		_ = s.cursor.MarkDelete(*target)
	}
	s.mu.Unlock()
	s.wake()
}

// observeSnapshotLocked caches a snapshot marker the subscription's
// dispatcher has read (s.mu held).
func (s *Subscription) observeSnapshotLocked(e ledger.Entry) {
	pe, err := wire.ParseEntry(e.Data)
	if err != nil || pe.Meta.GetMarkerType() != markerSnapshot {
		return
	}
	var body markerBody
	if json.Unmarshal(pe.Payload, &body) != nil || body.Local == nil {
		return
	}
	s.snapshots = append(s.snapshots, snapshotRef{local: body.Local.position(), clusters: body.Clusters})
	if len(s.snapshots) > maxCachedSnapshots {
		s.snapshots = s.snapshots[1:]
	}
}

// subscriptionMoved sends an update marker for the newest cached snapshot
// the subscription's mark-delete position has passed.
func (rc *replSubController) subscriptionMoved(s *Subscription) {
	s.mu.Lock()
	md := s.cursor.MarkDeletePosition()
	var best *snapshotRef
	n := 0
	for i := range s.snapshots {
		if s.snapshots[i].local.Compare(md) > 0 {
			break
		}
		best = &s.snapshots[i]
		n = i + 1
	}
	var snap snapshotRef
	if best != nil {
		snap = *best
	}
	s.snapshots = s.snapshots[n:]
	s.mu.Unlock()
	if best == nil {
		return
	}
	rc.writeMarker(markerUpdate, markerBody{Subscription: s.name, Clusters: snap.clusters}, rc.t.remoteClusters(), time.Now())
}
