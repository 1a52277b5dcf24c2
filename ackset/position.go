package ackset

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Position is the place of an entry in one cluster's copy of a topic
// partition: the BookKeeper ledger id and the entry id inside it.
// Entry -1 appears only as the open lower bound of a range ("L:-1" means
// "before entry 0 of ledger L").
type Position struct {
	Ledger int64
	Entry  int64
}

// String formats p as Pulsar does: "ledger:entry".
func (p Position) String() string {
	return strconv.FormatInt(p.Ledger, 10) + ":" + strconv.FormatInt(p.Entry, 10)
}

// Less orders positions by ledger, then entry, as the managed ledger does.
func (p Position) Less(q Position) bool {
	if p.Ledger != q.Ledger {
		return p.Ledger < q.Ledger
	}
	return p.Entry < q.Entry
}

// Compare returns -1, 0 or +1 as p is before, equal to or after q.
func (p Position) Compare(q Position) int {
	switch {
	case p.Less(q):
		return -1
	case q.Less(p):
		return 1
	}
	return 0
}

// ParsePosition parses "ledger:entry". The ledger must be >= -1 and the
// entry >= -1 (Pulsar prints -1 for "before the first entry").
func ParsePosition(s string) (Position, error) {
	l, e, ok := strings.Cut(s, ":")
	if !ok {
		return Position{}, fmt.Errorf("position %q: expected \"ledger:entry\"", s)
	}
	ledger, err := parseInt64(l)
	if err != nil || ledger < -1 {
		return Position{}, fmt.Errorf("position %q: ledger %q is not an integer >= -1", s, l)
	}
	entry, err := parseInt64(e)
	if err != nil || entry < -1 {
		return Position{}, fmt.Errorf("position %q: entry %q is not an integer >= -1", s, e)
	}
	return Position{Ledger: ledger, Entry: entry}, nil
}

func parseInt64(s string) (int64, error) {
	// strconv accepts "+5"; Pulsar never prints a sign other than "-".
	if strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("unexpected sign in %q", s)
	}
	return strconv.ParseInt(s, 10, 64)
}

// EntryID is the cluster-independent identity of an entry: the cluster
// that first wrote it and its position there. A locally produced entry has
// Origin = the local cluster; a replicated copy carries the origin from its
// replicated_from field and the position from the broker's
// __MSG_PROP_REPL_SOURCE_POSITION stamp.
type EntryID struct {
	Origin string
	Ledger int64
	Entry  int64
}

// Position returns the entry's position in its origin cluster.
func (id EntryID) Position() Position { return Position{Ledger: id.Ledger, Entry: id.Entry} }

// String formats the id as "origin/ledger:entry".
func (id EntryID) String() string { return id.Origin + "/" + id.Position().String() }

// MaxEntry is the largest entry id an ack set can hold: entries are kept in
// 32-bit roaring bitmaps per ledger. BookKeeper ledgers roll over long
// before this (Pulsar's default is 50,000 entries per ledger).
const MaxEntry = math.MaxUint32
