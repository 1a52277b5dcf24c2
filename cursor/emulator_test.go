package cursor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	pulsarlog "github.com/apache/pulsar-client-go/pulsar/log"
	"github.com/apache/pulsar-client-go/pulsaradmin"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/integration/emulator"
)

// env is one emulated cluster with a client, a pulsaradmin client and the
// Admin adapter over it.
type env struct {
	client pulsar.Client
	raw    pulsaradmin.Client
	adm    Admin
	ctx    context.Context
}

var topicSeq atomic.Int64

func newEnv(t *testing.T) env {
	t.Helper()
	sim, err := emulator.Start(emulator.Options{Clusters: []emulator.ClusterOptions{{Name: "east", LedgerMaxEntries: 10}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	east := sim.Cluster("east")
	client, err := pulsar.NewClient(pulsar.ClientOptions{
		URL:              east.ServiceURL(),
		OperationTimeout: 10 * time.Second,
		Logger:           pulsarlog.DefaultNopLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	raw, err := pulsaradmin.NewClient(&pulsaradmin.Config{WebServiceURL: east.WebURL()})
	if err != nil {
		t.Fatal(err)
	}
	// The tests write first and subscribe after, as a standby sees copies
	// before subsync creates its subscriptions: with zero retention the
	// broker would have deleted the closed ledgers by then.
	if err := raw.Namespaces().SetRetention("public/default", utils.RetentionPolicies{RetentionTimeInMinutes: -1, RetentionSizeInMB: -1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return env{client: client, raw: raw, adm: NewAdmin(raw), ctx: ctx}
}

func uniqueTopic(name string) string {
	return fmt.Sprintf("persistent://public/default/%s-%d", name, topicSeq.Add(1))
}

// produce writes n unbatched messages "0".."n-1" and returns their positions.
func (e env) produce(t *testing.T, topic string, n int) []ackset.Position {
	t.Helper()
	p, err := e.client.CreateProducer(pulsar.ProducerOptions{Topic: topic, DisableBatching: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	out := make([]ackset.Position, n)
	for i := range out {
		id, err := p.Send(e.ctx, &pulsar.ProducerMessage{Payload: []byte(fmt.Sprint(i))})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = pos(id.LedgerID(), id.EntryID())
	}
	return out
}

func (e env) createSub(t *testing.T, topic, sub string) {
	t.Helper()
	tn, err := utils.GetTopicName(topic)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.raw.Subscriptions().Create(*tn, sub, utils.Earliest); err != nil {
		t.Fatal(err)
	}
}

func (e env) read(t *testing.T, topic string) TopicState {
	t.Helper()
	st, err := ReadTopic(e.ctx, e.adm, topic)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// eventually polls cond until it holds or 10 s pass.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s", what, detail)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// asRanges expresses positions (sorted) as one-ledger ranges, the form
// ackset.ToLocal produces.
func asRanges(ps []ackset.Position) []ackset.Range {
	var out []ackset.Range
	for _, p := range ps {
		if n := len(out); n > 0 && out[n-1].To.Ledger == p.Ledger && out[n-1].To.Entry+1 == p.Entry {
			out[n-1].To = p
			continue
		}
		out = append(out, ents(p.Ledger, p.Entry, p.Entry))
	}
	return out
}

// pick returns the positions at the given indexes.
func pick(ps []ackset.Position, idx ...int) []ackset.Position {
	out := make([]ackset.Position, len(idx))
	for i, j := range idx {
		out[i] = ps[j]
	}
	return out
}

func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// checkAcked asserts that exactly the positions at the indexes in acked
// are acknowledged on the subscription.
func checkAcked(t *testing.T, s SubState, all []ackset.Position, acked []int) {
	t.Helper()
	for i, p := range all {
		if got, want := s.IsAcked(p), slices.Contains(acked, i); got != want {
			t.Errorf("message %d at %s: acked = %t, want %t (mdp %s, idm %s)",
				i, p, got, want, s.MarkDelete, ackset.FormatIDM(s.Deleted))
		}
	}
}

func (e env) plan(t *testing.T, topic, sub string, want []ackset.Position, o PlanOptions) Plan {
	t.Helper()
	return PlanApply(e.read(t, topic), sub, asRanges(want), o)
}

func (e env) apply(t *testing.T, topic, sub string, p Plan) Result {
	t.Helper()
	res, err := NewApplier(e.client, e.adm, ApplierOptions{AckChunk: 4}).Apply(e.ctx, topic, sub, p)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// receiveAll receives until nothing arrives for quiet, acking everything,
// and returns the payload indexes received.
func receiveAll(t *testing.T, c pulsar.Consumer, quiet time.Duration) []int {
	t.Helper()
	var got []int
	for {
		ctx, cancel := context.WithTimeout(context.Background(), quiet)
		m, err := c.Receive(ctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			slices.Sort(got)
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		var i int
		if _, err := fmt.Sscan(string(m.Payload()), &i); err != nil {
			t.Fatal(err)
		}
		got = append(got, i)
		if err := c.Ack(m); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEmulatorReadTopic(t *testing.T) {
	e := newEnv(t)
	topic := uniqueTopic("read")
	ps := e.produce(t, topic, 25)
	e.createSub(t, topic, "idle")
	app, err := e.client.Subscribe(pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "app",
		Type: pulsar.Shared, SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest, AckWithResponse: true})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	for i := 0; i < 6; i++ {
		m, err := app.Receive(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if i == 3 || i == 4 {
			continue
		}
		if err := app.Ack(m); err != nil {
			t.Fatal(err)
		}
	}
	repl, err := e.client.Subscribe(pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "repl",
		Type: pulsar.Failover, ReplicateSubscriptionState: true})
	if err != nil {
		t.Fatal(err)
	}
	defer repl.Close()
	reader, err := e.client.CreateReader(pulsar.ReaderOptions{Topic: topic, StartMessageID: pulsar.EarliestMessageID()})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()

	st := e.read(t, topic)
	if st.Topic != topic || st.LastConfirmed != ps[24] {
		t.Fatalf("topic %q LAC %s, want %q %s", st.Topic, st.LastConfirmed, topic, ps[24])
	}
	wantLedgers := []Ledger{{ID: ps[0].Ledger, Entries: 10}, {ID: ps[10].Ledger, Entries: 10}, {ID: ps[20].Ledger}}
	if !slices.Equal(st.Ledgers, wantLedgers) {
		t.Fatalf("ledgers %v, want %v", st.Ledgers, wantLedgers)
	}
	if len(st.Subscriptions) != 3 {
		t.Fatalf("subscriptions %v: want exactly app, idle and repl (no reader cursor)", st.Subscriptions)
	}
	if r := st.Subscriptions["repl"]; !r.Replicated || r.Type != "Failover" || r.Consumers != 1 {
		t.Fatalf("repl: %+v", r)
	}
	a := st.Subscriptions["app"]
	if a.MarkDelete != ps[2] || a.Type != "Shared" || a.Consumers != 1 || a.Replicated {
		t.Fatalf("app: %+v", a)
	}
	if got, want := ackset.FormatIDM(a.Deleted), ackset.FormatIDM([]ackset.Range{ents(ps[5].Ledger, ps[5].Entry, ps[5].Entry)}); got != want {
		t.Fatalf("app IDM %s, want %s", got, want)
	}
	checkAcked(t, a, ps, []int{0, 1, 2, 5})
	idle := st.Subscriptions["idle"]
	if idle.MarkDelete != pos(ps[0].Ledger, -1) || len(idle.Deleted) != 0 || idle.Consumers != 0 {
		t.Fatalf("idle: %+v", idle)
	}
	checkAcked(t, idle, ps, nil)
}

func TestEmulatorReadTopicMissingTopic(t *testing.T) {
	e := newEnv(t)
	topic := uniqueTopic("absent")
	_, err := ReadTopic(e.ctx, e.adm, topic)
	if err == nil {
		t.Fatal("no error for a topic that does not exist")
	}
}

func TestApplyIndividualAcksAcrossLedgers(t *testing.T) {
	e := newEnv(t)
	topic := uniqueTopic("acks")
	ps := e.produce(t, topic, 25)
	e.createSub(t, topic, "s")
	wanted := append(seq(3, 14), 20, 24)
	p := e.plan(t, topic, "s", pick(ps, wanted...), PlanOptions{ResetThreshold: -1})
	if p.Create || p.ResetTo != nil || p.AckCount() != int64(len(wanted)) {
		t.Fatalf("plan %s", p)
	}
	res := e.apply(t, topic, "s", p)
	if res != (Result{Acked: int64(len(wanted))}) {
		t.Fatalf("result %+v", res)
	}
	st := e.read(t, topic)
	s := st.Subscriptions["s"]
	checkAcked(t, s, ps, wanted)
	if s.Consumers != 0 {
		t.Fatalf("%d consumers left attached after Apply", s.Consumers)
	}
	stats, err := e.adm.Stats(e.ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	if out := stats.Subscriptions["s"].MsgOutCounter; out != 0 {
		t.Fatalf("the acknowledging consumer was sent %d messages", out)
	}
	// Applying the same want again plans nothing.
	if again := e.plan(t, topic, "s", pick(ps, wanted...), PlanOptions{ResetThreshold: 0}); !again.Empty() {
		t.Fatalf("second plan %s", again)
	}
	// An application consumer gets every message not acknowledged.
	app, err := e.client.Subscribe(pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s", Type: pulsar.Shared})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	got := receiveAll(t, app, 500*time.Millisecond)
	if want := []int{0, 1, 2, 15, 16, 17, 18, 19, 21, 22, 23}; !slices.Equal(got, want) {
		t.Fatalf("application received %v, want %v", got, want)
	}
}

func TestApplyCreatesSubscription(t *testing.T) {
	e := newEnv(t)
	topic := uniqueTopic("create")
	ps := e.produce(t, topic, 15)
	wanted := []int{1, 2, 11}
	p := e.plan(t, topic, "new", pick(ps, wanted...), PlanOptions{ResetThreshold: -1})
	if !p.Create || p.AckCount() != 3 {
		t.Fatalf("plan %s", p)
	}
	if res := e.apply(t, topic, "new", p); res != (Result{Created: true, Acked: 3}) {
		t.Fatalf("result %+v", res)
	}
	checkAcked(t, e.read(t, topic).Subscriptions["new"], ps, wanted)

	// A stale plan that creates an existing subscription still acks.
	p = Plan{Create: true, Acks: asRanges(pick(ps, 3))}
	if res := e.apply(t, topic, "new", p); res != (Result{Acked: 1}) {
		t.Fatalf("result %+v", res)
	}
	checkAcked(t, e.read(t, topic).Subscriptions["new"], ps, []int{1, 2, 3, 11})
}

func TestApplyCreateWithReset(t *testing.T) {
	e := newEnv(t)
	topic := uniqueTopic("create-reset")
	ps := e.produce(t, topic, 25)
	wanted := append(seq(0, 13), 20)
	p := e.plan(t, topic, "new", pick(ps, wanted...), PlanOptions{ResetThreshold: 5})
	if !p.Create || p.ResetTo == nil || *p.ResetTo != pos(ps[13].Ledger, ps[13].Entry+1) || p.AckCount() != 1 {
		t.Fatalf("plan %s", p)
	}
	if res := e.apply(t, topic, "new", p); res != (Result{Created: true, Reset: true, Acked: 1}) {
		t.Fatalf("result %+v", res)
	}
	s := e.read(t, topic).Subscriptions["new"]
	if s.MarkDelete != ps[13] {
		t.Fatalf("mark-delete %s, want %s", s.MarkDelete, ps[13])
	}
	checkAcked(t, s, ps, wanted)
}

func TestApplyResetClearsAndReacks(t *testing.T) {
	e := newEnv(t)
	topic := uniqueTopic("reset")
	ps := e.produce(t, topic, 25)
	e.createSub(t, topic, "s")
	// Local individual acks above the coming stretch.
	e.apply(t, topic, "s", Plan{Acks: asRanges(pick(ps, 18, 19, 22))})

	wanted := seq(0, 15)
	p := e.plan(t, topic, "s", pick(ps, wanted...), PlanOptions{ResetThreshold: 10})
	if p.ResetTo == nil || *p.ResetTo != pos(ps[15].Ledger, ps[15].Entry+1) {
		t.Fatalf("plan %s: want a reset to right after message 15 (%s)", p, ps[15])
	}
	if res := e.apply(t, topic, "s", p); res != (Result{Reset: true, Acked: 3}) {
		t.Fatalf("result %+v", res)
	}
	s := e.read(t, topic).Subscriptions["s"]
	if s.MarkDelete != ps[15] {
		t.Fatalf("mark-delete %s, want %s", s.MarkDelete, ps[15])
	}
	checkAcked(t, s, ps, append(wanted, 18, 19, 22))
}

func TestApplyResetAtLedgerEnd(t *testing.T) {
	e := newEnv(t)
	topic := uniqueTopic("reset-end")
	ps := e.produce(t, topic, 25)
	e.createSub(t, topic, "s")
	// The stretch ends on the last entry of the second ledger: the reset
	// position (ledger, 10) does not exist and the broker moves it on.
	wanted := seq(0, 19)
	p := e.plan(t, topic, "s", pick(ps, wanted...), PlanOptions{ResetThreshold: 1})
	if p.ResetTo == nil || *p.ResetTo != pos(ps[19].Ledger, 10) || len(p.Acks) != 0 {
		t.Fatalf("plan %s", p)
	}
	e.apply(t, topic, "s", p)
	s := e.read(t, topic).Subscriptions["s"]
	checkAcked(t, s, ps, wanted)
}

func TestApplyResetDeferredWhenConsumersArrive(t *testing.T) {
	e := newEnv(t)
	topic := uniqueTopic("reset-race")
	ps := e.produce(t, topic, 20)
	e.createSub(t, topic, "s")
	p := e.plan(t, topic, "s", pick(ps, seq(0, 14)...), PlanOptions{ResetThreshold: 1})
	if p.ResetTo == nil {
		t.Fatalf("plan %s: want a reset", p)
	}
	app, err := e.client.Subscribe(pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s", Type: pulsar.Shared,
		ReceiverQueueSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	res := e.apply(t, topic, "s", p)
	if !res.Deferred || res.Reset || res.Acked != 0 || res.Reason == "" {
		t.Fatalf("result %+v: want deferred before the reset", res)
	}
	s := e.read(t, topic).Subscriptions["s"]
	checkAcked(t, s, ps, nil)
}

func TestApplyPartition(t *testing.T) {
	e := newEnv(t)
	base := uniqueTopic("parts")
	tn, err := utils.GetTopicName(base)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.raw.Topics().Create(*tn, 3); err != nil {
		t.Fatal(err)
	}
	part := base + "-partition-2"
	ps := e.produce(t, part, 15)
	e.createSub(t, part, "s")
	wanted := []int{0, 4, 9, 10, 14}
	p := e.plan(t, part, "s", pick(ps, wanted...), PlanOptions{ResetThreshold: -1})
	if res := e.apply(t, part, "s", p); res.Acked != 5 {
		t.Fatalf("result %+v", res)
	}
	checkAcked(t, e.read(t, part).Subscriptions["s"], ps, wanted)
}

func TestApplyDeferredByExclusiveTypes(t *testing.T) {
	for _, typ := range []pulsar.SubscriptionType{pulsar.Exclusive, pulsar.Failover, pulsar.KeyShared} {
		t.Run(fmt.Sprint(typ), func(t *testing.T) {
			e := newEnv(t)
			topic := uniqueTopic("defer")
			ps := e.produce(t, topic, 12)
			app, err := e.client.Subscribe(pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s", Type: typ,
				SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest})
			if err != nil {
				t.Fatal(err)
			}
			defer app.Close()
			wanted := []int{2, 3, 11}
			p := e.plan(t, topic, "s", pick(ps, wanted...), PlanOptions{ResetThreshold: 0})
			if !p.Deferred || p.Acks != nil || p.Reason == "" {
				t.Fatalf("plan %s: want deferred", p)
			}
			if res := e.apply(t, topic, "s", p); !res.Deferred || res.Acked != 0 {
				t.Fatalf("result %+v", res)
			}
			// A plan made before the consumer arrived meets ConsumerBusy.
			stale := Plan{Acks: asRanges(pick(ps, wanted...))}
			res := e.apply(t, topic, "s", stale)
			if !res.Deferred || res.Acked != 0 || res.Reason == "" {
				t.Fatalf("stale plan result %+v: want deferred", res)
			}
			checkAcked(t, e.read(t, topic).Subscriptions["s"], ps, nil)
		})
	}
}

func TestApplyAlongsideSharedApplication(t *testing.T) {
	e := newEnv(t)
	topic := uniqueTopic("shared")
	ps := e.produce(t, topic, 40)
	e.createSub(t, topic, "s")
	// The client prefetches about a dozen messages whatever its queue size,
	// so the application may already hold some of the positions acked
	// below; those it may receive (a duplicate, never a loss).
	app, err := e.client.Subscribe(pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s", Type: pulsar.Shared,
		ReceiverQueueSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	wanted := seq(20, 39)
	p := e.plan(t, topic, "s", pick(ps, wanted...), PlanOptions{ResetThreshold: 0})
	if p.ResetTo != nil || p.AckCount() != 20 {
		t.Fatalf("plan %s: consumers attached, want individual acks only", p)
	}
	if res := e.apply(t, topic, "s", p); res.Acked != 20 || res.Deferred {
		t.Fatalf("result %+v", res)
	}
	got := receiveAll(t, app, 500*time.Millisecond)
	for i := 0; i < 20; i++ {
		if !slices.Contains(got, i) {
			t.Fatalf("application never received unacked message %d (got %v)", i, got)
		}
	}
	eventually(t, "everything acknowledged", func() (bool, string) {
		s := e.read(t, topic).Subscriptions["s"]
		return s.MarkDelete == ps[39], fmt.Sprintf("mdp %s idm %s", s.MarkDelete, ackset.FormatIDM(s.Deleted))
	})
}
