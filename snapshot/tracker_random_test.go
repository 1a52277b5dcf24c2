package snapshot

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

// modelRequest is the test's own record of one issued request.
type modelRequest struct {
	req     SnapshotRequest
	began   time.Time
	asked   []string
	mapped  map[string]bool
	ended   bool
	outcome string // "complete", "expired" or "evicted" once ended
}

// trackerModel replays a schedule against a Tracker and checks every
// answer against the protocol's rules, independently derived.
type trackerModel struct {
	t          *testing.T
	tr         *Tracker
	timeout    time.Duration
	maxPending int
	remember   int
	now        time.Time
	reqs       []*modelRequest          // in Begin order
	byID       map[string]*modelRequest // all issued
	endedOrder []string                 // ids in the order they ended
	produced   map[[2]string]bool       // (request id, remote) mappings seen
	seen       map[Outcome]int          // response outcomes, across seeds
}

var (
	modelTopics     = []string{"t1", "t2", "t3"}
	modelRemotes    = []string{"b", "c", "d"}
	modelResponders = []string{"a", "b", "c", "d", "e"}
)

func newTrackerModel(t *testing.T, seen map[Outcome]int) *trackerModel {
	cfg := TrackerConfig{Cluster: "a", IDPrefix: "p", Timeout: 30 * time.Second, MaxPending: 5, MaxRemembered: 6}
	return &trackerModel{
		t: t, tr: newTestTracker(t, cfg), timeout: cfg.Timeout, maxPending: cfg.MaxPending,
		remember: cfg.MaxRemembered, now: t0,
		byID: map[string]*modelRequest{}, produced: map[[2]string]bool{}, seen: seen,
	}
}

func (m *trackerModel) live() []*modelRequest {
	var out []*modelRequest
	for _, r := range m.reqs {
		if !r.ended {
			out = append(out, r)
		}
	}
	return out
}

func (m *trackerModel) end(r *modelRequest, outcome string) {
	if r.ended {
		m.t.Fatalf("%s ended twice (%s, then %s)", r.req.ID, r.outcome, outcome)
	}
	r.ended, r.outcome = true, outcome
	m.endedOrder = append(m.endedOrder, r.req.ID)
}

func (m *trackerModel) remembered(id string) bool {
	from := max(len(m.endedOrder)-m.remember, 0)
	return slices.Contains(m.endedOrder[from:], id)
}

func (m *trackerModel) missing(r *modelRequest) []string {
	var out []string
	for _, remote := range r.asked {
		if !r.mapped[remote] {
			out = append(out, remote)
		}
	}
	slices.Sort(out)
	return out
}

func (m *trackerModel) begin(rng *rand.Rand) {
	topic := modelTopics[rng.IntN(len(modelTopics))]
	var asked []string
	for _, r := range modelRemotes {
		if rng.IntN(2) == 0 {
			asked = append(asked, r)
		}
	}
	if len(asked) == 0 {
		asked = []string{modelRemotes[rng.IntN(len(modelRemotes))]}
	}
	lac := pos(rng.Int64N(100), rng.Int64N(100))
	live := m.live()
	req, evicted, err := m.tr.Begin(m.now, topic, lac, asked)
	if err != nil {
		m.t.Fatalf("Begin: %v", err)
	}
	var wantEvicted []Abandoned
	if len(live) >= m.maxPending {
		oldest := live[0]
		wantEvicted = []Abandoned{{ID: oldest.req.ID, Topic: oldest.req.Topic, Reason: Evicted,
			Missing: m.missing(oldest), Age: max(m.now.Sub(oldest.began), 0)}}
		m.end(oldest, "evicted")
	}
	if !reflect.DeepEqual(evicted, wantEvicted) {
		m.t.Fatalf("Begin evicted %+v, want %+v", evicted, wantEvicted)
	}
	if _, dup := m.byID[req.ID]; dup {
		m.t.Fatalf("id %s issued twice", req.ID)
	}
	if req.Topic != topic || req.RequesterLAC != lac || req.Requester != "a" || req.SentAt != m.now.UnixMilli() {
		m.t.Fatalf("Begin returned %+v for topic %s, lac %v", req, topic, lac)
	}
	r := &modelRequest{req: req, began: m.now, asked: asked, mapped: map[string]bool{}}
	m.reqs = append(m.reqs, r)
	m.byID[req.ID] = r
}

func (m *trackerModel) respond(rng *rand.Rand) {
	resp := SnapshotResponse{Requester: "a", Responder: modelResponders[rng.IntN(len(modelResponders))],
		ResponderLAC: pos(rng.Int64N(9), rng.Int64N(9)), SentAt: m.now.UnixMilli()}
	if rng.IntN(10) == 0 {
		resp.Requester = "x"
	}
	switch {
	case len(m.reqs) == 0 || rng.IntN(12) == 0:
		resp.ID, resp.Topic = fmt.Sprintf("p-%d", 1000+rng.IntN(5)), modelTopics[0]
	default:
		// Prefer recent requests, where most of the action is.
		r := m.reqs[len(m.reqs)-1-min(rng.IntN(8), len(m.reqs)-1)]
		resp.ID, resp.Topic = r.req.ID, r.req.Topic
		if rng.IntN(3) > 0 {
			resp.Responder = r.asked[rng.IntN(len(r.asked))]
		}
	}
	if rng.IntN(15) == 0 {
		resp.Topic = modelTopics[rng.IntN(len(modelTopics))]
	}
	if rng.IntN(3) == 0 {
		resp.Watermark = posPtr(rng.Int64N(9), rng.Int64N(9))
	}
	got := m.tr.OnResponse(m.now, resp)
	m.check(resp, got)
}

func (m *trackerModel) expectedOutcome(resp SnapshotResponse) Outcome {
	r, issued := m.byID[resp.ID]
	switch {
	case resp.Requester != "a":
		return NotOurs
	case !issued || (r.ended && !m.remembered(resp.ID)):
		return UnknownID
	case r.ended:
		return Late
	case resp.Topic != r.req.Topic:
		return WrongTopic
	case m.now.Sub(r.began) >= m.timeout:
		return Late
	case !slices.Contains(r.asked, resp.Responder):
		return UnexpectedResponder
	case r.mapped[resp.Responder]:
		return Duplicate
	}
	return Accepted
}

func (m *trackerModel) check(resp SnapshotResponse, got ResponseResult) {
	want := m.expectedOutcome(resp)
	m.seen[want]++
	if got.Outcome != want {
		m.t.Fatalf("response %+v at %v: outcome %v, want %v", resp, m.now.Sub(t0), got.Outcome, want)
	}
	if want != Accepted {
		if got != (ResponseResult{Outcome: want}) {
			m.t.Fatalf("ignored response produced %+v", got)
		}
		return
	}
	r := m.byID[resp.ID]
	key := [2]string{resp.ID, resp.Responder}
	if m.produced[key] {
		m.t.Fatalf("second mapping for %v", key)
	}
	m.produced[key] = true
	if age := m.now.Sub(r.began); age >= m.timeout || r.ended {
		m.t.Fatalf("mapping produced for %s at age %v, ended=%v", resp.ID, age, r.ended)
	}
	r.mapped[resp.Responder] = true
	wantMapping := Mapping{RequestID: r.req.ID, Topic: r.req.Topic, Remote: resp.Responder,
		LocalLAC: r.req.RequesterLAC, RemoteLAC: resp.ResponderLAC, Watermark: resp.Watermark}
	if !reflect.DeepEqual(got.Mapping, wantMapping) || got.RoundTrip != max(m.now.Sub(r.began), 0) {
		m.t.Fatalf("mapping %+v rtt %v, want %+v rtt %v", got.Mapping, got.RoundTrip, wantMapping, m.now.Sub(r.began))
	}
	allAnswered := len(r.mapped) == len(r.asked)
	if got.Complete != allAnswered {
		m.t.Fatalf("%s: complete=%v with %d of %d remotes answered", r.req.ID, got.Complete, len(r.mapped), len(r.asked))
	}
	if allAnswered {
		m.end(r, "complete")
	}
}

func (m *trackerModel) tick() {
	var want []Abandoned
	for _, r := range m.live() {
		if age := m.now.Sub(r.began); age >= m.timeout {
			want = append(want, Abandoned{ID: r.req.ID, Topic: r.req.Topic, Reason: Expired, Missing: m.missing(r), Age: age})
			m.end(r, "expired")
		}
	}
	if got := m.tr.Tick(m.now); !reflect.DeepEqual(got, want) {
		m.t.Fatalf("Tick at %v: %+v, want %+v", m.now.Sub(t0), got, want)
	}
}

func (m *trackerModel) step(rng *rand.Rand) {
	switch n := rng.IntN(20); {
	case n < 3:
		m.begin(rng)
	case n < 14:
		m.respond(rng)
	case n < 17:
		m.now = m.now.Add(time.Duration(rng.IntN(8000)) * time.Millisecond)
	case n < 19:
		m.tick()
	default:
		// A clock that steps back a little must not break anything.
		m.now = m.now.Add(-time.Duration(rng.IntN(500)) * time.Millisecond)
	}
	if got, want := m.tr.Pending(), len(m.live()); got != want {
		m.t.Fatalf("Pending = %d, model has %d live", got, want)
	}
}

// finish expires everything left and checks the end-to-end invariants:
// every request ended exactly once, and completed iff all remotes answered.
func (m *trackerModel) finish() {
	m.now = m.now.Add(m.timeout + time.Hour) // beyond any step back of the clock
	m.tick()
	for _, r := range m.reqs {
		if !r.ended {
			m.t.Fatalf("%s never ended", r.req.ID)
		}
		if (r.outcome == "complete") != (len(r.mapped) == len(r.asked)) {
			m.t.Fatalf("%s ended %s with %d of %d answers", r.req.ID, r.outcome, len(r.mapped), len(r.asked))
		}
	}
}

func TestTrackerRandomSchedules(t *testing.T) {
	outcomes := map[string]int{}
	responses := map[Outcome]int{}
	for seed := range uint64(40) {
		m := newTrackerModel(t, responses)
		rng := rand.New(rand.NewPCG(seed, 0x5eed))
		for range 500 {
			m.step(rng)
		}
		m.finish()
		for _, r := range m.reqs {
			outcomes[r.outcome]++
		}
	}
	// The schedules must actually reach every ending, or they prove little.
	for _, o := range []string{"complete", "expired", "evicted"} {
		if outcomes[o] == 0 {
			t.Errorf("no request ended %s across all seeds: %v", o, outcomes)
		}
	}
	for o := Accepted; o <= UnexpectedResponder; o++ {
		if responses[o] == 0 {
			t.Errorf("no response was %v across all seeds: %v", o, responses)
		}
	}
}
