package ledger

import (
	"fmt"
	"testing"
)

// timedLedger appends entries with the given broker timestamps; ledgers are
// closed at clock time 10^15 so that the close-time shortcut never fires.
func timedLedger(t *testing.T, maxEntries int, brokerTimes []int64) (*ManagedLedger, *Cursor) {
	t.Helper()
	clk := &fakeClock{ms: 1e15}
	var next int64
	ml := New("t", Config{MaxEntriesPerLedger: maxEntries, Now: clk.now, NextLedgerID: func() int64 { next++; return next }})
	for _, bt := range brokerTimes {
		ml.Append(Entry{BrokerTime: bt, PublishTime: 1})
	}
	c, _ := ml.OpenCursor("s", ml.EarliestMarkDelete(), CursorOptions{Durable: true, Properties: map[string]int64{"p": 1}})
	return ml, c
}

// With non-decreasing timestamps, expiry acknowledges exactly the entries
// before the first one that has not expired, whatever the cutoff.
func TestExpireStopsAtFirstNonExpired(t *testing.T) {
	var times []int64
	for i := range 23 {
		times = append(times, int64(100*(i+1)-(i%3))) // strictly increasing, uneven steps
	}
	for cutoff := int64(0); cutoff <= 2500; cutoff += 37 {
		for _, holes := range [][]int{nil, {3, 4, 10}} {
			t.Run(fmt.Sprint(cutoff, holes), func(t *testing.T) {
				ml, c := timedLedger(t, 5, times)
				all := ml.Read(ml.FirstPosition(), 100)
				for _, i := range holes {
					c.Delete(all[i].Pos)
				}
				wantIdx := -1
				for i, e := range all {
					if e.BrokerTime >= cutoff {
						break
					}
					wantIdx = i
				}
				wantNew := 0
				for i := 0; i <= wantIdx; i++ {
					if !c.IsDeleted(all[i].Pos) {
						wantNew++
					}
				}
				got := c.ExpireBefore(cutoff)
				wantMD := ml.EarliestMarkDelete()
				if wantIdx >= 0 {
					wantMD = all[wantIdx].Pos
				}
				// Acks contiguous with the expired prefix collapse too.
				for i := wantIdx + 1; i < len(all) && c.IsDeleted(all[i].Pos); i++ {
					wantMD = all[i].Pos
				}
				if c.MarkDeletePosition() != wantMD || got != wantNew {
					t.Errorf("cutoff %d: MDP %v expired %d; want %v %d", cutoff, c.MarkDeletePosition(), got, wantMD, wantNew)
				}
				if wantIdx+1 < len(all) && c.IsDeleted(all[wantIdx+1].Pos) && !contains(holes, wantIdx+1) {
					t.Errorf("first non-expired entry %v was acknowledged", all[wantIdx+1].Pos)
				}
				if c.Properties()["p"] != 1 {
					t.Error("expiry must keep the mark-delete properties")
				}
			})
		}
	}
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// Out-of-order timestamps: Pulsar bisects (OpFindNewest) and so does the
// emulator; it does not scan linearly.
func TestExpireBisectsLikePulsar(t *testing.T) {
	for _, tc := range []struct {
		times  []int64
		cutoff int64
		wantMD Position
		want   int
	}{
		{[]int64{100, 500, 200, 900}, 400, pos(1, 2), 3},  // 500 expires with its neighbours
		{[]int64{100, 500, 600, 300}, 400, pos(1, 3), 4},  // last entry expired: all of them
		{[]int64{500, 100, 200, 300}, 400, pos(1, -1), 0}, // first entry not expired: none
	} {
		_, c := timedLedger(t, 100, tc.times)
		got := c.ExpireBefore(tc.cutoff)
		if c.MarkDeletePosition() != tc.wantMD || got != tc.want {
			t.Errorf("%v cutoff %d: MDP %v expired %d; want %v %d", tc.times, tc.cutoff, c.MarkDeletePosition(), got, tc.wantMD, tc.want)
		}
	}
}

func TestExpireUsesPublishTimeWithoutBrokerTime(t *testing.T) {
	ml := newTestLedger(t, 100, 0)
	for _, pt := range []int64{10, 20, 30} {
		ml.Append(Entry{PublishTime: pt})
	}
	c, _ := ml.OpenCursor("s", ml.EarliestMarkDelete(), CursorOptions{Durable: true})
	if n := c.ExpireBefore(25); n != 2 || c.MarkDeletePosition() != pos(1, 1) {
		t.Errorf("expired %d, MDP %v", n, c.MarkDeletePosition())
	}
	if n := c.ExpireBefore(25); n != 0 {
		t.Errorf("second run expired %d", n)
	}
}

// checkExpiryByLedgerClosureTime: a closed ledger whose close time is before
// the cutoff expires whole, whatever its entries' timestamps say.
func TestExpireByLedgerCloseTime(t *testing.T) {
	clk := &fakeClock{ms: 1000}
	var next int64
	ml := New("t", Config{MaxEntriesPerLedger: 2, Now: clk.now, NextLedgerID: func() int64 { next++; return next }})
	for range 2 {
		ml.Append(Entry{BrokerTime: 5000}) // producer clock ahead of the broker's
	}
	clk.ms = 9000
	ml.Append(Entry{BrokerTime: 5000})
	c, _ := ml.OpenCursor("s", ml.EarliestMarkDelete(), CursorOptions{Durable: true})
	if n := c.ExpireBefore(2000); n != 2 || c.MarkDeletePosition() != pos(1, 1) {
		t.Errorf("expired %d MDP %v; want ledger 1 expired by its close time", n, c.MarkDeletePosition())
	}
}

func TestFindByPublishTime(t *testing.T) {
	ml := newTestLedger(t, 3, 0)
	for i := range 8 {
		ml.Append(Entry{PublishTime: int64(10 * (i + 1))}) // 10..80 over ledgers 1,2,3
	}
	for _, tc := range []struct {
		ms   int64
		want Position
	}{
		{5, pos(1, 0)},
		{10, pos(1, 0)},
		{11, pos(1, 1)},
		{30, pos(1, 2)},
		{31, pos(2, 0)}, // the entry after 1:2 is 2:0
		{45, pos(2, 1)},
		{80, pos(3, 1)},
		{81, pos(3, 2)}, // after the LAC
	} {
		if got := ml.FindByPublishTime(tc.ms); got != tc.want {
			t.Errorf("FindByPublishTime(%d) = %v, want %v", tc.ms, got, tc.want)
		}
	}
	ml.Append(Entry{PublishTime: 1, BrokerTime: 1000})
	if got := ml.FindByPublishTime(999); got != pos(3, 2) {
		t.Errorf("broker time must take precedence: %v", got)
	}
}
