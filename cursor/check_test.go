package cursor

import (
	"errors"
	"testing"

	"github.com/subsync/subsync/ackset"
)

// Issue 8, finding 10: cursor positions the topic cannot have are refused.
func TestCheckCursorRefusesPositionsTheTopicDoesNotHave(t *testing.T) {
	p := func(l, e int64) ackset.Position { return ackset.Position{Ledger: l, Entry: e} }
	ts := TopicState{LastConfirmed: p(9, 4), Ledgers: []Ledger{{ID: 5, Entries: 10}, {ID: 7, Entries: 3}, {ID: 9}}}
	cases := []struct {
		name string
		s    SubState
		ok   bool
	}{
		{"at the LAC", SubState{MarkDelete: p(9, 4)}, true},
		{"nothing acked in the first ledger", SubState{MarkDelete: p(5, -1)}, true},
		{"trimmed history", SubState{MarkDelete: p(3, 40)}, true},
		{"last entry of a closed ledger", SubState{MarkDelete: p(5, 9)}, true},
		{"range within the topic", SubState{MarkDelete: p(5, 2), Deleted: []ackset.Range{{From: p(7, 0), To: p(7, 2)}}}, true},
		{"far beyond the LAC", SubState{MarkDelete: p(9, 54)}, false},
		{"a later ledger", SubState{MarkDelete: p(12, 0)}, false},
		{"a ledger the topic does not have", SubState{MarkDelete: p(6, 0)}, false},
		{"past a closed ledger's end", SubState{MarkDelete: p(7, 3)}, false},
		{"negative entry", SubState{MarkDelete: p(7, -5)}, false},
		{"range beyond the LAC", SubState{MarkDelete: p(5, 2), Deleted: []ackset.Range{{From: p(9, 3), To: p(9, 60)}}}, false},
	}
	for _, c := range cases {
		err := ts.CheckCursor(c.s)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrImpossibleCursor)) {
			t.Errorf("%s: CheckCursor = %v, want ok %t", c.name, err, c.ok)
		}
	}
}
