package ledger

import "testing"

func TestPositionStringAndParse(t *testing.T) {
	for _, tc := range []struct {
		s string
		p Position
	}{
		{"3:5", pos(3, 5)},
		{"3:-1", pos(3, -1)},
		{"-1:-1", Earliest},
		{"9223372036854775807:9223372036854775807", Latest},
	} {
		if got := tc.p.String(); got != tc.s {
			t.Errorf("%#v.String() = %q, want %q", tc.p, got, tc.s)
		}
		got, err := ParsePosition(tc.s)
		if err != nil || got != tc.p {
			t.Errorf("ParsePosition(%q) = %v, %v; want %v", tc.s, got, err, tc.p)
		}
	}
}

func TestParsePositionRejects(t *testing.T) {
	for _, s := range []string{"", "3", "3:", ":5", "a:1", "1:b", "1:2:3", "1 :2", "99999999999999999999:1"} {
		if p, err := ParsePosition(s); err == nil {
			t.Errorf("ParsePosition(%q) = %v, want an error", s, p)
		}
	}
}

func TestPositionCompare(t *testing.T) {
	for _, tc := range []struct {
		a, b Position
		want int
	}{
		{pos(1, 5), pos(1, 5), 0},
		{pos(1, 5), pos(1, 6), -1},
		{pos(1, 6), pos(1, 5), 1},
		{pos(1, 100), pos(2, -1), -1},
		{pos(2, -1), pos(1, 100), 1},
	} {
		if got := tc.a.Compare(tc.b); got != tc.want {
			t.Errorf("%v.Compare(%v) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := tc.a.Less(tc.b); got != (tc.want < 0) {
			t.Errorf("%v.Less(%v) = %v", tc.a, tc.b, got)
		}
	}
}

func FuzzParsePosition(f *testing.F) {
	for _, s := range []string{"3:5", "-1:-1", "0:0", "x", "1:", "9223372036854775807:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePosition(s)
		if err != nil {
			return
		}
		back, err := ParsePosition(p.String())
		if err != nil || back != p {
			t.Fatalf("round trip of %q: %v -> %q -> %v, %v", s, p, p.String(), back, err)
		}
	})
}
