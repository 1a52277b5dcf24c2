package ackset

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Range is a half-open interval of positions as Pulsar prints it: every
// position p with From < p <= To in (ledger, entry) order. From is exclusive
// and may be "L:-1" (from entry 0 of ledger L); To is inclusive.
//
// With the broker's default range set (unackedRangesOpenCacheSetEnabled=true)
// a range never leaves one ledger. With the Guava-backed range set a range may
// start in one ledger and end in a later one, e.g. (3:49999..4:10]; the
// broker itself then tests membership by (ledger, entry) order, and so does
// Contains.
type Range struct {
	From, To Position
}

// Contains reports whether p lies in (From, To].
func (r Range) Contains(p Position) bool {
	return r.From.Less(p) && !r.To.Less(p)
}

// Entries returns the ledger and the inclusive entry interval of a range that
// lies within one ledger. ok is false for a range that crosses ledgers: its
// entries cannot be enumerated without knowing the ledgers' sizes.
func (r Range) Entries() (ledger, first, last int64, ok bool) {
	if r.From.Ledger != r.To.Ledger {
		return 0, 0, 0, false
	}
	return r.To.Ledger, r.From.Entry + 1, r.To.Entry, true
}

// String formats the range as Pulsar does: "(L:E..L:E]".
func (r Range) String() string {
	return string(appendRange(nil, r))
}

func (r Range) validate() error {
	switch {
	case r.From.Ledger < 0 || r.To.Ledger < 0:
		return fmt.Errorf("range %s: ledger ids must be >= 0", r)
	case r.From.Entry < -1:
		return fmt.Errorf("range %s: lower bound entry must be >= -1", r)
	case r.To.Entry < 0:
		return fmt.Errorf("range %s: upper bound entry must be >= 0", r)
	case !r.From.Less(r.To):
		return fmt.Errorf("range %s: lower bound must be before upper bound", r)
	}
	return nil
}

// ParseError reports malformed IDM text: the byte offset where parsing
// stopped, what was expected there and what was found.
type ParseError struct {
	Offset   int
	Expected string
	Found    string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("individuallyDeletedMessages: at byte %d: expected %s, found %s",
		e.Offset, e.Expected, e.Found)
}

// twoDotLeader is U+2025, which Guava's Range.toString printed instead of ".."
// until 2016 (google/guava#2376); brokers built on such Guava print it.
const twoDotLeader = "\u2025"

// ParseIDM parses the individuallyDeletedMessages field of a cursor's
// internal stats: "[" ranges joined by "," "]", each range "(L:E..L:E]".
//
// Besides the default broker output it accepts what the Guava-backed range
// set prints: ", " between ranges, ranges that cross ledgers, and U+2025 in
// place of "..". Ranges must be non-empty, in ascending order and disjoint,
// as every broker prints them; anything else is an error (*ParseError for
// syntax, with the byte offset).
func ParseIDM(s string) ([]Range, error) {
	p := idmParser{s: s}
	return p.parse()
}

type idmParser struct {
	s   string
	off int
}

func (p *idmParser) parse() ([]Range, error) {
	if err := p.expectByte('[', "'['"); err != nil {
		return nil, err
	}
	if p.peek() == ']' {
		p.off++
		return nil, p.expectEnd()
	}
	// Ranges are at least 12 bytes ("(0:-1..0:0],"); a cheap upper bound
	// avoids regrowing the slice for IDM strings with millions of ranges.
	ranges := make([]Range, 0, min(strings.Count(p.s, "("), len(p.s)/12+1))
	for {
		start := p.off
		r, err := p.parseRange()
		if err != nil {
			return nil, err
		}
		if err := checkRange(r, ranges); err != nil {
			return nil, &ParseError{Offset: start, Expected: err.Error(), Found: strconv.Quote(r.String())}
		}
		ranges = append(ranges, r)
		switch p.peek() {
		case ',':
			p.off++
			for p.peek() == ' ' {
				p.off++
			}
		case ']':
			p.off++
			return ranges, p.expectEnd()
		default:
			return nil, p.errorf("',' or ']'")
		}
	}
}

// checkRange states, as the "expected" part of a ParseError, what r violates.
func checkRange(r Range, before []Range) error {
	if r.To.Entry < 0 {
		return fmt.Errorf("an upper bound entry >= 0")
	}
	if !r.From.Less(r.To) {
		return fmt.Errorf("a range whose lower bound is before its upper bound")
	}
	if n := len(before); n > 0 && r.From.Less(before[n-1].To) {
		return fmt.Errorf("ranges in ascending order without overlap (previous range ends at %s)", before[n-1].To)
	}
	return nil
}

func (p *idmParser) parseRange() (Range, error) {
	var r Range
	var err error
	if err = p.expectByte('(', "'('"); err != nil {
		return r, err
	}
	if r.From, err = p.parsePosition(); err != nil {
		return r, err
	}
	if err = p.expectDots(); err != nil {
		return r, err
	}
	if r.To, err = p.parsePosition(); err != nil {
		return r, err
	}
	return r, p.expectByte(']', "']'")
}

func (p *idmParser) parsePosition() (Position, error) {
	start := p.off
	ledger, err := p.parseInt("a ledger id")
	if err != nil {
		return Position{}, err
	}
	if ledger < 0 {
		return Position{}, p.errorAt(start, "a ledger id >= 0")
	}
	if err := p.expectByte(':', "':'"); err != nil {
		return Position{}, err
	}
	entry, err := p.parseInt("an entry id")
	if err != nil {
		return Position{}, err
	}
	return Position{Ledger: ledger, Entry: entry}, nil
}

// parseInt reads a decimal integer >= -1 as Java prints a long: no sign
// other than '-', no leading zeros.
func (p *idmParser) parseInt(what string) (int64, error) {
	start := p.off
	if p.peek() == '-' {
		p.off++
		if p.peek() != '1' || isDigit(p.peekAt(1)) {
			return 0, p.errorAt(start, what+" (the only negative value is -1)")
		}
		p.off++
		return -1, nil
	}
	if !isDigit(p.peek()) {
		return 0, p.errorf(what)
	}
	if p.peek() == '0' && isDigit(p.peekAt(1)) {
		return 0, p.errorAt(start, what+" without leading zeros")
	}
	var v int64
	for isDigit(p.peek()) {
		d := int64(p.s[p.off] - '0')
		if v > (math.MaxInt64-d)/10 {
			return 0, p.errorAt(start, what+" that fits in 64 bits")
		}
		v = v*10 + d
		p.off++
	}
	return v, nil
}

func (p *idmParser) expectDots() error {
	switch {
	case strings.HasPrefix(p.s[p.off:], ".."):
		p.off += 2
	case strings.HasPrefix(p.s[p.off:], twoDotLeader):
		p.off += len(twoDotLeader)
	default:
		return p.errorf("'..'")
	}
	return nil
}

func (p *idmParser) expectByte(c byte, what string) error {
	if p.peek() != c {
		return p.errorf(what)
	}
	p.off++
	return nil
}

func (p *idmParser) expectEnd() error {
	if p.off != len(p.s) {
		return p.errorf("end of input")
	}
	return nil
}

func (p *idmParser) peek() byte { return p.peekAt(0) }

func (p *idmParser) peekAt(n int) byte {
	if p.off+n < len(p.s) {
		return p.s[p.off+n]
	}
	return 0
}

func (p *idmParser) errorf(expected string) error { return p.errorAt(p.off, expected) }

func (p *idmParser) errorAt(off int, expected string) error {
	return &ParseError{Offset: off, Expected: expected, Found: describeAt(p.s, off)}
}

func describeAt(s string, off int) string {
	if off >= len(s) {
		return "end of input"
	}
	const maxShown = 16
	rest := s[off:]
	if len(rest) > maxShown {
		return strconv.Quote(rest[:maxShown]) + "..."
	}
	return strconv.Quote(rest)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// FormatIDM formats ranges exactly as a broker with the default range set
// prints individuallyDeletedMessages: "[", the ranges joined by "," with no
// space, "]". A range that crosses ledgers is printed as given.
func FormatIDM(ranges []Range) string {
	// "(1687807:6060..1687807:6998]," is 29 bytes: a good first guess.
	buf := make([]byte, 0, 2+30*len(ranges))
	buf = append(buf, '[')
	for i, r := range ranges {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendRange(buf, r)
	}
	buf = append(buf, ']')
	return string(buf)
}

func appendRange(buf []byte, r Range) []byte {
	buf = append(buf, '(')
	buf = appendPosition(buf, r.From)
	buf = append(buf, '.', '.')
	buf = appendPosition(buf, r.To)
	return append(buf, ']')
}

func appendPosition(buf []byte, p Position) []byte {
	buf = strconv.AppendInt(buf, p.Ledger, 10)
	buf = append(buf, ':')
	return strconv.AppendInt(buf, p.Entry, 10)
}

// normalizeRanges validates ranges and returns them sorted with overlapping
// or touching ones merged, so that they can be walked with one cursor. The
// input is not modified.
func normalizeRanges(ranges []Range) ([]Range, error) {
	for _, r := range ranges {
		if err := r.validate(); err != nil {
			return nil, err
		}
	}
	if isSortedDisjoint(ranges) {
		return ranges, nil
	}
	sorted := slices.Clone(ranges)
	slices.SortFunc(sorted, func(a, b Range) int { return a.From.Compare(b.From) })
	merged := sorted[:1]
	for _, r := range sorted[1:] {
		last := &merged[len(merged)-1]
		if !last.To.Less(r.From) { // r starts at or before last's end
			if last.To.Less(r.To) {
				last.To = r.To
			}
			continue
		}
		merged = append(merged, r)
	}
	return merged, nil
}

func isSortedDisjoint(ranges []Range) bool {
	for i := 1; i < len(ranges); i++ {
		if ranges[i].From.Less(ranges[i-1].To) {
			return false
		}
	}
	return true
}
