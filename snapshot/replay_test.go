package snapshot

import (
	"strconv"
	"testing"
)

// Issue 8, finding 9: a snapshot request is answered once per id; replays,
// older ids and earlier incarnations draw nothing.
func TestRequestFilterAnswersEachRequestOnce(t *testing.T) {
	const now = 1_700_000_000_000
	req := func(requester string, epoch int64, counter uint64) SnapshotRequest {
		return SnapshotRequest{ID: requester + "-" + strconv.FormatInt(epoch, 10) + "-" + strconv.FormatUint(counter, 10),
			Requester: requester}
	}
	var f RequestFilter
	steps := []struct {
		req  SnapshotRequest
		want RequestVerdict
	}{
		{req("east", now-5000, 1), RequestNew},
		{req("east", now-5000, 1), RequestReplayed},
		{req("east", now-5000, 2), RequestNew},
		{req("east", now-5000, 1), RequestReplayed},
		{req("us-east-1", now-5000, 1), RequestNew}, // another requester, dashes in its name
		{req("east", now-9000, 7), RequestReplayed}, // an earlier incarnation
		{req("east", now, 1), RequestNew},           // a restart
		{req("east", now+MaxEpochLead.Milliseconds()+1, 1), RequestEpochAhead},
		{req("east", now, 3), RequestNew}, // the rejected epoch left no mark
		{SnapshotRequest{ID: "east-x-1", Requester: "east"}, RequestUnreadableID},
		{SnapshotRequest{ID: "nodash", Requester: "east"}, RequestUnreadableID},
	}
	for i, s := range steps {
		if got := f.Admit(s.req, now); got != s.want {
			t.Fatalf("step %d (%s): %v, want %v", i, s.req.ID, got, s.want)
		}
	}
	replayed := 0
	for range 5000 {
		if f.Admit(req("east", now, 3), now) != RequestNew {
			replayed++
		}
	}
	if replayed != 5000 || len(f.last) != 2 {
		t.Fatalf("5000 replays: %d refused, %d marks kept; want 5000 and 2", replayed, len(f.last))
	}
}
