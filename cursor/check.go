package cursor

import (
	"errors"
	"fmt"
	"sort"

	"github.com/subsync/subsync/ackset"
)

// ErrImpossibleCursor marks a cursor the topic's own layout contradicts.
var ErrImpossibleCursor = errors.New("cursor position the topic does not have")

// CheckCursor reports why s cannot be a true cursor of the topic: a
// mark-delete position or an individually deleted range that ends beyond
// the last confirmed entry, or at an entry of a ledger the topic does not
// have (a ledger missing from the list above the first one, or an entry
// past a closed ledger's end). The broker's answer is untrusted input: an
// impossible cursor exported would make the remotes acknowledge entries
// nobody consumed. Positions below the first ledger are trimmed history
// and pass; an entry id of -1 names no entry and passes.
func (ts TopicState) CheckCursor(s SubState) error {
	if err := ts.checkPosition(s.MarkDelete); err != nil {
		return fmt.Errorf("markDeletePosition %s: %w", s.MarkDelete, err)
	}
	for _, r := range s.Deleted {
		if err := ts.checkPosition(r.To); err != nil {
			return fmt.Errorf("individually deleted range (%s..%s]: %w", r.From, r.To, err)
		}
	}
	return nil
}

func (ts TopicState) checkPosition(p ackset.Position) error {
	if ts.LastConfirmed.Less(p) {
		return fmt.Errorf("%w: beyond the last confirmed entry %s", ErrImpossibleCursor, ts.LastConfirmed)
	}
	if p.Entry < -1 {
		return fmt.Errorf("%w: entry id %d", ErrImpossibleCursor, p.Entry)
	}
	if p.Entry == -1 || len(ts.Ledgers) == 0 || p.Ledger < ts.Ledgers[0].ID {
		return nil
	}
	i := sort.Search(len(ts.Ledgers), func(i int) bool { return ts.Ledgers[i].ID >= p.Ledger })
	if i == len(ts.Ledgers) || ts.Ledgers[i].ID != p.Ledger {
		return fmt.Errorf("%w: ledger %d is not one of the topic's", ErrImpossibleCursor, p.Ledger)
	}
	// The last ledger is being written: its entry count is not final, and
	// the LAC bounds it instead.
	if l := ts.Ledgers[i]; i < len(ts.Ledgers)-1 && p.Entry >= l.Entries {
		return fmt.Errorf("%w: ledger %d has %d entries", ErrImpossibleCursor, p.Ledger, l.Entries)
	}
	return nil
}
