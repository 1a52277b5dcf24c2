package mapping

import (
	"bytes"
	"errors"
	"testing"
)

// Every decoder must return an error wrapping ErrCorrupt or a value that
// re-encodes to exactly its input (all encodings are canonical).

func checkDecodeErr(t *testing.T, err error) bool {
	t.Helper()
	if err != nil && !errors.Is(err, ErrCorrupt) {
		t.Fatalf("error does not wrap ErrCorrupt: %v", err)
	}
	return err == nil
}

func FuzzDecodeRun(f *testing.F) {
	f.Add(int64(5), int64(6), encodeRunValue(mkRun(5, 6, "east", 7, 8, 9)))
	f.Add(int64(0), int64(0), encodeRunValue(mkRun(0, 0, "x", 0, 0, 1)))
	f.Add(int64(1), int64(1), encodeRunValue(mkRun(1, 1, "名前", 1<<40, 1<<31, 1<<30)))
	f.Add(int64(-1), int64(1), []byte{1, 9, 0, 7, 8})
	f.Fuzz(func(t *testing.T, ledger, entry int64, v []byte) {
		r, err := decodeRunValue(pos(ledger, entry), v)
		if !checkDecodeErr(t, err) {
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("decoded an invalid run %v: %v", r, err)
		}
		if got := encodeRunValue(r); !bytes.Equal(got, v) {
			t.Fatalf("re-encoded %v as %x, input %x", r, got, v)
		}
	})
}

func FuzzDecodeCount(f *testing.F) {
	f.Add(encodeCountValue(1))
	f.Add(encodeCountValue(1 << 62))
	f.Add([]byte{1, 0x80, 0x00})
	f.Fuzz(func(t *testing.T, v []byte) {
		n, err := decodeCountValue("count", v)
		if !checkDecodeErr(t, err) {
			return
		}
		if n < 0 {
			t.Fatalf("negative count %d", n)
		}
		if got := encodeCountValue(n); !bytes.Equal(got, v) {
			t.Fatalf("re-encoded %d as %x, input %x", n, got, v)
		}
	})
}

func FuzzDecodePosition(f *testing.F) {
	f.Add(encodePositionValue(pos(5, 6)))
	f.Add(encodePositionValue(pos(-1, -1)))
	f.Add(encodePositionValue(maxPosition))
	f.Fuzz(func(t *testing.T, v []byte) {
		p, err := decodePositionValue("position", v)
		if !checkDecodeErr(t, err) {
			return
		}
		if got := encodePositionValue(p); !bytes.Equal(got, v) {
			t.Fatalf("re-encoded %s as %x, input %x", p, got, v)
		}
	})
}

func FuzzDecodeSnapshot(f *testing.F) {
	f.Add(encodeSnapshotValue(snap(pos(1, 2), pos(70, 9), pos(5, 19), 1_700_000_001_000)))
	f.Add(encodeSnapshotValue(snap(pos(1, 2), pos(-1, -1), pos(-1, -1), 0)))
	f.Fuzz(func(t *testing.T, v []byte) {
		m, err := decodeSnapshotValue(pos(1, 2), v)
		if !checkDecodeErr(t, err) {
			return
		}
		if got := encodeSnapshotValue(m); !bytes.Equal(got, v) {
			t.Fatalf("re-encoded %+v as %x, input %x", m, got, v)
		}
	})
}

func FuzzDecodeState(f *testing.F) {
	f.Add(encodeStateValue(State{Seq: 1, Data: []byte("state")}))
	f.Add(encodeStateValue(State{Seq: 1 << 63}))
	f.Fuzz(func(t *testing.T, v []byte) {
		st, err := decodeStateValue("state", v)
		if !checkDecodeErr(t, err) {
			return
		}
		if got := encodeStateValue(st); !bytes.Equal(got, v) {
			t.Fatalf("re-encoded %+v as %x, input %x", st, got, v)
		}
	})
}

func FuzzDecodeKeys(f *testing.F) {
	f.Add(runKey(topicA, pos(5, 6)))
	f.Add(reverseKey(topicA, mkRun(5, 6, "east", 7, 8, 1)))
	f.Add(snapshotKey(topicA, "west", pos(1, 1)))
	f.Add(importKey("t", "sub", "west"))
	f.Fuzz(func(t *testing.T, key []byte) {
		topic, kind, rest, err := decodeTopicKey(key)
		if !checkDecodeErr(t, err) {
			return
		}
		if got := append(topicKindPrefix(topic, kind), rest...); !bytes.Equal(got, key) {
			t.Fatalf("topic key %x re-encoded as %x", key, got)
		}
		switch kind {
		case kindRun:
			if p, err := decodeRunKey(topic, key); checkDecodeErr(t, err) && !bytes.Equal(runKey(topic, p), key) {
				t.Fatalf("run key %x re-encoded as %x", key, runKey(topic, p))
			}
		case kindReverse:
			if r, err := decodeReverseKey(topic, key); checkDecodeErr(t, err) && !bytes.Equal(reverseKey(topic, r), key) {
				t.Fatalf("reverse key %x re-encoded as %x", key, reverseKey(topic, r))
			}
		}
	})
}
