package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"

	"github.com/subsync/subsync/integration/workload"
	"github.com/subsync/subsync/replicator"
)

// standbyQueue is the receiver queue of the application consumers that
// sit on the standby's subscription during the tests below. What such a
// consumer prefetches before subsync applies east's acknowledgements is
// delivered to it whatever the cursor says: its receiver queue, plus the
// fixed 10-message channel pulsar-client-go v0.19.0 puts between the
// partition consumer and the application (consumer_impl.go, messageCh),
// plus the one message its dispatcher holds in hand.
const (
	standbyQueue    = 10
	standbyPrefetch = standbyQueue + 10 + 1
)

// TestStandbySharedConsumerAttached: an application's Shared consumer is
// attached to west's subscription the whole time (prefetching, not yet
// processing). subsync acknowledges beside it (Shared admits an extra
// consumer), so nothing is deferred; after the failover that consumer
// gets every message east did not acknowledge, and at most what it had
// prefetched before the sync again.
func TestStandbySharedConsumerAttached(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	topic := e.topicName("standby-shared")
	e.createTopic(ctx, topic, 0, []string{synced}, east, west)
	standbyApp, err := e.eps[west].Client.Subscribe(pulsar.ConsumerOptions{Topic: topic, SubscriptionName: synced,
		Name: "standby-app", Type: pulsar.Shared, ReceiverQueueSize: standbyQueue, AckWithResponse: true})
	if err != nil {
		t.Fatal(err)
	}
	defer standbyApp.Close()
	e.startDaemons()

	produced := produceIDs(ctx, t, e.eps[east], topic, ids(0, 300))
	ackEast := func(id int) bool { return id < 240 && id%8 != 5 }
	onEast := e.ackAndSync(ctx, t, east, west, 0, ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 3, ShouldAck: ackEast, Want: countIf(produced, ackEast), Seed: 81})
	if names := consumerNames(t, e.eps[west], topic, synced); len(names) != 1 || names[0] != "standby-app" {
		t.Fatalf("west's subscription has consumers %v; want the application's alone, still attached", names)
	}
	// The counters move just after the cursor does.
	err = eventually(ctx, 3*time.Second, func() error {
		m := e.daemon(west).metrics
		applied, err := metricValue(m, "pulsar_subsync_acks_applied_total", "topic", topic, "subscription", synced)
		if err != nil {
			return err
		}
		deferrals, err := metricValue(m, "pulsar_subsync_acks_deferred_total", "topic", topic, "subscription", synced)
		if err != nil {
			return err
		}
		if int(applied) != len(onEast.Acked) || deferrals != 0 {
			return fmt.Errorf("west's daemon applied %v acknowledgements (want %d) and deferred %v times (want 0) beside a Shared consumer",
				applied, len(onEast.Acked), deferrals)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}

	if err := e.failSite(east); err != nil {
		t.Fatal(err)
	}
	got := receiveAll(ctx, t, standbyApp, e.eps[west], topic, synced)
	a := workload.Account(produced, onEast.Acked, got)
	e.checkNoLoss("shared consumer on the standby", a, standbyPrefetch)
	// It was attached before anything was produced: only the first
	// messages can have been prefetched.
	for _, id := range a.DuplicateIDs {
		if id >= standbyPrefetch {
			t.Errorf("duplicate %d is not among the %d messages the standby's consumer could prefetch", id, standbyPrefetch)
		}
	}
}

// TestStandbyExclusiveConsumerDefers: an application's Exclusive consumer
// holds west's subscription, so subsync cannot acknowledge there: the apply
// is deferred and said so in west's status and metrics, east's failover
// check says not ready and counts exactly the acknowledgements west lacks,
// and west's cursor is left untouched. Once the consumer leaves, the
// acknowledgements are applied, the reports say ready, and a failover
// delivers exactly what east did not acknowledge. East keeps an idle
// application consumer attached throughout: with consumers on both
// clusters each takes the other's acknowledgements in (union); were east
// left without any, west, where consumers are, would own the subscription
// and east would mirror it (design brief, "Who owns a subscription's
// state").
func TestStandbyExclusiveConsumerDefers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	topic := e.topicName("standby-exclusive")
	e.createTopic(ctx, topic, 0, []string{synced}, east, west)
	standbyApp, err := e.eps[west].Client.Subscribe(pulsar.ConsumerOptions{Topic: topic, SubscriptionName: synced,
		Name: "standby-app", Type: pulsar.Exclusive, ReceiverQueueSize: standbyQueue})
	if err != nil {
		t.Fatal(err)
	}
	// Zero-queue: it takes no message from the acknowledging consumers.
	eastIdle, err := e.eps[east].Client.Subscribe(pulsar.ConsumerOptions{Topic: topic, SubscriptionName: synced,
		Name: "east-idle", Type: pulsar.Shared, EnableZeroQueueConsumer: true})
	if err != nil {
		t.Fatal(err)
	}
	defer eastIdle.Close()
	e.startDaemons()

	produced := produceIDs(ctx, t, e.eps[east], topic, ids(0, 200))
	ackEast := func(id int) bool { return id < 150 && id%6 != 1 }
	onEast, err := runAckPhase(ctx, e.eps[east], ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 2, ShouldAck: ackEast, Want: countIf(produced, ackEast), Seed: 82})
	if err != nil {
		t.Fatal(err)
	}
	acked := int64(len(onEast.Acked))
	wd, ed := e.daemon(west), e.daemon(east)
	e.mustEventually(ctx, "east's failover check counts what west lacks", func() error {
		return failoverNotReady(ed, topic, synced, acked)
	})
	e.mustEventually(ctx, "west reports the apply deferred", func() error { return deferredReported(wd, topic, synced) })
	// What is pending must be counted as such while deferred.
	if err := eventually(ctx, 5*time.Second, func() error { return deferredCounted(wd, topic, synced, acked) }); err != nil {
		t.Errorf("west while deferred: %v", err)
	}
	if b, err := workload.Backlog(ctx, e.eps[west], topic, synced); err != nil || b != int64(len(produced)) {
		t.Errorf("west's backlog is %d (%v) while deferred; subsync must not acknowledge beside an Exclusive consumer (want %d)",
			b, err, len(produced))
	}

	standbyApp.Close()
	if err := e.waitSynced(ctx, east, west, topic, 0, synced); err != nil {
		t.Fatal(err)
	}
	st, _ := remoteStatuses(wd.d.Status(topic), topic, synced, east)
	if st.Deferred || st.RemoteAckedNotAppliedHere != 0 {
		t.Errorf("west's status after the consumer left: deferred %v (%s), %d not applied", st.Deferred, st.DeferReason, st.RemoteAckedNotAppliedHere)
	}
	if v, err := metricValue(wd.metrics, "pulsar_subsync_deferred", "topic", topic, "subscription", synced); err != nil || v != 0 {
		t.Errorf("west's deferred gauge is %v (%v) after the apply, want 0", v, err)
	}
	fc := ed.d.FailoverCheck(context.Background(), replicator.FailoverOptions{})
	for _, f := range failoverEntries(fc, topic, synced, west) {
		if !f.Ready || f.NotAckedOnStandby != 0 {
			t.Errorf("east's failover check after the apply: ready %v, %d not acknowledged on west (%s)", f.Ready, f.NotAckedOnStandby, f.Reason)
		}
	}

	if err := e.failSite(east); err != nil {
		t.Fatal(err)
	}
	got, err := drain(ctx, e.eps[west], topic, synced, pulsar.Exclusive, 1)
	if err != nil {
		t.Fatal(err)
	}
	e.checkNoLoss("exclusive consumer on the standby", workload.Account(produced, onEast.Acked, got.Received), 0)
}

// deferredReported checks west's status and metrics while an Exclusive
// consumer holds the subscription: deferred, with a reason naming it.
func deferredReported(wd *daemonProc, topic, sub string) error {
	st, n := remoteStatuses(wd.d.Status(topic), topic, sub, east)
	if n != 1 {
		return fmt.Errorf("west's status lists %s/%s towards east %d times", topic, sub, n)
	}
	if !st.Deferred || !strings.Contains(st.DeferReason, "Exclusive") {
		return fmt.Errorf("west's status: deferred %v, reason %q; want deferred because of the Exclusive consumer", st.Deferred, st.DeferReason)
	}
	gauge, err := metricValue(wd.metrics, "pulsar_subsync_deferred", "topic", topic, "subscription", sub, "remote_cluster", east)
	if err != nil {
		return err
	}
	count, err := metricValue(wd.metrics, "pulsar_subsync_acks_deferred_total", "topic", topic, "subscription", sub, "remote_cluster", east)
	if err != nil {
		return err
	}
	if gauge != 1 || count < 1 {
		return fmt.Errorf("west's metrics: deferred gauge %v (want 1), deferrals %v (want >= 1)", gauge, count)
	}
	return nil
}

// deferredCounted: while deferred, every one of east's acknowledgements
// is received, indexed and not applied on west, and the status and the
// sync-lag metric say so.
func deferredCounted(wd *daemonProc, topic, sub string, acked int64) error {
	st, _ := remoteStatuses(wd.d.Status(topic), topic, sub, east)
	lag, err := metricValue(wd.metrics, "pulsar_subsync_sync_lag_entries", "topic", topic, "subscription", sub, "remote_cluster", east)
	if err != nil {
		return err
	}
	if st.RemoteAckedNotAppliedHere != acked || int64(lag) != acked {
		return fmt.Errorf("status remoteAckedNotAppliedHere %d, metric sync_lag_entries %v; want both %d (deferred %v, %q)",
			st.RemoteAckedNotAppliedHere, lag, acked, st.Deferred, st.DeferReason)
	}
	return nil
}

// failoverNotReady checks east's failover check and status while west
// lacks acked acknowledgements: not ready, the same count in both.
func failoverNotReady(ed *daemonProc, topic, sub string, acked int64) error {
	fc := ed.d.FailoverCheck(context.Background(), replicator.FailoverOptions{})
	fs := failoverEntries(fc, topic, sub, west)
	if len(fs) != 1 {
		return fmt.Errorf("east's failover check lists %s/%s towards west %d times", topic, sub, len(fs))
	}
	f := fs[0]
	st, _ := remoteStatuses(ed.d.Status(topic), topic, sub, west)
	switch {
	case fc.Ready || f.Ready:
		return fmt.Errorf("east's failover check says ready (overall %v, %s: %v) with acknowledgements missing on west", fc.Ready, sub, f.Ready)
	case f.NotAckedOnStandby != acked || st.LocalAckedNotAckedThere != acked:
		return fmt.Errorf("east: failover check counts %d not acknowledged on west, status %d; want %d",
			f.NotAckedOnStandby, st.LocalAckedNotAckedThere, acked)
	case !strings.Contains(f.Reason, fmt.Sprintf("%d acknowledged here", acked)):
		return fmt.Errorf("east's failover check reason %q does not give the count", f.Reason)
	}
	return nil
}

// consumerNames lists the consumers attached to sub on ep.
func consumerNames(t *testing.T, ep *workload.Endpoint, topic, sub string) []string {
	t.Helper()
	tn, err := utils.GetTopicName(topic)
	if err != nil {
		t.Fatal(err)
	}
	st, err := ep.Admin.Topics().GetStats(*tn)
	if err != nil {
		t.Fatalf("stats of %s on %s: %v", topic, ep.Name, err)
	}
	var out []string
	for _, c := range st.Subscriptions[sub].Consumers {
		out = append(out, c.ConsumerName)
	}
	return out
}

// receiveAll has c receive and acknowledge until the subscription is
// quiet with an empty backlog; it returns every delivered id.
func receiveAll(ctx context.Context, t *testing.T, c pulsar.Consumer, ep *workload.Endpoint, topic, sub string) []int {
	t.Helper()
	var got []int
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	for {
		rctx, rcancel := context.WithTimeout(ctx, 300*time.Millisecond)
		m, err := c.Receive(rctx)
		rcancel()
		if err == nil {
			if id, perr := workload.ParseID(m.Payload()); perr == nil {
				got = append(got, id)
			}
			if err := c.Ack(m); err != nil {
				t.Fatalf("acknowledging on %s: %v", ep.Name, err)
			}
			continue
		}
		if ctx.Err() != nil {
			t.Fatalf("%s/%s on %s not drained: %v", topic, sub, ep.Name, ctx.Err())
		}
		if b, err := workload.Backlog(ctx, ep, topic, sub); err == nil && b == 0 {
			return got
		}
	}
}
