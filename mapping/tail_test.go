package mapping

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/subsync/subsync/ackset"
)

const topicA = "persistent://t/ns/topic-partition-3"

func TestAppendTailStoresRunsAndCheckpoint(t *testing.T) {
	s := openTestStore(t)
	r1, r2 := mkRun(5, 0, "east", 9, 100, 10), mkRun(5, 12, "west", 3, 0, 5)
	mustAppendTail(t, s, topicA, pos(5, 20), r1, r2)
	assertRuns(t, s, topicA, r1, r2)
	cp, ok, err := s.TailCheckpoint(topicA)
	if err != nil || !ok || cp != pos(5, 20) {
		t.Fatalf("TailCheckpoint = %s, %t, %v; want 5:20", cp, ok, err)
	}
	last, ok, err := s.LastRun(topicA)
	if err != nil || !ok || last != r2 {
		t.Fatalf("LastRun = %v, %t, %v; want %v", last, ok, err, r2)
	}
	mustCheck(t, s, topicA)
}

func TestAppendTailEmptyTopic(t *testing.T) {
	s := openTestStore(t)
	if _, ok, err := s.TailCheckpoint(topicA); ok || err != nil {
		t.Fatalf("TailCheckpoint of an unknown topic: %t, %v", ok, err)
	}
	if _, ok, err := s.LastRun(topicA); ok || err != nil {
		t.Fatalf("LastRun of an unknown topic: %t, %v", ok, err)
	}
	if _, ok, err := s.LookupEntry(topicA, pos(1, 1)); ok || err != nil {
		t.Fatalf("LookupEntry of an unknown topic: %t, %v", ok, err)
	}
	mustAppendTail(t, s, topicA, pos(3, 7))
	assertRuns(t, s, topicA)
	if cp, ok, _ := s.TailCheckpoint(topicA); !ok || cp != pos(3, 7) {
		t.Fatalf("checkpoint without runs not stored: %s, %t", cp, ok)
	}
}

func TestAppendTailMergesAcrossAppends(t *testing.T) {
	s := openTestStore(t)
	var b RunBuilder
	appendRange := func(ledger, from, to int64, origin string, oLedger, oFrom int64) {
		t.Helper()
		for e := from; e <= to; e++ {
			if err := b.Append(pos(ledger, e), eid(origin, oLedger, oFrom+e-from)); err != nil {
				t.Fatal(err)
			}
		}
		last, _ := b.Last()
		mustAppendTail(t, s, topicA, last, b.Flush()...)
	}
	appendRange(5, 0, 9, "east", 9, 100)
	appendRange(5, 10, 19, "east", 9, 110) // continues: merged
	appendRange(5, 20, 20, "east", 9, 120) // continues: merged
	appendRange(6, 0, 4, "east", 9, 121)   // local ledger roll-over: new run
	appendRange(6, 5, 6, "east", 9, 200)   // origin gap: new run
	assertRuns(t, s, topicA,
		mkRun(5, 0, "east", 9, 100, 21),
		mkRun(6, 0, "east", 9, 121, 5),
		mkRun(6, 5, "east", 9, 200, 2),
	)
	mustCheck(t, s, topicA)
	if st, err := s.Stats(); err != nil || st.Runs != 3 || st.Topics != 1 {
		t.Fatalf("Stats = %+v, %v; want 3 runs in 1 topic", st, err)
	}
}

func TestAppendTailDoesNotMergeAcrossCheckpointGap(t *testing.T) {
	s := openTestStore(t)
	mustAppendTail(t, s, topicA, pos(5, 9), mkRun(5, 0, "east", 9, 100, 5))
	// 5:5..5:9 were read but not mapped; 5:10 cannot continue 5:4.
	mustAppendTail(t, s, topicA, pos(5, 10), mkRun(5, 10, "east", 9, 105, 1))
	assertRuns(t, s, topicA, mkRun(5, 0, "east", 9, 100, 5), mkRun(5, 10, "east", 9, 105, 1))
	mustCheck(t, s, topicA)
}

func TestAppendTailCoalescesWithinOneCall(t *testing.T) {
	s := openTestStore(t)
	mustAppendTail(t, s, topicA, pos(1, 5), mkRun(1, 0, "east", 2, 0, 3), mkRun(1, 3, "east", 2, 3, 3))
	assertRuns(t, s, topicA, mkRun(1, 0, "east", 2, 0, 6))
	mustCheck(t, s, topicA)
}

func TestAppendTailRejectsRewritingThePast(t *testing.T) {
	s := openTestStore(t)
	mustAppendTail(t, s, topicA, pos(5, 20), mkRun(5, 0, "east", 9, 100, 10))
	cases := []struct {
		name string
		runs []Run
		cp   ackset.Position
		want string
	}{
		{"checkpoint backwards", nil, pos(5, 19), "before the stored checkpoint"},
		{"run at the checkpoint", []Run{mkRun(5, 20, "east", 9, 110, 1)}, pos(5, 20), "does not start after the stored checkpoint"},
		{"run inside stored run", []Run{mkRun(5, 5, "east", 9, 105, 1)}, pos(5, 30), "does not start after the stored checkpoint"},
		{"checkpoint before run end", []Run{mkRun(5, 21, "east", 9, 110, 5)}, pos(5, 22), "before the end"},
		{"unsorted runs", []Run{mkRun(5, 30, "east", 9, 1, 1), mkRun(5, 25, "east", 9, 2, 1)}, pos(5, 40), "starts at or before"},
		{"overlapping runs", []Run{mkRun(5, 30, "east", 9, 1, 3), mkRun(5, 32, "east", 9, 2, 1)}, pos(5, 40), "starts at or before"},
		{"zero count", []Run{mkRun(5, 30, "east", 9, 1, 0)}, pos(5, 40), "count"},
		{"empty origin", []Run{mkRun(5, 30, "", 9, 1, 1)}, pos(5, 40), "origin"},
		{"negative origin ledger", []Run{mkRun(5, 30, "east", -1, 1, 1)}, pos(5, 40), "ledger"},
		{"local entry overflow", []Run{mkRun(5, math.MaxInt64, "east", 9, 1, 2)}, maxPosition, "overflow"},
	}
	for _, c := range cases {
		err := s.AppendTail(topicA, c.runs, c.cp)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.want)
		}
	}
	if err := s.AppendTail("", nil, pos(1, 1)); err == nil {
		t.Errorf("empty topic name accepted")
	}
	assertRuns(t, s, topicA, mkRun(5, 0, "east", 9, 100, 10))
	if cp, _, _ := s.TailCheckpoint(topicA); cp != pos(5, 20) {
		t.Fatalf("rejected writes moved the checkpoint to %s", cp)
	}
	mustCheck(t, s, topicA)
}

func TestLookupEntryAtRunEdges(t *testing.T) {
	s := openTestStore(t)
	mustAppendTail(t, s, topicA, pos(6, 0),
		mkRun(5, 10, "east", 9, 100, 5), // 5:10..5:14
		mkRun(5, 15, "west", 2, 7, 1),   // 5:15
		mkRun(6, 0, "east", 9, 105, 1),  // 6:0
	)
	found := map[ackset.Position]ackset.EntryID{
		pos(5, 10): eid("east", 9, 100),
		pos(5, 12): eid("east", 9, 102),
		pos(5, 14): eid("east", 9, 104),
		pos(5, 15): eid("west", 2, 7),
		pos(6, 0):  eid("east", 9, 105),
	}
	for p, want := range found {
		got, ok, err := s.LookupEntry(topicA, p)
		if err != nil || !ok || got != want {
			t.Errorf("LookupEntry(%s) = %s, %t, %v; want %s", p, got, ok, err, want)
		}
	}
	for _, p := range []ackset.Position{pos(5, 9), pos(5, 16), pos(4, 12), pos(6, 1), pos(6, -1), pos(7, 0), pos(-1, -1), maxPosition, minPosition} {
		if got, ok, err := s.LookupEntry(topicA, p); ok || err != nil {
			t.Errorf("LookupEntry(%s) = %s, %t, %v; want not found", p, got, ok, err)
		}
	}
}

func TestLocalPositionsReverseLookup(t *testing.T) {
	s := openTestStore(t)
	mustAppendTail(t, s, topicA, pos(6, 0),
		mkRun(5, 10, "east", 9, 100, 5), // east/9:100..104
		mkRun(5, 15, "west", 9, 100, 1), // same ledger/entry, other origin
		mkRun(5, 16, "east", 9, 110, 3), // east/9:110..112
		mkRun(6, 0, "east", 10, 0, 1),
	)
	cases := map[ackset.EntryID][]ackset.Position{
		eid("east", 9, 100):  {pos(5, 10)},
		eid("east", 9, 104):  {pos(5, 14)},
		eid("west", 9, 100):  {pos(5, 15)},
		eid("east", 9, 110):  {pos(5, 16)},
		eid("east", 9, 112):  {pos(5, 18)},
		eid("east", 10, 0):   {pos(6, 0)},
		eid("east", 9, 99):   {},
		eid("east", 9, 105):  {},
		eid("east", 9, 109):  {},
		eid("east", 9, 113):  {},
		eid("west", 9, 101):  {},
		eid("east", 8, 100):  {},
		eid("east", 10, 1):   {},
		eid("south", 9, 100): {},
	}
	for id, want := range cases {
		got, err := s.LocalPositions(topicA, id)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("LocalPositions(%s) = %v, %v; want %v", id, got, err, want)
		}
	}
	// The reverse index agrees with the forward one at every mapped entry.
	for _, r := range allRuns(t, s, topicA) {
		for i := range r.Count {
			p := pos(r.Local.Ledger, r.Local.Entry+i)
			id, ok, err := s.LookupEntry(topicA, p)
			if err != nil || !ok {
				t.Fatalf("LookupEntry(%s): %t, %v", p, ok, err)
			}
			back, err := s.LocalPositions(topicA, id)
			if err != nil || !slices.Equal(back, []ackset.Position{p}) {
				t.Fatalf("LocalPositions(%s) = %v, %v; want [%s]", id, back, err, p)
			}
		}
	}
}

func TestOriginRunsRange(t *testing.T) {
	s := openTestStore(t)
	a, b, c := mkRun(5, 0, "east", 9, 0, 10), mkRun(5, 10, "west", 1, 0, 1), mkRun(5, 11, "east", 9, 20, 10)
	mustAppendTail(t, s, topicA, pos(5, 30), a, b, c)
	cases := []struct {
		from, to int64
		want     []Run
	}{
		{0, 100, []Run{a, c}},
		{9, 20, []Run{a, c}},
		{10, 19, nil},
		{5, 5, []Run{a}},
		{29, 29, []Run{c}},
		{30, 40, nil},
		{7, 3, nil},
	}
	for _, cs := range cases {
		got, err := s.OriginRuns(topicA, "east", 9, cs.from, cs.to)
		if err != nil || !equalRuns(got, cs.want) {
			t.Errorf("OriginRuns(east, 9, %d, %d) = %v, %v; want %v", cs.from, cs.to, got, err, cs.want)
		}
	}
}

// The replicator can re-send entries; every local copy must be found.
func TestDuplicatedOriginEntries(t *testing.T) {
	s := openTestStore(t)
	first := mkRun(5, 0, "east", 9, 0, 100)   // east/9:0..99
	local := mkRun(5, 100, "here", 5, 100, 1) // a local write
	resent := mkRun(5, 101, "east", 9, 10, 5) // east/9:10..14 again
	after := mkRun(5, 106, "east", 9, 100, 5) // east/9:100..104
	mustAppendTail(t, s, topicA, pos(5, 100), first, local)
	mustAppendTail(t, s, topicA, pos(5, 110), resent, after)
	mustCheck(t, s, topicA)
	cases := map[int64][]ackset.Position{
		9:   {pos(5, 9)},
		10:  {pos(5, 10), pos(5, 101)},
		14:  {pos(5, 14), pos(5, 105)},
		15:  {pos(5, 15)},
		50:  {pos(5, 50)}, // nearest run below (resent) does not hold it
		99:  {pos(5, 99)},
		100: {pos(5, 106)},
		105: {},
	}
	for e, want := range cases {
		got, err := s.LocalPositions(topicA, eid("east", 9, e))
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("LocalPositions(east/9:%d) = %v, %v; want %v", e, got, err, want)
		}
	}
	if _, found, _ := s.get(s.db, overlapKey(topicA, "east", 9)); !found {
		t.Fatalf("overlap of east/9 not flagged")
	}
	if _, found, _ := s.get(s.db, overlapKey(topicA, "here", 5)); found {
		t.Fatalf("origin ledger without overlap flagged")
	}
}

func TestOverlapOfOneEntryIsFlagged(t *testing.T) {
	s := openTestStore(t)
	mustAppendTail(t, s, topicA, pos(5, 9), mkRun(5, 0, "east", 9, 0, 10))  // east/9:0..9
	mustAppendTail(t, s, topicA, pos(5, 20), mkRun(5, 11, "east", 9, 9, 4)) // east/9:9..12
	mustCheck(t, s, topicA)
	got, err := s.LocalPositions(topicA, eid("east", 9, 9))
	if want := []ackset.Position{pos(5, 9), pos(5, 11)}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("LocalPositions(east/9:9) = %v, %v; want %v", got, err, want)
	}
}

func TestAdjacentOriginRangesAreNotFlagged(t *testing.T) {
	s := openTestStore(t)
	// Same origin ledger, consecutive origin entries, but a local gap.
	mustAppendTail(t, s, topicA, pos(5, 9), mkRun(5, 0, "east", 9, 0, 10))
	mustAppendTail(t, s, topicA, pos(5, 20), mkRun(5, 11, "east", 9, 10, 4))
	if _, found, _ := s.get(s.db, overlapKey(topicA, "east", 9)); found {
		t.Fatalf("adjacent, disjoint origin ranges flagged as overlapping")
	}
	mustCheck(t, s, topicA)
}

func TestPruneMidRun(t *testing.T) {
	s := openTestStore(t)
	a, b, c := mkRun(4, 0, "east", 8, 0, 10), mkRun(5, 0, "east", 9, 100, 10), mkRun(5, 10, "west", 1, 0, 10)
	mustAppendTail(t, s, topicA, pos(5, 19), a, b, c)
	if err := s.Prune(topicA, pos(5, 4)); err != nil {
		t.Fatal(err)
	}
	trimmed := mkRun(5, 4, "east", 9, 104, 6)
	assertRuns(t, s, topicA, trimmed, c)
	mustCheck(t, s, topicA)
	if _, ok, _ := s.LookupEntry(topicA, pos(5, 3)); ok {
		t.Errorf("pruned position 5:3 still mapped")
	}
	if id, ok, _ := s.LookupEntry(topicA, pos(5, 4)); !ok || id != eid("east", 9, 104) {
		t.Errorf("LookupEntry(5:4) = %s, %t after prune", id, ok)
	}
	for e, want := range map[int64][]ackset.Position{103: {}, 104: {pos(5, 4)}, 109: {pos(5, 9)}} {
		if got, err := s.LocalPositions(topicA, eid("east", 9, e)); err != nil || !slices.Equal(got, want) {
			t.Errorf("LocalPositions(east/9:%d) = %v, %v; want %v", e, got, err, want)
		}
	}
	if got, _ := s.LocalPositions(topicA, eid("east", 8, 5)); len(got) != 0 {
		t.Errorf("pruned run still in the reverse index: %v", got)
	}
	if cp, _, _ := s.TailCheckpoint(topicA); cp != pos(5, 19) {
		t.Errorf("Prune moved the checkpoint to %s", cp)
	}
	if st, _ := s.Stats(); st.Runs != 2 {
		t.Errorf("Stats().Runs = %d after prune, want 2", st.Runs)
	}
}

func TestPruneBoundaries(t *testing.T) {
	a, b := mkRun(5, 0, "east", 9, 0, 10), mkRun(5, 10, "west", 1, 0, 10)
	cases := []struct {
		below ackset.Position
		want  []Run
	}{
		{pos(4, 99), []Run{a, b}},
		{pos(5, 0), []Run{a, b}},
		{pos(5, 1), []Run{mkRun(5, 1, "east", 9, 1, 9), b}},
		{pos(5, 9), []Run{mkRun(5, 9, "east", 9, 9, 1), b}},
		{pos(5, 10), []Run{b}},
		{pos(5, 19), []Run{mkRun(5, 19, "west", 1, 9, 1)}},
		{pos(5, 20), nil},
		{pos(6, 0), nil},
	}
	for _, c := range cases {
		s := openTestStore(t)
		mustAppendTail(t, s, topicA, pos(5, 19), a, b)
		if err := s.Prune(topicA, c.below); err != nil {
			t.Fatal(err)
		}
		assertRuns(t, s, topicA, c.want...)
		mustCheck(t, s, topicA)
	}
}

func TestPruneThenAppendStillMerges(t *testing.T) {
	s := openTestStore(t)
	mustAppendTail(t, s, topicA, pos(5, 9), mkRun(5, 0, "east", 9, 0, 10))
	if err := s.Prune(topicA, pos(5, 5)); err != nil {
		t.Fatal(err)
	}
	mustAppendTail(t, s, topicA, pos(5, 12), mkRun(5, 10, "east", 9, 10, 3))
	assertRuns(t, s, topicA, mkRun(5, 5, "east", 9, 5, 8))
	mustCheck(t, s, topicA)
}

func TestPruneDropsOverlapFlagWithLastRun(t *testing.T) {
	s := openTestStore(t)
	mustAppendTail(t, s, topicA, pos(5, 20), mkRun(5, 0, "east", 9, 0, 10), mkRun(5, 11, "east", 9, 5, 5))
	if _, found, _ := s.get(s.db, overlapKey(topicA, "east", 9)); !found {
		t.Fatalf("overlap not flagged")
	}
	if err := s.Prune(topicA, pos(5, 12)); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := s.get(s.db, overlapKey(topicA, "east", 9)); !found {
		t.Fatalf("flag dropped while runs of east/9 remain")
	}
	if err := s.Prune(topicA, pos(6, 0)); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := s.get(s.db, overlapKey(topicA, "east", 9)); found {
		t.Fatalf("flag kept after every run of east/9 was pruned")
	}
	mustCheck(t, s, topicA)
}

func TestScanRunsInterval(t *testing.T) {
	s := openTestStore(t)
	a, b, c := mkRun(4, 0, "east", 8, 0, 10), mkRun(5, 0, "east", 9, 0, 10), mkRun(5, 20, "east", 9, 10, 10)
	mustAppendTail(t, s, topicA, pos(5, 29), a, b, c)
	cases := []struct {
		from, to ackset.Position
		want     []Run
	}{
		{minPosition, maxPosition, []Run{a, b, c}},
		{pos(4, 9), pos(5, 0), []Run{a, b}},
		{pos(4, 10), pos(5, 19), []Run{b}},
		{pos(5, 10), pos(5, 19), nil},
		{pos(5, 5), pos(5, 5), []Run{b}},
		{pos(5, 29), pos(9, 0), []Run{c}},
		{pos(5, 30), maxPosition, nil},
		{pos(5, 20), pos(5, 0), nil},
	}
	for _, cs := range cases {
		got, err := s.Runs(topicA, cs.from, cs.to)
		if err != nil || !equalRuns(got, cs.want) {
			t.Errorf("Runs(%s, %s) = %v, %v; want %v", cs.from, cs.to, got, err, cs.want)
		}
	}
	var seen []Run
	err := s.ScanRuns(topicA, minPosition, maxPosition, func(r Run) bool {
		seen = append(seen, r)
		return len(seen) < 2
	})
	if err != nil || !equalRuns(seen, []Run{a, b}) {
		t.Fatalf("ScanRuns stopped early: %v, %v; want %v", seen, err, []Run{a, b})
	}
}

func TestTopicsDoNotInterfere(t *testing.T) {
	s := openTestStore(t)
	topics := []string{
		"persistent://t/ns/topic",
		"persistent://t/ns/topic-partition-1",
		"persistent://t/ns/topic-partition-10",
		"t",
		"t\x00",
		"t\x00r",
		"\xff\xff",
		"名前/トピック",
		strings.Repeat("z", 300),
	}
	for i, topic := range topics {
		n := int64(i + 1)
		mustAppendTail(t, s, topic, pos(n, 100), mkRun(n, 0, "east", n, 0, n), mkRun(n, 50, "west", n, 0, 1))
	}
	for i, topic := range topics {
		n := int64(i + 1)
		assertRuns(t, s, topic, mkRun(n, 0, "east", n, 0, n), mkRun(n, 50, "west", n, 0, 1))
		mustCheck(t, s, topic)
		if got, _ := s.LocalPositions(topic, eid("east", n, 0)); !slices.Equal(got, []ackset.Position{pos(n, 0)}) {
			t.Errorf("%q: LocalPositions = %v", topic, got)
		}
	}
	got, err := s.Topics()
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(topics)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("Topics = %q, want %q", got, want)
	}
	if err := s.Prune(topics[3], pos(100, 0)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTopic(topics[4]); err != nil {
		t.Fatal(err)
	}
	assertRuns(t, s, topics[3])
	assertRuns(t, s, topics[4])
	assertRuns(t, s, topics[5], mkRun(6, 0, "east", 6, 0, 6), mkRun(6, 50, "west", 6, 0, 1))
	assertRuns(t, s, topics[2], mkRun(3, 0, "east", 3, 0, 3), mkRun(3, 50, "west", 3, 0, 1))
	if got, _ := s.Topics(); slices.Contains(got, topics[4]) || !slices.Contains(got, topics[3]) {
		t.Fatalf("Topics after delete = %q", got)
	}
	st, err := s.Stats()
	if err != nil || st.Topics != len(topics)-1 || st.Runs != int64(2*len(topics)-4) || st.DiskBytes == 0 {
		t.Fatalf("Stats = %+v, %v", st, err)
	}
}

func TestCheckTopicDetectsDamage(t *testing.T) {
	damage := map[string]func(s *Store) error{
		"missing reverse record": func(s *Store) error {
			return s.db.Delete(reverseKey(topicA, mkRun(5, 0, "east", 9, 0, 10)), nil)
		},
		"stray reverse record": func(s *Store) error {
			return s.db.Set(reverseKey(topicA, mkRun(7, 0, "east", 9, 50, 1)), encodeCountValue(1), nil)
		},
		"reverse count differs": func(s *Store) error {
			return s.db.Set(reverseKey(topicA, mkRun(5, 0, "east", 9, 0, 10)), encodeCountValue(9), nil)
		},
		"run beyond checkpoint": func(s *Store) error {
			return s.db.Set(checkpointKey(topicA), encodePositionValue(pos(5, 12)), nil)
		},
		"wrong run count": func(s *Store) error {
			return s.db.Set(metaKey(topicA), encodeCountValue(3), nil)
		},
		"corrupt run value": func(s *Store) error {
			return s.db.Set(runKey(topicA, pos(5, 0)), []byte{2, 10}, nil)
		},
		"unflagged overlap": func(s *Store) error {
			return s.db.Delete(overlapKey(topicA, "east", 9), nil)
		},
	}
	for name, fn := range damage {
		t.Run(name, func(t *testing.T) {
			s := openTestStore(t)
			mustAppendTail(t, s, topicA, pos(5, 30), mkRun(5, 0, "east", 9, 0, 10), mkRun(5, 20, "east", 9, 5, 10))
			mustCheck(t, s, topicA)
			if err := fn(s); err != nil {
				t.Fatal(err)
			}
			if err := s.CheckTopic(topicA); err == nil {
				t.Fatalf("CheckTopic accepted a store with %s", name)
			}
		})
	}
}

func TestCorruptRunIsAnErrorNotAPanic(t *testing.T) {
	s := openTestStore(t)
	mustAppendTail(t, s, topicA, pos(5, 9), mkRun(5, 0, "east", 9, 0, 10))
	if err := s.db.Set(runKey(topicA, pos(5, 0)), []byte{1, 0x80}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.LookupEntry(topicA, pos(5, 3)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("LookupEntry: err = %v, want ErrCorrupt", err)
	}
	if _, err := s.Runs(topicA, minPosition, maxPosition); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Runs: err = %v, want ErrCorrupt", err)
	}
	if err := s.AppendTail(topicA, []Run{mkRun(5, 10, "east", 9, 10, 1)}, pos(5, 10)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("AppendTail: err = %v, want ErrCorrupt", err)
	}
}

func TestReadsRejectBadNames(t *testing.T) {
	s := openTestStore(t)
	long := strings.Repeat("t", maxNameLen+1)
	// A name whose length wraps the 2-byte prefix must not alias another.
	mustAppendTail(t, s, "t", pos(1, 0), mkRun(1, 0, "east", 1, 0, 1))
	for _, topic := range []string{"", long} {
		if _, _, err := s.LookupEntry(topic, pos(1, 0)); err == nil {
			t.Errorf("LookupEntry(%d-byte topic) accepted", len(topic))
		}
		if _, err := s.Runs(topic, minPosition, maxPosition); err == nil {
			t.Errorf("Runs(%d-byte topic) accepted", len(topic))
		}
		if _, err := s.LocalPositions(topic, eid("east", 1, 0)); err == nil {
			t.Errorf("LocalPositions(%d-byte topic) accepted", len(topic))
		}
		if _, _, err := s.TailCheckpoint(topic); err == nil {
			t.Errorf("TailCheckpoint(%d-byte topic) accepted", len(topic))
		}
		if _, _, err := s.LastRun(topic); err == nil {
			t.Errorf("LastRun(%d-byte topic) accepted", len(topic))
		}
		if err := s.CheckTopic(topic); err == nil {
			t.Errorf("CheckTopic(%d-byte topic) accepted", len(topic))
		}
	}
	if _, err := s.LocalPositions("t", eid("", 1, 0)); err == nil {
		t.Errorf("LocalPositions with an empty origin accepted")
	}
}
