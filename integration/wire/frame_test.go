package wire

import (
	"bufio"
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"
)

func sampleEntry(t testing.TB) []byte {
	raw, err := BuildEntry(&Metadata{ProducerName: proto.String("p"), SequenceId: proto.Uint64(7),
		PublishTime: proto.Uint64(1700000000000), NumMessagesInBatch: proto.Int32(2)}, []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestPayloadFrameRoundTrip(t *testing.T) {
	raw := sampleEntry(t)
	cmd := &Command{Kind: Kind_MESSAGE.Enum(), Message: &Message{ConsumerId: proto.Uint64(3),
		MessageId: &MsgID{Ledger: proto.Uint64(10), Entry: proto.Uint64(4)}}}
	for _, bm := range []*BrokerEntryMeta{nil, {BrokerTimestamp: proto.Uint64(5), Index: proto.Uint64(6)}} {
		b, err := EncodePayloadCommand(cmd, bm, raw)
		if err != nil {
			t.Fatal(err)
		}
		f, err := ReadFrame(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(f.Cmd, cmd) {
			t.Fatalf("command changed: %v", f.Cmd)
		}
		if bm != nil {
			// Broker entry metadata is only ever sent to clients; a SEND must not carry it.
			if _, err := ParseSendPayload(f.Payload); err == nil {
				t.Fatal("payload with broker entry metadata accepted as a SEND payload")
			}
			continue
		}
		e, err := ParseSendPayload(f.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if string(e.Payload) != "payload" || e.Meta.GetSequenceId() != 7 || !bytes.Equal(e.Raw, raw) {
			t.Fatalf("entry changed: %+v", e)
		}
	}
}

func TestChecksumMismatchIsRejected(t *testing.T) {
	cmd := &Command{Kind: Kind_SEND.Enum(), Send: &Send{ProducerId: proto.Uint64(1), SequenceId: proto.Uint64(1)}}
	b, err := EncodePayloadCommand(cmd, nil, sampleEntry(t))
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff
	f, err := ReadFrame(bufio.NewReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseSendPayload(f.Payload); err == nil {
		t.Fatal("corrupted payload accepted")
	}
}

func TestOversizedFrameIsRejectedBeforeAllocation(t *testing.T) {
	b := []byte{0xff, 0xff, 0xff, 0xff}
	if _, err := ReadFrame(bufio.NewReader(bytes.NewReader(b))); err == nil {
		t.Fatal("4 GiB frame accepted")
	}
}

func TestBatchRoundTrip(t *testing.T) {
	msgs := []SingleMessage{
		{Meta: &SingleMetadata{PartitionKey: proto.String("k1")}, Payload: []byte("a")},
		{Meta: &SingleMetadata{SequenceId: proto.Uint64(2)}, Payload: []byte("bcd")},
	}
	b, err := BuildBatch(msgs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseBatch(b, 2)
	if err != nil {
		t.Fatal(err)
	}
	if string(got[0].Payload) != "a" || string(got[1].Payload) != "bcd" || got[0].Meta.GetPartitionKey() != "k1" {
		t.Fatalf("batch changed: %+v", got)
	}
	if _, err := ParseBatch(b, 3); err == nil {
		t.Fatal("batch of 2 parsed as 3")
	}
}

func FuzzDecodeFrameBody(f *testing.F) {
	b, _ := EncodePayloadCommand(&Command{Kind: Kind_SEND.Enum()}, nil, sampleEntry(f))
	f.Add(b[4:])
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, body []byte) {
		fr, err := DecodeFrameBody(body)
		if err != nil || fr.Payload == nil {
			return
		}
		_, _ = ParseSendPayload(fr.Payload)
	})
}

func FuzzParseEntryAndBatch(f *testing.F) {
	f.Add(sampleEntry(f), 2)
	f.Fuzz(func(t *testing.T, raw []byte, n int) {
		e, err := ParseEntry(raw)
		if err != nil {
			return
		}
		_, _ = ParseBatch(e.Payload, n)
	})
}
