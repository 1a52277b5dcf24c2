package replicator

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/apache/pulsar-client-go/pulsar/log"
	"github.com/apache/pulsar-client-go/pulsaradmin"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/admin/config"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"

	"github.com/subsync/subsync/integration/emulator"
	"github.com/subsync/subsync/mapping"
	"github.com/subsync/subsync/snapshot"
)

// pair is two emulated clusters with a geo-replicated namespace and a
// subsync daemon beside each.
type pair struct {
	sim     *emulator.Sim
	ns      string
	keys    *snapshot.Keyring
	clients map[string]pulsar.Client
	admins  map[string]pulsaradmin.Client
	cancel  map[string]context.CancelFunc
	done    map[string]chan struct{}
	daemons map[string]*Daemon
	dirs    map[string]string
	webs    map[string]string
}

func testKeys(t testing.TB) *snapshot.Keyring {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	kr, err := snapshot.NewKeyring(1, snapshot.Key{ID: 1, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func newPair(t *testing.T) *pair { return newPairTB(t) }

func newPairTB(t testing.TB, tweaks ...func(*emulator.ClusterOptions)) *pair {
	t.Helper()
	opts := []emulator.ClusterOptions{{Name: "east", LedgerMaxEntries: 50}, {Name: "west", LedgerMaxEntries: 50}}
	for i := range opts {
		for _, tw := range tweaks {
			tw(&opts[i])
		}
	}
	sim, err := emulator.Start(emulator.Options{Clusters: opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	p := newEmptyPair(t, "public/geo")
	p.sim = sim
	for _, c := range sim.Clusters() {
		p.addCluster(t, c.Name(), c.ServiceURL(), c.WebURL())
	}
	return p
}

func newEmptyPair(t testing.TB, ns string) *pair {
	return &pair{ns: ns, keys: testKeys(t), clients: map[string]pulsar.Client{},
		admins: map[string]pulsaradmin.Client{}, cancel: map[string]context.CancelFunc{},
		done: map[string]chan struct{}{}, daemons: map[string]*Daemon{}, dirs: map[string]string{}, webs: map[string]string{}}
}

// addCluster connects to a cluster and creates the pair's namespace there,
// replicated between east and west.
func (p *pair) addCluster(t testing.TB, name, serviceURL, webURL string) {
	t.Helper()
	adm, err := pulsaradmin.NewClient(&config.Config{WebServiceURL: webURL})
	if err != nil {
		t.Fatal(err)
	}
	if err := adm.Namespaces().CreateNamespace(p.ns); err != nil {
		t.Fatal(err)
	}
	if err := adm.Namespaces().SetNamespaceReplicationClusters(p.ns, []string{"east", "west"}); err != nil {
		t.Fatal(err)
	}
	// Zero retention would delete the standby's copies before the daemon
	// creates the subscriptions that should hold them.
	if err := adm.Namespaces().SetRetention(p.ns, utils.RetentionPolicies{RetentionTimeInMinutes: -1, RetentionSizeInMB: -1}); err != nil {
		t.Fatal(err)
	}
	cl, err := pulsar.NewClient(pulsar.ClientOptions{URL: serviceURL, Logger: log.DefaultNopLogger(), OperationTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	p.clients[name], p.admins[name] = cl, adm
	p.dirs[name], p.webs[name] = t.TempDir(), webURL
}

func (p *pair) startDaemon(t *testing.T, cluster string) {
	p.startDaemonTB(t, cluster, 100*time.Millisecond)
}

func (p *pair) startDaemonTB(t testing.TB, cluster string, exportInterval time.Duration) {
	t.Helper()
	store, err := mapping.Open(p.dirs[cluster])
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv("SUBSYNC_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	d, err := New(Config{Cluster: cluster, Namespaces: []string{p.ns}, Keys: p.keys,
		ExportInterval: exportInterval, SnapshotInterval: 500 * time.Millisecond,
		DiscoveryInterval: 300 * time.Millisecond, LeaseInterval: 100 * time.Millisecond,
		ExcludeSubscriptions: []*regexp.Regexp{regexp.MustCompile("^pip33")}},
		Deps{Client: p.clients[cluster], Admin: p.admins[cluster], Store: store, Logger: logger.With("daemon", cluster),
			Entries: HTTPEntries{WebServiceURL: p.webs[cluster]}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := d.Run(ctx); err != nil {
			t.Errorf("daemon %s: %v", cluster, err)
		}
		store.Close()
	}()
	p.cancel[cluster], p.done[cluster], p.daemons[cluster] = cancel, done, d
	t.Cleanup(func() { p.stopDaemon(cluster) })
}

func (p *pair) stopDaemon(cluster string) {
	if c, ok := p.cancel[cluster]; ok {
		c()
		<-p.done[cluster]
		delete(p.cancel, cluster)
	}
}

func eventually(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v: %v", what, timeout, err)
}

func TestOutOfOrderAcksReachTheStandby(t *testing.T) {
	p := newPair(t)
	topic := "persistent://" + p.ns + "/orders"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	east := p.clients["east"]
	cons, err := east.Subscribe(pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "billing", Type: pulsar.Shared,
		SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest})
	if err != nil {
		t.Fatal(err)
	}
	p.startDaemon(t, "east")
	p.startDaemon(t, "west")
	prod, err := east.CreateProducer(pulsar.ProducerOptions{Topic: topic, DisableBatching: true})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	for i := 0; i < n; i++ {
		if _, err := prod.Send(ctx, &pulsar.ProducerMessage{Payload: []byte(strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
	held := consumeHolding(ctx, t, cons, n, func(i int) bool { return i%10 == 3 })
	cons.Close()
	failoverExpectingOnly(ctx, t, p, topic, "billing", held)
}

// backlog reads a subscription's backlog on one cluster.
func backlog(p *pair, cluster, topic, sub string) (int64, error) {
	tn, err := utils.GetTopicName(topic)
	if err != nil {
		return 0, err
	}
	st, err := p.admins[cluster].Topics().GetStats(*tn)
	if err != nil {
		return 0, err
	}
	s, ok := st.Subscriptions[sub]
	if !ok {
		return 0, fmt.Errorf("no %s subscription on %s yet", sub, cluster)
	}
	return s.MsgBacklog, nil
}

// consumeHolding receives n messages and acknowledges each, except those
// hold picks by receive order; it returns the held payloads.
func consumeHolding(ctx context.Context, t *testing.T, cons pulsar.Consumer, n int, hold func(int) bool) map[string]bool {
	t.Helper()
	held := map[string]bool{}
	for i := 0; i < n; i++ {
		m, err := cons.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if hold(i) {
			held[string(m.Payload())] = true
			continue
		}
		if err := cons.Ack(m); err != nil {
			t.Fatal(err)
		}
	}
	return held
}

// failoverExpectingOnly waits until the standby's backlog is exactly the
// held messages, stops east, and checks that west delivers the held
// messages and nothing acknowledged on east.
func failoverExpectingOnly(ctx context.Context, t *testing.T, p *pair, topic, sub string, held map[string]bool) {
	t.Helper()
	eventually(t, 30*time.Second, "west backlog equals the held messages", func() error {
		b, err := backlog(p, "west", topic, sub)
		if err != nil {
			return err
		}
		if b != int64(len(held)) {
			return fmt.Errorf("west backlog %d, want %d", b, len(held))
		}
		return nil
	})
	if err := p.sim.StopCluster("east"); err != nil {
		t.Fatal(err)
	}
	wc, err := p.clients["west"].Subscribe(pulsar.ConsumerOptions{Topic: topic, SubscriptionName: sub, Type: pulsar.Shared})
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	for got := 0; got < len(held); got++ {
		m, err := wc.Receive(ctx)
		if err != nil {
			t.Fatalf("received %d of %d held messages on west: %v", got, len(held), err)
		}
		if !held[string(m.Payload())] {
			t.Fatalf("west delivered %q, acknowledged on east (a duplicate)", m.Payload())
		}
		_ = wc.Ack(m)
	}
}
