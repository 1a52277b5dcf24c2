package replicator

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/mapping"
)

// Status reports every topic in scope whose name contains topicFilter
// (all when empty).
func (d *Daemon) Status(topicFilter string) StatusReport {
	r := StatusReport{Cluster: d.cfg.Cluster, GeneratedAt: d.now(), Topics: []TopicStatus{}}
	for _, w := range d.workerList() {
		if topicFilter != "" && !strings.Contains(w.topic, topicFilter) {
			continue
		}
		r.Topics = append(r.Topics, w.status(r.GeneratedAt))
	}
	return r
}

func (w *worker) status(now time.Time) TopicStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	ts := TopicStatus{Topic: w.topic, LastConfirmed: w.state.LastConfirmed.String(), IndexRuns: w.indexRuns,
		Remotes: []RemoteTopicStatus{}, Subscriptions: []SubscriptionStatus{}}
	if w.tail.started {
		ts.TailPosition = w.tail.position.String()
		if w.tail.position.Ledger == w.state.LastConfirmed.Ledger {
			ts.TailLagEntries = max(0, w.state.LastConfirmed.Entry-w.tail.position.Entry)
		}
	}
	for _, remote := range w.d.remotesOf(w.namespace) {
		rs := RemoteTopicStatus{Remote: remote, ReplicationLagEntries: w.replicationLagLocked(remote)}
		if s, ok := w.remotes[remote]; ok {
			rs.LastSnapshot, rs.RoundTripSeconds = s.at, s.rtt.Seconds()
		}
		ts.Remotes = append(ts.Remotes, rs)
	}
	for _, sub := range sortedKeys(w.state.Subscriptions) {
		if !w.d.subscriptionInScope(sub) {
			continue
		}
		st := w.state.Subscriptions[sub]
		ss := SubscriptionStatus{Subscription: sub, MarkDeletePosition: st.MarkDelete.String(),
			DeletedRanges: len(st.Deleted), Remotes: []SubscriptionRemoteStatus{}}
		for _, remote := range w.d.remotesOf(w.namespace) {
			ss.Remotes = append(ss.Remotes, w.subRemoteStatusLocked(now, sub, remote))
		}
		ts.Subscriptions = append(ts.Subscriptions, ss)
	}
	return ts
}

// subRemoteStatusLocked compares what this cluster exported last with
// the remote's last known set (w.mu held).
func (w *worker) subRemoteStatusLocked(now time.Time, sub, remote string) SubscriptionRemoteStatus {
	s := SubscriptionRemoteStatus{Remote: remote}
	var local, theirs ackset.Set
	if es, ok := w.exported[sub]; ok {
		local = es.set
	}
	if is, ok := w.imported[subRemote{sub, remote}]; ok {
		theirs = is.set
		s.RemoteAckedNotAppliedHere = is.notApplied
		s.LastUpdate = is.received
		s.Deferred, s.DeferReason = is.deferred, is.reason
	}
	// The same lag as pulsar_subsync_sync_lag_seconds, for a remote this
	// subscription follows.
	s.LagSeconds, s.Following = w.d.pairLag(w.topic, sub, remote, now)
	// Entries never replicated there cannot be acknowledged there, and
	// cannot be delivered again there either.
	s.LocalAckedNotAckedThere = int64(local.Difference(theirs).Difference(w.neverThereLocked(remote)).Cardinality())
	return s
}

// Mappings reports the tail index and snapshot mappings of a topic
// partition the daemon syncs; any other topic is an error wrapping
// ErrNotInScope that says what is in scope.
func (d *Daemon) Mappings(topic string) (MappingsReport, error) {
	d.mu.Lock()
	_, synced := d.workers[topic]
	d.mu.Unlock()
	if !synced {
		return MappingsReport{}, fmt.Errorf("%s: %w; %s", topic, ErrNotInScope, d.scopeDescription(topic))
	}
	return MappingsFromStore(d.deps.Store, topic)
}

// scopeDescription says what the daemon syncs, starting with the
// partitions of topic when it is a partitioned topic's name.
func (d *Daemon) scopeDescription(topic string) string {
	var partitions, synced []string
	for _, w := range d.workerList() {
		if partitionedParent(w.topic) == topic {
			partitions = append(partitions, w.topic)
		}
		synced = append(synced, w.topic)
	}
	if len(partitions) > 0 {
		return "it is partitioned: ask for one partition: " + abbreviate(partitions)
	}
	patterns := make([]string, len(d.cfg.TopicPatterns))
	for i, p := range d.cfg.TopicPatterns {
		patterns[i] = p.String()
	}
	scope := fmt.Sprintf("in scope: namespaces %s", strings.Join(d.cfg.Namespaces, ", "))
	if len(patterns) > 0 {
		scope += fmt.Sprintf(", topics matching %s", strings.Join(patterns, " or "))
	}
	if len(synced) == 0 {
		return scope + "; no topic partition synced yet"
	}
	return fmt.Sprintf("%s; %d topic partition(s) synced: %s", scope, len(synced), abbreviate(synced))
}

// abbreviate lists up to ten names.
func abbreviate(names []string) string {
	const show = 10
	if len(names) <= show {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s, ... and %d more", strings.Join(names[:show], ", "), len(names)-show)
}

// MappingsFromStore reads a topic's tail index and snapshot mappings from
// a store directly (the daemon need not run).
func MappingsFromStore(store *mapping.Store, topic string) (MappingsReport, error) {
	if topic == "" {
		return MappingsReport{}, errors.New("mappings: a topic name is required")
	}
	r := MappingsReport{Topic: topic, Runs: []RunView{}, Snapshots: []MappingView{}}
	runs, err := store.Runs(topic, minPosition, maxPosition)
	if err != nil {
		return r, fmt.Errorf("mappings of %s: %w", topic, err)
	}
	for _, run := range runs {
		r.Runs = append(r.Runs, RunView{Local: run.Local.String(), Origin: run.Origin,
			OriginStart: ackset.Position{Ledger: run.OriginLedger, Entry: run.OriginEntry}.String(), Count: run.Count})
	}
	remotes, err := store.SnapshotRemotes(topic)
	if err != nil {
		return r, fmt.Errorf("mappings of %s: %w", topic, err)
	}
	for _, remote := range remotes {
		ms, err := store.Snapshots(topic, remote)
		if err != nil {
			return r, fmt.Errorf("mappings of %s: %w", topic, err)
		}
		for _, m := range ms {
			v := MappingView{Remote: remote, Local: m.Local.String(), RemoteLAC: m.RemoteLAC.String(),
				At: time.UnixMilli(m.TimeUnixMs).UTC()}
			if m.RemoteWatermark.Ledger >= 0 {
				v.Watermark = m.RemoteWatermark.String()
			}
			r.Snapshots = append(r.Snapshots, v)
		}
	}
	return r, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
