package contract

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
)

// collect2 reads from two consumers until total messages arrived in all and
// returns what each got.
func collect2(t *testing.T, total int, c0, c1 pulsar.Consumer) [2][]pulsar.Message {
	t.Helper()
	var out [2][]pulsar.Message
	deadline := time.After(waitTimeout)
	for len(out[0])+len(out[1]) < total {
		select {
		case cm := <-c0.Chan():
			out[0] = append(out[0], cm.Message)
		case cm := <-c1.Chan():
			out[1] = append(out[1], cm.Message)
		case <-deadline:
			t.Fatalf("received %d+%d of %d messages", len(out[0]), len(out[1]), total)
		}
	}
	return out
}

// receiveUntilQuiet receives until nothing arrives for quietPeriod.
func receiveUntilQuiet(t *testing.T, cons pulsar.Consumer) []pulsar.Message {
	t.Helper()
	var out []pulsar.Message
	for {
		select {
		case cm := <-cons.Chan():
			out = append(out, cm.Message)
		case <-time.After(quietPeriod):
			return out
		}
	}
}

func distinctPayloads(t *testing.T, groups ...[]pulsar.Message) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	for _, g := range groups {
		for _, m := range g {
			if seen[string(m.Payload())] {
				t.Errorf("%q delivered twice", m.Payload())
			}
			seen[string(m.Payload())] = true
		}
	}
	return seen
}

// TestExclusiveRejectsSecondConsumer: an Exclusive subscription takes one
// consumer; another is refused until the first leaves.
func TestExclusiveRejectsSecondConsumer(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "exclusive")
	opts := pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s", Type: pulsar.Exclusive}
	first := subscribe(t, c, opts)
	if second, err := c.client.Subscribe(opts); err == nil {
		second.Close()
		t.Fatal("a second consumer joined an Exclusive subscription")
	}
	first.Close()
	subscribe(t, c, opts)
}

// TestFailoverStandbyTakesOverOnClose: the standby gets nothing while the
// active consumer lives, then the unacked messages and everything after.
func TestFailoverStandbyTakesOverOnClose(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "failover")
	opts := func(name string) pulsar.ConsumerOptions {
		return pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s", Type: pulsar.Failover,
			Name: name, AckWithResponse: true}
	}
	active := subscribe(t, c, opts("c-1"))
	prod := newProducer(t, c, topic)
	payloads := numbered("m", 10)
	sendPayloads(t, prod, payloads[:5]...)
	msgs := receiveN(t, active, 5)
	ackIndexes(t, active, msgs, 0, 1, 2)

	standby := subscribe(t, c, opts("c-2"))
	expectNoMessage(t, standby)
	active.Close()
	sendPayloads(t, prod, payloads[5:]...)
	if got := payloadsOf(receiveN(t, standby, 7)); !equalStrings(got, payloads[3:]) {
		t.Errorf("standby got %v, want %v", got, payloads[3:])
	}
}

// TestSharedDispatchesRoundRobin: a Shared subscription spreads messages over
// its consumers, each message to one of them.
func TestSharedDispatchesRoundRobin(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "shared")
	opts := pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s", Type: pulsar.Shared}
	c0, c1 := subscribe(t, c, opts), subscribe(t, c, opts)
	const n = 50
	sendPayloads(t, newProducer(t, c, topic), numbered("m", n)...)
	got := collect2(t, n, c0, c1)
	if len(got[0]) == 0 || len(got[1]) == 0 {
		t.Errorf("dispatch was not shared: %d and %d messages", len(got[0]), len(got[1]))
	}
	if seen := distinctPayloads(t, got[0], got[1]); len(seen) != n {
		t.Errorf("%d distinct messages, want %d", len(seen), n)
	}
	expectNoMessage(t, c0)
	expectNoMessage(t, c1)
}

// TestSharedRedeliversUnackedOnConsumerClose: what a closing consumer held
// unacked goes to the remaining consumers.
func TestSharedRedeliversUnackedOnConsumerClose(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "shared-redeliver")
	opts := pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s", Type: pulsar.Shared}
	leaving := subscribe(t, c, opts)
	payloads := numbered("m", 5)
	sendPayloads(t, newProducer(t, c, topic), payloads...)
	receiveN(t, leaving, 5)
	staying := subscribe(t, c, opts)
	expectNoMessage(t, staying)
	leaving.Close()
	if got := sortedCopy(payloadsOf(receiveN(t, staying, 5))); !equalStrings(got, payloads) {
		t.Errorf("redelivered %v, want %v", got, payloads)
	}
}

// TestKeySharedKeepsKeyOnOneConsumer: Key_Shared sends all messages of a key
// to the same consumer, in order.
func TestKeySharedKeepsKeyOnOneConsumer(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "key-shared")
	opts := pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s", Type: pulsar.KeyShared}
	c0, c1 := subscribe(t, c, opts), subscribe(t, c, opts)
	prod := newProducer(t, c, topic)
	const keys, rounds = 32, 3
	for r := range rounds {
		for k := range keys {
			send(t, prod, &pulsar.ProducerMessage{Key: "key-" + strconv.Itoa(k), Payload: []byte("key-" + strconv.Itoa(k) + "/" + strconv.Itoa(r))})
		}
	}
	got := collect2(t, keys*rounds, c0, c1)
	owner := map[string]int{}
	next := map[string]int{}
	for ci, msgs := range got {
		for _, m := range msgs {
			if o, ok := owner[m.Key()]; ok && o != ci {
				t.Errorf("key %s went to both consumers", m.Key())
			}
			owner[m.Key()] = ci
			_, round, _ := strings.Cut(string(m.Payload()), "/")
			if round != strconv.Itoa(next[m.Key()]) {
				t.Errorf("key %s: got round %s, want %d", m.Key(), round, next[m.Key()])
			}
			next[m.Key()]++
		}
	}
	if len(got[0]) == 0 || len(got[1]) == 0 {
		t.Errorf("all %d keys went to one consumer (%d/%d messages)", keys, len(got[0]), len(got[1]))
	}
}

// TestFlowControlRespectsPermits: a consumer is sent no more messages than
// the permits it granted. The slow consumer grants one permit at a time (queue
// size 1, unbuffered channel), so nearly everything goes to the fast one.
func TestFlowControlRespectsPermits(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "flow")
	slow := subscribe(t, c, pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s", Type: pulsar.Shared,
		ReceiverQueueSize: 1, MessageChannel: make(chan pulsar.ConsumerMessage)})
	const n = 20
	sendPayloads(t, newProducer(t, c, topic), numbered("m", n)...)
	// Reading one proves the slow consumer's first permit reached the broker;
	// reading it grants exactly one more.
	slowGot := receiveN(t, slow, 1)

	fast := subscribe(t, c, pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s", Type: pulsar.Shared})
	fastGot := receiveUntilQuiet(t, fast)
	if len(fastGot) < n-2 || len(fastGot) > n-1 {
		t.Fatalf("fast consumer got %d of %d: the slow one, holding 1 permit at a time, was sent %d",
			len(fastGot), n, n-len(fastGot))
	}
	if len(fastGot) == n-2 {
		slowGot = append(slowGot, receiveN(t, slow, 1)...)
	}
	if seen := distinctPayloads(t, slowGot, fastGot); len(seen) != n {
		t.Errorf("%d distinct messages delivered, want %d", len(seen), n)
	}
}

// TestNackRedelivers: a negatively acked message comes back with its
// redelivery count raised.
func TestNackRedelivers(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "nack")
	cons := subscribe(t, c, pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s", Type: pulsar.Shared,
		NackRedeliveryDelay: 100 * time.Millisecond})
	sendPayloads(t, newProducer(t, c, topic), "m-0")
	first := receiveN(t, cons, 1)[0]
	if first.RedeliveryCount() != 0 {
		t.Errorf("first delivery has redelivery count %d", first.RedeliveryCount())
	}
	cons.Nack(first)
	again := receiveN(t, cons, 1)[0]
	if string(again.Payload()) != "m-0" || again.RedeliveryCount() != 1 {
		t.Errorf("after nack got %q with redelivery count %d, want m-0 with 1", again.Payload(), again.RedeliveryCount())
	}
	if err := cons.Ack(again); err != nil {
		t.Fatalf("ack: %v", err)
	}
	expectNoMessage(t, cons)
}

// TestLastFlowStampedByConsumersNotByZeroQueue: a consumer that asks for
// messages stamps its subscription's lastConsumedFlowTimestamp, which stays
// after it leaves; a zero-queue consumer that only acknowledges (subsync's
// acknowledging consumer) never does. subsync tells application consumers
// from its own by it.
func TestLastFlowStampedByConsumersNotByZeroQueue(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "last-flow")
	lastFlow := func(sub string) int64 {
		t.Helper()
		st, err := c.admin.Topics().GetStats(topicName(t, topic))
		if err != nil {
			t.Fatal(err)
		}
		s, ok := st.Subscriptions[sub]
		if !ok {
			t.Fatalf("no subscription %q", sub)
		}
		return s.LastConsumedFlowTimestamp
	}
	zq := subscribe(t, c, pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "quiet", Type: pulsar.Shared,
		EnableZeroQueueConsumer: true, SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest})
	zq.Close()
	if got := lastFlow("quiet"); got != 0 {
		t.Fatalf("a zero-queue consumer that never received stamped lastConsumedFlowTimestamp %d; want 0", got)
	}
	before := time.Now().UnixMilli()
	app := subscribe(t, c, pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "app", Type: pulsar.Shared})
	deadline := time.Now().Add(waitTimeout)
	for lastFlow("app") < before-1000 {
		if time.Now().After(deadline) {
			t.Fatalf("lastConsumedFlowTimestamp %d after a consumer attached at %d", lastFlow("app"), before)
		}
		time.Sleep(50 * time.Millisecond)
	}
	app.Close()
	if got := lastFlow("app"); got < before-1000 {
		t.Fatalf("lastConsumedFlowTimestamp %d after the consumer left; want it kept (>= %d)", got, before-1000)
	}
}
