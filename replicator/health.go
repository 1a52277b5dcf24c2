package replicator

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The operations whose failures are counted (errors_total) and whose last
// success is exported (last_success_timestamp_seconds), per namespace.
const (
	opAdminRead      = "admin_read"      // a topic's cursors (stats, internalStats)
	opTail           = "tail"            // the tail's reader and its flushes to the store
	opDiscovery      = "discovery"       // replication clusters and the topic list
	opControlPublish = "control_publish" // an update or snapshot message sent
	opControlReceive = "control_receive" // a message received from the control topic
)

var operations = []string{opAdminRead, opTail, opDiscovery, opControlPublish, opControlReceive}

// health is what the daemon knows of its own freshness: when each
// operation last succeeded, how far each subscription is behind each
// remote it follows, and each namespace's lease. The lag gauges are
// computed from it (and from the workers' last reads) when /metrics is
// scraped, so that a gauge never stays at the value of the last read that
// worked: while reads fail, the lag grows and the entry counts say -1
// (unknown).
type health struct {
	d  *Daemon
	mu sync.Mutex
	// last is when each operation last succeeded, per namespace.
	last map[nsOp]time.Time
	// pairs are the subscription/remote pairs this cluster follows (the
	// owner it mirrors, or the active clusters it takes the union of).
	pairs map[pairKey]*pairLag
	// topics are the topic partitions whose gauges were exported, and
	// their namespace: their gauges say "unknown" while their worker is
	// stopped by a lease this daemon cannot confirm, and go when another
	// daemon acts for the namespace.
	topics map[string]string
	// leases are each namespace's lease as the lease loop last saw it.
	leases map[string]leaseView
}

type nsOp struct{ namespace, op string }

type pairKey struct{ topic, sub, remote string }

// pairLag is how far one subscription here is behind one remote.
type pairLag struct {
	namespace string
	// checkedAt is the last time the pending count was computed from a
	// fresh read of the local cursor; pending is that count.
	checkedAt time.Time
	pending   int64
	// behindSince is when the oldest acknowledgement still pending was
	// sent by the remote (zero while nothing is pending).
	behindSince time.Time
}

// leaseView is one namespace's lease: held by this daemon, and whether
// the holder cannot confirm it (the local broker does not answer).
type leaseView struct {
	holding     bool
	unconfirmed time.Duration
}

func newHealth(d *Daemon) *health {
	return &health{d: d, last: map[nsOp]time.Time{}, pairs: map[pairKey]*pairLag{}, topics: map[string]string{},
		leases: map[string]leaseView{}}
}

// failed counts a failure of op in namespace.
func (h *health) failed(namespace, op string) {
	h.d.metrics.Errors.WithLabelValues(h.d.cfg.Cluster, namespace, op).Inc()
}

// succeeded records a success of op in namespace.
func (h *health) succeeded(namespace, op string) {
	now := h.d.now()
	h.mu.Lock()
	h.last[nsOp{namespace, op}] = now
	h.mu.Unlock()
	h.d.metrics.LastSuccess.WithLabelValues(h.d.cfg.Cluster, namespace, op).Set(float64(now.UnixMilli()) / 1000)
}

// lease records what the namespace's lease loop found at now.
func (h *health) lease(namespace string, s *leaseState, now time.Time) {
	v := leaseView{holding: s.holding()}
	if v.holding && now.Sub(s.confirmed) > s.ttl {
		v.unconfirmed = now.Sub(s.confirmed)
	}
	h.mu.Lock()
	h.leases[namespace] = v
	h.mu.Unlock()
}

// staleAfter is how old the last successful read of the local broker may
// be before the daemon says it cannot read it: a few export intervals, at
// least 5 s (the failover check's CLI uses the same bound).
func (d *Daemon) staleAfter() time.Duration {
	return max(5*d.cfg.ExportInterval, 5*time.Second)
}

// brokerReadable is the readiness condition on the local broker: in every
// namespace this daemon holds the lease of, the lease is confirmed and,
// while it acts with topics to read, a read of their cursors succeeded
// within staleAfter.
func (d *Daemon) brokerReadable() error {
	now := d.now()
	var errs []error
	for _, ns := range d.cfg.Namespaces {
		d.health.mu.Lock()
		lv := d.health.leases[ns]
		lastRead := d.health.last[nsOp{ns, opAdminRead}]
		d.health.mu.Unlock()
		if lv.unconfirmed > 0 {
			errs = append(errs, fmt.Errorf("namespace %s: the lease has not been confirmed for %s: the local broker does not answer",
				ns, lv.unconfirmed.Round(time.Millisecond)))
			continue
		}
		work := d.workOf(ns)
		if work == nil || !d.hasWorkers(ns) {
			continue
		}
		since := time.UnixMilli(work.epoch)
		if lastRead.After(since) {
			since = lastRead
		}
		if age := now.Sub(since); age > d.staleAfter() {
			errs = append(errs, fmt.Errorf("namespace %s: no read of the local cursors has succeeded for %s",
				ns, age.Round(time.Millisecond)))
		}
	}
	return errors.Join(errs...)
}

func (d *Daemon) hasWorkers(ns string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, w := range d.workers {
		if w.namespace == ns {
			return true
		}
	}
	return false
}

// noteSources records which remotes sub follows after a round (the
// engine's Ready.Sources): the owner it mirrors, or the active clusters
// whose union it applies; none when it applies nothing. A pair it no
// longer follows loses its lag series. (h.mu is never held while w.mu is
// taken.)
func (w *worker) noteSources(sub string, sources []string) {
	h := w.d.health
	h.mu.Lock()
	defer h.mu.Unlock()
	for k := range h.pairs {
		if k.topic == w.topic && k.sub == sub && !slices.Contains(sources, k.remote) {
			delete(h.pairs, k)
			w.d.deletePairSeries(w.namespace, k)
		}
	}
	for _, remote := range sources {
		k := pairKey{w.topic, sub, remote}
		if _, ok := h.pairs[k]; !ok {
			h.pairs[k] = &pairLag{namespace: w.namespace}
		}
	}
}

// noteApplied records, for every remote sub follows, how many wanted
// acknowledgements the local cursor lacks after this round (pending), as
// of a read at now. The remotes' updates carry their send time, so a
// pending acknowledgement is as old as the update that brought it.
func (w *worker) noteApplied(now time.Time, sub string, pending int64) {
	sentAt := map[string]time.Time{}
	w.mu.Lock()
	for k, is := range w.imported {
		if k.sub == sub && !is.sentAt.IsZero() && is.sentAt.Before(now) {
			sentAt[k.remote] = is.sentAt
		}
	}
	w.mu.Unlock()
	h := w.d.health
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, p := range h.pairs {
		if k.topic != w.topic || k.sub != sub {
			continue
		}
		switch {
		case pending == 0:
			p.behindSince = time.Time{}
		case p.behindSince.IsZero():
			p.behindSince = now
			if t, ok := sentAt[k.remote]; ok {
				p.behindSince = t
			}
		}
		p.checkedAt, p.pending = now, pending
	}
}

// lagAt is the pair's sync lag at now: 0 while nothing is pending and the
// local cursor was read within staleAfter; the age of the oldest pending
// acknowledgement while some are pending; the time since the last fresh
// check while reads fail. Entries is the pending count, -1 when stale.
func (p *pairLag) lagAt(now time.Time, staleAfter time.Duration) (seconds float64, entries int64) {
	switch {
	case !p.behindSince.IsZero():
		seconds = max(0, now.Sub(p.behindSince).Seconds())
	case p.checkedAt.IsZero():
		return 0, -1
	case now.Sub(p.checkedAt) > staleAfter:
		seconds = now.Sub(p.checkedAt).Seconds()
	}
	if now.Sub(p.checkedAt) > staleAfter {
		return seconds, -1
	}
	return seconds, p.pending
}

// pairLag returns the lag of sub towards remote, and whether this cluster
// follows that remote for sub.
func (d *Daemon) pairLag(topic, sub, remote string, now time.Time) (float64, bool) {
	d.health.mu.Lock()
	defer d.health.mu.Unlock()
	p, ok := d.health.pairs[pairKey{topic, sub, remote}]
	if !ok {
		return 0, false
	}
	s, _ := p.lagAt(now, d.staleAfter())
	return s, true
}

func (d *Daemon) deletePairSeries(ns string, k pairKey) {
	labels := []string{d.cfg.Cluster, ns, k.topic, k.sub, k.remote}
	d.metrics.SyncLagSeconds.DeleteLabelValues(labels...)
	d.metrics.SyncLagEntries.DeleteLabelValues(labels...)
	d.metrics.Deferred.DeleteLabelValues(labels...)
}

// refreshGauges sets the lag gauges from the engine's state, at scrape
// time: the sync lag of every pair followed, and each topic's tail and
// replication lag from its last read when that is fresh, -1 (unknown)
// when it is not. Series of namespaces another daemon acts for go.
func (d *Daemon) refreshGauges() {
	now := d.now()
	stale := d.staleAfter()
	workers := map[string]*worker{}
	for _, w := range d.workerList() {
		workers[w.topic] = w
	}
	h := d.health
	h.mu.Lock()
	for topic, w := range workers {
		h.topics[topic] = w.namespace
	}
	topics := make(map[string]string, len(h.topics))
	for topic, ns := range h.topics {
		if !d.keepsSeriesLocked(ns) {
			delete(h.topics, topic)
			for k := range h.pairs {
				if k.topic == topic {
					delete(h.pairs, k)
				}
			}
			d.deleteTopicSeries(topic)
			continue
		}
		topics[topic] = ns
	}
	for k, p := range h.pairs {
		seconds, entries := p.lagAt(now, stale)
		labels := []string{d.cfg.Cluster, p.namespace, k.topic, k.sub, k.remote}
		d.metrics.SyncLagSeconds.WithLabelValues(labels...).Set(seconds)
		d.metrics.SyncLagEntries.WithLabelValues(labels...).Set(float64(entries))
	}
	h.mu.Unlock()
	for topic, ns := range topics {
		w := workers[topic]
		if w != nil {
			w.mu.Lock()
			ts, at := w.state, w.stateAt
			w.mu.Unlock()
			if !at.IsZero() && now.Sub(at) <= stale {
				w.reportTailLag(ts)
				w.reportReplicationLag()
				continue
			}
		}
		d.metrics.TailLagEntries.WithLabelValues(d.cfg.Cluster, ns, topic).Set(-1)
		for _, remote := range d.remotesOf(ns) {
			d.metrics.ReplicationLag.WithLabelValues(d.cfg.Cluster, ns, topic, remote).Set(-1)
		}
	}
}

// keepsSeriesLocked: this daemon acts for the namespace, or holds its
// lease without acting (the grace after taking it, or a broker it cannot
// reach): its lag is this daemon's to show (h.mu held).
func (d *Daemon) keepsSeriesLocked(ns string) bool {
	return d.workOf(ns) != nil || d.health.leases[ns].holding
}

func (d *Daemon) deleteTopicSeries(topic string) {
	match := prometheus.Labels{"topic": topic}
	for _, g := range []*prometheus.GaugeVec{d.metrics.SyncLagSeconds, d.metrics.SyncLagEntries, d.metrics.Deferred,
		d.metrics.TailLagEntries, d.metrics.ReplicationLag, d.metrics.IndexRuns, d.metrics.Role} {
		g.DeletePartialMatch(match)
	}
}
