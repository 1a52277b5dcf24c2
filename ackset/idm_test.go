package ackset

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func pos(l, e int64) Position { return Position{Ledger: l, Entry: e} }

func rng(fl, fe, tl, te int64) Range { return Range{From: pos(fl, fe), To: pos(tl, te)} }

func TestParseFormatIDM(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Range
	}{
		{"empty", "[]", nil},
		{"from entry 0", "[(3:-1..3:4]]", []Range{rng(3, -1, 3, 4)}},
		{"production example", "[(1687807:6060..1687807:6998]]", []Range{rng(1687807, 6060, 1687807, 6998)}},
		{"several ledgers", "[(3:5..3:7],(3:9..3:10],(4:-1..4:0],(9:100..9:200]]",
			[]Range{rng(3, 5, 3, 7), rng(3, 9, 3, 10), rng(4, -1, 4, 0), rng(9, 100, 9, 200)}},
		{"touching ranges", "[(0:0..0:1],(1:0..1:1],(2:0..2:1],(3:0..3:1]]",
			[]Range{rng(0, 0, 0, 1), rng(1, 0, 1, 1), rng(2, 0, 2, 1), rng(3, 0, 3, 1)}},
		{"cross-ledger range (Guava range set)", "[(3:49999..4:10]]", []Range{rng(3, 49999, 4, 10)}},
		{"large ids", "[(9223372036854775806:4294967294..9223372036854775807:9223372036854775807]]",
			[]Range{rng(9223372036854775806, 4294967294, 9223372036854775807, 9223372036854775807)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIDM(tt.in)
			if err != nil {
				t.Fatalf("ParseIDM(%q): %v", tt.in, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("ParseIDM(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if out := FormatIDM(got); out != tt.in {
				t.Fatalf("FormatIDM(ParseIDM(%q)) = %q", tt.in, out)
			}
		})
	}
}

func TestParseIDMGuavaVariants(t *testing.T) {
	// The Guava-backed range set joins with ", " and old Guava printed U+2025.
	got, err := ParseIDM("[(3:5\u20253:7], (3:9..4:2]]")
	if err != nil {
		t.Fatal(err)
	}
	want := []Range{rng(3, 5, 3, 7), rng(3, 9, 4, 2)}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if out := FormatIDM(got); out != "[(3:5..3:7],(3:9..4:2]]" {
		t.Fatalf("FormatIDM = %q", out)
	}
}

func TestParseIDMErrors(t *testing.T) {
	tests := []struct {
		in       string
		offset   int
		expected string
	}{
		{"", 0, "'['"},
		{"(3:1..3:2]", 0, "'['"},
		{"[", 1, "'('"},
		{"[]x", 2, "end of input"},
		{"[] ", 2, "end of input"},
		{"[(", 2, "a ledger id"},
		{"[(3", 3, "':'"},
		{"[(3:", 4, "an entry id"},
		{"[(3:1", 5, "'..'"},
		{"[(3:1.3:2]]", 5, "'..'"},
		{"[(3:1..", 7, "a ledger id"},
		{"[(3:1..3:2", 10, "']'"},
		{"[(3:1..3:2)]", 10, "']'"},
		{"[(3:1..3:2]", 11, "',' or ']'"},
		{"[(3:1..3:2];", 11, "',' or ']'"},
		{"[(3:1..3:2],", 12, "'('"},
		{"[(3:1..3:2],]", 12, "'('"},
		{"[(-1:1..3:2]]", 2, "a ledger id >= 0"},
		{"[(3:-2..3:2]]", 4, "an entry id (the only negative value is -1)"},
		{"[(3:-10..3:2]]", 4, "an entry id (the only negative value is -1)"},
		{"[(3:+1..3:2]]", 4, "an entry id"},
		{"[(03:1..3:2]]", 2, "a ledger id without leading zeros"},
		{"[(3:1..3:99999999999999999999]]", 9, "an entry id that fits in 64 bits"},
		{"[(3:5..3:5]]", 1, "a range whose lower bound is before its upper bound"},
		{"[(3:7..3:5]]", 1, "a range whose lower bound is before its upper bound"},
		{"[(4:1..3:5]]", 1, "a range whose lower bound is before its upper bound"},
		{"[(3:1..3:-1]]", 1, "an upper bound entry >= 0"},
		{"[(3:1..3:5],(3:4..3:9]]", 12, "ranges in ascending order without overlap"},
		{"[(3:6..3:9],(3:1..3:2]]", 12, "ranges in ascending order without overlap"},
	}
	for _, tt := range tests {
		_, err := ParseIDM(tt.in)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("ParseIDM(%q) error = %v, want *ParseError", tt.in, err)
			continue
		}
		if pe.Offset != tt.offset || !strings.HasPrefix(pe.Expected, tt.expected) {
			t.Errorf("ParseIDM(%q): offset %d expected %q; want offset %d expected %q (error: %v)",
				tt.in, pe.Offset, pe.Expected, tt.offset, tt.expected, err)
		}
		if !strings.Contains(err.Error(), "at byte") {
			t.Errorf("error %q does not name the byte offset", err)
		}
	}
}

func TestRangeContainsAndEntries(t *testing.T) {
	r := rng(3, 49999, 5, 2)
	for _, p := range []Position{pos(3, 50000), pos(4, 0), pos(4, 123456), pos(5, 0), pos(5, 2)} {
		if !r.Contains(p) {
			t.Errorf("%s should contain %s", r, p)
		}
	}
	for _, p := range []Position{pos(3, 49999), pos(3, 0), pos(5, 3), pos(6, 0)} {
		if r.Contains(p) {
			t.Errorf("%s should not contain %s", r, p)
		}
	}
	if _, _, _, ok := r.Entries(); ok {
		t.Errorf("cross-ledger range reported entries")
	}
	l, first, last, ok := rng(7, -1, 7, 4).Entries()
	if !ok || l != 7 || first != 0 || last != 4 {
		t.Errorf("Entries = %d %d %d %v, want 7 0 4 true", l, first, last, ok)
	}
}

func TestNormalizeRanges(t *testing.T) {
	in := []Range{rng(5, 1, 5, 3), rng(3, 1, 3, 4), rng(3, 2, 3, 9), rng(3, 9, 4, 0), rng(5, 3, 5, 5)}
	orig := slices.Clone(in)
	got, err := normalizeRanges(in)
	if err != nil {
		t.Fatal(err)
	}
	want := []Range{rng(3, 1, 4, 0), rng(5, 1, 5, 5)}
	if !slices.Equal(got, want) {
		t.Fatalf("normalizeRanges = %v, want %v", got, want)
	}
	if !slices.Equal(in, orig) {
		t.Fatalf("input modified: %v", in)
	}
	if _, err := normalizeRanges([]Range{rng(3, 4, 3, 4)}); err == nil {
		t.Fatal("empty range accepted")
	}
}
