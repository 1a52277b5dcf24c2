package replicator

import (
	"fmt"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A fresh daemon exports every counter it knows the labels of at zero:
// per namespace (rejection reasons, update kinds, per remote), per topic,
// and per subscription and remote once the subscription is seen.
func TestCountersStartAtZero(t *testing.T) {
	p := newPair(t)
	topic := "persistent://" + p.ns + "/zeroes"
	cons, err := p.clients["east"].Subscribe(pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	p.startDaemon(t, "east")
	m := p.daemons["east"].metrics
	eventually(t, 10*time.Second, "subscription counters created", func() error {
		if n := testutil.CollectAndCount(m.AcksApplied); n != 1 {
			return fmt.Errorf("acks_applied_total has %d series, want 1", n)
		}
		return nil
	})
	want := map[string]int{
		"updates_rejected_total":  len(rejectReasons()),
		"updates_sent_total":      len(updateKinds),
		"updates_received_total":  len(messageTypes), // one remote: west
		"snapshot_timeouts_total": 1,
		"tail_entries_total":      1,
		"tail_unmapped_total":     1,
		"index_prunes_total":      1,
		"acks_exported_total":     1,
		"acks_imported_total":     1,
		"acks_skipped_total":      1,
		"acks_deferred_total":     1,
		"apply_errors_total":      1,
	}
	for name, n := range want {
		if got := testutil.CollectAndCount(m.Registry, metricPrefix+name); got != n {
			t.Errorf("%s: %d series, want %d", name, got, n)
		}
	}
	labels := []string{"east", p.ns, topic, "billing", "west"}
	if v := testutil.ToFloat64(m.AcksApplied.WithLabelValues(labels...)); v != 0 {
		t.Errorf("acks_applied_total%v = %v, want 0", labels, v)
	}
	if v := testutil.ToFloat64(m.UpdatesRejected.WithLabelValues("east", p.ns, "bad_signature")); v != 0 {
		t.Errorf("bad_signature = %v, want 0", v)
	}
}

// Every reason the code counts with is among the pre-created ones.
func TestRejectReasonsCoverTheCountedOnes(t *testing.T) {
	have := map[string]bool{}
	for _, r := range rejectReasons() {
		if have[r] {
			t.Errorf("reason %q listed twice", r)
		}
		have[r] = true
	}
	for _, r := range []string{"bad_signature", "unknown_key", "malformed", "unsupported_version", "unsupported_type",
		"stale", "gap", "bad_payload", "out_of_scope", "snapshot_late", "snapshot_duplicate", "snapshot_unknown_id",
		"snapshot_wrong_topic", "snapshot_unexpected_responder", "system_cursor", "unknown_sender", "epoch_ahead",
		"inbox_full", "snapshot_request_replayed", "snapshot_request_bad_id"} {
		if !have[r] {
			t.Errorf("reason %q not pre-created", r)
		}
	}
}
