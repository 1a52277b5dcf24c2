package cursor

import (
	"testing"

	"github.com/subsync/subsync/ackset"
)

// benchState is a topic of 100 closed ledgers of 50,000 entries and a
// subscription whose mark-delete position sits at the start with 10,000
// individually deleted ranges (the broker's persisted maximum) above it.
func benchState() (TopicState, []ackset.Range) {
	const ledgers, perLedger = 100, 50_000
	st := TopicState{Topic: "t", LastConfirmed: pos(ledgers, perLedger-1)}
	for l := int64(1); l <= ledgers; l++ {
		st.Ledgers = append(st.Ledgers, Ledger{ID: l, Entries: perLedger})
	}
	st.Ledgers[len(st.Ledgers)-1].Entries = 0
	var idm []ackset.Range
	for i := int64(0); i < 10_000; i++ {
		l := 1 + i/100
		e := (i % 100) * 400
		idm = append(idm, ents(l, e+10, e+20))
	}
	st.Subscriptions = map[string]SubState{"s": {MarkDelete: pos(1, 0), Deleted: idm, Type: "Shared"}}
	// Want: every other block of 200 entries in every ledger (25,000
	// ranges), overlapping the local ranges.
	var want []ackset.Range
	for l := int64(1); l <= ledgers; l++ {
		for e := int64(0); e < perLedger; e += 400 {
			want = append(want, ents(l, e, e+199))
		}
	}
	return st, want
}

func BenchmarkPlanApply(b *testing.B) {
	st, want := benchState()
	b.ReportAllocs()
	for b.Loop() {
		p := PlanApply(st, "s", want, PlanOptions{ResetThreshold: 1000})
		if len(p.Acks) == 0 {
			b.Fatal("empty plan")
		}
	}
}

func BenchmarkPlanApplyReset(b *testing.B) {
	st, _ := benchState()
	// One stretch across the first 50 ledgers, then sparse acks.
	want := []ackset.Range{}
	for l := int64(1); l <= 50; l++ {
		want = append(want, ents(l, 0, 49_999))
	}
	for l := int64(51); l <= 100; l++ {
		want = append(want, ents(l, 0, 5), ents(l, 30_000, 30_010))
	}
	b.ReportAllocs()
	for b.Loop() {
		p := PlanApply(st, "s", want, PlanOptions{ResetThreshold: 1000})
		if p.ResetTo == nil {
			b.Fatal("no reset")
		}
	}
}
