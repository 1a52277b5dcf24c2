package mapping

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/subsync/subsync/ackset"
)

func TestInt64KeyOrderMatchesNumericOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	special := []int64{math.MinInt64, -2, -1, 0, 1, 255, 256, math.MaxInt64}
	for range 2000 {
		a, b := int64(rng.Uint64()), int64(rng.Uint64())
		if rng.IntN(2) == 0 {
			a = special[rng.IntN(len(special))]
		}
		ka, kb := appendInt64(nil, a), appendInt64(nil, b)
		if got, want := bytes.Compare(ka, kb), cmpInt(a, b); got != want {
			t.Fatalf("compare keys of %d and %d = %d, want %d", a, b, got, want)
		}
	}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestPrefixEnd(t *testing.T) {
	cases := map[string]string{"a": "b", "a\xff": "b", "a\xfe\xff\xff": "a\xff", "": ""}
	for in, want := range cases {
		if got := prefixEnd([]byte(in)); string(got) != want {
			t.Errorf("prefixEnd(%q) = %q, want %q", in, got, want)
		}
	}
	if got := prefixEnd([]byte("\xff\xff")); got != nil {
		t.Errorf("prefixEnd(ff ff) = %q, want nil", got)
	}
}

func TestTopicKeysAreUnambiguous(t *testing.T) {
	topics := []string{"a", "ab", "a\x00", "a\x00\x01r", "\x00", "\xff", "名前"}
	for _, a := range topics {
		p := topicPrefix(a)
		got, kind, rest, err := decodeTopicKey(runKey(a, pos(3, 4)))
		if err != nil || got != a || kind != kindRun || !bytes.Equal(rest, appendPosition(nil, pos(3, 4))) {
			t.Errorf("decodeTopicKey(runKey(%q)) = %q, %q, %x, %v", a, got, kind, rest, err)
		}
		for _, b := range topics {
			if a != b && bytes.HasPrefix(runKey(b, pos(1, 1)), p) {
				t.Errorf("a key of topic %q starts with the prefix of topic %q", b, a)
			}
		}
	}
	for _, bad := range [][]byte{nil, {'x'}, {tagTopic}, {tagTopic, 0, 5, 'a'}, {tagTopic, 0, 0, 'r'}} {
		if _, _, _, err := decodeTopicKey(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("decodeTopicKey(%q): err = %v, want ErrCorrupt", bad, err)
		}
	}
}

func TestReverseKeyRoundTrip(t *testing.T) {
	r := mkRun(5, 6, "east", 7, 8, 0)
	got, err := decodeReverseKey(topicA, reverseKey(topicA, r))
	if err != nil || got != r {
		t.Fatalf("decodeReverseKey = %v, %v; want %v", got, err, r)
	}
	if _, err := decodeReverseKey(topicA, append(reverseKey(topicA, r), 0)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("trailing byte: err = %v", err)
	}
	if _, err := decodeReverseKey("other", reverseKey(topicA, r)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("other topic: err = %v", err)
	}
}

func TestValueRoundTrips(t *testing.T) {
	r := mkRun(5, 6, "east", 7, 8, 9)
	if got, err := decodeRunValue(r.Local, encodeRunValue(r)); err != nil || got != r {
		t.Errorf("run: %v, %v", got, err)
	}
	for _, p := range []ackset.Position{pos(-1, -1), pos(0, 0), maxPosition, minPosition} {
		if got, err := decodePositionValue("p", encodePositionValue(p)); err != nil || got != p {
			t.Errorf("position %s: %s, %v", p, got, err)
		}
	}
	m := snap(pos(1, 2), pos(3, -1), pos(-1, -1), -5)
	if got, err := decodeSnapshotValue(m.Local, encodeSnapshotValue(m)); err != nil || got != m {
		t.Errorf("snapshot: %+v, %v", got, err)
	}
	st := State{Seq: math.MaxUint64, Data: []byte("opaque\x00")}
	if got, err := decodeStateValue("s", encodeStateValue(st)); err != nil || got.Seq != st.Seq || !bytes.Equal(got.Data, st.Data) {
		t.Errorf("state: %+v, %v", got, err)
	}
	if got, err := decodeCountValue("c", encodeCountValue(math.MaxInt64)); err != nil || got != math.MaxInt64 {
		t.Errorf("count: %d, %v", got, err)
	}
}

func TestCorruptValuesAreErrors(t *testing.T) {
	good := encodeRunValue(mkRun(5, 6, "east", 7, 8, 9))
	runCases := map[string][]byte{
		"empty":             nil,
		"unknown version":   append([]byte{2}, good[1:]...),
		"truncated":         good[:len(good)-1],
		"trailing byte":     append(append([]byte{}, good...), 0),
		"non-minimal count": {1, 0x89, 0x00, 4, 'e', 'a', 's', 't', 7, 8},
		"zero count":        {1, 0, 4, 'e', 'a', 's', 't', 7, 8},
		"empty origin":      {1, 9, 0, 7, 8},
		"origin too long":   {1, 9, 100, 'e'},
		"origin ledger overflow": {1, 9, 4, 'e', 'a', 's', 't',
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 8},
		"origin entry above MaxEntry": {1, 9, 4, 'e', 'a', 's', 't', 7, 0xff, 0xff, 0xff, 0xff, 0x0f},
	}
	for name, v := range runCases {
		if r, err := decodeRunValue(pos(5, 6), v); !errors.Is(err, ErrCorrupt) {
			t.Errorf("run value %s: %v, err = %v, want ErrCorrupt", name, r, err)
		}
	}
	if _, err := decodeRunValue(pos(5, math.MaxInt64), encodeRunValue(mkRun(5, 0, "east", 7, 8, 9))); !errors.Is(err, ErrCorrupt) {
		t.Errorf("run overflowing its local key: err = %v", err)
	}
	for name, fn := range map[string]func() error{
		"position trailing": func() error { _, err := decodePositionValue("p", []byte{1, 2, 2, 0}); return err },
		"position short":    func() error { _, err := decodePositionValue("p", []byte{1, 2}); return err },
		"snapshot short":    func() error { _, err := decodeSnapshotValue(pos(1, 1), []byte{1, 2, 2, 2, 2}); return err },
		"state no seq":      func() error { _, err := decodeStateValue("s", []byte{1}); return err },
		"state version":     func() error { _, err := decodeStateValue("s", []byte{0, 1}); return err },
		"marker trailing":   func() error { return decodeMarkerValue("m", []byte{1, 0}) },
		"count overflow": func() error {
			_, err := decodeCountValue("c", []byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
			return err
		},
	} {
		if err := fn(); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
}
