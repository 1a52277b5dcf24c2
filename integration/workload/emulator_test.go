package workload

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/subsync/subsync/integration/emulator"
)

const (
	testSnapshotFrequency = 100 * time.Millisecond
	testNamespace         = "workload/failover"
)

var topicSeq atomic.Int64

// testPair is an emulated east (primary) / west (standby) pair with a
// replicated namespace.
type testPair struct {
	sim        *emulator.Sim
	east, west *Endpoint
}

func startPair(t *testing.T) testPair {
	t.Helper()
	sim, err := emulator.Start(emulator.Options{Clusters: []emulator.ClusterOptions{
		{Name: "east", LedgerMaxEntries: 20, SnapshotFrequency: testSnapshotFrequency},
		{Name: "west", LedgerMaxEntries: 20, SnapshotFrequency: testSnapshotFrequency},
	}})
	if err != nil {
		t.Fatalf("start emulator: %v", err)
	}
	t.Cleanup(sim.Close)
	p := testPair{sim: sim}
	for _, ep := range []**Endpoint{&p.east, &p.west} {
		name := "east"
		if ep == &p.west {
			name = "west"
		}
		c := sim.Cluster(name)
		e, err := Connect(name, c.ServiceURL(), c.WebURL(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(e.Close)
		*ep = e
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := SetupReplicatedNamespace(ctx, testNamespace, p.east, p.west); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p testPair) scenario(t *testing.T, subs ...SubscriptionSpec) Scenario {
	return Scenario{
		Primary: p.east, Standby: p.west,
		StopPrimary:   func() error { return p.sim.StopCluster("east") },
		Topic:         fmt.Sprintf("persistent://%s/t%d", testNamespace, topicSeq.Add(1)),
		Subscriptions: subs,
		Type:          pulsar.Shared,
		Consumers:     3,
		StandbyIdle:   300 * time.Millisecond,
		Progress:      testWriter{t},
	}
}

// waitPIP33 lets PIP-33 snapshots settle on the standby before the kill.
func (p testPair) waitPIP33(topic, sub string) func(context.Context) error {
	return func(ctx context.Context) error {
		return WaitCursorSettled(ctx, p.west, topic, sub, 4*testSnapshotFrequency, 3*testSnapshotFrequency)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

func runScenario(t *testing.T, s Scenario) Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := s.Run(ctx)
	if err != nil {
		t.Fatalf("scenario: %v", err)
	}
	for _, sub := range rep.Subscriptions {
		a := sub.Accounting
		t.Logf("%s: produced %d, acked %d, standby %d (%d unique), duplicates %d, lost %d; held delivered %d, primary deliveries %d, partial-batch acks %d",
			sub.Name, a.Produced, a.AckedOnPrimary, a.ReceivedOnStandby, a.UniqueOnStandby, a.Duplicates, a.Lost,
			len(sub.Primary.Held), sub.Primary.Deliveries, sub.Primary.AckedInPartialBatches)
	}
	return rep
}

func mustSub(t *testing.T, rep Report, name string) SubscriptionReport {
	t.Helper()
	s, ok := rep.Subscription(name)
	if !ok {
		t.Fatalf("no report for %s", name)
	}
	return s
}

// checkPrimaryFollowedPlan: every planned ack confirmed, nothing else
// acked, every held message delivered and never acked.
func checkPrimaryFollowedPlan(t *testing.T, rep Report, s SubscriptionReport) {
	t.Helper()
	p := rep.Plan
	if s.Primary.AckErrors != 0 || len(s.Primary.Acked) != p.AckCount() {
		t.Errorf("%s: %d acks confirmed, %d failed; plan has %d", s.Name, len(s.Primary.Acked), s.Primary.AckErrors, p.AckCount())
	}
	for _, id := range s.Primary.Acked {
		if !p.ShouldAck(id) {
			t.Fatalf("%s: acked %d, which the plan does not ack", s.Name, id)
		}
	}
	if len(s.Primary.Held) != len(p.Held) {
		t.Errorf("%s: %d held messages delivered, plan holds %d", s.Name, len(s.Primary.Held), len(p.Held))
	}
}

// TestPIP33DuplicatesEverythingAckedPastAHeldMessage: PIP-33 syncs only
// the mark-delete position, which the first held message pins, so every
// message acknowledged after it is delivered again on the standby; nothing
// is lost. An unsynced subscription beside it gets every acknowledged
// message again.
func TestPIP33DuplicatesEverythingAckedPastAHeldMessage(t *testing.T) {
	p := startPair(t)
	s := p.scenario(t, SubscriptionSpec{Name: "pip33-sub", ReplicateSubscriptionState: true}, SubscriptionSpec{Name: "unsynced"})
	s.Plan = PlanOptions{Seed: 5, Messages: 300, FailoverAt: 0.8, HoldFraction: 0.05}
	s.ProduceRate = 1000
	s.WaitSynced = p.waitPIP33(s.Topic, "pip33-sub")
	rep := runScenario(t, s)
	if len(rep.Produced.IDs) != 300 {
		t.Fatalf("produced %d of 300", len(rep.Produced.IDs))
	}
	pip, raw := mustSub(t, rep, "pip33-sub"), mustSub(t, rep, "unsynced")
	for _, sub := range []SubscriptionReport{pip, raw} {
		checkPrimaryFollowedPlan(t, rep, sub)
		if sub.Accounting.Lost != 0 || sub.Accounting.Unexpected != 0 {
			t.Errorf("%s: lost %v, unexpected %d", sub.Name, sub.Accounting.LostIDs, sub.Accounting.Unexpected)
		}
	}
	if raw.Accounting.Duplicates != raw.Accounting.AckedOnPrimary || raw.Accounting.UniqueOnStandby != 300 {
		t.Errorf("unsynced: %d duplicates of %d acked, %d unique on standby; want all acked again and all 300 delivered",
			raw.Accounting.Duplicates, raw.Accounting.AckedOnPrimary, raw.Accounting.UniqueOnStandby)
	}
	firstHeld := rep.Plan.Held[0]
	pastHole := 0
	for _, id := range pip.Primary.Acked {
		if id > firstHeld {
			pastHole++
		}
	}
	if pip.Accounting.Duplicates == 0 || pip.Accounting.Duplicates < pastHole {
		t.Errorf("pip33: %d duplicates; every one of the %d messages acked after held message %d should come back",
			pip.Accounting.Duplicates, pastHole, firstHeld)
	}
}

// TestPIP33SyncsTheMarkDeletePositionWhenNothingIsHeld: with no held
// message PIP-33 moves the standby's cursor, so it duplicates fewer
// messages than an unsynced subscription (proof that the workload lets
// snapshots complete before the kill and measures their effect).
func TestPIP33SyncsTheMarkDeletePositionWhenNothingIsHeld(t *testing.T) {
	p := startPair(t)
	s := p.scenario(t, SubscriptionSpec{Name: "pip33-sub", ReplicateSubscriptionState: true}, SubscriptionSpec{Name: "unsynced"})
	s.Plan = PlanOptions{Seed: 9, Messages: 300, FailoverAt: 0.7, HoldFraction: 0}
	s.ProduceRate = 600
	s.AckWindow = 1
	s.WaitSynced = p.waitPIP33(s.Topic, "pip33-sub")
	rep := runScenario(t, s)
	pip, raw := mustSub(t, rep, "pip33-sub"), mustSub(t, rep, "unsynced")
	checkPrimaryFollowedPlan(t, rep, pip)
	if pip.Accounting.Lost != 0 || raw.Accounting.Lost != 0 {
		t.Errorf("lost: pip33 %v, unsynced %v", pip.Accounting.LostIDs, raw.Accounting.LostIDs)
	}
	if pip.Accounting.Duplicates >= raw.Accounting.Duplicates {
		t.Errorf("pip33 duplicated %d, unsynced %d: PIP-33 synced nothing", pip.Accounting.Duplicates, raw.Accounting.Duplicates)
	}
}

// TestBatchedKeySharedPartitioned runs the awkward combination: batches
// (partly acknowledged batches come back), keys, Key_Shared, two
// partitions. Nothing may be lost; the unsynced subscription gets every
// acknowledged message again.
func TestBatchedKeySharedPartitioned(t *testing.T) {
	p := startPair(t)
	s := p.scenario(t, SubscriptionSpec{Name: "pip33-sub", ReplicateSubscriptionState: true}, SubscriptionSpec{Name: "unsynced"})
	s.Plan = PlanOptions{Seed: 2, Messages: 400, FailoverAt: 0.6, HoldFraction: 0.03}
	s.Partitions, s.Batching, s.BatchMaxMessages, s.Keys, s.Type = 2, true, 8, 16, pulsar.KeyShared
	s.WaitSynced = p.waitPIP33(s.Topic, "pip33-sub")
	rep := runScenario(t, s)
	for _, name := range []string{"pip33-sub", "unsynced"} {
		sub := mustSub(t, rep, name)
		checkPrimaryFollowedPlan(t, rep, sub)
		if sub.Accounting.Lost != 0 {
			t.Errorf("%s lost %v", name, sub.Accounting.LostIDs)
		}
		partial := sub.Primary.AckedInPartialBatches
		if partial == 0 || partial >= sub.Accounting.AckedOnPrimary {
			t.Errorf("%s: %d of %d acks in partial batches; with batches of 8 and held messages expected some, not all",
				name, partial, sub.Accounting.AckedOnPrimary)
		}
		if sub.Accounting.Duplicates < partial {
			t.Errorf("%s: %d duplicates, fewer than the %d acks in batches never acknowledged whole", name, sub.Accounting.Duplicates, partial)
		}
	}
	raw := mustSub(t, rep, "unsynced")
	if raw.Accounting.Duplicates != raw.Accounting.AckedOnPrimary {
		t.Errorf("unsynced: %d duplicates of %d acked", raw.Accounting.Duplicates, raw.Accounting.AckedOnPrimary)
	}
}

// TestSingleActiveConsumerTypes runs the workload with Failover (one
// active consumer of several) and Exclusive subscriptions: individual acks
// out of order work there too, and nothing is lost.
func TestSingleActiveConsumerTypes(t *testing.T) {
	for _, tc := range []struct {
		typ       pulsar.SubscriptionType
		consumers int
	}{{pulsar.Failover, 3}, {pulsar.Exclusive, 1}} {
		t.Run(SubscriptionTypeName(tc.typ), func(t *testing.T) {
			p := startPair(t)
			s := p.scenario(t, SubscriptionSpec{Name: "pip33-sub", ReplicateSubscriptionState: true}, SubscriptionSpec{Name: "unsynced"})
			s.Type, s.Consumers = tc.typ, tc.consumers
			s.Plan = PlanOptions{Seed: 21, Messages: 200, FailoverAt: 0.75, HoldFraction: 0.04}
			s.WaitSynced = p.waitPIP33(s.Topic, "pip33-sub")
			rep := runScenario(t, s)
			for _, name := range []string{"pip33-sub", "unsynced"} {
				sub := mustSub(t, rep, name)
				checkPrimaryFollowedPlan(t, rep, sub)
				if sub.Accounting.Lost != 0 || sub.Accounting.Duplicates == 0 {
					t.Errorf("%s: lost %v, %d duplicates (held messages pin PIP-33, so some expected)",
						name, sub.Accounting.LostIDs, sub.Accounting.Duplicates)
				}
			}
		})
	}
}

func TestScenarioRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    Scenario
		want string
	}{
		{"no endpoints", Scenario{}, "endpoints are required"},
		{"repeated subscription", Scenario{Subscriptions: []SubscriptionSpec{{Name: "a"}, {Name: "a"}}}, `"a" is empty or repeated`},
		{"bad plan", Scenario{Primary: &Endpoint{}, Standby: &Endpoint{}, StopPrimary: func() error { return nil },
			Subscriptions: []SubscriptionSpec{{Name: "a"}}, Plan: PlanOptions{Messages: 10}}, "failoverAt"},
	} {
		_, err := tc.s.Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error mentioning %q", tc.name, err, tc.want)
		}
	}
}

func TestStartPrimaryRejectsBadOptions(t *testing.T) {
	plan, _ := NewPlan(PlanOptions{Messages: 10, FailoverAt: 1})
	for _, tc := range []struct {
		o    PrimaryOptions
		want string
	}{
		{PrimaryOptions{Topic: "t", Subscription: "s", Consumers: 2, Type: pulsar.Exclusive, Plan: plan}, "exclusive subscription takes 1 consumer"},
		{PrimaryOptions{Topic: "t", Subscription: "s", Consumers: 0, Plan: plan}, "consumers 0"},
		{PrimaryOptions{Topic: "t", Subscription: "s", Consumers: 1}, "plan is required"},
		{PrimaryOptions{Subscription: "s", Consumers: 1, Plan: plan}, "are required"},
	} {
		if _, err := StartPrimary(nil, tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("StartPrimary(%+v) = %v, want an error mentioning %q", tc.o, err, tc.want)
		}
	}
}
