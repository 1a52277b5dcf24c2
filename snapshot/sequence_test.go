package snapshot

import (
	"maps"
	"math"
	"math/rand/v2"
	"testing"
)

func upd(epoch int64, seq uint64, full bool) *Update {
	return &Update{Topic: "t", Subscription: "s", Sender: "east", Epoch: epoch, Sequence: seq, Full: full}
}

func TestSequencerTable(t *testing.T) {
	type step struct {
		u     *Update
		want  Verdict
		apply bool // call Applied after classifying
	}
	cases := map[string][]step{
		"delta without baseline": {{upd(1, 1, false), Gap, false}},
		"full starts a stream":   {{upd(1, 7, true), Apply, true}, {upd(1, 8, false), Apply, true}},
		"duplicates and older": {
			{upd(1, 5, true), Apply, true},
			{upd(1, 5, true), Stale, false},
			{upd(1, 5, false), Stale, false},
			{upd(1, 3, false), Stale, false},
			{upd(1, 4, true), Stale, false},
		},
		"gap then full restores": {
			{upd(1, 5, true), Apply, true},
			{upd(1, 7, false), Gap, false},
			{upd(1, 8, false), Gap, false},
			{upd(1, 6, false), Apply, true}, // a late predecessor still fits
			{upd(1, 9, true), Apply, true},
			{upd(1, 10, false), Apply, true},
			{upd(1, 8, false), Stale, false},
		},
		"sender restart": {
			{upd(100, 40, true), Apply, true},
			{upd(200, 1, false), Gap, false}, // a new incarnation starts from a full state
			{upd(200, 1, true), Apply, true},
			{upd(200, 2, false), Apply, true},
			{upd(100, 41, false), Stale, false}, // late, from the old incarnation
			{upd(100, 99, true), Stale, false},
		},
		"applied refuses non-apply": {
			{upd(1, 5, true), Apply, true},
			{upd(1, 3, true), Stale, true}, // Applied must not rewind
			{upd(1, 6, false), Apply, true},
		},
		"max sequence": {
			{upd(1, math.MaxUint64-1, true), Apply, true},
			{upd(1, math.MaxUint64, false), Apply, true},
			{upd(1, 0, false), Stale, false},
		},
	}
	for name, steps := range cases {
		s := NewSequencer()
		for i, st := range steps {
			if got := s.Classify(st.u); got != st.want {
				t.Fatalf("%s step %d (%+v): %v, want %v", name, i, *st.u, got, st.want)
			}
			if st.apply {
				if ok := s.Applied(st.u); ok != (st.want == Apply) {
					t.Fatalf("%s step %d: Applied = %v for verdict %v", name, i, ok, st.want)
				}
			}
		}
	}
}

func TestSequencerStreamsAreIndependent(t *testing.T) {
	s := NewSequencer()
	a := upd(1, 5, true)
	s.Applied(a)
	for _, other := range []*Update{
		{Topic: "t2", Subscription: "s", Sender: "east", Epoch: 1, Sequence: 6},
		{Topic: "t", Subscription: "s2", Sender: "east", Epoch: 1, Sequence: 6},
		{Topic: "t", Subscription: "s", Sender: "west", Epoch: 1, Sequence: 6},
	} {
		if got := s.Classify(other); got != Gap {
			t.Errorf("%+v shares state with %+v: %v", *other, *a, got)
		}
	}
}

func TestSequencerRestoreAndForget(t *testing.T) {
	s := NewSequencer()
	k := StreamKey{Topic: "t", Subscription: "s", Sender: "east"}
	if _, ok := s.Last(k); ok {
		t.Fatal("new sequencer has state")
	}
	s.Restore(k, Applied{Epoch: 3, Sequence: 9})
	if got := s.Classify(upd(3, 10, false)); got != Apply {
		t.Fatalf("delta after restored state: %v", got)
	}
	s.Applied(upd(3, 10, false))
	if got, _ := s.Last(k); got != (Applied{Epoch: 3, Sequence: 10}) {
		t.Fatalf("Last = %+v", got)
	}
	s.Forget(k)
	if got := s.Classify(upd(3, 11, false)); got != Gap {
		t.Fatalf("delta after Forget: %v, want gap", got)
	}
}

func TestNextEpoch(t *testing.T) {
	cases := []struct{ prev, now, want int64 }{
		{0, 1000, 1000},
		{1000, 2000, 2000},
		{2000, 2000, 2001}, // restarted within the same millisecond
		{5000, 3000, 5001}, // clock went backwards
		// A previous epoch far ahead of the clock is not continued: every
		// receiver would reject its successor (issue 8, finding 9).
		{math.MaxInt64, 1_700_000_000_000, 1_700_000_000_000},
		{1_700_000_000_000 + MaxEpochLead.Milliseconds() + 1, 1_700_000_000_000, 1_700_000_000_000},
		// Within the lead it is continued.
		{1_700_000_000_000 + 5, 1_700_000_000_000, 1_700_000_000_006},
	}
	for _, c := range cases {
		if got := NextEpoch(c.prev, c.now); got != c.want {
			t.Errorf("NextEpoch(%d, %d) = %d, want %d", c.prev, c.now, got, c.want)
		}
	}
}

// sentUpdate is an update with the sender's full state when it was made.
type sentUpdate struct {
	u     *Update
	set   map[int]bool // the update's content: full state, or additions since the previous update
	state map[int]bool // the sender's full state at that update
}

// simulateSender emits updates through restarts: every incarnation starts
// with a full state, then mostly deltas with an occasional full state.
func simulateSender(rng *rand.Rand, n int) []sentUpdate {
	state := map[int]bool{}
	var out []sentUpdate
	var epoch int64
	var seq uint64
	for len(out) < n {
		restart := len(out) == 0 || rng.IntN(40) == 0
		if restart {
			epoch = NextEpoch(epoch, epoch+int64(rng.IntN(3))) // sometimes the clock stands still
			seq = 0
		}
		seq++
		added := map[int]bool{}
		for range rng.IntN(4) {
			v := rng.IntN(10000)
			if !state[v] {
				added[v] = true
				state[v] = true
			}
		}
		full := restart || rng.IntN(10) == 0
		content := added
		if full {
			content = maps.Clone(state)
		}
		u := &Update{Topic: "t", Subscription: "s", Sender: "east", Epoch: epoch, Sequence: seq, Full: full}
		out = append(out, sentUpdate{u: u, set: content, state: maps.Clone(state)})
	}
	return out
}

// deliver loses, duplicates and replays updates the way a control topic
// can: the replicator re-sends a suffix after an error, and a message may
// never arrive.
func deliver(rng *rand.Rand, sent []sentUpdate) []sentUpdate {
	var out []sentUpdate
	for i, s := range sent {
		switch r := rng.IntN(20); {
		case r < 3: // lost
		case r < 5: // re-sent suffix
			from := max(0, i-rng.IntN(5))
			out = append(out, sent[from:i+1]...)
		case r < 6: // a much older message replayed
			out = append(out, sent[rng.IntN(i+1)], s)
		default:
			out = append(out, s)
		}
	}
	return out
}

func later(a, b *Update) bool {
	if a.Epoch != b.Epoch {
		return a.Epoch > b.Epoch
	}
	return a.Sequence > b.Sequence
}

func TestSequencerRandomDelivery(t *testing.T) {
	verdicts := map[Verdict]int{}
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 42))
		sent := simulateSender(rng, 300)
		s := NewSequencer()
		received := map[int]bool{}
		var last *Update
		for _, d := range deliver(rng, sent) {
			v := s.Classify(d.u)
			verdicts[v]++
			mustApply := last == nil && d.u.Full ||
				last != nil && later(d.u, last) && (d.u.Full || d.u.Epoch == last.Epoch && d.u.Sequence == last.Sequence+1)
			if mustApply != (v == Apply) {
				t.Fatalf("seed %d: %+v after %+v: verdict %v", seed, *d.u, last, v)
			}
			if v != Apply {
				continue
			}
			if d.u.Full {
				received = maps.Clone(d.set)
			} else {
				maps.Copy(received, d.set)
			}
			// Safety: what was applied is exactly the sender's state then,
			// never a mix with a missing delta.
			if !maps.Equal(received, d.state) {
				t.Fatalf("seed %d: after applying %+v the receiver has %d entries, the sender had %d",
					seed, *d.u, len(received), len(d.state))
			}
			if !s.Applied(d.u) {
				t.Fatalf("seed %d: Applied refused %+v", seed, *d.u)
			}
			last = d.u
		}
		// Liveness: the sender's final full state always gets through.
		final := sent[len(sent)-1]
		full := &Update{Topic: "t", Subscription: "s", Sender: "east", Epoch: final.u.Epoch,
			Sequence: final.u.Sequence + 1, Full: true}
		if v := s.Classify(full); v != Apply {
			t.Fatalf("seed %d: final full state: %v", seed, v)
		}
	}
	for _, v := range []Verdict{Apply, Stale, Gap} {
		if verdicts[v] == 0 {
			t.Errorf("no delivery was classified %v: %v", v, verdicts)
		}
	}
}

func TestEpochPlausible(t *testing.T) {
	const now = 1_700_000_000_000
	lead := MaxEpochLead.Milliseconds()
	cases := []struct {
		epoch int64
		want  bool
	}{
		{0, true}, {now, true}, {now + lead, true}, {now + lead + 1, false}, {math.MaxInt64, false},
	}
	for _, c := range cases {
		if got := EpochPlausible(c.epoch, now); got != c.want {
			t.Errorf("EpochPlausible(%d, now) = %t, want %t", c.epoch, got, c.want)
		}
	}
}
