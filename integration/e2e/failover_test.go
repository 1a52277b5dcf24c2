package e2e

import (
	"context"
	"slices"
	"testing"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/subsync/subsync/integration/workload"
)

// TestFailoverThenFailback: consume part on east, fail over to west
// (producers too), consume and acknowledge part there, bring east back and
// fail back once the daemons have synced west's acknowledgements to east.
// Neither switch may lose a message or deliver one acknowledged on the
// other side.
func TestFailoverThenFailback(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	topic := e.topicName("failback")
	e.createTopic(ctx, topic, 0, []string{synced}, east, west)
	e.startDaemons()

	// East: 300 messages; the first 150 processed, one in ten held.
	producedEast := produceIDs(ctx, t, e.eps[east], topic, ids(0, 300))
	ackEast := func(id int) bool { return id < 150 && id%10 != 3 }
	onEast := e.ackAndSync(ctx, t, east, west, 0, ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 3, ShouldAck: ackEast, Want: countIf(producedEast, ackEast), Seed: 61})

	// Failover: east fails, producers and consumers move to west. West's
	// consumers acknowledge three in four of what they get, east's held
	// messages and west's own included.
	if err := e.failSite(east); err != nil {
		t.Fatal(err)
	}
	producedWest := produceIDs(ctx, t, e.eps[west], topic, ids(300, 400))
	ackedOnEast := setOf(onEast.Acked)
	ackWest := func(id int) bool { return !ackedOnEast[id] && id%4 != 1 }
	all := union(producedEast, producedWest)
	onWest, err := runAckPhase(ctx, e.eps[west], ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 3, ShouldAck: ackWest, Want: countIf(all, ackWest), Seed: 62})
	if err != nil {
		t.Fatal(err)
	}
	failoverDups := intersect(onWest.Delivered, onEast.Acked)
	t.Logf("failover: west delivered %d messages, %d of them acknowledged on east", len(onWest.Delivered), len(failoverDups))
	if len(failoverDups) != 0 {
		t.Errorf("failover: west delivered %d messages acknowledged on east: %v", len(failoverDups), firstN(failoverDups, 40))
	}

	// Failback: east returns; once west's acknowledgements are applied
	// there, consumers move back and drain it.
	if err := e.recoverSite(east); err != nil {
		t.Fatal(err)
	}
	if err := e.waitSynced(ctx, west, east, topic, 0, synced); err != nil {
		t.Fatal(err)
	}
	back, err := drain(ctx, e.eps[east], topic, synced, pulsar.Shared, 3)
	if err != nil {
		t.Fatal(err)
	}
	acked := union(onEast.Acked, onWest.Acked)
	e.checkNoLoss("failback", workload.Account(all, acked, back.Received), 0)
	if len(onWest.Acked) == 0 || !slices.ContainsFunc(onWest.Acked, func(id int) bool { return id >= 300 }) {
		t.Errorf("west acknowledged %d messages, none of its own: the failback did not test west-origin entries", len(onWest.Acked))
	}
}

func countIf(xs []int, f func(int) bool) int {
	n := 0
	for _, x := range xs {
		if f(x) {
			n++
		}
	}
	return n
}

func setOf(xs []int) map[int]bool {
	s := make(map[int]bool, len(xs))
	for _, x := range xs {
		s[x] = true
	}
	return s
}

// intersect lists the distinct elements of a that are in b, increasing.
func intersect(a, b []int) []int {
	in := setOf(b)
	var out []int
	for _, x := range a {
		if in[x] {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
