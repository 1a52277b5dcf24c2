package snapshot

import (
	"errors"
	"fmt"
)

// Reason classifies why Decode rejected its input, for counting.
type Reason uint8

// Decode failure reasons.
const (
	// ReasonMalformed: not a well-formed envelope or body (wrong magic,
	// truncated, trailing bytes, bad field encoding, a missing required
	// field, an out-of-range value or length).
	ReasonMalformed Reason = iota + 1
	// ReasonUnsupportedVersion: an envelope format version this daemon
	// does not speak (typically a newer daemon).
	ReasonUnsupportedVersion
	// ReasonUnknownKey: signed with a key id absent from the keyring.
	ReasonUnknownKey
	// ReasonBadSignature: the HMAC does not match.
	ReasonBadSignature
	// ReasonUnsupportedType: authentic, but a message type this daemon
	// does not know (typically from a newer daemon).
	ReasonUnsupportedType
)

// String names the reason for logs and metric labels.
func (r Reason) String() string {
	switch r {
	case ReasonMalformed:
		return "malformed"
	case ReasonUnsupportedVersion:
		return "unsupported_version"
	case ReasonUnknownKey:
		return "unknown_key"
	case ReasonBadSignature:
		return "bad_signature"
	case ReasonUnsupportedType:
		return "unsupported_type"
	}
	return fmt.Sprintf("reason_%d", uint8(r))
}

// Sentinels for errors.Is; every *DecodeError matches the one of its Reason.
var (
	ErrMalformed          = errors.New("malformed control message")
	ErrUnsupportedVersion = errors.New("unsupported control message format version")
	ErrUnknownKey         = errors.New("control message signed with an unknown key")
	ErrBadSignature       = errors.New("control message signature mismatch")
	ErrUnsupportedType    = errors.New("unsupported control message type")
)

// ErrInvalidMessage is returned by Encode for a message that Decode would
// reject (missing required field, value out of range, too large).
var ErrInvalidMessage = errors.New("invalid control message")

// DecodeError is the error type returned by Decode.
type DecodeError struct {
	Reason Reason
	Detail string // what was wrong, naming the field or envelope part
}

func (e *DecodeError) Error() string {
	return e.sentinel().Error() + ": " + e.Detail
}

// Is makes errors.Is(err, ErrBadSignature) and friends work.
func (e *DecodeError) Is(target error) bool { return target == e.sentinel() }

func (e *DecodeError) sentinel() error {
	switch e.Reason {
	case ReasonUnsupportedVersion:
		return ErrUnsupportedVersion
	case ReasonUnknownKey:
		return ErrUnknownKey
	case ReasonBadSignature:
		return ErrBadSignature
	case ReasonUnsupportedType:
		return ErrUnsupportedType
	}
	return ErrMalformed
}

// ReasonOf returns the Reason of a Decode error, or 0 if err is not one.
func ReasonOf(err error) Reason {
	var de *DecodeError
	if errors.As(err, &de) {
		return de.Reason
	}
	return 0
}

func malformed(format string, args ...any) *DecodeError {
	return &DecodeError{Reason: ReasonMalformed, Detail: fmt.Sprintf(format, args...)}
}
