package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"google.golang.org/protobuf/proto"
)

// Magic numbers that open the optional parts of a payload frame.
const (
	magicChecksum        uint16 = 0x0e01
	magicBrokerEntryMeta uint16 = 0x0e02
)

// MaxFrameSize bounds what the emulator reads: Pulsar's default 5 MiB
// message size plus 10 KiB for headers, as its clients assume.
const MaxFrameSize = 5*1024*1024 + 10*1024

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrFrameTooLarge is returned when a frame announces more than MaxFrameSize.
var ErrFrameTooLarge = errors.New("frame larger than the maximum frame size")

// Frame is one decoded frame: its command and, for SEND and MESSAGE, the
// bytes after the command ([magic][crc][metaSize][meta][payload]).
type Frame struct {
	Cmd     *Command
	Payload []byte
}

// ReadFrame reads one frame: [u32 total][u32 cmdSize][cmd][rest].
func ReadFrame(r *bufio.Reader) (Frame, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return Frame{}, err
	}
	total := binary.BigEndian.Uint32(head[:])
	if total > MaxFrameSize {
		return Frame{}, fmt.Errorf("frame of %d bytes: %w", total, ErrFrameTooLarge)
	}
	if total < 4 {
		return Frame{}, fmt.Errorf("frame of %d bytes: shorter than its command size field", total)
	}
	body := make([]byte, total)
	if _, err := io.ReadFull(r, body); err != nil {
		return Frame{}, fmt.Errorf("reading frame body: %w", err)
	}
	return DecodeFrameBody(body)
}

// DecodeFrameBody decodes a frame without its leading total-size field.
func DecodeFrameBody(body []byte) (Frame, error) {
	if len(body) < 4 {
		return Frame{}, fmt.Errorf("frame body of %d bytes: missing command size", len(body))
	}
	cmdSize := binary.BigEndian.Uint32(body)
	if uint64(cmdSize) > uint64(len(body)-4) {
		return Frame{}, fmt.Errorf("command size %d exceeds frame body of %d bytes", cmdSize, len(body)-4)
	}
	cmd := &Command{}
	if err := proto.Unmarshal(body[4:4+cmdSize], cmd); err != nil {
		return Frame{}, fmt.Errorf("decoding command: %w", err)
	}
	f := Frame{Cmd: cmd}
	if rest := body[4+cmdSize:]; len(rest) > 0 {
		f.Payload = rest
	}
	return f, nil
}

// EncodeCommand returns a frame carrying cmd alone.
func EncodeCommand(cmd *Command) ([]byte, error) {
	c, err := proto.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("encoding %v command: %w", cmd.GetKind(), err)
	}
	out := make([]byte, 8, 8+len(c))
	binary.BigEndian.PutUint32(out[0:], uint32(4+len(c)))
	binary.BigEndian.PutUint32(out[4:], uint32(len(c)))
	return append(out, c...), nil
}

// EncodePayloadCommand returns a frame carrying cmd followed by an entry:
// optional broker entry metadata, then the checksummed
// [metaSize][meta][payload] bytes in metaAndPayload.
func EncodePayloadCommand(cmd *Command, brokerMeta *BrokerEntryMeta, metaAndPayload []byte) ([]byte, error) {
	c, err := proto.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("encoding %v command: %w", cmd.GetKind(), err)
	}
	var bm []byte
	if brokerMeta != nil {
		if bm, err = proto.Marshal(brokerMeta); err != nil {
			return nil, fmt.Errorf("encoding broker entry metadata: %w", err)
		}
	}
	size := 4 + len(c) + 6 + len(metaAndPayload)
	if bm != nil {
		size += 6 + len(bm)
	}
	out := make([]byte, 0, 4+size)
	out = binary.BigEndian.AppendUint32(out, uint32(size))
	out = binary.BigEndian.AppendUint32(out, uint32(len(c)))
	out = append(out, c...)
	if bm != nil {
		out = binary.BigEndian.AppendUint16(out, magicBrokerEntryMeta)
		out = binary.BigEndian.AppendUint32(out, uint32(len(bm)))
		out = append(out, bm...)
	}
	out = binary.BigEndian.AppendUint16(out, magicChecksum)
	out = binary.BigEndian.AppendUint32(out, crc32.Checksum(metaAndPayload, castagnoli))
	return append(out, metaAndPayload...), nil
}

// Entry is a parsed [metaSize][meta][payload] block, as the broker stores it.
type Entry struct {
	Meta    *Metadata
	Payload []byte
	// Raw is the whole block, for storing and re-sending unchanged.
	Raw []byte
}

// ParseSendPayload checks and parses what follows a SEND command:
// [magic][crc][metaSize][meta][payload]. A checksum mismatch is an error,
// as on a broker.
func ParseSendPayload(b []byte) (Entry, error) {
	if len(b) >= 2 && binary.BigEndian.Uint16(b) == magicBrokerEntryMeta {
		return Entry{}, errors.New("producer frame carries broker entry metadata")
	}
	if len(b) < 6 || binary.BigEndian.Uint16(b) != magicChecksum {
		return Entry{}, errors.New("payload does not start with the CRC32-C magic 0x0e01")
	}
	want := binary.BigEndian.Uint32(b[2:])
	raw := b[6:]
	if got := crc32.Checksum(raw, castagnoli); got != want {
		return Entry{}, fmt.Errorf("payload checksum 0x%08x, computed 0x%08x", want, got)
	}
	return ParseEntry(raw)
}

// ParseEntry parses a stored [metaSize][meta][payload] block.
func ParseEntry(raw []byte) (Entry, error) {
	if len(raw) < 4 {
		return Entry{}, fmt.Errorf("entry of %d bytes: missing metadata size", len(raw))
	}
	n := binary.BigEndian.Uint32(raw)
	if uint64(n) > uint64(len(raw)-4) {
		return Entry{}, fmt.Errorf("metadata size %d exceeds entry of %d bytes", n, len(raw))
	}
	meta := &Metadata{}
	if err := proto.Unmarshal(raw[4:4+n], meta); err != nil {
		return Entry{}, fmt.Errorf("decoding message metadata: %w", err)
	}
	return Entry{Meta: meta, Payload: raw[4+n:], Raw: raw}, nil
}

// BuildEntry serializes meta and payload into a [metaSize][meta][payload] block.
func BuildEntry(meta *Metadata, payload []byte) ([]byte, error) {
	m, err := proto.Marshal(meta)
	if err != nil {
		return nil, fmt.Errorf("encoding message metadata: %w", err)
	}
	out := make([]byte, 0, 4+len(m)+len(payload))
	out = binary.BigEndian.AppendUint32(out, uint32(len(m)))
	out = append(out, m...)
	return append(out, payload...), nil
}

// SingleMessage is one message of an uncompressed batch payload.
type SingleMessage struct {
	Meta    *SingleMetadata
	Payload []byte
}

// ParseBatch splits an uncompressed batch payload of n messages.
func ParseBatch(payload []byte, n int) ([]SingleMessage, error) {
	if n < 0 || n > len(payload) {
		return nil, fmt.Errorf("batch of %d messages in %d bytes", n, len(payload))
	}
	out := make([]SingleMessage, 0, n)
	rest := payload
	for i := 0; i < n; i++ {
		if len(rest) < 4 {
			return nil, fmt.Errorf("batch message %d: missing metadata size", i)
		}
		size := binary.BigEndian.Uint32(rest)
		if uint64(size) > uint64(len(rest)-4) {
			return nil, fmt.Errorf("batch message %d: metadata size %d exceeds remaining %d bytes", i, size, len(rest)-4)
		}
		sm := &SingleMetadata{}
		if err := proto.Unmarshal(rest[4:4+size], sm); err != nil {
			return nil, fmt.Errorf("batch message %d: decoding metadata: %w", i, err)
		}
		rest = rest[4+size:]
		ps := sm.GetPayloadSize()
		if ps < 0 || int(ps) > len(rest) {
			return nil, fmt.Errorf("batch message %d: payload size %d exceeds remaining %d bytes", i, ps, len(rest))
		}
		out = append(out, SingleMessage{Meta: sm, Payload: rest[:ps]})
		rest = rest[ps:]
	}
	return out, nil
}

// BuildBatch serializes messages as a batch payload; it sets each
// message's payload size.
func BuildBatch(msgs []SingleMessage) ([]byte, error) {
	var out []byte
	for i, m := range msgs {
		sm := proto.Clone(m.Meta).(*SingleMetadata)
		sm.PayloadSize = proto.Int32(int32(len(m.Payload)))
		b, err := proto.Marshal(sm)
		if err != nil {
			return nil, fmt.Errorf("batch message %d: encoding metadata: %w", i, err)
		}
		out = binary.BigEndian.AppendUint32(out, uint32(len(b)))
		out = append(out, b...)
		out = append(out, m.Payload...)
	}
	return out, nil
}
