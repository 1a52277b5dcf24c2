package emulator

import (
	"sort"
	"strings"
	"time"

	"github.com/subsync/subsync/integration/admin"
	"github.com/subsync/subsync/integration/ledger"
	"github.com/subsync/subsync/integration/wire"
)

// backend is the broker side of one cluster's admin API.
type backend struct{ c *Cluster }

func (b backend) Topics(namespace string) ([]string, error) {
	if !b.c.meta.NamespaceExists(namespace) {
		return nil, admin.Errorf(404, "Namespace does not exist")
	}
	var out []string
	for _, t := range b.c.allTopics() {
		if t.name.namespace == namespace {
			out = append(out, t.name.full)
		}
	}
	return out, nil
}

func (b backend) PartitionedTopics(namespace string) ([]string, error) {
	if !b.c.meta.NamespaceExists(namespace) {
		return nil, admin.Errorf(404, "Namespace does not exist")
	}
	b.c.mu.Lock()
	defer b.c.mu.Unlock()
	var out []string
	for name := range b.c.partitioned {
		if tn, err := parseTopic(name); err == nil && tn.namespace == namespace {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (b backend) CreateTopic(topic string) error {
	if b.c.partitions(topic) > 0 || b.c.lookupTopic(topic) != nil {
		return admin.ErrTopicExists
	}
	_, err := b.c.topic(topic, true)
	return adminError(err)
}

func (b backend) CreatePartitionedTopic(topic string, partitions int) error {
	if b.c.partitions(topic) > 0 {
		return admin.ErrPartitionedTopicExists
	}
	if b.c.lookupTopic(topic) != nil {
		return admin.ErrTopicExists
	}
	return adminError(b.c.createPartitioned(topic, partitions))
}

func (b backend) PartitionedMetadata(topic string) (int, error) {
	return b.c.partitions(topic), nil
}

func (b backend) DeleteTopic(topic string, force bool) error {
	t := b.c.lookupTopic(topic)
	if t == nil {
		return admin.ErrTopicNotFound
	}
	t.mu.Lock()
	busy := len(t.producers) > 0
	t.mu.Unlock()
	for _, s := range t.subscriptions() {
		if len(s.consumerList()) > 0 {
			busy = true
		}
	}
	if busy && !force {
		return admin.ErrTopicBusy
	}
	for _, s := range t.subscriptions() {
		s.disconnectAll()
	}
	b.c.mu.Lock()
	delete(b.c.topics, t.name.full)
	b.c.mu.Unlock()
	t.close()
	return nil
}

func (b backend) DeletePartitionedTopic(topic string, force bool) error {
	n := b.c.partitions(topic)
	if n == 0 {
		return admin.ErrPartitionedTopicNotFound
	}
	tn, _ := parseTopic(topic)
	for i := 0; i < n; i++ {
		if err := b.DeleteTopic(partitionName(tn.full, i), force); err != nil && err != admin.ErrTopicNotFound {
			return err
		}
	}
	b.c.mu.Lock()
	delete(b.c.partitioned, tn.full)
	b.c.mu.Unlock()
	return nil
}

func (b backend) topic(name string) (*Topic, error) {
	t := b.c.lookupTopic(name)
	if t == nil {
		return nil, admin.ErrTopicNotFound
	}
	return t, nil
}

func (b backend) subscription(topic, sub string) (*Subscription, error) {
	t, err := b.topic(topic)
	if err != nil {
		return nil, err
	}
	s := t.subscription(sub)
	if s == nil {
		return nil, admin.ErrSubscriptionNotFound
	}
	return s, nil
}

func (b backend) Ledger(topic string) (*ledger.ManagedLedger, error) {
	t, err := b.topic(topic)
	if err != nil {
		return nil, err
	}
	return t.ml, nil
}

func (b backend) Subscriptions(topic string) ([]string, error) {
	t, err := b.topic(topic)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, s := range t.subscriptions() {
		out = append(out, s.name)
	}
	return out, nil
}

func (b backend) TopicStats(topic string) (admin.TopicStats, error) {
	t, err := b.topic(topic)
	if err != nil {
		return admin.TopicStats{}, err
	}
	return t.stats(), nil
}

func (b backend) CreateSubscription(topic, sub string, at ledger.Position, replicated bool) error {
	// PersistentTopicsBase.internalCreateSubscriptionForNonPartitionedTopic
	// loads the topic with allowAutoTopicCreation (default true).
	t, err := b.c.topic(topic, true)
	if err != nil {
		return adminError(err)
	}
	if strings.HasPrefix(sub, replicatorCursorPrefix) {
		return admin.Errorf(412, "Subscription name %q is reserved for replicators", sub)
	}
	if t.subscription(sub) != nil {
		return admin.ErrSubscriptionExists
	}
	// Pulsar creates the cursor at Latest (every entry acknowledged, and
	// persisted so), then resets it to the requested position, Earliest
	// included, in a second step: a reader in between sees the cursor at
	// the end of the topic, as on a real broker.
	o := subscribeOptions{durable: true, replicated: replicated, initial: wire.InitialPosition_Latest}
	s, created, err := t.getOrCreateSubscription(sub, o)
	if err != nil {
		return adminError(err)
	}
	if !created {
		return admin.ErrSubscriptionExists
	}
	if at != admin.Latest {
		s.resetCursor(at)
	}
	return nil
}

func (b backend) DeleteSubscription(topic, sub string, force bool) error {
	t, err := b.topic(topic)
	if err != nil {
		return err
	}
	return adminError(t.unsubscribe(sub, nil, force))
}

func (b backend) ResetCursor(topic, sub string, to ledger.Position) error {
	s, err := b.subscription(topic, sub)
	if err != nil {
		return err
	}
	s.resetCursor(to)
	return nil
}

func (b backend) ResetCursorByTime(topic, sub string, unixMs int64) error {
	s, err := b.subscription(topic, sub)
	if err != nil {
		return err
	}
	s.resetCursor(s.topic.ml.FindByPublishTime(unixMs))
	return nil
}

func (b backend) SkipMessages(topic, sub string, n int64) error {
	s, err := b.subscription(topic, sub)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.cursor.SkipEntries(n)
	s.mu.Unlock()
	s.afterAck()
	return nil
}

func (b backend) SkipAll(topic, sub string) error {
	s, err := b.subscription(topic, sub)
	if err != nil {
		return err
	}
	s.mu.Lock()
	err = s.cursor.MarkDelete(s.topic.ml.LastConfirmed())
	s.mu.Unlock()
	s.afterAck()
	return adminError(err)
}

func (b backend) MessageByID(topic string, p ledger.Position) (admin.Message, error) {
	t, err := b.topic(topic)
	if err != nil {
		return admin.Message{}, err
	}
	e, ok := t.ml.Get(p)
	if !ok || e.Marker {
		return admin.Message{}, admin.ErrMessageNotFound
	}
	pe, err := wire.ParseEntry(e.Data)
	if err != nil {
		return admin.Message{}, admin.Errorf(500, "entry %s is unreadable: %v", p, err)
	}
	payload, err := decompress(pe.Meta.GetCompression(), pe.Payload, pe.Meta.GetUncompressedSize())
	if err != nil {
		return admin.Message{}, admin.Errorf(500, "entry %s does not decompress: %v", p, err)
	}
	m := admin.Message{
		Position:       p,
		Payload:        payload,
		PublishTime:    int64(pe.Meta.GetPublishTime()),
		EventTime:      int64(pe.Meta.GetEventTime()),
		Properties:     map[string]string{},
		ProducerName:   pe.Meta.GetProducerName(),
		SequenceID:     int64(pe.Meta.GetSequenceId()),
		ReplicatedFrom: pe.Meta.GetReplicatedFrom(),
		PartitionKey:   pe.Meta.GetPartitionKey(),
	}
	if pe.Meta.NumMessagesInBatch != nil {
		m.NumMessagesInBatch = pe.Meta.GetNumMessagesInBatch()
	}
	for _, kv := range pe.Meta.GetProperties() {
		m.Properties[kv.GetKey()] = kv.GetValue()
	}
	return m, nil
}

// adminError maps the broker's errors onto Pulsar's admin answers.
func adminError(err error) error {
	if err == nil {
		return nil
	}
	code := 500
	switch errorCode(err) {
	case wire.ServerError_TopicNotFound, wire.ServerError_SubscriptionNotFound:
		code = 404
	case wire.ServerError_ConsumerBusy:
		code = 412
	}
	if code == 500 && strings.Contains(err.Error(), "expected") {
		code = 412
	}
	return admin.Errorf(code, "%s", err.Error())
}

// stats builds Pulsar's topic stats.
func (t *Topic) stats() admin.TopicStats {
	st := admin.TopicStats{
		MsgInCounter:   t.msgInCount.Load(),
		BytesInCounter: t.bytesIn.Load(),
		StorageSize:    t.ml.TotalSize(),
		Publishers:     []admin.PublisherStats{},
		Subscriptions:  map[string]admin.SubscriptionStats{},
		Replication:    map[string]admin.ReplicatorStats{},
	}
	t.mu.Lock()
	for _, p := range t.producers {
		st.Publishers = append(st.Publishers, admin.PublisherStats{ProducerName: p.name, ProducerID: int64(p.id), AccessMode: "Shared"})
	}
	repls := make(map[string]*replicator, len(t.replicators))
	for n, r := range t.replicators {
		repls[n] = r
	}
	t.mu.Unlock()
	for _, s := range t.subscriptions() {
		st.Subscriptions[s.name] = s.stats()
	}
	for n, r := range repls {
		st.Replication[n] = admin.ReplicatorStats{
			ReplicationBacklog: r.cursor.Backlog(),
			Connected:          t.cluster.sim.linkUp(t.cluster.name, n),
		}
	}
	return st
}

func (s *Subscription) stats() admin.SubscriptionStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := admin.SubscriptionStats{
		MsgOutCounter: s.msgOut,
		MsgBacklog:    s.cursor.Backlog(),
		Type:          s.typeName(),
		IsDurable:     s.durable,
		IsReplicated:  s.replicated,
		Consumers:     []admin.ConsumerStats{},

		LastConsumedFlowTimestamp: s.lastFlow,
	}
	if s.active != nil {
		st.ActiveConsumerName = s.active.name
	}
	for _, c := range s.consumers {
		unacked := 0
		for _, owner := range s.pending {
			if owner == c {
				unacked++
			}
		}
		st.Consumers = append(st.Consumers, admin.ConsumerStats{ConsumerName: c.name,
			AvailablePermits: int(c.permits), UnackedMessages: unacked,
			ConnectedSince: time.Now().UTC().Format(time.RFC3339)})
		st.UnackedMessages += int64(unacked)
	}
	return st
}

// typeName is the subscription type as Pulsar's stats print it: "None"
// until a consumer has attached (no dispatcher yet).
func (s *Subscription) typeName() string {
	if !s.dispatcher {
		return "None"
	}
	return s.subType.String()
}
