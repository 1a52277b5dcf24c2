package ledger

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
)

// The bitset against a map, with ids far from 0 (high entry ids of a big
// ledger) and ranges crossing word boundaries.
func TestBitsetAgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var b bitset
		ref := map[int64]bool{}
		base := int64(r.IntN(3)) * 100_000
		for range 30 {
			from := base + int64(r.IntN(300))
			to := from + int64(r.IntN(140))
			if r.IntN(3) == 0 {
				b.clearRange(from, to)
				for i := from; i < to; i++ {
					delete(ref, i)
				}
			} else {
				b.setRange(from, to)
				for i := from; i < to; i++ {
					ref[i] = true
				}
			}
		}
		var keys []int64
		for k := range ref {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
		for i := base - 70; i < base+520; i++ {
			if b.get(i) != ref[i] {
				t.Fatalf("round %d: get(%d) = %v", round, i, b.get(i))
			}
		}
		if int(b.count()) != len(ref) {
			t.Fatalf("round %d: count %d, want %d", round, b.count(), len(ref))
		}
		wantLast, wantFirst := int64(-1), int64(-1)
		if len(keys) > 0 {
			wantFirst, wantLast = keys[0], keys[len(keys)-1]
		}
		if b.lastSet() != wantLast || b.nextSet(0) != wantFirst || b.empty() != (len(keys) == 0) {
			t.Fatalf("round %d: last %d first %d, want %d %d", round, b.lastSet(), b.nextSet(0), wantLast, wantFirst)
		}
		for _, k := range keys {
			end := k
			for ref[end+1] {
				end++
			}
			if got := b.nextClear(k); got != end+1 {
				t.Fatalf("round %d: nextClear(%d) = %d, want %d", round, k, got, end+1)
			}
		}
	}
}

func TestBitsetWordsAndAnd(t *testing.T) {
	b := bitsetFromWords([]int64{0b1011, 0, 1 << 3, 0})
	if got := b.words(); !equalWords(got, []int64{0b1011, 0, 1 << 3}) {
		t.Errorf("words = %v (trailing zero words must go)", got)
	}
	c := b.and(bitsetFromWords([]int64{0b0110}))
	if got := c.words(); !equalWords(got, []int64{0b0010}) {
		t.Errorf("and = %v", got)
	}
	zero := bitsetFromWords([]int64{0, 0})
	if !zero.empty() || len(bitsetFromWords(nil).words()) != 0 {
		t.Error("zero words must be empty")
	}
	neg := bitsetFromWords([]int64{-1})
	if neg.count() != 64 || !neg.get(63) {
		t.Error("bit 63 of a word (negative int64) lost")
	}
}

// OpenLongPairRangeSet.addOpenClosed across ledgers: the lower ledger is
// only filled up to its highest bit already set, and only when its bitset
// exists; the upper ledger from entry 0.
func TestAddOpenClosedAcrossLedgers(t *testing.T) {
	for _, tc := range []struct {
		setup        [][2]Position
		lower, upper Position
		want         string
	}{
		{nil, pos(1, 9), pos(2, 0), "[(2:-1..2:0]]"},
		{nil, pos(1, 9), pos(2, 3), "[(2:-1..2:3]]"},
		{[][2]Position{{pos(2, 4), pos(2, 5)}, {pos(2, 8), pos(2, 9)}}, pos(2, 6), pos(3, 1), "[(2:4..2:5],(2:6..2:9],(3:-1..3:1]]"},
		{[][2]Position{{pos(2, 4), pos(2, 5)}}, pos(2, 6), pos(3, 0), "[(2:4..2:5],(3:-1..3:0]]"},
		{nil, pos(-1, -1), pos(3, 0), "[(3:-1..3:0]]"},
		{nil, pos(3, 4), pos(3, 4), "[]"},
	} {
		r := newRangeSet()
		for _, s := range tc.setup {
			r.addOpenClosed(s[0], s[1])
		}
		r.addOpenClosed(tc.lower, tc.upper)
		if got := r.String(); got != tc.want {
			t.Errorf("setup %v + (%v..%v] = %s, want %s", tc.setup, tc.lower, tc.upper, got, tc.want)
		}
	}
}

func TestRangeSetRemoveAtMostAndCardinality(t *testing.T) {
	r := newRangeSet()
	for _, p := range []Position{pos(1, 3), pos(1, 4), pos(2, 0), pos(2, 7), pos(3, 1)} {
		r.addOpenClosed(pos(p.Ledger, p.Entry-1), p)
	}
	if got := r.cardinality(pos(1, 4), pos(2, 7)); got != 3 {
		t.Errorf("cardinality [1:4, 2:7] = %d, want 3 (both ends included)", got)
	}
	if got := r.cardinality(pos(1, 5), pos(2, 6)); got != 1 {
		t.Errorf("cardinality [1:5, 2:6] = %d", got)
	}
	r.removeAtMost(pos(2, 0))
	if got := r.String(); got != "[(2:6..2:7],(3:0..3:1]]" || r.size() != 2 {
		t.Errorf("after removeAtMost(2:0): %s size %d", got, r.size())
	}
	if lo, hi, ok := r.firstRange(); !ok || lo != pos(2, 6) || hi != pos(2, 7) {
		t.Errorf("firstRange = %v %v %v", lo, hi, ok)
	}
	if end, ok := r.runEnd(pos(2, 7)); !ok || end != pos(2, 7) {
		t.Errorf("runEnd = %v %v", end, ok)
	}
	if _, ok := r.runEnd(pos(2, 5)); ok {
		t.Error("runEnd of an absent position")
	}
	r.removeAtMost(pos(9, 0))
	if !r.isEmpty() || r.String() != "[]" || len(r.keys) != 0 {
		t.Errorf("not empty: %s %v", r.String(), r.keys)
	}
}

func ExampleCursor_IndividuallyDeletedMessages() {
	ml := New("example", Config{MaxEntriesPerLedger: 4})
	for range 10 {
		ml.Append(Entry{Data: []byte("m")})
	}
	c, _ := ml.OpenCursor("sub", ml.EarliestMarkDelete(), CursorOptions{Durable: true})
	c.Delete(Position{1, 0}, Position{1, 2}, Position{1, 3}, Position{2, 0}, Position{3, 1})
	fmt.Println(c.MarkDeletePosition(), c.IndividuallyDeletedMessages())
	// Output: 1:0 [(1:1..1:3],(2:-1..2:0],(3:0..3:1]]
}
