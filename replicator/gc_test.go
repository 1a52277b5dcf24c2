package replicator

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
)

// TestIndexIsPrunedAndSyncGoesOn: once every subscription here and on
// the remote has acknowledged a stretch, both daemons prune it from their
// tail index, and the sync of later acknowledgements is unaffected.
func TestIndexIsPrunedAndSyncGoesOn(t *testing.T) {
	p := newPair(t)
	topic := "persistent://" + p.ns + "/gc"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	east := p.clients["east"]
	cons, err := east.Subscribe(pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "billing", Type: pulsar.Shared,
		SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest, AckWithResponse: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	p.startDaemon(t, "east")
	p.startDaemon(t, "west")
	prod, err := east.CreateProducer(pulsar.ProducerOptions{Topic: topic, DisableBatching: true})
	if err != nil {
		t.Fatal(err)
	}
	send := func(from, to int) {
		for i := from; i < to; i++ {
			if _, err := prod.Send(ctx, &pulsar.ProducerMessage{Payload: []byte(strconv.Itoa(i))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(0, 120)
	for i := 0; i < 120; i++ {
		m, err := cons.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := cons.Ack(m); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []string{"east", "west"} {
		eventually(t, 20*time.Second, c+" prunes its whole index", func() error {
			st := p.daemons[c].Status(topic)
			if len(st.Topics) != 1 {
				return fmt.Errorf("%d topics in status", len(st.Topics))
			}
			if n := st.Topics[0].IndexRuns; n != 0 {
				return fmt.Errorf("%d runs left", n)
			}
			return nil
		})
	}
	// Later acknowledgements, with holes, still reach the standby exactly.
	send(120, 200)
	held := consumeHolding(ctx, t, cons, 80, func(i int) bool { return i%7 == 0 })
	cons.Close()
	failoverExpectingOnly(ctx, t, p, topic, "billing", held)
}
