package mapping

import (
	"math"
	"testing"

	"github.com/subsync/subsync/ackset"
)

func pos(ledger, entry int64) ackset.Position {
	return ackset.Position{Ledger: ledger, Entry: entry}
}

func eid(origin string, ledger, entry int64) ackset.EntryID {
	return ackset.EntryID{Origin: origin, Ledger: ledger, Entry: entry}
}

func mkRun(localLedger, localEntry int64, origin string, originLedger, originEntry, count int64) Run {
	return Run{Local: pos(localLedger, localEntry), Origin: origin, OriginLedger: originLedger, OriginEntry: originEntry, Count: count}
}

func openTestStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil && err != ErrClosed {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func mustAppendTail(t testing.TB, s *Store, topic string, checkpoint ackset.Position, runs ...Run) {
	t.Helper()
	if err := s.AppendTail(topic, runs, checkpoint); err != nil {
		t.Fatalf("AppendTail(%q, %v, %s): %v", topic, runs, checkpoint, err)
	}
}

func allRuns(t testing.TB, s *Store, topic string) []Run {
	t.Helper()
	runs, err := s.Runs(topic, minPosition, maxPosition)
	if err != nil {
		t.Fatalf("Runs(%q): %v", topic, err)
	}
	return runs
}

func mustCheck(t testing.TB, s *Store, topic string) {
	t.Helper()
	if err := s.CheckTopic(topic); err != nil {
		t.Fatalf("CheckTopic: %v", err)
	}
}

func equalRuns(a, b []Run) bool {
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

func assertRuns(t testing.TB, s *Store, topic string, want ...Run) {
	t.Helper()
	if got := allRuns(t, s, topic); !equalRuns(got, want) {
		t.Fatalf("runs of %q:\n got  %v\n want %v", topic, got, want)
	}
}

// minPosition and maxPosition bound every position.
var (
	minPosition = ackset.Position{Ledger: math.MinInt64, Entry: math.MinInt64}
	maxPosition = ackset.Position{Ledger: math.MaxInt64, Entry: math.MaxInt64}
)
