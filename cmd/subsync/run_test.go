package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	pulsarlog "github.com/apache/pulsar-client-go/pulsar/log"
	"github.com/apache/pulsar-client-go/pulsaradmin"
	adminconfig "github.com/apache/pulsar-client-go/pulsaradmin/pkg/admin/config"

	"github.com/subsync/subsync/integration/emulator"
	"github.com/subsync/subsync/mapping"
	"github.com/subsync/subsync/replicator"
)

// syncBuffer is a bytes.Buffer the daemon's goroutines may write while
// the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runningDaemon is `subsync run` started in-process.
type runningDaemon struct {
	url        string             // the /api/v1 listener
	metricsURL string             // the /metrics, /healthz, /readyz listener
	stop       context.CancelFunc // the SIGTERM equivalent
	done       chan struct{}      // closed once run returned, code set
	code       int
	stderr     *syncBuffer
	store      string
}

// startRun starts `subsync run` for cluster; extraEnv adds SUBSYNC_*
// settings.
func startRun(t *testing.T, sim *emulator.Sim, cluster, ns, keyFile string, extraEnv ...string) *runningDaemon {
	t.Helper()
	c := sim.Cluster(cluster)
	store := filepath.Join(t.TempDir(), "store")
	env := []string{
		"SUBSYNC_CLUSTER=" + cluster,
		"SUBSYNC_SERVICE_URL=" + c.ServiceURL(),
		"SUBSYNC_WEB_SERVICE_URL=" + c.WebURL(),
		"SUBSYNC_NAMESPACES=" + ns,
		"SUBSYNC_HMAC_KEY_FILE=" + keyFile,
		"SUBSYNC_EXPORT_INTERVAL=100ms",
	}
	env = append(env, extraEnv...)
	// Two listeners, as by default: the addresses differ, so they are not
	// merged into one.
	args := []string{"run", "--store-dir", store, "--metrics-address", "127.0.0.1:0", "--api-address", "localhost:0",
		"--snapshot-interval", "300ms", "--discovery-interval", "300ms", "--shutdown-timeout", "10s", "--log-level", "warn"}
	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan [2]string, 1)
	d := &runningDaemon{stop: cancel, done: make(chan struct{}), stderr: &syncBuffer{}, store: store}
	a := &app{ctx: ctx, environ: env, stdout: &syncBuffer{}, stderr: d.stderr, onListening: func(metrics, api string) { listening <- [2]string{metrics, api} }}
	go func() {
		defer close(d.done)
		d.code = a.execute(args)
	}()
	select {
	case addrs := <-listening:
		d.metricsURL, d.url = "http://"+addrs[0], "http://"+addrs[1]
	case <-d.done:
		t.Fatalf("run exited %d before listening: %s", d.code, d.stderr)
	case <-time.After(10 * time.Second):
		t.Fatalf("run did not listen within 10s: %s", d.stderr)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-d.done:
		case <-time.After(15 * time.Second):
		}
	})
	return d
}

// shutdown cancels the run context, as SIGTERM does, and returns the exit
// code.
func (d *runningDaemon) shutdown(t *testing.T) int {
	t.Helper()
	d.stop()
	select {
	case <-d.done:
		return d.code
	case <-time.After(15 * time.Second):
		t.Fatalf("run did not return within 15s of the stop: %s", d.stderr)
		return -1
	}
}

func waitFor(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s: %v", what, timeout, err)
}

// TestRunAgainstEmulator runs two daemons through `subsync run`, drives a
// subscription on the primary, reads every HTTP surface and the CLI
// against them, then stops them as SIGTERM does.
func TestRunAgainstEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("starts emulated clusters")
	}
	sim, err := emulator.Start(emulator.Options{Clusters: []emulator.ClusterOptions{{Name: "east"}, {Name: "west"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	const ns = "public/geo"
	for _, c := range []string{"east", "west"} {
		adm, err := pulsaradmin.NewClient(&adminconfig.Config{WebServiceURL: sim.Cluster(c).WebURL()})
		if err != nil {
			t.Fatal(err)
		}
		if err := adm.Namespaces().CreateNamespace(ns); err != nil {
			t.Fatal(err)
		}
		if err := adm.Namespaces().SetNamespaceReplicationClusters(ns, []string{"east", "west"}); err != nil {
			t.Fatal(err)
		}
	}
	keyFile := filepath.Join(t.TempDir(), "keys")
	if r := cli(t, nil, "keygen", "--out", keyFile); r.code != exitOK {
		t.Fatal(r.stderr)
	}

	const topic = "persistent://" + ns + "/orders"
	client, err := pulsar.NewClient(pulsar.ClientOptions{URL: sim.Cluster("east").ServiceURL(), Logger: pulsarlog.DefaultNopLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cons, err := client.Subscribe(pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "billing", Type: pulsar.Shared})
	if err != nil {
		t.Fatal(err)
	}
	prod, err := client.CreateProducer(pulsar.ProducerOptions{Topic: topic, DisableBatching: true})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		if _, err := prod.Send(ctx, &pulsar.ProducerMessage{Payload: []byte(strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}

	east := startRun(t, sim, "east", ns, keyFile)
	// West exports namespace aggregates only.
	west := startRun(t, sim, "west", ns, keyFile, "SUBSYNC_EXPOSE_TOPIC_LEVEL_METRICS=false")

	// Probes and metrics.
	waitHealthy(t, east.metricsURL)
	waitFor(t, 10*time.Second, "/readyz", func() error {
		if code, body := get(t, east.metricsURL+"/readyz"); code != 200 {
			return fmt.Errorf("%d %s", code, body)
		}
		return nil
	})
	if code, _ := get(t, east.metricsURL+"/api/v1/status"); code != http.StatusNotFound {
		t.Errorf("the metrics listener answers /api/v1/status with %d, want 404 (the API has its own listener)", code)
	}
	if code, _ := get(t, east.url+"/metrics"); code != http.StatusNotFound {
		t.Errorf("the API listener answers /metrics with %d, want 404", code)
	}
	if code, body := get(t, east.metricsURL+"/metrics"); code != 200 || !strings.Contains(body, "pulsar_subsync_") || !strings.Contains(body, "go_goroutines") ||
		!strings.Contains(body, `pulsar_subsync_build_info{goversion="`+runtime.Version()+`"`) {
		t.Errorf("/metrics %d lacks subsync, build or Go metrics:\n%.2000s", code, body)
	}

	// Acknowledge out of order on east: every third message stays unacked.
	for i := range n {
		m, err := cons.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if i%3 != 1 {
			if err := cons.Ack(m); err != nil {
				t.Fatal(err)
			}
		}
	}

	// The JSON API sees the topic and its subscription.
	waitFor(t, 15*time.Second, "status lists billing on "+topic, func() error {
		code, body := get(t, east.url+"/api/v1/status?topic=orders")
		var rep replicator.StatusReport
		if err := json.Unmarshal([]byte(body), &rep); err != nil || code != 200 {
			return fmt.Errorf("%d %q: %v", code, body, err)
		}
		if rep.Cluster != "east" {
			return fmt.Errorf("cluster %q", rep.Cluster)
		}
		for _, tp := range rep.Topics {
			for _, s := range tp.Subscriptions {
				if tp.Topic == topic && s.Subscription == "billing" {
					return nil
				}
			}
		}
		return fmt.Errorf("not yet: %s", body)
	})

	// The CLI agrees, and failover-check turns ready once west caught up.
	if r := cli(t, nil, "status", "--daemon", east.url); r.code != exitOK || !strings.Contains(r.stdout, "billing") {
		t.Errorf("status: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	// A topic the daemon does not sync is an error that says what it does.
	if r := cli(t, nil, "mappings", "persistent://other/ns/nothing", "--daemon", east.url); r.code != exitFailed ||
		!strings.Contains(r.stderr, "persistent://other/ns/nothing") || !strings.Contains(r.stderr, "in scope: namespaces "+ns) ||
		!strings.Contains(r.stderr, topic) {
		t.Errorf("mappings of a topic out of scope: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := cli(t, nil, "mappings", topic, "--daemon", east.url); r.code != exitOK {
		t.Errorf("mappings of %s: exit %d, stderr %q", topic, r.code, r.stderr)
	}
	waitFor(t, 15*time.Second, "failover-check ready", func() error {
		r := cli(t, nil, "failover-check", "--daemon", east.url)
		if r.code != exitOK {
			return fmt.Errorf("exit %d: %s%s", r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout, "billing") {
			return fmt.Errorf("billing not in the report yet: %s", r.stdout)
		}
		return nil
	})

	// West, with topic-level metrics off, shows what it applied per
	// namespace and no series per topic or subscription.
	waitFor(t, 10*time.Second, "west's namespace aggregates", func() error {
		_, body := get(t, west.metricsURL+"/metrics")
		if strings.Contains(body, `topic="`) || strings.Contains(body, `subscription="`) {
			return fmt.Errorf("topic-level series exported with exposeTopicLevelMetrics=false:\n%.3000s", body)
		}
		want := `pulsar_subsync_acks_applied_total{cluster="west",namespace="` + ns + `",remote_cluster="east"} `
		if !strings.Contains(body, want) || !strings.Contains(body, `pulsar_subsync_sync_lag_seconds{cluster="west",namespace="`+ns+`",remote_cluster="east"} 0`) {
			return fmt.Errorf("no namespace aggregate of applied acks and sync lag in:\n%.3000s", body)
		}
		return nil
	})

	// SIGTERM equivalent: both stop cleanly, and the store is released
	// with the tail index flushed.
	if code := east.shutdown(t); code != exitOK {
		t.Fatalf("east exit %d: %s", code, east.stderr)
	}
	if code := west.shutdown(t); code != exitOK {
		t.Fatalf("west exit %d: %s", code, west.stderr)
	}
	store, err := mapping.Open(east.store, mapping.ReadOnly())
	if err != nil {
		t.Fatalf("store not released after shutdown: %v", err)
	}
	rep, err := replicator.MappingsFromStore(store, topic)
	store.Close()
	if err != nil || len(rep.Runs)+len(rep.Snapshots) == 0 {
		t.Errorf("nothing persisted for %s: %+v, %v", topic, rep, err)
	}
	if r := cli(t, nil, "mappings", topic, "--store", east.store); r.code != exitOK || !strings.Contains(r.stdout, "west") {
		t.Errorf("mappings --store after shutdown: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
}

// runEnv is a valid configuration that needs no cluster to get past
// start-up (clients connect lazily).
func runEnv(t *testing.T) (env []string, store string) {
	t.Helper()
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	if r := cli(t, nil, "keygen", "--out", keys); r.code != exitOK {
		t.Fatal(r.stderr)
	}
	store = filepath.Join(dir, "store")
	return []string{"SUBSYNC_CLUSTER=east", "SUBSYNC_SERVICE_URL=pulsar://127.0.0.1:1", "SUBSYNC_WEB_SERVICE_URL=http://127.0.0.1:1",
		"SUBSYNC_NAMESPACES=a/b", "SUBSYNC_HMAC_KEY_FILE=" + keys, "SUBSYNC_STORE_DIR=" + store,
		"SUBSYNC_API_ADDRESS=127.0.0.1:0"}, store
}

func TestRunFailsCleanlyWhenTheListenerIsTaken(t *testing.T) {
	env, store := runEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := cli(t, env, "run", "--metrics-address", ln.Addr().String())
	if r.code != exitFailed || !strings.Contains(r.stderr, "metricsAddress "+ln.Addr().String()) {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	s, err := mapping.Open(store)
	if err != nil {
		t.Fatalf("store left locked: %v", err)
	}
	s.Close()
}

func TestRunRefusesAStoreInUse(t *testing.T) {
	env, store := runEnv(t)
	s, err := mapping.Open(store)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := cli(t, env, "run", "--metrics-address", "127.0.0.1:0")
	if r.code != exitFailed || !strings.Contains(r.stderr, "storeDir "+store+" is in use by another process") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// waitHealthy waits for /healthz: the listener opens just before the
// engine's loops start.
func waitHealthy(t *testing.T, url string) {
	t.Helper()
	waitFor(t, 5*time.Second, "/healthz", func() error {
		if code, body := get(t, url+"/healthz"); code != 200 {
			return fmt.Errorf("%d %s", code, body)
		}
		return nil
	})
}
