package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"gopkg.in/yaml.v3"
)

// alertRules is the shipped alert rules file.
const alertRules = "../../deploy/prometheus/subsync-alerts.yaml"

// standbyBehindFor replaces SubsyncStandbyBehind's 5-minute "for" in the
// test's copy of the rules: its expression and labels are the shipped
// ones, its patience is scaled down to keep the test short.
const standbyBehindFor = "5s"

// TestStandbyBehindAlertFiresAndResolves runs a real Prometheus server
// (the prometheus binary of Debian's package; .ci/install-promtool.sh
// installs it) scraping both daemons every second, with the shipped alert
// rules. While both clusters run and the standby is in sync,
// SubsyncStandbyBehind stays quiet; when west's broker stops (its daemon
// keeps running and being scraped) while east's consumers keep
// acknowledging, it must fire for west behind east; when the broker is
// back and west has caught up, it must resolve.
func TestStandbyBehindAlertFiresAndResolves(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("no prometheus binary on PATH: install Debian's prometheus package (.ci/install-promtool.sh does) to run the alert end to end")
	}
	e := newEnv(t, envOptions{})
	if e.bed.real() {
		t.Skip("keeps a daemon running while its broker is down: not tried on the real bed yet; runs on the emulator")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*testTimeout)
	defer cancel()
	topic := e.topicName("alerting")
	e.createTopic(ctx, topic, 0, []string{synced}, east, west)
	e.startDaemons()
	var targets []string
	for _, c := range []string{east, west} {
		srv := httptest.NewServer(promhttp.HandlerFor(e.daemon(c).metrics.Registry, promhttp.HandlerOpts{}))
		t.Cleanup(srv.Close)
		targets = append(targets, strings.TrimPrefix(srv.URL, "http://"))
	}
	prom := startPrometheus(ctx, t, bin, targets)

	produced := produceIDs(ctx, t, e.eps[east], topic, ids(0, 400))
	ackBefore := func(id int) bool { return id < 150 && id%5 != 0 }
	e.ackAndSync(ctx, t, east, west, 0, ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 2, ShouldAck: ackBefore, Want: countIf(produced, ackBefore), Seed: 401})
	e.mustEventually(ctx, "Prometheus scrapes west's sync lag", func() error {
		n, err := prom.query(ctx, `pulsar_subsync_sync_lag_seconds{cluster="west",remote_cluster="east"}`)
		if err == nil && n == 0 {
			err = errors.New("no series yet")
		}
		return err
	})
	// Quiet in sync for longer than the alert's patience.
	for end := time.Now().Add(8 * time.Second); time.Now().Before(end); time.Sleep(time.Second) {
		if st, err := prom.alertState(ctx); err != nil || st != "" {
			t.Fatalf("SubsyncStandbyBehind is %q (%v) while west is in sync", st, err)
		}
	}

	if err := e.bed.stop(west); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	ackDuring := func(id int) bool { return id >= 150 && id < 250 && id%5 != 0 }
	if _, err := runAckPhase(ctx, e.eps[east], ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 2, ShouldAck: ackDuring, Want: countIf(produced, ackDuring), Seed: 402}); err != nil {
		t.Fatal(err)
	}
	if err := eventually(ctx, 60*time.Second, func() error {
		st, err := prom.alertState(ctx)
		if err == nil && st != "firing" {
			err = fmt.Errorf("SubsyncStandbyBehind for west behind east is %q", st)
		}
		return err
	}); err != nil {
		t.Fatalf("with west's broker stopped: %v", err)
	}
	t.Logf("SubsyncStandbyBehind fired %v after west's broker stopped", time.Since(stopped).Round(time.Second))

	if err := e.bed.start(west); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	if err := e.waitSynced(ctx, east, west, topic, 0, synced); err != nil {
		t.Fatal(err)
	}
	if err := eventually(ctx, 60*time.Second, func() error {
		st, err := prom.alertState(ctx)
		if err == nil && st != "" {
			err = fmt.Errorf("SubsyncStandbyBehind is still %q", st)
		}
		return err
	}); err != nil {
		t.Fatalf("after west's broker came back and west caught up: %v", err)
	}
	t.Logf("SubsyncStandbyBehind resolved %v after west's broker came back", time.Since(started).Round(time.Second))
}

// promServer is a Prometheus server started for one test.
type promServer struct {
	url string
}

// startPrometheus runs bin scraping targets every second and evaluating
// the shipped rules (SubsyncStandbyBehind's "for" scaled down) every
// second, on a loopback port and a data directory of its own; it is
// killed when the test ends.
func startPrometheus(ctx context.Context, t *testing.T, bin string, targets []string) promServer {
	t.Helper()
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rules, scaledRules(t), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: subsync
    static_configs:
      - targets: [%q, %q]
`, rules, targets[0], targets[1])
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr()
	cmd := exec.Command(bin, "--config.file="+cfgFile, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("prometheus output:\n%s", logs.String())
		}
	})
	p := promServer{url: "http://" + addr}
	err := eventually(ctx, 30*time.Second, func() error {
		select {
		case <-exited:
			return fmt.Errorf("prometheus exited: %s", logs.String())
		default:
		}
		resp, err := http.Get(p.url + "/-/ready")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/-/ready: %s", resp.Status)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("prometheus not ready: %v", err)
	}
	return p
}

// scaledRules is the shipped rules file with SubsyncStandbyBehind's "for"
// set to standbyBehindFor; everything else is as shipped.
func scaledRules(t *testing.T) []byte {
	t.Helper()
	raw, err := os.ReadFile(alertRules)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups []struct {
			Name  string           `yaml:"name"`
			Rules []map[string]any `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", alertRules, err)
	}
	found := false
	for _, g := range doc.Groups {
		for _, r := range g.Rules {
			if r["alert"] == "SubsyncStandbyBehind" {
				r["for"], found = standbyBehindFor, true
			}
		}
	}
	if !found {
		t.Fatalf("%s has no SubsyncStandbyBehind rule", alertRules)
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// alertState is SubsyncStandbyBehind's state for west behind east on the
// test's subscription: "", "pending" or "firing".
func (p promServer) alertState(ctx context.Context) (string, error) {
	var body struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if err := p.get(ctx, "/api/v1/alerts", &body); err != nil {
		return "", err
	}
	for _, a := range body.Data.Alerts {
		l := a.Labels
		if l["alertname"] == "SubsyncStandbyBehind" && l["cluster"] == west && l["remote_cluster"] == east && l["subscription"] == synced {
			return a.State, nil
		}
	}
	return "", nil
}

// query runs an instant query and returns how many series it found.
func (p promServer) query(ctx context.Context, q string) (int, error) {
	var body struct {
		Data struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := p.get(ctx, "/api/v1/query?query="+url.QueryEscape(q), &body); err != nil {
		return 0, err
	}
	return len(body.Data.Result), nil
}

func (p promServer) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("prometheus %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// syncBuffer collects a process's output for a failure message.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
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
