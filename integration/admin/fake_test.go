package admin

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsaradmin"
	"github.com/subsync/subsync/integration/ledger"
)

// fakeBackend is an in-memory Backend over real managed ledgers, following
// the contract documented on Backend. It records resets so tests can
// assert what the server asked for.
type fakeBackend struct {
	md *Metadata

	mu          sync.Mutex
	nextLedger  int64
	topics      map[string]*fakeTopic
	partitioned map[string]int
	resets      []string // "topic|sub|L:E" or "topic|sub|@ms"
	fail        error    // when set, every call fails with it
}

type fakeTopic struct {
	ml        *ledger.ManagedLedger
	consumers map[string]int // subscription -> connected consumers
	stats     TopicStats     // extra stats the test wants reported
}

func newFakeBackend(md *Metadata) *fakeBackend {
	return &fakeBackend{md: md, topics: map[string]*fakeTopic{}, partitioned: map[string]int{}, nextLedger: 10}
}

func namespaceOf(topic string) string {
	rest := strings.TrimPrefix(topic, "persistent://")
	i := strings.LastIndex(rest, "/")
	return rest[:i]
}

func (b *fakeBackend) failing() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.fail
}

// addTopicLocked creates the ledger; ids are shared across topics like a
// cluster's allocator. Two entries per ledger so rollovers show up.
func (b *fakeBackend) addTopicLocked(name string) *fakeTopic {
	ml := ledger.New(name, ledger.Config{MaxEntriesPerLedger: 2, NextLedgerID: func() int64 {
		b.nextLedger++
		return b.nextLedger
	}})
	t := &fakeTopic{ml: ml, consumers: map[string]int{}}
	b.topics[name] = t
	return t
}

func (b *fakeBackend) topic(name string) (*fakeTopic, error) {
	if err := b.failing(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.topics[name]
	if !ok {
		return nil, ErrTopicNotFound
	}
	return t, nil
}

func (b *fakeBackend) cursor(topic, sub string) (*fakeTopic, *ledger.Cursor, error) {
	t, err := b.topic(topic)
	if err != nil {
		return nil, nil, err
	}
	c, ok := t.ml.Cursor(sub)
	if !ok {
		return nil, nil, ErrSubscriptionNotFound
	}
	return t, c, nil
}

func (b *fakeBackend) Topics(ns string) ([]string, error) {
	if err := b.failing(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	out := []string{}
	for name := range b.topics {
		if namespaceOf(name) == ns {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (b *fakeBackend) PartitionedTopics(ns string) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := []string{}
	for name := range b.partitioned {
		if namespaceOf(name) == ns {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (b *fakeBackend) CreateTopic(topic string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.topics[topic]; ok || b.partitioned[topic] > 0 {
		return ErrTopicExists
	}
	b.addTopicLocked(topic)
	return nil
}

func (b *fakeBackend) CreatePartitionedTopic(topic string, n int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.partitioned[topic] > 0 {
		return ErrPartitionedTopicExists
	}
	if _, ok := b.topics[topic]; ok {
		return ErrTopicExists
	}
	b.partitioned[topic] = n
	for i := range n {
		b.addTopicLocked(fmt.Sprintf("%s-partition-%d", topic, i))
	}
	return nil
}

func (b *fakeBackend) PartitionedMetadata(topic string) (int, error) {
	if err := b.failing(); err != nil {
		return 0, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.partitioned[topic], nil
}

func (b *fakeBackend) DeleteTopic(topic string, force bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.topics[topic]
	if !ok {
		return ErrTopicNotFound
	}
	for _, n := range t.consumers {
		if n > 0 && !force {
			return ErrTopicBusy
		}
	}
	delete(b.topics, topic)
	return nil
}

func (b *fakeBackend) DeletePartitionedTopic(topic string, force bool) error {
	b.mu.Lock()
	n := b.partitioned[topic]
	b.mu.Unlock()
	if n == 0 {
		return ErrPartitionedTopicNotFound
	}
	for i := range n {
		if err := b.DeleteTopic(fmt.Sprintf("%s-partition-%d", topic, i), force); err != nil && err != ErrTopicNotFound {
			return err
		}
	}
	b.mu.Lock()
	delete(b.partitioned, topic)
	b.mu.Unlock()
	return nil
}

func (b *fakeBackend) Ledger(topic string) (*ledger.ManagedLedger, error) {
	t, err := b.topic(topic)
	if err != nil {
		return nil, err
	}
	return t.ml, nil
}

func (b *fakeBackend) TopicStats(topic string) (TopicStats, error) {
	t, err := b.topic(topic)
	if err != nil {
		return TopicStats{}, err
	}
	st := t.stats
	st.StorageSize = t.ml.TotalSize()
	st.MsgInCounter = t.ml.EntriesAdded()
	st.Subscriptions = map[string]SubscriptionStats{}
	for _, c := range t.ml.Cursors() {
		if strings.HasPrefix(c.Name(), "pulsar.repl.") {
			continue
		}
		st.Subscriptions[c.Name()] = SubscriptionStats{MsgBacklog: c.Backlog(), Type: "Shared", IsDurable: c.Durable()}
	}
	return st, nil
}

func (b *fakeBackend) Subscriptions(topic string) ([]string, error) {
	t, err := b.topic(topic)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, c := range t.ml.Cursors() {
		if !strings.HasPrefix(c.Name(), "pulsar.repl.") {
			out = append(out, c.Name())
		}
	}
	return out, nil
}

func (b *fakeBackend) CreateSubscription(topic, sub string, at ledger.Position, replicated bool) error {
	t, err := b.topic(topic)
	if err != nil {
		return err
	}
	if _, ok := t.ml.Cursor(sub); ok {
		return ErrSubscriptionExists
	}
	md := t.ml.LatestMarkDelete()
	switch at {
	case Earliest:
		md = t.ml.EarliestMarkDelete()
	case Latest:
	default:
		md = t.ml.Prev(at)
	}
	props := map[string]int64{}
	if replicated {
		props["pulsar.replicated.subscription"] = 1
	}
	t.ml.OpenCursor(sub, md, ledger.CursorOptions{Durable: true, Properties: props})
	return nil
}

func (b *fakeBackend) DeleteSubscription(topic, sub string, force bool) error {
	t, _, err := b.cursor(topic, sub)
	if err != nil {
		return err
	}
	b.mu.Lock()
	busy := t.consumers[sub] > 0
	b.mu.Unlock()
	if busy && !force {
		return ErrSubscriptionBusy
	}
	t.ml.DeleteCursor(sub)
	return nil
}

func (b *fakeBackend) ResetCursor(topic, sub string, to ledger.Position) error {
	_, c, err := b.cursor(topic, sub)
	if err != nil {
		return err
	}
	c.ResetTo(to)
	b.mu.Lock()
	b.resets = append(b.resets, topic+"|"+sub+"|"+to.String())
	b.mu.Unlock()
	return nil
}

func (b *fakeBackend) ResetCursorByTime(topic, sub string, ms int64) error {
	t, c, err := b.cursor(topic, sub)
	if err != nil {
		return err
	}
	c.ResetTo(t.ml.FindByPublishTime(ms))
	b.mu.Lock()
	b.resets = append(b.resets, fmt.Sprintf("%s|%s|@%d", topic, sub, ms))
	b.mu.Unlock()
	return nil
}

func (b *fakeBackend) SkipMessages(topic, sub string, n int64) error {
	_, c, err := b.cursor(topic, sub)
	if err != nil {
		return err
	}
	c.SkipEntries(n)
	return nil
}

func (b *fakeBackend) SkipAll(topic, sub string) error {
	t, c, err := b.cursor(topic, sub)
	if err != nil {
		return err
	}
	return c.MarkDelete(t.ml.LastConfirmed())
}

// MessageByID serves the entry's Data as payload; a test entry's Data is
// "key=value;...|payload" for properties.
func (b *fakeBackend) MessageByID(topic string, p ledger.Position) (Message, error) {
	t, err := b.topic(topic)
	if err != nil {
		return Message{}, err
	}
	e, ok := t.ml.Get(p)
	if !ok || e.Marker {
		return Message{}, ErrMessageNotFound
	}
	m := Message{Position: p, PublishTime: e.PublishTime, SequenceID: 7, ProducerName: "prod-a", Properties: map[string]string{}}
	props, payload, _ := strings.Cut(string(e.Data), "|")
	for _, kv := range strings.Split(props, ";") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m.Properties[k] = v
		}
	}
	m.Payload = []byte(payload)
	if e.NumMessages > 1 {
		m.NumMessagesInBatch = e.NumMessages
	}
	return m, nil
}

// append adds n entries published at ms+i to a topic.
func (b *fakeBackend) append(t *testing.T, topic string, n int, ms int64) []ledger.Position {
	t.Helper()
	ft, err := b.topic(topic)
	if err != nil {
		t.Fatalf("append to %s: %v", topic, err)
	}
	var out []ledger.Position
	for i := range n {
		out = append(out, ft.ml.Append(ledger.Entry{
			Data: []byte(fmt.Sprintf("k=v%d|payload-%d", i, i)), NumMessages: 1,
			PublishTime: ms + int64(i), BrokerTime: ms + int64(i),
		}))
	}
	return out
}

func (b *fakeBackend) setConsumers(topic, sub string, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.topics[topic].consumers[sub] = n
}

// fakeSim records /sim calls.
type fakeSim struct {
	mu    sync.Mutex
	calls []string
}

func (f *fakeSim) record(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
	if strings.Contains(s, "nowhere") {
		return Errorf(http.StatusNotFound, "Unknown cluster nowhere")
	}
	return nil
}

func (f *fakeSim) PauseLink(from, to string) error  { return f.record("pause " + from + ">" + to) }
func (f *fakeSim) ResumeLink(from, to string) error { return f.record("resume " + from + ">" + to) }
func (f *fakeSim) SetLinkLatency(from, to string, d time.Duration) error {
	return f.record(fmt.Sprintf("latency %s>%s %s", from, to, d))
}
func (f *fakeSim) StopCluster(name string) error  { return f.record("stop " + name) }
func (f *fakeSim) StartCluster(name string) error { return f.record("start " + name) }
func (f *fakeSim) Status() any {
	return map[string]any{"clusters": []string{"a", "b"}}
}

// env is one emulated cluster "a" (of a sim with "a" and "b") behind an
// httptest server, with a real pulsaradmin client.
type env struct {
	md      *Metadata
	backend *fakeBackend
	sim     *fakeSim
	srv     *httptest.Server
	client  pulsaradmin.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	md := NewMetadata("a")
	err := md.SeedStandalone(map[string]ClusterData{
		"a": {ServiceURL: "http://127.0.0.1:1", BrokerServiceURL: "pulsar://127.0.0.1:2"},
		"b": {ServiceURL: "http://127.0.0.1:3", BrokerServiceURL: "pulsar://127.0.0.1:4"},
	})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	be := newFakeBackend(md)
	sim := &fakeSim{}
	srv := httptest.NewServer(NewServer(md, be, WithSim(sim)))
	t.Cleanup(srv.Close)
	client, err := pulsaradmin.NewClient(&pulsaradmin.Config{WebServiceURL: srv.URL})
	if err != nil {
		t.Fatalf("pulsaradmin client: %v", err)
	}
	return &env{md: md, backend: be, sim: sim, srv: srv, client: client}
}
