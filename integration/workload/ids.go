package workload

import (
	"bytes"
	"fmt"
	"strconv"
)

// payloadPrefix starts every workload payload so that a stray message
// published by something else is recognised as such instead of being
// counted.
const payloadPrefix = "wl:"

// payloadFill pads payloads up to the requested size after the number.
const payloadFill = '.'

// maxIDDigits bounds the number in a payload (ids are ints below 10^9).
const maxIDDigits = 9

// MaxMessages is the largest number of messages one run may number.
const MaxMessages = 10_000_000

// Payload returns the payload of message id: the prefix, the decimal id
// and, when size is larger, padding up to size bytes.
func Payload(id, size int) []byte {
	p := make([]byte, 0, max(size, len(payloadPrefix)+maxIDDigits+1))
	p = append(p, payloadPrefix...)
	p = strconv.AppendInt(p, int64(id), 10)
	p = append(p, ';')
	for len(p) < size {
		p = append(p, payloadFill)
	}
	return p
}

// ParseID extracts the message id from a payload made by Payload. Anything
// else (not ours, truncated, out of range) is an error naming what was
// expected.
func ParseID(payload []byte) (int, error) {
	rest, ok := bytes.CutPrefix(payload, []byte(payloadPrefix))
	if !ok {
		return 0, fmt.Errorf("payload %.24q: expected prefix %q", payload, payloadPrefix)
	}
	end := bytes.IndexByte(rest, ';')
	if end < 1 || end > maxIDDigits {
		return 0, fmt.Errorf("payload %.24q: expected 1 to %d digits then ';'", payload, maxIDDigits)
	}
	id := 0
	for _, c := range rest[:end] {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("payload %.24q: expected a decimal id, found %q", payload, c)
		}
		id = id*10 + int(c-'0')
	}
	if id >= MaxMessages {
		return 0, fmt.Errorf("payload %.24q: id %d is not below %d", payload, id, MaxMessages)
	}
	for _, c := range rest[end+1:] {
		if c != payloadFill {
			return 0, fmt.Errorf("payload %.24q: expected only %q padding after the id", payload, payloadFill)
		}
	}
	return id, nil
}
