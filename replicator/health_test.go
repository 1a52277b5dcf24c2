package replicator

import (
	"testing"
	"time"
)

// The sync lag of a pair: 0 while the local cursor was read lately and
// nothing is pending; the age of the oldest pending acknowledgement while
// some are; the time since the last read once reads have failed for
// longer than staleAfter, with the pending count unknown (-1).
func TestPairLagIsZeroInSyncAndGrowsWhenBehindOrUnread(t *testing.T) {
	const stale = 5 * time.Second
	t0 := time.Unix(1_700_000_000, 0)
	cases := []struct {
		name        string
		p           pairLag
		now         time.Time
		wantSeconds float64
		wantEntries int64
	}{
		{"never checked", pairLag{}, t0, 0, -1},
		{"in sync, read lately", pairLag{checkedAt: t0}, t0.Add(stale), 0, 0},
		{"in sync when last read, reads failing since", pairLag{checkedAt: t0}, t0.Add(stale + 2*time.Second), 7, -1},
		{"pending, read lately", pairLag{checkedAt: t0, pending: 12, behindSince: t0.Add(-3 * time.Second)}, t0.Add(time.Second), 4, 12},
		{"pending, reads failing since", pairLag{checkedAt: t0, pending: 12, behindSince: t0.Add(-3 * time.Second)}, t0.Add(10 * time.Second), 13, -1},
		{"pending, sent by a clock ahead of ours", pairLag{checkedAt: t0, pending: 1, behindSince: t0.Add(time.Minute)}, t0, 0, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, n := tc.p.lagAt(tc.now, stale)
			if s != tc.wantSeconds || n != tc.wantEntries {
				t.Errorf("lagAt = %vs, %d entries; want %vs, %d", s, n, tc.wantSeconds, tc.wantEntries)
			}
		})
	}
}
