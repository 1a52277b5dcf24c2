package ledger

import (
	"testing"
	"time"
)

func TestEmptyTopic(t *testing.T) {
	ml := newTestLedger(t, 5, 100)
	if got := ml.LastConfirmed(); got != pos(101, -1) {
		t.Fatalf("LAC of empty topic = %v, want 101:-1", got)
	}
	checks := []struct {
		name      string
		got, want Position
	}{
		{"FirstPosition", ml.FirstPosition(), pos(101, 0)},
		{"EarliestMarkDelete", ml.EarliestMarkDelete(), pos(101, -1)},
		{"LatestMarkDelete", ml.LatestMarkDelete(), pos(101, -1)},
		{"Next(LAC)", ml.Next(pos(101, -1)), pos(101, 0)},
		{"Prev(101:0)", ml.Prev(pos(101, 0)), pos(101, -1)},
		{"Prev(FirstPosition)", ml.Prev(ml.FirstPosition()), ml.EarliestMarkDelete()},
		{"FindByPublishTime", ml.FindByPublishTime(0), pos(101, 0)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if got := ml.Read(pos(101, 0), 10); len(got) != 0 {
		t.Errorf("Read on empty topic = %v", got)
	}
	if _, ok := ml.Get(pos(101, 0)); ok {
		t.Error("Get(101:0) found an entry in an empty topic")
	}
	ls := ml.Ledgers()
	if len(ls) != 1 || ls[0].LedgerID != 101 || ls[0].Entries != 0 {
		t.Errorf("Ledgers() = %+v", ls)
	}
	c, _ := ml.OpenCursor("s", ml.EarliestMarkDelete(), CursorOptions{Durable: true})
	if c.HasMoreEntries() || c.Backlog() != 0 || len(c.ReadNext(10)) != 0 {
		t.Errorf("cursor on empty topic: hasMore=%v backlog=%d", c.HasMoreEntries(), c.Backlog())
	}
	if c.MarkDeletePosition() != pos(101, -1) || c.ReadPosition() != pos(101, 0) {
		t.Errorf("cursor on empty topic: md=%v read=%v", c.MarkDeletePosition(), c.ReadPosition())
	}
}

// Pulsar (ManagedLedgerImpl.ledgerClosed + createLedgerAfterClosed) closes a
// full ledger and creates the next one at once; the LAC stays on the last
// entry of the closed ledger until the next add.
func TestRolloverCreatesEmptyLedgerAtOnce(t *testing.T) {
	ml := newTestLedger(t, 3, 0)
	ps := appendN(ml, 3)
	if want := []Position{pos(1, 0), pos(1, 1), pos(1, 2)}; !equalPositions(ps, want) {
		t.Fatalf("positions = %v, want %v", ps, want)
	}
	ls := ml.Ledgers()
	if len(ls) != 2 || ls[0] != (LedgerInfo{1, 3, 3, ls[0].Timestamp}) || ls[1].LedgerID != 2 || ls[1].Entries != 0 {
		t.Fatalf("Ledgers() after 3 adds = %+v", ls)
	}
	if ls[0].Timestamp == 0 || ls[1].Timestamp != 0 {
		t.Errorf("closed ledger must carry a close timestamp, the open one 0: %+v", ls)
	}
	for _, c := range []struct {
		name      string
		got, want Position
	}{
		{"LAC", ml.LastConfirmed(), pos(1, 2)},
		{"Next(LAC)", ml.Next(pos(1, 2)), pos(2, 0)},
		{"Next(1:1)", ml.Next(pos(1, 1)), pos(1, 2)},
		{"Prev(2:0)", ml.Prev(pos(2, 0)), pos(1, 2)},
		{"FirstPosition", ml.FirstPosition(), pos(1, 0)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if !ml.IsValid(pos(2, 0)) || ml.IsValid(pos(1, 3)) || ml.IsValid(pos(2, 1)) {
		t.Error("after rollover only 2:0 may follow the LAC")
	}
	if p := ml.Append(Entry{Data: []byte("y")}); p != pos(2, 0) {
		t.Fatalf("first add after rollover at %v, want 2:0", p)
	}
	if got := ml.Next(pos(2, 0)); got != pos(2, 1) {
		t.Errorf("Next(2:0) with LAC 2:0 = %v, want 2:1 (slot after the LAC)", got)
	}
	st := ml.InternalStats()
	if st.CurrentLedgerEntries != 1 || st.NumberOfEntries != 4 || st.EntriesAddedCounter != 4 || st.LastConfirmedEntry != "2:0" {
		t.Errorf("stats = %+v", st)
	}
	// The open ledger's metadata shows 0 entries until it is closed.
	if len(st.Ledgers) != 2 || st.Ledgers[0].Entries != 3 || st.Ledgers[1].Entries != 0 || st.Ledgers[1].Size != 0 {
		t.Errorf("stats ledgers = %+v", st.Ledgers)
	}
}

func TestPrevNextEdges(t *testing.T) {
	ml := newTestLedger(t, 2, 10)
	appendN(ml, 5) // 11:0 11:1 | 12:0 12:1 | 13:0, current 13
	for _, tc := range []struct {
		name      string
		got, want Position
	}{
		{"Prev(11:0)", ml.Prev(pos(11, 0)), pos(11, -1)},
		{"Prev(11:-1)", ml.Prev(pos(11, -1)), pos(11, -1)},
		{"Prev(12:0)", ml.Prev(pos(12, 0)), pos(11, 1)},
		{"Prev(12:-1)", ml.Prev(pos(12, -1)), pos(11, 1)},
		{"Prev(13:0)", ml.Prev(pos(13, 0)), pos(12, 1)},
		{"Prev(13:1)", ml.Prev(pos(13, 1)), pos(13, 0)},
		{"Prev(10:0) before all ledgers", ml.Prev(pos(10, 0)), pos(10, -1)},
		{"Next(11:-1)", ml.Next(pos(11, -1)), pos(11, 0)},
		{"Next(11:1)", ml.Next(pos(11, 1)), pos(12, 0)},
		{"Next(12:1)", ml.Next(pos(12, 1)), pos(13, 0)},
		{"Next(13:0) = LAC", ml.Next(pos(13, 0)), pos(13, 1)},
		{"Next(13:1) beyond", ml.Next(pos(13, 1)), pos(13, 1)},
		{"Next(12:-1)", ml.Next(pos(12, -1)), pos(12, 0)},
		{"Next(5:7) unknown ledger", ml.Next(pos(5, 7)), pos(11, 0)},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestReadAndGet(t *testing.T) {
	ml := newTestLedger(t, 2, 0)
	appendN(ml, 5)
	got := ml.Read(pos(1, 1), 3)
	if want := []Position{pos(1, 1), pos(2, 0), pos(2, 1)}; !equalPositions(entryPositions(got), want) {
		t.Errorf("Read(1:1, 3) = %v, want %v", entryPositions(got), want)
	}
	if got := ml.Read(pos(2, -1), 10); !equalPositions(entryPositions(got), []Position{pos(2, 0), pos(2, 1), pos(3, 0)}) {
		t.Errorf("Read(2:-1) = %v", entryPositions(got))
	}
	e, ok := ml.Get(pos(2, 1))
	if !ok || e.Pos != pos(2, 1) || e.PublishTime != 3 || e.NumMessages != 1 {
		t.Errorf("Get(2:1) = %+v, %v", e, ok)
	}
	if _, ok := ml.Get(pos(3, 1)); ok {
		t.Error("Get beyond the LAC found an entry")
	}
	if ml.EntriesAdded() != 5 || ml.NumberOfEntries() != 5 || ml.TotalSize() != 5 {
		t.Errorf("counters: %d %d %d", ml.EntriesAdded(), ml.NumberOfEntries(), ml.TotalSize())
	}
}

func TestAppendIgnoresPosAndDefaultsBatchSize(t *testing.T) {
	ml := newTestLedger(t, 10, 0)
	p := ml.Append(Entry{Pos: pos(99, 99), Data: []byte("abc")})
	e, _ := ml.Get(p)
	if p != pos(1, 0) || e.Pos != p || e.NumMessages != 1 {
		t.Errorf("Append returned %v, stored %+v", p, e)
	}
}

func TestWaitChBroadcast(t *testing.T) {
	ml := newTestLedger(t, 10, 0)
	ch := ml.WaitCh()
	select {
	case <-ch:
		t.Fatal("WaitCh closed before any append")
	default:
	}
	done := make(chan struct{})
	for range 3 {
		go func() { <-ch; done <- struct{}{} }()
	}
	ml.Append(Entry{})
	for range 3 {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("a waiter was not woken by Append")
		}
	}
	if ml.WaitCh() == ch {
		t.Error("WaitCh must return a fresh channel after an Append")
	}
}

func TestMinRolloverTimeDelaysRollover(t *testing.T) {
	clk := &fakeClock{ms: 1_000_000}
	var next int64
	ml := New("t", Config{MaxEntriesPerLedger: 2, MinRolloverTime: time.Minute, Now: clk.now,
		NextLedgerID: func() int64 { next++; return next }})
	appendN(ml, 3)
	if n := len(ml.Ledgers()); n != 1 {
		t.Fatalf("rolled over before MinRolloverTime: %d ledgers", n)
	}
	clk.ms += 61_000
	if !ml.RollOverIfFull() {
		t.Fatal("RollOverIfFull did not roll a full ledger past MinRolloverTime")
	}
	if ls := ml.Ledgers(); len(ls) != 2 || ls[0].Entries != 3 {
		t.Errorf("ledgers = %+v", ls)
	}
	if ml.RollOverIfFull() {
		t.Error("RollOverIfFull rolled an empty ledger")
	}
}

func TestMaxRolloverTime(t *testing.T) {
	clk := &fakeClock{ms: 1_000_000}
	ml := New("t", Config{MaxEntriesPerLedger: 100, MaxRolloverTime: time.Hour, Now: clk.now})
	appendN(ml, 2)
	if ml.RollOverIfFull() {
		t.Fatal("rolled a young ledger")
	}
	clk.ms += 3_600_000
	if !ml.RollOverIfFull() {
		t.Fatal("did not roll an old ledger")
	}
	if ml.RollOver() {
		t.Error("RollOver rolled an empty ledger")
	}
}

func equalPositions(a, b []Position) bool {
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

func entryPositions(es []Entry) []Position {
	out := make([]Position, len(es))
	for i, e := range es {
		out[i] = e.Pos
	}
	return out
}
