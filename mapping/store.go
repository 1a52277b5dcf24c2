package mapping

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"
)

// ErrClosed is returned by every method called after Close.
var ErrClosed = errors.New("mapping store closed")

// lockStripes bounds the per-topic write locks: two topics share a lock
// only when their hashes collide, which merely serialises them.
const lockStripes = 256

// Store is the daemon's durable state over Pebble. It is safe for
// concurrent use; writes to one topic are serialised, writes to different
// topics proceed in parallel and share WAL syncs.
type Store struct {
	db    *pebble.DB
	guard *diskGuard
	seed  maphash.Seed
	locks [lockStripes]sync.Mutex

	closeMu sync.RWMutex
	closed  bool
}

type config struct {
	cacheSize int64
	logger    *slog.Logger
	readOnly  bool
	fs        vfs.FS
	ballast   int64
}

// Option configures Open.
type Option func(*config)

// WithCacheSize sets Pebble's block cache size in bytes (default 64 MiB:
// lookups miss the cache often when it is smaller than the index).
func WithCacheSize(bytes int64) Option { return func(c *config) { c.cacheSize = bytes } }

// WithLogger routes Pebble's log lines (background errors, slow disks) to
// l (default: slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithBallast keeps a file of that many bytes beside the store and deletes
// it when the disk fills, so that the write that hit the full disk still
// completes; writes then pause (ErrDiskFull) until the disk has room for
// the ballast twice over, and resume by themselves. Without a ballast a
// full disk fails the store (ErrStoreFailed) until it is reopened.
func WithBallast(bytes int64) Option { return func(c *config) { c.ballast = bytes } }

// WithFS sets the file system (default: the operating system's).
func WithFS(fs vfs.FS) Option { return func(c *config) { c.fs = fs } }

// ReadOnly opens an existing store for inspection; writes then fail.
func ReadOnly() Option { return func(c *config) { c.readOnly = true } }

// Open opens (creating if needed) the store in directory dir.
func Open(dir string, opts ...Option) (*Store, error) {
	cfg := config{cacheSize: 64 << 20, logger: slog.Default(), fs: vfs.Default}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.cacheSize <= 0 {
		return nil, fmt.Errorf("open mapping store %s: cache size %d, expected > 0", dir, cfg.cacheSize)
	}
	if cfg.ballast < 0 {
		return nil, fmt.Errorf("open mapping store %s: ballast %d bytes, expected >= 0", dir, cfg.ballast)
	}
	guard := &diskGuard{fs: cfg.fs, dir: dir, ballast: cfg.ballast}
	if err := guard.open(cfg.readOnly); err != nil {
		return nil, fmt.Errorf("open mapping store %s: %w", dir, err)
	}
	cache := pebble.NewCache(cfg.cacheSize)
	defer cache.Unref()
	db, err := pebble.Open(dir, &pebble.Options{
		Cache:              cache,
		FS:                 vfs.OnDiskFull(cfg.fs, guard.onDiskFull),
		FormatMajorVersion: pebble.FormatVirtualSSTables,
		Logger:             pebbleLogger{cfg.logger},
		EventListener:      eventListener(cfg.logger),
		ReadOnly:           cfg.readOnly,
	})
	if err != nil {
		return nil, fmt.Errorf("open mapping store %s: %w", dir, err)
	}
	s := &Store{db: db, guard: guard, seed: maphash.MakeSeed()}
	if err := s.checkSchema(cfg.readOnly); err != nil {
		return nil, errors.Join(fmt.Errorf("open mapping store %s: %w", dir, err), db.Close())
	}
	return s, nil
}

// schemaVersion changes only with an incompatible key layout.
const schemaVersion = 1

func (s *Store) checkSchema(readOnly bool) error {
	v, found, err := s.get(s.db, schemaKey)
	switch {
	case err != nil:
		return err
	case !found && readOnly:
		return nil
	case !found:
		return s.guard.guarded("write schema version", func() error {
			return s.db.Set(schemaKey, []byte{schemaVersion}, pebble.Sync)
		})
	case len(v) != 1 || v[0] != schemaVersion:
		return fmt.Errorf("schema version %v, expected [%d]", v, schemaVersion)
	}
	return nil
}

// Close flushes nothing extra (every write is already synced) and releases
// the store. Later calls return ErrClosed.
func (s *Store) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.closed = true
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close mapping store: %w", err)
	}
	return nil
}

// enter guards against use after Close; pair with s.leave.
func (s *Store) enter() error {
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return ErrClosed
	}
	return nil
}

func (s *Store) leave() { s.closeMu.RUnlock() }

func (s *Store) topicLock(topic string) *sync.Mutex {
	return &s.locks[maphash.String(s.seed, topic)%lockStripes]
}

// reader is what both *pebble.DB and an indexed *pebble.Batch offer.
type reader interface {
	Get(key []byte) ([]byte, io.Closer, error)
	NewIter(o *pebble.IterOptions) (*pebble.Iterator, error)
}

// get copies the value of key, reporting whether it exists.
func (s *Store) get(r reader, key []byte) ([]byte, bool, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read key %q: %w", key, err)
	}
	out := append([]byte{}, v...)
	return out, true, closer.Close()
}

// scan calls fn for every key in [lower, upper) in order until fn returns
// false or an error.
func scan(r reader, lower, upper []byte, fn func(key, value []byte) (bool, error)) (err error) {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("iterate from %q: %w", lower, err)
	}
	defer func() { err = errors.Join(err, it.Close()) }()
	for ok := it.First(); ok; ok = it.Next() {
		more, err := fn(it.Key(), it.Value())
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// last returns a copy of the last key and value in [lower, upper).
func last(r reader, lower, upper []byte) (key, value []byte, found bool, err error) {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, nil, false, fmt.Errorf("iterate below %q: %w", upper, err)
	}
	defer func() { err = errors.Join(err, it.Close()) }()
	if !it.Last() {
		return nil, nil, false, nil
	}
	return append([]byte{}, it.Key()...), append([]byte{}, it.Value()...), true, nil
}

// commit writes b atomically and durably.
func (s *Store) commit(b *pebble.Batch, what string) error {
	return s.guard.guarded(what, func() error {
		if err := b.Commit(pebble.Sync); err != nil {
			return fmt.Errorf("%s: commit: %w", what, err)
		}
		return nil
	})
}

// Topics lists every topic that has any stored state, sorted by name.
func (s *Store) Topics() ([]string, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	return s.topics()
}

func (s *Store) topics() (out []string, err error) {
	lower := []byte{tagTopic}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(lower)})
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	defer func() { err = errors.Join(err, it.Close()) }()
	for ok := it.First(); ok; {
		topic, _, _, err := decodeTopicKey(it.Key())
		if err != nil {
			return nil, fmt.Errorf("list topics: %w", err)
		}
		out = append(out, topic)
		ok = it.SeekGE(prefixEnd(topicPrefix(topic)))
	}
	slices.Sort(out) // keys order names by length first
	return out, nil
}

// Stats summarises the store.
type Stats struct {
	Topics    int
	Runs      int64  // tail index runs over all topics
	DiskBytes uint64 // Pebble's estimate of its files' size
}

// Stats counts topics and runs and reports the disk footprint.
func (s *Store) Stats() (Stats, error) {
	if err := s.enter(); err != nil {
		return Stats{}, err
	}
	defer s.leave()
	topics, err := s.topics()
	if err != nil {
		return Stats{}, err
	}
	st := Stats{Topics: len(topics), DiskBytes: s.db.Metrics().DiskSpaceUsage()}
	for _, t := range topics {
		n, err := s.runCount(s.db, t)
		if err != nil {
			return Stats{}, fmt.Errorf("stats: %w", err)
		}
		st.Runs += n
	}
	return st, nil
}

// DeleteTopic removes every record of topic in one atomic write.
func (s *Store) DeleteTopic(topic string) error {
	if err := checkName("topic", topic); err != nil {
		return fmt.Errorf("delete topic: %w", err)
	}
	p := topicPrefix(topic)
	return s.writeTopic(topic, fmt.Sprintf("delete topic %q", topic), false, func(b *pebble.Batch) error {
		return b.DeleteRange(p, prefixEnd(p), nil)
	})
}

// writeTopic fills one batch under the topic's lock and commits it
// synced: the writes of one call land together or not at all. what names
// the write in errors; indexed batches can read their own writes.
func (s *Store) writeTopic(topic, what string, indexed bool, fill func(*pebble.Batch) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	mu := s.topicLock(topic)
	mu.Lock()
	defer mu.Unlock()
	var b *pebble.Batch
	if indexed {
		b = s.db.NewIndexedBatch()
	} else {
		b = s.db.NewBatch()
	}
	defer b.Close()
	if err := fill(b); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return s.commit(b, what)
}

// pebbleLogger adapts Pebble's printf logger to slog. Pebble's info lines
// (WAL replay, compactions) are debug detail for subsync; what needs
// attention arrives through eventListener.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), slog.String("component", "pebble"))
}

func eventListener(l *slog.Logger) *pebble.EventListener {
	l = l.With(slog.String("component", "pebble"))
	return &pebble.EventListener{
		BackgroundError: func(err error) { l.Error("background error", slog.Any("err", err)) },
		DiskSlow: func(info pebble.DiskSlowInfo) {
			l.Warn("slow disk", slog.String("path", info.Path), slog.Duration("duration", info.Duration))
		},
		WriteStallBegin: func(info pebble.WriteStallBeginInfo) { l.Warn("write stall", slog.String("reason", info.Reason)) },
		WriteStallEnd:   func() { l.Info("write stall ended") },
	}
}

// Fatalf is called by Pebble on an unrecoverable error (a failed WAL
// write among them); Pebble expects it not to return. It panics with a
// fatalPanic, which the store's write path turns into ErrStoreFailed: a
// full disk must not take the daemon down.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg, slog.String("component", "pebble"))
	panic(fatalPanic{msg: "pebble: " + msg})
}
