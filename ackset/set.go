package ackset

import (
	"fmt"
	"iter"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
)

// MaxOriginLen bounds the length of an origin cluster name in a Set. Pulsar
// cluster names are short; the bound keeps decoders' allocations small.
const MaxOriginLen = 1024

// Set is a set of EntryIDs: per origin cluster, per origin ledger, a roaring
// bitmap of entry ids in [0, MaxEntry].
//
// The zero value is an empty set ready to use. Like a map, a Set value refers
// to shared state: copying it does not copy the entries (use Clone). Methods
// that return a Set never modify their receiver or arguments. A Set is not
// safe for concurrent mutation.
type Set struct {
	// origins never holds an empty ledger map or an empty bitmap, so that
	// Origins, Equal and IsEmpty need no scan.
	origins map[string]map[int64]*roaring.Bitmap
}

// IDRange is an inclusive interval of entry ids of one origin ledger.
type IDRange struct {
	Origin      string
	Ledger      int64
	First, Last int64
}

// Len returns the number of entries in the interval.
func (r IDRange) Len() int64 { return r.Last - r.First + 1 }

func (r IDRange) String() string {
	return fmt.Sprintf("%s/%d:[%d..%d]", r.Origin, r.Ledger, r.First, r.Last)
}

// NewSet returns a set holding ids, or an error naming the first invalid id.
func NewSet(ids ...EntryID) (Set, error) {
	var s Set
	for _, id := range ids {
		if err := s.Add(id); err != nil {
			return Set{}, err
		}
	}
	return s, nil
}

func validateEntries(origin string, ledger, first, last int64) error {
	switch {
	case origin == "":
		return fmt.Errorf("origin cluster must not be empty")
	case len(origin) > MaxOriginLen:
		return fmt.Errorf("origin cluster name is %d bytes, at most %d allowed", len(origin), MaxOriginLen)
	case ledger < 0:
		return fmt.Errorf("ledger %d: must be >= 0", ledger)
	case first < 0 || last > MaxEntry:
		return fmt.Errorf("entries %d..%d of ledger %d: entry ids must be within [0, %d]", first, last, ledger, int64(MaxEntry))
	case first > last:
		return fmt.Errorf("entries %d..%d of ledger %d: first entry is after last", first, last, ledger)
	}
	return nil
}

// Add adds one entry. It rejects an empty origin, a negative ledger, and an
// entry outside [0, MaxEntry].
func (s *Set) Add(id EntryID) error {
	return s.AddRange(id.Origin, id.Ledger, id.Entry, id.Entry)
}

// AddRange adds entries first..last (inclusive) of one origin ledger.
func (s *Set) AddRange(origin string, ledger, first, last int64) error {
	if err := validateEntries(origin, ledger, first, last); err != nil {
		return fmt.Errorf("ack set: %w", err)
	}
	s.bitmapFor(origin, ledger).AddRange(uint64(first), uint64(last)+1)
	return nil
}

// bitmapFor returns the bitmap of (origin, ledger), creating it. The caller
// must leave it non-empty.
func (s *Set) bitmapFor(origin string, ledger int64) *roaring.Bitmap {
	if s.origins == nil {
		s.origins = make(map[string]map[int64]*roaring.Bitmap)
	}
	ledgers := s.origins[origin]
	if ledgers == nil {
		ledgers = make(map[int64]*roaring.Bitmap)
		s.origins[origin] = ledgers
	}
	b := ledgers[ledger]
	if b == nil {
		b = roaring.New()
		ledgers[ledger] = b
	}
	return b
}

func (s Set) bitmap(origin string, ledger int64) *roaring.Bitmap {
	return s.origins[origin][ledger]
}

// put stores b unless it is empty, keeping the no-empty-bitmap invariant.
func (s *Set) put(origin string, ledger int64, b *roaring.Bitmap) {
	if b.IsEmpty() {
		return
	}
	if s.origins == nil {
		s.origins = make(map[string]map[int64]*roaring.Bitmap)
	}
	if s.origins[origin] == nil {
		s.origins[origin] = make(map[int64]*roaring.Bitmap)
	}
	s.origins[origin][ledger] = b
}

// Contains reports whether id is in the set.
func (s Set) Contains(id EntryID) bool {
	if id.Entry < 0 || id.Entry > MaxEntry {
		return false
	}
	b := s.bitmap(id.Origin, id.Ledger)
	return b != nil && b.Contains(uint32(id.Entry))
}

// IsEmpty reports whether the set holds no entry.
func (s Set) IsEmpty() bool { return len(s.origins) == 0 }

// Cardinality returns the number of entries in the set.
func (s Set) Cardinality() uint64 {
	var n uint64
	for _, ledgers := range s.origins {
		for _, b := range ledgers {
			n += b.GetCardinality()
		}
	}
	return n
}

// Origins returns the origin clusters that have entries, sorted.
func (s Set) Origins() []string {
	return slices.Sorted(maps.Keys(s.origins))
}

// Ledgers returns the ledgers of origin that have entries, ascending.
func (s Set) Ledgers(origin string) []int64 {
	return slices.Sorted(maps.Keys(s.origins[origin]))
}

// Clone returns an independent copy of the set.
func (s Set) Clone() Set {
	var c Set
	s.eachBitmap(func(origin string, ledger int64, b *roaring.Bitmap) {
		c.put(origin, ledger, b.Clone())
	})
	return c
}

// Union returns the entries in s or o.
func (s Set) Union(o Set) Set {
	u := s.Clone()
	u.unionWith(o)
	return u
}

func (s *Set) unionWith(o Set) {
	o.eachBitmap(func(origin string, ledger int64, b *roaring.Bitmap) {
		s.bitmapFor(origin, ledger).Or(b)
	})
}

// Difference returns the entries in s that are not in o.
func (s Set) Difference(o Set) Set {
	var d Set
	s.eachBitmap(func(origin string, ledger int64, b *roaring.Bitmap) {
		if ob := o.bitmap(origin, ledger); ob != nil {
			d.put(origin, ledger, roaring.AndNot(b, ob))
		} else {
			d.put(origin, ledger, b.Clone())
		}
	})
	return d
}

// Intersect returns the entries in both s and o.
func (s Set) Intersect(o Set) Set {
	var x Set
	s.eachBitmap(func(origin string, ledger int64, b *roaring.Bitmap) {
		if ob := o.bitmap(origin, ledger); ob != nil {
			x.put(origin, ledger, roaring.And(b, ob))
		}
	})
	return x
}

// Intersects reports whether s and o have an entry in common.
func (s Set) Intersects(o Set) bool {
	found := false
	s.eachBitmap(func(origin string, ledger int64, b *roaring.Bitmap) {
		if ob := o.bitmap(origin, ledger); ob != nil && !found {
			found = b.Intersects(ob)
		}
	})
	return found
}

// Equal reports whether s and o hold the same entries.
func (s Set) Equal(o Set) bool {
	if len(s.origins) != len(o.origins) {
		return false
	}
	for origin, ledgers := range s.origins {
		oledgers := o.origins[origin]
		if len(ledgers) != len(oledgers) {
			return false
		}
		for ledger, b := range ledgers {
			if !bitmapsEqual(b, oledgers[ledger]) {
				return false
			}
		}
	}
	return true
}

// bitmapsEqual compares contents, whatever container types hold them.
func bitmapsEqual(a, b *roaring.Bitmap) bool {
	if b == nil {
		return false
	}
	n := a.GetCardinality()
	return n == b.GetCardinality() && n == a.AndCardinality(b)
}

// Ranges yields the maximal intervals of the set ordered by origin, ledger
// and entry.
func (s Set) Ranges() iter.Seq[IDRange] {
	return func(yield func(IDRange) bool) {
		for _, origin := range s.Origins() {
			for _, ledger := range s.Ledgers(origin) {
				for start, end := range s.origins[origin][ledger].Ranges() {
					if !yield(IDRange{Origin: origin, Ledger: ledger, First: int64(start), Last: int64(end) - 1}) {
						return
					}
				}
			}
		}
	}
}

// IDs yields every entry of the set in the order of Ranges. Prefer Ranges
// for large sets.
func (s Set) IDs() iter.Seq[EntryID] {
	return func(yield func(EntryID) bool) {
		for r := range s.Ranges() {
			for e := r.First; e <= r.Last; e++ {
				if !yield(EntryID{Origin: r.Origin, Ledger: r.Ledger, Entry: e}) {
					return
				}
			}
		}
	}
}

// String renders the set compactly for logs and test failures, e.g.
// "{a/7:[0-4,9] b/3:[2]}".
func (s Set) String() string {
	var sb strings.Builder
	sb.WriteByte('{')
	last := ""
	lastLedger := int64(-1)
	for r := range s.Ranges() {
		if r.Origin != last || r.Ledger != lastLedger {
			if last != "" {
				sb.WriteString("] ")
			}
			sb.WriteString(r.Origin + "/" + strconv.FormatInt(r.Ledger, 10) + ":[")
			last, lastLedger = r.Origin, r.Ledger
		} else {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.FormatInt(r.First, 10))
		if r.Last != r.First {
			sb.WriteString("-" + strconv.FormatInt(r.Last, 10))
		}
	}
	if last != "" {
		sb.WriteByte(']')
	}
	sb.WriteByte('}')
	return sb.String()
}

// eachBitmap visits every (origin, ledger) bitmap in unspecified order.
func (s Set) eachBitmap(fn func(origin string, ledger int64, b *roaring.Bitmap)) {
	for origin, ledgers := range s.origins {
		for ledger, b := range ledgers {
			fn(origin, ledger, b)
		}
	}
}

// optimize converts containers to runs where smaller; call it after bulk
// construction.
func (s Set) optimize() {
	s.eachBitmap(func(_ string, _ int64, b *roaring.Bitmap) { b.RunOptimize() })
}

// Delta is the change from one Set to another: Apply(from) == to for
// d = Diff(from, to). The sender's acknowledged set mostly grows, so Removed
// is usually empty; it is not after a cursor rewind or a tail-index prune.
type Delta struct {
	Added, Removed Set
}

// Diff returns the delta that turns from into to.
func Diff(from, to Set) Delta {
	return Delta{Added: to.Difference(from), Removed: from.Difference(to)}
}

// Apply returns base without d.Removed, plus d.Added. base is not modified.
func (d Delta) Apply(base Set) Set {
	out := base.Difference(d.Removed)
	out.unionWith(d.Added)
	return out
}

// IsEmpty reports whether the delta changes nothing.
func (d Delta) IsEmpty() bool { return d.Added.IsEmpty() && d.Removed.IsEmpty() }
