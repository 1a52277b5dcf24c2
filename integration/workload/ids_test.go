package workload

import (
	"strings"
	"testing"
)

func TestPayloadRoundTrip(t *testing.T) {
	for _, tc := range []struct{ id, size int }{
		{0, 0}, {7, 0}, {123456, 0}, {MaxMessages - 1, 0}, {42, 100}, {42, 5},
	} {
		p := Payload(tc.id, tc.size)
		if len(p) < tc.size {
			t.Errorf("Payload(%d, %d) is %d bytes, want at least %d", tc.id, tc.size, len(p), tc.size)
		}
		got, err := ParseID(p)
		if err != nil || got != tc.id {
			t.Errorf("ParseID(Payload(%d, %d) = %q) = %d, %v", tc.id, tc.size, p, got, err)
		}
	}
}

func TestParseIDRejectsForeignPayloads(t *testing.T) {
	for _, p := range []string{
		"", "hello", "wl:", "wl:;", "wl:12", "wl:1x;", "wl:-1;", "wl:12;abc",
		"wl:1234567890;", "wl:" + strings.Repeat("9", 8) + ";", "xl:12;", "wl: 12;",
	} {
		if id, err := ParseID([]byte(p)); err == nil {
			t.Errorf("ParseID(%q) = %d, want an error", p, id)
		}
	}
}

func FuzzParseID(f *testing.F) {
	for _, s := range []string{"wl:0;", "wl:123;....", "wl:9999999;", "wl:;", "", "wl:12;x", "wl:1234567890;"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		id, err := ParseID(p)
		if err != nil {
			return
		}
		if id < 0 || id >= MaxMessages {
			t.Fatalf("ParseID(%q) accepted out-of-range id %d", p, id)
		}
		if back, err := ParseID(Payload(id, len(p))); err != nil || back != id {
			t.Fatalf("id %d from %q does not round-trip: %d, %v", id, p, back, err)
		}
	})
}
