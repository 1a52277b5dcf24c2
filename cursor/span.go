package cursor

import (
	"math"
	"sort"

	"github.com/subsync/subsync/ackset"
)

// span is entries first..last (inclusive, first >= 0) of one ledger.
type span struct {
	ledger, first, last int64
}

func (s span) start() ackset.Position { return ackset.Position{Ledger: s.ledger, Entry: s.first} }
func (s span) end() ackset.Position   { return ackset.Position{Ledger: s.ledger, Entry: s.last} }
func (s span) len() int64             { return satAdd(s.last-s.first, 1) }

func (s span) toRange() ackset.Range {
	return ackset.Range{
		From: ackset.Position{Ledger: s.ledger, Entry: s.first - 1},
		To:   ackset.Position{Ledger: s.ledger, Entry: s.last},
	}
}

// satAdd adds non-negative counts without wrapping: untrusted ranges can be
// as large as int64 allows.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func total(spans []span) int64 {
	var n int64
	for _, s := range spans {
		n = satAdd(n, s.len())
	}
	return n
}

// normalize sorts spans and merges the ones that overlap or touch within a
// ledger.
func normalize(spans []span) []span {
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].ledger != spans[j].ledger {
			return spans[i].ledger < spans[j].ledger
		}
		return spans[i].first < spans[j].first
	})
	out := spans[:0]
	for _, s := range spans {
		if n := len(out); n > 0 && out[n-1].ledger == s.ledger && s.first <= satAdd(out[n-1].last, 1) {
			out[n-1].last = max(out[n-1].last, s.last)
			continue
		}
		out = append(out, s)
	}
	return out
}

// union merges two normalized span lists.
func union(a, b []span) []span {
	all := make([]span, 0, len(a)+len(b))
	all = append(append(all, a...), b...)
	return normalize(all)
}

// intervalIn returns the inclusive entry interval of ledger l that lies in
// the half-open position range r, by (ledger, entry) order. ok is false when
// r has no entry in l.
func intervalIn(r ackset.Range, l int64) (lo, hi int64, ok bool) {
	if l < r.From.Ledger || l > r.To.Ledger {
		return 0, 0, false
	}
	lo, hi = 0, math.MaxInt64
	if l == r.From.Ledger {
		lo = max(r.From.Entry+1, 0)
	}
	if l == r.To.Ledger {
		hi = r.To.Entry
	}
	return lo, hi, lo <= hi
}

// ackedState is a cursor's acknowledged positions: everything at or before
// mdp, and the ranges (sorted by lower bound, disjoint, possibly crossing
// ledgers).
type ackedState struct {
	mdp    ackset.Position
	ranges []ackset.Range
}

func newAckedState(mdp ackset.Position, idm []ackset.Range) ackedState {
	rs := make([]ackset.Range, 0, len(idm))
	for _, r := range idm {
		if r.From.Less(r.To) {
			rs = append(rs, r)
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].From.Less(rs[j].From) })
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && !out[n-1].To.Less(r.From) {
			if out[n-1].To.Less(r.To) {
				out[n-1].To = r.To
			}
			continue
		}
		out = append(out, r)
	}
	return ackedState{mdp: mdp, ranges: out}
}

// notAcked returns the parts of the normalized spans that the state does not
// acknowledge.
func (a ackedState) notAcked(spans []span) []span {
	var out []span
	for _, s := range spans {
		if s.ledger < a.mdp.Ledger {
			continue
		}
		if s.ledger == a.mdp.Ledger {
			if s.last <= a.mdp.Entry {
				continue
			}
			s.first = max(s.first, a.mdp.Entry+1)
		}
		out = append(out, a.subtractRanges(s)...)
	}
	return out
}

func (a ackedState) subtractRanges(s span) []span {
	// The first range that can reach s: ranges are disjoint and sorted, so
	// their upper bounds are sorted too, and so are their intervals in s's
	// ledger.
	i := sort.Search(len(a.ranges), func(i int) bool { return !a.ranges[i].To.Less(s.start()) })
	var out []span
	next := s.first
	for ; i < len(a.ranges) && a.ranges[i].From.Less(s.end()) && next <= s.last; i++ {
		lo, hi, ok := intervalIn(a.ranges[i], s.ledger)
		if !ok || hi < next {
			continue
		}
		if lo > next {
			out = append(out, span{s.ledger, next, min(lo-1, s.last)})
		}
		if hi >= s.last {
			return out
		}
		next = hi + 1
	}
	if next <= s.last {
		out = append(out, span{s.ledger, next, s.last})
	}
	return out
}
