package mapping

import (
	"fmt"

	"github.com/cockroachdb/pebble"
)

// CheckTopic verifies the tail index of topic against its invariants:
// runs decode, are sorted without overlap and end at or before the
// checkpoint; the reverse index holds exactly one record per run with the
// same count; the stored run count is right; and every origin ledger whose
// runs overlap carries its overlap flag. It reads from one consistent
// snapshot and is meant for tests and inspection, not the hot path.
func (s *Store) CheckTopic(topic string) error {
	if err := checkName("topic", topic); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	snap := s.db.NewSnapshot()
	defer snap.Close()
	if err := s.checkTopic(snap, topic); err != nil {
		return fmt.Errorf("check %q: %w", topic, err)
	}
	return nil
}

func (s *Store) checkTopic(r *pebble.Snapshot, topic string) error {
	runs, err := s.checkForward(r, topic)
	if err != nil {
		return err
	}
	if err := s.checkCheckpointAndCount(r, topic, runs); err != nil {
		return err
	}
	return s.checkReverse(r, topic, runs)
}

// checkForward decodes every run and checks their order.
func (s *Store) checkForward(r *pebble.Snapshot, topic string) ([]Run, error) {
	var runs []Run
	prefix := topicKindPrefix(topic, kindRun)
	err := scan(r, prefix, prefixEnd(prefix), func(k, v []byte) (bool, error) {
		run, err := decodeForward(topic, k, v)
		if err != nil {
			return false, err
		}
		if n := len(runs); n > 0 && !runs[n-1].Last().Less(run.Local) {
			return false, fmt.Errorf("run %s starts at or before the end of run %s", run, runs[n-1])
		}
		runs = append(runs, run)
		return true, nil
	})
	return runs, err
}

func (s *Store) checkCheckpointAndCount(r *pebble.Snapshot, topic string, runs []Run) error {
	cp, found, err := s.checkpoint(r, topic)
	if err != nil {
		return err
	}
	if n := len(runs); n > 0 && (!found || cp.Less(runs[n-1].Last())) {
		return fmt.Errorf("last run %s ends beyond the checkpoint (%s, stored: %t)", runs[n-1], cp, found)
	}
	count, err := s.runCount(r, topic)
	if err != nil {
		return err
	}
	if count != int64(len(runs)) {
		return fmt.Errorf("stored run count %d, found %d runs", count, len(runs))
	}
	return nil
}

// checkReverse matches the reverse records one to one with runs and
// checks, per origin ledger, that overlapping ranges are flagged. Reverse
// keys sort by origin ledger, then origin start, so one pass tracking the
// furthest end suffices. Two scans instead of a lookup per run keep this
// fast under the race detector, where Pebble checks its invariants.
func (s *Store) checkReverse(r *pebble.Snapshot, topic string, runs []Run) error {
	want := make(map[Run]bool, len(runs))
	for _, run := range runs {
		want[run] = true
	}
	var (
		first   = true
		group   originLedger
		reach   int64 // furthest origin entry covered so far in group
		flagged bool
	)
	prefix := topicKindPrefix(topic, kindReverse)
	err := scan(r, prefix, prefixEnd(prefix), func(k, v []byte) (bool, error) {
		run, err := decodeReverse(topic, k, v)
		if err != nil {
			return false, err
		}
		if !want[run] {
			return false, fmt.Errorf("reverse index record %s matches no run", run)
		}
		delete(want, run)
		if first || group != (originLedger{run.Origin, run.OriginLedger}) {
			first, group, reach, flagged = false, originLedger{run.Origin, run.OriginLedger}, -1, false
		} else if run.OriginEntry <= reach && !flagged {
			v, found, err := s.get(r, overlapKey(topic, run.Origin, run.OriginLedger))
			if err != nil {
				return false, err
			}
			if !found {
				return false, fmt.Errorf("run %s overlaps an earlier run of its origin ledger, which is not flagged", run)
			}
			if err := decodeMarkerValue("overlap flag value", v); err != nil {
				return false, err
			}
			flagged = true
		}
		reach = max(reach, runOriginLast(run))
		return true, nil
	})
	if err != nil {
		return err
	}
	for run := range want {
		return fmt.Errorf("run %s has no reverse index record", run)
	}
	return nil
}
