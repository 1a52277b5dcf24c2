package cursor

import (
	"math"

	"github.com/subsync/subsync/ackset"
)

// layout is what is known of a topic's ledgers: which ledgers exist, in
// which order, and how many entries the closed ones hold. Everything it does
// not know it reports as unknown, never guessed.
type layout struct {
	lac     ackset.Position
	ledgers []Ledger
	index   map[int64]int
	sizeFn  func(int64) (int64, bool)
}

func newLayout(t TopicState, sizeFn func(int64) (int64, bool)) layout {
	lay := layout{lac: t.LastConfirmed, sizeFn: sizeFn}
	// Only a strictly ascending list is a layout; anything else is ignored.
	for i, l := range t.Ledgers {
		if l.ID < 0 || l.Entries < 0 || (i > 0 && l.ID <= t.Ledgers[i-1].ID) {
			return lay
		}
	}
	lay.ledgers = t.Ledgers
	lay.index = make(map[int64]int, len(t.Ledgers))
	for i, l := range t.Ledgers {
		lay.index[l.ID] = i
	}
	return lay
}

// size returns the number of entries of ledger l when it is known to be
// final.
func (lay layout) size(l int64) (int64, bool) {
	listed, inList := lay.listedSize(l)
	if lay.sizeFn == nil {
		return listed, inList
	}
	given, ok := lay.sizeFn(l)
	switch {
	case !ok || given < 0:
		return listed, inList
	case inList && listed != given:
		return 0, false
	}
	return given, true
}

// listedSize is the size from internalStats: every ledger but the last is
// closed; the last is the one being written unless it reports entries (the
// broker updates a ledger's entry count only when it closes it).
func (lay layout) listedSize(l int64) (int64, bool) {
	i, ok := lay.index[l]
	if !ok {
		return 0, false
	}
	if i == len(lay.ledgers)-1 && lay.ledgers[i].Entries == 0 {
		return 0, false
	}
	return lay.ledgers[i].Entries, true
}

func (lay layout) firstLedger() (int64, bool) {
	if len(lay.ledgers) == 0 {
		return 0, false
	}
	return lay.ledgers[0].ID, true
}

// missing reports whether ledger l is known not to hold entries of the
// topic: below the LAC's ledger but not listed (trimmed, or another topic's).
func (lay layout) missing(l int64) bool {
	if len(lay.ledgers) == 0 || l > lay.lac.Ledger {
		return false
	}
	_, listed := lay.index[l]
	return !listed
}

// adjacent reports whether no ledger with entries lies strictly between
// ledgers a < b.
func (lay layout) adjacent(a, b int64) bool {
	if b == a+1 {
		return true
	}
	i, okA := lay.index[a]
	j, okB := lay.index[b]
	if !okA || !okB {
		return false
	}
	for k := i + 1; k < j; k++ {
		if n, ok := lay.size(lay.ledgers[k].ID); !ok || n != 0 {
			return false
		}
	}
	return true
}

// follows reports whether b is known to be the entry right after a (a may
// be "L:-1", before entry 0 of L).
func (lay layout) follows(a, b ackset.Position) bool {
	if b.Ledger == a.Ledger {
		return b.Entry == a.Entry+1
	}
	if b.Ledger < a.Ledger || b.Entry != 0 {
		return false
	}
	n, ok := lay.size(a.Ledger)
	return ok && a.Entry+1 == n && lay.adjacent(a.Ledger, b.Ledger)
}

// stretch returns how many of the normalized spans, from the first, form
// one contiguous stretch starting right after mdp.
func (lay layout) stretch(mdp ackset.Position, spans []span) int {
	if len(spans) == 0 || !lay.follows(mdp, spans[0].start()) {
		return 0
	}
	n := 1
	for n < len(spans) && lay.follows(spans[n-1].end(), spans[n].start()) {
		n++
	}
	return n
}

// spans turns wanted ranges into normalized spans. A range within one
// ledger is exact. A range that crosses ledgers contributes the entries the
// layout can enumerate; each such range missing some counts as unresolved.
func (lay layout) spans(want []ackset.Range) ([]span, int) {
	out := make([]span, 0, len(want))
	unresolved := 0
	for _, r := range want {
		if !r.From.Less(r.To) || r.To.Entry < 0 {
			continue
		}
		if r.From.Ledger == r.To.Ledger {
			out = append(out, span{r.To.Ledger, max(r.From.Entry+1, 0), r.To.Entry})
			continue
		}
		parts, complete := lay.crossing(r)
		out = append(out, parts...)
		if !complete {
			unresolved++
		}
	}
	return normalize(out), unresolved
}

func (lay layout) crossing(r ackset.Range) ([]span, bool) {
	parts := []span{{r.To.Ledger, 0, r.To.Entry}}
	complete := true
	if n, ok := lay.size(r.From.Ledger); ok {
		if first := max(r.From.Entry+1, 0); first < n {
			parts = append(parts, span{r.From.Ledger, first, n - 1})
		}
	} else {
		complete = false
	}
	if r.To.Ledger == r.From.Ledger+1 {
		return parts, complete
	}
	i, okA := lay.index[r.From.Ledger]
	j, okB := lay.index[r.To.Ledger]
	if !okA || !okB {
		return parts, false
	}
	for k := i + 1; k < j; k++ {
		id := lay.ledgers[k].ID
		n, ok := lay.size(id)
		switch {
		case !ok:
			complete = false
		case n > 0:
			parts = append(parts, span{id, 0, n - 1})
		}
	}
	return parts, complete
}

// clip removes from normalized spans the positions beyond the LAC or known
// not to exist, and counts them.
func (lay layout) clip(spans []span) ([]span, int64) {
	out := spans[:0]
	var skipped int64
	for _, s := range spans {
		limit := int64(math.MaxInt64)
		switch {
		case s.ledger > lay.lac.Ledger || lay.missing(s.ledger):
			limit = -1
		case s.ledger == lay.lac.Ledger:
			limit = lay.lac.Entry
		}
		if n, ok := lay.size(s.ledger); ok {
			limit = min(limit, n-1)
		}
		if s.last > limit {
			cut := span{s.ledger, max(s.first, limit+1), s.last}
			skipped = satAdd(skipped, cut.len())
			s.last = limit
		}
		if s.first <= s.last {
			out = append(out, s)
		}
	}
	return out, skipped
}

// enumerable returns the local individually deleted positions above the
// mark-delete position as spans, or false when they cannot be enumerated
// (a range crossing ledgers) or lie beyond the LAC: a reset would clear
// them and they could not be acknowledged again exactly.
func (lay layout) enumerable(a ackedState) ([]span, bool) {
	if lay.lac.Less(a.mdp) {
		return nil, false
	}
	out := make([]span, 0, len(a.ranges))
	for _, r := range a.ranges {
		l, first, last, ok := r.Entries()
		if !ok || lay.lac.Less(r.To) {
			return nil, false
		}
		out = append(out, span{l, max(first, 0), last})
	}
	return ackedState{mdp: a.mdp}.notAcked(normalize(out)), true
}
