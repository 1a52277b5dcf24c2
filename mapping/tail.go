package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble"

	"github.com/subsync/subsync/ackset"
)

// AppendTail stores runs (in local order, each after the previous) and the
// tail's checkpoint (the last local position the tail has processed) in
// one atomic, synced write. A first run that continues the stored last run
// is merged into it. Runs must start after the stored checkpoint, and the
// checkpoint may not move backwards or lie before the last run's end.
func (s *Store) AppendTail(topic string, runs []Run, checkpoint ackset.Position) error {
	if err := checkAppendTail(topic, runs, checkpoint); err != nil {
		return err
	}
	return s.writeTopic(topic, fmt.Sprintf("append tail of %q", topic), false, func(b *pebble.Batch) error {
		return s.appendTail(b, topic, coalesce(runs), checkpoint)
	})
}

func checkAppendTail(topic string, runs []Run, checkpoint ackset.Position) error {
	if err := checkName("topic", topic); err != nil {
		return fmt.Errorf("append tail: %w", err)
	}
	if err := ackset.ValidateRuns(runs); err != nil {
		return fmt.Errorf("append tail of %q: %w", topic, err)
	}
	if n := len(runs); n > 0 && checkpoint.Less(runs[n-1].Last()) {
		return fmt.Errorf("append tail of %q: checkpoint %s is before the end %s of the last run", topic, checkpoint, runs[n-1].Last())
	}
	return nil
}

// appendTail reads the stored state from the DB (the topic lock keeps it
// still) and writes only to b.
func (s *Store) appendTail(b *pebble.Batch, topic string, runs []Run, checkpoint ackset.Position) error {
	if err := s.checkAfterStored(s.db, topic, runs, checkpoint); err != nil {
		return err
	}
	stored, hasStored, err := s.lastRun(s.db, topic)
	if err != nil {
		return err
	}
	if hasStored && len(runs) > 0 && !stored.Last().Less(runs[0].Local) {
		return fmt.Errorf("run at %s does not start after the stored run %s", runs[0].Local, stored)
	}
	added, err := s.putNewRuns(b, topic, runs, stored, hasStored)
	if err != nil {
		return err
	}
	if err := s.addRunCount(b, topic, added); err != nil {
		return err
	}
	return b.Set(checkpointKey(topic), encodePositionValue(checkpoint), nil)
}

// putNewRuns writes runs, merging the first into stored when it continues
// it, flags overlapping origin ranges, and returns how many runs it added.
func (s *Store) putNewRuns(b *pebble.Batch, topic string, runs []Run, stored Run, hasStored bool) (added int64, err error) {
	ov, err := newOverlapChecker(s.db, topic)
	if err != nil {
		return 0, err
	}
	defer func() { err = errors.Join(err, ov.close()) }()
	for i, r := range runs {
		overlaps, err := ov.check(r)
		if err != nil {
			return 0, err
		}
		if overlaps {
			if err := b.Set(overlapKey(topic, r.Origin, r.OriginLedger), encodeMarkerValue(), nil); err != nil {
				return 0, err
			}
		}
		if i == 0 && hasStored && continues(stored, r) {
			stored.Count += r.Count
			r = stored
		} else {
			added++
		}
		if err := putRun(b, topic, r); err != nil {
			return 0, err
		}
	}
	return added, nil
}

// checkAfterStored rejects writes that would rewrite the past: the stored
// checkpoint covers everything stored, so new runs must lie after it.
func (s *Store) checkAfterStored(r reader, topic string, runs []Run, checkpoint ackset.Position) error {
	cp, found, err := s.checkpoint(r, topic)
	if err != nil || !found {
		return err
	}
	if checkpoint.Less(cp) {
		return fmt.Errorf("checkpoint %s is before the stored checkpoint %s", checkpoint, cp)
	}
	if len(runs) > 0 && !cp.Less(runs[0].Local) {
		return fmt.Errorf("run at %s does not start after the stored checkpoint %s", runs[0].Local, cp)
	}
	return nil
}

// putRun writes the forward and reverse records of r.
func putRun(b *pebble.Batch, topic string, r Run) error {
	if err := b.Set(runKey(topic, r.Local), encodeRunValue(r), nil); err != nil {
		return fmt.Errorf("write run at %s: %w", r.Local, err)
	}
	if err := b.Set(reverseKey(topic, r), encodeCountValue(r.Count), nil); err != nil {
		return fmt.Errorf("write reverse index of run at %s: %w", r.Local, err)
	}
	return nil
}

func deleteRun(b *pebble.Batch, topic string, r Run) error {
	if err := b.Delete(runKey(topic, r.Local), nil); err != nil {
		return fmt.Errorf("delete run at %s: %w", r.Local, err)
	}
	if err := b.Delete(reverseKey(topic, r), nil); err != nil {
		return fmt.Errorf("delete reverse index of run at %s: %w", r.Local, err)
	}
	return nil
}

// overlapChecker tells which new runs overlap, in origin space, a stored
// run or an earlier new run of the same write (the replicator re-sent
// entries). Their origin ledger gets an overlap flag, and reverse lookups
// then scan the whole origin ledger instead of trusting the nearest run.
// While a ledger is unflagged its stored ranges are disjoint, so the
// stored run with the greatest origin start at or below a new run's last
// origin entry is the only stored candidate. One iterator serves every
// check of a write: creating Pebble iterators is the expensive part.
type overlapChecker struct {
	topic   string
	it      *pebble.Iterator
	flagged map[originLedger]bool
	written map[originLedger][]Run
}

func newOverlapChecker(r reader, topic string) (*overlapChecker, error) {
	tp := topicPrefix(topic)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: tp, UpperBound: prefixEnd(tp)})
	if err != nil {
		return nil, fmt.Errorf("iterate %q: %w", topic, err)
	}
	return &overlapChecker{topic: topic, it: it, flagged: map[originLedger]bool{}, written: map[originLedger][]Run{}}, nil
}

func (c *overlapChecker) close() error { return c.it.Close() }

// check reports whether r newly makes its origin ledger overlapping.
func (c *overlapChecker) check(r Run) (bool, error) {
	ol := originLedger{r.Origin, r.OriginLedger}
	flagged, known := c.flagged[ol]
	if !known {
		flag := overlapKey(c.topic, r.Origin, r.OriginLedger)
		flagged = c.it.SeekGE(flag) && bytes.Equal(c.it.Key(), flag)
		c.flagged[ol] = flagged
	}
	if flagged {
		return false, nil
	}
	overlaps, err := c.overlapsStored(r)
	if err != nil {
		return false, err
	}
	for _, w := range c.written[ol] {
		overlaps = overlaps || (w.OriginEntry <= runOriginLast(r) && r.OriginEntry <= runOriginLast(w))
	}
	c.written[ol] = append(c.written[ol], r)
	c.flagged[ol] = overlaps
	return overlaps, nil
}

func (c *overlapChecker) overlapsStored(r Run) (bool, error) {
	prefix := reverseLedgerPrefix(c.topic, r.Origin, r.OriginLedger)
	if !c.it.SeekLT(prefixEnd(appendInt64(prefix, runOriginLast(r)))) || !bytes.HasPrefix(c.it.Key(), prefix) {
		return false, c.it.Error()
	}
	near, err := decodeReverse(c.topic, c.it.Key(), c.it.Value())
	if err != nil {
		return false, err
	}
	return runOriginLast(near) >= r.OriginEntry, nil
}

func decodeReverse(topic string, key, value []byte) (Run, error) {
	r, err := decodeReverseKey(topic, key)
	if err != nil {
		return Run{}, err
	}
	if r.Count, err = decodeCountValue("reverse index value", value); err != nil {
		return Run{}, err
	}
	if err := r.Validate(); err != nil {
		return Run{}, fmt.Errorf("%w: reverse index: %w", ErrCorrupt, err)
	}
	return r, nil
}

func (s *Store) runCount(r reader, topic string) (int64, error) {
	v, found, err := s.get(r, metaKey(topic))
	if err != nil || !found {
		return 0, err
	}
	return decodeCountValue("topic meta value", v)
}

func (s *Store) addRunCount(b *pebble.Batch, topic string, delta int64) error {
	if delta == 0 {
		return nil
	}
	n, err := s.runCount(s.db, topic) // the batch never writes the count twice
	if err != nil {
		return err
	}
	if n+delta < 0 {
		return fmt.Errorf("%w: run count %d cannot drop by %d", ErrCorrupt, n, -delta)
	}
	return b.Set(metaKey(topic), encodeCountValue(n+delta), nil)
}

func (s *Store) checkpoint(r reader, topic string) (ackset.Position, bool, error) {
	v, found, err := s.get(r, checkpointKey(topic))
	if err != nil || !found {
		return ackset.Position{}, false, err
	}
	p, err := decodePositionValue("tail checkpoint value", v)
	return p, err == nil, err
}

// TailCheckpoint returns the last local position the tail of topic has
// processed, if any.
func (s *Store) TailCheckpoint(topic string) (ackset.Position, bool, error) {
	if err := checkName("topic", topic); err != nil {
		return ackset.Position{}, false, fmt.Errorf("tail checkpoint: %w", err)
	}
	if err := s.enter(); err != nil {
		return ackset.Position{}, false, err
	}
	defer s.leave()
	p, found, err := s.checkpoint(s.db, topic)
	if err != nil {
		return ackset.Position{}, false, fmt.Errorf("tail checkpoint of %q: %w", topic, err)
	}
	return p, found, nil
}

// LastRun returns the run with the highest local position of topic.
func (s *Store) LastRun(topic string) (Run, bool, error) {
	if err := checkName("topic", topic); err != nil {
		return Run{}, false, fmt.Errorf("last run: %w", err)
	}
	if err := s.enter(); err != nil {
		return Run{}, false, err
	}
	defer s.leave()
	r, found, err := s.lastRun(s.db, topic)
	if err != nil {
		return Run{}, false, fmt.Errorf("last run of %q: %w", topic, err)
	}
	return r, found, nil
}

func (s *Store) lastRun(r reader, topic string) (Run, bool, error) {
	prefix := topicKindPrefix(topic, kindRun)
	return s.runBelow(r, topic, prefixEnd(prefix))
}

// runBelow returns the last run whose key is below upper.
func (s *Store) runBelow(r reader, topic string, upper []byte) (Run, bool, error) {
	k, v, found, err := last(r, topicKindPrefix(topic, kindRun), upper)
	if err != nil || !found {
		return Run{}, false, err
	}
	run, err := decodeForward(topic, k, v)
	return run, err == nil, err
}

func decodeForward(topic string, key, value []byte) (Run, error) {
	local, err := decodeRunKey(topic, key)
	if err != nil {
		return Run{}, err
	}
	return decodeRunValue(local, value)
}

// LookupEntry returns the EntryID of the entry at local position p.
func (s *Store) LookupEntry(topic string, p ackset.Position) (ackset.EntryID, bool, error) {
	if err := checkName("topic", topic); err != nil {
		return ackset.EntryID{}, false, fmt.Errorf("look up %s: %w", p, err)
	}
	if err := s.enter(); err != nil {
		return ackset.EntryID{}, false, err
	}
	defer s.leave()
	r, found, err := s.runBelow(s.db, topic, prefixEnd(runKey(topic, p)))
	if err != nil {
		return ackset.EntryID{}, false, fmt.Errorf("look up %s in %q: %w", p, topic, err)
	}
	if !found || !r.Contains(p) {
		return ackset.EntryID{}, false, nil
	}
	return ackset.EntryID{Origin: r.Origin, Ledger: r.OriginLedger, Entry: r.OriginEntry + p.Entry - r.Local.Entry}, true, nil
}

// ScanRuns calls yield, in local order, for every run of topic holding at
// least one position in [from, to], until yield returns false. Runs are
// passed whole, not clipped to the interval. yield must not call the
// Store: the scan holds a read guard against Close.
func (s *Store) ScanRuns(topic string, from, to ackset.Position, yield func(Run) bool) error {
	if err := checkName("topic", topic); err != nil {
		return fmt.Errorf("scan runs: %w", err)
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	if err := s.scanRuns(s.db, topic, from, to, yield); err != nil {
		return fmt.Errorf("scan runs of %q from %s to %s: %w", topic, from, to, err)
	}
	return nil
}

func (s *Store) scanRuns(r reader, topic string, from, to ackset.Position, yield func(Run) bool) error {
	if to.Less(from) {
		return nil
	}
	start := runKey(topic, from)
	first, found, err := s.runBelow(r, topic, prefixEnd(start))
	if err != nil {
		return err
	}
	if found && !first.Last().Less(from) {
		start = runKey(topic, first.Local)
	}
	return scan(r, start, prefixEnd(runKey(topic, to)), func(k, v []byte) (bool, error) {
		run, err := decodeForward(topic, k, v)
		if err != nil {
			return false, err
		}
		return yield(run), nil
	})
}

// Runs returns the runs ScanRuns would visit.
func (s *Store) Runs(topic string, from, to ackset.Position) ([]Run, error) {
	var out []Run
	err := s.ScanRuns(topic, from, to, func(r Run) bool {
		out = append(out, r)
		return true
	})
	return out, err
}

// OriginRuns returns the runs of topic whose origin range, in ledger
// originLedger of cluster origin, shares an entry with [fromEntry,
// toEntry]. They are sorted by origin entry, then local position. More
// than one run holds the same origin entry when the replicator re-sent it.
func (s *Store) OriginRuns(topic, origin string, originLedger, fromEntry, toEntry int64) ([]Run, error) {
	if err := errors.Join(checkName("topic", topic), checkName("origin cluster", origin)); err != nil {
		return nil, fmt.Errorf("origin runs: %w", err)
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	out, err := s.originRuns(s.db, topic, origin, originLedger, fromEntry, toEntry)
	if err != nil {
		return nil, fmt.Errorf("origin runs of %q for %s/%d:%d..%d: %w", topic, origin, originLedger, fromEntry, toEntry, err)
	}
	return out, nil
}

// originRuns uses one iterator over the topic's records for both the
// overlap flag and the reverse index: lookups are hot during import.
func (s *Store) originRuns(r reader, topic, origin string, originLedger, fromEntry, toEntry int64) (out []Run, err error) {
	if toEntry < fromEntry {
		return nil, nil
	}
	tp := topicPrefix(topic)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: tp, UpperBound: prefixEnd(tp)})
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, it.Close()) }()
	prefix := reverseLedgerPrefix(topic, origin, originLedger)
	upper := prefixEnd(appendInt64(prefix, toEntry))
	for ok := seekReverseStart(it, overlapKey(topic, origin, originLedger), prefix, fromEntry); ok && bytes.Compare(it.Key(), upper) < 0; ok = it.Next() {
		run, err := decodeReverse(topic, it.Key(), it.Value())
		if err != nil {
			return nil, err
		}
		if runOriginLast(run) >= fromEntry {
			out = append(out, run)
		}
	}
	return out, nil
}

// seekReverseStart positions it on the first reverse record that can hold
// fromEntry: the origin ledger's first record when its ranges overlap,
// else the nearest record at or below fromEntry (disjoint ranges: no
// earlier one can reach it), else the first one above.
func seekReverseStart(it *pebble.Iterator, flag, prefix []byte, fromEntry int64) bool {
	if it.SeekGE(flag) && bytes.Equal(it.Key(), flag) {
		return it.SeekGE(prefix)
	}
	if it.SeekLT(prefixEnd(appendInt64(prefix, fromEntry))) && bytes.HasPrefix(it.Key(), prefix) {
		return true
	}
	return it.SeekGE(appendInt64(prefix, fromEntry))
}

// LocalPositions returns every local position holding a copy of id, in
// local order (usually one; more when the replicator re-sent the entry).
func (s *Store) LocalPositions(topic string, id ackset.EntryID) ([]ackset.Position, error) {
	runs, err := s.OriginRuns(topic, id.Origin, id.Ledger, id.Entry, id.Entry)
	if err != nil {
		return nil, err
	}
	out := make([]ackset.Position, 0, len(runs))
	for _, r := range runs {
		out = append(out, ackset.Position{Ledger: r.Local.Ledger, Entry: r.Local.Entry + id.Entry - r.OriginEntry})
	}
	slices.SortFunc(out, ackset.Position.Compare)
	return out, nil
}

// Prune deletes, in one atomic write, every run of topic wholly below
// local position below, and trims the run that crosses it so it starts at
// below. The checkpoint is kept.
func (s *Store) Prune(topic string, below ackset.Position) error {
	if err := checkName("topic", topic); err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	// Indexed: pruning reads back the runs it is rewriting.
	return s.writeTopic(topic, fmt.Sprintf("prune %q below %s", topic, below), true, func(b *pebble.Batch) error {
		return s.prune(b, topic, below)
	})
}

type originLedger struct {
	origin string
	ledger int64
}

func (s *Store) prune(b *pebble.Batch, topic string, below ackset.Position) error {
	var doomed []Run
	err := scan(s.db, topicKindPrefix(topic, kindRun), runKey(topic, below), func(k, v []byte) (bool, error) {
		r, err := decodeForward(topic, k, v)
		doomed = append(doomed, r)
		return err == nil, err
	})
	if err != nil {
		return err
	}
	emptied := map[originLedger]bool{}
	removed := int64(0)
	for _, r := range doomed {
		if err := deleteRun(b, topic, r); err != nil {
			return err
		}
		if r.Last().Less(below) {
			removed++
			emptied[originLedger{r.Origin, r.OriginLedger}] = true
			continue
		}
		if err := putRun(b, topic, trimRun(r, below)); err != nil {
			return err
		}
	}
	if err := s.addRunCount(b, topic, -removed); err != nil {
		return err
	}
	return s.dropStaleOverlapFlags(b, topic, emptied)
}

// trimRun drops the entries of r before below, which r must cover.
func trimRun(r Run, below ackset.Position) Run {
	d := below.Entry - r.Local.Entry
	r.Local = below
	r.OriginEntry += d
	r.Count -= d
	return r
}

// dropStaleOverlapFlags removes the overlap flag of each origin ledger
// that no run references any more. A flag whose overlapping runs were
// pruned while others remain stays: it only slows lookups.
func (s *Store) dropStaleOverlapFlags(b *pebble.Batch, topic string, candidates map[originLedger]bool) error {
	for ol := range candidates {
		prefix := reverseLedgerPrefix(topic, ol.origin, ol.ledger)
		_, _, found, err := last(b, prefix, prefixEnd(prefix))
		if err != nil {
			return err
		}
		if !found {
			if err := b.Delete(overlapKey(topic, ol.origin, ol.ledger), nil); err != nil {
				return fmt.Errorf("drop overlap flag of %s/%d: %w", ol.origin, ol.ledger, err)
			}
		}
	}
	return nil
}
