package mapping

import (
	"errors"
	"log/slog"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/vfs"
)

// fillableFS is the OS file system with a switch that makes every write
// fail with ENOSPC, as a full disk does, until the ballast is removed.
type fillableFS struct {
	vfs.FS
	mu    sync.Mutex
	full  bool
	avail uint64
}

func (f *fillableFS) set(full bool, avail uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.full, f.avail = full, avail
}

func (f *fillableFS) isFull() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.full
}

func (f *fillableFS) Create(name string) (vfs.File, error) {
	file, err := f.FS.Create(name)
	return fillableFile{File: file, fs: f}, err
}

func (f *fillableFS) ReuseForWrite(oldname, newname string) (vfs.File, error) {
	file, err := f.FS.ReuseForWrite(oldname, newname)
	return fillableFile{File: file, fs: f}, err
}

func (f *fillableFS) Remove(name string) error {
	err := f.FS.Remove(name)
	if err == nil && f.PathBase(name) == ballastName {
		f.set(false, 0) // the ballast's blocks are free again, nothing more
	}
	return err
}

func (f *fillableFS) GetDiskUsage(string) (vfs.DiskUsage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return vfs.DiskUsage{AvailBytes: f.avail, TotalBytes: 1 << 40}, nil
}

type fillableFile struct {
	vfs.File
	fs *fillableFS
}

func (f fillableFile) Write(p []byte) (int, error) {
	if f.fs.isFull() {
		return 0, syscall.ENOSPC
	}
	return f.File.Write(p)
}

func (f fillableFile) WriteAt(p []byte, off int64) (int, error) {
	if f.fs.isFull() {
		return 0, syscall.ENOSPC
	}
	return f.File.WriteAt(p, off)
}

// noPanic runs f and turns a panic into a test failure.
func noPanic(t *testing.T, what string, f func() error) (err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s panicked: %v", what, r)
		}
	}()
	return f()
}

// Issue 8, finding 10: a full disk fails the write with an error, never a
// panic, and without a ballast the store stays failed until reopened.
func TestFullDiskFailsWritesWithoutPanic(t *testing.T) {
	fs := &fillableFS{FS: vfs.Default, avail: 1 << 40}
	s, err := Open(t.TempDir(), WithFS(fs), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	// A store whose commit pipeline failed cannot be closed cleanly; the
	// test leaves it to the process's end.
	mustAppendTail(t, s, topicA, pos(5, 0), mkRun(5, 0, "east", 5, 0, 1))
	fs.set(true, 0)
	err = noPanic(t, "AppendTail on a full disk", func() error {
		return s.AppendTail(topicA, []Run{mkRun(5, 1, "east", 5, 1, 1)}, pos(5, 1))
	})
	if !errors.Is(err, ErrStoreFailed) {
		t.Fatalf("AppendTail on a full disk: %v, want ErrStoreFailed", err)
	}
	fs.set(false, 1<<40)
	err = noPanic(t, "a later write", func() error { return s.PutExported(topicA, "sub", State{Seq: 1}) })
	if !errors.Is(err, ErrStoreFailed) || !errors.Is(s.WriteError(), ErrStoreFailed) {
		t.Fatalf("write after the failure: %v (WriteError %v), want ErrStoreFailed", err, s.WriteError())
	}
	// Reads still work (they may see the failed write: Pebble applied it
	// to memory before its WAL sync failed).
	if _, ok, err := s.TailCheckpoint(topicA); err != nil || !ok {
		t.Fatalf("reads after the failure: %t, %v", ok, err)
	}
}

// Issue 8, finding 10: with a ballast, the write that fills the disk still
// lands, writes then pause with ErrDiskFull and resume once space returns.
func TestFullDiskPausesWritesAndResumes(t *testing.T) {
	fs := &fillableFS{FS: vfs.Default, avail: 1 << 40}
	dir := t.TempDir()
	s, err := Open(dir, WithFS(fs), WithBallast(1<<20), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := vfs.Default.Stat(vfs.Default.PathJoin(dir, ballastName)); err != nil {
		t.Fatalf("no ballast: %v", err)
	}
	fs.set(true, 0)
	if err := noPanic(t, "the write that fills the disk", func() error {
		return s.AppendTail(topicA, []Run{mkRun(5, 0, "east", 5, 0, 1)}, pos(5, 0))
	}); err != nil {
		t.Fatalf("the write that fills the disk: %v, want it to land in the ballast's room", err)
	}
	err = noPanic(t, "a write on the full disk", func() error {
		return s.AppendTail(topicA, []Run{mkRun(5, 1, "east", 5, 1, 1)}, pos(5, 1))
	})
	if !errors.Is(err, ErrDiskFull) || !errors.Is(s.WriteError(), ErrDiskFull) {
		t.Fatalf("write on a full disk: %v (WriteError %v), want ErrDiskFull", err, s.WriteError())
	}
	fs.set(false, 1<<40)
	time.Sleep(diskSpaceCheckEvery + 100*time.Millisecond)
	if err := s.AppendTail(topicA, []Run{mkRun(5, 1, "east", 5, 1, 1)}, pos(5, 1)); err != nil {
		t.Fatalf("write after space returned: %v", err)
	}
	if s.WriteError() != nil {
		t.Fatalf("WriteError after space returned: %v", s.WriteError())
	}
	if _, err := vfs.Default.Stat(vfs.Default.PathJoin(dir, ballastName)); err != nil {
		t.Fatalf("ballast not placed again: %v", err)
	}
	assertRuns(t, s, topicA, mkRun(5, 0, "east", 5, 0, 2))
}
