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

// TestBothClustersProduce: producers write to the topic on both clusters
// at once, so each copy interleaves its own entries with the other's
// replicated ones in a different order. East's consumers acknowledge
// entries of both origins; west must map east's acknowledgements of
// west-origin entries back onto its own entries.
func TestBothClustersProduce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{LedgerMaxEntries: 40})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	topic := e.topicName("both-produce")
	e.createTopic(ctx, topic, 0, []string{synced}, east, west)
	e.startDaemons()

	var fromWest []int
	var westErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		fromWest, westErr = produce(ctx, e.eps[west], topic, ids(200, 400), nil)
	}()
	fromEast := produceIDs(ctx, t, e.eps[east], topic, ids(0, 200))
	<-done
	if westErr != nil {
		t.Fatal(westErr)
	}
	produced := union(fromEast, fromWest)
	ack := func(id int) bool { return id%100 < 80 && id%6 != 1 }
	onEast := e.ackAndSync(ctx, t, east, west, 0, ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 3, ShouldAck: ack, Want: countIf(produced, ack), Seed: 131})
	if err := e.failSite(east); err != nil {
		t.Fatal(err)
	}
	got, err := drain(ctx, e.eps[west], topic, synced, pulsar.Shared, 2)
	if err != nil {
		t.Fatal(err)
	}
	e.checkNoLoss("both clusters produce", workload.Account(produced, onEast.Acked, got.Received), 0)
}

// TestMessagesNotReplicated: one message in three (the last one included)
// is produced on east with replication clusters [east] only, so west's
// copy lacks it and the origin positions of east's entries on west have
// gaps. East acknowledges every such message and holds the replicated
// message right after each; a mapping that closed the gaps would
// acknowledge those on west (loss). Once west has applied everything it
// can, east's failover check must say ready: the east-only messages are
// never delivered on west, so they cost no duplicate after a failover.
func TestMessagesNotReplicated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	topic := e.topicName("partly-replicated")
	e.createTopic(ctx, topic, 0, []string{synced}, east, west)
	e.startDaemons()

	localOnly := func(id int) bool { return id%3 == 1 }
	produced := produceWith(ctx, t, e.eps[east], topic, ids(0, 242), func(id int, m *pulsar.ProducerMessage) {
		if localOnly(id) {
			m.ReplicationClusters = []string{east}
		}
	})
	ack := func(id int) bool { return localOnly(id) || id < 200 && !localOnly(id-1) }
	onEast, err := runAckPhase(ctx, e.eps[east], ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 2, ShouldAck: ack, Want: countIf(produced, ack), Seed: 141})
	if err != nil {
		t.Fatal(err)
	}
	replicated := countIf(produced, func(id int) bool { return !localOnly(id) })
	if n := topicEntries(t, e.eps[west], topic); n != int64(replicated) {
		t.Fatalf("west has %d entries, want the %d replicated ones: the replication clusters were not honoured", n, replicated)
	}
	// West's backlog cannot equal east's (west lacks east-only messages):
	// wait for west's own view and its exact backlog.
	want := int64(countIf(produced, func(id int) bool { return !localOnly(id) && !ack(id) }))
	e.mustEventually(ctx, "west applies everything it has", func() error {
		st, n := remoteStatuses(e.daemon(west).d.Status(topic), topic, synced, east)
		if n != 1 || st.RemoteAckedNotAppliedHere != 0 || st.Deferred {
			return fmt.Errorf("west's status: %d partitions, %d not applied, deferred %v", n, st.RemoteAckedNotAppliedHere, st.Deferred)
		}
		b, err := workload.Backlog(ctx, e.eps[west], topic, synced)
		if err != nil {
			return err
		}
		if b != want {
			return fmt.Errorf("west's backlog is %d, want %d", b, want)
		}
		return nil
	})
	// West now has every acknowledgement it can have: the east-only
	// messages will never be delivered there, so they cost no duplicate
	// and must not keep east's failover check from saying ready.
	err = eventually(ctx, 3*time.Second, func() error {
		return failoverReady(e.daemon(east).d.FailoverCheck(context.Background(), replicator.FailoverOptions{}), topic, 0, synced, west)
	})
	if err != nil {
		locallyAcked := countIf(onEast.Acked, localOnly)
		t.Errorf("east once west has everything it can have: %v (east acknowledged %d messages that were never replicated to west)",
			err, locallyAcked)
	}
	if err := e.failSite(east); err != nil {
		t.Fatal(err)
	}
	got, err := drain(ctx, e.eps[west], topic, synced, pulsar.Shared, 2)
	if err != nil {
		t.Fatal(err)
	}
	// East-only messages never reach west: every one of them is acked on
	// east, so none may count as lost.
	e.checkNoLoss("partly replicated", workload.Account(produced, onEast.Acked, got.Received), 0)
}

// TestResetCursorCatchUp: west's daemon starts only after east has
// acknowledged a long stretch in order, so west's cursor must jump far
// forward with no consumer attached; with a low reset threshold the
// daemon resets the cursor across ledger boundaries and re-applies the
// acknowledgements above it.
func TestResetCursorCatchUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{LedgerMaxEntries: 50, ResetThreshold: 20})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	topic := e.topicName("reset")
	e.createTopic(ctx, topic, 0, []string{synced}, east, west)
	e.startDaemon(east)

	produced := produceIDs(ctx, t, e.eps[east], topic, ids(0, 300))
	held := map[int]bool{137: true, 171: true, 172: true, 230: true}
	ack := func(id int) bool { return id < 260 && !held[id] }
	onEast, err := runAckPhase(ctx, e.eps[east], ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 1, ShouldAck: ack, Want: countIf(produced, ack), Seed: 151})
	if err != nil {
		t.Fatal(err)
	}
	e.startDaemon(west)
	if err := e.waitSynced(ctx, east, west, topic, 0, synced); err != nil {
		t.Fatal(err)
	}
	wd := e.daemon(west)
	if err := e.failSite(east); err != nil {
		t.Fatal(err)
	}
	got, err := drain(ctx, e.eps[west], topic, synced, pulsar.Shared, 1)
	if err != nil {
		t.Fatal(err)
	}
	e.checkNoLoss("reset cursor", workload.Account(produced, onEast.Acked, got.Received), 0)
	// Read after the failover, when every apply is long done.
	applied := mustMetric(t, wd.metrics, "pulsar_subsync_acks_applied_total", "topic", topic, "subscription", synced)
	t.Logf("west acknowledged %v entries individually for the %d acknowledged on east", applied, len(onEast.Acked))
	if int(applied) >= len(onEast.Acked)-100 {
		t.Errorf("west acknowledged %v of %d entries individually: the reset did not cover the stretch before the first hole",
			applied, len(onEast.Acked))
	}
}

// TestWithoutSourcePositionStamps: a Pulsar older than 3.0.11 writes no
// source-position stamp on replicated copies. Then west cannot tell which
// of its entries east acknowledged, and must acknowledge none of them:
// everything comes back after the failover (duplicates), nothing is lost.
func TestWithoutSourcePositionStamps(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{NoSourcePositionStamp: true})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	topic := e.topicName("no-stamp")
	e.createTopic(ctx, topic, 0, []string{synced}, east, west)
	e.startDaemons()
	produced := produceIDs(ctx, t, e.eps[east], topic, ids(0, 150))
	ack := func(id int) bool { return id < 120 && id%5 != 0 }
	onEast, err := runAckPhase(ctx, e.eps[east], ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 2, ShouldAck: ack, Want: countIf(produced, ack), Seed: 161})
	if err != nil {
		t.Fatal(err)
	}
	// West has had its chance once its tail has been through every entry
	// and it has heard east's acknowledgements; every entry must then be
	// left out of its index.
	wd := e.daemon(west)
	e.mustEventually(ctx, "west leaves every unstamped entry unmapped and hears from east", func() error {
		unmapped, err := metricValue(wd.metrics, "pulsar_subsync_tail_unmapped_total", "topic", topic)
		if err != nil {
			return err
		}
		imported, err := metricValue(wd.metrics, "pulsar_subsync_acks_imported_total", "topic", topic, "subscription", synced)
		if err != nil {
			return err
		}
		if int(unmapped) != len(produced) || int(imported) < len(onEast.Acked) {
			return fmt.Errorf("west's tail left %v of %d entries unmapped, %v of %d acknowledgements imported",
				unmapped, len(produced), imported, len(onEast.Acked))
		}
		return nil
	})
	if applied := mustMetric(t, wd.metrics, "pulsar_subsync_acks_applied_total", "topic", topic, "subscription", synced); applied != 0 {
		t.Errorf("west applied %v acknowledgements to entries it cannot identify", applied)
	}
	if b, err := workload.Backlog(ctx, e.eps[west], topic, synced); err != nil || b != int64(len(produced)) {
		t.Errorf("west's backlog is %d (%v), want all %d: nothing may be acknowledged there", b, err, len(produced))
	}
	if err := e.failSite(east); err != nil {
		t.Fatal(err)
	}
	got, err := drain(ctx, e.eps[west], topic, synced, pulsar.Shared, 2)
	if err != nil {
		t.Fatal(err)
	}
	a := workload.Account(produced, onEast.Acked, got.Received)
	e.checkNoLoss("without stamps", a, a.AckedOnPrimary)
}
