package mapping

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/vfs"
)

// ErrDiskFull is returned by writes while the store's disk is (nearly)
// full. Nothing was written; the same write succeeds once space returns.
var ErrDiskFull = errors.New("mapping store: disk full, writes paused until space returns")

// ErrStoreFailed is returned by every write after Pebble reported a fatal
// write error (its commit pipeline cannot continue): the process must
// reopen the store, i.e. restart. Reads still work, and may see the failed
// write: Pebble applies a batch to memory before its WAL sync reports.
var ErrStoreFailed = errors.New("mapping store failed; restart to reopen it")

// ballastName is the file the store keeps beside Pebble's and deletes when
// the disk fills, so that the write that hit ENOSPC can complete.
const ballastName = "SUBSYNC-BALLAST"

// diskSpaceCheckEvery bounds how often a paused store asks the file
// system for free space.
const diskSpaceCheckEvery = time.Second

// diskGuard pauses writes from the moment the disk fills until it has
// room for the ballast again, and remembers a fatal Pebble error.
type diskGuard struct {
	fs      vfs.FS // the unwrapped file system: the ballast lives outside Pebble's view
	dir     string
	ballast int64 // bytes; 0: no ballast

	mu        sync.Mutex
	full      bool
	checkedAt time.Time
	failed    error
}

// fatalPanic is what pebbleLogger.Fatalf panics with, so that the write
// path can tell Pebble's fatal errors from bugs.
type fatalPanic struct{ msg string }

// onDiskFull runs inside Pebble's write when the file system returned
// ENOSPC: dropping the ballast lets that write be retried with room.
func (g *diskGuard) onDiskFull() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.full = true
	g.checkedAt = time.Time{}
	_ = g.fs.Remove(g.fs.PathJoin(g.dir, ballastName))
}

// admit reports whether a write may proceed.
func (g *diskGuard) admit() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.failed != nil {
		return g.failed
	}
	if !g.full {
		return nil
	}
	if time.Since(g.checkedAt) < diskSpaceCheckEvery {
		return ErrDiskFull
	}
	g.checkedAt = time.Now()
	if err := g.placeBallast(); err != nil {
		return fmt.Errorf("%w (%v)", ErrDiskFull, err)
	}
	g.full = false
	return nil
}

// placeBallast (re)creates the ballast when the disk has room for it and
// a margin as large again (g.mu held).
func (g *diskGuard) placeBallast() error {
	if g.ballast == 0 {
		return g.checkFree(1 << 20)
	}
	if err := g.checkFree(uint64(2 * g.ballast)); err != nil {
		return err
	}
	f, err := g.fs.Create(g.fs.PathJoin(g.dir, ballastName))
	if err != nil {
		return fmt.Errorf("creating ballast: %w", err)
	}
	err = f.Preallocate(0, g.ballast)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

func (g *diskGuard) checkFree(need uint64) error {
	du, err := g.fs.GetDiskUsage(g.dir)
	if err != nil {
		return fmt.Errorf("reading free space: %w", err)
	}
	if du.AvailBytes < need {
		return fmt.Errorf("%d bytes free, waiting for %d", du.AvailBytes, need)
	}
	return nil
}

// guarded runs one Pebble write: refused while the disk is full, and a
// fatal Pebble error becomes ErrStoreFailed, for good, instead of a panic.
func (g *diskGuard) guarded(what string, write func() error) (err error) {
	if err := g.admit(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		fp, ok := r.(fatalPanic)
		if !ok {
			panic(r)
		}
		g.mu.Lock()
		g.failed = fmt.Errorf("%w: %s", ErrStoreFailed, fp.msg)
		err = fmt.Errorf("%s: %w", what, g.failed)
		g.mu.Unlock()
	}()
	return write()
}

// WriteError reports why writes are refused now, or nil when they are not.
func (s *Store) WriteError() error {
	s.guard.mu.Lock()
	defer s.guard.mu.Unlock()
	switch {
	case s.guard.failed != nil:
		return s.guard.failed
	case s.guard.full:
		return ErrDiskFull
	}
	return nil
}

// open places the ballast of a writable store: at start the disk must have
// room for it, or the store starts paused.
func (g *diskGuard) open(readOnly bool) error {
	if readOnly || g.ballast == 0 {
		return nil
	}
	if err := g.fs.MkdirAll(g.dir, 0o755); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.placeBallast(); err != nil {
		g.full = true
		g.checkedAt = time.Now()
	}
	return nil
}
