package snapshot

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.UnixMilli(1_700_000_000_000)

func newTestTracker(t *testing.T, cfg TrackerConfig) *Tracker {
	t.Helper()
	if cfg.Cluster == "" {
		cfg.Cluster = "east"
	}
	if cfg.IDPrefix == "" {
		cfg.IDPrefix = "east-1"
	}
	tr, err := NewTracker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func mustBegin(t *testing.T, tr *Tracker, now time.Time, topic string, remotes ...string) SnapshotRequest {
	t.Helper()
	req, evicted, err := tr.Begin(now, topic, pos(10, 20), remotes)
	if err != nil {
		t.Fatal(err)
	}
	if len(evicted) != 0 {
		t.Fatalf("unexpected eviction: %+v", evicted)
	}
	return req
}

func answer(req SnapshotRequest, responder string, lac int64) SnapshotResponse {
	return SnapshotResponse{ID: req.ID, Topic: req.Topic, Requester: req.Requester, Responder: responder,
		ResponderLAC: pos(lac, lac), Watermark: posPtr(10, lac), SentAt: req.SentAt}
}

func TestBeginBuildsRequests(t *testing.T) {
	tr := newTestTracker(t, TrackerConfig{})
	r1 := mustBegin(t, tr, t0, "topic-a", "west", "north")
	r2 := mustBegin(t, tr, t0.Add(time.Second), "topic-b", "west")
	want1 := SnapshotRequest{ID: "east-1-1", Topic: "topic-a", Requester: "east", RequesterLAC: pos(10, 20), SentAt: t0.UnixMilli()}
	if !reflect.DeepEqual(r1, want1) {
		t.Errorf("first request %+v, want %+v", r1, want1)
	}
	if r2.ID != "east-1-2" || r2.SentAt != t0.UnixMilli()+1000 {
		t.Errorf("second request %+v: want id east-1-2 sent 1 s later", r2)
	}
	if tr.Pending() != 2 {
		t.Errorf("Pending = %d, want 2", tr.Pending())
	}
	if _, err := Encode(&r1, testKey); err != nil {
		t.Errorf("a request from Begin must be encodable: %v", err)
	}
}

func TestBeginRejectsBadInput(t *testing.T) {
	tr := newTestTracker(t, TrackerConfig{})
	cases := map[string]struct {
		topic   string
		lac     [2]int64
		remotes []string
	}{
		"empty topic":      {"", [2]int64{1, 1}, []string{"west"}},
		"no remotes":       {"t", [2]int64{1, 1}, nil},
		"empty remote":     {"t", [2]int64{1, 1}, []string{""}},
		"duplicate remote": {"t", [2]int64{1, 1}, []string{"west", "west"}},
		"local as remote":  {"t", [2]int64{1, 1}, []string{"west", "east"}},
		"bad lac":          {"t", [2]int64{-2, 1}, []string{"west"}},
	}
	for name, c := range cases {
		if req, _, err := tr.Begin(t0, c.topic, pos(c.lac[0], c.lac[1]), c.remotes); err == nil {
			t.Errorf("%s: accepted, got %+v", name, req)
		}
	}
	if tr.Pending() != 0 {
		t.Errorf("rejected requests left %d pending", tr.Pending())
	}
	if req := mustBegin(t, tr, t0, "t", "west"); req.ID != "east-1-1" {
		t.Errorf("rejected requests consumed ids: first id is %s", req.ID)
	}
}

func TestNewTrackerRejectsBadConfig(t *testing.T) {
	cases := map[string]TrackerConfig{
		"no cluster":        {IDPrefix: "p"},
		"no prefix":         {Cluster: "east"},
		"long prefix":       {Cluster: "east", IDPrefix: strings.Repeat("p", maxIDPrefixSize+1)},
		"negative timeout":  {Cluster: "east", IDPrefix: "p", Timeout: -time.Second},
		"negative pending":  {Cluster: "east", IDPrefix: "p", MaxPending: -1},
		"negative remember": {Cluster: "east", IDPrefix: "p", MaxRemembered: -1},
	}
	for name, cfg := range cases {
		if _, err := NewTracker(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestResponsesCompleteARequest(t *testing.T) {
	tr := newTestTracker(t, TrackerConfig{})
	req := mustBegin(t, tr, t0, "topic", "west", "north")

	west := tr.OnResponse(t0.Add(120*time.Millisecond), answer(req, "west", 5))
	wantMapping := Mapping{RequestID: req.ID, Topic: "topic", Remote: "west", LocalLAC: pos(10, 20),
		RemoteLAC: pos(5, 5), Watermark: posPtr(10, 5)}
	if west.Outcome != Accepted || west.Complete || west.RoundTrip != 120*time.Millisecond ||
		!reflect.DeepEqual(west.Mapping, wantMapping) {
		t.Fatalf("first answer: %+v, want accepted, incomplete, rtt 120ms, mapping %+v", west, wantMapping)
	}
	if dup := tr.OnResponse(t0.Add(130*time.Millisecond), answer(req, "west", 6)); dup.Outcome != Duplicate {
		t.Fatalf("second answer from west: %+v, want duplicate", dup)
	}
	north := tr.OnResponse(t0.Add(time.Second), answer(req, "north", 7))
	if north.Outcome != Accepted || !north.Complete || north.Mapping.Remote != "north" || north.RoundTrip != time.Second {
		t.Fatalf("last answer: %+v, want accepted and complete", north)
	}
	if tr.Pending() != 0 {
		t.Fatalf("Pending = %d after completion", tr.Pending())
	}
	if late := tr.OnResponse(t0.Add(2*time.Second), answer(req, "north", 7)); late.Outcome != Late {
		t.Fatalf("answer after completion: %+v, want late", late)
	}
	if got := tr.Tick(t0.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("a completed request expired: %+v", got)
	}
}

func TestResponsesIgnored(t *testing.T) {
	tr := newTestTracker(t, TrackerConfig{})
	req := mustBegin(t, tr, t0, "topic", "west")
	other := func(f func(*SnapshotResponse)) SnapshotResponse {
		r := answer(req, "west", 1)
		f(&r)
		return r
	}
	cases := map[string]struct {
		resp SnapshotResponse
		want Outcome
	}{
		"another requester":  {other(func(r *SnapshotResponse) { r.Requester = "north" }), NotOurs},
		"unknown id":         {other(func(r *SnapshotResponse) { r.ID = "east-1-99" }), UnknownID},
		"previous instance":  {other(func(r *SnapshotResponse) { r.ID = "east-0-1" }), UnknownID},
		"wrong topic":        {other(func(r *SnapshotResponse) { r.Topic = "elsewhere" }), WrongTopic},
		"not asked":          {other(func(r *SnapshotResponse) { r.Responder = "south" }), UnexpectedResponder},
		"local as responder": {other(func(r *SnapshotResponse) { r.Responder = "east" }), UnexpectedResponder},
	}
	for name, c := range cases {
		got := tr.OnResponse(t0.Add(time.Second), c.resp)
		if got.Outcome != c.want || got.Complete || got.Mapping != (Mapping{}) || got.RoundTrip != 0 {
			t.Errorf("%s: %+v, want only outcome %v", name, got, c.want)
		}
	}
	if got := tr.OnResponse(t0.Add(time.Second), answer(req, "west", 1)); got.Outcome != Accepted || !got.Complete {
		t.Fatalf("ignored responses disturbed the request: %+v", got)
	}
}

func TestTimeoutBoundary(t *testing.T) {
	tr := newTestTracker(t, TrackerConfig{})
	req := mustBegin(t, tr, t0, "topic", "west", "north", "south")
	justBefore := t0.Add(DefaultTimeout - time.Millisecond)
	if got := tr.OnResponse(justBefore, answer(req, "west", 1)); got.Outcome != Accepted {
		t.Fatalf("answer 1 ms before the timeout: %+v, want accepted", got)
	}
	if got := tr.Tick(justBefore); len(got) != 0 {
		t.Fatalf("Tick before the timeout abandoned %+v", got)
	}
	atTimeout := t0.Add(DefaultTimeout)
	if got := tr.OnResponse(atTimeout, answer(req, "north", 1)); got.Outcome != Late {
		t.Fatalf("answer at the timeout, before Tick: %+v, want late", got)
	}
	got := tr.Tick(atTimeout)
	want := []Abandoned{{ID: req.ID, Topic: "topic", Reason: Expired, Missing: []string{"north", "south"}, Age: DefaultTimeout}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Tick at the timeout: %+v, want %+v", got, want)
	}
	if got := tr.OnResponse(atTimeout, answer(req, "south", 1)); got.Outcome != Late {
		t.Fatalf("answer after expiry: %+v, want late", got)
	}
	if got := tr.Tick(atTimeout.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("expired twice: %+v", got)
	}
}

func TestConfiguredTimeout(t *testing.T) {
	tr := newTestTracker(t, TrackerConfig{Timeout: 5 * time.Second})
	req := mustBegin(t, tr, t0, "topic", "west")
	if got := tr.Tick(t0.Add(5 * time.Second)); len(got) != 1 || got[0].ID != req.ID {
		t.Fatalf("Tick at the configured 5 s: %+v", got)
	}
}

func TestEvictionOfOldest(t *testing.T) {
	tr := newTestTracker(t, TrackerConfig{MaxPending: 2})
	r1 := mustBegin(t, tr, t0, "a", "west", "north")
	r2 := mustBegin(t, tr, t0.Add(time.Second), "b", "west")
	if got := tr.OnResponse(t0.Add(2*time.Second), answer(r1, "west", 1)); got.Outcome != Accepted {
		t.Fatal(got)
	}
	r3, evicted, err := tr.Begin(t0.Add(3*time.Second), "c", pos(1, 1), []string{"west"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Abandoned{{ID: r1.ID, Topic: "a", Reason: Evicted, Missing: []string{"north"}, Age: 3 * time.Second}}
	if !reflect.DeepEqual(evicted, want) {
		t.Fatalf("evicted %+v, want %+v", evicted, want)
	}
	if got := tr.OnResponse(t0.Add(4*time.Second), answer(r1, "north", 1)); got.Outcome != Late {
		t.Fatalf("answer to an evicted request: %+v, want late", got)
	}
	for _, r := range []SnapshotRequest{r2, r3} {
		if got := tr.OnResponse(t0.Add(4*time.Second), answer(r, "west", 1)); got.Outcome != Accepted || !got.Complete {
			t.Fatalf("answer to %s: %+v, want accepted and complete", r.ID, got)
		}
	}
}

func TestFinishedIDsAreForgottenBeyondTheBound(t *testing.T) {
	tr := newTestTracker(t, TrackerConfig{MaxRemembered: 2})
	var reqs []SnapshotRequest
	for range 3 {
		r := mustBegin(t, tr, t0, "topic", "west")
		tr.OnResponse(t0, answer(r, "west", 1))
		reqs = append(reqs, r)
	}
	wants := []Outcome{UnknownID, Late, Late}
	for i, r := range reqs {
		if got := tr.OnResponse(t0, answer(r, "west", 1)); got.Outcome != wants[i] {
			t.Errorf("request %d: %v, want %v", i, got.Outcome, wants[i])
		}
	}
}

func TestClockGoingBackwards(t *testing.T) {
	tr := newTestTracker(t, TrackerConfig{})
	req := mustBegin(t, tr, t0, "topic", "west")
	got := tr.OnResponse(t0.Add(-time.Minute), answer(req, "west", 1))
	if got.Outcome != Accepted || got.RoundTrip != 0 {
		t.Fatalf("answer stamped before the request: %+v, want accepted with rtt 0", got)
	}
}

func TestMappingDoesNotAliasResponse(t *testing.T) {
	tr := newTestTracker(t, TrackerConfig{})
	req := mustBegin(t, tr, t0, "topic", "west")
	resp := answer(req, "west", 1)
	got := tr.OnResponse(t0, resp)
	resp.Watermark.Entry = 999
	if got.Mapping.Watermark.Entry != 1 {
		t.Fatalf("mapping shares the response's watermark")
	}
	noWM := answer(mustBegin(t, tr, t0, "topic", "west"), "west", 1)
	noWM.Watermark = nil
	if got := tr.OnResponse(t0, noWM); got.Outcome != Accepted || got.Mapping.Watermark != nil {
		t.Fatalf("absent watermark: %+v, want accepted with nil watermark", got)
	}
}

func TestOutcomeAndReasonNames(t *testing.T) {
	seen := map[string]bool{}
	for o := Accepted; o <= UnexpectedResponder; o++ {
		seen[o.String()] = true
	}
	for _, r := range []AbandonReason{Expired, Evicted} {
		seen[r.String()] = true
	}
	if len(seen) != 9 {
		t.Fatalf("names are not distinct: %v", seen)
	}
}

func TestRespond(t *testing.T) {
	req := *sampleRequest()
	state := ResponderState{Cluster: "west", LAC: pos(2001, 77), Watermark: posPtr(1687807, 6990)}
	now := time.UnixMilli(1700000000456)
	resp, ok := Respond(now, req, state)
	if !ok || !reflect.DeepEqual(&resp, sampleResponse()) {
		t.Fatalf("Respond = %+v, %v; want %+v", resp, ok, sampleResponse())
	}
	state.Watermark.Entry = 1
	if resp.Watermark.Entry != 6990 {
		t.Fatal("response shares the state's watermark")
	}
	state.Watermark = nil
	if resp, ok := Respond(now, req, state); !ok || resp.Watermark != nil {
		t.Fatalf("no watermark: %+v, %v", resp, ok)
	}
	state.Cluster = req.Requester
	if resp, ok := Respond(now, req, state); ok {
		t.Fatalf("answered its own request: %+v", resp)
	}
}

// The responder's answer, sent through the wire, completes the requester's
// round: the two sides agree on every field the tracker checks.
func TestRequestResponseThroughTheWire(t *testing.T) {
	tr := newTestTracker(t, TrackerConfig{})
	req := mustBegin(t, tr, t0, "persistent://t/ns/x-partition-0", "west")
	reqMsg, err := Decode(mustEncode(t, &req, testKey), testRing)
	if err != nil {
		t.Fatal(err)
	}
	resp, ok := Respond(t0.Add(time.Second), *reqMsg.(*SnapshotRequest), ResponderState{Cluster: "west", LAC: pos(4, 5)})
	if !ok {
		t.Fatal("west refused to answer")
	}
	respMsg, err := Decode(mustEncode(t, &resp, testKey), testRing)
	if err != nil {
		t.Fatal(err)
	}
	got := tr.OnResponse(t0.Add(2*time.Second), *respMsg.(*SnapshotResponse))
	if got.Outcome != Accepted || !got.Complete || got.Mapping.RemoteLAC != pos(4, 5) || got.Mapping.LocalLAC != pos(10, 20) {
		t.Fatalf("round trip through the wire: %+v", got)
	}
}
