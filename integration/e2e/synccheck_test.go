package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/subsync/subsync/integration/workload"
)

// An independent check of sync, relying on nothing subsync reports: read
// every message of the topic on a cluster to learn where each id is
// stored, read the subscription's cursor from the broker's internal stats,
// and list the ids whose entry the cursor has acknowledged.

// position is a ledger:entry position.
type position struct{ ledger, entry int64 }

func (p position) less(q position) bool {
	return p.ledger < q.ledger || p.ledger == q.ledger && p.entry < q.entry
}

// cursorState is a cursor's mark-delete position and individually deleted
// ranges, each open below and closed above within one ledger.
type cursorState struct {
	markDelete position
	deleted    [][2]position
}

func (c cursorState) acked(p position) bool {
	if !c.markDelete.less(p) {
		return true
	}
	for _, r := range c.deleted {
		if r[0].ledger == p.ledger && r[0].less(p) && !r[1].less(p) {
			return true
		}
	}
	return false
}

// parsePosition reads "ledger:entry".
func parsePosition(s string) (position, error) {
	l, e, ok := strings.Cut(s, ":")
	if !ok {
		return position{}, fmt.Errorf("position %q: expected ledger:entry", s)
	}
	ledger, err := strconv.ParseInt(l, 10, 64)
	if err != nil {
		return position{}, fmt.Errorf("position %q: ledger: %w", s, err)
	}
	entry, err := strconv.ParseInt(e, 10, 64)
	if err != nil {
		return position{}, fmt.Errorf("position %q: entry: %w", s, err)
	}
	return position{ledger, entry}, nil
}

// parseCursor reads internal stats' markDeletePosition and
// individuallyDeletedMessages ("[(3:5..3:7],(4:-1..4:2]]").
func parseCursor(markDelete, deleted string) (cursorState, error) {
	md, err := parsePosition(markDelete)
	if err != nil {
		return cursorState{}, err
	}
	c := cursorState{markDelete: md}
	body, open := strings.CutPrefix(deleted, "[")
	body, closed := strings.CutSuffix(body, "]")
	if !open || !closed {
		return cursorState{}, fmt.Errorf("individuallyDeletedMessages %.80q: expected [...]", deleted)
	}
	for _, r := range strings.Split(body, ",") {
		if r == "" {
			continue
		}
		inner, open := strings.CutPrefix(r, "(")
		inner, closed := strings.CutSuffix(inner, "]")
		if !open || !closed {
			return cursorState{}, fmt.Errorf("range %q: expected (from..to]", r)
		}
		from, to, ok := strings.Cut(inner, "..")
		if !ok {
			return cursorState{}, fmt.Errorf("range %q: expected (from..to]", r)
		}
		f, err := parsePosition(from)
		if err != nil {
			return cursorState{}, err
		}
		t, err := parsePosition(to)
		if err != nil {
			return cursorState{}, err
		}
		c.deleted = append(c.deleted, [2]position{f, t})
	}
	return c, nil
}

// readCursor reads, over every partition of topic, which workload ids
// sub's cursor on ep has acknowledged.
func readCursor(ctx context.Context, ep *workload.Endpoint, topic, sub string) (cursorIDs, error) {
	out := cursorIDs{readable: map[int]bool{}}
	for _, part := range partitionsOf(ep, topic) {
		st, err := internalStatsOf(ep, part)
		if err != nil {
			return out, err
		}
		cs, ok := st.Cursors[sub]
		if !ok {
			return out, fmt.Errorf("%s on %s has no cursor %q", part, ep.Name, sub)
		}
		cur, err := parseCursor(cs.MarkDeletePosition, cs.IndividuallyDeletedMessages)
		if err != nil {
			return out, fmt.Errorf("%s on %s, cursor %q: %w", part, ep.Name, sub, err)
		}
		if err := readAll(ctx, ep, part, func(id int, p position) {
			// A message with several copies (a crashed source's replicator
			// sends again what it had not recorded as sent) is acknowledged
			// when one is: its consumer processed it.
			out.readable[id] = out.readable[id] || cur.acked(p)
		}); err != nil {
			return out, err
		}
	}
	return out, nil
}

// cursorIDs is what one cluster's cursor says of each message id still in
// its topic: readable[id] is whether it is acknowledged. A real broker
// deletes ledgers that every cursor has acknowledged whole, so an id no
// longer readable there was acknowledged.
type cursorIDs struct {
	readable map[int]bool
}

func (c cursorIDs) acked(id int) bool {
	acked, ok := c.readable[id]
	return acked || !ok
}

// readAll reads a topic partition from its first message to its last.
func readAll(ctx context.Context, ep *workload.Endpoint, topic string, f func(id int, p position)) error {
	r, err := ep.Client.CreateReader(pulsar.ReaderOptions{Topic: topic, StartMessageID: pulsar.EarliestMessageID()})
	if err != nil {
		return fmt.Errorf("reader on %s/%s: %w", ep.Name, topic, err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for r.HasNext() {
		m, err := r.Next(ctx)
		if err != nil {
			return fmt.Errorf("reading %s/%s: %w", ep.Name, topic, err)
		}
		if id, err := workload.ParseID(m.Payload()); err == nil {
			f(id, position{m.ID().LedgerID(), m.ID().EntryID()})
		}
	}
	return nil
}

// sameAcks compares what sub's cursors acknowledge on the primary and on
// the standby, by message id.
func (e *env) sameAcks(ctx context.Context, primary, standby, topic, sub string) error {
	onPrimary, err := readCursor(ctx, e.eps[primary], topic, sub)
	if err != nil {
		return err
	}
	onStandby, err := readCursor(ctx, e.eps[standby], topic, sub)
	if err != nil {
		return err
	}
	var missing, extra []int
	for id := range onPrimary.readable {
		if onPrimary.acked(id) && !onStandby.acked(id) {
			missing = append(missing, id)
		}
	}
	for id := range onStandby.readable {
		if onStandby.acked(id) && !onPrimary.acked(id) {
			extra = append(extra, id)
		}
	}
	if len(missing)+len(extra) > 0 {
		return fmt.Errorf("cursors differ: %d ids acknowledged on %s, not on %s (%v); %d on %s, not on %s (%v)",
			len(missing), primary, standby, firstN(sortInts(missing), 20), len(extra), standby, primary, firstN(sortInts(extra), 20))
	}
	return nil
}

func sortInts(xs []int) []int {
	return union(xs)
}

// TestCursorStateAcked checks the harness's own reading of a cursor.
func TestCursorStateAcked(t *testing.T) {
	c, err := parseCursor("7:3", "[(7:5..7:7],(9:-1..9:1]]")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		p    position
		want bool
	}{
		{position{6, 99}, true}, {position{7, 3}, true}, {position{7, 4}, false}, {position{7, 5}, false},
		{position{7, 6}, true}, {position{7, 7}, true}, {position{7, 8}, false}, {position{9, 0}, true},
		{position{9, 1}, true}, {position{9, 2}, false}, {position{8, 0}, false},
	} {
		if got := c.acked(tc.p); got != tc.want {
			t.Errorf("acked(%d:%d) = %v, want %v", tc.p.ledger, tc.p.entry, got, tc.want)
		}
	}
	if c, err := parseCursor("-1:-1", "[]"); err != nil || c.acked(position{0, 0}) || len(c.deleted) != 0 {
		t.Errorf("empty cursor: %+v, %v", c, err)
	}
	for _, bad := range []string{"", "[(7:5..7:7]", "[(7:5-7:7]]", "[(x:5..7:7]]", "[7:5..7:7]"} {
		if _, err := parseCursor("1:1", bad); err == nil {
			t.Errorf("parseCursor accepted %q", bad)
		}
	}
}
