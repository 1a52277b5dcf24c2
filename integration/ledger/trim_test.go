package ledger

import (
	"slices"
	"testing"
)

func newTrimmingLedger(t *testing.T, maxEntries int) *ManagedLedger {
	t.Helper()
	clk := &fakeClock{ms: 1_700_000_000_000}
	var next int64
	return New("t", Config{MaxEntriesPerLedger: maxEntries, TrimConsumedLedgers: true, Now: clk.now,
		NextLedgerID: func() int64 { next++; return next }})
}

func ledgerIDs(ml *ManagedLedger) []int64 {
	var ids []int64
	for _, l := range ml.Ledgers() {
		ids = append(ids, l.LedgerID)
	}
	return ids
}

func TestTrimFollowsSlowestDurableCursor(t *testing.T) {
	ml := newTrimmingLedger(t, 2)
	a, _ := ml.OpenCursor("a", ml.EarliestMarkDelete(), CursorOptions{Durable: true})
	b, _ := ml.OpenCursor("b", ml.EarliestMarkDelete(), CursorOptions{Durable: true})
	appendN(ml, 5) // 1:0 1:1 | 2:0 2:1 | 3:0
	if ids := ledgerIDs(ml); !slices.Equal(ids, []int64{1, 2, 3}) {
		t.Fatalf("ledgers %v", ids)
	}
	a.Delete(pos(1, 0), pos(1, 1), pos(2, 0))
	if ids := ledgerIDs(ml); !slices.Equal(ids, []int64{1, 2, 3}) {
		t.Fatalf("trimmed while b still needs ledger 1: %v", ids)
	}
	b.Delete(pos(1, 0), pos(1, 1)) // b now sits on the last entry of ledger 1
	// updateCursor trims only when the slowest cursor lands in another
	// ledger than the previous slowest position's: b stayed in ledger 1.
	if ids := ledgerIDs(ml); !slices.Equal(ids, []int64{1, 2, 3}) {
		t.Fatalf("trimmed on a mark-delete within the slowest ledger: %v", ids)
	}
	// The broker's periodic retention check trims what both consumed.
	if ids := ml.TrimConsumedLedgers(); !slices.Equal(ids, []int64{1}) {
		t.Fatalf("periodic trim deleted %v, want [1]", ids)
	}
	if ids := ledgerIDs(ml); !slices.Equal(ids, []int64{2, 3}) {
		t.Fatalf("ledgers after both consumed ledger 1: %v", ids)
	}
	if ml.NumberOfEntries() != 3 || ml.TotalSize() != 3 || ml.EntriesAdded() != 5 {
		t.Errorf("counters %d %d %d", ml.NumberOfEntries(), ml.TotalSize(), ml.EntriesAdded())
	}
	if ml.FirstPosition() != pos(2, 0) || ml.EarliestMarkDelete() != pos(2, -1) || ml.Prev(pos(2, 0)) != pos(2, -1) {
		t.Errorf("first %v earliest %v prev %v", ml.FirstPosition(), ml.EarliestMarkDelete(), ml.Prev(pos(2, 0)))
	}
	if _, ok := ml.Get(pos(1, 0)); ok {
		t.Error("trimmed entry still readable")
	}
	// Cursors positioned in a trimmed ledger keep working.
	if b.MarkDeletePosition() != pos(1, 1) || b.Backlog() != 3 || len(b.ReadNext(10)) != 3 {
		t.Errorf("b after trim: MDP %v backlog %d", b.MarkDeletePosition(), b.Backlog())
	}
}

func TestTrimWithoutDurableCursorsMovesReaders(t *testing.T) {
	ml := newTrimmingLedger(t, 2)
	r, _ := ml.OpenCursor("reader", Earliest, CursorOptions{})
	appendN(ml, 3) // ledger 1 closes: no durable cursor holds it
	if ids := ledgerIDs(ml); !slices.Equal(ids, []int64{2}) {
		t.Fatalf("ledgers %v", ids)
	}
	if r.MarkDeletePosition() != pos(1, 1) || r.ReadPosition() != pos(2, 0) {
		t.Errorf("reader MDP %v read %v, want 1:1 and 2:0", r.MarkDeletePosition(), r.ReadPosition())
	}
	if es := r.ReadNext(10); len(es) != 1 || es[0].Pos != pos(2, 0) {
		t.Errorf("reader reads %v", entryPositions(es))
	}
	appendN(ml, 1) // ledger 2 full and trimmed too: the LAC's ledger is gone
	if ids := ledgerIDs(ml); !slices.Equal(ids, []int64{3}) || ml.LastConfirmed() != pos(2, 1) {
		t.Fatalf("ledgers %v LAC %v", ids, ml.LastConfirmed())
	}
	// getFirstPosition falls back to the LAC's ledger when it was trimmed.
	if ml.EarliestMarkDelete() != pos(2, -1) || ml.FirstPosition() != pos(3, 0) || ml.Next(ml.LastConfirmed()) != pos(3, 0) {
		t.Errorf("earliest %v first %v next(LAC) %v", ml.EarliestMarkDelete(), ml.FirstPosition(), ml.Next(ml.LastConfirmed()))
	}
	st := ml.InternalStats()
	if st.NumberOfEntries != 0 || st.LastConfirmedEntry != "2:1" || len(st.Ledgers) != 1 {
		t.Errorf("stats %+v", st)
	}
	c, _ := ml.OpenCursor("late", ml.EarliestMarkDelete(), CursorOptions{Durable: true})
	if c.Backlog() != 0 || c.ReadPosition() != pos(3, 0) {
		t.Errorf("new subscription: backlog %d read %v", c.Backlog(), c.ReadPosition())
	}
}

func TestExplicitTrimIgnoresConfig(t *testing.T) {
	ml := newTestLedger(t, 2, 0)
	appendN(ml, 5)
	if ids := ml.TrimConsumedLedgers(); !slices.Equal(ids, []int64{1, 2}) {
		t.Errorf("trimmed %v", ids)
	}
	if ids := ml.TrimConsumedLedgers(); ids != nil {
		t.Errorf("second trim %v", ids)
	}
}

func TestNoTrimByDefault(t *testing.T) {
	ml := newTestLedger(t, 2, 0)
	appendN(ml, 7)
	if n := len(ml.Ledgers()); n != 4 {
		t.Errorf("ledgers trimmed without TrimConsumedLedgers: %d left", n)
	}
}

func TestDeleteCursorTriggersTrim(t *testing.T) {
	ml := newTrimmingLedger(t, 2)
	ml.OpenCursor("a", ml.EarliestMarkDelete(), CursorOptions{Durable: true})
	appendN(ml, 3)
	if len(ml.Ledgers()) != 2 {
		t.Fatal("trimmed under a durable cursor")
	}
	ml.DeleteCursor("a")
	if ids := ledgerIDs(ml); !slices.Equal(ids, []int64{2}) {
		t.Errorf("ledgers after deleting the only subscription: %v", ids)
	}
}

func TestSlowestCursorChangingLedgerTriggersTrim(t *testing.T) {
	ml := newTrimmingLedger(t, 2)
	a, _ := ml.OpenCursor("a", ml.EarliestMarkDelete(), CursorOptions{Durable: true})
	appendN(ml, 5) // 1:0 1:1 | 2:0 2:1 | 3:0
	a.Delete(pos(1, 0))
	if ids := ledgerIDs(ml); !slices.Equal(ids, []int64{1, 2, 3}) {
		t.Fatalf("trimmed while a still needs ledger 1: %v", ids)
	}
	// a moves from ledger 1 to ledger 2: updateCursor starts a trim.
	a.Delete(pos(1, 1), pos(2, 0))
	if ids := ledgerIDs(ml); !slices.Equal(ids, []int64{2, 3}) {
		t.Fatalf("ledgers after the slowest cursor left ledger 1: %v", ids)
	}
}

func TestRetainHoldsTrimmingBack(t *testing.T) {
	retain := true
	var next int64
	ml := New("t", Config{MaxEntriesPerLedger: 2, TrimConsumedLedgers: true, Retain: func() bool { return retain },
		NextLedgerID: func() int64 { next++; return next }})
	appendN(ml, 5)
	if ids := ledgerIDs(ml); !slices.Equal(ids, []int64{1, 2, 3}) {
		t.Fatalf("trimmed under retention: %v", ids)
	}
	retain = false
	appendN(ml, 1) // ledger 3 closes: the next trigger trims
	if ids := ledgerIDs(ml); !slices.Equal(ids, []int64{4}) {
		t.Fatalf("ledgers after retention was removed: %v, want [4]", ids)
	}
}
