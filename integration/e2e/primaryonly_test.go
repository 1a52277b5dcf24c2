package e2e

import (
	"context"
	"testing"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/subsync/subsync/integration/workload"
)

// TestSubscriptionOnlyOnPrimary: the topic and its subscription are
// created on east only; geo-replication creates west's copy of the topic,
// and subsync must create the subscription on west with east's
// acknowledgements (a subscription created on west at failover time would
// start from the earliest or the latest message: duplicates or loss).
func TestSubscriptionOnlyOnPrimary(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	topic := e.topicName("primary-only")
	e.noteTopic(topic)
	if e.bed.real() {
		// A real broker deletes every ledger of a topic but the open one as
		// soon as no cursor holds it (zero retention, Pulsar's default):
		// west's copy would be gone before subsync learns of the
		// subscription. Operators who fail over keep retention on
		// replicated namespaces; so does this test.
		e.keepRetention(ctx, west)
	}
	if err := workload.CreateTopic(ctx, topic, 0, e.eps[east]); err != nil {
		t.Fatal(err)
	}
	if err := workload.CreateSubscription(ctx, topic, synced, e.eps[east]); err != nil {
		t.Fatal(err)
	}
	e.startDaemons()
	produced := produceIDs(ctx, t, e.eps[east], topic, ids(0, 300))
	ackEast := func(id int) bool { return id < 230 && id%9 != 4 }
	onEast := e.ackAndSync(ctx, t, east, west, 0, ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 2, ShouldAck: ackEast, Want: countIf(produced, ackEast), Seed: 71})
	c, err := cursorOf(e.eps[west], topic, synced)
	if err != nil {
		t.Fatalf("the subscription was not created on west: %v", err)
	}
	t.Logf("west's cursor: mark-delete %s, individually deleted %s", c.MarkDeletePosition, c.IndividuallyDeletedMessages)

	if err := e.failSite(east); err != nil {
		t.Fatal(err)
	}
	got, err := drain(ctx, e.eps[west], topic, synced, pulsar.Shared, 2)
	if err != nil {
		t.Fatal(err)
	}
	e.checkNoLoss("primary-only subscription", workload.Account(produced, onEast.Acked, got.Received), 0)
}
