package scale

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/apache/pulsar-client-go/pulsar/log"
	"github.com/apache/pulsar-client-go/pulsaradmin"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/admin/config"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"

	"github.com/subsync/subsync/integration/testbed"
)

// BenchmarkRealCost measures, on the real brokers of the test bed, what a
// daemon costs: its CPU per 1,000 messages/s of replicated traffic, the
// admin requests per second it sends per 1,000 topics (idle and busy), and
// the broker CPU those requests cost (the brokers' CPU with the daemons
// running minus without, under the same traffic). Run it once, under the
// test bed:
//
//	go run ./cmd/testbed exec --ledger-max-entries 5000 -- \
//	  go test -run '^$' -bench RealCost -benchtime 1x -timeout 20m ./integration/scale/
//
// Knobs: SCALE_TOPICS (100), SCALE_RATE messages/s produced on east over
// all topics (1000), SCALE_BATCHING=1 to batch, SCALE_SECONDS per window
// (20).
func BenchmarkRealCost(b *testing.B) {
	remote := testbed.RemoteFromEnv()
	if remote == nil {
		b.Fatal("BenchmarkRealCost measures real brokers: run it under go run ./cmd/testbed exec -- go test ...")
	}
	topics, err := envInt("SCALE_TOPICS", 100)
	must(b, err)
	rate, err := envInt("SCALE_RATE", 1000)
	must(b, err)
	seconds, err := envInt("SCALE_SECONDS", 20)
	must(b, err)
	batching := os.Getenv("SCALE_BATCHING") == "1"
	window := time.Duration(seconds) * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	infos, err := remote.Clusters(ctx)
	must(b, err)
	beds := map[string]testbed.ClusterInfo{}
	for _, c := range infos {
		beds[c.Name] = c
	}
	if beds["east"].Pid == 0 || beds["west"].Pid == 0 {
		b.Fatalf("the test bed must run clusters east and west: %+v", infos)
	}
	ns := "subsync/cost-" + randomHex(3)
	for _, c := range infos {
		adm, err := pulsaradmin.NewClient(&config.Config{WebServiceURL: c.WebURL})
		must(b, err)
		must(b, adm.Namespaces().CreateNamespace(ns))
		must(b, adm.Namespaces().SetNamespaceReplicationClusters(ns, []string{"east", "west"}))
	}
	names := createCostTopics(b, beds, ns, topics)
	load := startTraffic(b, beds["east"].ServiceURL, names, rate, batching)
	defer load.stop()
	brokers := []int{beds["east"].Pid, beds["west"].Pid}

	b.Logf("%d topics, %d msg/s (batching %v); windows of %v", topics, rate, batching, window)
	time.Sleep(5 * time.Second)
	withoutDaemons := measure(b, brokers, nil, window, load)

	key := strings.Repeat("cd", 32)
	proxies := map[string]*countingProxy{}
	var children []*exec.Cmd
	for _, name := range []string{"east", "west"} {
		proxies[name] = newCountingProxy(b, beds[name].WebURL)
		children = append(children, startDaemonChild(b, name, beds[name].ServiceURL, proxies[name].url, ns, key))
	}
	defer func() {
		for _, cmd := range children {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}
	}()
	time.Sleep(15 * time.Second) // the daemons tail the backlog and settle
	pids := []int{children[0].Process.Pid, children[1].Process.Pid}
	withDaemons := measure(b, brokers, pids, window, load, proxies["east"], proxies["west"])

	perKTopics := 1000 / float64(topics)
	perKRate := 1000 / withDaemons.rate
	b.ReportMetric(withDaemons.rate, "msg/s")
	b.ReportMetric(withDaemons.daemonCores[1]*perKRate, "west-daemon-cores-per-1k-msg/s")
	b.ReportMetric(withDaemons.daemonCores[0]*perKRate, "east-daemon-cores-per-1k-msg/s")
	b.ReportMetric(withDaemons.requests[0]*perKTopics, "east-admin-req/s-per-1k-topics")
	b.ReportMetric(withDaemons.requests[1]*perKTopics, "west-admin-req/s-per-1k-topics")
	b.ReportMetric(withDaemons.brokerCores[0]-withoutDaemons.brokerCores[0], "east-broker-cores-for-daemons")
	b.ReportMetric(withDaemons.brokerCores[1]-withoutDaemons.brokerCores[1], "west-broker-cores-for-daemons")
	b.Logf("brokers without daemons: east %.2f, west %.2f cores; with: east %.2f, west %.2f cores",
		withoutDaemons.brokerCores[0], withoutDaemons.brokerCores[1], withDaemons.brokerCores[0], withDaemons.brokerCores[1])
}

func randomHex(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf)
	return hex.EncodeToString(buf)
}

// createCostTopics creates the topics with subscriptions a and b on both
// clusters, so that each cluster's copy is held by cursors.
func createCostTopics(b *testing.B, beds map[string]testbed.ClusterInfo, ns string, n int) []string {
	var names []string
	for i := 0; i < n; i++ {
		names = append(names, fmt.Sprintf("persistent://%s/t-%04d", ns, i))
	}
	for _, c := range beds {
		adm, err := pulsaradmin.NewClient(&config.Config{WebServiceURL: c.WebURL})
		must(b, err)
		for _, name := range names {
			tn, _ := utils.GetTopicName(name)
			for _, sub := range []string{"a", "b"} {
				must(b, adm.Subscriptions().Create(*tn, sub, utils.Latest))
			}
		}
	}
	return names
}

// traffic produces on every topic at a fixed total rate, and a Shared
// consumer per topic on subscription a acknowledges what it receives,
// out of order within each receive window (so cursors have holes).
type traffic struct {
	client   pulsar.Client
	stopOnce sync.Once
	done     chan struct{}
	wg       sync.WaitGroup
	sent     atomic.Int64
}

func startTraffic(b *testing.B, serviceURL string, topics []string, rate int, batching bool) *traffic {
	client, err := pulsar.NewClient(pulsar.ClientOptions{URL: serviceURL, Logger: log.DefaultNopLogger()})
	must(b, err)
	t := &traffic{client: client, done: make(chan struct{})}
	producers := make([]pulsar.Producer, len(topics))
	for i, name := range topics {
		producers[i], err = client.CreateProducer(pulsar.ProducerOptions{Topic: name, DisableBatching: !batching,
			BatchingMaxPublishDelay: 5 * time.Millisecond})
		must(b, err)
		cons, err := client.Subscribe(pulsar.ConsumerOptions{Topic: name, SubscriptionName: "a", Type: pulsar.Shared})
		must(b, err)
		t.wg.Add(1)
		go t.acknowledge(cons)
	}
	t.wg.Add(1)
	go t.produce(producers, rate)
	return t
}

func (t *traffic) produce(producers []pulsar.Producer, rate int) {
	defer t.wg.Done()
	const tick = 10 * time.Millisecond
	perTick := max(1, rate/int(time.Second/tick))
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	next := 0
	for {
		select {
		case <-t.done:
			for _, p := range producers {
				p.Close()
			}
			return
		case <-ticker.C:
		}
		for k := 0; k < perTick; k++ {
			producers[next%len(producers)].SendAsync(context.Background(), &pulsar.ProducerMessage{Payload: []byte("cost")},
				func(pulsar.MessageID, *pulsar.ProducerMessage, error) { t.sent.Add(1) })
			next++
		}
	}
}

func (t *traffic) acknowledge(cons pulsar.Consumer) {
	defer t.wg.Done()
	defer cons.Close()
	var window []pulsar.Message
	for {
		select {
		case <-t.done:
			return
		case m := <-cons.Chan():
			window = append(window, m.Message)
			if len(window) == 4 {
				// Acknowledge the newest first: holes open and close.
				for i := len(window) - 1; i >= 0; i-- {
					_ = cons.Ack(window[i])
				}
				window = window[:0]
			}
		}
	}
}

func (t *traffic) stop() {
	t.stopOnce.Do(func() {
		close(t.done)
		t.wg.Wait()
		t.client.Close()
	})
}

// costWindow is what one measurement window saw: CPU cores of each broker
// and each daemon, admin requests per second of each daemon, and the
// messages per second produced.
type costWindow struct {
	brokerCores, daemonCores, requests []float64
	rate                               float64
}

func measure(b *testing.B, brokers, daemons []int, window time.Duration, load *traffic, proxies ...*countingProxy) costWindow {
	before := func(pids []int) []cpuSample {
		out := make([]cpuSample, len(pids))
		for i, pid := range pids {
			out[i] = sample(b, pid)
		}
		return out
	}
	bb, db := before(brokers), before(daemons)
	rb := make([]int64, len(proxies))
	for i, p := range proxies {
		rb[i] = p.count.Load()
	}
	sent := load.sent.Load()
	time.Sleep(window)
	var w costWindow
	for i, pid := range brokers {
		w.brokerCores = append(w.brokerCores, (sample(b, pid).cpuSeconds-bb[i].cpuSeconds)/window.Seconds())
	}
	for i, pid := range daemons {
		w.daemonCores = append(w.daemonCores, (sample(b, pid).cpuSeconds-db[i].cpuSeconds)/window.Seconds())
	}
	for i, p := range proxies {
		w.requests = append(w.requests, float64(p.count.Load()-rb[i])/window.Seconds())
	}
	w.rate = float64(load.sent.Load()-sent) / window.Seconds()
	return w
}

// countingProxy forwards a daemon's admin requests to its broker and
// counts them.
type countingProxy struct {
	url   string
	count atomic.Int64
}

func newCountingProxy(b *testing.B, target string) *countingProxy {
	u, err := url.Parse(target)
	must(b, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(b, err)
	p := &countingProxy{url: "http://" + ln.Addr().String()}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.count.Add(1)
		rp.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { srv.Close() })
	return p
}
