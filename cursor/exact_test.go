package cursor

import (
	"context"
	"reflect"
	"testing"

	"github.com/subsync/subsync/ackset"
)

func TestPlanExact(t *testing.T) {
	exact := PlanOptions{ResetThreshold: -1, Exact: true}
	tests := []struct {
		name string
		t    TopicState
		want []ackset.Range
		o    PlanOptions
		exp  Plan
	}{
		{
			name: "owner rewound: reset back to the first position not wanted",
			t:    topic5(map[string]SubState{"s": idle(pos(5, 3))}),
			want: []ackset.Range{ents(3, 0, 9), ents(5, 0, 1)},
			o:    exact,
			exp:  Plan{ResetTo: ptr(pos(5, 2))},
		},
		{
			name: "an empty ledger between wanted stretches is no gap",
			t:    topic5(map[string]SubState{"s": idle(pos(5, 3))}),
			want: []ackset.Range{ents(3, 0, 9), ents(5, 0, 2)},
			o:    exact,
			exp:  Plan{ResetTo: ptr(pos(5, 3))},
		},
		{
			name: "nothing wanted: back to the start",
			t:    topic5(map[string]SubState{"s": idle(pos(3, 4))}),
			o:    exact,
			exp:  Plan{ResetTo: ptr(pos(3, 0))},
		},
		{
			name: "an individually deleted position not wanted: reset and re-ack the rest",
			t:    topic5(map[string]SubState{"s": idle(pos(3, 2), ents(3, 5, 5), ents(3, 7, 8))}),
			want: []ackset.Range{ents(3, 0, 2), ents(3, 5, 5), ents(5, 0, 0)},
			o:    exact,
			exp:  Plan{ResetTo: ptr(pos(3, 3)), Acks: []ackset.Range{ents(3, 5, 5), ents(5, 0, 0)}},
		},
		{
			name: "cursor holds nothing extra: only adds",
			t:    topic5(map[string]SubState{"s": idle(pos(3, 2))}),
			want: []ackset.Range{ents(3, 0, 4)},
			o:    exact,
			exp:  Plan{Acks: []ackset.Range{ents(3, 3, 4)}},
		},
		{
			name: "positions before the floor are left alone",
			t:    topic5(map[string]SubState{"s": idle(pos(5, 1))}),
			want: []ackset.Range{ents(5, 0, 4)},
			o:    PlanOptions{ResetThreshold: -1, Exact: true, Floor: ptr(pos(5, 0))},
			exp:  Plan{Acks: []ackset.Range{ents(5, 2, 4)}},
		},
		{
			name: "consumers attached: inexact, adds only",
			t:    topic5(map[string]SubState{"s": {MarkDelete: pos(3, 4), Type: "Shared", Consumers: 1}}),
			want: []ackset.Range{ents(3, 0, 1), ents(3, 6, 6)},
			o:    exact,
			exp:  Plan{Acks: []ackset.Range{ents(3, 6, 6)}, Inexact: true},
		},
		{
			name: "the listed layout places a reset across ledgers",
			t: TopicState{LastConfirmed: pos(7, 4), Ledgers: []Ledger{{ID: 3, Entries: 10}, {ID: 7}},
				Subscriptions: map[string]SubState{"s": idle(pos(7, 1))}},
			want: []ackset.Range{ents(3, 0, 9)},
			o:    PlanOptions{ResetThreshold: -1, Exact: true, LedgerSize: func(int64) (int64, bool) { return 0, false }},
			exp:  Plan{ResetTo: ptr(pos(7, 0))},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := PlanApply(tc.t, "s", tc.want, tc.o)
			if !reflect.DeepEqual(got, tc.exp) {
				t.Fatalf("plan\n got %s\nwant %s", got, tc.exp)
			}
		})
	}
}

func TestDeleteLeavesAttachedSubscriptions(t *testing.T) {
	adm := goodAdmin()
	a := NewApplier(nil, adm, ApplierOptions{})
	reason, err := a.Delete(context.Background(), "persistent://t/n/x", "app")
	if err != nil || reason == "" || len(adm.deleted) != 0 {
		t.Fatalf("delete of a subscription with consumers: reason %q err %v deleted %v; want refused with a reason", reason, err, adm.deleted)
	}
	if reason, err = a.Delete(context.Background(), "persistent://t/n/x", "idle"); err != nil || reason != "" || len(adm.deleted) != 1 {
		t.Fatalf("delete of an idle subscription: reason %q err %v deleted %v; want deleted", reason, err, adm.deleted)
	}
	if reason, err = a.Delete(context.Background(), "persistent://t/n/x", "never"); err != nil || reason != "" || len(adm.deleted) != 1 {
		t.Fatalf("delete of a missing subscription: reason %q err %v deleted %v; want nothing done", reason, err, adm.deleted)
	}
}

func TestAppConsumersLeaveOutSubsyncs(t *testing.T) {
	s := SubState{Consumers: 3, ConsumerNames: []string{"app-1", "subsync-cursor", "app-2"}}
	if n := s.AppConsumers("subsync-cursor"); n != 2 {
		t.Fatalf("AppConsumers = %d; want 2", n)
	}
}
