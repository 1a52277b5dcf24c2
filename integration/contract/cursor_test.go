package contract

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"

	"github.com/subsync/subsync/integration/emulator"
	"github.com/subsync/subsync/integration/testbed"
)

// ackIndexes acks msgs[i] for each index, failing on the first error.
func ackIndexes(t *testing.T, cons pulsar.Consumer, msgs []pulsar.Message, idx ...int) {
	t.Helper()
	for _, i := range idx {
		if err := cons.Ack(msgs[i]); err != nil {
			t.Fatalf("ack %q: %v", msgs[i].Payload(), err)
		}
	}
}

// inPayloadOrder returns msgs reordered to follow payloads.
func inPayloadOrder(t *testing.T, msgs []pulsar.Message, payloads []string) []pulsar.Message {
	t.Helper()
	idx := byPayload(msgs)
	out := make([]pulsar.Message, len(payloads))
	for i, p := range payloads {
		m, ok := idx[p]
		if !ok {
			t.Fatalf("message %q was not received (got %v)", p, payloadsOf(msgs))
		}
		out[i] = m
	}
	return out
}

func mergeAcked(sets ...map[pos]bool) map[pos]bool {
	out := map[pos]bool{}
	for _, s := range sets {
		for p := range s {
			out[p] = true
		}
	}
	return out
}

func ledgersOf(entries []pos) int {
	seen := map[int64]bool{}
	for _, e := range entries {
		seen[e.L] = true
	}
	return len(seen)
}

// TestIndividuallyDeletedMessagesFormatAcrossLedgers: individual acks print as
// Pulsar prints them, ranges stay within a ledger, a range from entry 0 prints
// (L:-1..L:E], nothing acked prints [], and contiguous acks move the
// mark-delete position (also across a ledger boundary).
func TestIndividuallyDeletedMessagesFormatAcrossLedgers(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "idm")
	cons := subscribe(t, c, pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s",
		Type: pulsar.Shared, AckWithResponse: true})
	payloads := numbered("m", 25)
	ids := sendPayloads(t, newProducer(t, c, topic), payloads...)
	entries := entriesOf(ids)
	if env.emulated && ledgersOf(entries) < 3 {
		t.Fatalf("25 entries with ledgers of %d entries should span 3 ledgers, got %v", emulatedLedgerMaxEntries, entries)
	}
	checkCursor(t, c, topic, "s", expectCursor(entries, nil))

	msgs := inPayloadOrder(t, receiveN(t, cons, len(payloads)), payloads)
	steps := [][]int{
		{2, 3, 8, 9, 10, 11, 15, 20, 21, 22}, // ranges only; 10 and 20 open ledgers in the emulator
		{0, 1},                               // prefix: MDP moves to m-3
		{4, 5, 6, 7},                         // MDP crosses into the second ledger (m-11)
	}
	acked := map[pos]bool{}
	for _, step := range steps {
		ackIndexes(t, cons, msgs, step...)
		acked = mergeAcked(acked, ackedSet(entries, step...))
		want := expectCursor(entries, acked)
		if env.emulated && step[0] == 2 && !strings.Contains(want.idm, ":-1..") {
			t.Fatalf("model %s has no range from entry 0; the test lost its point", want.idm)
		}
		checkCursor(t, c, topic, "s", want)
	}
}

// TestSharedSubscriptionAppliesAcksOfPositionsDispatchedElsewhere: a Shared
// subscription applies an individual ack from any of its consumers, for an
// entry that consumer never received, given as a bare NewMessageID; a regular
// consumer on a non-partitioned topic must use partition index 0.
func TestSharedSubscriptionAppliesAcksOfPositionsDispatchedElsewhere(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "shared-ack")
	hog := subscribe(t, c, pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s", Type: pulsar.Shared})
	ids := sendPayloads(t, newProducer(t, c, topic), numbered("m", 6)...)
	receiveN(t, hog, 6) // every entry is now dispatched to hog, none to acker

	acker := subscribe(t, c, pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s",
		Type: pulsar.Shared, AckWithResponse: true})
	entries := entriesOf(ids)
	wrongPartition := pulsar.NewMessageID(entries[2].L, entries[2].E, -1, -1)
	if err := acker.AckID(wrongPartition); err == nil {
		t.Error("a regular consumer accepted partition index -1 on a non-partitioned topic")
	}
	for _, i := range []int{1, 4} {
		if err := acker.AckID(pulsar.NewMessageID(entries[i].L, entries[i].E, -1, 0)); err != nil {
			t.Fatalf("ack %v: %v", entries[i], err)
		}
	}
	checkCursor(t, c, topic, "s", expectCursor(entries, ackedSet(entries, 1, 4)))
}

// TestZeroQueueConsumerIsNotFedButItsAcksLand: a zero-queue consumer that never
// calls Receive gets nothing dispatched (no FLOW), yet its acks are applied;
// AckID takes partition index -1 or 0, AckIDList keeps only -1.
func TestZeroQueueConsumerIsNotFedButItsAcksLand(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "zero-queue")
	payloads := numbered("m", 8)
	ids := sendPayloads(t, newProducer(t, c, topic), payloads...)
	entries := entriesOf(ids)
	zq := subscribe(t, c, pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s", Type: pulsar.Shared,
		SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest,
		EnableZeroQueueConsumer:     true, AckWithResponse: true})

	checkCursor(t, c, topic, "s", expectCursor(entries, nil))
	consistently(t, quietPeriod, func() error {
		cs, err := cursorStats(t, c, topic, "s")
		if err != nil {
			return err
		}
		if cs.ReadPosition != entries[0].String() {
			return fmt.Errorf("readPosition %s: entries were read for a consumer that sent no permits (want %s)",
				cs.ReadPosition, entries[0])
		}
		return nil
	})

	id := func(i int, partition int32) pulsar.MessageID {
		return pulsar.NewMessageID(entries[i].L, entries[i].E, -1, partition)
	}
	if err := zq.AckID(id(2, -1)); err != nil {
		t.Fatalf("AckID with partition -1: %v", err)
	}
	if err := zq.AckID(id(5, 0)); err != nil {
		t.Fatalf("AckID with partition 0: %v", err)
	}
	if err := zq.AckIDList([]pulsar.MessageID{id(6, -1), id(7, 0)}); err != nil {
		t.Fatalf("AckIDList: %v", err)
	}
	checkCursor(t, c, topic, "s", expectCursor(entries, ackedSet(entries, 2, 5, 6)))

	first := receiveN(t, zq, 1)[0]
	if string(first.Payload()) != payloads[0] {
		t.Errorf("first message after Receive is %q, want %q", first.Payload(), payloads[0])
	}
}

// TestCumulativeAckOnSharedIsNotApplied: Pulsar ignores cumulative acks on
// Shared and Key_Shared (Consumer.messageAcked: isIndividualAckMode). The Go
// client refuses to send one (ErrInvalidAck), so the cursor must not move;
// an individual ack from the same consumer still works.
func TestCumulativeAckOnSharedIsNotApplied(t *testing.T) {
	t.Parallel()
	types := map[string]pulsar.SubscriptionType{"Shared": pulsar.Shared, "KeyShared": pulsar.KeyShared}
	for name, typ := range types {
		t.Run(name, func(t *testing.T) {
			c := env.main.a
			topic := topicIn(env.main.namespace(t, false), "cumulative")
			cons := subscribe(t, c, pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s",
				Type: typ, AckWithResponse: true})
			payloads := numbered("m", 5)
			ids := sendPayloads(t, newProducer(t, c, topic), payloads...)
			entries := entriesOf(ids)
			msgs := inPayloadOrder(t, receiveN(t, cons, 5), payloads)

			err := cons.AckCumulative(msgs[3])
			if !errors.Is(err, pulsar.ErrInvalidAck) {
				t.Errorf("AckCumulative on %v: err %v, want ErrInvalidAck", typ, err)
			}
			none := expectCursor(entries, nil)
			consistently(t, quietPeriod, func() error {
				cs, err := cursorStats(t, c, topic, "s")
				if err != nil {
					return err
				}
				if !none.mdpMatches(cs.MarkDeletePosition) || cs.IndividuallyDeletedMessages != "[]" {
					return fmt.Errorf("cursor moved after a cumulative ack on %v: %s %s",
						typ, cs.MarkDeletePosition, cs.IndividuallyDeletedMessages)
				}
				return nil
			})
			ackIndexes(t, cons, msgs, 0)
			checkCursor(t, c, topic, "s", expectCursor(entries, ackedSet(entries, 0)))
		})
	}
}

// TestResetCursorClearsIndividualAcksAndRedelivers: admin reset-cursor sets the
// mark-delete position to the entry before the target, clears every
// individual ack, and disconnects consumers, which then get everything from
// the target again (PersistentSubscription.resetCursor, ManagedCursorImpl.internalResetCursor).
func TestResetCursorClearsIndividualAcksAndRedelivers(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "reset")
	cons := subscribe(t, c, pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s",
		Type: pulsar.Exclusive, AckWithResponse: true})
	payloads := numbered("m", 15)
	ids := sendPayloads(t, newProducer(t, c, topic), payloads...)
	entries := entriesOf(ids)
	msgs := receiveN(t, cons, 15)
	if !equalStrings(payloadsOf(msgs), payloads) {
		t.Fatalf("exclusive consumer got %v, want %v in order", payloadsOf(msgs), payloads)
	}
	ackIndexes(t, cons, msgs, 0, 1, 2, 3, 4, 7, 9, 12)
	checkCursor(t, c, topic, "s", expectCursor(entries, ackedSet(entries, 0, 1, 2, 3, 4, 7, 9, 12)))

	target := utils.MessageID{LedgerID: entries[3].L, EntryID: entries[3].E, PartitionIndex: -1}
	if err := c.admin.Subscriptions().ResetCursorToMessageID(topicName(t, topic), "s", target); err != nil {
		t.Fatalf("reset cursor to %v: %v", entries[3], err)
	}
	checkCursor(t, c, topic, "s", expectCursor(entries, ackedSet(entries, 0, 1, 2)))

	again := receiveN(t, cons, 12)
	if got, want := payloadsOf(again), payloads[3:]; !equalStrings(got, want) {
		t.Fatalf("after reset the consumer got %v, want %v", got, want)
	}
}

// TestCreateSubscriptionAtEarliestLatestAndMessageID: admin create-subscription
// positions the cursor at the earliest entry, at the end, or at a given entry
// (mark-delete position = the entry before it).
func TestCreateSubscriptionAtEarliestLatestAndMessageID(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "create-sub")
	prod := newProducer(t, c, topic)
	payloads := numbered("m", 7)
	ids := sendPayloads(t, prod, payloads[:6]...)
	entries := entriesOf(ids)
	tn := topicName(t, topic)
	subs := map[string]utils.MessageID{
		"early": utils.Earliest,
		"late":  utils.Latest,
		"mid":   {LedgerID: entries[3].L, EntryID: entries[3].E, PartitionIndex: -1},
	}
	for name, at := range subs {
		if err := c.admin.Subscriptions().Create(tn, name, at); err != nil {
			t.Fatalf("create subscription %s at %v: %v", name, at, err)
		}
	}
	checkCursor(t, c, topic, "early", expectCursor(entries, nil))
	checkCursor(t, c, topic, "late", expectCursor(entries, ackedSet(entries, rangeInts(0, 6)...)))
	checkCursor(t, c, topic, "mid", expectCursor(entries, ackedSet(entries, 0, 1, 2)))

	listed, err := c.admin.Subscriptions().List(tn)
	if err != nil {
		t.Fatalf("list subscriptions: %v", err)
	}
	if got := sortedCopy(listed); !equalStrings(got, []string{"early", "late", "mid"}) {
		t.Errorf("subscriptions %v, want [early late mid]", got)
	}

	sendPayloads(t, prod, payloads[6])
	wantFrom := map[string]int{"early": 0, "mid": 3, "late": 6}
	for name, from := range wantFrom {
		cons := subscribe(t, c, pulsar.ConsumerOptions{Topic: topic, SubscriptionName: name, Type: pulsar.Exclusive})
		got := payloadsOf(receiveN(t, cons, len(payloads)-from))
		if !equalStrings(got, payloads[from:]) {
			t.Errorf("subscription %s delivered %v, want %v", name, got, payloads[from:])
		}
		expectNoMessage(t, cons)
	}
}

// TestSkipMessagesExcludesIndividuallyAcked: admin skip skips N not-yet-acked
// entries from the mark-delete position (PersistentSubscription.skipMessages:
// IndividualDeletedEntries.Exclude).
func TestSkipMessagesExcludesIndividuallyAcked(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "skip")
	tn := topicName(t, topic)
	prod := newProducer(t, c, topic)
	// Created before the writes, so that it holds the ledger they fill (a
	// closed ledger no durable cursor needs is deleted at once).
	if err := c.admin.Subscriptions().Create(tn, "s", utils.Earliest); err != nil {
		t.Fatalf("create subscription: %v", err)
	}
	ids := sendPayloads(t, prod, numbered("m", 10)...)
	entries := entriesOf(ids)
	zq := subscribe(t, c, pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s", Type: pulsar.Shared,
		EnableZeroQueueConsumer: true, AckWithResponse: true})
	if err := zq.AckID(pulsar.NewMessageID(entries[2].L, entries[2].E, -1, -1)); err != nil {
		t.Fatalf("ack m-2: %v", err)
	}
	checkCursor(t, c, topic, "s", expectCursor(entries, ackedSet(entries, 2)))

	if err := c.admin.Subscriptions().SkipMessages(tn, "s", 3); err != nil {
		t.Fatalf("skip 3: %v", err)
	}
	checkCursor(t, c, topic, "s", expectCursor(entries, ackedSet(entries, 0, 1, 2, 3)))
}

// checkBatchIndexAck sends one batch of four messages, acks indexes 0 and 2
// with a batch-index-ack consumer, reconnects and checks that wantAgain is
// delivered again. The cursor never shows a partly acked batch, and shows the
// entry deleted once the rest is acked.
func checkBatchIndexAck(t *testing.T, c *cluster, ns string, wantAgain []string) {
	t.Helper()
	topic := topicIn(ns, "batch-index-ack")
	opts := pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s", Type: pulsar.Shared,
		EnableBatchIndexAcknowledgment: true, AckWithResponse: true}
	first := subscribe(t, c, opts)
	payloads := numbered("b", 4)
	ids := sendBatch(t, newBatchingProducer(t, c, topic, len(payloads)), payloads)
	entries := entriesOf(ids)
	if len(entries) != 1 {
		t.Fatalf("a flushed batch of %d should be one entry, got %v", len(payloads), entries)
	}
	msgs := inPayloadOrder(t, receiveN(t, first, 4), payloads)
	ackIndexes(t, first, msgs, 0, 2)
	none := expectCursor(entries, nil)
	consistently(t, quietPeriod, func() error {
		cs, err := cursorStats(t, c, topic, "s")
		if err != nil {
			return err
		}
		if !none.mdpMatches(cs.MarkDeletePosition) || cs.IndividuallyDeletedMessages != "[]" {
			return fmt.Errorf("partial batch shows in the cursor: %s %s", cs.MarkDeletePosition, cs.IndividuallyDeletedMessages)
		}
		return nil
	})
	first.Close()

	second := subscribe(t, c, opts)
	again := receiveN(t, second, len(wantAgain))
	if got := sortedCopy(payloadsOf(again)); !equalStrings(got, wantAgain) {
		t.Fatalf("after reconnecting, redelivered %v, want %v", got, wantAgain)
	}
	expectNoMessage(t, second)
	ackIndexes(t, second, again, rangeInts(0, len(again))...)
	checkCursor(t, c, topic, "s", expectCursor(entries, ackedSet(entries, 0)))
}

// realBatchIndexAck says whether the real pair was started with
// acknowledgmentAtBatchIndexLevelEnabled=true (testbed exec --set ...).
func realBatchIndexAck() bool {
	return testbed.SettingsFromEnv()["acknowledgmentAtBatchIndexLevelEnabled"] == "true"
}

// TestBatchIndexAckIgnoredByDefault: without
// acknowledgmentAtBatchIndexLevelEnabled (the broker default) an ack carrying
// an ack set is ignored, so the whole batch comes back after a reconnect.
func TestBatchIndexAckIgnoredByDefault(t *testing.T) {
	t.Parallel()
	if !env.emulated && realBatchIndexAck() {
		t.Skip("the pair runs with acknowledgmentAtBatchIndexLevelEnabled=true; TestBatchIndexAckAppliedWhenEnabled covers it")
	}
	checkBatchIndexAck(t, env.main.a, env.main.namespace(t, false), numbered("b", 4))
}

// TestBatchIndexAckAppliedWhenEnabled: with batch-index acks on, the broker
// keeps the partial ack set and sends it with the redelivered entry, so only
// the unacked indexes come back. The emulator starts a cluster with them on;
// a real pair must have been started so (make test-contract-real-batchack).
func TestBatchIndexAckAppliedWhenEnabled(t *testing.T) {
	t.Parallel()
	want := []string{"b-1", "b-3"}
	if !env.emulated {
		if !realBatchIndexAck() {
			t.Skipf("the pair runs with the default acknowledgmentAtBatchIndexLevelEnabled=false; start it with testbed exec --set acknowledgmentAtBatchIndexLevelEnabled=true (%s)", testbed.EnvSettings)
		}
		checkBatchIndexAck(t, env.main.a, env.main.namespace(t, false), want)
		return
	}
	p := startSim(t, emulator.ClusterOptions{Name: "solo", LedgerMaxEntries: emulatedLedgerMaxEntries, BatchIndexAck: true})
	checkBatchIndexAck(t, p.a, p.namespace(t, false), want)
}

// TestSubscribeAtEarliestShowsNothingAcked: a consumer subscribing at
// Earliest to a missing durable subscription creates a cursor that, from
// the first internalStats that lists it, has nothing acknowledged
// (ManagedLedgerImpl#asyncOpenCursor initialises the cursor before it is
// visible). subsync creates missing subscriptions this way because the
// admin create is not like this on a real broker: it creates the cursor at
// Latest and resets it afterwards, so for the length of the reset (about
// 160 ms on Pulsar 4.0.7 over 20,000 entries) and for good if the reset
// fails, every entry shows as acknowledged.
func TestSubscribeAtEarliestShowsNothingAcked(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "subscribe-earliest")
	holdEntries(t, c, topic)
	entries := entriesOf(sendPayloads(t, newProducer(t, c, topic), numbered("m", 30)...))
	want := expectCursor(entries, nil)

	type seen struct{ mdp, idm string }
	var observed []seen
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			// Poll until the subscribe has returned and one more read has
			// seen the cursor: the window this test guards is the cursor's
			// first appearance.
			select {
			case <-stop:
				if cs, err := cursorStats(t, c, topic, "s"); err == nil {
					observed = append(observed, seen{cs.MarkDeletePosition, cs.IndividuallyDeletedMessages})
				}
				return
			default:
			}
			if cs, err := cursorStats(t, c, topic, "s"); err == nil {
				observed = append(observed, seen{cs.MarkDeletePosition, cs.IndividuallyDeletedMessages})
			}
		}
	}()
	subscribe(t, c, pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s", Type: pulsar.Shared,
		SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest, EnableZeroQueueConsumer: true,
		AckWithResponse: true})
	close(stop)
	<-done
	if len(observed) == 0 {
		t.Fatal("internalStats never listed the subscription, even after subscribe returned")
	}
	for i, o := range observed {
		if !want.mdpMatches(o.mdp) || o.idm != "[]" {
			t.Fatalf("read %d of %d: cursor markDeletePosition %s individuallyDeletedMessages %s; want %s and [] (nothing acknowledged)",
				i+1, len(observed), o.mdp, o.idm, want.mdp)
		}
	}
	t.Logf("%d reads, all with nothing acknowledged", len(observed))
}
