package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/subsync/subsync/integration/workload"
	"github.com/subsync/subsync/replicator"
)

// takeoverBound is how long a waiting daemon may take to act once the
// daemon holding its cluster's lease has stopped.
const takeoverBound = 30 * time.Second

// TestSecondDaemonWaitsThenTakesOver (issue 8, finding 7): a second daemon
// started beside east while east's daemon runs (a second replica, a
// rollout's new pod) must not act: it neither tails, exports nor applies,
// east's acknowledgements keep reaching west through the first daemon, and
// west never finds east's updates stale. When the first stops, the second
// takes over within takeoverBound and sync goes on: a failover to west
// then loses nothing and delivers nothing acknowledged on east.
func TestSecondDaemonWaitsThenTakesOver(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout+takeoverBound)
	defer cancel()
	topic := e.topicName("lease")
	e.createTopic(ctx, topic, 0, []string{synced}, east, west)
	e.startDaemons()
	first := e.daemon(east)
	e.mustEventually(ctx, "east's daemon acts", func() error { return leaseHeld(first, 1) })

	second := e.startExtraDaemon(east, t.TempDir())
	produced := produceIDs(ctx, t, e.eps[east], topic, ids(0, 300))
	ackFirst := func(id int) bool { return id < 150 && id%10 != 4 }
	onFirst := e.ackAndSync(ctx, t, east, west, 0, ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 2, ShouldAck: ackFirst, Want: countIf(produced, ackFirst), Seed: 81})
	// Synced through the first daemon; the second has run all along,
	// long enough to have tried the lease many times.
	if err := idle(second, topic); err != nil {
		t.Fatalf("while east's first daemon runs, the second acts: %v", err)
	}
	checkNothingStale(t, e.daemon(west))

	stopped := time.Now()
	e.stopDaemon(east)
	if err := eventually(ctx, takeoverBound, func() error { return leaseHeld(second, 1) }); err != nil {
		t.Fatalf("the second daemon did not take over after the first stopped: %v", err)
	}
	t.Logf("the second daemon took over %v after the first stopped", time.Since(stopped).Round(time.Millisecond))
	e.adoptDaemon(second)

	more := produceIDs(ctx, t, e.eps[east], topic, ids(300, 400))
	all := union(produced, more)
	ackedFirst := setOf(onFirst.Acked)
	ackSecond := func(id int) bool { return !ackedFirst[id] && id%3 != 1 }
	onSecond := e.ackAndSync(ctx, t, east, west, 0, ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 2, ShouldAck: ackSecond, Want: countIf(all, ackSecond), Seed: 82})
	checkNothingStale(t, e.daemon(west))

	// The first comes back on its old store, whose streams carry epochs
	// older than the second's: it waits, then takes over again, and west
	// must not find its updates stale (the deaf receiver of finding 7).
	back := e.startExtraDaemon(east, e.dirs[east])
	e.stopDaemon(east)
	if err := eventually(ctx, takeoverBound, func() error { return leaseHeld(back, 1) }); err != nil {
		t.Fatalf("the first daemon, restarted, did not take over again: %v", err)
	}
	e.adoptDaemon(back)
	acked := setOf(union(onFirst.Acked, onSecond.Acked))
	ackBack := func(id int) bool { return !acked[id] && id%5 != 2 }
	onBack := e.ackAndSync(ctx, t, east, west, 0, ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 2, ShouldAck: ackBack, Want: countIf(all, ackBack), Seed: 83})
	checkNothingStale(t, e.daemon(west))

	if err := e.failSite(east); err != nil {
		t.Fatal(err)
	}
	got, err := drain(ctx, e.eps[west], topic, synced, pulsar.Shared, 2)
	if err != nil {
		t.Fatal(err)
	}
	e.checkNoLoss("failover after the takeovers", workload.Account(all, union(onFirst.Acked, onSecond.Acked, onBack.Acked), got.Received), 0)
}

// leaseHeld checks a daemon's lease gauge for the test's namespace.
func leaseHeld(dp *daemonProc, want float64) error {
	v, err := metricValue(dp.metrics, "pulsar_subsync_lease_held", "cluster", dp.cluster)
	if err != nil {
		return err
	}
	if v != want {
		return fmt.Errorf("daemon beside %s: lease_held %v, want %v", dp.cluster, v, want)
	}
	return nil
}

// idle checks that a daemon waits: its lease gauge is 0, it has tailed,
// sent, imported and applied nothing, and it reports no topic.
func idle(dp *daemonProc, topic string) error {
	if err := leaseHeld(dp, 0); err != nil {
		return err
	}
	for _, name := range []string{"tail_entries_total", "updates_sent_total", "acks_imported_total", "acks_applied_total"} {
		v, err := metricValue(dp.metrics, "pulsar_subsync_"+name)
		if err != nil {
			return err
		}
		if v != 0 {
			return fmt.Errorf("%s is %v", name, v)
		}
	}
	if n := len(dp.d.Status(topic).Topics); n != 0 {
		return fmt.Errorf("its status reports %d topics", n)
	}
	rep := dp.d.FailoverCheck(context.Background(), replicator.FailoverOptions{})
	if rep.Ready || len(rep.Namespaces) != 1 || !rep.Namespaces[0].Waiting {
		return fmt.Errorf("its failover check does not say it waits: ready %v, namespaces %+v", rep.Ready, rep.Namespaces)
	}
	return nil
}

// checkNothingStale fails the test when the daemon dropped an update as
// stale: two writers for one cluster show there first.
func checkNothingStale(t *testing.T, dp *daemonProc) {
	t.Helper()
	v, err := metricValue(dp.metrics, "pulsar_subsync_updates_rejected_total", "reason", "stale")
	if err != nil {
		t.Fatal(err)
	}
	if v != 0 {
		t.Errorf("daemon beside %s dropped %v updates as stale", dp.cluster, v)
	}
}
