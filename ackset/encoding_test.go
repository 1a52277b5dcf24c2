package ackset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand"
	"runtime"
	"strings"
	"testing"
)

func mustEncode(t testing.TB, s Set) []byte {
	t.Helper()
	b, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEncodeFormat(t *testing.T) {
	var s Set
	mustAddRange(t, &s, "west", 7, 0, 4)
	mustAddRange(t, &s, "west", 7, 9, 9)
	// version 1, kind set, 1 origin "west", 1 ledger (gap 7), form acked,
	// 2 intervals: [0,4] = token 0<<1, length-2 = 3; [9,9] = gap 9-6=3, single: 3<<1|1.
	want := []byte{1, 1, 1, 4, 'w', 'e', 's', 't', 1, 7, formAcked, 2, 0, 3, 7}
	if got := mustEncode(t, s); !bytes.Equal(got, want) {
		t.Fatalf("Encode = %v, want %v", got, want)
	}

	// 0..999 without 500 is smaller as holes: min 0, span 999, one hole
	// at 500 coded from 1: gap 499, single.
	var dense Set
	mustAddRange(t, &dense, "a", 0, 0, 499)
	mustAddRange(t, &dense, "a", 0, 501, 999)
	want = []byte{1, 1, 1, 1, 'a', 1, 0, formHoles, 0}
	want = binary.AppendUvarint(want, 999)
	want = append(want, 1)
	want = binary.AppendUvarint(want, 499<<1|1)
	if got := mustEncode(t, dense); !bytes.Equal(got, want) {
		t.Fatalf("Encode(dense) = %v, want %v", got, want)
	}

	if got := mustEncode(t, Set{}); !bytes.Equal(got, []byte{1, 1, 0}) {
		t.Fatalf("Encode(empty) = %v", got)
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	for i := range 150 {
		s := randomSet(t, r)
		if r.Intn(3) == 0 { // dense sets with holes exercise the holes form
			s = s.Union(denseWithHoles(t, r))
		}
		enc := mustEncode(t, s)
		got, err := Decode(enc)
		if err != nil {
			t.Fatalf("case %d: Decode(Encode(%s)): %v", i, s, err)
		}
		if !got.Equal(s) || !modelOf(got).equal(modelOf(s)) {
			t.Fatalf("case %d: round trip changed the set:\n in  %s\n out %s", i, s, got)
		}
		if again := mustEncode(t, got); !bytes.Equal(again, enc) {
			t.Fatalf("case %d: encoding is not deterministic", i)
		}
	}
}

func denseWithHoles(t testing.TB, r *rand.Rand) Set {
	var s Set
	first := int64(r.Intn(70000))
	last := first + int64(r.Intn(5000))
	mustAddRange(t, &s, "dense", int64(r.Intn(3)), first, last)
	var holes Set
	for e := first + 1; e < last; e++ {
		if r.Intn(20) == 0 {
			mustAddRange(t, &holes, "dense", s.Ledgers("dense")[0], e, min(e+int64(r.Intn(3)), last))
		}
	}
	return s.Difference(holes)
}

func TestDeltaEncodeDecodeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	for i := range 200 {
		from, to := randomSet(t, r), randomSet(t, r)
		if r.Intn(2) == 0 {
			to = from.Union(to)
		}
		d := Diff(from, to)
		enc, err := EncodeDelta(d)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeDelta(enc)
		if err != nil {
			t.Fatalf("case %d: DecodeDelta: %v", i, err)
		}
		if !got.Added.Equal(d.Added) || !got.Removed.Equal(d.Removed) {
			t.Fatalf("case %d: delta round trip changed it", i)
		}
		if !got.Apply(from).Equal(to) {
			t.Fatalf("case %d: decoded delta applied to from != to", i)
		}
		if _, err := Decode(enc); err == nil {
			t.Fatalf("case %d: Decode accepted a delta", i)
		}
		if _, err := DecodeDelta(mustEncode(t, to)); err == nil {
			t.Fatalf("case %d: DecodeDelta accepted a full set", i)
		}
	}
}

func TestEncodeDeltaRejectsOverlap(t *testing.T) {
	s := mustSet(t, EntryID{"a", 1, 1})
	if _, err := EncodeDelta(Delta{Added: s, Removed: s}); err == nil {
		t.Fatal("EncodeDelta accepted overlapping added and removed")
	}
	e := encoder{buf: []byte{EncodingVersion, kindDelta}}
	if err := e.set(s); err != nil {
		t.Fatal(err)
	}
	if err := e.set(s); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeDelta(e.buf); err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Fatalf("DecodeDelta(overlapping) = %v", err)
	}
}

func TestDecodeRejectsTruncationAndJunk(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	for range 30 {
		s := randomSet(t, r).Union(denseWithHoles(t, r))
		enc := mustEncode(t, s)
		for n := range len(enc) {
			if _, err := Decode(enc[:n]); err == nil {
				t.Fatalf("Decode accepted a %d-byte prefix of a %d-byte encoding", n, len(enc))
			}
		}
		if _, err := Decode(append(enc[:len(enc):len(enc)], 0)); err == nil {
			t.Fatal("Decode accepted trailing junk")
		}
	}
}

// rawSet builds encodings by hand for malformed-input tests.
func rawSet(parts ...any) []byte {
	buf := []byte{EncodingVersion, kindSet}
	for _, p := range parts {
		switch v := p.(type) {
		case int:
			buf = binary.AppendUvarint(buf, uint64(v))
		case uint64:
			buf = binary.AppendUvarint(buf, v)
		case string:
			buf = append(buf, v...)
		case byte:
			buf = append(buf, v)
		}
	}
	return buf
}

func TestDecodeErrors(t *testing.T) {
	full := func(ledgers int) []byte { // ledgers each holding 0..MaxEntry
		parts := []any{1, 1, "a", ledgers}
		for range ledgers {
			parts = append(parts, 0, formHoles, 0, uint64(MaxEntry), 0)
		}
		return rawSet(parts...)
	}
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "version byte"},
		{"unknown version", []byte{2, 1, 0}, "version 1"},
		{"version zero", []byte{0, 1, 0}, "version 1"},
		{"no kind", []byte{1}, "kind byte"},
		{"unknown kind", []byte{1, 9, 0}, "kind 1"},
		{"absurd origin count", rawSet(uint64(1) << 40), "origin count"},
		{"empty origin", rawSet(1, 0), "origin name length"},
		{"origin too long", rawSet(1, MaxOriginLen+1, strings.Repeat("x", MaxOriginLen+1), 1, 0, formAcked, 1, 1), "at most"},
		{"unsorted origins", rawSet(2, 1, "b", 1, 0, formAcked, 1, 1, 1, "a", 1, 0, formAcked, 1, 1), "strictly increasing"},
		{"duplicate origin", rawSet(2, 1, "a", 1, 0, formAcked, 1, 1, 1, "a", 1, 0, formAcked, 1, 1), "strictly increasing"},
		{"no ledgers", rawSet(1, 1, "a", 0), "ledger count"},
		{"absurd ledger count", rawSet(1, 1, "a", uint64(1)<<50), "ledger count"},
		{"ledger id overflow", rawSet(1, 1, "a", 2, uint64(1)<<63-1, formAcked, 1, 1, 0, formAcked, 1, 1), "no ledger after"},
		{"ledger id too big", rawSet(1, 1, "a", 1, uint64(1)<<63, formAcked, 1, 1), "ledger id gap"},
		{"unknown form", rawSet(1, 1, "a", 1, 0, byte(7)), "form"},
		{"no intervals", rawSet(1, 1, "a", 1, 0, formAcked, 0), "interval count"},
		{"interval past MaxEntry", rawSet(1, 1, "a", 1, 0, formAcked, 1, uint64(MaxEntry+1)<<1|1), "an interval between"},
		{"interval too long", rawSet(1, 1, "a", 1, 0, formAcked, 1, 0, uint64(MaxEntry)), "an interval between"},
		{"second interval past MaxEntry", rawSet(1, 1, "a", 1, 0, formAcked, 2, 0, uint64(MaxEntry-1), 1), "an interval between"},
		{"holes min past MaxEntry", rawSet(1, 1, "a", 1, 0, formHoles, uint64(MaxEntry+1), 0, 0), "smallest entry"},
		{"holes span past MaxEntry", rawSet(1, 1, "a", 1, 0, formHoles, 5, uint64(MaxEntry-4), 0), "entry span"},
		{"hole at max", rawSet(1, 1, "a", 1, 0, formHoles, 0, 10, 1, 9<<1|1), "an interval between"},
		{"hole without room", rawSet(1, 1, "a", 1, 0, formHoles, 0, 1, 1, 1), "no holes"},
		{"absurd hole count", rawSet(1, 1, "a", 1, 0, formHoles, 0, 100, uint64(1)<<40), "hole count"},
		{"varint overflow", append(rawSet(1, 1, "a", 1), bytes.Repeat([]byte{0xff}, 11)...), "varint"},
		{"too many containers", full(3), "containers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.in)
			if err == nil {
				t.Fatalf("Decode(%v) accepted", tt.in)
			}
			var de *DecodeError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Decode error = %v, want a DecodeError mentioning %q", err, tt.want)
			}
		})
	}
	// One full ledger fits the budget of even a tiny input.
	s, err := Decode(full(1))
	if err != nil {
		t.Fatalf("Decode(one full ledger): %v", err)
	}
	if s.Cardinality() != MaxEntry+1 {
		t.Fatalf("cardinality = %d", s.Cardinality())
	}
}

func TestDecodeAllocationIsBounded(t *testing.T) {
	// The worst a ~20-byte input can ask for: one ledger holding every
	// entry id, which roaring stores in 65,536 run containers.
	in := rawSet(1, 1, "a", 1, 0, formHoles, 0, uint64(MaxEntry), 0)
	if len(in) > 20 {
		t.Fatalf("test input is %d bytes", len(in))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s, err := Decode(in)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	const limit = 64 << 20
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > limit {
		t.Fatalf("decoding %d bytes allocated %d bytes", len(in), alloc)
	}
	runtime.KeepAlive(s)
}
