package replicator

import (
	"strings"
	"testing"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/cursor"
)

// An acknowledged position past what the tail has indexed makes the
// check say so (the index cannot name it, so the comparison would miss
// it); nothing acknowledged, trimmed history and an index that covers the
// highest acknowledged position do not.
func TestUnindexedAckIsReported(t *testing.T) {
	pos := func(l, e int64) ackset.Position { return ackset.Position{Ledger: l, Entry: e} }
	ledgers := []cursor.Ledger{{ID: 5, Entries: 100}, {ID: 6}}
	cases := []struct {
		name    string
		tail    *ackset.Position
		mdp     ackset.Position
		deleted []ackset.Range
		want    string
	}{
		{"nothing acknowledged, nothing read", nil, pos(5, -1), nil, ""},
		{"trimmed history below the first ledger", nil, pos(4, 20), nil, ""},
		{"mark-delete within the index", &ackset.Position{Ledger: 6, Entry: 9}, pos(6, 9), nil, ""},
		{"mark-delete past the tail", &ackset.Position{Ledger: 6, Entry: 9}, pos(6, 10), nil, "acknowledged up to 6:10, the tail has indexed up to 6:9"},
		{"a deleted range past the tail", &ackset.Position{Ledger: 6, Entry: 9}, pos(5, 99),
			[]ackset.Range{{From: pos(6, 11), To: pos(6, 12)}}, "acknowledged up to 6:12"},
		{"acknowledged before the tail read anything", nil, pos(5, 3), nil, "the tail has indexed up to nothing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fr := freshRead{ts: cursor.TopicState{Ledgers: ledgers}}
			if tc.tail != nil {
				fr.tail, fr.tailStarted = *tc.tail, true
			}
			got := unindexedAck(fr, cursor.SubState{MarkDelete: tc.mdp, Deleted: tc.deleted})
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("unindexedAck = %q, want %q", got, tc.want)
			}
		})
	}
}
