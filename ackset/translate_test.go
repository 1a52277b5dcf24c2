package ackset

import (
	"math/rand"
	"slices"
	"testing"
)

const localCluster = "local"

// localEntry is one entry of a generated local topic.
type localEntry struct {
	pos     Position
	id      EntryID
	covered bool // whether the tail index (the runs) knows it
}

// randomTopic generates a local topic partition: a few ledgers mixing local
// writes with entries replicated from two remotes (with skipped entries,
// origin ledger switches and replayed duplicates), stretches the tail index
// does not cover, and the runs that index the covered entries, split at
// random as a real index may be.
func randomTopic(r *rand.Rand) ([]localEntry, []Run) {
	type originState struct {
		ledger, entry int64
		sent          []EntryID
	}
	remotes := map[string]*originState{
		"east": {ledger: int64(r.Intn(5)), entry: int64(r.Intn(3))},
		"west": {ledger: 1_000_000 + int64(r.Intn(5)), entry: 0},
	}
	names := []string{localCluster, "east", "west"}
	source := names[r.Intn(3)]
	var entries []localEntry
	uncovered := 0
	ledger := int64(10 + r.Intn(10))
	for range 1 + r.Intn(4) {
		n := r.Intn(70)
		for e := range int64(n) {
			if r.Intn(5) == 0 {
				source = names[r.Intn(3)]
			}
			p := pos(ledger, e)
			var id EntryID
			if source == localCluster {
				id = EntryID{Origin: localCluster, Ledger: p.Ledger, Entry: p.Entry}
			} else {
				st := remotes[source]
				switch k := r.Intn(40); {
				case k == 0 && len(st.sent) > 0: // replayed duplicate
					id = st.sent[r.Intn(len(st.sent))]
				case k == 1: // origin ledger rolled over
					st.ledger += 1 + int64(r.Intn(3))
					st.entry = int64(r.Intn(2))
				case k <= 4: // entries the replicator skipped
					st.entry += 1 + int64(r.Intn(5))
				}
				if id.Origin == "" {
					id = EntryID{Origin: source, Ledger: st.ledger, Entry: st.entry}
					st.entry++
					st.sent = append(st.sent, id)
				}
			}
			if uncovered == 0 && r.Intn(25) == 0 {
				uncovered = 1 + r.Intn(8)
			}
			entries = append(entries, localEntry{pos: p, id: id, covered: uncovered == 0})
			if uncovered > 0 {
				uncovered--
			}
		}
		ledger += 1 + int64(r.Intn(4))
	}
	return entries, runsFor(r, entries)
}

func runsFor(r *rand.Rand, entries []localEntry) []Run {
	var runs []Run
	for _, e := range entries {
		if !e.covered {
			continue
		}
		if n := len(runs); n > 0 && r.Intn(10) > 0 {
			last := &runs[n-1]
			if last.Local.Ledger == e.pos.Ledger && last.Local.Entry+last.Count == e.pos.Entry &&
				last.Origin == e.id.Origin && last.OriginLedger == e.id.Ledger &&
				last.OriginEntry+last.Count == e.id.Entry {
				last.Count++
				continue
			}
		}
		runs = append(runs, Run{Local: e.pos, Origin: e.id.Origin, OriginLedger: e.id.Ledger, OriginEntry: e.id.Entry, Count: 1})
	}
	return runs
}

// randomCursor returns a mark-delete position and IDM ranges over entries:
// per-ledger ranges as the default broker prints them, cross-ledger ranges
// as the Guava range set does, and sometimes unsorted or overlapping ones.
func randomCursor(r *rand.Rand, entries []localEntry) (Position, []Range) {
	if len(entries) == 0 {
		return pos(r.Int63n(20), int64(r.Intn(5))-1), nil
	}
	var mdp Position
	switch k := r.Intn(4); {
	case k == 0:
		mdp = pos(entries[0].pos.Ledger, -1)
	case k == 1:
		mdp = pos(r.Int63n(30), int64(r.Intn(80))-1) // anywhere, even between ledgers
	default:
		mdp = entries[r.Intn(len(entries))].pos
	}
	density := []int{10, 50, 90}[r.Intn(3)]
	var ranges []Range
	var open *Range
	for i, e := range entries {
		if !mdp.Less(e.pos) || r.Intn(100) >= density {
			open = nil
			continue
		}
		crossLedger := open != nil && i > 0 && entries[i-1].pos.Ledger != e.pos.Ledger
		if open != nil && (crossLedger && r.Intn(2) == 0 || !crossLedger) {
			open.To = e.pos
			continue
		}
		from := pos(e.pos.Ledger, e.pos.Entry-1)
		if e.pos.Entry == 0 && i > 0 && r.Intn(2) == 0 {
			from = entries[i-1].pos // Guava style: the previous ledger's last entry
		}
		ranges = append(ranges, Range{From: from, To: e.pos})
		open = &ranges[len(ranges)-1]
	}
	if len(ranges) > 1 && r.Intn(5) == 0 {
		r.Shuffle(len(ranges), func(i, j int) { ranges[i], ranges[j] = ranges[j], ranges[i] })
		ranges = append(ranges, ranges[0]) // overlapping duplicate
	}
	return mdp, ranges
}

func ackedByCursor(p, mdp Position, ranges []Range) bool {
	if !mdp.Less(p) {
		return true
	}
	for _, r := range ranges {
		if r.Contains(p) {
			return true
		}
	}
	return false
}

// expandLocal lists the positions of ToLocal's ranges, checking their shape.
func expandLocal(t *testing.T, ranges []Range) []Position {
	t.Helper()
	var out []Position
	for i, rg := range ranges {
		ledger, first, last, ok := rg.Entries()
		if !ok || first > last {
			t.Fatalf("ToLocal returned a bad range %s", rg)
		}
		if i > 0 && !ranges[i-1].To.Less(pos(ledger, first-1)) {
			t.Fatalf("ToLocal ranges %s, %s are unordered or not merged", ranges[i-1], rg)
		}
		for e := first; e <= last; e++ {
			out = append(out, pos(ledger, e))
		}
	}
	return out
}

func TestFromCursorToLocalMatchesModel(t *testing.T) {
	r := rand.New(rand.NewSource(42))
	for i := range 400 {
		entries, runs := randomTopic(r)
		mdp, idm := randomCursor(r, entries)

		// Naive model: an EntryID is acked when all its covered copies are.
		allAcked := map[EntryID]bool{}
		for _, e := range entries {
			if !e.covered {
				continue
			}
			acked := ackedByCursor(e.pos, mdp, idm)
			if prev, seen := allAcked[e.id]; seen {
				acked = acked && prev
			}
			allAcked[e.id] = acked
		}
		want := idModel{}
		for id, acked := range allAcked {
			if acked {
				want[id] = true
			}
		}

		got, err := FromCursor(mdp, idm, runs)
		if err != nil {
			t.Fatalf("case %d: FromCursor: %v", i, err)
		}
		if !modelOf(got).equal(want) {
			t.Fatalf("case %d: FromCursor(%s, %v)\n got  %s\n want %v", i, mdp, idm, got, sortedIDs(want))
		}

		// Back to local: exactly the covered positions whose EntryID is
		// acked everywhere; with no duplicates, exactly the acked positions.
		var wantLocal []Position
		for _, e := range entries {
			if e.covered && want[e.id] {
				wantLocal = append(wantLocal, e.pos)
			}
		}
		local, err := ToLocal(got, runs)
		if err != nil {
			t.Fatalf("case %d: ToLocal: %v", i, err)
		}
		if gotLocal := expandLocal(t, local); !slices.Equal(gotLocal, wantLocal) {
			t.Fatalf("case %d: ToLocal = %v\nwant %v", i, gotLocal, wantLocal)
		}
	}
}

func TestToLocalReturnsOnlyExplicitIDs(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for i := range 300 {
		entries, runs := randomTopic(r)
		// A set from another cluster: some of our EntryIDs plus ids we do
		// not have (other ledgers, entries beyond our runs, other origins).
		var s Set
		for _, e := range entries {
			if r.Intn(3) == 0 {
				if err := s.Add(e.id); err != nil {
					t.Fatal(err)
				}
			}
		}
		for range r.Intn(20) {
			junk := EntryID{Origin: []string{"east", "west", "south", localCluster}[r.Intn(4)],
				Ledger: int64(r.Intn(20)), Entry: int64(r.Intn(200))}
			if err := s.Add(junk); err != nil {
				t.Fatal(err)
			}
		}
		var want []Position
		for _, e := range entries {
			if e.covered && s.Contains(e.id) {
				want = append(want, e.pos)
			}
		}
		local, err := ToLocal(s, runs)
		if err != nil {
			t.Fatal(err)
		}
		if got := expandLocal(t, local); !slices.Equal(got, want) {
			t.Fatalf("case %d: ToLocal = %v\nwant %v", i, got, want)
		}
	}
}

func TestFromCursorDuplicateNeedsEveryCopyAcked(t *testing.T) {
	// Local 5:0..5:9 and 6:0..6:9 both carry east/3:100..109 (a replay).
	runs := []Run{
		{Local: pos(5, 0), Origin: "east", OriginLedger: 3, OriginEntry: 100, Count: 10},
		{Local: pos(6, 0), Origin: "east", OriginLedger: 3, OriginEntry: 100, Count: 10},
	}
	// Ledger 5 fully acked; in ledger 6 only entries 0..3.
	got, err := FromCursor(pos(5, 9), []Range{rng(6, -1, 6, 3)}, runs)
	if err != nil {
		t.Fatal(err)
	}
	var want Set
	mustAddRange(t, &want, "east", 3, 100, 103)
	if !got.Equal(want) {
		t.Fatalf("FromCursor = %s, want %s", got, want)
	}
	local, err := ToLocal(got, runs)
	if err != nil {
		t.Fatal(err)
	}
	if wantLocal := []Range{rng(5, -1, 5, 3), rng(6, -1, 6, 3)}; !slices.Equal(local, wantLocal) {
		t.Fatalf("ToLocal = %v, want %v", local, wantLocal)
	}
}

func TestTranslationOfHugeRuns(t *testing.T) {
	// Two runs of 3,000,000 entries each: the work must be per run and per
	// range, so this finishes in milliseconds.
	runs := []Run{
		{Local: pos(100, 0), Origin: "east", OriginLedger: 9, OriginEntry: 0, Count: 3_000_000},
		{Local: pos(101, 0), Origin: localCluster, OriginLedger: 101, OriginEntry: 0, Count: 3_000_000},
	}
	idm := []Range{rng(100, 2_000_000, 100, 2_500_000), rng(100, 2_999_998, 101, 10)}
	got, err := FromCursor(pos(100, 999_999), idm, runs)
	if err != nil {
		t.Fatal(err)
	}
	var want Set
	mustAddRange(t, &want, "east", 9, 0, 999_999)
	mustAddRange(t, &want, "east", 9, 2_000_001, 2_500_000)
	mustAddRange(t, &want, "east", 9, 2_999_999, 2_999_999)
	mustAddRange(t, &want, localCluster, 101, 0, 10)
	if !got.Equal(want) {
		t.Fatalf("FromCursor = %s, want %s", got, want)
	}
	local, err := ToLocal(got, runs)
	if err != nil {
		t.Fatal(err)
	}
	wantLocal := []Range{rng(100, -1, 100, 999_999), rng(100, 2_000_000, 100, 2_500_000),
		rng(100, 2_999_998, 100, 2_999_999), rng(101, -1, 101, 10)}
	if !slices.Equal(local, wantLocal) {
		t.Fatalf("ToLocal = %v, want %v", local, wantLocal)
	}
}

func TestTranslationRejectsBadInput(t *testing.T) {
	good := []Run{{Local: pos(1, 0), Origin: "east", OriginLedger: 1, OriginEntry: 0, Count: 5}}
	unsorted := []Run{good[0], {Local: pos(0, 0), Origin: "east", OriginLedger: 1, OriginEntry: 5, Count: 5}}
	if _, err := FromCursor(pos(0, 0), nil, unsorted); err == nil {
		t.Error("FromCursor accepted unsorted runs")
	}
	if _, err := ToLocal(Set{}, unsorted); err == nil {
		t.Error("ToLocal accepted unsorted runs")
	}
	if _, err := FromCursor(pos(0, 0), []Range{rng(1, 3, 1, 2)}, good); err == nil {
		t.Error("FromCursor accepted an inverted range")
	}
	if s, err := FromCursor(pos(0, 0), nil, nil); err != nil || !s.IsEmpty() {
		t.Errorf("FromCursor with no runs = %s, %v", s, err)
	}
}
