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

// TestFailoverCheckTracksPendingAcks: with the link from east to west
// paused, acknowledgements made on east cannot reach west: east's failover
// check says not ready and counts exactly them, as its status does; once
// the link is back it says ready with nothing missing, and a failover
// costs nothing.
func TestFailoverCheckTracksPendingAcks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	topic := e.topicName("failover-check")
	e.createTopic(ctx, topic, 0, []string{synced}, east, west)
	e.startDaemons()

	produced := produceIDs(ctx, t, e.eps[east], topic, ids(0, 120))
	ackBefore := func(id int) bool { return id < 60 && id%4 != 0 }
	first := e.ackAndSync(ctx, t, east, west, 0, ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 2, ShouldAck: ackBefore, Want: countIf(produced, ackBefore), Seed: 111})
	checkReady(t, e.daemon(east), topic, synced)

	if err := e.bed.pauseLink(east, west); err != nil {
		t.Fatal(err)
	}
	ackPaused := func(id int) bool { return id >= 60 && id < 100 && id%4 != 0 }
	second, err := runAckPhase(ctx, e.eps[east], ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 2, ShouldAck: ackPaused, Want: countIf(produced, ackPaused), Seed: 112})
	if err != nil {
		t.Fatal(err)
	}
	e.mustEventually(ctx, "east's failover check counts the acknowledgements held up by the paused link", func() error {
		return notAckedOnStandby(e.daemon(east), topic, synced, int64(len(second.Acked)))
	})
	if st, _ := remoteStatuses(e.daemon(west).d.Status(topic), topic, synced, east); st.RemoteAckedNotAppliedHere != 0 {
		t.Errorf("west's status counts %d acknowledgements not applied; it cannot have received any", st.RemoteAckedNotAppliedHere)
	}

	if err := e.bed.resumeLink(east, west); err != nil {
		t.Fatal(err)
	}
	if err := e.waitSynced(ctx, east, west, topic, 0, synced); err != nil {
		t.Fatal(err)
	}
	checkReady(t, e.daemon(east), topic, synced)
	if err := e.failSite(east); err != nil {
		t.Fatal(err)
	}
	got, err := drain(ctx, e.eps[west], topic, synced, pulsar.Shared, 2)
	if err != nil {
		t.Fatal(err)
	}
	e.checkNoLoss("after the paused link", workload.Account(produced, union(first.Acked, second.Acked), got.Received), 0)
}

// TestFailoverCheckSeesUnreplicatedEntries: with the link from east to
// west paused, entries produced on east do not reach west, and the
// snapshot requests that would measure it go unanswered. A failover now
// would leave those entries behind on east, so east's failover check must
// not say ready on the strength of the last snapshot answered before the
// pause.
func TestFailoverCheckSeesUnreplicatedEntries(t *testing.T) {
	t.Parallel()
	const snapshotTimeout = 2 * time.Second
	e := newEnv(t, envOptions{SnapshotTimeout: snapshotTimeout})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	topic := e.topicName("unreplicated")
	e.createTopic(ctx, topic, 0, []string{synced}, east, west)
	e.startDaemons()

	before := produceIDs(ctx, t, e.eps[east], topic, ids(0, 60))
	ack := func(id int) bool { return id < 40 && id%3 != 0 }
	acked := e.ackAndSync(ctx, t, east, west, 0, ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 1, ShouldAck: ack, Want: countIf(before, ack), Seed: 121})

	if err := e.bed.pauseLink(east, west); err != nil {
		t.Fatal(err)
	}
	const unreplicated = 50
	during := produceIDs(ctx, t, e.eps[east], topic, ids(60, 60+unreplicated))
	// Long enough for requests sent after the pause to time out twice.
	err := eventually(ctx, 4*snapshotTimeout, func() error {
		ed := e.daemon(east)
		fs := failoverEntries(ed.d.FailoverCheck(context.Background(), replicator.FailoverOptions{}), topic, synced, west)
		if len(fs) != 1 {
			return fmt.Errorf("failover check lists %s/%s towards west %d times", topic, synced, len(fs))
		}
		if fs[0].Ready {
			timeouts, _ := metricValue(ed.metrics, "pulsar_subsync_snapshot_timeouts_total", "remote_cluster", west)
			return fmt.Errorf("east's failover check says ready (replication lag %d entries) while %d entries have not reached west "+
				"and %v snapshot requests to west went unanswered", fs[0].ReplicationLagEntries, unreplicated, timeouts)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}

	if err := e.bed.resumeLink(east, west); err != nil {
		t.Fatal(err)
	}
	if err := e.waitSynced(ctx, east, west, topic, 0, synced); err != nil {
		t.Fatal(err)
	}
	if err := e.failSite(east); err != nil {
		t.Fatal(err)
	}
	got, err := drain(ctx, e.eps[west], topic, synced, pulsar.Shared, 1)
	if err != nil {
		t.Fatal(err)
	}
	e.checkNoLoss("after the paused link", workload.Account(union(before, during), acked.Acked, got.Received), 0)
}

// checkReady: east's failover check says ready towards west for sub with
// nothing missing and no replication lag, and the status agrees.
func checkReady(t *testing.T, ed *daemonProc, topic, sub string) {
	t.Helper()
	fs := failoverEntries(ed.d.FailoverCheck(context.Background(), replicator.FailoverOptions{}), topic, sub, west)
	st, _ := remoteStatuses(ed.d.Status(topic), topic, sub, west)
	if len(fs) != 1 || !fs[0].Ready || fs[0].NotAckedOnStandby != 0 || fs[0].ReplicationLagEntries != 0 || st.LocalAckedNotAckedThere != 0 {
		t.Errorf("east once synced: failover check %+v, status %d not acknowledged on west; want ready with 0 and 0",
			fs, st.LocalAckedNotAckedThere)
	}
}
