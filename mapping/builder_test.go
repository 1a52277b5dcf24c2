package mapping

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/subsync/subsync/ackset"
)

type entry struct {
	local ackset.Position
	id    ackset.EntryID
}

func appendAll(t *testing.T, b *RunBuilder, entries ...entry) {
	t.Helper()
	for _, e := range entries {
		if err := b.Append(e.local, e.id); err != nil {
			t.Fatalf("Append(%s, %s): %v", e.local, e.id, err)
		}
	}
}

func TestRunBuilderExtendsConsecutiveEntries(t *testing.T) {
	var b RunBuilder
	appendAll(t, &b,
		entry{pos(5, 0), eid("east", 9, 100)},
		entry{pos(5, 1), eid("east", 9, 101)},
		entry{pos(5, 2), eid("east", 9, 102)},
	)
	if d := b.Drain(); len(d) != 0 {
		t.Fatalf("Drain returned the open run: %v", d)
	}
	got := b.Flush()
	want := []Run{mkRun(5, 0, "east", 9, 100, 3)}
	if !equalRuns(got, want) {
		t.Fatalf("Flush = %v, want %v", got, want)
	}
	if b.Pending() != 0 || len(b.Flush()) != 0 {
		t.Fatalf("builder not empty after Flush")
	}
}

func TestRunBuilderBreaksRuns(t *testing.T) {
	start := entry{pos(5, 10), eid("east", 9, 100)}
	cases := []struct {
		name string
		next entry
	}{
		{"local gap (hidden marker)", entry{pos(5, 12), eid("east", 9, 101)}},
		{"local ledger roll-over", entry{pos(6, 0), eid("east", 9, 101)}},
		{"other origin cluster", entry{pos(5, 11), eid("west", 9, 101)}},
		{"other origin ledger", entry{pos(5, 11), eid("east", 10, 101)}},
		{"origin gap", entry{pos(5, 11), eid("east", 9, 102)}},
		{"origin repeat (re-sent entry)", entry{pos(5, 11), eid("east", 9, 100)}},
		{"origin backwards", entry{pos(5, 11), eid("east", 9, 99)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b RunBuilder
			appendAll(t, &b, start, c.next)
			want := []Run{
				{Local: start.local, Origin: start.id.Origin, OriginLedger: start.id.Ledger, OriginEntry: start.id.Entry, Count: 1},
				{Local: c.next.local, Origin: c.next.id.Origin, OriginLedger: c.next.id.Ledger, OriginEntry: c.next.id.Entry, Count: 1},
			}
			if d := b.Drain(); !equalRuns(d, want[:1]) {
				t.Fatalf("Drain = %v, want %v", d, want[:1])
			}
			if f := b.Flush(); !equalRuns(f, want[1:]) {
				t.Fatalf("Flush = %v, want %v", f, want[1:])
			}
		})
	}
}

func TestRunBuilderRejectsNonIncreasingPositions(t *testing.T) {
	var b RunBuilder
	appendAll(t, &b, entry{pos(5, 10), eid("east", 9, 100)})
	for _, p := range []ackset.Position{pos(5, 10), pos(5, 9), pos(4, 99)} {
		if err := b.Append(p, eid("east", 9, 101)); err == nil || !strings.Contains(err.Error(), "does not increase") {
			t.Errorf("Append(%s) after 5:10: err = %v, want 'does not increase'", p, err)
		}
	}
	// A rejected append leaves the builder as it was: 5:11 still extends.
	appendAll(t, &b, entry{pos(5, 11), eid("east", 9, 101)})
	if got, want := b.Flush(), []Run{mkRun(5, 10, "east", 9, 100, 2)}; !equalRuns(got, want) {
		t.Fatalf("Flush = %v, want %v", got, want)
	}
}

func TestRunBuilderRejectsInvalidEntries(t *testing.T) {
	cases := []entry{
		{pos(-1, 0), eid("east", 1, 1)},
		{pos(1, -1), eid("east", 1, 1)},
		{pos(1, 1), eid("", 1, 1)},
		{pos(1, 1), eid(strings.Repeat("x", ackset.MaxOriginLen+1), 1, 1)},
		{pos(1, 1), eid("east", -1, 1)},
		{pos(1, 1), eid("east", 1, -1)},
		{pos(1, 1), eid("east", 1, ackset.MaxEntry+1)},
	}
	for _, c := range cases {
		var b RunBuilder
		if err := b.Append(c.local, c.id); err == nil {
			t.Errorf("Append(%s, %s) accepted", c.local, c.id)
		}
		if b.Pending() != 0 {
			t.Errorf("Append(%s, %s) left %d pending runs", c.local, c.id, b.Pending())
		}
	}
}

func TestRunBuilderFlushThenContinueStartsNewRun(t *testing.T) {
	var b RunBuilder
	appendAll(t, &b, entry{pos(5, 0), eid("east", 9, 0)}, entry{pos(5, 1), eid("east", 9, 1)})
	first := b.Flush()
	appendAll(t, &b, entry{pos(5, 2), eid("east", 9, 2)}, entry{pos(5, 3), eid("east", 9, 3)})
	second := b.Flush()
	if want := []Run{mkRun(5, 0, "east", 9, 0, 2)}; !equalRuns(first, want) {
		t.Fatalf("first Flush = %v, want %v", first, want)
	}
	if want := []Run{mkRun(5, 2, "east", 9, 2, 2)}; !equalRuns(second, want) {
		t.Fatalf("second Flush = %v, want %v", second, want)
	}
	if err := b.Append(pos(5, 3), eid("east", 9, 4)); err == nil {
		t.Fatalf("Append at the flushed position 5:3 accepted")
	}
}

func TestRunBuilderResumeAfter(t *testing.T) {
	var b RunBuilder
	if err := b.ResumeAfter(pos(7, 41)); err != nil {
		t.Fatalf("ResumeAfter: %v", err)
	}
	if last, ok := b.Last(); !ok || last != pos(7, 41) {
		t.Fatalf("Last = %s, %t; want 7:41, true", last, ok)
	}
	if err := b.Append(pos(7, 41), eid("east", 1, 1)); err == nil {
		t.Fatalf("Append at the checkpoint accepted")
	}
	appendAll(t, &b, entry{pos(7, 42), eid("east", 1, 1)})
	if err := b.ResumeAfter(pos(8, 0)); err == nil {
		t.Fatalf("ResumeAfter after Append accepted")
	}
}

// TestRunBuilderRandomStreams checks, on random streams, that the runs
// expand back to exactly the appended entries and are maximal: no run
// continues its predecessor.
func TestRunBuilderRandomStreams(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		entries := randomStream(rng, 1+rng.IntN(300))
		var b RunBuilder
		var runs []Run
		for i, e := range entries {
			if err := b.Append(e.local, e.id); err != nil {
				t.Fatalf("round %d: Append: %v", round, err)
			}
			if rng.IntN(10) == 0 || i == len(entries)-1 {
				runs = append(runs, b.Drain()...)
			}
		}
		runs = append(runs, b.Flush()...)
		if err := ackset.ValidateRuns(runs); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if got := expandRuns(runs); !equalEntries(got, entries) {
			t.Fatalf("round %d: runs %v expand to %v, want %v", round, runs, got, entries)
		}
		for i := 1; i < len(runs); i++ {
			if continues(runs[i-1], runs[i]) {
				t.Fatalf("round %d: run %v continues %v but was not merged", round, runs[i], runs[i-1])
			}
		}
	}
}

// randomStream makes a strictly increasing local stream mixing long
// in-order stretches, gaps, ledger roll-overs and several origins.
func randomStream(rng *rand.Rand, n int) []entry {
	origins := []string{"east", "west", "north"}
	local := pos(int64(rng.IntN(3)), int64(rng.IntN(5)))
	id := eid("east", 1, 0)
	out := make([]entry, 0, n)
	for range n {
		out = append(out, entry{local, id})
		switch rng.IntN(20) {
		case 0:
			local = pos(local.Ledger+1, 0)
		case 1:
			local.Entry += 2
		default:
			local.Entry++
		}
		switch rng.IntN(12) {
		case 0:
			id = eid(origins[rng.IntN(len(origins))], int64(rng.IntN(3)), int64(rng.IntN(50)))
		case 1:
			id.Ledger++
		case 2:
			id.Entry += 3
		default:
			id.Entry++
		}
	}
	return out
}

func expandRuns(runs []Run) []entry {
	var out []entry
	for _, r := range runs {
		for i := range r.Count {
			out = append(out, entry{pos(r.Local.Ledger, r.Local.Entry+i), eid(r.Origin, r.OriginLedger, r.OriginEntry+i)})
		}
	}
	return out
}

func equalEntries(a, b []entry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
