package demo

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/subsync/subsync/integration/workload"
)

// Options configure a demo run. DefaultOptions gives the standard run;
// Run fills zero durations, an empty SubscriptionType and a zero AckWindow
// from it, and rejects every other value it cannot use.
type Options struct {
	// Seed decides which messages are held and the order of acks.
	Seed int64
	// Messages produced on east.
	Messages int
	// Consumers per subscription, on east and then on west.
	Consumers int
	// FailoverAt is the fraction of messages, in production order,
	// processed on east before it fails.
	FailoverAt float64
	// HoldFraction is the fraction of the processed messages held
	// unacknowledged until the failover (stuck messages).
	HoldFraction float64
	// SubscriptionType: shared, key_shared, failover or exclusive.
	SubscriptionType string
	// Partitions of the topic (0: non-partitioned).
	Partitions int
	// Batching lets the producer batch (at most BatchMaxMessages each, 0:
	// the client's default); Keys gives messages that many distinct keys.
	Batching         bool
	BatchMaxMessages int
	Keys             int
	// ProduceRate paces the producer in messages per second (0: as fast
	// as it goes).
	ProduceRate int
	// AckWindow is how many received messages a consumer keeps before
	// acknowledging a random one of them.
	AckWindow int
	// Pulsar, when set, runs the demo on real Apache Pulsar brokers of that
	// version (org.apache.pulsar:pulsar-broker, resolved by Maven) instead
	// of the emulator; their PIP-33 snapshot frequency is 1 s.
	Pulsar string
	// SnapshotFrequency is PIP-33's replicatedSubscriptionsSnapshotFrequency
	// on the emulated brokers.
	SnapshotFrequency time.Duration
	// ExportInterval is the subsync daemons' export interval.
	ExportInterval time.Duration
	// SyncTimeout bounds the wait for both mechanisms to catch up before
	// east is stopped; the failover happens then, synced or not.
	SyncTimeout time.Duration
	// StandbyIdle: draining west ends once nothing arrived for this long
	// and the backlog is 0.
	StandbyIdle time.Duration
	// Timeout bounds the whole run.
	Timeout time.Duration
	// Progress receives a line per phase and step (nil: none).
	Progress io.Writer
	// Logger receives the emulator's, the daemons' and the clients' logs
	// (nil: discarded).
	Logger *slog.Logger
	// WorkDir holds the daemons' stores; empty: a temporary directory
	// removed at the end.
	WorkDir string
}

// DefaultOptions is the standard demo: 5000 messages, 4 shared consumers,
// failover after 80% of them, 2% of those held.
func DefaultOptions() Options {
	return Options{
		Seed:              1,
		Messages:          5000,
		Consumers:         4,
		FailoverAt:        0.8,
		HoldFraction:      0.02,
		SubscriptionType:  "shared",
		AckWindow:         16,
		SnapshotFrequency: time.Second,
		ExportInterval:    200 * time.Millisecond,
		SyncTimeout:       30 * time.Second,
		StandbyIdle:       time.Second,
		Timeout:           5 * time.Minute,
	}
}

// withDefaults fills the fields DefaultOptions documents as optional.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.SubscriptionType == "" {
		o.SubscriptionType = d.SubscriptionType
	}
	if o.AckWindow == 0 {
		o.AckWindow = d.AckWindow
	}
	for _, f := range []struct{ v, def *time.Duration }{
		{&o.SnapshotFrequency, &d.SnapshotFrequency}, {&o.ExportInterval, &d.ExportInterval},
		{&o.SyncTimeout, &d.SyncTimeout}, {&o.StandbyIdle, &d.StandbyIdle}, {&o.Timeout, &d.Timeout},
	} {
		if *f.v == 0 {
			*f.v = *f.def
		}
	}
	return o
}

// maxConsumers bounds Consumers: each is a goroutine and a connection's
// worth of state on two clusters.
const maxConsumers = 256

// validate lists every problem, naming the option and what it expects.
func (o Options) validate() (pulsar.SubscriptionType, error) {
	errs := []error{workload.PlanOptions{Seed: o.Seed, Messages: o.Messages, FailoverAt: o.FailoverAt,
		HoldFraction: o.HoldFraction}.Validate()}
	if o.Consumers < 1 || o.Consumers > maxConsumers {
		errs = append(errs, fmt.Errorf("consumers: %d, expected 1 to %d", o.Consumers, maxConsumers))
	}
	st, err := workload.ParseSubscriptionType(o.SubscriptionType)
	errs = append(errs, err)
	if err == nil && st == pulsar.Exclusive && o.Consumers != 1 {
		errs = append(errs, fmt.Errorf("consumers: %d, an exclusive subscription takes exactly 1", o.Consumers))
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"partitions", o.Partitions}, {"batchMaxMessages", o.BatchMaxMessages}, {"keys", o.Keys},
		{"produceRate", o.ProduceRate}, {"ackWindow", o.AckWindow}} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("%s: %d, expected 0 or more", f.name, f.v))
		}
	}
	if o.Partitions > 64 {
		errs = append(errs, fmt.Errorf("partitions: %d, expected at most 64", o.Partitions))
	}
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"snapshotFrequency", o.SnapshotFrequency}, {"exportInterval", o.ExportInterval},
		{"syncTimeout", o.SyncTimeout}, {"standbyIdle", o.StandbyIdle}, {"timeout", o.Timeout}} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("%s: %v, expected a positive duration (0: default)", f.name, f.v))
		}
	}
	return st, errors.Join(errs...)
}
