package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/cmd/subsync/config"
	"github.com/subsync/subsync/mapping"
	"github.com/subsync/subsync/replicator"
)

// tableBlock returns the lines of the table whose header starts with
// header, up to the next blank line.
func tableBlock(t *testing.T, out, header string) []string {
	t.Helper()
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, header) {
			var block []string
			for _, b := range lines[i:] {
				if strings.TrimSpace(b) == "" {
					break
				}
				block = append(block, b)
			}
			return block
		}
	}
	t.Fatalf("no table starting with %q in:\n%s", header, out)
	return nil
}

var columnGap = regexp.MustCompile(`\S+`)

// assertAligned checks that every row has a cell starting exactly where
// each header column starts.
func assertAligned(t *testing.T, block []string) {
	t.Helper()
	starts := columnGap.FindAllStringIndex(block[0], -1)
	for _, row := range block[1:] {
		for _, s := range starts {
			i := s[0]
			if i >= len(row) || row[i] == ' ' || (i > 0 && row[i-1] != ' ') {
				t.Errorf("row %q is not aligned with header %q at column %d", row, block[0], i)
				break
			}
		}
	}
}

func TestStatusTable(t *testing.T) {
	d := startFakeDaemon(t, &fakeEngine{status: sampleStatus()})
	r := cli(t, nil, "status", "orders", "--daemon", d.srv.URL)
	if r.code != exitOK {
		t.Fatalf("exit %d, stderr %s", r.code, r.stderr)
	}
	if got := statusFilters(d.engine); len(got) != 1 || got[0] != "orders" {
		t.Errorf("filter sent %q, want [orders]", got)
	}
	tail := tableBlock(t, r.stdout, "TOPIC  ")
	assertAligned(t, tail)
	if !strings.Contains(tail[1], "1000005:42") || !strings.Contains(tail[1], "1000005:40") {
		t.Errorf("tail row %q", tail[1])
	}
	remotes := tableBlock(t, r.stdout, "TOPIC                                    REMOTE")
	assertAligned(t, remotes)
	if !strings.Contains(remotes[1], "1.5s ago") || !strings.Contains(remotes[1], "0.250s") {
		t.Errorf("remote row %q", remotes[1])
	}
	subs := tableBlock(t, r.stdout, "TOPIC                                    SUBSCRIPTION")
	assertAligned(t, subs)
	if len(subs) != 3 {
		t.Fatalf("want a row per subscription and remote, got %q", subs)
	}
	for _, want := range []string{"billing", "1000005:10", "west", "11", "13", "2s ago", "2.500s", "no"} {
		if !strings.Contains(subs[1], want) {
			t.Errorf("billing row %q lacks %q", subs[1], want)
		}
	}
	if !strings.Contains(subs[2], "never") || !strings.Contains(subs[2], "yes: exclusive consumer attached") {
		t.Errorf("audit row %q", subs[2])
	}
}

func TestStatusJSONRoundTrips(t *testing.T) {
	want := sampleStatus()
	d := startFakeDaemon(t, &fakeEngine{status: want})
	r := cli(t, nil, "status", "-o", "json", "--daemon", d.srv.URL)
	if r.code != exitOK {
		t.Fatalf("exit %d, stderr %s", r.code, r.stderr)
	}
	var got replicator.StatusReport
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("JSON output = %+v, want %+v", got, want)
	}
	if statusFilters(d.engine)[0] != "" {
		t.Errorf("no filter expected, got %q", statusFilters(d.engine)[0])
	}
}

func TestStatusEmpty(t *testing.T) {
	d := startFakeDaemon(t, &fakeEngine{status: replicator.StatusReport{Cluster: "east"}})
	r := cli(t, nil, "status", "--daemon", d.srv.URL)
	if r.code != exitOK || !strings.Contains(r.stdout, "no topic in scope") {
		t.Errorf("exit %d, output %q", r.code, r.stdout)
	}
}

func TestFailoverCheck(t *testing.T) {
	cases := []struct {
		name     string
		report   replicator.FailoverReport
		wantCode int
		wantLine string
	}{
		{"ready", sampleFailover(true), exitOK, "READY: all 2 subscription/standby pair(s) within maxNotAcked=5, maxLagEntries=9"},
		{"not ready", sampleFailover(false), exitFailed, "  - 1 of 2 subscription/standby pair(s) not ready"},
		{"report says not ready, pairs ready", func() replicator.FailoverReport {
			r := sampleFailover(true)
			r.Ready = false
			return r
		}(), exitFailed, "  - the daemon reports the cluster not ready"},
		{"the daemon says why it cannot vouch", func() replicator.FailoverReport {
			r := sampleFailover(true)
			r.Ready = false
			r.Problems = []string{"cannot read the cursors now: topic persistent://shop/eu/orders: internal stats: 503"}
			return r
		}(), exitFailed, "  - cannot read the cursors now: topic persistent://shop/eu/orders: internal stats: 503"},
		{"a pair not ready, report ready", func() replicator.FailoverReport {
			r := sampleFailover(false)
			r.Ready = true
			return r
		}(), exitFailed, "  - 1 of 2"},
		{"no subscriptions", func() replicator.FailoverReport {
			r := sampleFailover(true)
			r.Subscriptions = nil
			return r
		}(), exitFailed, "  - no subscription in scope (pass --allow-empty if that is expected)"},
		{"a namespace without a standby", func() replicator.FailoverReport {
			r := sampleFailover(true)
			r.Namespaces = append(r.Namespaces, replicator.FailoverNamespace{Namespace: "shop/local"})
			return r
		}(), exitFailed, "  - namespace shop/local replicates to no other cluster"},
		{"a namespace another daemon acts for", func() replicator.FailoverReport {
			r := sampleFailover(true)
			r.Namespaces = append(r.Namespaces, replicator.FailoverNamespace{Namespace: "shop/other", Remotes: []string{"west"}, Waiting: true})
			return r
		}(), exitFailed, "  - this daemon does not act for namespace shop/other: another daemon of cluster east holds its lease"},
		{"cursors not read lately", func() replicator.FailoverReport {
			r := sampleFailover(true)
			r.Subscriptions[0].ReadAt = testTime.Add(-6 * time.Second)
			return r
		}(), exitFailed, "stale: cursors last read 6s ago"},
		{"cursors read lately enough", func() replicator.FailoverReport {
			r := sampleFailover(true)
			r.Subscriptions[0].ReadAt = testTime.Add(-4 * time.Second)
			return r
		}(), exitOK, "READY: all 2"},
		{"no update from the standby", func() replicator.FailoverReport {
			r := sampleFailover(true)
			r.Subscriptions[1].StandbyUpdateAt = testTime.Add(-36 * time.Second)
			return r
		}(), exitFailed, "stale: no update from west for 36s"},
		{"a report without its intervals", func() replicator.FailoverReport {
			r := sampleFailover(true)
			r.ExportIntervalSeconds = 0
			return r
		}(), exitFailed, "the report does not say how fresh it is"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := startFakeDaemon(t, &fakeEngine{failover: tc.report})
			r := cli(t, nil, "failover-check", "--daemon", d.srv.URL, "--max-not-acked", "5", "--max-lag-entries", "9")
			if r.code != tc.wantCode {
				t.Errorf("exit %d, want %d; stderr %s", r.code, tc.wantCode, r.stderr)
			}
			if !strings.Contains(r.stdout, tc.wantLine) {
				t.Errorf("output lacks %q:\n%s", tc.wantLine, r.stdout)
			}
			if got := failoverOpts(d.engine); len(got) != 1 || got[0] != (replicator.FailoverOptions{MaxNotAcked: 5, MaxLagEntries: 9}) {
				t.Errorf("thresholds sent %+v", got)
			}
			if len(tc.report.Subscriptions) > 0 {
				block := tableBlock(t, r.stdout, "TOPIC")
				assertAligned(t, block)
				if len(block) != 1+len(tc.report.Subscriptions) {
					t.Errorf("table %q", block)
				}
			}
		})
	}
}

func TestFailoverCheckAllowEmpty(t *testing.T) {
	r := sampleFailover(true)
	r.Subscriptions = []replicator.FailoverSubscription{}
	d := startFakeDaemon(t, &fakeEngine{failover: r})
	out := cli(t, nil, "failover-check", "--daemon", d.srv.URL, "--allow-empty")
	if out.code != exitOK || !strings.Contains(out.stdout, "READY: no subscription in scope, allowed by --allow-empty") {
		t.Errorf("exit %d, stdout %q", out.code, out.stdout)
	}
}

func TestFailoverCheckTableMarksNotReadyPairs(t *testing.T) {
	d := startFakeDaemon(t, &fakeEngine{failover: sampleFailover(false)})
	r := cli(t, nil, "failover-check", "--daemon", d.srv.URL)
	block := tableBlock(t, r.stdout, "TOPIC")
	if !strings.Contains(block[1], "billing") || !strings.Contains(block[1], "yes") {
		t.Errorf("ready row %q", block[1])
	}
	for _, want := range []string{"audit", "17", "3", "NO", "17 acked here, not on west"} {
		if !strings.Contains(block[2], want) {
			t.Errorf("not-ready row %q lacks %q", block[2], want)
		}
	}
}

func TestFailoverCheckJSON(t *testing.T) {
	for _, ready := range []bool{true, false} {
		d := startFakeDaemon(t, &fakeEngine{failover: sampleFailover(ready)})
		r := cli(t, nil, "failover-check", "--daemon", d.srv.URL, "--output", "json")
		want := map[bool]int{true: exitOK, false: exitFailed}[ready]
		if r.code != want {
			t.Errorf("ready=%v: exit %d, want %d", ready, r.code, want)
		}
		var got replicator.FailoverReport
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, r.stdout)
		}
		if !reflect.DeepEqual(got, sampleFailover(ready)) {
			t.Errorf("JSON = %+v", got)
		}
		if r.stderr != "" {
			t.Errorf("stderr %q: the JSON report is the whole answer", r.stderr)
		}
	}
}

func TestFailoverCheckDaemonNotReady(t *testing.T) {
	d := startFakeDaemon(t, &fakeEngine{failover: sampleFailover(true), ready: fmt.Errorf("first discovery pending")})
	r := cli(t, nil, "failover-check", "--daemon", d.srv.URL)
	if r.code != exitFailed || !strings.Contains(r.stderr, "daemon not ready: first discovery pending") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	if len(failoverOpts(d.engine)) != 0 {
		t.Error("a not-ready daemon must not be asked for a report")
	}
}

func TestExitCodes(t *testing.T) {
	d := startFakeDaemon(t, &fakeEngine{status: sampleStatus(), failover: sampleFailover(true), mappingsErr: errFake})
	closed := closedAddress(t)
	notDaemon := httptest.NewServer(http.NotFoundHandler())
	defer notDaemon.Close()
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"unknown command", []string{"bogus"}, exitUsage, `unknown command "bogus"`},
		{"unknown flag", []string{"status", "--bogus"}, exitUsage, "unknown flag: --bogus"},
		{"too many args", []string{"status", "a", "b"}, exitUsage, "takes at most one TOPIC filter"},
		{"mappings without topic", []string{"mappings", "--daemon", d.srv.URL}, exitUsage, "takes one TOPIC, got 0"},
		{"bad output", []string{"status", "-o", "xml", "--daemon", d.srv.URL}, exitUsage, `--output "xml": expected table, json or yaml`},
		{"negative threshold", []string{"failover-check", "--max-not-acked", "-1", "--daemon", d.srv.URL}, exitUsage, "--max-not-acked -1"},
		{"threshold not a number", []string{"failover-check", "--max-lag-entries", "x"}, exitUsage, "max-lag-entries"},
		{"bad daemon url", []string{"status", "--daemon", "ftp://x"}, exitUsage, `daemon address "ftp://x"`},
		{"unreachable", []string{"status", "--daemon", closed}, exitUnreachable, "cannot reach the daemon at http://" + closed},
		{"unreachable failover", []string{"failover-check", "--daemon", closed}, exitUnreachable, "cannot reach the daemon"},
		{"not a daemon", []string{"status", "--daemon", notDaemon.URL}, exitUnreachable, "not like a subsync daemon"},
		{"daemon error", []string{"mappings", "t", "--daemon", d.srv.URL}, exitFailed, "fake failure"},
		{"bad topic", []string{"mappings", "a/b", "--daemon", d.srv.URL}, exitUsage, `topic "a/b": expected persistent://tenant/ns/topic`},
		{"store and daemon", []string{"mappings", "t", "--store", "x", "--daemon", d.srv.URL}, exitUsage, "none of the others can be"},
		{"ok", []string{"status", "--daemon", d.srv.URL}, exitOK, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, nil, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q", r.code, tc.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("stderr %q lacks %q", r.stderr, tc.stderr)
			}
			if tc.code == exitUsage && !strings.Contains(r.stderr, "--help' for usage") {
				t.Errorf("usage error without a hint: %q", r.stderr)
			}
		})
	}
}

// closedAddress is a loopback address nobody listens on.
func closedAddress(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestDaemonAddressFromConfig(t *testing.T) {
	d := startFakeDaemon(t, &fakeEngine{status: sampleStatus()})
	port := d.srv.Listener.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "subsync.yaml")
	// Only apiAddress matters: the CLI does not validate the rest, and
	// metricsAddress is not where the API listens.
	if err := os.WriteFile(cfgFile, fmt.Appendf(nil, "cluster: east\nmetricsAddress: \":1\"\napiAddress: \":%d\"\nhmacKeyFile: /not/readable\n", port), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		env  []string
		args []string
	}{
		"--config":        {nil, []string{"status", "--config", cfgFile}},
		"$SUBSYNC_CONFIG": {[]string{"SUBSYNC_CONFIG=" + cfgFile}, []string{"status"}},
		"$SUBSYNC_API":    {[]string{fmt.Sprintf("SUBSYNC_API_ADDRESS=127.0.0.1:%d", port)}, []string{"status"}},
		"$SUBSYNC_DAEMON": {[]string{"SUBSYNC_DAEMON=" + d.srv.URL, "SUBSYNC_API_ADDRESS=:1"}, []string{"status"}},
		"--daemon wins":   {[]string{"SUBSYNC_DAEMON=http://127.0.0.1:1"}, []string{"status", "--daemon", d.srv.Listener.Addr().String()}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := cli(t, tc.env, tc.args...)
			if r.code != exitOK || !strings.Contains(r.stdout, "cluster east") {
				t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
		})
	}
	t.Run("bad config", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(bad, []byte("metricsAdress: x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := cli(t, nil, "status", "--config", bad)
		if r.code != exitUsage || !strings.Contains(r.stderr, `unknown key "metricsAdress"`) || !strings.Contains(r.stderr, "--daemon") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

func TestMappingsFromDaemon(t *testing.T) {
	want := replicator.MappingsReport{
		Topic: "persistent://shop/eu/orders-partition-1",
		Runs: []replicator.RunView{
			{Local: "1000003:0", Origin: "east", OriginStart: "1000003:0", Count: 100},
			{Local: "1000004:0", Origin: "west", OriginStart: "2000001:17", Count: 5},
		},
		Snapshots: []replicator.MappingView{{Remote: "west", Local: "1000004:4", RemoteLAC: "2000002:9", Watermark: "1000004:3", At: testTime}},
	}
	d := startFakeDaemon(t, &fakeEngine{mappings: want})
	r := cli(t, nil, "mappings", "shop/eu/orders-partition-1", "--daemon", d.srv.URL)
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := mappingTopics(d.engine); len(got) != 1 || got[0] != want.Topic {
		t.Errorf("topic asked %q, want the expanded %q", got, want.Topic)
	}
	runs := tableBlock(t, r.stdout, "LOCAL")
	assertAligned(t, runs)
	if len(runs) != 3 || !strings.Contains(runs[2], "2000001:17") || !strings.Contains(runs[2], "west") {
		t.Errorf("runs table %q", runs)
	}
	snaps := tableBlock(t, r.stdout, "REMOTE")
	assertAligned(t, snaps)
	if len(snaps) != 2 || !strings.Contains(snaps[1], "2000002:9") || !strings.Contains(snaps[1], "2025-03-04T05:06:07Z") {
		t.Errorf("snapshots table %q", snaps)
	}

	r = cli(t, nil, "mappings", want.Topic, "-o", "json", "--daemon", d.srv.URL)
	var got replicator.MappingsReport
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("JSON = %+v, %v", got, err)
	}
}

func TestMappingsFromStore(t *testing.T) {
	dir := t.TempDir()
	store, err := mapping.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	const topic = "persistent://public/default/orders"
	runs := []mapping.Run{
		{Local: ackset.Position{Ledger: 1000001, Entry: 0}, Origin: "east", OriginLedger: 1000001, OriginEntry: 0, Count: 10},
		{Local: ackset.Position{Ledger: 1000001, Entry: 10}, Origin: "west", OriginLedger: 2000001, OriginEntry: 3, Count: 4},
	}
	if err := store.AppendTail(topic, runs, ackset.Position{Ledger: 1000001, Entry: 13}); err != nil {
		t.Fatal(err)
	}

	t.Run("locked while the daemon holds it", func(t *testing.T) {
		r := cli(t, nil, "mappings", "orders", "--store", dir)
		if r.code != exitFailed || !strings.Contains(r.stderr, "in use by another process") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	r := cli(t, nil, "mappings", "orders", "--store", dir)
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	block := tableBlock(t, r.stdout, "LOCAL")
	assertAligned(t, block)
	if len(block) != 3 || !strings.Contains(block[1], "1000001:0") || !strings.Contains(block[2], "2000001:3") || !strings.Contains(block[2], "4") {
		t.Errorf("runs from the store %q", block)
	}

	r = cli(t, nil, "mappings", "other", "--store", dir)
	if r.code != exitFailed || !strings.Contains(r.stderr, "persistent://public/default/other is not in the store") || !strings.Contains(r.stderr, topic) {
		t.Errorf("unknown topic: exit %d, stderr %q", r.code, r.stderr)
	}

	r = cli(t, nil, "mappings", "orders", "--store", filepath.Join(dir, "missing"))
	if r.code != exitUsage || !strings.Contains(r.stderr, "not a directory holding a subsync store") {
		t.Errorf("missing store: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestFullTopicName(t *testing.T) {
	cases := map[string]string{
		"orders":                          "persistent://public/default/orders",
		"shop/eu/orders":                  "persistent://shop/eu/orders",
		"persistent://shop/eu/orders-p-1": "persistent://shop/eu/orders-p-1",
	}
	for in, want := range cases {
		if got, err := fullTopicName(in); err != nil || got != want {
			t.Errorf("fullTopicName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "a/b", "non-persistent://a/b/c", "persistent://a/b", "a/b/c/d"} {
		if _, err := fullTopicName(bad); err == nil {
			t.Errorf("fullTopicName(%q): no error", bad)
		}
	}
}

func TestKeygen(t *testing.T) {
	r := cli(t, nil, "keygen", "--id", "42")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	ring, err := config.ParseKeyFile("stdout", []byte(r.stdout))
	if err != nil || ring.Current().ID != 42 || len(ring.Current().Secret) != 32 {
		t.Fatalf("keygen output %q does not parse as a 32-byte key 42: %v", r.stdout, err)
	}
	if again := cli(t, nil, "keygen", "--id", "42"); again.stdout == r.stdout {
		t.Error("two keygen runs produced the same secret")
	}

	out := filepath.Join(t.TempDir(), "keys")
	if r := cli(t, nil, "keygen", "--out", out, "--bytes", "16"); r.code != exitOK {
		t.Fatalf("--out: exit %d: %s", r.code, r.stderr)
	}
	info, err := os.Stat(out)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", info.Mode(), err)
	}
	if _, warning, err := config.LoadKeyFile(out); err != nil || warning != "" {
		t.Errorf("written key file: %v, warning %q", err, warning)
	}
	before, _ := os.ReadFile(out)
	if r := cli(t, nil, "keygen", "--out", out); r.code != exitUsage || !strings.Contains(r.stderr, "never overwrites") {
		t.Errorf("overwrite: exit %d, stderr %q", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(out); string(after) != string(before) {
		t.Error("the existing key file changed")
	}
	for _, args := range [][]string{{"--id", "-1"}, {"--id", "4294967296"}, {"--bytes", "15"}} {
		if r := cli(t, nil, append([]string{"keygen"}, args...)...); r.code != exitUsage {
			t.Errorf("keygen %v: exit %d, want %d", args, r.code, exitUsage)
		}
	}
}

func TestRunRejectsBadConfigListingEveryProblem(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "subsync.yaml")
	if err := os.WriteFile(cfg, []byte("cluster: east\nexportInterval: soon\nnamespaces: [nons]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := cli(t, []string{"SUBSYNC_LOG_LEVEL=loud"}, "run", "--config", cfg, "--metrics-address", "nope")
	if r.code != exitUsage {
		t.Fatalf("exit %d, want %d", r.code, exitUsage)
	}
	for _, want := range []string{"invalid configuration (5 problems):", "exportInterval (" + cfg + ":2)", "namespaces (" + cfg + ":3)",
		"hmacKeyFile: required", "log.level ($SUBSYNC_LOG_LEVEL)", "metricsAddress (--metrics-address)"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if r.stdout != "" {
		t.Errorf("stdout %q", r.stdout)
	}
}

func TestRunCheck(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	if r := cli(t, nil, "keygen", "--out", keys); r.code != exitOK {
		t.Fatal(r.stderr)
	}
	r := cli(t, []string{"SUBSYNC_CLUSTER=east", "SUBSYNC_AUTH_METHOD=token", "SUBSYNC_AUTH_TOKEN=s3cret"}, "run", "--check",
		"--namespaces", "a/b", "--hmac-key-file", keys, "--store-dir", filepath.Join(dir, "store"))
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"configuration OK", "$SUBSYNC_CLUSTER", "--namespaces", "(redacted)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--check output lacks %q", want)
		}
	}
	if strings.Contains(r.stdout, "s3cret") {
		t.Error("--check printed the token")
	}
	if _, err := os.Stat(filepath.Join(dir, "store")); !os.IsNotExist(err) {
		t.Error("--check must not create the store")
	}
}

func TestHelpTeaches(t *testing.T) {
	for _, cmd := range []string{"run", "status", "mappings", "failover-check", "keygen"} {
		r := cli(t, nil, cmd, "--help")
		if r.code != exitOK || !strings.Contains(r.stdout, "Examples:") || !strings.Contains(r.stdout, "subsync "+cmd) {
			t.Errorf("%s --help: exit %d, output lacks examples:\n%s", cmd, r.code, r.stdout)
		}
	}
	r := cli(t, nil, "--help")
	for _, want := range []string{"Exit codes:", "3  the daemon could not be reached"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("root help lacks %q", want)
		}
	}
}
