package replicator

import (
	"log/slog"
	"sync"
	"time"
)

// rateLog writes at most one line per key and interval, and says how many
// it left out since the last one. Rejected input arrives at the sender's
// pace, not ours: a line per message would let junk fill the disk. Keys
// are fixed reasons, never input, so the map stays small.
type rateLog struct {
	every time.Duration
	mu    sync.Mutex
	keys  map[string]*rateState
}

type rateState struct {
	last    time.Time
	dropped int
}

// rejectLogEvery is how often one reason of rejection is logged.
const rejectLogEvery = 10 * time.Second

func newRateLog(every time.Duration) *rateLog {
	return &rateLog{every: every, keys: map[string]*rateState{}}
}

// warn logs msg under key unless a line of that key was written less than
// the interval before now.
func (r *rateLog) warn(l *slog.Logger, now time.Time, key, msg string, args ...any) {
	r.mu.Lock()
	st, ok := r.keys[key]
	if !ok {
		st = &rateState{}
		r.keys[key] = st
	}
	if ok && now.Sub(st.last) < r.every {
		st.dropped++
		r.mu.Unlock()
		return
	}
	dropped := st.dropped
	st.last, st.dropped = now, 0
	r.mu.Unlock()
	l.Warn(msg, append(args, "reason", key, "suppressedSinceLast", dropped)...)
}
