package cursor

import (
	"reflect"
	"testing"

	"github.com/subsync/subsync/ackset"
)

// topic5 is a topic with closed ledgers 3 (10 entries), 4 (0 entries) and
// 5 (10 entries), and ledger 7 being written, LAC 7:4.
func topic5(subs map[string]SubState) TopicState {
	return TopicState{
		Topic:         "persistent://public/default/t",
		LastConfirmed: pos(7, 4),
		Subscriptions: subs,
		Ledgers:       []Ledger{{ID: 3, Entries: 10}, {ID: 4, Entries: 0}, {ID: 5, Entries: 10}, {ID: 7}},
	}
}

func idle(mdp ackset.Position, idm ...ackset.Range) SubState {
	return SubState{MarkDelete: mdp, Deleted: idm, Type: "Shared"}
}

func TestPlanApply(t *testing.T) {
	noReset := PlanOptions{ResetThreshold: -1}
	reset5 := PlanOptions{ResetThreshold: 5}
	tests := []struct {
		name string
		t    TopicState
		want []ackset.Range
		o    PlanOptions
		exp  Plan
	}{
		{
			name: "nothing wanted",
			t:    topic5(map[string]SubState{"s": idle(pos(3, 2))}),
			o:    reset5,
			exp:  Plan{},
		},
		{
			name: "everything wanted already acked by mdp and idm",
			t:    topic5(map[string]SubState{"s": idle(pos(3, 2), ents(5, 0, 3))}),
			want: []ackset.Range{ents(3, 0, 2), ents(5, 1, 2)},
			o:    reset5,
			exp:  Plan{},
		},
		{
			name: "acks are want minus mdp and idm",
			t:    topic5(map[string]SubState{"s": idle(pos(3, 2), ents(3, 5, 6))}),
			want: []ackset.Range{ents(3, 0, 9)},
			o:    noReset,
			exp:  Plan{Acks: []ackset.Range{ents(3, 3, 4), ents(3, 7, 9)}},
		},
		{
			name: "wanted positions beyond the LAC are skipped and counted",
			t:    topic5(map[string]SubState{"s": idle(pos(3, 9))}),
			want: []ackset.Range{ents(7, 2, 9), ents(8, 0, 4)},
			o:    noReset,
			exp:  Plan{Acks: []ackset.Range{ents(7, 2, 4)}, Skipped: 5 + 5},
		},
		{
			name: "wanted positions that cannot exist are skipped: past a closed ledger, unlisted or trimmed ledger",
			t:    topic5(map[string]SubState{"s": idle(pos(3, 0))}),
			want: []ackset.Range{ents(3, 8, 12), ents(2, 0, 1), ents(6, 0, 0), ents(4, 0, 1)},
			o:    noReset,
			exp:  Plan{Acks: []ackset.Range{ents(3, 8, 9)}, Skipped: 3 + 2 + 1 + 2},
		},
		{
			name: "missing subscription is created, then all of want is acked",
			t:    topic5(map[string]SubState{}),
			want: []ackset.Range{ents(3, 4, 5), ents(5, 0, 0)},
			o:    noReset,
			exp:  Plan{Create: true, Acks: []ackset.Range{ents(3, 4, 5), ents(5, 0, 0)}},
		},
		{
			name: "missing subscription and nothing wanted: create only",
			t:    topic5(nil),
			o:    reset5,
			exp:  Plan{Create: true},
		},
		{
			name: "exclusive consumer defers",
			t:    topic5(map[string]SubState{"s": {MarkDelete: pos(3, 0), Type: "Exclusive", Consumers: 1}}),
			want: []ackset.Range{ents(3, 1, 1), ents(9, 0, 0)},
			o:    reset5,
			exp:  Plan{Deferred: true, Reason: "1 Exclusive consumer(s) attached", Skipped: 1},
		},
		{
			name: "failover consumers defer",
			t:    topic5(map[string]SubState{"s": {MarkDelete: pos(3, 0), Type: "Failover", Consumers: 2}}),
			want: []ackset.Range{ents(3, 1, 1)},
			exp:  Plan{Deferred: true, Reason: "2 Failover consumer(s) attached"},
		},
		{
			name: "key_shared consumers defer",
			t:    topic5(map[string]SubState{"s": {MarkDelete: pos(3, 0), Type: "Key_Shared", Consumers: 1}}),
			want: []ackset.Range{ents(3, 1, 1)},
			exp:  Plan{Deferred: true, Reason: "1 Key_Shared consumer(s) attached"},
		},
		{
			name: "consumers of unknown type defer",
			t:    topic5(map[string]SubState{"s": {MarkDelete: pos(3, 0), Consumers: 1}}),
			want: []ackset.Range{ents(3, 1, 1)},
			exp:  Plan{Deferred: true, Reason: "1 consumer(s) attached with unknown subscription type"},
		},
		{
			name: "exclusive type without consumers does not defer",
			t:    topic5(map[string]SubState{"s": {MarkDelete: pos(3, 0), Type: "Exclusive"}}),
			want: []ackset.Range{ents(3, 1, 1)},
			o:    noReset,
			exp:  Plan{Acks: []ackset.Range{ents(3, 1, 1)}},
		},
		{
			name: "shared consumers attached: individual acks, never reset",
			t:    topic5(map[string]SubState{"s": {MarkDelete: pos(3, 0), Type: "Shared", Consumers: 3}}),
			want: []ackset.Range{ents(3, 1, 9)},
			o:    PlanOptions{ResetThreshold: 0},
			exp:  Plan{Acks: []ackset.Range{ents(3, 1, 9)}},
		},
		{
			name: "reset within a ledger, idm above re-acked",
			t:    topic5(map[string]SubState{"s": idle(pos(3, 0), ents(3, 8, 8))}),
			want: []ackset.Range{ents(3, 1, 6)},
			o:    reset5,
			exp:  Plan{ResetTo: ptr(pos(3, 7)), Acks: []ackset.Range{ents(3, 8, 8)}},
		},
		{
			name: "reset stretch includes local idm contiguous with want",
			t:    topic5(map[string]SubState{"s": idle(pos(3, 0), ents(3, 4, 5))}),
			want: []ackset.Range{ents(3, 1, 3), ents(3, 6, 8)},
			o:    PlanOptions{ResetThreshold: 6},
			exp:  Plan{ResetTo: ptr(pos(3, 9))},
		},
		{
			name: "reset below threshold counts only positions it saves",
			t:    topic5(map[string]SubState{"s": idle(pos(3, 0), ents(3, 4, 5))}),
			want: []ackset.Range{ents(3, 1, 3), ents(3, 6, 8)},
			o:    PlanOptions{ResetThreshold: 7},
			exp:  Plan{Acks: []ackset.Range{ents(3, 1, 3), ents(3, 6, 8)}},
		},
		{
			name: "no reset when the first unacked position is not wanted",
			t:    topic5(map[string]SubState{"s": idle(pos(3, 0))}),
			want: []ackset.Range{ents(3, 2, 9)},
			o:    PlanOptions{ResetThreshold: 0},
			exp:  Plan{Acks: []ackset.Range{ents(3, 2, 9)}},
		},
		{
			name: "reset disabled by a negative threshold",
			t:    topic5(map[string]SubState{"s": idle(pos(3, 0))}),
			want: []ackset.Range{ents(3, 1, 9)},
			o:    noReset,
			exp:  Plan{Acks: []ackset.Range{ents(3, 1, 9)}},
		},
		{
			name: "no reset when it would re-ack more than it saves",
			t:    topic5(map[string]SubState{"s": idle(pos(3, 0), ents(5, 0, 9))}),
			want: []ackset.Range{ents(3, 1, 6)},
			o:    PlanOptions{ResetThreshold: 1},
			exp:  Plan{Acks: []ackset.Range{ents(3, 1, 6)}},
		},
		{
			name: "reset crosses closed ledger 3 and empty ledger 4 into 5",
			t:    topic5(map[string]SubState{"s": idle(pos(3, 5))}),
			want: []ackset.Range{ents(3, 6, 9), ents(5, 0, 3), ents(7, 1, 1)},
			o:    reset5,
			exp:  Plan{ResetTo: ptr(pos(5, 4)), Acks: []ackset.Range{ents(7, 1, 1)}},
		},
		{
			name: "without a ledger list a ledger change breaks the stretch",
			t:    TopicState{LastConfirmed: pos(7, 4), Subscriptions: map[string]SubState{"s": idle(pos(3, 5))}},
			want: []ackset.Range{ents(3, 6, 9), ents(5, 0, 3)},
			o:    PlanOptions{ResetThreshold: 4},
			exp:  Plan{ResetTo: ptr(pos(3, 10)), Acks: []ackset.Range{ents(5, 0, 3)}},
		},
		{
			name: "LedgerSize alone crosses into the next ledger id",
			t:    TopicState{LastConfirmed: pos(7, 4), Subscriptions: map[string]SubState{"s": idle(pos(3, 5))}},
			want: []ackset.Range{ents(3, 6, 9), ents(4, 0, 3), ents(6, 0, 3)},
			o: PlanOptions{ResetThreshold: 4, LedgerSize: func(l int64) (int64, bool) {
				return map[int64]int64{3: 10, 4: 10}[l], l == 3 || l == 4
			}},
			exp: Plan{ResetTo: ptr(pos(4, 4)), Acks: []ackset.Range{ents(6, 0, 3)}},
		},
		{
			name: "LedgerSize alone cannot prove ledgers adjacent across an id gap",
			t:    TopicState{LastConfirmed: pos(7, 4), Subscriptions: map[string]SubState{"s": idle(pos(3, 5))}},
			want: []ackset.Range{ents(3, 6, 9), ents(5, 0, 3)},
			o: PlanOptions{ResetThreshold: 4, LedgerSize: func(l int64) (int64, bool) {
				return 10, l == 3 || l == 5
			}},
			exp: Plan{ResetTo: ptr(pos(3, 10)), Acks: []ackset.Range{ents(5, 0, 3)}},
		},
		{
			name: "LedgerSize disagreeing with internal stats makes the size unknown",
			t:    topic5(map[string]SubState{"s": idle(pos(3, 5))}),
			want: []ackset.Range{ents(3, 6, 9), ents(5, 0, 3)},
			o: PlanOptions{ResetThreshold: 4, LedgerSize: func(l int64) (int64, bool) {
				return 11, l == 3
			}},
			exp: Plan{ResetTo: ptr(pos(3, 10)), Acks: []ackset.Range{ents(5, 0, 3)}},
		},
		{
			name: "the ledger being written has no known end",
			t: TopicState{LastConfirmed: pos(9, 0), Subscriptions: map[string]SubState{"s": idle(pos(7, 1))},
				Ledgers: []Ledger{{ID: 7}, {ID: 9}}},
			want: []ackset.Range{ents(7, 2, 9), ents(9, 0, 0)},
			o:    PlanOptions{ResetThreshold: 2},
			// 7 is closed but reports 0 entries while we want 2..9 of it:
			// those do not exist, so nothing of ledger 7 is acked.
			exp: Plan{Acks: []ackset.Range{ents(9, 0, 0)}, Skipped: 8},
		},
		{
			name: "idm crossing ledgers is subtracted by order but prevents reset",
			t:    topic5(map[string]SubState{"s": idle(pos(3, 0), rng(3, 8, 5, 1))}),
			want: []ackset.Range{ents(3, 1, 9), ents(5, 0, 4)},
			o:    PlanOptions{ResetThreshold: 0},
			exp:  Plan{Acks: []ackset.Range{ents(3, 1, 8), ents(5, 2, 4)}},
		},
		{
			name: "missing subscription with layout may reset from the first ledger",
			t:    topic5(nil),
			want: []ackset.Range{ents(3, 0, 9), ents(5, 0, 1), ents(5, 5, 5)},
			o:    reset5,
			exp:  Plan{Create: true, ResetTo: ptr(pos(5, 2)), Acks: []ackset.Range{ents(5, 5, 5)}},
		},
		{
			name: "missing subscription without layout never resets",
			t:    TopicState{LastConfirmed: pos(7, 4)},
			want: []ackset.Range{ents(7, 0, 4)},
			o:    PlanOptions{ResetThreshold: 0},
			exp:  Plan{Create: true, Acks: []ackset.Range{ents(7, 0, 4)}},
		},
		{
			name: "want is normalized: unsorted, overlapping, empty and inverted ranges",
			t:    topic5(map[string]SubState{"s": idle(pos(3, -1))}),
			want: []ackset.Range{ents(5, 2, 4), ents(3, 3, 5), ents(3, 5, 7), ents(5, 5, 5), rng(3, 2, 3, 2), rng(5, 9, 5, 1)},
			o:    noReset,
			exp:  Plan{Acks: []ackset.Range{ents(3, 3, 7), ents(5, 2, 5)}},
		},
		{
			name: "cross-ledger want enumerated through the layout",
			t:    topic5(map[string]SubState{"s": idle(pos(3, 0))}),
			want: []ackset.Range{rng(3, 7, 7, 1)},
			o:    noReset,
			exp:  Plan{Acks: []ackset.Range{ents(3, 8, 9), ents(5, 0, 9), ents(7, 0, 1)}},
		},
		{
			name: "cross-ledger want without layout keeps only what it can enumerate",
			t:    TopicState{LastConfirmed: pos(7, 4), Subscriptions: map[string]SubState{"s": idle(pos(3, 0))}},
			want: []ackset.Range{rng(3, 7, 7, 1)},
			o:    noReset,
			exp:  Plan{Acks: []ackset.Range{ents(7, 0, 1)}, Unresolved: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := PlanApply(tc.t, "s", tc.want, tc.o)
			if !reflect.DeepEqual(got, tc.exp) {
				t.Fatalf("PlanApply:\n got %+v\nwant %+v", got, tc.exp)
			}
			if got.Empty() != (!tc.exp.Create && tc.exp.ResetTo == nil && len(tc.exp.Acks) == 0 && !tc.exp.Deferred) {
				t.Fatalf("Empty() = %v for %+v", got.Empty(), got)
			}
		})
	}
}

func TestPlanApplyDoesNotModifyInputs(t *testing.T) {
	st := topic5(map[string]SubState{"s": idle(pos(3, 0), ents(3, 8, 8), ents(3, 4, 4))})
	want := []ackset.Range{ents(5, 0, 1), ents(3, 1, 6), ents(3, 2, 3)}
	wantCopy := append([]ackset.Range(nil), want...)
	idmCopy := append([]ackset.Range(nil), st.Subscriptions["s"].Deleted...)
	PlanApply(st, "s", want, PlanOptions{ResetThreshold: 1})
	if !reflect.DeepEqual(want, wantCopy) || !reflect.DeepEqual(st.Subscriptions["s"].Deleted, idmCopy) {
		t.Fatalf("inputs modified: want %v (was %v), idm %v (was %v)", want, wantCopy, st.Subscriptions["s"].Deleted, idmCopy)
	}
}

func TestIsAcked(t *testing.T) {
	s := SubState{MarkDelete: pos(3, 4), Deleted: []ackset.Range{ents(3, 7, 8), rng(3, 9, 5, 2)}}
	acked := []ackset.Position{pos(2, 100), pos(3, 0), pos(3, 4), pos(3, 7), pos(3, 8), pos(3, 10), pos(4, 0), pos(5, 2)}
	notAcked := []ackset.Position{pos(3, 5), pos(3, 6), pos(3, 9), pos(5, 3), pos(6, 0)}
	for _, p := range acked {
		if !s.IsAcked(p) {
			t.Errorf("IsAcked(%s) = false, want true", p)
		}
	}
	for _, p := range notAcked {
		if s.IsAcked(p) {
			t.Errorf("IsAcked(%s) = true, want false", p)
		}
	}
}

func TestPlanAckCountAndString(t *testing.T) {
	p := Plan{ResetTo: ptr(pos(3, 7)), Acks: []ackset.Range{ents(3, 8, 8), ents(5, 0, 9)}, Skipped: 2}
	if n := p.AckCount(); n != 11 {
		t.Fatalf("AckCount = %d, want 11", n)
	}
	const want = `create=false reset=3:7 acks=2 ranges/11 entries deferred=false reason="" skipped=2 unresolved=0`
	if s := p.String(); s != want {
		t.Fatalf("String = %q, want %q", s, want)
	}
}
