package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/subsync/subsync/ackset"
)

var (
	testKey   = Key{ID: 7, Secret: []byte("subsync-test-key-0123456789abcdef")}
	otherKey  = Key{ID: 8, Secret: []byte("subsync-other-key-fedcba9876543210")}
	testRing  = mustKeyring(testKey.ID, testKey)
	bothRings = mustKeyring(otherKey.ID, testKey, otherKey)
)

func mustKeyring(current uint32, keys ...Key) *Keyring {
	r, err := NewKeyring(current, keys...)
	if err != nil {
		panic(err)
	}
	return r
}

func pos(l, e int64) ackset.Position { return ackset.Position{Ledger: l, Entry: e} }

func posPtr(l, e int64) *ackset.Position { p := pos(l, e); return &p }

func digestOf(b byte) [DigestSize]byte {
	var d [DigestSize]byte
	for i := range d {
		d[i] = b + byte(i)
	}
	return d
}

func sampleRequest() *SnapshotRequest {
	return &SnapshotRequest{
		ID:           "east-1700000000000-42",
		Topic:        "persistent://acme/orders/created-partition-3",
		Requester:    "east",
		RequesterLAC: pos(1687807, 6998),
		SentAt:       1700000000123,
		Anchors: []Anchor{
			{Local: pos(1687807, 100), ProducerName: "east-7-12", SequenceID: 9001,
				PublishTime: 1699999999000, Count: 64, Digest: digestOf(1)},
			{Local: pos(1687808, 0), ProducerName: "east-7-13", SequenceID: -1,
				PublishTime: 0, Count: 0, Digest: digestOf(200)},
		},
	}
}

func sampleResponse() *SnapshotResponse {
	return &SnapshotResponse{
		ID:           "east-1700000000000-42",
		Topic:        "persistent://acme/orders/created-partition-3",
		Requester:    "east",
		Responder:    "west",
		ResponderLAC: pos(2001, 77),
		Watermark:    posPtr(1687807, 6990),
		SentAt:       1700000000456,
	}
}

func sampleUpdate() *Update {
	return &Update{
		Topic:        "persistent://acme/orders/created-partition-3",
		Subscription: "billing",
		Sender:       "east",
		Epoch:        1699990000000,
		Sequence:     12,
		Full:         true,
		SenderMDP:    pos(1687807, -1),
		AckSet:       []byte{0x01, 0x02, 0x03, 0xfe, 0xff},
		SentAt:       1700000000789,
	}
}

func samples() map[string]Message {
	noWatermark := sampleResponse()
	noWatermark.Watermark = nil
	noAnchors := sampleRequest()
	noAnchors.Anchors = nil
	delta := sampleUpdate()
	delta.Full = false
	delta.AckSet = []byte{}
	owned := sampleUpdate()
	owned.Active, owned.LastActive = true, 1700000000700
	deleted := sampleUpdate()
	deleted.Deleted, deleted.LastActive, deleted.AckSet = true, 1690000000000, []byte{}
	return map[string]Message{
		"update-active":         owned,
		"update-deleted":        deleted,
		"request":               sampleRequest(),
		"request-no-anchors":    noAnchors,
		"response":              sampleResponse(),
		"response-no-watermark": noWatermark,
		"update":                sampleUpdate(),
		"update-empty-delta":    delta,
	}
}

func mustEncode(t testing.TB, msg Message, key Key) []byte {
	t.Helper()
	b, err := Encode(msg, key)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return b
}

func TestRoundTripSamples(t *testing.T) {
	for name, msg := range samples() {
		t.Run(name, func(t *testing.T) {
			got, err := Decode(mustEncode(t, msg, testKey), testRing)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, msg) {
				t.Fatalf("round trip changed the message:\n got %#v\nwant %#v", got, msg)
			}
		})
	}
}

func TestRoundTripRandomMessages(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		msg := randomMessage(rng)
		data := mustEncode(t, msg, testKey)
		got, err := Decode(data, testRing)
		if err != nil {
			t.Fatalf("case %d: Decode: %v", i, err)
		}
		if !reflect.DeepEqual(got, msg) {
			t.Fatalf("case %d: round trip changed the message:\n got %#v\nwant %#v", i, got, msg)
		}
	}
}

// randomMessage draws valid messages with values at the edges of each range.
func randomMessage(rng *rand.Rand) Message {
	switch rng.IntN(3) {
	case 0:
		m := &SnapshotRequest{ID: randomName(rng), Topic: randomName(rng), Requester: randomName(rng),
			RequesterLAC: randomPosition(rng), SentAt: randomNonNegative(rng)}
		for range rng.IntN(4) {
			m.Anchors = append(m.Anchors, Anchor{Local: randomPosition(rng), ProducerName: randomName(rng),
				SequenceID: randomInt64(rng), PublishTime: randomNonNegative(rng), Count: randomNonNegative(rng),
				Digest: digestOf(byte(rng.IntN(256)))})
		}
		return m
	case 1:
		m := &SnapshotResponse{ID: randomName(rng), Topic: randomName(rng), Requester: randomName(rng),
			Responder: randomName(rng), ResponderLAC: randomPosition(rng), SentAt: randomNonNegative(rng)}
		if rng.IntN(2) == 0 {
			w := randomPosition(rng)
			m.Watermark = &w
		}
		return m
	}
	ack := make([]byte, rng.IntN(64))
	for i := range ack {
		ack[i] = byte(rng.IntN(256))
	}
	return &Update{Topic: randomName(rng), Subscription: randomName(rng), Sender: randomName(rng),
		Epoch: randomNonNegative(rng), Sequence: rng.Uint64() >> rng.IntN(64), Full: rng.IntN(2) == 0,
		SenderMDP: randomPosition(rng), AckSet: ack, SentAt: randomNonNegative(rng),
		Active: rng.IntN(2) == 0, LastActive: randomNonNegative(rng) * int64(rng.IntN(2)), Deleted: rng.IntN(2) == 0}
}

func randomName(rng *rand.Rand) string {
	const alphabet = "abcxyz-_/:.0é漢"
	runes := []rune(alphabet)
	var sb strings.Builder
	for range 1 + rng.IntN(40) {
		sb.WriteRune(runes[rng.IntN(len(runes))])
	}
	return sb.String()
}

func randomPosition(rng *rand.Rand) ackset.Position {
	return ackset.Position{Ledger: randomAtLeastMinus1(rng), Entry: randomAtLeastMinus1(rng)}
}

func randomAtLeastMinus1(rng *rand.Rand) int64 {
	switch rng.IntN(4) {
	case 0:
		return -1
	case 1:
		return math.MaxInt64
	}
	return rng.Int64N(1 << uint(1+rng.IntN(62)))
}

func randomNonNegative(rng *rand.Rand) int64 {
	if rng.IntN(5) == 0 {
		return 0
	}
	return rng.Int64N(math.MaxInt64)
}

func randomInt64(rng *rand.Rand) int64 {
	return int64(rng.Uint64())
}

func TestDecodeDoesNotAliasInput(t *testing.T) {
	data := mustEncode(t, sampleUpdate(), testKey)
	msg, err := Decode(data, testRing)
	if err != nil {
		t.Fatal(err)
	}
	for i := range data {
		data[i] = 0
	}
	if got := msg.(*Update).AckSet; !bytes.Equal(got, sampleUpdate().AckSet) {
		t.Fatalf("ack set changed with the input buffer: %x", got)
	}
}

// Every single-byte change must be rejected: the MAC covers header and body,
// and the MAC bytes themselves are what is compared.
func TestTamperedBytesRejected(t *testing.T) {
	for name, msg := range samples() {
		data := mustEncode(t, msg, testKey)
		for i := range data {
			for _, mask := range []byte{0x01, 0x80, 0xff} {
				tampered := bytes.Clone(data)
				tampered[i] ^= mask
				got, err := Decode(tampered, testRing)
				if err == nil {
					t.Fatalf("%s: byte %d ^ %#x accepted as %#v", name, i, mask, got)
				}
				if ReasonOf(err) == 0 {
					t.Fatalf("%s: byte %d ^ %#x: error %v is not a *DecodeError", name, i, mask, err)
				}
			}
		}
	}
}

func TestTamperReasonByRegion(t *testing.T) {
	data := mustEncode(t, sampleRequest(), testKey)
	cases := []struct {
		name   string
		offset int
		want   Reason
	}{
		{"magic", 0, ReasonMalformed},
		{"version", 4, ReasonUnsupportedVersion},
		{"type", 5, ReasonBadSignature},
		{"key id", 9, ReasonUnknownKey},
		{"body length", 13, ReasonMalformed},
		{"body", headerSize + 3, ReasonBadSignature},
		{"mac", len(data) - 1, ReasonBadSignature},
	}
	for _, c := range cases {
		tampered := bytes.Clone(data)
		tampered[c.offset] ^= 0x01
		_, err := Decode(tampered, testRing)
		if got := ReasonOf(err); got != c.want {
			t.Errorf("%s: reason %v (%v), want %v", c.name, got, err, c.want)
		}
	}
}

func TestTruncatedAndTrailingRejected(t *testing.T) {
	for name, msg := range samples() {
		data := mustEncode(t, msg, testKey)
		for n := range len(data) {
			if _, err := Decode(data[:n], testRing); ReasonOf(err) != ReasonMalformed {
				t.Fatalf("%s: prefix of %d bytes: got %v, want malformed", name, n, err)
			}
		}
		for _, junk := range [][]byte{{0}, []byte("junk"), make([]byte, 64)} {
			if _, err := Decode(append(bytes.Clone(data), junk...), testRing); ReasonOf(err) != ReasonMalformed {
				t.Fatalf("%s: %d trailing bytes: got %v, want malformed", name, len(junk), err)
			}
		}
	}
}

func TestWrongKey(t *testing.T) {
	data := mustEncode(t, sampleUpdate(), testKey)
	sameIDOtherSecret := mustKeyring(testKey.ID, Key{ID: testKey.ID, Secret: otherKey.Secret})
	_, err := Decode(data, sameIDOtherSecret)
	if !errors.Is(err, ErrBadSignature) || ReasonOf(err) != ReasonBadSignature {
		t.Fatalf("same id, other secret: got %v, want bad signature", err)
	}
	_, err = Decode(data, mustKeyring(otherKey.ID, otherKey))
	if !errors.Is(err, ErrUnknownKey) || ReasonOf(err) != ReasonUnknownKey {
		t.Fatalf("key id absent: got %v, want unknown key", err)
	}
	if _, err := Decode(data, nil); ReasonOf(err) != ReasonUnknownKey {
		t.Fatalf("nil keyring: got %v, want unknown key", err)
	}
}

func TestKeyRotation(t *testing.T) {
	oldData := mustEncode(t, sampleUpdate(), testKey)
	newData := mustEncode(t, sampleUpdate(), bothRings.Current())
	if id := binary.BigEndian.Uint32(newData[6:]); id != otherKey.ID {
		t.Fatalf("encoded with key id %d, want current %d", id, otherKey.ID)
	}
	for name, data := range map[string][]byte{"old key": oldData, "new key": newData} {
		if _, err := Decode(data, bothRings); err != nil {
			t.Errorf("%s during rotation: %v", name, err)
		}
	}
	if _, err := Decode(newData, testRing); ReasonOf(err) != ReasonUnknownKey {
		t.Errorf("new key on a daemon not yet rotated: got %v, want unknown key", err)
	}
	if got := bothRings.IDs(); !reflect.DeepEqual(got, []uint32{7, 8}) {
		t.Errorf("IDs = %v, want [7 8]", got)
	}
}

func TestNewKeyringRejects(t *testing.T) {
	cases := map[string]func() (*Keyring, error){
		"short secret":    func() (*Keyring, error) { return NewKeyring(1, Key{ID: 1, Secret: []byte("short")}) },
		"duplicate id":    func() (*Keyring, error) { return NewKeyring(7, testKey, testKey) },
		"current missing": func() (*Keyring, error) { return NewKeyring(9, testKey) },
		"no keys":         func() (*Keyring, error) { return NewKeyring(0) },
	}
	for name, f := range cases {
		if r, err := f(); err == nil {
			t.Errorf("%s: accepted: %+v", name, r)
		}
	}
}

func TestKeyringCopiesSecrets(t *testing.T) {
	secret := bytes.Clone(testKey.Secret)
	ring := mustKeyring(1, Key{ID: 1, Secret: secret})
	data := mustEncode(t, sampleUpdate(), ring.Current())
	secret[0] ^= 0xff
	if _, err := Decode(data, ring); err != nil {
		t.Fatalf("changing the caller's secret slice changed the keyring: %v", err)
	}
}

// seal builds, for tests that craft bodies by hand, an envelope around an already encoded body.
func seal(typ MessageType, key Key, body []byte) []byte {
	out := appendHeader(make([]byte, 0, headerSize+len(body)+macSize), typ)
	return sign(append(out, body...), key)
}

// resign rewrites the MAC so that only the changed header or body is judged.
func resign(data []byte, key Key) []byte {
	signedEnd := len(data) - macSize
	out := bytes.Clone(data[:signedEnd])
	return append(out, computeMAC(key.Secret, out)...)
}

func TestUnsupportedVersion(t *testing.T) {
	data := mustEncode(t, sampleRequest(), testKey)
	for _, v := range []byte{0, 2, 255} {
		d := bytes.Clone(data)
		d[4] = v
		_, err := Decode(resign(d, testKey), testRing)
		if !errors.Is(err, ErrUnsupportedVersion) {
			t.Errorf("version %d: got %v, want unsupported version", v, err)
		}
	}
}

func TestUnsupportedType(t *testing.T) {
	body, err := encodeBody(sampleUpdate())
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []MessageType{0, 4, 200} {
		_, err := Decode(seal(typ, testKey, body), testRing)
		if !errors.Is(err, ErrUnsupportedType) {
			t.Errorf("type %d: got %v, want unsupported type", typ, err)
		}
	}
}

func TestBodyLengthLimit(t *testing.T) {
	d := make([]byte, headerSize+macSize)
	copy(d, magic[:])
	d[4] = formatVersion
	d[5] = byte(TypeUpdate)
	binary.BigEndian.PutUint32(d[6:], testKey.ID)
	binary.BigEndian.PutUint32(d[10:], math.MaxUint32)
	_, err := Decode(d, testRing)
	if ReasonOf(err) != ReasonMalformed || !strings.Contains(err.Error(), "exceeds limit") {
		t.Fatalf("absurd body length: got %v, want malformed (exceeds limit)", err)
	}
}

// unknownFields has one field of every non-group wire type, numbered far
// beyond anything version 1 uses.
func unknownFields() []byte {
	var b []byte
	b = protowire.AppendTag(b, 100, protowire.VarintType)
	b = protowire.AppendVarint(b, 123456789)
	b = protowire.AppendTag(b, 101, protowire.Fixed32Type)
	b = protowire.AppendFixed32(b, 0xdeadbeef)
	b = protowire.AppendTag(b, 102, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, 0xfeedfacecafebeef)
	b = protowire.AppendTag(b, 536870911, protowire.BytesType)
	return protowire.AppendBytes(b, []byte("a field from the future"))
}

// A newer daemon's extra fields, at the top level, in the middle of the body
// and inside nested messages, are skipped by this decoder.
func TestForwardCompatibleUnknownFields(t *testing.T) {
	extra := unknownFields()
	for name, msg := range samples() {
		body, err := encodeBody(msg)
		if err != nil {
			t.Fatal(err)
		}
		variants := map[string][]byte{
			"appended":  append(bytes.Clone(body), extra...),
			"prepended": append(bytes.Clone(extra), body...),
		}
		for vname, b := range variants {
			got, err := Decode(seal(msg.Type(), testKey, b), testRing)
			if err != nil {
				t.Fatalf("%s %s: %v", name, vname, err)
			}
			if !reflect.DeepEqual(got, msg) {
				t.Fatalf("%s %s: got %#v, want %#v", name, vname, got, msg)
			}
		}
	}
}

func TestForwardCompatibleNestedUnknownFields(t *testing.T) {
	var posBody []byte
	posBody = appendInt64(posBody, 1, 5)
	posBody = append(posBody, unknownFields()...)
	posBody = appendInt64(posBody, 2, 6)
	var body []byte
	body = appendString(body, 1, "t")
	body = appendString(body, 2, "s")
	body = appendString(body, 3, "c")
	body = appendInt64(body, 4, 1)
	body = appendVarint(body, 5, 2)
	body = appendBool(body, 6, false)
	body = appendBytes(body, 7, posBody)
	body = appendBytes(body, 8, []byte{9})
	body = appendInt64(body, 9, 3)
	got, err := Decode(seal(TypeUpdate, testKey, body), testRing)
	if err != nil {
		t.Fatal(err)
	}
	want := &Update{Topic: "t", Subscription: "s", Sender: "c", Epoch: 1, Sequence: 2,
		SenderMDP: pos(5, 6), AckSet: []byte{9}, SentAt: 3}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}

// validUpdateFields returns the fields of a valid update body, one slice per
// field, so tests can drop, repeat or replace one.
func validUpdateFields() [][]byte {
	return [][]byte{
		appendString(nil, 1, "topic"),
		appendString(nil, 2, "sub"),
		appendString(nil, 3, "east"),
		appendInt64(nil, 4, 10),
		appendVarint(nil, 5, 11),
		appendBool(nil, 6, true),
		appendPosition(nil, 7, pos(3, 4)),
		appendBytes(nil, 8, []byte{1}),
		appendInt64(nil, 9, 12),
	}
}

func TestMissingRequiredFieldsRejected(t *testing.T) {
	for drop := range validUpdateFields() {
		fields := validUpdateFields()
		body := bytes.Join(append(fields[:drop:drop], fields[drop+1:]...), nil)
		_, err := Decode(seal(TypeUpdate, testKey, body), testRing)
		if ReasonOf(err) != ReasonMalformed || !strings.Contains(err.Error(), "missing") {
			t.Errorf("update without field %d: got %v, want malformed (missing)", drop+1, err)
		}
	}
	if _, err := Decode(seal(TypeUpdate, testKey, bytes.Join(validUpdateFields(), nil)), testRing); err != nil {
		t.Fatalf("the complete field list itself must decode: %v", err)
	}
	reqBody, _ := encodeBody(sampleRequest())
	respBody, _ := encodeBody(sampleResponse())
	for _, c := range []struct {
		typ  MessageType
		body []byte
	}{{TypeSnapshotRequest, reqBody}, {TypeSnapshotResponse, respBody}} {
		// Dropping the first field (the id) must be noticed too.
		_, _, n := protowire.ConsumeField(c.body)
		if _, err := Decode(seal(c.typ, testKey, c.body[n:]), testRing); ReasonOf(err) != ReasonMalformed {
			t.Errorf("%v without id: got %v, want malformed", c.typ, err)
		}
	}
}

func TestMalformedBodiesRejected(t *testing.T) {
	replace := func(i int, field []byte) []byte {
		f := validUpdateFields()
		f[i] = field
		return bytes.Join(f, nil)
	}
	posWith := func(fields ...[]byte) []byte { return appendBytes(nil, 7, bytes.Join(fields, nil)) }
	cases := map[string][]byte{
		"duplicate field":        append(bytes.Join(validUpdateFields(), nil), appendString(nil, 2, "sub2")...),
		"wrong wire type":        replace(0, appendVarint(nil, 1, 5)),
		"bool out of range":      replace(5, appendVarint(nil, 6, 2)),
		"empty topic":            replace(0, appendString(nil, 1, "")),
		"invalid utf8":           replace(1, appendString(nil, 2, "\xff\xfe")),
		"string too long":        replace(2, appendString(nil, 3, strings.Repeat("x", MaxStringSize+1))),
		"negative epoch":         replace(3, appendInt64(nil, 4, -5)),
		"negative sent_at":       replace(8, appendInt64(nil, 9, -1)),
		"ledger below -1":        replace(6, appendPosition(nil, 7, pos(-2, 0))),
		"entry below -1":         replace(6, appendPosition(nil, 7, pos(0, math.MinInt64))),
		"position missing entry": replace(6, posWith(appendInt64(nil, 1, 3))),
		"position bad varint":    replace(6, posWith([]byte{0x08, 0xff})),
		"truncated varint":       append(bytes.Join(validUpdateFields(), nil), 0x50, 0x80),
		"truncated length":       append(bytes.Join(validUpdateFields(), nil), 0x52, 0x05, 'a'),
		"lone tag byte":          append(bytes.Join(validUpdateFields(), nil), 0x80),
		"field number zero":      append(bytes.Join(validUpdateFields(), nil), 0x00, 0x00),
		"group":                  append(bytes.Join(validUpdateFields(), nil), protowire.AppendTag(nil, 50, protowire.StartGroupType)...),
		"end group":              append(bytes.Join(validUpdateFields(), nil), protowire.AppendTag(nil, 50, protowire.EndGroupType)...),
		"reserved wire type":     append(bytes.Join(validUpdateFields(), nil), 0x56, 0x00),
		"absurd length":          append(bytes.Join(validUpdateFields(), nil), 0x52, 0xff, 0xff, 0xff, 0xff, 0x0f),
	}
	for name, body := range cases {
		_, err := Decode(seal(TypeUpdate, testKey, body), testRing)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want malformed", name, err)
		}
	}
}

func TestMalformedRequestsRejected(t *testing.T) {
	anchorBody := func(digestLen int) []byte {
		var b []byte
		b = appendPosition(b, 1, pos(1, 2))
		b = appendString(b, 2, "producer")
		b = appendInt64(b, 3, 1)
		b = appendInt64(b, 4, 1)
		b = appendInt64(b, 5, 1)
		return appendBytes(b, 6, make([]byte, digestLen))
	}
	base, _ := encodeBody(&SnapshotRequest{ID: "i", Topic: "t", Requester: "r", RequesterLAC: pos(1, 2)})
	tooMany := bytes.Clone(base)
	for range MaxAnchors + 1 {
		tooMany = appendBytes(tooMany, 6, anchorBody(DigestSize))
	}
	justEnough := bytes.Clone(base)
	for range MaxAnchors {
		justEnough = appendBytes(justEnough, 6, anchorBody(DigestSize))
	}
	if m, err := Decode(seal(TypeSnapshotRequest, testKey, justEnough), testRing); err != nil || len(m.(*SnapshotRequest).Anchors) != MaxAnchors {
		t.Fatalf("%d anchors: %v", MaxAnchors, err)
	}
	cases := map[string][]byte{
		"short digest":    appendBytes(bytes.Clone(base), 6, anchorBody(DigestSize-1)),
		"long digest":     appendBytes(bytes.Clone(base), 6, anchorBody(DigestSize+1)),
		"too many":        tooMany,
		"anchor as int":   appendVarint(bytes.Clone(base), 6, 1),
		"anchor is empty": appendBytes(bytes.Clone(base), 6, nil),
	}
	for name, body := range cases {
		_, err := Decode(seal(TypeSnapshotRequest, testKey, body), testRing)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want malformed", name, err)
		}
	}
}

func TestEncodeRejectsInvalid(t *testing.T) {
	mutate := func(f func(*SnapshotRequest)) Message { m := sampleRequest(); f(m); return m }
	bigAck := sampleUpdate()
	bigAck.AckSet = make([]byte, MaxBodySize)
	badWatermark := sampleResponse()
	badWatermark.Watermark = posPtr(-2, 0)
	tooManyAnchors := sampleRequest()
	tooManyAnchors.Anchors = make([]Anchor, MaxAnchors+1)
	for i := range tooManyAnchors.Anchors {
		tooManyAnchors.Anchors[i] = sampleRequest().Anchors[0]
	}
	cases := map[string]Message{
		"empty id":           mutate(func(m *SnapshotRequest) { m.ID = "" }),
		"bad lac":            mutate(func(m *SnapshotRequest) { m.RequesterLAC = pos(0, -2) }),
		"anchor no producer": mutate(func(m *SnapshotRequest) { m.Anchors[1].ProducerName = "" }),
		"anchor count < 0":   mutate(func(m *SnapshotRequest) { m.Anchors[0].Count = -1 }),
		"too many anchors":   tooManyAnchors,
		"bad watermark":      badWatermark,
		"ack set too big":    bigAck,
		"nil request":        (*SnapshotRequest)(nil),
		"nil update":         (*Update)(nil),
		"nil response":       (*SnapshotResponse)(nil),
	}
	for name, msg := range cases {
		if b, err := Encode(msg, testKey); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%s: got %d bytes, err %v; want ErrInvalidMessage", name, len(b), err)
		}
	}
	if _, err := Encode(sampleUpdate(), Key{ID: 1, Secret: []byte("short")}); err == nil {
		t.Error("a too-short key was accepted")
	}
	if _, err := Encode(nil, testKey); err == nil {
		t.Error("a nil message was accepted")
	}
}

func TestReasonAndTypeNames(t *testing.T) {
	names := map[string]bool{}
	for _, r := range []Reason{ReasonMalformed, ReasonUnsupportedVersion, ReasonUnknownKey, ReasonBadSignature, ReasonUnsupportedType} {
		names[r.String()] = true
		err := &DecodeError{Reason: r, Detail: "x"}
		if ReasonOf(fmtWrap(err)) != r {
			t.Errorf("ReasonOf lost %v through wrapping", r)
		}
	}
	if len(names) != 5 {
		t.Errorf("reason names are not distinct: %v", names)
	}
	if ReasonOf(errors.New("other")) != 0 {
		t.Error("ReasonOf of a foreign error is not 0")
	}
	if TypeUpdate.String() != "update" || MessageType(9).String() != "type_9" {
		t.Error("unexpected type names")
	}
}

func fmtWrap(err error) error { return errors.Join(errors.New("context"), err) }

func TestResponseCarriesHaveAndTailPosition(t *testing.T) {
	wm := ackset.Position{Ledger: 7, Entry: 41}
	tail := ackset.Position{Ledger: 9, Entry: 3}
	resp := &SnapshotResponse{ID: "east-1-1", Topic: "persistent://t/ns/x", Requester: "east", Responder: "west",
		ResponderLAC: ackset.Position{Ledger: 9, Entry: 3}, Watermark: &wm, SentAt: 1, Have: []byte{1, 2, 3},
		TailPosition: &tail}
	b, err := Encode(resp, testKey)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := Decode(b, testRing)
	if err != nil {
		t.Fatal(err)
	}
	got := msg.(*SnapshotResponse)
	if !bytes.Equal(got.Have, resp.Have) || got.TailPosition == nil || *got.TailPosition != tail {
		t.Fatalf("have %v tail %v", got.Have, got.TailPosition)
	}
	tr, err := NewTracker(TrackerConfig{Cluster: "east", IDPrefix: "east-1"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(1000)
	req, _, err := tr.Begin(now, resp.Topic, ackset.Position{Ledger: 3, Entry: 3}, []string{"west"})
	if err != nil {
		t.Fatal(err)
	}
	got.ID = req.ID
	res := tr.OnResponse(now, *got)
	if res.Outcome != Accepted || !res.Mapping.TailCaughtUp || res.Mapping.Have != string(resp.Have) {
		t.Fatalf("mapping %+v", res)
	}
	behind := ackset.Position{Ledger: 9, Entry: 2}
	got.TailPosition = &behind
	if mappingOf(req, *got).TailCaughtUp {
		t.Fatal("a tail behind the responder's LAC counted as caught up")
	}
}
