package workload

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestPlanCountsAndDecisions(t *testing.T) {
	p, err := NewPlan(PlanOptions{Seed: 7, Messages: 1000, FailoverAt: 0.8, HoldFraction: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	if p.Cut != 800 || len(p.Held) != 40 || p.AckCount() != 760 {
		t.Fatalf("cut %d, held %d, acks %d; want 800, 40, 760", p.Cut, len(p.Held), p.AckCount())
	}
	if !slices.IsSorted(p.Held) || len(slices.Compact(slices.Clone(p.Held))) != len(p.Held) {
		t.Fatalf("held ids not sorted and distinct: %v", p.Held)
	}
	acks := 0
	for id := -1; id <= p.Messages; id++ {
		held, ack := p.IsHeld(id), p.ShouldAck(id)
		if held && ack {
			t.Fatalf("id %d both held and acknowledged", id)
		}
		if held && (id < 0 || id >= p.Cut) {
			t.Fatalf("held id %d outside [0, %d)", id, p.Cut)
		}
		if ack {
			acks++
			if id >= p.Cut {
				t.Fatalf("id %d at or past the cut %d is acknowledged", id, p.Cut)
			}
		}
	}
	if acks != p.AckCount() {
		t.Fatalf("ShouldAck true for %d ids, AckCount says %d", acks, p.AckCount())
	}
}

func TestPlanIsDeterministicBySeed(t *testing.T) {
	o := PlanOptions{Seed: 3, Messages: 5000, FailoverAt: 0.8, HoldFraction: 0.02}
	a, _ := NewPlan(o)
	b, _ := NewPlan(o)
	if !slices.Equal(a.Held, b.Held) {
		t.Fatal("same seed, different held sets")
	}
	o.Seed = 4
	c, _ := NewPlan(o)
	if slices.Equal(a.Held, c.Held) {
		t.Fatal("seeds 3 and 4 hold the same messages")
	}
}

// TestPlanHeldAreSpread checks the held ids are drawn over the whole
// processed range (a biased draw would change what PIP-33 pays).
func TestPlanHeldAreSpread(t *testing.T) {
	p, _ := NewPlan(PlanOptions{Seed: 11, Messages: 100000, FailoverAt: 1, HoldFraction: 0.1})
	var buckets [10]int
	for _, id := range p.Held {
		buckets[id*10/p.Cut]++
	}
	for i, n := range buckets {
		if math.Abs(float64(n)-1000) > 150 {
			t.Errorf("decile %d holds %d ids, want about 1000 (%v)", i, n, buckets)
		}
	}
}

func TestPlanEdgeFractions(t *testing.T) {
	p, err := NewPlan(PlanOptions{Seed: 1, Messages: 10, FailoverAt: 1, HoldFraction: 0})
	if err != nil || p.Cut != 10 || len(p.Held) != 0 || p.AckCount() != 10 {
		t.Fatalf("all acked: %+v, %v", p, err)
	}
	p, err = NewPlan(PlanOptions{Seed: 1, Messages: 10, FailoverAt: 0.01, HoldFraction: 0.99})
	if err != nil || p.Cut != 1 || len(p.Held) != 1 || p.AckCount() != 0 {
		t.Fatalf("tiny cut: %+v, %v", p, err)
	}
}

func TestPlanValidation(t *testing.T) {
	for _, tc := range []struct {
		o    PlanOptions
		want []string
	}{
		{PlanOptions{Messages: 0, FailoverAt: 0.5}, []string{"messages: 0"}},
		{PlanOptions{Messages: MaxMessages + 1, FailoverAt: 0.5}, []string{"messages"}},
		{PlanOptions{Messages: 10, FailoverAt: 0}, []string{"failoverAt: 0"}},
		{PlanOptions{Messages: 10, FailoverAt: 1.5}, []string{"failoverAt: 1.5"}},
		{PlanOptions{Messages: 10, FailoverAt: math.NaN()}, []string{"failoverAt: NaN"}},
		{PlanOptions{Messages: 10, FailoverAt: 0.5, HoldFraction: 1}, []string{"holdFraction: 1"}},
		{PlanOptions{Messages: 10, FailoverAt: 0.5, HoldFraction: -0.1}, []string{"holdFraction: -0.1"}},
		{PlanOptions{Messages: -1, FailoverAt: 2, HoldFraction: 2}, []string{"messages", "failoverAt", "holdFraction"}},
	} {
		_, err := NewPlan(tc.o)
		if err == nil {
			t.Errorf("NewPlan(%+v) accepted", tc.o)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("NewPlan(%+v) = %q, want it to mention %q", tc.o, err, w)
			}
		}
	}
}
