package ackset

import (
	"math/rand"
	"slices"
	"testing"
)

// idModel is the naive reference for a Set: one map key per entry.
type idModel map[EntryID]bool

func modelOf(s Set) idModel {
	m := idModel{}
	for id := range s.IDs() {
		m[id] = true
	}
	return m
}

func (m idModel) equal(o idModel) bool {
	if len(m) != len(o) {
		return false
	}
	for id := range m {
		if !o[id] {
			return false
		}
	}
	return true
}

func mustSet(t testing.TB, ids ...EntryID) Set {
	t.Helper()
	s, err := NewSet(ids...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustAddRange(t testing.TB, s *Set, origin string, ledger, first, last int64) {
	t.Helper()
	if err := s.AddRange(origin, ledger, first, last); err != nil {
		t.Fatal(err)
	}
}

// randomSet returns a set with a shape picked at random: sparse points,
// dense runs, ranges crossing roaring's 65,536 container boundary, entries
// near MaxEntry, several origins and ledgers. Entries stay few enough for a
// per-entry model.
func randomSet(t testing.TB, r *rand.Rand) Set {
	t.Helper()
	var s Set
	origins := []string{"east", "west", "north-cluster"}[:1+r.Intn(3)]
	for _, origin := range origins {
		ledgers := 1 + r.Intn(4)
		ledger := int64(r.Intn(3))
		if r.Intn(3) == 0 {
			ledger = 1_000_000 + int64(r.Intn(9_000_000))
		}
		for range ledgers {
			base := []int64{0, 65536 - 200, 1 << 20, MaxEntry - 1000}[r.Intn(4)]
			for range 1 + r.Intn(20) {
				first := base + int64(r.Intn(900))
				last := min(first+int64(r.Intn(1+r.Intn(120))), MaxEntry)
				mustAddRange(t, &s, origin, ledger, first, last)
			}
			ledger += 1 + int64(r.Intn(1000))
		}
	}
	if r.Intn(10) == 0 {
		return Set{}
	}
	return s
}

func sortedIDs(m idModel) []EntryID {
	ids := make([]EntryID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, compareIDs)
	return ids
}

func compareIDs(a, b EntryID) int {
	switch {
	case a.Origin < b.Origin:
		return -1
	case a.Origin > b.Origin:
		return 1
	}
	return a.Position().Compare(b.Position())
}
