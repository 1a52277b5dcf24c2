package snapshot

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/subsync/subsync/ackset"
)

// Bodies use the protobuf wire format so that a newer daemon can add fields
// an older one skips. Field numbers are part of the format: never reuse or
// renumber them. Every field except the repeated and optional ones is
// required and always written, zero values included, so presence is
// explicit. Groups are never used; a body containing one is malformed.
//
//	Position:          1 ledger int64, 2 entry int64
//	Anchor:            1 local Position, 2 producer_name string, 3 sequence_id int64,
//	                   4 publish_time int64, 5 count int64, 6 digest bytes(32)
//	SnapshotRequest:   1 id, 2 topic, 3 requester string, 4 requester_lac Position,
//	                   5 sent_at int64, 6 anchors repeated Anchor
//	SnapshotResponse:  1 id, 2 topic, 3 requester, 4 responder string,
//	                   5 responder_lac Position, 6 watermark Position (optional),
//	                   7 sent_at int64, 8 have bytes (optional),
//	                   9 tail_position Position (optional)
//	Update:            1 topic, 2 subscription, 3 sender string, 4 epoch int64,
//	                   5 sequence uint64, 6 full bool, 7 sender_mdp Position,
//	                   8 ack_set bytes, 9 sent_at int64
const (
	// MaxStringSize bounds every string field, in bytes.
	MaxStringSize = 4096
	// MaxAnchors bounds the anchors of one SnapshotRequest.
	MaxAnchors = 1024
)

var (
	positionFields = fieldNames{1: "ledger", 2: "entry"}
	anchorFields   = fieldNames{1: "local", 2: "producer_name", 3: "sequence_id",
		4: "publish_time", 5: "count", 6: "digest"}
	requestFields = fieldNames{1: "id", 2: "topic", 3: "requester", 4: "requester_lac",
		5: "sent_at", 6: "anchors"}
	responseFields = fieldNames{1: "id", 2: "topic", 3: "requester", 4: "responder",
		5: "responder_lac", 6: "watermark", 7: "sent_at", 8: "have", 9: "tail_position"}
	updateFields = fieldNames{1: "topic", 2: "subscription", 3: "sender", 4: "epoch",
		5: "sequence", 6: "full", 7: "sender_mdp", 8: "ack_set", 9: "sent_at",
		10: "active", 11: "last_active", 12: "deleted"}
)

// fieldNames maps the field numbers of one message to names for errors.
// Known field numbers stay below 64 so presence fits one bitmask.
type fieldNames map[protowire.Number]string

func (f fieldNames) name(num protowire.Number) string {
	if n, ok := f[num]; ok {
		return n
	}
	return fmt.Sprintf("field %d", num)
}

// ---- encoding ----

// encodeBody validates msg and returns its body.
func encodeBody(msg Message) ([]byte, error) { return appendBody(nil, msg) }

// appendBody validates msg and appends its body to dst.
func appendBody(dst []byte, msg Message) ([]byte, error) {
	switch m := msg.(type) {
	case *SnapshotRequest:
		if m == nil {
			return nil, fmt.Errorf("nil snapshot request")
		}
		if err := m.validate(); err != nil {
			return nil, err
		}
		return m.appendBody(dst), nil
	case *SnapshotResponse:
		if m == nil {
			return nil, fmt.Errorf("nil snapshot response")
		}
		if err := m.validate(); err != nil {
			return nil, err
		}
		return m.appendBody(dst), nil
	case *Update:
		if m == nil {
			return nil, fmt.Errorf("nil update")
		}
		if err := m.validate(); err != nil {
			return nil, err
		}
		return m.appendBody(dst), nil
	}
	return nil, fmt.Errorf("message of Go type %T: expected *SnapshotRequest, *SnapshotResponse or *Update", msg)
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func appendInt64(b []byte, num protowire.Number, v int64) []byte {
	return appendVarint(b, num, uint64(v))
}

func appendBool(b []byte, num protowire.Number, v bool) []byte {
	return appendVarint(b, num, protowire.EncodeBool(v))
}

func appendPosition(b []byte, num protowire.Number, p ackset.Position) []byte {
	var inner []byte
	inner = appendInt64(inner, 1, p.Ledger)
	inner = appendInt64(inner, 2, p.Entry)
	return appendBytes(b, num, inner)
}

func (a *Anchor) appendBody(b []byte) []byte {
	b = appendPosition(b, 1, a.Local)
	b = appendString(b, 2, a.ProducerName)
	b = appendInt64(b, 3, a.SequenceID)
	b = appendInt64(b, 4, a.PublishTime)
	b = appendInt64(b, 5, a.Count)
	return appendBytes(b, 6, a.Digest[:])
}

func (m *SnapshotRequest) appendBody(b []byte) []byte {
	b = appendString(b, 1, m.ID)
	b = appendString(b, 2, m.Topic)
	b = appendString(b, 3, m.Requester)
	b = appendPosition(b, 4, m.RequesterLAC)
	b = appendInt64(b, 5, m.SentAt)
	for i := range m.Anchors {
		b = appendBytes(b, 6, m.Anchors[i].appendBody(nil))
	}
	return b
}

func (m *SnapshotResponse) appendBody(b []byte) []byte {
	b = appendString(b, 1, m.ID)
	b = appendString(b, 2, m.Topic)
	b = appendString(b, 3, m.Requester)
	b = appendString(b, 4, m.Responder)
	b = appendPosition(b, 5, m.ResponderLAC)
	if m.Watermark != nil {
		b = appendPosition(b, 6, *m.Watermark)
	}
	b = appendInt64(b, 7, m.SentAt)
	if len(m.Have) > 0 {
		b = appendBytes(b, 8, m.Have)
	}
	if m.TailPosition != nil {
		b = appendPosition(b, 9, *m.TailPosition)
	}
	return b
}

func (m *Update) appendBody(b []byte) []byte {
	b = appendString(b, 1, m.Topic)
	b = appendString(b, 2, m.Subscription)
	b = appendString(b, 3, m.Sender)
	b = appendInt64(b, 4, m.Epoch)
	b = appendVarint(b, 5, m.Sequence)
	b = appendBool(b, 6, m.Full)
	b = appendPosition(b, 7, m.SenderMDP)
	b = appendBytes(b, 8, m.AckSet)
	b = appendInt64(b, 9, m.SentAt)
	// Optional (absent in a first-format update: no consumers, never seen
	// active, not deleted), so they are written only when set.
	if m.Active {
		b = appendBool(b, 10, true)
	}
	if m.LastActive != 0 {
		b = appendInt64(b, 11, m.LastActive)
	}
	if m.Deleted {
		b = appendBool(b, 12, true)
	}
	return b
}

// ---- decoding ----

func decodeBody(typ MessageType, body []byte) (Message, *DecodeError) {
	var (
		msg interface {
			Message
			validate() error
		}
		err *DecodeError
	)
	switch typ {
	case TypeSnapshotRequest:
		msg, err = decodeRequest(body)
	case TypeSnapshotResponse:
		msg, err = decodeResponse(body)
	case TypeUpdate:
		msg, err = decodeUpdate(body)
	default:
		return nil, &DecodeError{Reason: ReasonUnsupportedType, Detail: fmt.Sprintf("message type %d", uint8(typ))}
	}
	if err != nil {
		return nil, err
	}
	if verr := msg.validate(); verr != nil {
		return nil, malformed("%s", verr)
	}
	return msg, nil
}

// fieldReader walks the fields of one protobuf-encoded message, recording
// the first error; every method is a no-op once an error is recorded.
type fieldReader struct {
	b     []byte
	what  string // message name, for errors
	names fieldNames
	seen  uint64
	err   *DecodeError
}

func newFieldReader(b []byte, what string, names fieldNames) *fieldReader {
	return &fieldReader{b: b, what: what, names: names}
}

func (r *fieldReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = malformed("%s: %s", r.what, fmt.Sprintf(format, args...))
	}
}

// next consumes the next tag; false at the end of the message or on error.
func (r *fieldReader) next() (protowire.Number, protowire.Type, bool) {
	if r.err != nil || len(r.b) == 0 {
		return 0, 0, false
	}
	num, typ, n := protowire.ConsumeTag(r.b)
	if n < 0 {
		r.fail("field tag: %v", protowire.ParseError(n))
		return 0, 0, false
	}
	r.b = r.b[n:]
	return num, typ, true
}

// expect checks the wire type of a known field and, unless repeated, that it
// appears once.
func (r *fieldReader) expect(num protowire.Number, got, want protowire.Type, repeated bool) bool {
	if r.err != nil {
		return false
	}
	if got != want {
		r.fail("%s has wire type %d, expected %d", r.names.name(num), got, want)
		return false
	}
	if !repeated {
		bit := uint64(1) << uint(num)
		if r.seen&bit != 0 {
			r.fail("%s appears more than once", r.names.name(num))
			return false
		}
		r.seen |= bit
	}
	return true
}

func (r *fieldReader) consumeVarint(num protowire.Number, typ protowire.Type) (uint64, bool) {
	if !r.expect(num, typ, protowire.VarintType, false) {
		return 0, false
	}
	v, n := protowire.ConsumeVarint(r.b)
	if n < 0 {
		r.fail("%s: %v", r.names.name(num), protowire.ParseError(n))
		return 0, false
	}
	r.b = r.b[n:]
	return v, true
}

func (r *fieldReader) consumeLen(num protowire.Number, typ protowire.Type, repeated bool) ([]byte, bool) {
	if !r.expect(num, typ, protowire.BytesType, repeated) {
		return nil, false
	}
	v, n := protowire.ConsumeBytes(r.b)
	if n < 0 {
		r.fail("%s: %v", r.names.name(num), protowire.ParseError(n))
		return nil, false
	}
	r.b = r.b[n:]
	return v, true
}

func (r *fieldReader) int64(num protowire.Number, typ protowire.Type, dst *int64) {
	if v, ok := r.consumeVarint(num, typ); ok {
		*dst = int64(v)
	}
}

func (r *fieldReader) uint64(num protowire.Number, typ protowire.Type, dst *uint64) {
	if v, ok := r.consumeVarint(num, typ); ok {
		*dst = v
	}
}

func (r *fieldReader) bool(num protowire.Number, typ protowire.Type, dst *bool) {
	v, ok := r.consumeVarint(num, typ)
	if !ok {
		return
	}
	if v > 1 {
		r.fail("%s is %d, expected 0 or 1", r.names.name(num), v)
		return
	}
	*dst = v == 1
}

func (r *fieldReader) string(num protowire.Number, typ protowire.Type, dst *string) {
	v, ok := r.consumeLen(num, typ, false)
	if !ok {
		return
	}
	if len(v) > MaxStringSize {
		r.fail("%s is %d bytes, limit %d", r.names.name(num), len(v), MaxStringSize)
		return
	}
	*dst = string(v)
}

func (r *fieldReader) bytes(num protowire.Number, typ protowire.Type, dst *[]byte) {
	if v, ok := r.consumeLen(num, typ, false); ok {
		*dst = slices.Clone(v)
		if *dst == nil {
			*dst = []byte{}
		}
	}
}

func (r *fieldReader) position(num protowire.Number, typ protowire.Type, dst *ackset.Position) {
	v, ok := r.consumeLen(num, typ, false)
	if !ok {
		return
	}
	p, err := decodePosition(v, r.what+"."+r.names.name(num))
	if err != nil {
		r.err = err
		return
	}
	*dst = p
}

// skip consumes an unknown field: a newer daemon's addition.
func (r *fieldReader) skip(num protowire.Number, typ protowire.Type) {
	if r.err != nil {
		return
	}
	if typ == protowire.StartGroupType || typ == protowire.EndGroupType {
		r.fail("%s uses a group, which this format never does", r.names.name(num))
		return
	}
	n := protowire.ConsumeFieldValue(num, typ, r.b)
	if n < 0 {
		r.fail("%s: %v", r.names.name(num), protowire.ParseError(n))
		return
	}
	r.b = r.b[n:]
}

// finish reports the first error, or a missing required field.
func (r *fieldReader) finish(required ...protowire.Number) *DecodeError {
	if r.err != nil {
		return r.err
	}
	for _, num := range required {
		if r.seen&(uint64(1)<<uint(num)) == 0 {
			return malformed("%s: required %s is missing", r.what, r.names.name(num))
		}
	}
	return nil
}

func decodePosition(b []byte, what string) (ackset.Position, *DecodeError) {
	var p ackset.Position
	r := newFieldReader(b, what, positionFields)
	for num, typ, ok := r.next(); ok; num, typ, ok = r.next() {
		switch num {
		case 1:
			r.int64(num, typ, &p.Ledger)
		case 2:
			r.int64(num, typ, &p.Entry)
		default:
			r.skip(num, typ)
		}
	}
	return p, r.finish(1, 2)
}

func decodeAnchor(b []byte, what string) (Anchor, *DecodeError) {
	var a Anchor
	var digest []byte
	r := newFieldReader(b, what, anchorFields)
	for num, typ, ok := r.next(); ok; num, typ, ok = r.next() {
		switch num {
		case 1:
			r.position(num, typ, &a.Local)
		case 2:
			r.string(num, typ, &a.ProducerName)
		case 3:
			r.int64(num, typ, &a.SequenceID)
		case 4:
			r.int64(num, typ, &a.PublishTime)
		case 5:
			r.int64(num, typ, &a.Count)
		case 6:
			digest, _ = r.consumeLen(num, typ, false)
			if r.err == nil && len(digest) != DigestSize {
				r.fail("digest is %d bytes, expected %d", len(digest), DigestSize)
			}
		default:
			r.skip(num, typ)
		}
	}
	if err := r.finish(1, 2, 3, 4, 5, 6); err != nil {
		return Anchor{}, err
	}
	copy(a.Digest[:], digest)
	return a, nil
}

func decodeRequest(b []byte) (*SnapshotRequest, *DecodeError) {
	m := &SnapshotRequest{}
	r := newFieldReader(b, "snapshot request", requestFields)
	for num, typ, ok := r.next(); ok; num, typ, ok = r.next() {
		switch num {
		case 1:
			r.string(num, typ, &m.ID)
		case 2:
			r.string(num, typ, &m.Topic)
		case 3:
			r.string(num, typ, &m.Requester)
		case 4:
			r.position(num, typ, &m.RequesterLAC)
		case 5:
			r.int64(num, typ, &m.SentAt)
		case 6:
			r.anchor(num, typ, &m.Anchors)
		default:
			r.skip(num, typ)
		}
	}
	if err := r.finish(1, 2, 3, 4, 5); err != nil {
		return nil, err
	}
	return m, nil
}

func (r *fieldReader) anchor(num protowire.Number, typ protowire.Type, dst *[]Anchor) {
	v, ok := r.consumeLen(num, typ, true)
	if !ok {
		return
	}
	if len(*dst) >= MaxAnchors {
		r.fail("more than %d anchors", MaxAnchors)
		return
	}
	a, err := decodeAnchor(v, fmt.Sprintf("%s.anchors[%d]", r.what, len(*dst)))
	if err != nil {
		r.err = err
		return
	}
	*dst = append(*dst, a)
}

func decodeResponse(b []byte) (*SnapshotResponse, *DecodeError) {
	m := &SnapshotResponse{}
	r := newFieldReader(b, "snapshot response", responseFields)
	for num, typ, ok := r.next(); ok; num, typ, ok = r.next() {
		switch num {
		case 1:
			r.string(num, typ, &m.ID)
		case 2:
			r.string(num, typ, &m.Topic)
		case 3:
			r.string(num, typ, &m.Requester)
		case 4:
			r.string(num, typ, &m.Responder)
		case 5:
			r.position(num, typ, &m.ResponderLAC)
		case 6:
			var w ackset.Position
			if r.position(num, typ, &w); r.err == nil {
				m.Watermark = &w
			}
		case 7:
			r.int64(num, typ, &m.SentAt)
		case 8:
			r.bytes(num, typ, &m.Have)
		case 9:
			var p ackset.Position
			if r.position(num, typ, &p); r.err == nil {
				m.TailPosition = &p
			}
		default:
			r.skip(num, typ)
		}
	}
	if err := r.finish(1, 2, 3, 4, 5, 7); err != nil {
		return nil, err
	}
	return m, nil
}

func decodeUpdate(b []byte) (*Update, *DecodeError) {
	m := &Update{}
	r := newFieldReader(b, "update", updateFields)
	for num, typ, ok := r.next(); ok; num, typ, ok = r.next() {
		switch num {
		case 1:
			r.string(num, typ, &m.Topic)
		case 2:
			r.string(num, typ, &m.Subscription)
		case 3:
			r.string(num, typ, &m.Sender)
		case 4:
			r.int64(num, typ, &m.Epoch)
		case 5:
			r.uint64(num, typ, &m.Sequence)
		case 6:
			r.bool(num, typ, &m.Full)
		case 7:
			r.position(num, typ, &m.SenderMDP)
		case 8:
			r.bytes(num, typ, &m.AckSet)
		case 9:
			r.int64(num, typ, &m.SentAt)
		case 10:
			r.bool(num, typ, &m.Active)
		case 11:
			r.int64(num, typ, &m.LastActive)
		case 12:
			r.bool(num, typ, &m.Deleted)
		default:
			r.skip(num, typ)
		}
	}
	if err := r.finish(1, 2, 3, 4, 5, 6, 7, 8, 9); err != nil {
		return nil, err
	}
	return m, nil
}
