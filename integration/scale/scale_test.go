package scale

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/apache/pulsar-client-go/pulsar/log"
	"github.com/apache/pulsar-client-go/pulsaradmin"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/admin/config"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"

	"github.com/subsync/subsync/integration/emulator"
	"github.com/subsync/subsync/mapping"
	"github.com/subsync/subsync/replicator"
	"github.com/subsync/subsync/snapshot"
)

const childEnv = "SUBSYNC_SCALE_CHILD"

// TestMain turns the test binary into the daemon process of
// BenchmarkDaemonFootprint when SUBSYNC_SCALE_CHILD is set.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "" {
		os.Exit(m.Run())
	}
	if err := runDaemon(); err != nil {
		fmt.Fprintln(os.Stderr, "daemon:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runDaemon() error {
	secret, err := hex.DecodeString(os.Getenv("SCALE_KEY"))
	if err != nil {
		return err
	}
	keys, err := snapshot.NewKeyring(1, snapshot.Key{ID: 1, Secret: secret})
	if err != nil {
		return err
	}
	client, err := pulsar.NewClient(pulsar.ClientOptions{URL: os.Getenv("SCALE_SERVICE_URL"), Logger: log.DefaultNopLogger()})
	if err != nil {
		return err
	}
	defer client.Close()
	adm, err := pulsaradmin.NewClient(&config.Config{WebServiceURL: os.Getenv("SCALE_WEB_URL")})
	if err != nil {
		return err
	}
	store, err := mapping.Open(os.Getenv("SCALE_STORE"))
	if err != nil {
		return err
	}
	defer store.Close()
	d, err := replicator.New(replicator.Config{Cluster: os.Getenv("SCALE_CLUSTER"),
		Namespaces: []string{os.Getenv("SCALE_NAMESPACE")}, Keys: keys},
		replicator.Deps{Client: client, Admin: adm, Store: store,
			Entries: replicator.HTTPEntries{WebServiceURL: os.Getenv("SCALE_WEB_URL")}})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if path := os.Getenv("SCALE_CPU_PROFILE"); path != "" {
		if f, err := os.Create(path + "." + os.Getenv("SCALE_CLUSTER")); err == nil {
			_ = pprof.StartCPUProfile(f)
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	err = d.Run(ctx)
	if path := os.Getenv("SCALE_HEAP_PROFILE"); path != "" {
		writeHeapProfile(path + "." + os.Getenv("SCALE_CLUSTER"))
	}
	return err
}

// writeHeapProfile records where the daemon's memory went, for
// go tool pprof.
func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "heap profile:", err)
		return
	}
	defer f.Close()
	_ = pprof.WriteHeapProfile(f)
}

// BenchmarkDaemonFootprint runs one daemon per cluster beside two
// emulated clusters with 1,000 geo-replicated topics of 2 subscriptions
// each, acknowledges on the primary for the measurement window and reports
// each daemon's CPU (cores) and peak resident memory. Run it once:
//
//	go test -run '^$' -bench DaemonFootprint -benchtime 1x -timeout 20m ./integration/scale/
func BenchmarkDaemonFootprint(b *testing.B) {
	topics, err := envInt("SCALE_TOPICS", 1000)
	if err != nil {
		b.Fatal(err)
	}
	seconds, err := envInt("SCALE_SECONDS", 60)
	if err != nil {
		b.Fatal(err)
	}
	window := time.Duration(seconds) * time.Second
	sim, err := emulator.Start(emulator.Options{Clusters: []emulator.ClusterOptions{{Name: "east"}, {Name: "west"}}})
	if err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	ns := "public/scale"
	admins := map[string]pulsaradmin.Client{}
	for _, c := range sim.Clusters() {
		adm, err := pulsaradmin.NewClient(&config.Config{WebServiceURL: c.WebURL()})
		if err != nil {
			b.Fatal(err)
		}
		must(b, adm.Namespaces().CreateNamespace(ns))
		must(b, adm.Namespaces().SetNamespaceReplicationClusters(ns, []string{"east", "west"}))
		admins[c.Name()] = adm
	}
	names := setUpTopics(b, sim, admins["east"], ns, topics)
	key := strings.Repeat("ab", 32)
	children := map[string]*exec.Cmd{}
	for _, c := range sim.Clusters() {
		children[c.Name()] = startChild(b, c, ns, key)
	}
	defer func() {
		for _, cmd := range children {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}
	}()
	b.Logf("%d topics set up; warming up the daemons", topics)
	time.Sleep(20 * time.Second)
	before := map[string]cpuSample{}
	for n, cmd := range children {
		before[n] = sample(b, cmd.Process.Pid)
	}
	peak := map[string]int64{}
	b.ResetTimer()
	acked := ackLoop(b, admins["east"], names, window, func() {
		for n, cmd := range children {
			peak[n] = max(peak[n], sample(b, cmd.Process.Pid).rssBytes)
		}
	})
	b.StopTimer()
	for n, cmd := range children {
		after := sample(b, cmd.Process.Pid)
		cores := (after.cpuSeconds - before[n].cpuSeconds) / window.Seconds()
		b.ReportMetric(cores, n+"-cores")
		b.ReportMetric(float64(peak[n])/(1<<20), n+"-peak-rss-MiB")
	}
	b.ReportMetric(float64(acked)/window.Seconds(), "acks/s")
}

func setUpTopics(b *testing.B, sim *emulator.Sim, adm pulsaradmin.Client, ns string, n int) []string {
	client, err := pulsar.NewClient(pulsar.ClientOptions{URL: sim.Cluster("east").ServiceURL(), Logger: log.DefaultNopLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	var names []string
	ctx := context.Background()
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("persistent://%s/t-%04d", ns, i)
		tn, _ := utils.GetTopicName(name)
		for _, sub := range []string{"a", "b"} {
			must(b, adm.Subscriptions().Create(*tn, sub, utils.Earliest))
		}
		p, err := client.CreateProducer(pulsar.ProducerOptions{Topic: name, DisableBatching: true})
		if err != nil {
			b.Fatal(err)
		}
		for j := 0; j < 200; j++ {
			p.SendAsync(ctx, &pulsar.ProducerMessage{Payload: []byte("x")}, nil)
		}
		must(b, p.FlushWithCtx(context.Background()))
		p.Close()
		names = append(names, name)
	}
	return names
}

// ackLoop skips one message on a rotating tenth of the subscriptions
// every 100 ms: an acknowledgement load spread over every topic.
func ackLoop(b *testing.B, adm pulsaradmin.Client, topics []string, window time.Duration, onTick func()) int {
	deadline := time.Now().Add(window)
	acked, i := 0, 0
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		<-tick.C
		for k := 0; k < len(topics)/50; k++ {
			tn, _ := utils.GetTopicName(topics[i%len(topics)])
			sub := []string{"a", "b"}[(i/len(topics))%2]
			if err := adm.Subscriptions().SkipMessages(*tn, sub, 1); err == nil {
				acked++
			}
			i++
		}
		onTick()
	}
	return acked
}

func startChild(b *testing.B, c *emulator.Cluster, ns, key string) *exec.Cmd {
	return startDaemonChild(b, c.Name(), c.ServiceURL(), c.WebURL(), ns, key)
}

// startDaemonChild runs a daemon for cluster in a child process of its
// own (this test binary, see TestMain), so that its CPU and memory are
// measured alone.
func startDaemonChild(b *testing.B, cluster, serviceURL, webURL, ns, key string) *exec.Cmd {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=1", "SCALE_KEY="+key, "SCALE_SERVICE_URL="+serviceURL,
		"SCALE_WEB_URL="+webURL, "SCALE_STORE="+b.TempDir(), "SCALE_CLUSTER="+cluster, "SCALE_NAMESPACE="+ns)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	return cmd
}

type cpuSample struct {
	cpuSeconds float64
	rssBytes   int64
}

// sample reads a process's CPU time and resident set from /proc.
func sample(b testing.TB, pid int) cpuSample {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	rssPages, _ := strconv.ParseInt(fields[21], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return cpuSample{cpuSeconds: (utime + stime) / ticks, rssBytes: rssPages * int64(os.Getpagesize())}
}

// envInt reads a positive integer knob; unset means def, anything else
// that is not a positive integer is an error naming the variable.
func envInt(name string, def int) (int, error) {
	raw, ok := os.LookupEnv(name)
	if !ok || raw == "" {
		return def, nil
	}
	v, err := strconv.Atoi(raw)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("%s=%q: expected a positive integer", name, raw)
	}
	return v, nil
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}
