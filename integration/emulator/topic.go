package emulator

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/subsync/subsync/integration/ledger"
	"github.com/subsync/subsync/integration/wire"
)

var (
	errTopicNotFound        = errors.New("topic not found")
	errNamespaceNotFound    = errors.New("namespace not found")
	errSubscriptionNotFound = errors.New("subscription not found")
	errAlreadyExists        = errors.New("already exists")
	errConsumerBusy         = errors.New("consumer busy")
	errHasConsumers         = errors.New("subscription has active consumers")
	errProducerBusy         = errors.New("producer busy")
)

// Topic is one persistent topic (or partition) on one cluster.
type Topic struct {
	cluster *Cluster
	name    topicName
	ml      *ledger.ManagedLedger

	mu          sync.Mutex
	subs        map[string]*Subscription
	producers   map[string]*producer
	replicators map[string]*replicator
	closed      bool
	stopCh      chan struct{}
	msgInCount  atomic.Int64
	bytesIn     atomic.Int64
	lastData    atomic.Int64 // unix ms of the last non-marker entry

	pip33 *replSubController
}

func newTopic(c *Cluster, tn topicName) *Topic {
	t := &Topic{
		cluster:     c,
		name:        tn,
		ml:          ledger.New(tn.full, c.ledgerConfig(tn.namespace)),
		subs:        map[string]*Subscription{},
		producers:   map[string]*producer{},
		replicators: map[string]*replicator{},
		stopCh:      make(chan struct{}),
	}
	t.pip33 = newReplSubController(t)
	return t
}

func (t *Topic) start() {
	t.syncReplicators()
	go t.pip33.run()
}

func (t *Topic) close() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	close(t.stopCh)
	subs := t.subscriptionsLocked()
	repls := make([]*replicator, 0, len(t.replicators))
	for _, r := range t.replicators {
		repls = append(repls, r)
	}
	t.mu.Unlock()
	for _, s := range subs {
		s.stopDispatcher()
	}
	for _, r := range repls {
		r.stop()
	}
}

// publish appends one entry ([metaSize][meta][payload]) and returns its
// position. Marker entries that arrive by replication are handed to the
// PIP-33 controller, as Pulsar's broker does when it writes them.
func (t *Topic) publish(raw []byte, meta *wire.Metadata, now time.Time) ledger.Position {
	e := ledger.Entry{
		Data:        raw,
		NumMessages: meta.GetNumMessagesInBatch(),
		PublishTime: int64(meta.GetPublishTime()),
		// No BrokerTime: a default broker writes no broker entry metadata,
		// so expiry and seek by time use the publish time, as in Pulsar.
		Marker: meta.MarkerType != nil,
	}
	if e.NumMessages < 1 {
		e.NumMessages = 1
	}
	pos := t.ml.Append(e)
	t.msgInCount.Add(int64(e.NumMessages))
	t.bytesIn.Add(int64(len(raw)))
	if !e.Marker {
		t.lastData.Store(now.UnixMilli())
	}
	if e.Marker && meta.GetReplicatedFrom() != "" {
		t.pip33.receivedReplicatedMarker(meta, raw, pos)
	}
	return pos
}

func (t *Topic) subscriptionsLocked() []*Subscription {
	out := make([]*Subscription, 0, len(t.subs))
	for _, s := range t.subs {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func (t *Topic) subscriptions() []*Subscription {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.subscriptionsLocked()
}

func (t *Topic) subscription(name string) *Subscription {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.subs[name]
}

// subscribeOptions carries what CommandSubscribe or the admin API ask of a
// subscription that may not exist yet.
type subscribeOptions struct {
	durable    bool
	initial    wire.InitialPosition
	start      *ledger.Position // non-durable start (already stepped back) or admin position
	replicated bool
}

// getOrCreateSubscription returns the named subscription, creating its
// cursor as Pulsar does for a new durable or non-durable subscription.
func (t *Topic) getOrCreateSubscription(name string, o subscribeOptions) (*Subscription, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, false, fmt.Errorf("topic %s is closed", t.name.full)
	}
	if s, ok := t.subs[name]; ok {
		if o.replicated && !s.replicated {
			s.setReplicated(true)
		}
		return s, false, nil
	}
	md := t.initialMarkDelete(o)
	cur, _ := t.ml.OpenCursor(name, md, ledger.CursorOptions{Durable: o.durable})
	s := newSubscription(t, name, cur, o.durable, o.replicated)
	t.subs[name] = s
	s.startDispatcher()
	return s, true, nil
}

// initialMarkDelete follows ManagedLedgerImpl / NonDurableCursorImpl:
// earliest starts before the first entry, latest at the last confirmed one,
// an explicit position is the mark-delete position.
func (t *Topic) initialMarkDelete(o subscribeOptions) ledger.Position {
	if o.start != nil {
		p := *o.start
		switch {
		case p.Ledger == -1 && p.Entry == -1:
			return t.ml.EarliestMarkDelete()
		case p.Ledger == maxInt64:
			return t.ml.LatestMarkDelete()
		}
		lac := t.ml.LastConfirmed()
		if lac.Compare(p) < 0 {
			return lac
		}
		return p
	}
	if o.initial == wire.InitialPosition_Earliest {
		return t.ml.EarliestMarkDelete()
	}
	return t.ml.LatestMarkDelete()
}

const maxInt64 = int64(^uint64(0) >> 1)

// removeSubscription deletes a subscription and its cursor.
func (t *Topic) removeSubscription(s *Subscription) {
	t.mu.Lock()
	if t.subs[s.name] == s {
		delete(t.subs, s.name)
		t.ml.DeleteCursor(s.name)
	}
	t.mu.Unlock()
	s.stopDispatcher()
}

// unsubscribe deletes a subscription unless consumers other than the
// caller hold it (Pulsar's rule); force disconnects them.
func (t *Topic) unsubscribe(name string, caller *consumer, force bool) error {
	s := t.subscription(name)
	if s == nil {
		return fmt.Errorf("subscription %s on %s: %w", name, t.name.full, errSubscriptionNotFound)
	}
	others := s.consumersExcept(caller)
	if len(others) > 0 && !force {
		return fmt.Errorf("subscription %s on %s: %w", name, t.name.full, errHasConsumers)
	}
	s.disconnectAll()
	t.removeSubscription(s)
	return nil
}

func (t *Topic) addProducer(p *producer) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.producers[p.name]; ok {
		return fmt.Errorf("producer %q on %s: %w", p.name, t.name.full, errProducerBusy)
	}
	t.producers[p.name] = p
	return nil
}

func (t *Topic) removeProducer(p *producer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.producers[p.name] == p {
		delete(t.producers, p.name)
	}
}

// remoteClusters returns the other clusters this topic's namespace
// replicates to.
func (t *Topic) remoteClusters() []string {
	var out []string
	for _, c := range t.cluster.meta.ReplicationClusters(t.name.namespace) {
		if c != t.cluster.name {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// syncReplicators starts a replicator for every remote of the namespace
// and stops those no longer listed.
func (t *Topic) syncReplicators() {
	want := map[string]bool{}
	for _, r := range t.remoteClusters() {
		if t.cluster.sim.cluster(r) != nil {
			want[r] = true
		}
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	var stopped []*replicator
	for name, r := range t.replicators {
		if !want[name] {
			stopped = append(stopped, r)
			delete(t.replicators, name)
		}
	}
	for name := range want {
		if _, ok := t.replicators[name]; !ok {
			r := newReplicator(t, name)
			t.replicators[name] = r
			go r.run()
		}
	}
	t.mu.Unlock()
	for _, r := range stopped {
		r.stop()
	}
}

// expire applies the namespace TTL to every cursor, replicators' included
// (PersistentTopic.checkMessageExpiry).
func (t *Topic) expire(now time.Time) {
	ttl := t.cluster.meta.MessageTTL(t.name.namespace)
	if ttl <= 0 {
		return
	}
	cutoff := now.Add(-ttl).UnixMilli()
	for _, c := range t.ml.Cursors() {
		c.ExpireBefore(cutoff)
	}
}
