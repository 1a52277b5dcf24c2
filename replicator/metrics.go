package replicator

import (
	"slices"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric names follow Pulsar's own (pulsar_ prefix, snake case) and its
// label names: cluster, namespace, topic, subscription, remote_cluster.
const metricPrefix = "pulsar_subsync_"

// Metrics are the daemon's Prometheus metrics.
type Metrics struct {
	// Registry serves /metrics.
	Registry *prometheus.Registry

	SyncLagSeconds    *prometheus.GaugeVec
	SyncLagEntries    *prometheus.GaugeVec
	AcksExported      *prometheus.CounterVec
	AcksImported      *prometheus.CounterVec
	AcksApplied       *prometheus.CounterVec
	AcksDeferred      *prometheus.CounterVec
	AcksSkipped       *prometheus.CounterVec
	Deferred          *prometheus.GaugeVec
	UpdatesSent       *prometheus.CounterVec
	UpdatesReceived   *prometheus.CounterVec
	UpdatesRejected   *prometheus.CounterVec
	ApplyErrors       *prometheus.CounterVec
	CursorsRefused    *prometheus.CounterVec
	MirrorResets      *prometheus.CounterVec
	SubsDeleted       *prometheus.CounterVec
	Role              *prometheus.GaugeVec
	TailEntries       *prometheus.CounterVec
	TailUnmapped      *prometheus.CounterVec
	TailStampsRefused *prometheus.CounterVec
	TailLagEntries    *prometheus.GaugeVec
	IndexRuns         *prometheus.GaugeVec
	IndexPruned       *prometheus.CounterVec
	StoreBytes        *prometheus.GaugeVec
	StoreRefusing     *prometheus.GaugeVec
	SnapshotRTT       *prometheus.HistogramVec
	SnapshotTimeouts  *prometheus.CounterVec
	ReplicationLag    *prometheus.GaugeVec
	TopicsInScope     *prometheus.GaugeVec
	LeaseHeld         *prometheus.GaugeVec
	Errors            *prometheus.CounterVec
	LastSuccess       *prometheus.GaugeVec

	// refresh, set by the daemon these metrics belong to, recomputes the
	// lag gauges from its state just before they are collected.
	refresh atomic.Pointer[func()]
}

// scrapeTime collects its gauges after running the metrics' refresh, so
// that what a scrape sees is computed at that moment.
type scrapeTime struct {
	m      *Metrics
	gauges []*prometheus.GaugeVec
}

func (s scrapeTime) Describe(ch chan<- *prometheus.Desc) {
	for _, g := range s.gauges {
		g.Describe(ch)
	}
}

func (s scrapeTime) Collect(ch chan<- prometheus.Metric) {
	if f := s.m.refresh.Load(); f != nil {
		(*f)()
	}
	for _, g := range s.gauges {
		g.Collect(ch)
	}
}

// computedAtScrape makes refresh run before every collection of the lag
// gauges. One daemon per Metrics: a second call replaces the first's.
func (m *Metrics) computedAtScrape(refresh func()) {
	m.refresh.Store(&refresh)
}

var (
	subLabels    = []string{"cluster", "namespace", "topic", "subscription"}
	remoteLabels = []string{"cluster", "namespace", "topic", "subscription", "remote_cluster"}
	topicLabels  = []string{"cluster", "namespace", "topic"}
)

// NewMetrics registers the daemon's metrics with reg (nil: a new registry).
func NewMetrics(reg *prometheus.Registry) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	gauge := func(name, help string, labels []string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: metricPrefix + name, Help: help}, labels)
		reg.MustRegister(g)
		return g
	}
	// Lag gauges are registered through scrapeTime, below.
	lagGauge := func(name, help string, labels []string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: metricPrefix + name, Help: help}, labels)
	}
	counter := func(name, help string, labels []string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricPrefix + name, Help: help}, labels)
		reg.MustRegister(c)
		return c
	}
	m := &Metrics{Registry: reg}
	m.SyncLagSeconds = lagGauge("sync_lag_seconds", "How long the subscription here has been behind the remote cluster it follows: 0 while nothing is pending, the age of the oldest pending acknowledgement, or the time since the local cursor was last read while reads fail.", remoteLabels)
	m.SyncLagEntries = lagGauge("sync_lag_entries", "Entries acknowledged on the remote cluster, present here, not yet acknowledged here; -1 while the local cursor cannot be read.", remoteLabels)
	m.AcksExported = counter("acks_exported_total", "Entries newly acknowledged here and published to the control topic.", subLabels)
	m.AcksImported = counter("acks_imported_total", "Entries newly acknowledged on a remote cluster, received through the control topic.", remoteLabels)
	m.AcksApplied = counter("acks_applied_total", "Local entries acknowledged on the local cursor because a remote cluster acknowledged them.", remoteLabels)
	m.AcksDeferred = counter("acks_deferred_total", "Times applying a remote state was deferred (exclusive-type consumers attached).", remoteLabels)
	m.AcksSkipped = counter("acks_skipped_total", "Wanted acknowledgements not applied because the entry is beyond the local last confirmed entry.", remoteLabels)
	m.Deferred = gauge("deferred", "1 while applying a remote cluster's state to this subscription is deferred.", remoteLabels)
	m.UpdatesSent = counter("updates_sent_total", "Updates published to the control topic, by kind (full, delta).", []string{"cluster", "namespace", "kind"})
	m.UpdatesReceived = counter("updates_received_total", "Control-topic messages received from remote clusters, by type.", []string{"cluster", "namespace", "remote_cluster", "type"})
	m.UpdatesRejected = counter("updates_rejected_total", "Control-topic messages rejected or not applied, by reason (bad_signature, unknown_key, malformed, unsupported_version, unsupported_type, stale, gap, out_of_scope, bad_payload).", []string{"cluster", "namespace", "reason"})
	m.ApplyErrors = counter("apply_errors_total", "Failed attempts to apply a remote state to a local cursor.", remoteLabels)
	m.CursorsRefused = counter("cursors_refused_total", "Reads of a local cursor refused and not exported: a position beyond the last confirmed entry or outside the topic's ledgers.", subLabels)
	m.MirrorResets = counter("mirror_resets_total", "Resets of a mirrored cursor back to its owner's acknowledged set (the owner rewound, or acknowledgements made here by TTL, skip or an operator were undone).", subLabels)
	m.SubsDeleted = counter("subscriptions_deleted_total", "Subscriptions deleted here because their owner deleted them.", subLabels)
	m.Role = gauge("subscription_role", "This cluster's role for the subscription: 0 unowned (no consumers seen anywhere), 1 owner, 2 mirror, 3 shared (consumers on several clusters).", subLabels)
	m.TailEntries = counter("tail_entries_total", "Entries read by the tail into the index.", topicLabels)
	m.TailUnmapped = counter("tail_unmapped_total", "Replicated entries without a source-position stamp, left out of the index (never acknowledged by subsync).", topicLabels)
	m.TailStampsRefused = counter("tail_stamps_refused_total", "Entries left out of the index because their identity could not be established safely, by reason (no_stamp, ambiguous_stamp, stamp_in_batch_member, batch_unreadable, not_a_batch, chunked, fetch_failed).", append(slices.Clone(topicLabels), "reason"))
	m.TailLagEntries = lagGauge("tail_lag_entries", "Entries between the tail's position and the topic's last confirmed entry (within one ledger; -1 when unknown, or while the topic cannot be read).", topicLabels)
	m.IndexRuns = gauge("index_runs", "Runs in the topic's tail index.", topicLabels)
	m.IndexPruned = counter("index_prunes_total", "Times the tail index was pruned below entries every subscription and every remote has acknowledged.", topicLabels)
	m.StoreBytes = gauge("store_size_bytes", "Approximate on-disk size of the Pebble store.", []string{"cluster"})
	m.StoreRefusing = gauge("store_writes_refused", "1 while the Pebble store refuses writes, by reason (disk_full: paused until space returns; failed: restart needed).", []string{"cluster", "reason"})
	m.SnapshotRTT = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: metricPrefix + "snapshot_rtt_seconds",
		Help:    "Snapshot request to response round-trip time through the control topic.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"cluster", "namespace", "remote_cluster"})
	reg.MustRegister(m.SnapshotRTT)
	m.SnapshotTimeouts = counter("snapshot_timeouts_total", "Snapshot requests abandoned without an answer.", []string{"cluster", "namespace", "remote_cluster"})
	m.ReplicationLag = lagGauge("replication_lag_entries", "This cluster's entries Pulsar's replicator to the remote cluster has not processed yet; -1 while the topic cannot be read.", []string{"cluster", "namespace", "topic", "remote_cluster"})
	reg.MustRegister(scrapeTime{m: m, gauges: []*prometheus.GaugeVec{m.SyncLagSeconds, m.SyncLagEntries, m.TailLagEntries, m.ReplicationLag}})
	m.TopicsInScope = gauge("topics", "Topic partitions in scope.", []string{"cluster", "namespace"})
	m.LeaseHeld = gauge("lease_held", "1 while this daemon acts for the cluster and namespace (it holds their lease); 0 while another daemon does and this one waits.", []string{"cluster", "namespace"})
	m.Errors = counter("errors_total", "Failures by operation: admin_read (a topic's cursors), tail (reader or index flush), discovery, control_publish, control_receive.", []string{"cluster", "namespace", "operation"})
	m.LastSuccess = gauge("last_success_timestamp_seconds", "When each operation last succeeded (unix seconds), by operation as in errors_total.", []string{"cluster", "namespace", "operation"})
	return m
}
