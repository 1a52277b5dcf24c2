package ledger

import (
	"fmt"
	"strconv"
	"strings"
)

// Position is the place of an entry in a managed ledger: the ledger id and
// the entry id inside that ledger. Entry -1 means "before the first entry of
// the ledger", as in Pulsar.
type Position struct{ Ledger, Entry int64 }

// String prints the position as Pulsar does: "ledger:entry".
func (p Position) String() string {
	return strconv.FormatInt(p.Ledger, 10) + ":" + strconv.FormatInt(p.Entry, 10)
}

// Compare orders positions by ledger, then entry: -1, 0 or +1.
func (p Position) Compare(q Position) int {
	switch {
	case p.Ledger < q.Ledger:
		return -1
	case p.Ledger > q.Ledger:
		return 1
	case p.Entry < q.Entry:
		return -1
	case p.Entry > q.Entry:
		return 1
	}
	return 0
}

// Less reports whether p sorts before q.
func (p Position) Less(q Position) bool { return p.Compare(q) < 0 }

// ParsePosition reads "ledger:entry" (both signed decimal integers).
func ParsePosition(s string) (Position, error) {
	l, e, ok := strings.Cut(s, ":")
	if !ok {
		return Position{}, fmt.Errorf("parse position %q: want \"ledger:entry\"", s)
	}
	ledgerID, err := strconv.ParseInt(l, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("parse position %q: ledger id: %w", s, err)
	}
	entryID, err := strconv.ParseInt(e, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("parse position %q: entry id: %w", s, err)
	}
	return Position{Ledger: ledgerID, Entry: entryID}, nil
}
