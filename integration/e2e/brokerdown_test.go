package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/subsync/subsync/integration/workload"
)

// localOutage is how long TestLocalBrokerDownLagGrowsAndReadinessDegrades
// keeps the standby's broker stopped.
const localOutage = 15 * time.Second

// TestLocalBrokerDownLagGrowsAndReadinessDegrades: west's broker stops for
// 15 s while west's daemon keeps running (as it would on another host)
// and east's consumers keep acknowledging. West's daemon cannot read its
// cursors: its sync lag towards east must grow from 0 for as long as the
// outage lasts (never freeze at the last value), its pending count must
// say unknown (-1), and it must stop saying it is ready; once the broker
// is back, the lag returns to 0 and it is ready again. Before the outage,
// an idle subscription in sync reads 0 lag across several full-state
// periods (the lag is not the age of the last state received).
//
// The daemon rides this outage even under the race detector (see
// outage_race_test.go): it stops acting, and closes its control
// producer, within its lease's 0.8 s TTL, long before the broker returns,
// so no producer reconnects while it sends.
func TestLocalBrokerDownLagGrowsAndReadinessDegrades(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	if e.bed.real() {
		t.Skip("keeps a daemon running while its broker is down: not tried on the real bed yet; runs on the emulator")
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout+localOutage)
	defer cancel()
	topic := e.topicName("local-outage")
	e.createTopic(ctx, topic, 0, []string{synced}, east, west)
	e.startDaemons()
	produced := produceIDs(ctx, t, e.eps[east], topic, ids(0, 400))
	ackBefore := func(id int) bool { return id < 200 && id%6 != 0 }
	before := e.ackAndSync(ctx, t, east, west, 0, ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 2, ShouldAck: ackBefore, Want: countIf(produced, ackBefore), Seed: 301})
	wd := e.daemon(west)
	lag := func() (float64, float64) {
		s := mustMetric(t, wd.metrics, "pulsar_subsync_sync_lag_seconds", "topic", topic, "subscription", synced, "remote_cluster", east)
		n := mustMetric(t, wd.metrics, "pulsar_subsync_sync_lag_entries", "topic", topic, "subscription", synced, "remote_cluster", east)
		return s, n
	}

	// Idle and in sync: 0 for longer than a full-state period (3 s here).
	for end := time.Now().Add(4 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if s, n := lag(); s != 0 || n != 0 {
			t.Fatalf("idle and in sync, west's sync lag is %vs, %v entries; want 0 and 0", s, n)
		}
	}

	if err := e.bed.stop(west); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	ackDuring := func(id int) bool { return id >= 200 && id < 300 && id%6 != 0 }
	during, err := runAckPhase(ctx, e.eps[east], ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 2, ShouldAck: ackDuring, Want: countIf(produced, ackDuring), Seed: 302})
	if err != nil {
		t.Fatal(err)
	}
	var samples []float64
	notReady := ""
	for time.Since(stopped) < localOutage {
		time.Sleep(time.Second)
		s, n := lag()
		samples = append(samples, s)
		if len(samples) > 5 && n != -1 {
			t.Errorf("%v into the outage west's sync_lag_entries is %v; want -1 (unknown)", time.Since(stopped).Round(time.Second), n)
		}
		if err := wd.d.Ready(); err != nil && notReady == "" {
			notReady = fmt.Sprintf("%v after the stop: %v", time.Since(stopped).Round(100*time.Millisecond), err)
		}
	}
	t.Logf("west's sync lag towards east each second of the outage: %v", samples)
	t.Logf("west's readiness: %s", notReady)
	for i := 5; i < len(samples); i++ {
		if samples[i] <= samples[i-1] {
			t.Errorf("west's sync lag did not grow from second %d to %d of the outage: %v", i, i+1, samples)
		}
	}
	if last := samples[len(samples)-1]; last < localOutage.Seconds()-5 {
		t.Errorf("at the end of a %v outage west's sync lag is %vs", localOutage, last)
	}
	if notReady == "" {
		t.Errorf("west's daemon said ready throughout a %v outage of its broker", localOutage)
	}

	if err := e.bed.start(west); err != nil {
		t.Fatal(err)
	}
	if err := e.waitSynced(ctx, east, west, topic, 0, synced); err != nil {
		t.Fatal(err)
	}
	e.mustEventually(ctx, "west ready again, its sync lag back to 0", func() error {
		if err := wd.d.Ready(); err != nil {
			return err
		}
		if s, n := lag(); s != 0 || n != 0 {
			return fmt.Errorf("west's sync lag %vs, %v entries", s, n)
		}
		return nil
	})
	if err := e.failSite(east); err != nil {
		t.Fatal(err)
	}
	got, err := drain(ctx, e.eps[west], topic, synced, pulsar.Shared, 2)
	if err != nil {
		t.Fatal(err)
	}
	e.checkNoLoss("after the standby's broker outage", workload.Account(produced, union(before.Acked, during.Acked), got.Received), 0)
}
