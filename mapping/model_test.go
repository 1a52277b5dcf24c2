package mapping

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/subsync/subsync/ackset"
)

// TestStoreMatchesModel drives the store with random tails (gaps,
// roll-overs, re-sent entries), flushes at random points and prunes at
// random positions, and compares every answer with a plain in-memory map.
func TestStoreMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for round := range 12 {
		s := openTestStore(t)
		entries := randomStream(rng, 50+rng.IntN(400))
		model := map[ackset.Position]ackset.EntryID{}
		var b RunBuilder
		var pruned ackset.Position
		for i, e := range entries {
			if err := b.Append(e.local, e.id); err != nil {
				t.Fatal(err)
			}
			model[e.local] = e.id
			if rng.IntN(15) == 0 || i == len(entries)-1 {
				mustAppendTail(t, s, topicA, e.local, b.Flush()...)
			}
			if rng.IntN(60) == 0 && i < len(entries)-1 {
				mustAppendTail(t, s, topicA, e.local, b.Flush()...)
				pruned = entries[rng.IntN(i+1)].local
				if err := s.Prune(topicA, pruned); err != nil {
					t.Fatal(err)
				}
				for p := range model {
					if p.Less(pruned) {
						delete(model, p)
					}
				}
			}
		}
		mustCheck(t, s, topicA)
		compareWithModel(t, round, s, entries, model)
	}
}

func compareWithModel(t *testing.T, round int, s *Store, entries []entry, model map[ackset.Position]ackset.EntryID) {
	t.Helper()
	var kept []entry
	reverse := map[ackset.EntryID][]ackset.Position{}
	for _, e := range entries {
		if _, ok := model[e.local]; ok {
			kept = append(kept, e)
			reverse[e.id] = append(reverse[e.id], e.local)
		}
	}
	// Stored runs are exactly the maximal runs of the remaining entries.
	var fresh RunBuilder
	for _, e := range kept {
		if err := fresh.Append(e.local, e.id); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := allRuns(t, s, topicA), fresh.Flush(); !equalRuns(got, want) {
		t.Fatalf("round %d: runs\n got  %v\n want %v", round, got, want)
	}
	first, last := entries[0].local, entries[len(entries)-1].local
	for l := first.Ledger; l <= last.Ledger+1; l++ {
		for e := int64(-1); e <= last.Entry+2; e++ {
			p := pos(l, e)
			got, ok, err := s.LookupEntry(topicA, p)
			want, wantOK := model[p]
			if err != nil || ok != wantOK || got != want {
				t.Fatalf("round %d: LookupEntry(%s) = %s, %t, %v; want %s, %t", round, p, got, ok, err, want, wantOK)
			}
		}
	}
	for _, e := range entries {
		for _, id := range []ackset.EntryID{e.id, eid(e.id.Origin, e.id.Ledger, e.id.Entry+1), eid(e.id.Origin, e.id.Ledger, e.id.Entry-1)} {
			got, err := s.LocalPositions(topicA, id)
			want := reverse[id]
			if want == nil {
				want = []ackset.Position{}
			}
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("round %d: LocalPositions(%s) = %v, %v; want %v", round, id, got, err, want)
			}
		}
	}
}
