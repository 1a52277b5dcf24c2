package snapshot

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/subsync/subsync/ackset"
)

// Tracker defaults.
const (
	// DefaultTimeout matches Pulsar's replicatedSubscriptionsSnapshotTimeoutSeconds.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxPending bounds the requests awaiting answers at once.
	DefaultMaxPending = 1024
	// maxIDPrefixSize leaves room in MaxStringSize for the counter.
	maxIDPrefixSize = 256
)

// TrackerConfig configures a Tracker.
type TrackerConfig struct {
	// Cluster is the local cluster: the requester of every request.
	Cluster string
	// IDPrefix makes request ids unique across daemon incarnations; ids are
	// IDPrefix + "-" + a counter from 1. It must differ from every earlier
	// incarnation's (e.g. the start time in unix ms, or random hex), or a
	// late answer to a previous incarnation's request could be taken for an
	// answer to a new one.
	IDPrefix string
	// Timeout after which a request is abandoned; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxPending bounds pending requests; the oldest is evicted to make
	// room. 0 means DefaultMaxPending.
	MaxPending int
	// MaxRemembered bounds how many finished request ids are remembered to
	// tell a late response from one with an unknown id. 0 means
	// 4 × MaxPending.
	MaxRemembered int
}

// Tracker is the requester side of the snapshot protocol: it issues
// SnapshotRequests and pairs the responses with them. It is not safe for
// concurrent use; time only moves through its arguments.
type Tracker struct {
	cluster    string
	idPrefix   string
	timeout    time.Duration
	maxPending int

	counter  uint64
	pending  map[string]*pendingRequest
	order    []string // pending ids, oldest first
	finished recentIDs
}

type pendingRequest struct {
	req      SnapshotRequest
	began    time.Time
	answered map[string]bool // remote → answered yet
	missing  int
}

// NewTracker validates cfg and returns an empty Tracker.
func NewTracker(cfg TrackerConfig) (*Tracker, error) {
	if err := validateName("tracker cluster", cfg.Cluster); err != nil {
		return nil, err
	}
	if err := validateName("tracker id prefix", cfg.IDPrefix); err != nil {
		return nil, err
	}
	if len(cfg.IDPrefix) > maxIDPrefixSize {
		return nil, fmt.Errorf("tracker id prefix is %d bytes, limit %d", len(cfg.IDPrefix), maxIDPrefixSize)
	}
	if cfg.Timeout < 0 || cfg.MaxPending < 0 || cfg.MaxRemembered < 0 {
		return nil, fmt.Errorf("tracker config: timeout %v, max pending %d, max remembered %d: expected values >= 0",
			cfg.Timeout, cfg.MaxPending, cfg.MaxRemembered)
	}
	t := &Tracker{
		cluster:    cfg.Cluster,
		idPrefix:   cfg.IDPrefix,
		timeout:    cmp0(cfg.Timeout, DefaultTimeout),
		maxPending: cmp0(cfg.MaxPending, DefaultMaxPending),
		pending:    make(map[string]*pendingRequest),
	}
	t.finished = newRecentIDs(cmp0(cfg.MaxRemembered, 4*t.maxPending))
	return t, nil
}

func cmp0[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// AbandonReason says why a request ended without every answer.
type AbandonReason uint8

// Abandon reasons.
const (
	Expired AbandonReason = iota + 1 // not all remotes answered within the timeout
	Evicted                          // dropped to stay within MaxPending
)

// String names the reason for logs and metric labels.
func (r AbandonReason) String() string {
	switch r {
	case Expired:
		return "expired"
	case Evicted:
		return "evicted"
	}
	return "reason_" + strconv.Itoa(int(r))
}

// Abandoned reports a request that ended incomplete.
type Abandoned struct {
	ID      string
	Topic   string
	Reason  AbandonReason
	Missing []string      // remotes that never answered, sorted
	Age     time.Duration // from Begin to the moment it was abandoned
}

// Begin starts a snapshot round on topic: it returns the request to
// publish (the caller may attach Anchors before encoding it) and any
// request evicted to make room. remotes are the clusters expected to
// answer; they must be distinct, non-empty and not the local cluster.
func (t *Tracker) Begin(now time.Time, topic string, requesterLAC ackset.Position, remotes []string) (SnapshotRequest, []Abandoned, error) {
	if err := t.validateBegin(topic, requesterLAC, remotes); err != nil {
		return SnapshotRequest{}, nil, fmt.Errorf("begin snapshot: %w", err)
	}
	var evicted []Abandoned
	for len(t.order) >= t.maxPending {
		evicted = append(evicted, t.abandon(t.order[0], Evicted, now))
	}
	t.counter++
	req := SnapshotRequest{
		ID:           t.idPrefix + "-" + strconv.FormatUint(t.counter, 10),
		Topic:        topic,
		Requester:    t.cluster,
		RequesterLAC: requesterLAC,
		SentAt:       now.UnixMilli(),
	}
	p := &pendingRequest{req: req, began: now, answered: make(map[string]bool, len(remotes)), missing: len(remotes)}
	for _, r := range remotes {
		p.answered[r] = false
	}
	t.pending[req.ID] = p
	t.order = append(t.order, req.ID)
	return req, evicted, nil
}

func (t *Tracker) validateBegin(topic string, lac ackset.Position, remotes []string) error {
	if err := firstError(validateName("topic", topic), validatePosition("requester LAC", lac)); err != nil {
		return err
	}
	if len(remotes) == 0 {
		return fmt.Errorf("topic %q: no remote clusters to ask", topic)
	}
	seen := make(map[string]bool, len(remotes))
	for _, r := range remotes {
		if err := validateName("remote cluster", r); err != nil {
			return err
		}
		if r == t.cluster {
			return fmt.Errorf("remote cluster %q is the local cluster", r)
		}
		if seen[r] {
			return fmt.Errorf("remote cluster %q listed twice", r)
		}
		seen[r] = true
	}
	return nil
}

// Outcome classifies a response for counting.
type Outcome uint8

// Response outcomes. Only Accepted produces a mapping.
const (
	Accepted            Outcome = iota + 1
	NotOurs                     // answers another cluster's request: normal on a shared control topic
	UnknownID                   // no pending or recently finished request has this id
	Late                        // the request already completed, expired or was evicted
	Duplicate                   // this remote already answered this pending request
	WrongTopic                  // the id is pending but for another topic
	UnexpectedResponder         // the responder is not one of the remotes asked
)

// String names the outcome for logs and metric labels.
func (o Outcome) String() string {
	switch o {
	case Accepted:
		return "accepted"
	case NotOurs:
		return "not_ours"
	case UnknownID:
		return "unknown_id"
	case Late:
		return "late"
	case Duplicate:
		return "duplicate"
	case WrongTopic:
		return "wrong_topic"
	case UnexpectedResponder:
		return "unexpected_responder"
	}
	return "outcome_" + strconv.Itoa(int(o))
}

// Mapping pairs the requester's LAC at request time with a remote's LAC and
// replicated watermark at response time.
type Mapping struct {
	RequestID string
	Topic     string
	Remote    string
	LocalLAC  ackset.Position
	RemoteLAC ackset.Position
	// Watermark is the highest local-origin position the remote had seen;
	// nil if none.
	Watermark *ackset.Position
	// Have is the remote's encoded set of local-origin entries ("" if it
	// sent none); a string keeps Mapping comparable.
	Have string
	// TailCaughtUp: the remote's tail had indexed everything its topic
	// held when it answered, so Have covers every copy it then had.
	TailCaughtUp bool
}

// ResponseResult is what OnResponse made of one response.
type ResponseResult struct {
	Outcome Outcome
	// Mapping and RoundTrip are set only when Outcome is Accepted.
	Mapping   Mapping
	RoundTrip time.Duration
	// Complete is true when this response was the last one the request
	// waited for; the request is then finished.
	Complete bool
}

// OnResponse pairs resp with its pending request. A request whose timeout
// has passed at now accepts nothing more, even before Tick removes it.
func (t *Tracker) OnResponse(now time.Time, resp SnapshotResponse) ResponseResult {
	if resp.Requester != t.cluster {
		return ResponseResult{Outcome: NotOurs}
	}
	p, ok := t.pending[resp.ID]
	switch {
	case !ok && t.finished.contains(resp.ID):
		return ResponseResult{Outcome: Late}
	case !ok:
		return ResponseResult{Outcome: UnknownID}
	case resp.Topic != p.req.Topic:
		return ResponseResult{Outcome: WrongTopic}
	case t.expired(p, now):
		return ResponseResult{Outcome: Late}
	}
	answered, asked := p.answered[resp.Responder]
	switch {
	case !asked:
		return ResponseResult{Outcome: UnexpectedResponder}
	case answered:
		return ResponseResult{Outcome: Duplicate}
	}
	p.answered[resp.Responder] = true
	p.missing--
	res := ResponseResult{
		Outcome:   Accepted,
		Mapping:   mappingOf(p.req, resp),
		RoundTrip: max(now.Sub(p.began), 0),
		Complete:  p.missing == 0,
	}
	if res.Complete {
		t.finish(resp.ID)
	}
	return res
}

func mappingOf(req SnapshotRequest, resp SnapshotResponse) Mapping {
	m := Mapping{
		RequestID: req.ID,
		Topic:     req.Topic,
		Remote:    resp.Responder,
		LocalLAC:  req.RequesterLAC,
		RemoteLAC: resp.ResponderLAC,
	}
	if resp.Watermark != nil {
		w := *resp.Watermark
		m.Watermark = &w
	}
	m.Have = string(resp.Have)
	m.TailCaughtUp = resp.TailPosition != nil && !resp.TailPosition.Less(resp.ResponderLAC)
	return m
}

func (t *Tracker) expired(p *pendingRequest, now time.Time) bool {
	return now.Sub(p.began) >= t.timeout
}

// Tick abandons every pending request whose timeout has passed at now,
// oldest first.
func (t *Tracker) Tick(now time.Time) []Abandoned {
	var out []Abandoned
	for _, id := range slices.Clone(t.order) {
		if t.expired(t.pending[id], now) {
			out = append(out, t.abandon(id, Expired, now))
		}
	}
	return out
}

// Pending returns the number of requests awaiting answers.
func (t *Tracker) Pending() int { return len(t.order) }

func (t *Tracker) abandon(id string, reason AbandonReason, now time.Time) Abandoned {
	p := t.pending[id]
	a := Abandoned{ID: id, Topic: p.req.Topic, Reason: reason, Age: max(now.Sub(p.began), 0)}
	for r, done := range p.answered {
		if !done {
			a.Missing = append(a.Missing, r)
		}
	}
	slices.Sort(a.Missing)
	t.finish(id)
	return a
}

func (t *Tracker) finish(id string) {
	delete(t.pending, id)
	if i := slices.Index(t.order, id); i >= 0 {
		t.order = slices.Delete(t.order, i, i+1)
	}
	t.finished.add(id)
}

// recentIDs remembers the last n ids added.
type recentIDs struct {
	set  map[string]struct{}
	ring []string
	next int
}

func newRecentIDs(n int) recentIDs {
	return recentIDs{set: make(map[string]struct{}, n), ring: make([]string, 0, n)}
}

func (r *recentIDs) add(id string) {
	if cap(r.ring) == 0 {
		return
	}
	if len(r.ring) < cap(r.ring) {
		r.ring = append(r.ring, id)
	} else {
		delete(r.set, r.ring[r.next])
		r.ring[r.next] = id
		r.next = (r.next + 1) % len(r.ring)
	}
	r.set[id] = struct{}{}
}

func (r *recentIDs) contains(id string) bool {
	_, ok := r.set[id]
	return ok
}
