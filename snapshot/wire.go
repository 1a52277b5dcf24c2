package snapshot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// Envelope layout (format version 1), all integers big-endian:
//
//	offset  size  field
//	0       4     magic "ssct"
//	4       1     format version (1)
//	5       1     message type
//	6       4     key id
//	10      4     body length n
//	14      n     body (protobuf wire format, see body.go)
//	14+n    32    HMAC-SHA256 over bytes [0, 14+n) with the key's secret
//
// The MAC covers the whole header, so a flipped type, key id or length is
// as detectable as a flipped body byte.
const (
	formatVersion = 1
	headerSize    = 14
	macSize       = sha256.Size

	// MaxBodySize bounds a body, below Pulsar's default maxMessageSize
	// (5 MiB) so an encoded message always fits in one entry.
	MaxBodySize = 4 << 20
)

var magic = [4]byte{'s', 's', 'c', 't'}

// Encode signs msg with key and returns the envelope. It fails, wrapping
// ErrInvalidMessage, for a message Decode would reject, and for a key that
// is too short.
func Encode(msg Message, key Key) ([]byte, error) {
	if msg == nil {
		return nil, fmt.Errorf("encode: %w: nil message", ErrInvalidMessage)
	}
	if err := key.validate(); err != nil {
		return nil, fmt.Errorf("encode %s: %w", msg.Type(), err)
	}
	out, err := appendBody(appendHeader(nil, msg.Type()), msg)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w: %w", msg.Type(), ErrInvalidMessage, err)
	}
	if bodyLen := len(out) - headerSize; bodyLen > MaxBodySize {
		return nil, fmt.Errorf("encode %s: %w: body is %d bytes, limit %d",
			msg.Type(), ErrInvalidMessage, bodyLen, MaxBodySize)
	}
	return sign(out, key), nil
}

// appendHeader appends a header whose key id and body length sign fills in.
func appendHeader(dst []byte, typ MessageType) []byte {
	dst = append(dst, magic[:]...)
	return append(dst, formatVersion, byte(typ), 0, 0, 0, 0, 0, 0, 0, 0)
}

// sign completes the header of out (header and body) and appends the MAC.
func sign(out []byte, key Key) []byte {
	binary.BigEndian.PutUint32(out[6:], key.ID)
	binary.BigEndian.PutUint32(out[10:], uint32(len(out)-headerSize))
	return append(out, computeMAC(key.Secret, out)...)
}

func computeMAC(secret, signed []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(signed)
	return m.Sum(nil)
}

// Decode authenticates data with keys and parses the message. The MAC is
// verified, in constant time, before any of the body is parsed. Every
// failure is a *DecodeError whose Reason tells why. Decode never panics and
// allocates at most in proportion to len(data).
func Decode(data []byte, keys *Keyring) (Message, error) {
	typ, body, err := open(data, keys)
	if err != nil {
		return nil, err
	}
	msg, derr := decodeBody(typ, body)
	if derr != nil {
		return nil, derr
	}
	return msg, nil
}

// open checks the envelope and the MAC and returns the authentic body.
func open(data []byte, keys *Keyring) (MessageType, []byte, error) {
	if len(data) < headerSize+macSize {
		return 0, nil, malformed("envelope is %d bytes, expected at least %d", len(data), headerSize+macSize)
	}
	if [4]byte(data[:4]) != magic {
		return 0, nil, malformed("envelope magic %x, expected %x", data[:4], magic[:])
	}
	if v := data[4]; v != formatVersion {
		return 0, nil, &DecodeError{Reason: ReasonUnsupportedVersion,
			Detail: fmt.Sprintf("format version %d, this daemon speaks %d", v, formatVersion)}
	}
	bodyLen := binary.BigEndian.Uint32(data[10:])
	if bodyLen > MaxBodySize {
		return 0, nil, malformed("body length %d exceeds limit %d", bodyLen, MaxBodySize)
	}
	if want := headerSize + int(bodyLen) + macSize; len(data) != want {
		return 0, nil, malformed("envelope is %d bytes, body length %d implies %d", len(data), bodyLen, want)
	}
	keyID := binary.BigEndian.Uint32(data[6:])
	secret, ok := keys.lookup(keyID)
	if !ok {
		return 0, nil, &DecodeError{Reason: ReasonUnknownKey, Detail: fmt.Sprintf("key id %d is not in the keyring", keyID)}
	}
	signedEnd := headerSize + int(bodyLen)
	if !hmac.Equal(computeMAC(secret, data[:signedEnd]), data[signedEnd:]) {
		return 0, nil, &DecodeError{Reason: ReasonBadSignature, Detail: fmt.Sprintf("HMAC mismatch with key id %d", keyID)}
	}
	typ := MessageType(data[5])
	if !knownType(typ) {
		return 0, nil, &DecodeError{Reason: ReasonUnsupportedType, Detail: fmt.Sprintf("message type %d", uint8(typ))}
	}
	return typ, data[headerSize:signedEnd], nil
}

func knownType(t MessageType) bool {
	return t == TypeSnapshotRequest || t == TypeSnapshotResponse || t == TypeUpdate
}
