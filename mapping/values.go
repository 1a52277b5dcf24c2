package mapping

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/subsync/subsync/ackset"
)

// ErrCorrupt marks a stored key or value that cannot be decoded.
var ErrCorrupt = errors.New("corrupt mapping store record")

// formatV1 is the first byte of every value this version writes.
const formatV1 byte = 1

// valueReader decodes values front to back; the first failure sticks.
type valueReader struct {
	what string
	b    []byte
	err  error
}

func newValueReader(what string, b []byte) *valueReader {
	r := &valueReader{what: what, b: b}
	if len(b) == 0 {
		r.fail("empty value")
	} else if b[0] != formatV1 {
		r.fail("format version %d, expected %d", b[0], formatV1)
	} else {
		r.b = b[1:]
	}
	return r
}

func (r *valueReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s: %s", ErrCorrupt, r.what, fmt.Sprintf(format, args...))
	}
}

// uvarint accepts only the shortest encoding, so decode(encode(x)) and
// encode(decode(b)) both round-trip.
func (r *valueReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 || n != uvarintLen(v) {
		r.fail("malformed unsigned varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *valueReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 || n != len(binary.AppendVarint(nil, v)) {
		r.fail("malformed signed varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// nonNegative reads a uvarint that must fit an int64.
func (r *valueReader) nonNegative() int64 {
	v := r.uvarint()
	if v > math.MaxInt64 {
		r.fail("integer %d out of range", v)
		return 0
	}
	return int64(v)
}

func (r *valueReader) position() ackset.Position {
	l := r.varint()
	return ackset.Position{Ledger: l, Entry: r.varint()}
}

func (r *valueReader) name() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n == 0 || n > maxNameLen || n > uint64(len(r.b)) {
		r.fail("name of %d bytes, %d available", n, len(r.b))
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *valueReader) rest() []byte {
	if r.err != nil {
		return nil
	}
	out := append([]byte{}, r.b...)
	r.b = nil
	return out
}

func (r *valueReader) end() error {
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d unexpected trailing bytes", len(r.b))
	}
	return r.err
}

func uvarintLen(v uint64) int {
	var buf [binary.MaxVarintLen64]byte
	return binary.PutUvarint(buf[:], v)
}

func appendPositionValue(b []byte, p ackset.Position) []byte {
	return binary.AppendVarint(binary.AppendVarint(b, p.Ledger), p.Entry)
}

// Run values: the key holds the local start position.

func encodeRunValue(r Run) []byte {
	b := binary.AppendUvarint([]byte{formatV1}, uint64(r.Count))
	b = binary.AppendUvarint(b, uint64(len(r.Origin)))
	b = append(b, r.Origin...)
	b = binary.AppendUvarint(b, uint64(r.OriginLedger))
	return binary.AppendUvarint(b, uint64(r.OriginEntry))
}

func decodeRunValue(local ackset.Position, v []byte) (Run, error) {
	r := newValueReader("run value", v)
	run := Run{Local: local, Count: r.nonNegative()}
	run.Origin = r.name()
	run.OriginLedger = r.nonNegative()
	run.OriginEntry = r.nonNegative()
	if err := r.end(); err != nil {
		return Run{}, err
	}
	if err := run.Validate(); err != nil {
		return Run{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return run, nil
}

// Reverse values hold the run's count; the key holds everything else.

func encodeCountValue(count int64) []byte {
	return binary.AppendUvarint([]byte{formatV1}, uint64(count))
}

func decodeCountValue(what string, v []byte) (int64, error) {
	r := newValueReader(what, v)
	n := r.nonNegative()
	return n, r.end()
}

// Position values (tail checkpoint) allow -1, as Pulsar prints it.

func encodePositionValue(p ackset.Position) []byte {
	return appendPositionValue([]byte{formatV1}, p)
}

func decodePositionValue(what string, v []byte) (ackset.Position, error) {
	r := newValueReader(what, v)
	p := r.position()
	return p, r.end()
}

// Marker values carry nothing but the version.

func encodeMarkerValue() []byte { return []byte{formatV1} }

func decodeMarkerValue(what string, v []byte) error {
	return newValueReader(what, v).end()
}

// Snapshot mapping values: the key holds the local position.

func encodeSnapshotValue(m SnapshotMapping) []byte {
	b := appendPositionValue([]byte{formatV1}, m.RemoteLAC)
	b = appendPositionValue(b, m.RemoteWatermark)
	return binary.AppendVarint(b, m.TimeUnixMs)
}

func decodeSnapshotValue(local ackset.Position, v []byte) (SnapshotMapping, error) {
	r := newValueReader("snapshot mapping value", v)
	m := SnapshotMapping{Local: local, RemoteLAC: r.position()}
	m.RemoteWatermark = r.position()
	m.TimeUnixMs = r.varint()
	return m, r.end()
}

// State values: sequence number, then the opaque bytes to the end.

func encodeStateValue(st State) []byte {
	b := binary.AppendUvarint([]byte{formatV1}, st.Seq)
	return append(b, st.Data...)
}

func decodeStateValue(what string, v []byte) (State, error) {
	r := newValueReader(what, v)
	st := State{Seq: r.uvarint()}
	st.Data = r.rest()
	return st, r.end()
}
