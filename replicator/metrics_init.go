package replicator

import (
	"github.com/subsync/subsync/cursor"
	"github.com/subsync/subsync/snapshot"
)

// Counters are created at zero as soon as their label set is known, so a
// rate() or increase() over a fresh daemon sees 0 rather than no series,
// and an alert on the first bad_signature fires on the first one, not on
// the second (Prometheus cannot compute an increase from a series that
// appears with the value 1).

// rejectReasons are every reason updates_rejected_total is counted with.
func rejectReasons() []string {
	out := []string{"stale", "gap", "bad_payload", "out_of_scope", "system_cursor", "unknown_sender", "epoch_ahead",
		"inbox_full", "snapshot_request_replayed", "snapshot_request_bad_id"}
	for _, r := range []snapshot.Reason{snapshot.ReasonMalformed, snapshot.ReasonUnsupportedVersion,
		snapshot.ReasonUnknownKey, snapshot.ReasonBadSignature, snapshot.ReasonUnsupportedType} {
		out = append(out, r.String())
	}
	// NotOurs is normal on a shared control topic and never counted;
	// Accepted is not a rejection.
	for _, o := range []snapshot.Outcome{snapshot.UnknownID, snapshot.Late, snapshot.Duplicate,
		snapshot.WrongTopic, snapshot.UnexpectedResponder} {
		out = append(out, "snapshot_"+o.String())
	}
	return out
}

// updateKinds and messageTypes are the fixed values of the kind and type
// labels.
var (
	updateKinds  = []string{"full", "delta"}
	messageTypes = []string{
		snapshot.TypeUpdate.String(), snapshot.TypeSnapshotRequest.String(), snapshot.TypeSnapshotResponse.String(),
	}
)

// InitNamespace creates a namespace's counters at zero: those with fixed
// labels, and the per-remote ones for each remote cluster it replicates
// to.
func (m *Metrics) InitNamespace(cluster, namespace string, remotes []string) {
	for _, k := range updateKinds {
		m.UpdatesSent.WithLabelValues(cluster, namespace, k)
	}
	for _, r := range rejectReasons() {
		m.UpdatesRejected.WithLabelValues(cluster, namespace, r)
	}
	for _, remote := range remotes {
		for _, t := range messageTypes {
			m.UpdatesReceived.WithLabelValues(cluster, namespace, remote, t)
		}
		m.SnapshotTimeouts.WithLabelValues(cluster, namespace, remote)
	}
	for _, op := range operations {
		m.Errors.WithLabelValues(cluster, namespace, op)
	}
}

// InitTopic creates a topic partition's counters at zero.
func (m *Metrics) InitTopic(cluster, namespace, topic string) {
	m.TailEntries.WithLabelValues(cluster, namespace, topic)
	m.TailUnmapped.WithLabelValues(cluster, namespace, topic)
	m.IndexPruned.WithLabelValues(cluster, namespace, topic)
	for _, r := range stampRefusals {
		m.TailStampsRefused.WithLabelValues(cluster, namespace, topic, r)
	}
}

// InitSubscription creates a subscription's counters at zero, with those
// per remote cluster.
func (m *Metrics) InitSubscription(cluster, namespace, topic, sub string, remotes []string) {
	m.AcksExported.WithLabelValues(cluster, namespace, topic, sub)
	m.CursorsRefused.WithLabelValues(cluster, namespace, topic, sub)
	m.MirrorResets.WithLabelValues(cluster, namespace, topic, sub)
	m.SubsDeleted.WithLabelValues(cluster, namespace, topic, sub)
	for _, remote := range remotes {
		labels := []string{cluster, namespace, topic, sub, remote}
		m.AcksImported.WithLabelValues(labels...)
		m.AcksApplied.WithLabelValues(labels...)
		m.AcksDeferred.WithLabelValues(labels...)
		m.AcksSkipped.WithLabelValues(labels...)
		m.ApplyErrors.WithLabelValues(labels...)
	}
}

// zeroCounters creates the counters of subscriptions and remotes seen for
// the first time (loop goroutine only).
func (w *worker) zeroCounters(ts cursor.TopicState) {
	remotes := w.d.remotesOf(w.namespace)
	for sub := range ts.Subscriptions {
		if !w.d.subscriptionInScope(sub) {
			continue
		}
		own := subRemote{sub: sub}
		fresh := !w.zeroed[own]
		w.zeroed[own] = true
		var newRemotes []string
		for _, r := range remotes {
			if k := (subRemote{sub, r}); !w.zeroed[k] {
				w.zeroed[k] = true
				newRemotes = append(newRemotes, r)
			}
		}
		if fresh || len(newRemotes) > 0 {
			w.d.metrics.InitSubscription(w.d.cfg.Cluster, w.namespace, w.topic, sub, newRemotes)
		}
	}
}
