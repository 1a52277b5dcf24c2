package ackset

import (
	"math/rand"
	"slices"
	"testing"
)

func TestSetBasics(t *testing.T) {
	var s Set
	if !s.IsEmpty() || s.Cardinality() != 0 || len(s.Origins()) != 0 || s.String() != "{}" {
		t.Fatalf("zero Set is not empty: %s", s)
	}
	mustAddRange(t, &s, "west", 7, 0, 4)
	mustAddRange(t, &s, "west", 7, 9, 9)
	mustAddRange(t, &s, "east", 3, 65530, 65540)
	if err := s.Add(EntryID{Origin: "west", Ledger: 2, Entry: MaxEntry}); err != nil {
		t.Fatal(err)
	}
	if got := s.String(); got != "{east/3:[65530-65540] west/2:[4294967295] west/7:[0-4,9]}" {
		t.Fatalf("String = %s", got)
	}
	if s.Cardinality() != 5+1+11+1 {
		t.Fatalf("Cardinality = %d", s.Cardinality())
	}
	if got := s.Origins(); !slices.Equal(got, []string{"east", "west"}) {
		t.Fatalf("Origins = %v", got)
	}
	if got := s.Ledgers("west"); !slices.Equal(got, []int64{2, 7}) {
		t.Fatalf("Ledgers = %v", got)
	}
	for _, tc := range []struct {
		id   EntryID
		want bool
	}{
		{EntryID{"west", 7, 4}, true},
		{EntryID{"west", 7, 5}, false},
		{EntryID{"west", 7, 9}, true},
		{EntryID{"east", 7, 4}, false},
		{EntryID{"east", 3, 65536}, true},
		{EntryID{"west", 2, MaxEntry}, true},
		{EntryID{"west", 2, -1}, false},
		{EntryID{"west", 2, MaxEntry + 1}, false},
	} {
		if got := s.Contains(tc.id); got != tc.want {
			t.Errorf("Contains(%s) = %v, want %v", tc.id, got, tc.want)
		}
	}
	var ranges []IDRange
	for r := range s.Ranges() {
		ranges = append(ranges, r)
	}
	want := []IDRange{{"east", 3, 65530, 65540}, {"west", 2, MaxEntry, MaxEntry}, {"west", 7, 0, 4}, {"west", 7, 9, 9}}
	if !slices.Equal(ranges, want) {
		t.Fatalf("Ranges = %v, want %v", ranges, want)
	}
}

func TestSetRejectsInvalidEntries(t *testing.T) {
	var s Set
	bad := []struct {
		origin              string
		ledger, first, last int64
	}{
		{"", 1, 0, 0},
		{"west", -1, 0, 0},
		{"west", 1, -1, 0},
		{"west", 1, 0, MaxEntry + 1},
		{"west", 1, MaxEntry + 1, MaxEntry + 1},
		{"west", 1, 5, 4},
		{string(make([]byte, MaxOriginLen+1)), 1, 0, 0},
	}
	for _, b := range bad {
		if err := s.AddRange(b.origin, b.ledger, b.first, b.last); err == nil {
			t.Errorf("AddRange(%q, %d, %d, %d) accepted", b.origin, b.ledger, b.first, b.last)
		}
	}
	if !s.IsEmpty() {
		t.Fatalf("rejected adds changed the set: %s", s)
	}
	if _, err := NewSet(EntryID{"west", 1, 1}, EntryID{"west", 1, -3}); err == nil {
		t.Fatal("NewSet accepted a negative entry")
	}
}

func TestSetOperationsMatchModel(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := range 100 {
		a, b := randomSet(t, r), randomSet(t, r)
		if r.Intn(4) == 0 {
			b = a.Union(randomSet(t, r)) // overlapping sets
		}
		ma, mb := modelOf(a), modelOf(b)
		check := func(op string, got Set, want func(EntryID) bool, universe ...idModel) {
			t.Helper()
			wantModel := idModel{}
			for _, u := range universe {
				for id := range u {
					if want(id) {
						wantModel[id] = true
					}
				}
			}
			if !modelOf(got).equal(wantModel) {
				t.Fatalf("case %d: %s wrong:\na=%s\nb=%s\ngot=%s", i, op, a, b, got)
			}
			if got.Cardinality() != uint64(len(wantModel)) {
				t.Fatalf("case %d: %s cardinality %d, want %d", i, op, got.Cardinality(), len(wantModel))
			}
			if got.IsEmpty() != (len(wantModel) == 0) {
				t.Fatalf("case %d: %s IsEmpty wrong", i, op)
			}
			for _, o := range got.Origins() {
				if len(got.Ledgers(o)) == 0 {
					t.Fatalf("case %d: %s keeps an origin without ledgers", i, op)
				}
			}
		}
		check("union", a.Union(b), func(id EntryID) bool { return ma[id] || mb[id] }, ma, mb)
		check("difference", a.Difference(b), func(id EntryID) bool { return ma[id] && !mb[id] }, ma)
		check("intersect", a.Intersect(b), func(id EntryID) bool { return ma[id] && mb[id] }, ma)
		if got, want := a.Intersects(b), len(modelOf(a.Intersect(b))) > 0; got != want {
			t.Fatalf("case %d: Intersects = %v, want %v", i, got, want)
		}
		if got, want := a.Equal(b), ma.equal(mb); got != want {
			t.Fatalf("case %d: Equal = %v, want %v", i, got, want)
		}
		if !modelOf(a).equal(ma) || !modelOf(b).equal(mb) {
			t.Fatalf("case %d: an operation modified its operands", i)
		}
	}
}

func TestSetRangesAreMaximalAndOrdered(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for range 100 {
		s := randomSet(t, r)
		var prev *IDRange
		var ids []EntryID
		for rg := range s.Ranges() {
			if rg.First > rg.Last {
				t.Fatalf("empty range %v", rg)
			}
			if prev != nil && prev.Origin == rg.Origin && prev.Ledger == rg.Ledger && prev.Last+1 >= rg.First {
				t.Fatalf("ranges %v and %v are not maximal or not ordered", *prev, rg)
			}
			for e := rg.First; e <= rg.Last; e++ {
				ids = append(ids, EntryID{rg.Origin, rg.Ledger, e})
			}
			p := rg
			prev = &p
		}
		if !slices.IsSortedFunc(ids, compareIDs) || uint64(len(ids)) != s.Cardinality() {
			t.Fatalf("ranges enumerate %d entries out of order or not %d", len(ids), s.Cardinality())
		}
		for _, id := range ids {
			if !s.Contains(id) {
				t.Fatalf("ranges yield %s, which the set does not contain", id)
			}
		}
	}
}

func TestSetCloneIsIndependent(t *testing.T) {
	a := mustSet(t, EntryID{"west", 1, 1})
	c := a.Clone()
	if err := c.Add(EntryID{"west", 1, 2}); err != nil {
		t.Fatal(err)
	}
	if a.Contains(EntryID{"west", 1, 2}) {
		t.Fatal("Clone shares state with the original")
	}
	if !c.Contains(EntryID{"west", 1, 1}) || a.Equal(c) {
		t.Fatal("Clone lost entries")
	}
}

func TestDeltaApplyEqualsTarget(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for i := range 150 {
		from, to := randomSet(t, r), randomSet(t, r)
		if r.Intn(2) == 0 {
			to = from.Union(to) // the common case: the acked set grows
		}
		d := Diff(from, to)
		if d.Added.Intersects(d.Removed) {
			t.Fatalf("case %d: Diff overlaps", i)
		}
		if got := d.Apply(from); !got.Equal(to) {
			t.Fatalf("case %d: Apply(Diff) = %s, want %s", i, got, to)
		}
		if d.IsEmpty() != from.Equal(to) {
			t.Fatalf("case %d: IsEmpty = %v for from=%s to=%s", i, d.IsEmpty(), from, to)
		}
	}
}
