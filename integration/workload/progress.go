package workload

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progress writes "<phase>: <done>/<total> <what>" lines, at most one per
// tenth of the total or per second, plus the final one.
type progress struct {
	w      io.Writer
	phase  string
	total  int
	mu     sync.Mutex
	last   time.Time
	lastN  int
	closed bool
}

func newProgress(w io.Writer, phase string, total int) *progress {
	return &progress{w: w, phase: phase, total: total, last: time.Now()}
}

func (p *progress) update(n int, what string) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	step := 1000 // an open-ended count reports every thousand
	if p.total > 0 {
		step = max(1, p.total/10)
	}
	final := p.total > 0 && n >= p.total
	if !final && n-p.lastN < step && time.Since(p.last) < time.Second {
		return
	}
	if p.closed {
		return
	}
	p.closed = final
	p.last, p.lastN = time.Now(), n
	if p.total > 0 {
		fmt.Fprintf(p.w, "%s: %d/%d %s\n", p.phase, n, p.total, what)
	} else {
		fmt.Fprintf(p.w, "%s: %d %s\n", p.phase, n, what)
	}
}

// SyncWriter serialises writes from concurrent runs to one writer, line by
// line as each Write call brings one line. A nil writer discards.
type SyncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// NewSyncWriter wraps w (nil: discard).
func NewSyncWriter(w io.Writer) *SyncWriter { return &SyncWriter{w: w} }

// Write forwards p under a lock.
func (s *SyncWriter) Write(p []byte) (int, error) {
	if s == nil || s.w == nil {
		return len(p), nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
