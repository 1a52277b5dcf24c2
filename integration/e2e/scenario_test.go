package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"

	"github.com/subsync/subsync/integration/workload"
)

// The workload's failover experiment (produce, consume on east acknowledging
// out of order while holding a seeded few, wait for subsync, stop east,
// drain west) under the topic and subscription shapes subsync must handle.

const synced = "orders"

// scenario is the experiment on a fresh topic, east primary, west standby,
// waiting for subsync to sync subscription "orders" before the failover.
func (e *env) scenario(name string, partitions int, typ pulsar.SubscriptionType, subs ...string) workload.Scenario {
	topic := e.topicName(name)
	e.noteTopic(topic)
	s := workload.Scenario{
		Primary: e.eps[east], Standby: e.eps[west],
		StopPrimary: func() error { return e.failSite(east) },
		Topic:       topic, Partitions: partitions,
		Type: typ, Consumers: 3, StandbyIdle: 300 * time.Millisecond,
		WaitSynced: func(ctx context.Context) error {
			return e.waitSynced(ctx, east, west, topic, partitions, synced)
		},
	}
	for _, sub := range append([]string{synced}, subs...) {
		s.Subscriptions = append(s.Subscriptions, workload.SubscriptionSpec{Name: sub})
	}
	return s
}

// runScenario starts the daemons, runs s and returns its report.
func (e *env) runScenario(s workload.Scenario) workload.Report {
	e.t.Helper()
	e.startDaemons()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	rep, err := s.Run(ctx)
	if err != nil {
		e.t.Fatalf("scenario on %s: %v", s.Topic, err)
	}
	if len(rep.Produced.IDs) != rep.Plan.Messages {
		e.t.Fatalf("produced %d of %d", len(rep.Produced.IDs), rep.Plan.Messages)
	}
	if sr, ok := rep.Subscription(synced); ok && !s.Batching {
		e.checkPrimaryCursor(ctx, s.Topic, synced, sr.Primary.Acked)
	}
	return rep
}

// checkPrimaryCursor verifies, after the failover, that east's cursor has
// every acknowledgement east confirmed to its consumers: a duplicate must
// never be blamed on subsync when the primary itself lost the ack. East
// is brought back to be read (nothing removes acknowledgements from its
// cursor meanwhile).
func (e *env) checkPrimaryCursor(ctx context.Context, topic, sub string, confirmed []int) {
	e.t.Helper()
	if !e.bed.running(east) {
		if err := e.bed.start(east); err != nil {
			e.t.Fatal(err)
		}
	}
	cur, err := readCursor(ctx, e.eps[east], topic, sub)
	if err != nil {
		e.t.Fatalf("reading east's cursor: %v", err)
	}
	var lost []int
	for _, id := range confirmed {
		if !cur.acked(id) {
			lost = append(lost, id)
		}
	}
	switch {
	case len(lost) > 0 && e.bed.real():
		// A real broker persists acknowledgements that do not move the
		// mark-delete position lazily (managedLedgerCursorPositionFlushSeconds,
		// 60 s): the SIGKILL of the site failure loses the latest.
		e.t.Logf("east's broker lost %d confirmed acknowledgements in its crash: %v", len(lost), firstN(lost, 20))
	case len(lost) > 0:
		e.t.Errorf("east confirmed %d acknowledgements its cursor does not have (the emulator's or the client's fault, not subsync's): %v",
			len(lost), firstN(lost, 20))
	}
}

// subReport returns a subscription's report after checking that the
// primary's consumers did what the plan says: every planned
// acknowledgement confirmed and every held message delivered (so the
// subscription had holes while subsync worked).
func subReport(t *testing.T, rep workload.Report, name string) workload.SubscriptionReport {
	t.Helper()
	s, ok := rep.Subscription(name)
	if !ok {
		t.Fatalf("no report for subscription %s", name)
	}
	if s.Primary.AckErrors != 0 || len(s.Primary.Acked) != rep.Plan.AckCount() {
		t.Fatalf("%s: %d acknowledgements confirmed, %d failed; the plan has %d",
			name, len(s.Primary.Acked), s.Primary.AckErrors, rep.Plan.AckCount())
	}
	if len(s.Primary.Held) != len(rep.Plan.Held) {
		t.Fatalf("%s: %d held messages delivered on the primary, the plan holds %d", name, len(s.Primary.Held), len(rep.Plan.Held))
	}
	return s
}

// TestSharedOutOfOrderAcks: three Shared consumers acknowledge out of
// order and hold 5% of the messages, so the primary's cursor has many
// holes; after the failover west delivers exactly what east did not
// acknowledge. The unsynced subscription beside it shows what the failover
// costs without subsync (every acknowledged message comes back), proving
// the measurement can fail.
func TestSharedOutOfOrderAcks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.scenario("shared", 0, pulsar.Shared, unsynced)
	s.Plan = workload.PlanOptions{Seed: 11, Messages: 400, FailoverAt: 0.75, HoldFraction: 0.05}
	s.AckWindow = 16
	rep := e.runScenario(s)

	got := subReport(t, rep, synced)
	e.checkNoLoss("shared", got.Accounting, 0)
	if len(rep.Plan.Held) == 0 || rep.Plan.Held[0] >= rep.Plan.Cut-1 {
		t.Fatalf("plan holds %v of the first %d: no hole below acknowledged messages", rep.Plan.Held, rep.Plan.Cut)
	}
	ctl := subReport(t, rep, unsynced)
	e.checkNoLoss("unsynced control group", ctl.Accounting, ctl.Accounting.AckedOnPrimary)
	if ctl.Accounting.Duplicates != ctl.Accounting.AckedOnPrimary {
		t.Errorf("unsynced: %d duplicates of %d acknowledged; without sync every acknowledged message comes back",
			ctl.Accounting.Duplicates, ctl.Accounting.AckedOnPrimary)
	}
}

// TestKeyShared: Key_Shared consumers on east (keys spread over them);
// nothing acknowledged there is delivered again on west.
func TestKeyShared(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.scenario("keyshared", 0, pulsar.KeyShared)
	s.Plan = workload.PlanOptions{Seed: 12, Messages: 400, FailoverAt: 0.7, HoldFraction: 0.04}
	s.Keys = 24
	rep := e.runScenario(s)
	e.checkNoLoss("key_shared", subReport(t, rep, synced).Accounting, 0)
}

// TestPartitionedTopic: three partitions, each synced by its own worker;
// the accounting is over the whole topic.
func TestPartitionedTopic(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.scenario("partitioned", 3, pulsar.Shared)
	s.Plan = workload.PlanOptions{Seed: 13, Messages: 450, FailoverAt: 0.7, HoldFraction: 0.05}
	rep := e.runScenario(s)
	e.checkNoLoss("partitioned", subReport(t, rep, synced).Accounting, 0)
	// The wait for sync required both daemons to report all three
	// partitions; west's still does after the failover.
	if st := e.daemon(west).d.Status(s.Topic); len(st.Topics) != 3 {
		t.Errorf("west's daemon's status lists %d partitions of %s, want 3", len(st.Topics), s.Topic)
	}
}

// TestBatching: the producer batches up to 8 messages per entry. A batch
// is one entry on both clusters and counts as acknowledged only when all
// its messages are, so exactly the acknowledged messages of batches that
// were not acknowledged whole come back; every other acknowledgement is
// synced. The standby's tail reads each replicated batch's source
// position through the admin API: none may stay unmapped.
func TestBatching(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	s := e.scenario("batched", 0, pulsar.Shared)
	s.Plan = workload.PlanOptions{Seed: 14, Messages: 480, FailoverAt: 0.75, HoldFraction: 0.03}
	s.Batching, s.BatchMaxMessages = true, 8
	rep := e.runScenario(s)
	got := subReport(t, rep, synced)
	partial := got.Primary.AckedInPartialBatches
	e.checkNoLoss("batched", got.Accounting, partial)
	t.Logf("batched: %d acknowledged messages were in batches not acknowledged whole", partial)
	if partial >= got.Accounting.AckedOnPrimary {
		t.Errorf("all %d acknowledgements were in partial batches: nothing tested the sync of whole batches", partial)
	}
	entries := topicEntries(t, e.eps[west], s.Topic)
	if entries >= int64(rep.Plan.Messages)/2 {
		t.Errorf("west has %d entries for %d messages: the producer did not batch", entries, rep.Plan.Messages)
	}
	unmapped, err := metricValue(e.daemon(west).metrics, "pulsar_subsync_tail_unmapped_total", "topic", s.Topic)
	if err != nil {
		t.Fatal(err)
	}
	tailed, err := metricValue(e.daemon(west).metrics, "pulsar_subsync_tail_entries_total", "topic", s.Topic)
	if err != nil {
		t.Fatal(err)
	}
	if unmapped != 0 || tailed < float64(entries) {
		t.Errorf("west's tail read %v entries of %d, %v of them left unmapped; want every batch mapped", tailed, entries, unmapped)
	}
}

// TestLedgerRollover: ledgers of 20 entries (the real test bed's own size
// there), so both clusters' copies of the topic span many ledgers and the
// cursors' holes and the tail index's runs cross ledger boundaries.
func TestLedgerRollover(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{LedgerMaxEntries: 20})
	if e.bed.real() {
		// So that a real broker keeps the acknowledged ledgers the check
		// below counts.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e.keepRetention(ctx, east)
		e.keepRetention(ctx, west)
	}
	s := e.scenario("rollover", 0, pulsar.Shared)
	s.Plan = workload.PlanOptions{Seed: 15, Messages: 500, FailoverAt: 0.8, HoldFraction: 0.04}
	rep := e.runScenario(s)
	e.checkNoLoss("rollover", subReport(t, rep, synced).Accounting, 0)
	if err := e.bed.start(east); err != nil {
		t.Fatal(err)
	}
	for _, cluster := range []string{east, west} {
		if n := topicLedgers(t, e.eps[cluster], s.Topic); n < 5 {
			t.Errorf("%s's copy of the topic has %d ledgers; the test needs rollovers", cluster, n)
		}
	}
}

// topicEntries is the number of entries ever added to a non-partitioned
// topic.
func topicEntries(t *testing.T, ep *workload.Endpoint, topic string) int64 {
	t.Helper()
	st := internalStats(t, ep, topic)
	return st.EntriesAddedCounter
}

func topicLedgers(t *testing.T, ep *workload.Endpoint, topic string) int {
	t.Helper()
	return len(internalStats(t, ep, topic).Ledgers)
}

func internalStats(t *testing.T, ep *workload.Endpoint, topic string) utils.PersistentTopicInternalStats {
	t.Helper()
	tn, err := utils.GetTopicName(topic)
	if err != nil {
		t.Fatal(err)
	}
	st, err := ep.Admin.Topics().GetInternalStats(*tn)
	if err != nil {
		t.Fatalf("internal stats of %s on %s: %v", topic, ep.Name, err)
	}
	return st
}

// cursorOf reads a subscription's cursor from internal stats.
func cursorOf(ep *workload.Endpoint, topic, sub string) (utils.CursorStats, error) {
	tn, err := utils.GetTopicName(topic)
	if err != nil {
		return utils.CursorStats{}, err
	}
	st, err := ep.Admin.Topics().GetInternalStats(*tn)
	if err != nil {
		return utils.CursorStats{}, fmt.Errorf("internal stats of %s on %s: %w", topic, ep.Name, err)
	}
	c, ok := st.Cursors[sub]
	if !ok {
		return utils.CursorStats{}, fmt.Errorf("%s has no cursor %q on %s", topic, sub, ep.Name)
	}
	return c, nil
}

// partitionsOf lists topic's partitions on ep, or topic itself when it
// is not partitioned.
func partitionsOf(ep *workload.Endpoint, topic string) []string {
	tn, err := utils.GetTopicName(topic)
	if err != nil {
		return []string{topic}
	}
	meta, err := ep.Admin.Topics().GetMetadata(*tn)
	if err != nil || meta.Partitions == 0 {
		return []string{topic}
	}
	out := make([]string, 0, meta.Partitions)
	for i := 0; i < meta.Partitions; i++ {
		out = append(out, fmt.Sprintf("%s-partition-%d", topic, i))
	}
	return out
}

func internalStatsOf(ep *workload.Endpoint, topic string) (utils.PersistentTopicInternalStats, error) {
	tn, err := utils.GetTopicName(topic)
	if err != nil {
		return utils.PersistentTopicInternalStats{}, err
	}
	return ep.Admin.Topics().GetInternalStats(*tn)
}
