package snapshot

import (
	"strconv"
	"strings"
)

// RequestFilter decides which snapshot requests deserve an answer, so that
// replayed copies of authentic requests draw no response: every answer
// costs the responder an admin read and a publish, and a replay needs no
// key. It relies on how a Tracker names requests (IDPrefix "-" counter,
// the prefix ending in the requester's start time in unix ms) and on the
// control topic keeping each requester's messages in order: per requester,
// only ids that grow are new. Memory is one mark per requester. It is not
// safe for concurrent use.
type RequestFilter struct {
	last map[string]requestMark
}

type requestMark struct {
	epoch   int64
	counter uint64
}

// RequestVerdict is the filter's decision on one request.
type RequestVerdict uint8

// Request verdicts.
const (
	// RequestNew: answer it.
	RequestNew RequestVerdict = iota + 1
	// RequestReplayed: the requester's id does not grow (a duplicate, a
	// replay, or an earlier incarnation's request).
	RequestReplayed
	// RequestUnreadableID: the id is not "<prefix>-<epoch>-<counter>".
	RequestUnreadableID
	// RequestEpochAhead: the requester's epoch is beyond EpochPlausible.
	RequestEpochAhead
)

// String names the verdict for logs and metric labels.
func (v RequestVerdict) String() string {
	switch v {
	case RequestNew:
		return "new"
	case RequestReplayed:
		return "snapshot_request_replayed"
	case RequestUnreadableID:
		return "snapshot_request_bad_id"
	case RequestEpochAhead:
		return "epoch_ahead"
	}
	return "request_verdict_" + strconv.Itoa(int(v))
}

// Admit classifies req at the receiver's time nowMs and, when it is new,
// remembers it.
func (f *RequestFilter) Admit(req SnapshotRequest, nowMs int64) RequestVerdict {
	mark, ok := parseRequestID(req.ID)
	if !ok {
		return RequestUnreadableID
	}
	if !EpochPlausible(mark.epoch, nowMs) {
		return RequestEpochAhead
	}
	if last, seen := f.last[req.Requester]; seen && !last.before(mark) {
		return RequestReplayed
	}
	if f.last == nil {
		f.last = map[string]requestMark{}
	}
	f.last[req.Requester] = mark
	return RequestNew
}

func (m requestMark) before(o requestMark) bool {
	return m.epoch < o.epoch || m.epoch == o.epoch && m.counter < o.counter
}

// parseRequestID reads the epoch and counter at the end of a request id.
func parseRequestID(id string) (requestMark, bool) {
	rest, counterText, ok := cutLast(id, "-")
	if !ok {
		return requestMark{}, false
	}
	_, epochText, ok := cutLast(rest, "-")
	if !ok {
		return requestMark{}, false
	}
	counter, err := strconv.ParseUint(counterText, 10, 64)
	if err != nil {
		return requestMark{}, false
	}
	epoch, err := strconv.ParseInt(epochText, 10, 64)
	if err != nil {
		return requestMark{}, false
	}
	return requestMark{epoch: epoch, counter: counter}, true
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
