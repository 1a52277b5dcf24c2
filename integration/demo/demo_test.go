package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// smallOptions is a quick run: 300 messages, fast PIP-33 snapshots and
// subsync exports, short idle detection.
func smallOptions(t *testing.T) Options {
	o := DefaultOptions()
	o.Messages = 300
	o.Consumers = 3
	o.SnapshotFrequency = 200 * time.Millisecond
	o.ExportInterval = 100 * time.Millisecond
	o.SyncTimeout = 15 * time.Second
	o.StandbyIdle = 300 * time.Millisecond
	o.Timeout = 50 * time.Second
	o.HoldFraction = 0.05
	o.Progress = testWriter{t}
	return o
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// TestRunSmall checks the product's claim on a small run: neither
// mechanism loses a message, PIP-33 delivers again what was acknowledged
// past the held messages, subsync at most 1% of that.
func TestRunSmall(t *testing.T) {
	o := smallOptions(t)
	res, err := Run(context.Background(), o)
	var table bytes.Buffer
	_ = res.WriteTable(&table)
	t.Logf("\n%s", table.String())
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	wantAcked := 240 - 12 // cut at 80% of 300, 5% of the cut held
	if res.Messages != 300 || res.Held != 12 {
		t.Fatalf("%d messages produced, %d held; want 300 and 12", res.Messages, res.Held)
	}
	for _, oc := range []Outcome{res.PIP33, res.Subsync} {
		if oc.Lost != 0 {
			t.Errorf("%s lost %d messages", oc.Subscription, oc.Lost)
		}
		if oc.AckedOnPrimary != wantAcked || oc.AckErrors != 0 {
			t.Errorf("%s: %d acks confirmed, %d failed; want %d, 0", oc.Subscription, oc.AckedOnPrimary, oc.AckErrors, wantAcked)
		}
		if !oc.Synced {
			t.Errorf("%s did not report itself synced within %v", oc.Subscription, o.SyncTimeout)
		}
		// Every produced message is either acked on east or delivered on
		// west, and the duplicates are exactly the overlap.
		if oc.UniqueOnStandby+oc.AckedOnPrimary-oc.Duplicates != res.Messages {
			t.Errorf("%s: %d distinct on west + %d acked - %d duplicates != %d produced",
				oc.Subscription, oc.UniqueOnStandby, oc.AckedOnPrimary, oc.Duplicates, res.Messages)
		}
	}
	if res.PIP33.Duplicates == 0 {
		t.Error("PIP-33 duplicated nothing although messages were held: the run did not exercise the gap")
	}
	if res.Subsync.Duplicates > res.PIP33.Duplicates {
		t.Errorf("subsync duplicated %d, more than PIP-33's %d", res.Subsync.Duplicates, res.PIP33.Duplicates)
	}
	if 100*res.Subsync.Duplicates > res.PIP33.Duplicates {
		t.Errorf("subsync duplicated %d, more than 1%% of PIP-33's %d", res.Subsync.Duplicates, res.PIP33.Duplicates)
	}
}

// TestRunBatchedKeySharedPartitioned: batches a consumer acknowledges
// only in part stay on every cluster, so they come back after the failover
// whatever syncs the subscription; subsync must avoid every other
// duplicate PIP-33 pays for, and neither may lose a message.
func TestRunBatchedKeySharedPartitioned(t *testing.T) {
	o := smallOptions(t)
	o.Messages, o.Partitions, o.Batching, o.BatchMaxMessages, o.Keys = 400, 2, true, 8, 24
	o.SubscriptionType, o.Seed = "key_shared", 7
	res, err := Run(context.Background(), o)
	var table bytes.Buffer
	_ = res.WriteTable(&table)
	t.Logf("\n%s", table.String())
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, oc := range []Outcome{res.PIP33, res.Subsync} {
		if oc.Lost != 0 || !oc.Synced {
			t.Errorf("%s: lost %d, synced %v", oc.Subscription, oc.Lost, oc.Synced)
		}
		if oc.Duplicates < oc.AckedInPartialBatches {
			t.Errorf("%s: %d duplicates, fewer than the %d acks in partly acknowledged batches",
				oc.Subscription, oc.Duplicates, oc.AckedInPartialBatches)
		}
	}
	avoidable := res.Subsync.Duplicates - res.Subsync.AckedInPartialBatches
	if 100*avoidable > res.PIP33.Duplicates {
		t.Errorf("subsync duplicated %d messages outside partial batches, more than 1%% of PIP-33's %d",
			avoidable, res.PIP33.Duplicates)
	}
}

func TestDefaultOptionsAreValid(t *testing.T) {
	o := DefaultOptions()
	if _, err := o.withDefaults().validate(); err != nil {
		t.Fatal(err)
	}
	if o.Messages != 5000 || o.Consumers != 4 || o.FailoverAt != 0.8 || o.HoldFraction != 0.02 {
		t.Fatalf("defaults changed: %+v", o)
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	base := DefaultOptions()
	for _, tc := range []struct {
		name   string
		change func(*Options)
		want   []string
	}{
		{"no messages", func(o *Options) { o.Messages = 0 }, []string{"messages: 0"}},
		{"no consumers", func(o *Options) { o.Consumers = 0 }, []string{"consumers: 0"}},
		{"too many consumers", func(o *Options) { o.Consumers = 1000 }, []string{"consumers: 1000"}},
		{"failover past the end", func(o *Options) { o.FailoverAt = 1.2 }, []string{"failoverAt: 1.2"}},
		{"hold everything", func(o *Options) { o.HoldFraction = 1 }, []string{"holdFraction: 1"}},
		{"unknown type", func(o *Options) { o.SubscriptionType = "broadcast" }, []string{`subscription type "broadcast"`}},
		{"exclusive with two", func(o *Options) { o.SubscriptionType, o.Consumers = "exclusive", 2 }, []string{"exactly 1"}},
		{"negative partitions", func(o *Options) { o.Partitions = -1 }, []string{"partitions: -1"}},
		{"too many partitions", func(o *Options) { o.Partitions = 65 }, []string{"partitions: 65"}},
		{"negative keys", func(o *Options) { o.Keys = -3 }, []string{"keys: -3"}},
		{"negative duration", func(o *Options) { o.SyncTimeout = -time.Second }, []string{"syncTimeout: -1s"}},
		{"several at once", func(o *Options) { o.Messages, o.Consumers, o.ExportInterval = -1, -1, -1 },
			[]string{"messages: -1", "consumers: -1", "exportInterval: -1ns"}},
	} {
		o := base
		tc.change(&o)
		_, err := Run(context.Background(), o)
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not mention %q", tc.name, err, w)
			}
		}
	}
}

func sampleResult() Result {
	return Result{Brokers: "emulator", Seed: 1, Messages: 5000, Consumers: 4, SubscriptionType: "shared", FailoverAt: 0.8, HoldFraction: 0.02,
		Held: 80, ElapsedSeconds: 15.04, Phases: Phases{Primary: 1.2, Sync: 3.0, Standby: 1.3, Shutdown: 9.5},
		PIP33: Outcome{Subscription: "pip33-sub", AckedOnPrimary: 3920, ReceivedOnStandby: 5000, UniqueOnStandby: 5000,
			Duplicates: 3920, Synced: true, SyncSeconds: 3.02},
		Subsync: Outcome{Subscription: "subsync-sub", AckedOnPrimary: 3920, ReceivedOnStandby: 1080, UniqueOnStandby: 1080,
			SyncSeconds: 30}}
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	if err := sampleResult().WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	want := "failover demo on the emulator: 5000 messages, 4 shared consumers, failover after 80% of them, 2% of those held (seed 1)\n" +
		"\n" +
		"                             PIP-33                    subsync\n" +
		"acknowledged on east           3920                       3920\n" +
		"delivered on west              5000                       1080\n" +
		"  distinct                     5000                       1080\n" +
		"duplicates                     3920                          0\n" +
		"lost                              0                          0\n" +
		"synced before failover   yes (3.0s)   no (gave up after 30.0s)\n" +
		"\n" +
		"run took 15.0s (east 1.2s, sync wait 3.0s, west 1.3s, shutdown 9.5s)\n"
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestWriteTableNamesRealBrokers(t *testing.T) {
	r := sampleResult()
	r.Brokers = "4.0.7"
	var b bytes.Buffer
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(b.String(), "\n"); !strings.HasPrefix(first, "failover demo on Apache Pulsar 4.0.7: ") {
		t.Errorf("first line %q does not name the real brokers", first)
	}
}

func TestWriteTableShowsPartialBatchesOnlyWithBatching(t *testing.T) {
	r := sampleResult()
	r.Batching, r.Partitions = true, 3
	r.Subsync.AckedInPartialBatches, r.PIP33.AckedInPartialBatches = 17, 17
	var b bytes.Buffer
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "batching, 3 partitions") || !strings.Contains(b.String(), "  in partial batches") {
		t.Errorf("batched table lacks the batch details:\n%s", b.String())
	}
}

func TestResultJSONFieldNames(t *testing.T) {
	b, err := json.Marshal(sampleResult())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"brokers", "seed", "messages", "held", "pip33", "subsync", "elapsedSeconds", "phases"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	sub := m["subsync"].(map[string]any)
	for _, k := range []string{"ackedOnPrimary", "receivedOnStandby", "uniqueOnStandby", "duplicates", "lost", "syncedBeforeFailover"} {
		if _, ok := sub[k]; !ok {
			t.Errorf("outcome JSON lacks %q: %s", k, b)
		}
	}
}
