package ledger

import (
	"math/bits"
	"sort"
	"strings"
)

// bitset is a growable set of non-negative ints stored from word off on,
// so that a ledger's high entry ids do not cost memory for the low ones.
type bitset struct {
	off int64 // index of the first stored word
	w   []uint64
}

func (b *bitset) word(wi int64) uint64 {
	if wi < b.off || wi >= b.off+int64(len(b.w)) {
		return 0
	}
	return b.w[wi-b.off]
}

func (b *bitset) get(i int64) bool {
	return i >= 0 && b.word(i>>6)&(1<<(uint(i)&63)) != 0
}

// ensure makes words [lo, hi] addressable.
func (b *bitset) ensure(lo, hi int64) {
	if len(b.w) == 0 {
		b.off, b.w = lo, make([]uint64, hi-lo+1)
		return
	}
	if lo < b.off {
		grown := make([]uint64, b.off-lo+int64(len(b.w)))
		copy(grown[b.off-lo:], b.w)
		b.off, b.w = lo, grown
	}
	if end := b.off + int64(len(b.w)) - 1; hi > end {
		b.w = append(b.w, make([]uint64, hi-end)...)
	}
}

// rangeMask returns the mask of bits [from, to) inside word wi.
func rangeMask(wi, from, to int64) uint64 {
	lo, hi := max(from, wi<<6), min(to, (wi+1)<<6)
	if hi <= lo {
		return 0
	}
	n := uint(hi - lo)
	m := ^uint64(0)
	if n < 64 {
		m = uint64(1)<<n - 1
	}
	return m << uint(lo-wi<<6)
}

// setRange sets bits [from, to).
func (b *bitset) setRange(from, to int64) {
	from = max(from, 0)
	if to <= from {
		return
	}
	b.ensure(from>>6, (to-1)>>6)
	for wi := from >> 6; wi <= (to-1)>>6; wi++ {
		b.w[wi-b.off] |= rangeMask(wi, from, to)
	}
}

// clearRange clears bits [from, to), then drops leading zero words.
func (b *bitset) clearRange(from, to int64) {
	from = max(from, b.off<<6)
	to = min(to, (b.off+int64(len(b.w)))<<6)
	for wi := from >> 6; from < to && wi <= (to-1)>>6; wi++ {
		b.w[wi-b.off] &^= rangeMask(wi, from, to)
	}
	for len(b.w) > 0 && b.w[0] == 0 {
		b.w, b.off = b.w[1:], b.off+1
	}
}

// nextSet returns the first set bit >= i, or -1.
func (b *bitset) nextSet(i int64) int64 {
	i = max(i, 0, b.off<<6)
	for wi := i >> 6; wi < b.off+int64(len(b.w)); wi++ {
		word := b.w[wi-b.off]
		if wi == i>>6 {
			word &= ^uint64(0) << (uint(i) & 63)
		}
		if word != 0 {
			return wi<<6 + int64(bits.TrailingZeros64(word))
		}
	}
	return -1
}

// nextClear returns the first clear bit >= i.
func (b *bitset) nextClear(i int64) int64 {
	i = max(i, 0)
	for wi := i >> 6; ; wi++ {
		word := ^b.word(wi)
		if wi == i>>6 {
			word &= ^uint64(0) << (uint(i) & 63)
		}
		if word != 0 {
			return wi<<6 + int64(bits.TrailingZeros64(word))
		}
	}
}

// lastSet returns the highest set bit, or -1.
func (b *bitset) lastSet() int64 {
	for j := len(b.w) - 1; j >= 0; j-- {
		if b.w[j] != 0 {
			return (b.off+int64(j))<<6 + 63 - int64(bits.LeadingZeros64(b.w[j]))
		}
	}
	return -1
}

func (b *bitset) empty() bool { return b.lastSet() < 0 }

func (b *bitset) count() int64 {
	var n int
	for _, w := range b.w {
		n += bits.OnesCount64(w)
	}
	return int64(n)
}

// rangeSet is the cursor's individually deleted set. It reproduces Pulsar's
// OpenLongPairRangeSet / ConcurrentOpenLongPairRangeSet (the broker default,
// managedLedgerUnackedRangesOpenCacheSetEnabled=true): one bitset of entry
// ids per ledger. Its ranges therefore never span ledgers, which is what
// individuallyDeletedMessages prints.
type rangeSet struct {
	keys []int64 // sorted ledger ids that have a bitset
	sets map[int64]*bitset
}

func newRangeSet() rangeSet { return rangeSet{sets: make(map[int64]*bitset)} }

func (r *rangeSet) bitsetFor(ledgerID int64) *bitset {
	if b, ok := r.sets[ledgerID]; ok {
		return b
	}
	b := &bitset{}
	r.sets[ledgerID] = b
	i := sort.Search(len(r.keys), func(i int) bool { return r.keys[i] >= ledgerID })
	r.keys = append(r.keys, 0)
	copy(r.keys[i+1:], r.keys[i:])
	r.keys[i] = ledgerID
	return b
}

// addOpenClosed adds (lower, upper] as OpenLongPairRangeSet.addOpenClosed
// does. Across ledgers it sets [0, upper.Entry] in upper's ledger and, in
// lower's ledger, only fills up to the highest bit already set there (never
// creating a bitset for it): an ack whose previous position lies in another
// ledger prints as (L:-1..L:E].
func (r *rangeSet) addOpenClosed(lower, upper Position) {
	from := lower.Entry + 1
	if lower.Ledger == upper.Ledger {
		r.bitsetFor(upper.Ledger).setRange(from, upper.Entry+1)
		return
	}
	if lower.Ledger >= 0 && from >= 0 {
		if b, ok := r.sets[lower.Ledger]; ok {
			if last := b.lastSet(); last > lower.Entry {
				b.setRange(from, max(last, from)+1)
			}
		}
	}
	if upper.Entry >= 0 {
		r.bitsetFor(upper.Ledger).setRange(0, upper.Entry+1)
	}
}

func (r *rangeSet) contains(p Position) bool {
	b, ok := r.sets[p.Ledger]
	return ok && b.get(p.Entry)
}

// removeAtMost drops every position <= p (whole bitsets of older ledgers,
// the prefix of p's ledger), removing bitsets that become empty.
func (r *rangeSet) removeAtMost(p Position) {
	keep := r.keys[:0]
	for _, k := range r.keys {
		b := r.sets[k]
		if k == p.Ledger {
			b.clearRange(0, p.Entry+1)
		}
		if k < p.Ledger || b.empty() {
			delete(r.sets, k)
			continue
		}
		keep = append(keep, k)
	}
	r.keys = keep
}

func (r *rangeSet) clear() {
	r.keys = r.keys[:0]
	clear(r.sets)
}

func (r *rangeSet) isEmpty() bool {
	for _, k := range r.keys {
		if !r.sets[k].empty() {
			return false
		}
	}
	return true
}

// forEach calls fn with every range (lower open, upper closed), in order,
// until fn returns false.
func (r *rangeSet) forEach(fn func(lower, upper Position) bool) {
	for _, k := range r.keys {
		b := r.sets[k]
		for cur := b.nextSet(0); cur >= 0; {
			end := b.nextClear(cur) // first clear bit after the run
			if !fn(Position{k, cur - 1}, Position{k, end - 1}) {
				return
			}
			cur = b.nextSet(end)
		}
	}
}

// firstRange returns the first range, as OpenLongPairRangeSet.firstRange.
func (r *rangeSet) firstRange() (lower, upper Position, ok bool) {
	r.forEach(func(l, u Position) bool {
		lower, upper, ok = l, u, true
		return false
	})
	return
}

// runEnd returns the last position of the run of set positions containing
// p (the upper endpoint of OpenLongPairRangeSet.rangeContaining).
func (r *rangeSet) runEnd(p Position) (Position, bool) {
	b, found := r.sets[p.Ledger]
	if !found || !b.get(p.Entry) {
		return Position{}, false
	}
	return Position{Ledger: p.Ledger, Entry: b.nextClear(p.Entry) - 1}, true
}

// size is the number of ranges (totalNonContiguousDeletedMessagesRange).
func (r *rangeSet) size() int {
	n := 0
	r.forEach(func(_, _ Position) bool { n++; return true })
	return n
}

// cardinality is OpenLongPairRangeSet.cardinality: the set positions
// between lo and hi, both INCLUDED (Pulsar passes the endpoints of open
// ranges unchanged; the cursor never has its mark-delete position in the
// set, so this only matters for exotic ranges).
func (r *rangeSet) cardinality(lo, hi Position) int64 {
	var n int64
	for _, k := range r.keys {
		if k < lo.Ledger || k > hi.Ledger {
			continue
		}
		b := r.sets[k]
		from, to := int64(0), (b.off+int64(len(b.w)))<<6-1
		if k == lo.Ledger {
			from = max(from, lo.Entry)
		}
		if k == hi.Ledger {
			to = min(to, hi.Entry)
		}
		if to < from {
			continue
		}
		if from <= b.off<<6 && to == (b.off+int64(len(b.w)))<<6-1 {
			n += b.count()
			continue
		}
		for i := b.nextSet(from); i >= 0 && i <= to; i = b.nextSet(i + 1) {
			n++
		}
	}
	return n
}

// String prints the set as Pulsar's individuallyDeletedMessages:
// "[(L:E1..L:E2],(L:E3..L:E4]]", "[]" when empty.
func (r *rangeSet) String() string {
	var sb strings.Builder
	sb.WriteByte('[')
	first := true
	r.forEach(func(l, u Position) bool {
		if !first {
			sb.WriteByte(',')
		}
		first = false
		sb.WriteByte('(')
		sb.WriteString(l.String())
		sb.WriteString("..")
		sb.WriteString(u.String())
		sb.WriteByte(']')
		return true
	})
	sb.WriteByte(']')
	return sb.String()
}

func bitsetFromWords(words []int64) bitset {
	b := bitset{w: make([]uint64, len(words))}
	for i, w := range words {
		b.w[i] = uint64(w)
	}
	return b
}

// words returns the bitset as BitSet.toLongArray does: from word 0, with
// trailing zero words dropped.
func (b bitset) words() []int64 {
	n := b.off + int64(len(b.w))
	for n > 0 && b.word(n-1) == 0 {
		n--
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(b.word(int64(i)))
	}
	return out
}

// and returns b AND o.
func (b bitset) and(o bitset) bitset {
	n := min(b.off+int64(len(b.w)), o.off+int64(len(o.w)))
	out := bitset{w: make([]uint64, max(n, 0))}
	for i := range out.w {
		out.w[i] = b.word(int64(i)) & o.word(int64(i))
	}
	return out
}
