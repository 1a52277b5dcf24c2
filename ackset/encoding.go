package ackset

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/RoaringBitmap/roaring/v2"
)

// Binary encoding, version 1. All integers are unsigned LEB128 varints.
//
//	message  = version:byte kind:byte body
//	kind     = 1 (set: body = set) | 2 (delta: body = set(added) set(removed))
//	set      = #origins { len name-bytes #ledgers { ledger-gap form ledger-body } }
//	ledger-gap = first ledger id, then (ledger - previous ledger - 1)
//	form 0   = acked:  #intervals(>=1) intervals-from-0
//	form 1   = holes:  min (max-min) #holes holes-from-(min+1)
//
// A list of intervals is coded relative to the smallest start the next
// interval may have (0 at first, then previous last + 2 since intervals are
// maximal): token = gap<<1 | 1 for a single entry, gap<<1 followed by
// (length - 2) otherwise. An isolated entry (or hole) a few dozen entries
// after the previous one thus costs one byte. Form 1 stores the entries
// missing between the ledger's smallest and largest acknowledged entry; the
// encoder picks, per ledger, whichever form is smaller.
//
// Origins are strictly increasing and ledgers are non-empty, so a set has one
// encoding per choice of forms; decoders reject anything else.
const (
	// EncodingVersion is the version byte written by Encode and EncodeDelta.
	EncodingVersion byte = 1

	kindSet   byte = 1
	kindDelta byte = 2

	formAcked byte = 0
	formHoles byte = 1

	// baseContainerBudget lets a small input describe a few huge ledgers
	// (one full ledger of MaxEntry entries uses 65,536 containers).
	baseContainerBudget = 1 << 16
)

// Encode returns the binary encoding of s (version byte first).
func Encode(s Set) ([]byte, error) {
	e := encoder{buf: []byte{EncodingVersion, kindSet}}
	if err := e.set(s); err != nil {
		return nil, fmt.Errorf("encode ack set: %w", err)
	}
	return e.buf, nil
}

// EncodeDelta returns the binary encoding of d. Added and Removed must be
// disjoint, as Diff makes them.
func EncodeDelta(d Delta) ([]byte, error) {
	if d.Added.Intersects(d.Removed) {
		return nil, errors.New("encode ack set delta: added and removed entries overlap")
	}
	e := encoder{buf: []byte{EncodingVersion, kindDelta}}
	if err := e.set(d.Added); err != nil {
		return nil, fmt.Errorf("encode ack set delta: added: %w", err)
	}
	if err := e.set(d.Removed); err != nil {
		return nil, fmt.Errorf("encode ack set delta: removed: %w", err)
	}
	return e.buf, nil
}

type encoder struct {
	buf     []byte
	scratch []interval
}

func (e *encoder) uvarint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }

func (e *encoder) set(s Set) error {
	origins := s.Origins()
	e.uvarint(uint64(len(origins)))
	for _, origin := range origins {
		if origin == "" || len(origin) > MaxOriginLen {
			return fmt.Errorf("origin %q: name must be 1 to %d bytes", origin, MaxOriginLen)
		}
		e.uvarint(uint64(len(origin)))
		e.buf = append(e.buf, origin...)
		ledgers := s.Ledgers(origin)
		e.uvarint(uint64(len(ledgers)))
		prev := int64(-1)
		for _, ledger := range ledgers {
			if ledger < 0 {
				return fmt.Errorf("origin %q: ledger %d: must be >= 0", origin, ledger)
			}
			e.uvarint(uint64(ledger - prev - 1))
			prev = ledger
			e.ledger(s.origins[origin][ledger])
		}
	}
	return nil
}

// ledger writes one bitmap in whichever form is smaller.
func (e *encoder) ledger(b *roaring.Bitmap) {
	ivs := e.scratch[:0]
	for start, end := range b.Ranges() {
		ivs = append(ivs, interval{int64(start), int64(end) - 1})
	}
	e.scratch = ivs
	acked, holes := formSizes(ivs)
	if acked <= holes {
		e.buf = append(e.buf, formAcked)
		e.uvarint(uint64(len(ivs)))
		next := int64(0)
		for _, iv := range ivs {
			next = e.interval(iv, next)
		}
		return
	}
	lo, hi := ivs[0].first, ivs[len(ivs)-1].last
	e.buf = append(e.buf, formHoles)
	e.uvarint(uint64(lo))
	e.uvarint(uint64(hi - lo))
	e.uvarint(uint64(len(ivs) - 1))
	next := lo + 1
	for i := 1; i < len(ivs); i++ {
		next = e.interval(interval{ivs[i-1].last + 1, ivs[i].first - 1}, next)
	}
}

// interval writes iv relative to next and returns the next interval's
// smallest possible start.
func (e *encoder) interval(iv interval, next int64) int64 {
	gap := uint64(iv.first - next)
	if iv.first == iv.last {
		e.uvarint(gap<<1 | 1)
	} else {
		e.uvarint(gap << 1)
		e.uvarint(uint64(iv.last - iv.first - 1))
	}
	return iv.last + 2
}

// formSizes returns the encoded sizes of a ledger's two forms.
func formSizes(ivs []interval) (acked, holes int) {
	acked = uvarintLen(uint64(len(ivs)))
	next := int64(0)
	for _, iv := range ivs {
		acked += tokenLen(iv, next)
		next = iv.last + 2
	}
	lo, hi := ivs[0].first, ivs[len(ivs)-1].last
	holes = uvarintLen(uint64(lo)) + uvarintLen(uint64(hi-lo)) + uvarintLen(uint64(len(ivs)-1))
	next = lo + 1
	for i := 1; i < len(ivs); i++ {
		hole := interval{ivs[i-1].last + 1, ivs[i].first - 1}
		holes += tokenLen(hole, next)
		next = hole.last + 2
	}
	return acked, holes
}

func tokenLen(iv interval, next int64) int {
	gap := uint64(iv.first - next)
	if iv.first == iv.last {
		return uvarintLen(gap<<1 | 1)
	}
	return uvarintLen(gap<<1) + uvarintLen(uint64(iv.last-iv.first-1))
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// Decode parses an encoding made by Encode. It rejects unknown versions,
// a delta, truncated input, trailing bytes, non-canonical structure and
// sets whose bitmaps would be out of proportion to the input's size.
func Decode(data []byte) (Set, error) {
	d, err := newDecoder(data, kindSet)
	if err != nil {
		return Set{}, fmt.Errorf("decode ack set: %w", err)
	}
	s, err := d.set()
	if err == nil {
		err = d.end()
	}
	if err != nil {
		return Set{}, fmt.Errorf("decode ack set: %w", err)
	}
	s.optimize()
	return s, nil
}

// DecodeDelta parses an encoding made by EncodeDelta, with the same checks
// as Decode; it also rejects a delta whose added and removed entries overlap.
func DecodeDelta(data []byte) (Delta, error) {
	d, err := newDecoder(data, kindDelta)
	if err != nil {
		return Delta{}, fmt.Errorf("decode ack set delta: %w", err)
	}
	var delta Delta
	if delta.Added, err = d.set(); err != nil {
		return Delta{}, fmt.Errorf("decode ack set delta: added: %w", err)
	}
	if delta.Removed, err = d.set(); err != nil {
		return Delta{}, fmt.Errorf("decode ack set delta: removed: %w", err)
	}
	if err := d.end(); err != nil {
		return Delta{}, fmt.Errorf("decode ack set delta: %w", err)
	}
	if delta.Added.Intersects(delta.Removed) {
		return Delta{}, fmt.Errorf("decode ack set delta: %w", d.fail("added and removed entries that do not overlap"))
	}
	delta.Added.optimize()
	delta.Removed.optimize()
	return delta, nil
}

// DecodeError reports malformed binary input: the byte offset and what was
// expected there.
type DecodeError struct {
	Offset   int
	Expected string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("at byte %d: expected %s", e.Offset, e.Expected)
}

type decoder struct {
	data []byte
	off  int
	// containers left for the bitmaps being built: memory stays
	// proportional to the input even when a few bytes describe a huge span.
	budget int64
}

func newDecoder(data []byte, kind byte) (*decoder, error) {
	d := &decoder{data: data, budget: baseContainerBudget + int64(len(data))}
	if len(data) == 0 {
		return nil, d.fail("a version byte")
	}
	if data[0] != EncodingVersion {
		return nil, d.fail(fmt.Sprintf("version %d (got version %d)", EncodingVersion, data[0]))
	}
	d.off = 1
	if len(data) < 2 {
		return nil, d.fail("a kind byte")
	}
	if data[1] != kind {
		return nil, d.fail(fmt.Sprintf("kind %d (%s), got %d", kind, kindName(kind), data[1]))
	}
	d.off = 2
	return d, nil
}

func kindName(kind byte) string {
	if kind == kindDelta {
		return "delta"
	}
	return "full set"
}

func (d *decoder) fail(expected string) error {
	return &DecodeError{Offset: d.off, Expected: expected}
}

func (d *decoder) remaining() int { return len(d.data) - d.off }

func (d *decoder) end() error {
	if d.off != len(d.data) {
		return d.fail("end of input")
	}
	return nil
}

func (d *decoder) uvarint(what string) (uint64, error) {
	v, n := binary.Uvarint(d.data[d.off:])
	if n <= 0 {
		return 0, d.fail(what + " (a varint)")
	}
	d.off += n
	return v, nil
}

// count reads a count of items that each take at least one more byte, so
// that no count exceeds what the input can hold.
func (d *decoder) count(what string, minimum uint64) (int, error) {
	at := d.off
	n, err := d.uvarint(what)
	if err != nil {
		return 0, err
	}
	if n < minimum || n > uint64(d.remaining()) {
		d.off = at
		return 0, d.fail(fmt.Sprintf("%s between %d and the %d bytes left (got %d)", what, minimum, d.remaining(), n))
	}
	return int(n), nil
}

// bounded reads a varint no greater than limit.
func (d *decoder) bounded(what string, limit uint64) (uint64, error) {
	at := d.off
	v, err := d.uvarint(what)
	if err != nil {
		return 0, err
	}
	if v > limit {
		d.off = at
		return 0, d.fail(fmt.Sprintf("%s <= %d (got %d)", what, limit, v))
	}
	return v, nil
}

func (d *decoder) set() (Set, error) {
	var s Set
	n, err := d.count("origin count", 0)
	if err != nil {
		return Set{}, err
	}
	prev := ""
	for i := range n {
		origin, err := d.origin()
		if err != nil {
			return Set{}, err
		}
		if i > 0 && origin <= prev {
			return Set{}, d.fail(fmt.Sprintf("origins in strictly increasing order (%q after %q)", origin, prev))
		}
		prev = origin
		if err := d.ledgers(&s, origin); err != nil {
			return Set{}, err
		}
	}
	return s, nil
}

func (d *decoder) origin() (string, error) {
	n, err := d.count("origin name length", 1)
	if err != nil {
		return "", err
	}
	if n > MaxOriginLen {
		return "", d.fail(fmt.Sprintf("an origin name of at most %d bytes", MaxOriginLen))
	}
	name := string(d.data[d.off : d.off+n])
	d.off += n
	return name, nil
}

func (d *decoder) ledgers(s *Set, origin string) error {
	n, err := d.count("ledger count", 1)
	if err != nil {
		return err
	}
	next := uint64(0) // smallest ledger id allowed next
	for range n {
		if next > math.MaxInt64 {
			return d.fail("no ledger after ledger id 9223372036854775807")
		}
		gap, err := d.bounded("ledger id gap", math.MaxInt64-next)
		if err != nil {
			return err
		}
		ledger := next + gap
		b := roaring.New()
		if err := d.ledger(b); err != nil {
			return fmt.Errorf("origin %q ledger %d: %w", origin, ledger, err)
		}
		s.put(origin, int64(ledger), b)
		next = ledger + 1
	}
	return nil
}

func (d *decoder) ledger(b *roaring.Bitmap) error {
	if d.remaining() == 0 {
		return d.fail("a form byte")
	}
	form := d.data[d.off]
	l := ledgerFiller{d: d, b: newBitmapBuilder(b), lastContainer: -1}
	var err error
	switch form {
	case formAcked:
		d.off++
		err = l.acked()
	case formHoles:
		d.off++
		err = l.holes()
	default:
		return d.fail(fmt.Sprintf("form %d or %d (got %d)", formAcked, formHoles, form))
	}
	if err != nil {
		return err
	}
	l.b.finish()
	return nil
}

// ledgerFiller decodes one ledger's intervals into a bitmap. A roaring
// bitmap spends one container on each 65,536 consecutive entry ids holding
// any entry; lastContainer is the last one charged to the budget.
type ledgerFiller struct {
	d             *decoder
	b             *bitmapBuilder
	lastContainer int64
}

func (l *ledgerFiller) acked() error {
	n, err := l.d.count("interval count", 1)
	if err != nil {
		return err
	}
	next := uint64(0)
	for range n {
		iv, err := l.interval(next, MaxEntry)
		if err != nil {
			return err
		}
		if err := l.add(iv); err != nil {
			return err
		}
		next = uint64(iv.last) + 2
	}
	return nil
}

func (l *ledgerFiller) holes() error {
	lo, err := l.d.bounded("smallest entry", MaxEntry)
	if err != nil {
		return err
	}
	span, err := l.d.bounded("entry span", MaxEntry-lo)
	if err != nil {
		return err
	}
	hi := int64(lo + span)
	n, err := l.d.count("hole count", 0)
	if err != nil {
		return err
	}
	if n > 0 && span < 2 {
		return l.d.fail("no holes: a hole needs an acknowledged entry on each side")
	}
	start := int64(lo) // first entry of the acknowledged stretch being built
	next := lo + 1
	for range n {
		// A hole must leave hi acknowledged.
		hole, err := l.interval(next, uint64(hi)-1)
		if err != nil {
			return err
		}
		if err := l.add(interval{start, hole.first - 1}); err != nil {
			return err
		}
		start = hole.last + 1
		next = uint64(hole.last) + 2
	}
	return l.add(interval{start, hi})
}

// interval reads one interval token starting no earlier than next and
// ending no later than limit.
func (l *ledgerFiller) interval(next, limit uint64) (interval, error) {
	d := l.d
	at := d.off
	token, err := d.uvarint("an interval")
	if err != nil {
		return interval{}, err
	}
	gap := token >> 1
	length := uint64(1)
	if token&1 == 0 {
		extra, err := d.bounded("an interval length", MaxEntry)
		if err != nil {
			return interval{}, err
		}
		length = extra + 2
	}
	if next > limit || gap > limit-next || length-1 > limit-next-gap {
		d.off = at
		return interval{}, d.fail(fmt.Sprintf("an interval between %d and %d", next, limit))
	}
	first := next + gap
	return interval{int64(first), int64(first + length - 1)}, nil
}

// add adds iv to the bitmap after charging the containers it newly touches
// against the decoder's budget.
func (l *ledgerFiller) add(iv interval) error {
	firstKey := max(iv.first>>containerBits, l.lastContainer+1)
	lastKey := iv.last >> containerBits
	if lastKey >= firstKey {
		l.d.budget -= lastKey - firstKey + 1
		l.lastContainer = lastKey
	}
	if l.d.budget < 0 {
		return l.d.fail("entries spanning fewer bitmap containers for an input this size")
	}
	l.b.add(iv.first, iv.last)
	return nil
}
