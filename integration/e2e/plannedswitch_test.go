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

// TestPlannedSwitchOutOfPhase follows the runbook's planned switch with
// the two daemons' export ticks out of phase, as in any real deployment
// (west's daemon starts half an export interval after east's), and an
// export interval long enough (500 ms) that the consumers' last
// acknowledgements are well inside one: consumers stop on east, east's
// failover check is asked until it says ready, and the consumers move to
// west at once. West must deliver nothing east acknowledged and lose
// nothing. Before that, a first round checks that once ready, the check
// stays ready while nothing more is acknowledged.
func TestPlannedSwitchOutOfPhase(t *testing.T) {
	t.Parallel()
	const exportInterval = 500 * time.Millisecond
	e := newEnv(t, envOptions{ExportInterval: exportInterval})
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	topic := e.topicName("planned-switch")
	e.createTopic(ctx, topic, 0, []string{synced}, east, west)
	e.startDaemon(east)
	time.Sleep(exportInterval / 2)
	e.startDaemon(west)

	produced := produceIDs(ctx, t, e.eps[east], topic, ids(0, 3000))

	// First round: consumers work, stop; ready, and it stays so.
	ackFirst := func(id int) bool { return id < 1000 && id%10 != 7 }
	first, err := runAckPhase(ctx, e.eps[east], ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 3, ShouldAck: ackFirst, Want: countIf(produced, ackFirst), Seed: 201})
	if err != nil {
		t.Fatal(err)
	}
	e.untilFailoverReady(ctx, topic, "first round")
	for end := time.Now().Add(4 * exportInterval); time.Now().Before(end); {
		if err := failoverCheckReady(ctx, e.daemon(east), topic); err != nil {
			t.Fatalf("first round: ready once, then not, with nothing more acknowledged: %v", err)
		}
	}

	// Second round: consumers work until the moment they stop; the switch
	// follows the first ready answer at once.
	ackSecond := func(id int) bool { return id < 2600 && id%10 != 7 }
	second, err := runAckPhase(ctx, e.eps[east], ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 3, ShouldAck: ackSecond, Want: countIf(produced, ackSecond) - len(first.Acked), Seed: 202})
	if err != nil {
		t.Fatal(err)
	}
	e.untilFailoverReady(ctx, topic, "second round")
	got, err := drain(ctx, e.eps[west], topic, synced, pulsar.Shared, 3)
	if err != nil {
		t.Fatal(err)
	}
	e.checkNoLoss("planned switch at the first ready answer", workload.Account(produced, union(first.Acked, second.Acked), got.Received), 0)
}

// untilFailoverReady asks east's failover check, as the runbook's loop
// does but without its pause, until it says ready, and logs how it went.
func (e *env) untilFailoverReady(ctx context.Context, topic, what string) {
	e.t.Helper()
	start := time.Now()
	notReady, firstReason := 0, ""
	err := eventually(ctx, syncTimeout, func() error {
		err := failoverCheckReady(ctx, e.daemon(east), topic)
		if err != nil {
			if notReady == 0 {
				firstReason = err.Error()
			}
			notReady++
		}
		return err
	})
	if err != nil {
		e.t.Fatalf("%s: east's failover check never said ready: %v\n%s", what, err, e.diagnose(topic, synced))
	}
	e.t.Logf("%s: ready %v after the consumers stopped, after %d not-ready answers (the first: %s)",
		what, time.Since(start).Round(time.Millisecond), notReady, firstReason)
}

// failoverCheckReady is the CLI's verdict on east's report for topic: the
// whole report ready, and one ready pair for the topic's subscription.
func failoverCheckReady(ctx context.Context, dp *daemonProc, topic string) error {
	rep := dp.d.FailoverCheck(ctx, replicator.FailoverOptions{})
	fs := failoverEntries(rep, topic, synced, west)
	switch {
	case len(fs) != 1:
		return fmt.Errorf("the check lists %s/%s towards west %d times (problems %q)", topic, synced, len(fs), rep.Problems)
	case !fs[0].Ready:
		return fmt.Errorf("not ready: %s", fs[0].Reason)
	case !rep.Ready:
		return fmt.Errorf("the report says not ready: %q", rep.Problems)
	}
	return nil
}

// TestFailoverCheckReadyAfterRestartFromStore: a restarted daemon of the
// primary vouches for the standby from what it stored (the standby's last
// report), not from a new report: with a full state every minute, the
// standby says nothing after its state is applied, and east's check must
// say ready once east acts again, while west has sent no update since
// east stopped.
func TestFailoverCheckReadyAfterRestartFromStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{FullStateEvery: 600})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	topic := e.topicName("restart-ready")
	e.createTopic(ctx, topic, 0, []string{synced}, east, west)
	e.startDaemons()
	produced := produceIDs(ctx, t, e.eps[east], topic, ids(0, 200))
	ack := func(id int) bool { return id%5 != 1 }
	e.ackAndSync(ctx, t, east, west, 0, ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 2, ShouldAck: ack, Want: countIf(produced, ack), Seed: 211})

	wd := e.daemon(west)
	sentBefore := mustMetric(t, wd.metrics, "pulsar_subsync_updates_sent_total")
	e.stopDaemon(east)
	restarted := e.startDaemon(east)
	start := time.Now()
	e.mustEventually(ctx, "the restarted east's failover check says ready", func() error {
		return failoverCheckReady(ctx, restarted, topic)
	})
	sent := mustMetric(t, wd.metrics, "pulsar_subsync_updates_sent_total") - sentBefore
	t.Logf("restarted east ready after %v; west sent %v updates meanwhile", time.Since(start).Round(time.Millisecond), sent)
	if sent != 0 {
		t.Errorf("west sent %v updates between east's stop and east's ready answer; want east's readiness from its store alone", sent)
	}
}
