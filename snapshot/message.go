package snapshot

import (
	"fmt"
	"time"

	"github.com/subsync/subsync/ackset"
)

// MessageType identifies the body carried by an envelope. The values are
// part of the wire format: never renumber them.
type MessageType uint8

// The message types of format version 1.
const (
	TypeSnapshotRequest  MessageType = 1
	TypeSnapshotResponse MessageType = 2
	TypeUpdate           MessageType = 3
)

// String names the type for logs and metric labels.
func (t MessageType) String() string {
	switch t {
	case TypeSnapshotRequest:
		return "snapshot_request"
	case TypeSnapshotResponse:
		return "snapshot_response"
	case TypeUpdate:
		return "update"
	}
	return fmt.Sprintf("type_%d", uint8(t))
}

// Message is one of *SnapshotRequest, *SnapshotResponse or *Update.
type Message interface {
	Type() MessageType
}

// DigestSize is the size of an anchor's segment digest (SHA-256).
const DigestSize = 32

// Anchor announces, in anchor mode, an entry of the requester's own origin by
// the identity that geo-replication preserves (producer name, sequence id,
// publish time), so that a remote can find its copy without the broker's
// source-position stamp. Count entries of that origin follow the anchor in
// the requester's topic; Digest lets the remote verify its alignment of
// that segment before mapping it.
type Anchor struct {
	Local        ackset.Position
	ProducerName string
	SequenceID   int64
	PublishTime  int64 // unix ms, as in the message metadata
	Count        int64
	Digest       [DigestSize]byte
}

// SnapshotRequest asks every remote daemon for its last confirmed entry and
// replicated watermark on Topic, to be paired with RequesterLAC.
type SnapshotRequest struct {
	ID           string
	Topic        string // topic partition, e.g. persistent://t/ns/x-partition-0
	Requester    string // cluster name
	RequesterLAC ackset.Position
	SentAt       int64 // unix ms
	Anchors      []Anchor
}

// Type implements Message.
func (*SnapshotRequest) Type() MessageType { return TypeSnapshotRequest }

// SnapshotResponse is a remote daemon's answer to a SnapshotRequest.
type SnapshotResponse struct {
	ID           string
	Topic        string
	Requester    string
	Responder    string
	ResponderLAC ackset.Position
	// Watermark is the highest requester-origin position the responder's tail
	// has seen on Topic; nil when it has seen none.
	Watermark *ackset.Position
	SentAt    int64 // unix ms
	// Have is the set of requester-origin entries the responder's tail has
	// indexed on Topic, encoded by package ackset (opaque here; optional).
	// With Watermark it tells the requester which of its entries the
	// responder will never have: those at or below Watermark not in Have.
	Have []byte
	// TailPosition is where the responder's tail had read to when it
	// answered (optional). At or past ResponderLAC, the tail had indexed
	// every entry the responder's topic held.
	TailPosition *ackset.Position
}

// Type implements Message.
func (*SnapshotResponse) Type() MessageType { return TypeSnapshotResponse }

// Update carries one subscription's ack set from its sender cluster.
//
// Sequence counts the updates of (Topic, Subscription, Sender) within one
// sender incarnation, +1 per update. Epoch identifies that incarnation and
// must grow strictly across sender restarts (see NextEpoch), so a sequence
// that restarts from 1 is recognised as new rather than stale.
type Update struct {
	Topic        string
	Subscription string
	Sender       string // cluster name
	Epoch        int64
	Sequence     uint64
	Full         bool // AckSet is the full state (true) or a delta on the previous update (false)
	SenderMDP    ackset.Position
	AckSet       []byte // opaque, produced by package ackset
	SentAt       int64  // unix ms
	// Active: application consumers are attached on the sender;
	// LastActive: when they were last seen there (unix ms, 0: never).
	// Receivers agree on the subscription's owner from these (package
	// owner); only the owner's AckSet is mirrored.
	Active     bool
	LastActive int64
	// Deleted: the subscription was deleted on the sender after it had
	// existed; AckSet is then empty.
	Deleted bool
}

// Type implements Message.
func (*Update) Type() MessageType { return TypeUpdate }

// NextEpoch returns the epoch for a sender incarnation starting at nowMs,
// given the previous incarnation's epoch (0 if none): the start time, unless
// the clock went backwards, in which case previous+1 keeps epochs strictly
// increasing. The sender must persist the result before using it.
//
// A previous epoch beyond what EpochPlausible accepts at nowMs (the clock
// had jumped ahead, or the store was tampered with) is not continued:
// every receiver would reject previous+1 for good. The clock's own time is
// used instead; a receiver that had accepted the earlier epoch ignores
// the new one for at most MaxEpochLead.
func NextEpoch(previous, nowMs int64) int64 {
	if nowMs > previous || !EpochPlausible(previous, nowMs) {
		return nowMs
	}
	return previous + 1
}

// MaxEpochLead bounds how far ahead of a receiver's clock an epoch may
// be. Epochs are sender start times in unix milliseconds, so an honest
// epoch is ahead only by clock skew; one far ahead (up to math.MaxInt64)
// would make every later incarnation of its sender look stale.
const MaxEpochLead = 10 * time.Minute

// EpochPlausible reports whether an epoch (or any unix-ms time a sender
// stamps) is at most MaxEpochLead ahead of nowMs, the receiver's clock.
func EpochPlausible(epoch, nowMs int64) bool {
	return epoch <= nowMs || (nowMs >= 0 && epoch-nowMs <= MaxEpochLead.Milliseconds())
}
