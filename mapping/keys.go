package mapping

import (
	"encoding/binary"
	"fmt"

	"github.com/subsync/subsync/ackset"
)

// Key tags; see doc.go for the layout.
const (
	tagTopic byte = 't'

	kindCheckpoint byte = 'c'
	kindExport     byte = 'e'
	kindImport     byte = 'i'
	kindMeta       byte = 'm'
	kindOverlap    byte = 'o'
	kindRun        byte = 'r'
	kindSnapshot   byte = 's'
	kindReverse    byte = 'x'
)

// schemaKey sorts before every topic key.
var schemaKey = []byte("\x00schema")

// signFlip maps int64 order onto unsigned big-endian byte order.
const signFlip = 1 << 63

func appendInt64(b []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(v)^signFlip)
}

func appendPosition(b []byte, p ackset.Position) []byte {
	return appendInt64(appendInt64(b, p.Ledger), p.Entry)
}

// appendName writes a length-prefixed string, so no name can be a prefix
// of another name's encoding.
func appendName(b []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint16(b, uint16(len(s))), s...)
}

func checkName(what, s string) error {
	if s == "" || len(s) > maxNameLen {
		return fmt.Errorf("%s name of %d bytes, expected 1..%d", what, len(s), maxNameLen)
	}
	return nil
}

func topicPrefix(topic string) []byte {
	return appendName([]byte{tagTopic}, topic)
}

func topicKindPrefix(topic string, kind byte) []byte {
	return append(topicPrefix(topic), kind)
}

func checkpointKey(topic string) []byte { return topicKindPrefix(topic, kindCheckpoint) }

func metaKey(topic string) []byte { return topicKindPrefix(topic, kindMeta) }

func runKey(topic string, local ackset.Position) []byte {
	return appendPosition(topicKindPrefix(topic, kindRun), local)
}

// reverseLedgerPrefix prefixes every reverse-index key of one origin ledger.
func reverseLedgerPrefix(topic, origin string, originLedger int64) []byte {
	return appendInt64(appendName(topicKindPrefix(topic, kindReverse), origin), originLedger)
}

func reverseKey(topic string, r Run) []byte {
	k := reverseLedgerPrefix(topic, r.Origin, r.OriginLedger)
	return appendPosition(appendInt64(k, r.OriginEntry), r.Local)
}

func overlapKey(topic, origin string, originLedger int64) []byte {
	return appendInt64(appendName(topicKindPrefix(topic, kindOverlap), origin), originLedger)
}

func snapshotRemotePrefix(topic, remote string) []byte {
	return appendName(topicKindPrefix(topic, kindSnapshot), remote)
}

func snapshotKey(topic, remote string, local ackset.Position) []byte {
	return appendPosition(snapshotRemotePrefix(topic, remote), local)
}

func exportKey(topic, sub string) []byte {
	return appendName(topicKindPrefix(topic, kindExport), sub)
}

func importSubPrefix(topic, sub string) []byte {
	return appendName(topicKindPrefix(topic, kindImport), sub)
}

func importKey(topic, sub, remote string) []byte {
	return appendName(importSubPrefix(topic, sub), remote)
}

// prefixEnd returns the smallest key greater than every key starting with
// p, or nil when there is none (p is all 0xff).
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// keyReader decodes keys front to back; the first failure sticks.
type keyReader struct {
	b   []byte
	err error
}

func (r *keyReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: key: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
}

func (r *keyReader) byte() byte {
	if r.err != nil || len(r.b) < 1 {
		r.fail("truncated")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *keyReader) name() string {
	if r.err != nil || len(r.b) < 2 {
		r.fail("truncated name length")
		return ""
	}
	n := int(binary.BigEndian.Uint16(r.b))
	if n == 0 || len(r.b)-2 < n {
		r.fail("name of %d bytes, %d available", n, len(r.b)-2)
		return ""
	}
	s := string(r.b[2 : 2+n])
	r.b = r.b[2+n:]
	return s
}

func (r *keyReader) int64() int64 {
	if r.err != nil || len(r.b) < 8 {
		r.fail("truncated integer")
		return 0
	}
	v := int64(binary.BigEndian.Uint64(r.b) ^ signFlip)
	r.b = r.b[8:]
	return v
}

func (r *keyReader) position() ackset.Position {
	l := r.int64()
	return ackset.Position{Ledger: l, Entry: r.int64()}
}

func (r *keyReader) end() error {
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d unexpected trailing bytes", len(r.b))
	}
	return r.err
}

// decodeTopicKey splits a topic key into its topic, kind and the rest.
func decodeTopicKey(key []byte) (topic string, kind byte, rest []byte, err error) {
	r := keyReader{b: key}
	if r.byte() != tagTopic {
		r.fail("expected topic tag %q", tagTopic)
	}
	topic = r.name()
	kind = r.byte()
	return topic, kind, r.b, r.err
}

// decodeRunKey returns the local start position of a run key of topic.
func decodeRunKey(topic string, key []byte) (ackset.Position, error) {
	r := keyReader{b: key}
	r.expectPrefix(topicKindPrefix(topic, kindRun))
	p := r.position()
	return p, r.end()
}

// decodeReverseKey returns the run a reverse key describes, without its
// count (which lives in the value).
func decodeReverseKey(topic string, key []byte) (Run, error) {
	r := keyReader{b: key}
	r.expectPrefix(topicKindPrefix(topic, kindReverse))
	run := Run{Origin: r.name(), OriginLedger: r.int64(), OriginEntry: r.int64()}
	run.Local = r.position()
	return run, r.end()
}

func decodeSnapshotKey(prefix, key []byte) (ackset.Position, error) {
	r := keyReader{b: key}
	r.expectPrefix(prefix)
	p := r.position()
	return p, r.end()
}

func (r *keyReader) expectPrefix(p []byte) {
	if r.err != nil || len(r.b) < len(p) || string(r.b[:len(p)]) != string(p) {
		r.fail("expected prefix %q", p)
		return
	}
	r.b = r.b[len(p):]
}
