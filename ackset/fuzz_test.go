package ackset

import (
	"math/rand"
	"slices"
	"strings"
	"testing"
)

func FuzzParseIDM(f *testing.F) {
	for _, seed := range []string{
		"[]",
		"[(3:-1..3:4]]",
		"[(1687807:6060..1687807:6998]]",
		"[(3:5..3:7],(3:9..3:10],(4:-1..4:0]]",
		"[(3:49999..4:10], (4:12..4:13]]",
		"[(3:5\u20253:7]]",
		"[(3:1..3:5],(3:4..3:9]]",
		"[(3:1..3:99999999999999999999]]",
		"[(-1:-1..0:0]]",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ranges, err := ParseIDM(s)
		if err != nil {
			if !strings.Contains(err.Error(), "at byte") {
				t.Fatalf("error without offset: %v", err)
			}
			return
		}
		for i, r := range ranges {
			if err := r.validate(); err != nil {
				t.Fatalf("parsed an invalid range: %v", err)
			}
			if i > 0 && r.From.Less(ranges[i-1].To) {
				t.Fatalf("parsed overlapping ranges %s, %s", ranges[i-1], r)
			}
		}
		out := FormatIDM(ranges)
		again, err := ParseIDM(out)
		if err != nil || !slices.Equal(again, ranges) {
			t.Fatalf("FormatIDM output %q does not parse back: %v", out, err)
		}
		if !strings.Contains(s, ", ") && !strings.Contains(s, twoDotLeader) && out != s {
			t.Fatalf("canonical input %q formatted as %q", s, out)
		}
	})
}

func encodingSeeds(f *testing.F) []Set {
	r := rand.New(rand.NewSource(99))
	seeds := []Set{{}}
	for range 12 {
		s := randomSet(f, r)
		if r.Intn(2) == 0 {
			s = s.Union(denseWithHoles(f, r))
		}
		seeds = append(seeds, s)
	}
	return seeds
}

func FuzzDecodeSet(f *testing.F) {
	for _, s := range encodingSeeds(f) {
		f.Add(mustEncode(f, s))
	}
	f.Add([]byte{1, 1, 1, 1, 'a', 1, 0, formHoles, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Decode(data)
		if err != nil {
			return
		}
		enc := mustEncode(t, s)
		again, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoded set does not decode: %v", err)
		}
		if !again.Equal(s) {
			t.Fatalf("round trip changed the set: %s -> %s", s, again)
		}
		if len(enc) > len(data) {
			t.Fatalf("re-encoding grew from %d to %d bytes: the encoder missed a smaller form", len(data), len(enc))
		}
	})
}

func FuzzDecodeDelta(f *testing.F) {
	seeds := encodingSeeds(f)
	for i := 1; i < len(seeds); i++ {
		enc, err := EncodeDelta(Diff(seeds[i-1], seeds[i]))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := DecodeDelta(data)
		if err != nil {
			return
		}
		if d.Added.Intersects(d.Removed) {
			t.Fatal("decoded a delta whose added and removed overlap")
		}
		enc, err := EncodeDelta(d)
		if err != nil {
			t.Fatalf("decoded delta does not encode: %v", err)
		}
		again, err := DecodeDelta(enc)
		if err != nil {
			t.Fatalf("re-encoded delta does not decode: %v", err)
		}
		if !again.Added.Equal(d.Added) || !again.Removed.Equal(d.Removed) {
			t.Fatal("delta round trip changed it")
		}
	})
}
