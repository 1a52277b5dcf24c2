package replicator

import (
	"slices"

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
	counter := func(name, help string, labels []string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricPrefix + name, Help: help}, labels)
		reg.MustRegister(c)
		return c
	}
	m := &Metrics{Registry: reg}
	m.SyncLagSeconds = gauge("sync_lag_seconds", "Age of the newest state applied from a remote cluster's subscription (now minus its send time).", remoteLabels)
	m.SyncLagEntries = gauge("sync_lag_entries", "Entries acknowledged on the remote cluster, present here, not yet acknowledged here.", remoteLabels)
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
	m.TailLagEntries = gauge("tail_lag_entries", "Entries between the tail's position and the topic's last confirmed entry (within one ledger; -1 when unknown).", topicLabels)
	m.IndexRuns = gauge("index_runs", "Runs in the topic's tail index.", topicLabels)
	m.IndexPruned = counter("index_prunes_total", "Times the tail index was pruned below entries every subscription and every remote has acknowledged.", topicLabels)
	m.StoreBytes = gauge("store_size_bytes", "Approximate on-disk size of the Pebble store.", []string{"cluster"})
	m.StoreRefusing = gauge("store_writes_refused", "1 while the Pebble store refuses writes, by reason (disk_full: paused until space returns; failed: restart needed).", []string{"cluster", "reason"})
	m.SnapshotRTT = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: metricPrefix + "snapshot_rtt_seconds",
		Help:    "Snapshot request to response round-trip time through the control topic.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"cluster", "namespace", "remote_cluster"})
	reg.MustRegister(m.SnapshotRTT)
	m.SnapshotTimeouts = counter("snapshot_timeouts_total", "Snapshot requests abandoned without an answer.", []string{"cluster", "namespace", "remote_cluster"})
	m.ReplicationLag = gauge("replication_lag_entries", "This cluster's entries a remote cluster had not yet received at the last snapshot.", []string{"cluster", "namespace", "topic", "remote_cluster"})
	m.TopicsInScope = gauge("topics", "Topic partitions in scope.", []string{"cluster", "namespace"})
	m.LeaseHeld = gauge("lease_held", "1 while this daemon acts for the cluster and namespace (it holds their lease); 0 while another daemon does and this one waits.", []string{"cluster", "namespace"})
	return m
}
