package ackset

import (
	"fmt"
	"sort"
)

// interval is an inclusive interval of entry ids.
type interval struct{ first, last int64 }

// FromCursor returns, as EntryIDs, the entries of runs that a cursor has
// acknowledged: at or before the mark-delete position mdp, or inside one of
// the idm ranges. Entries not covered by runs are never reported.
//
// When several local entries carry the same EntryID (the replicator can
// duplicate entries), the EntryID is reported only if every one of its
// copies within runs is acknowledged: when in doubt, do not ack.
//
// runs must pass ValidateRuns; idm ranges must be valid but may come in any
// order. The work is proportional to the number of runs and ranges, not to
// the number of entries.
func FromCursor(mdp Position, idm []Range, runs []Run) (Set, error) {
	if err := ValidateRuns(runs); err != nil {
		return Set{}, fmt.Errorf("from cursor: %w", err)
	}
	ranges, err := normalizeRanges(idm)
	if err != nil {
		return Set{}, fmt.Errorf("from cursor: individually deleted ranges: %w", err)
	}
	var acked, unacked setBuilder
	w := ackWalker{mdp: mdp, ranges: ranges}
	for _, r := range runs {
		ackedLocal := w.ackedWithin(r)
		addMapped(&acked, &unacked, r, ackedLocal)
	}
	acked.finish()
	unacked.finish()
	out := acked.set
	if !unacked.set.IsEmpty() {
		out = out.Difference(unacked.set)
	}
	out.optimize()
	return out, nil
}

// addMapped adds the run's acknowledged local intervals to acked and the
// rest of the run to unacked, both translated to origin entry ids.
func addMapped(acked, unacked *setBuilder, r Run, ackedLocal []interval) {
	shift := r.OriginEntry - r.Local.Entry
	next := r.Local.Entry
	for _, iv := range ackedLocal {
		if iv.first > next {
			unacked.add(r.Origin, r.OriginLedger, next+shift, iv.first-1+shift)
		}
		acked.add(r.Origin, r.OriginLedger, iv.first+shift, iv.last+shift)
		next = iv.last + 1
	}
	if last := r.Last().Entry; next <= last {
		unacked.add(r.Origin, r.OriginLedger, next+shift, last+shift)
	}
}

// ackWalker finds the acknowledged part of successive runs. Runs come in
// local order and ranges are sorted and disjoint, so one forward cursor
// over the ranges serves all runs.
type ackWalker struct {
	mdp     Position
	ranges  []Range
	next    int        // first range that may end at or after the current run
	scratch []interval // reused result buffer
}

// ackedWithin returns the acknowledged local entries of r as sorted,
// disjoint, non-adjacent intervals. The result is valid until the next call.
func (w *ackWalker) ackedWithin(r Run) []interval {
	ledger, lo, hi := r.Local.Ledger, r.Local.Entry, r.Last().Entry
	out := w.scratch[:0]
	if end, ok := w.mdpCover(ledger, lo, hi); ok {
		out = append(out, interval{lo, end})
	}
	start := Position{Ledger: ledger, Entry: lo}
	for w.next < len(w.ranges) && w.ranges[w.next].To.Less(start) {
		w.next++
	}
	end := Position{Ledger: ledger, Entry: hi}
	for k := w.next; k < len(w.ranges) && w.ranges[k].From.Less(end); k++ {
		if iv, ok := clip(w.ranges[k], ledger, lo, hi); ok {
			out = appendMerged(out, iv)
		}
	}
	w.scratch = out
	return out
}

// mdpCover returns the last entry of [lo, hi] in ledger that is at or before
// the mark-delete position.
func (w *ackWalker) mdpCover(ledger, lo, hi int64) (int64, bool) {
	switch {
	case ledger < w.mdp.Ledger:
		return hi, true
	case ledger == w.mdp.Ledger && w.mdp.Entry >= lo:
		return min(hi, w.mdp.Entry), true
	}
	return 0, false
}

// clip returns the entries of [lo, hi] in ledger that lie in (r.From, r.To].
func clip(r Range, ledger, lo, hi int64) (interval, bool) {
	first, last := lo, hi
	if r.From.Ledger == ledger {
		first = max(first, r.From.Entry+1)
	} else if r.From.Ledger > ledger {
		return interval{}, false
	}
	if r.To.Ledger == ledger {
		last = min(last, r.To.Entry)
	} else if r.To.Ledger < ledger {
		return interval{}, false
	}
	return interval{first, last}, first <= last
}

// appendMerged appends iv to sorted intervals, merging it with the last one
// when they overlap or touch.
func appendMerged(ivs []interval, iv interval) []interval {
	if n := len(ivs); n > 0 && iv.first <= ivs[n-1].last+1 {
		ivs[n-1].last = max(ivs[n-1].last, iv.last)
		return ivs
	}
	return append(ivs, iv)
}

// setBuilder adds many intervals to a Set through one bitmapBuilder per
// origin ledger. It remembers the last one because successive runs usually
// continue the same origin ledger.
type setBuilder struct {
	set      Set
	builders map[bitmapKey]*bitmapBuilder
	lastKey  bitmapKey
	last     *bitmapBuilder
}

// add adds entries first..last; the caller has validated them.
func (b *setBuilder) add(origin string, ledger, first, last int64) {
	key := bitmapKey{origin, ledger}
	if b.last == nil || key != b.lastKey {
		if b.builders == nil {
			b.builders = make(map[bitmapKey]*bitmapBuilder)
		}
		bb := b.builders[key]
		if bb == nil {
			bb = newBitmapBuilder(b.set.bitmapFor(origin, ledger))
			b.builders[key] = bb
		}
		b.last, b.lastKey = bb, key
	}
	b.last.add(first, last)
}

// finish completes every bitmap; the set is ready afterwards.
func (b *setBuilder) finish() {
	for _, bb := range b.builders {
		bb.finish()
	}
}

// ToLocal returns the local positions whose EntryID is in s, in local order,
// as ranges that each lie within one ledger: (L:a-1..L:b] stands for entries
// a..b of local ledger L. A position is returned only if its EntryID is in
// s; entries of s that no run covers are ignored.
//
// runs must pass ValidateRuns. The work is proportional to the number of
// runs plus the number of maximal intervals of the bitmaps they refer to.
func ToLocal(s Set, runs []Run) ([]Range, error) {
	if err := ValidateRuns(runs); err != nil {
		return nil, fmt.Errorf("to local: %w", err)
	}
	var out []Range
	cache := make(map[bitmapKey][]interval)
	for _, r := range runs {
		ivs := intervalsOf(s, r.Origin, r.OriginLedger, cache)
		out = appendLocal(out, r, ivs)
	}
	return out, nil
}

type bitmapKey struct {
	origin string
	ledger int64
}

// intervalsOf returns the maximal intervals of one bitmap of s, computed
// once per call of ToLocal so that each run can binary-search them.
func intervalsOf(s Set, origin string, ledger int64, cache map[bitmapKey][]interval) []interval {
	key := bitmapKey{origin, ledger}
	if ivs, ok := cache[key]; ok {
		return ivs
	}
	var ivs []interval
	if b := s.bitmap(origin, ledger); b != nil {
		for start, end := range b.Ranges() {
			ivs = append(ivs, interval{int64(start), int64(end) - 1})
		}
	}
	cache[key] = ivs
	return ivs
}

// appendLocal appends the local positions of r whose origin entries are in
// ivs, merging with the previous range when contiguous in the same ledger.
func appendLocal(out []Range, r Run, ivs []interval) []Range {
	lo, hi := r.OriginEntry, r.OriginEntry+r.Count-1
	shift := r.Local.Entry - r.OriginEntry
	k := sort.Search(len(ivs), func(i int) bool { return ivs[i].last >= lo })
	for ; k < len(ivs) && ivs[k].first <= hi; k++ {
		first := max(ivs[k].first, lo) + shift
		last := min(ivs[k].last, hi) + shift
		out = appendLocalRange(out, r.Local.Ledger, first, last)
	}
	return out
}

func appendLocalRange(out []Range, ledger, first, last int64) []Range {
	if n := len(out); n > 0 && out[n-1].To.Ledger == ledger && out[n-1].To.Entry == first-1 {
		out[n-1].To.Entry = last
		return out
	}
	return append(out, Range{
		From: Position{Ledger: ledger, Entry: first - 1},
		To:   Position{Ledger: ledger, Entry: last},
	})
}
