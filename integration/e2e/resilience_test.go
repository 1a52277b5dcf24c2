package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/subsync/subsync/integration/workload"
	"github.com/subsync/subsync/mapping"
	"github.com/subsync/subsync/replicator"
)

// TestDaemonRestartResumes: west's daemon stops mid-run while east keeps
// producing and acknowledging, then restarts on the same store. It must
// resume from its checkpoints (the tail reads only the entries it had not
// indexed, the imported state is not received again as new) and catch up.
func TestDaemonRestartResumes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	topic := e.topicName("restart")
	e.createTopic(ctx, topic, 0, []string{synced}, east, west)
	e.startDaemons()

	before := produceIDs(ctx, t, e.eps[east], topic, ids(0, 200))
	ackBefore := func(id int) bool { return id < 150 && id%7 != 2 }
	first := e.ackAndSync(ctx, t, east, west, 0, ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 2, ShouldAck: ackBefore, Want: countIf(before, ackBefore), Seed: 91})

	e.stopDaemon(west)
	indexed := indexedEntries(t, e.dirs[west], topic)
	during := produceIDs(ctx, t, e.eps[east], topic, ids(200, 400))
	ackDuring := func(id int) bool { return id >= 150 && id < 350 && id%7 != 2 }
	second, err := runAckPhase(ctx, e.eps[east], ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 2, ShouldAck: ackDuring, Want: countIf(union(before, during), ackDuring), Seed: 92})
	if err != nil {
		t.Fatal(err)
	}
	missing := int64(len(second.Acked))
	e.mustEventually(ctx, "east's failover check counts the acknowledgements west's daemon missed", func() error {
		return notAckedOnStandby(e.daemon(east), topic, synced, missing)
	})

	restarted := e.startDaemon(west)
	if err := e.waitSynced(ctx, east, west, topic, 0, synced); err != nil {
		t.Fatal(err)
	}
	total := topicEntries(t, e.eps[west], topic)
	// The counters move just after the tail and the cursor do.
	err = eventually(ctx, 3*time.Second, func() error {
		m := restarted.metrics
		tailed, err := metricValue(m, "pulsar_subsync_tail_entries_total", "topic", topic)
		if err != nil {
			return err
		}
		imported, err := metricValue(m, "pulsar_subsync_acks_imported_total", "topic", topic, "subscription", synced)
		if err != nil {
			return err
		}
		applied, err := metricValue(m, "pulsar_subsync_acks_applied_total", "topic", topic, "subscription", synced)
		if err != nil {
			return err
		}
		if int64(tailed) != total-indexed {
			return fmt.Errorf("the restarted tail read %v entries; it should resume after the %d indexed and read the other %d of %d",
				tailed, indexed, total-indexed, total)
		}
		if int64(imported) != missing || int64(applied) != missing {
			return fmt.Errorf("the restarted daemon imported %v and applied %v acknowledgements; want the %d made while it was down",
				imported, applied, missing)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	t.Logf("west: %d entries, %d indexed before the restart", total, indexed)

	if err := e.failSite(east); err != nil {
		t.Fatal(err)
	}
	got, err := drain(ctx, e.eps[west], topic, synced, pulsar.Shared, 2)
	if err != nil {
		t.Fatal(err)
	}
	e.checkNoLoss("daemon restart", workload.Account(union(before, during), union(first.Acked, second.Acked), got.Received), 0)
}

// TestRemoteClusterDownAndBack: west is down while east keeps producing
// and acknowledging; when west returns, replication and the daemons catch
// up, and a failover then costs nothing.
func TestRemoteClusterDownAndBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	topic := e.topicName("remote-down")
	e.createTopic(ctx, topic, 0, []string{synced}, east, west)
	e.startDaemons()

	before := produceIDs(ctx, t, e.eps[east], topic, ids(0, 150))
	ackBefore := func(id int) bool { return id < 100 && id%5 != 1 }
	first := e.ackAndSync(ctx, t, east, west, 0, ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 2, ShouldAck: ackBefore, Want: countIf(before, ackBefore), Seed: 101})

	if err := e.failSite(west); err != nil {
		t.Fatal(err)
	}
	during := produceIDs(ctx, t, e.eps[east], topic, ids(150, 300))
	ackDuring := func(id int) bool { return id >= 100 && id < 250 && id%5 != 1 }
	second, err := runAckPhase(ctx, e.eps[east], ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 2, ShouldAck: ackDuring, Want: countIf(union(before, during), ackDuring), Seed: 102})
	if err != nil {
		t.Fatal(err)
	}
	e.mustEventually(ctx, "east's failover check counts what west has not acknowledged", func() error {
		return notAckedOnStandby(e.daemon(east), topic, synced, int64(len(second.Acked)))
	})

	if err := e.recoverSite(west); err != nil {
		t.Fatal(err)
	}
	if err := e.waitSynced(ctx, east, west, topic, 0, synced); err != nil {
		t.Fatal(err)
	}
	if err := e.failSite(east); err != nil {
		t.Fatal(err)
	}
	got, err := drain(ctx, e.eps[west], topic, synced, pulsar.Shared, 2)
	if err != nil {
		t.Fatal(err)
	}
	e.checkNoLoss("remote down and back", workload.Account(union(before, during), union(first.Acked, second.Acked), got.Received), 0)
}

// notAckedOnStandby: east's failover check and status both count exactly
// want acknowledgements missing on west, and say not ready.
func notAckedOnStandby(ed *daemonProc, topic, sub string, want int64) error {
	fs := failoverEntries(ed.d.FailoverCheck(context.Background(), replicator.FailoverOptions{}), topic, sub, west)
	st, n := remoteStatuses(ed.d.Status(topic), topic, sub, west)
	if len(fs) != 1 || n != 1 {
		return fmt.Errorf("east reports %s/%s towards west %d times in the failover check, %d in the status", topic, sub, len(fs), n)
	}
	if fs[0].Ready || fs[0].NotAckedOnStandby != want || st.LocalAckedNotAckedThere != want {
		return fmt.Errorf("east: failover check ready %v with %d not acknowledged on west, status %d; want not ready, %d",
			fs[0].Ready, fs[0].NotAckedOnStandby, st.LocalAckedNotAckedThere, want)
	}
	return nil
}

// indexedEntries counts the entries of topic in a stopped daemon's tail
// index, read from its store.
func indexedEntries(t *testing.T, dir, topic string) int64 {
	t.Helper()
	store, err := mapping.Open(dir)
	if err != nil {
		t.Fatalf("opening the stopped daemon's store: %v", err)
	}
	defer store.Close()
	rep, err := replicator.MappingsFromStore(store, topic)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, r := range rep.Runs {
		n += r.Count
	}
	return n
}

func mustMetric(t *testing.T, m *replicator.Metrics, name string, labels ...string) float64 {
	t.Helper()
	v, err := metricValue(m, name, labels...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
