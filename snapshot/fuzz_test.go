package snapshot

import (
	"bytes"
	"reflect"
	"testing"
)

// checkDecoded holds for anything Decode accepts: it is a valid message,
// and encoding it again yields an envelope that decodes to the same value.
func checkDecoded(t *testing.T, msg Message, err error) {
	t.Helper()
	if err != nil {
		if ReasonOf(err) == 0 {
			t.Fatalf("error %v is not a *DecodeError", err)
		}
		if msg != nil {
			t.Fatalf("message %#v returned with error %v", msg, err)
		}
		return
	}
	again, err := Encode(msg, testKey)
	if err != nil {
		t.Fatalf("accepted message does not re-encode: %v (%#v)", err, msg)
	}
	back, err := Decode(again, testRing)
	if err != nil {
		t.Fatalf("re-encoded message does not decode: %v", err)
	}
	if !reflect.DeepEqual(back, msg) {
		t.Fatalf("re-encoding changed the message:\n got %#v\nwant %#v", back, msg)
	}
}

func envelopeSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, msg := range samples() {
		data, err := Encode(msg, testKey)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, data)
	}
	return seeds
}

// FuzzDecode feeds arbitrary envelopes twice: as they are (almost always
// rejected by the MAC), and with a valid MAC over them appended, so the
// header checks and the body parser behind the MAC are exercised too.
func FuzzDecode(f *testing.F) {
	for _, data := range envelopeSeeds(f) {
		f.Add(data)
		f.Add(data[:len(data)-macSize]) // unsigned form: the second pass signs it
	}
	f.Add([]byte{})
	f.Add([]byte("ssct"))
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := Decode(data, testRing)
		checkDecoded(t, msg, err)
		signed := append(bytes.Clone(data), computeMAC(testKey.Secret, data)...)
		msg, err = Decode(signed, testRing)
		checkDecoded(t, msg, err)
	})
}

// FuzzDecodeBody signs arbitrary bodies of every message type with the test
// key, so every input reaches the body parser.
func FuzzDecodeBody(f *testing.F) {
	for _, msg := range samples() {
		body, err := encodeBody(msg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(byte(msg.Type()), body)
		f.Add(byte(msg.Type()), append(bytes.Clone(body), unknownFields()...))
	}
	f.Add(byte(TypeUpdate), bytes.Join(validUpdateFields(), nil))
	f.Add(byte(TypeUpdate), []byte{0x52, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add(byte(TypeSnapshotRequest), []byte{})
	f.Fuzz(func(t *testing.T, typ byte, body []byte) {
		if len(body) > MaxBodySize {
			return
		}
		msg, err := Decode(seal(MessageType(typ), testKey, body), testRing)
		checkDecoded(t, msg, err)
		if err == nil && msg.Type() != MessageType(typ) {
			t.Fatalf("type %d decoded as %v", typ, msg.Type())
		}
	})
}
