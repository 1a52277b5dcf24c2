package mapping

import (
	"fmt"

	"github.com/subsync/subsync/ackset"
)

// RunBuilder turns the tail's stream of (local position, EntryID) pairs
// into runs, in memory. The zero value is ready to use; it is not safe for
// concurrent use.
type RunBuilder struct {
	done    []Run
	open    Run // Count == 0: no open run
	last    ackset.Position
	lastID  ackset.EntryID
	started bool
}

// ResumeAfter makes the builder reject every position at or before
// checkpoint, the last position a previous builder persisted. It must be
// called before the first Append.
func (b *RunBuilder) ResumeAfter(checkpoint ackset.Position) error {
	if b.started {
		return fmt.Errorf("resume after %s: builder already holds entries up to %s", checkpoint, b.last)
	}
	b.last = checkpoint
	b.started = true
	return nil
}

// Append adds one local entry. It extends the open run when local is the
// next entry of the same local ledger and id the next entry of the same
// origin ledger; any gap (a hidden marker, an unmapped entry, a ledger
// roll-over) starts a new run. Positions must strictly increase.
func (b *RunBuilder) Append(local ackset.Position, id ackset.EntryID) error {
	if err := b.checkAppend(local, id); err != nil {
		return err
	}
	switch {
	case b.open.Count > 0 && b.isNext(local, id):
		b.open.Count++
	default:
		if b.open.Count > 0 {
			b.done = append(b.done, b.open)
		}
		b.open = Run{Local: local, Origin: id.Origin, OriginLedger: id.Ledger, OriginEntry: id.Entry, Count: 1}
	}
	b.last, b.lastID, b.started = local, id, true
	return nil
}

func (b *RunBuilder) checkAppend(local ackset.Position, id ackset.EntryID) error {
	switch {
	case local.Ledger < 0 || local.Entry < 0:
		return fmt.Errorf("append %s: local position must have ledger and entry >= 0", local)
	case id.Origin == "" || len(id.Origin) > ackset.MaxOriginLen:
		return fmt.Errorf("append %s: origin cluster name of %d bytes, expected 1..%d", local, len(id.Origin), ackset.MaxOriginLen)
	case id.Ledger < 0 || id.Entry < 0 || id.Entry > ackset.MaxEntry:
		return fmt.Errorf("append %s: entry id %s must have ledger >= 0 and entry in [0, %d]", local, id, int64(ackset.MaxEntry))
	case b.started && !b.last.Less(local):
		return fmt.Errorf("append %s: position does not increase (last was %s)", local, b.last)
	}
	return nil
}

// isNext reports whether (local, id) directly follows the last appended
// entry. The overflow guards keep MaxInt64+1 from wrapping onto a match.
func (b *RunBuilder) isNext(local ackset.Position, id ackset.EntryID) bool {
	return local.Ledger == b.last.Ledger && local.Entry-1 == b.last.Entry &&
		id.Ledger == b.lastID.Ledger && id.Entry-1 == b.lastID.Entry &&
		id.Origin == b.lastID.Origin
}

// Last returns the last appended (or resumed-after) position.
func (b *RunBuilder) Last() (ackset.Position, bool) { return b.last, b.started }

// Pending is the number of runs Flush would return.
func (b *RunBuilder) Pending() int {
	if b.open.Count > 0 {
		return len(b.done) + 1
	}
	return len(b.done)
}

// Drain returns the completed runs (every run but the open one) and
// forgets them. The caller owns the returned slice.
func (b *RunBuilder) Drain() []Run {
	out := b.done
	b.done = nil
	return out
}

// Flush returns every run including the open one and forgets them. An
// entry appended afterwards that continues the flushed run starts a new
// run; Store.AppendTail merges it with the stored one.
func (b *RunBuilder) Flush() []Run {
	out := b.Drain()
	if b.open.Count > 0 {
		out = append(out, b.open)
		b.open = Run{}
	}
	return out
}
