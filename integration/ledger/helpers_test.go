package ledger

import (
	"testing"
	"time"
)

// fakeClock is a settable clock for Config.Now.
type fakeClock struct{ ms int64 }

func (f *fakeClock) now() time.Time { return time.UnixMilli(f.ms) }

// newTestLedger returns a managed ledger whose ledger ids start at base+1.
func newTestLedger(t testing.TB, maxEntries int, base int64) *ManagedLedger {
	t.Helper()
	next := base
	clk := &fakeClock{ms: 1_700_000_000_000}
	return New("persistent://public/default/t", Config{
		MaxEntriesPerLedger: maxEntries,
		NextLedgerID:        func() int64 { next++; return next },
		Now:                 clk.now,
	})
}

func appendN(ml *ManagedLedger, n int) []Position {
	out := make([]Position, n)
	for i := range out {
		out[i] = ml.Append(Entry{Data: []byte("x"), NumMessages: 1, PublishTime: int64(i)})
	}
	return out
}

func pos(l, e int64) Position { return Position{Ledger: l, Entry: e} }
