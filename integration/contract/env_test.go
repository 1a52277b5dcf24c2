package contract

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	pulsarlog "github.com/apache/pulsar-client-go/pulsar/log"
	"github.com/apache/pulsar-client-go/pulsaradmin"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/rest"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"

	"github.com/subsync/subsync/integration/emulator"
)

// Environment variables that point the suite at a real Pulsar pair.
const (
	envAServiceURL = "PULSAR_A_SERVICE_URL"
	envAWebURL     = "PULSAR_A_WEB_URL"
	envBServiceURL = "PULSAR_B_SERVICE_URL"
	envBWebURL     = "PULSAR_B_WEB_URL"
	envACluster    = "PULSAR_A_CLUSTER"
	envBCluster    = "PULSAR_B_CLUSTER"
	// envClientLog turns on pulsar-client-go's logs (debug|info|warn|error).
	envClientLog = "CONTRACT_CLIENT_LOG"
)

const (
	contractTenant = "contract"
	// emulatedLedgerMaxEntries is small so that a few dozen messages cross
	// ledger boundaries in the emulator.
	emulatedLedgerMaxEntries = 10
	// stampProperty is the property a 3.0.11+ replicator adds to every copy.
	stampProperty = "__MSG_PROP_REPL_SOURCE_POSITION"
	// replicatorCursorPrefix names the replicator's durable cursor: pulsar.repl.<remote>.
	replicatorCursorPrefix = "pulsar.repl."

	waitTimeout = 10 * time.Second
	// quietPeriod is how long "nothing more arrives" is watched for.
	quietPeriod = 300 * time.Millisecond
	pollEvery   = 25 * time.Millisecond
)

// cluster is one Pulsar cluster as the tests see it: its name, its two
// listeners and a client for each.
type cluster struct {
	name       string
	serviceURL string
	webURL     string
	admin      pulsaradmin.Client
	client     pulsar.Client
	rest       *rest.Client
}

// pair is the A/B pair of clusters a test runs against; b is nil for a
// single-cluster emulator started by one test.
type pair struct {
	a, b *cluster
}

// environment is what TestMain selected.
type environment struct {
	emulated bool
	main     pair
}

// env is set once by TestMain before any test runs and never changed after.
var env environment

func TestMain(m *testing.M) {
	flag.Parse()
	raiseDefaultParallelism()
	code, err := runSuite(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "contract:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

// raiseDefaultParallelism lets the mostly-waiting tests overlap: -parallel
// defaults to GOMAXPROCS (2 on CI), which would serialise the suite.
func raiseDefaultParallelism() {
	explicit := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "test.parallel" {
			explicit = true
		}
	})
	if !explicit {
		_ = flag.Set("test.parallel", "12")
	}
}

func runSuite(m *testing.M) (int, error) {
	selected, closeEnv, err := selectEnvironment()
	if err != nil {
		return 0, err
	}
	defer closeEnv()
	env = selected
	return m.Run(), nil
}

func selectEnvironment() (environment, func(), error) {
	urls := []string{os.Getenv(envAServiceURL), os.Getenv(envAWebURL),
		os.Getenv(envBServiceURL), os.Getenv(envBWebURL)}
	set := 0
	for _, u := range urls {
		if u != "" {
			set++
		}
	}
	switch set {
	case 0:
		return startMainEmulator()
	case len(urls):
		return connectRealPair(urls)
	default:
		return environment{}, nil, fmt.Errorf("set all of %s, %s, %s, %s or none of them",
			envAServiceURL, envAWebURL, envBServiceURL, envBWebURL)
	}
}

func startMainEmulator() (environment, func(), error) {
	sim, err := emulator.Start(emulator.Options{Clusters: []emulator.ClusterOptions{
		{Name: "east", LedgerMaxEntries: emulatedLedgerMaxEntries, TTLCheckInterval: 200 * time.Millisecond},
		{Name: "west", LedgerMaxEntries: emulatedLedgerMaxEntries, TTLCheckInterval: 200 * time.Millisecond},
	}})
	if err != nil {
		return environment{}, nil, fmt.Errorf("start emulator: %w", err)
	}
	p, err := pairFromSim(sim, "east", "west")
	if err != nil {
		sim.Close()
		return environment{}, nil, err
	}
	closeAll := func() {
		p.close()
		sim.Close()
	}
	return environment{emulated: true, main: p}, closeAll, nil
}

func connectRealPair(urls []string) (environment, func(), error) {
	nameA := getenvDefault(envACluster, "cluster-a")
	nameB := getenvDefault(envBCluster, "cluster-b")
	a, err := newCluster(nameA, urls[0], urls[1])
	if err != nil {
		return environment{}, nil, err
	}
	b, err := newCluster(nameB, urls[2], urls[3])
	if err != nil {
		a.client.Close()
		return environment{}, nil, err
	}
	p := pair{a: a, b: b}
	if err := p.prepare(); err != nil {
		p.close()
		return environment{}, nil, err
	}
	return environment{emulated: false, main: p}, p.close, nil
}

func getenvDefault(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// pairFromSim wraps two clusters of a running Sim (b may be "" for a
// single-cluster Sim) and prepares the contract tenant on them.
func pairFromSim(sim *emulator.Sim, nameA, nameB string) (pair, error) {
	var p pair
	for _, name := range []string{nameA, nameB} {
		if name == "" {
			continue
		}
		sc := sim.Cluster(name)
		if sc == nil {
			p.close()
			return pair{}, fmt.Errorf("emulator has no cluster %q", name)
		}
		c, err := newCluster(sc.Name(), sc.ServiceURL(), sc.WebURL())
		if err != nil {
			p.close()
			return pair{}, err
		}
		if p.a == nil {
			p.a = c
		} else {
			p.b = c
		}
	}
	if err := p.prepare(); err != nil {
		p.close()
		return pair{}, err
	}
	return p, nil
}

func newCluster(name, serviceURL, webURL string) (*cluster, error) {
	adm, err := pulsaradmin.NewClient(&pulsaradmin.Config{WebServiceURL: webURL})
	if err != nil {
		return nil, fmt.Errorf("admin client for %s (%s): %w", name, webURL, err)
	}
	cli, err := pulsar.NewClient(pulsar.ClientOptions{
		URL:               serviceURL,
		ConnectionTimeout: 5 * time.Second,
		OperationTimeout:  10 * time.Second,
		Logger:            clientLogger(),
	})
	if err != nil {
		return nil, fmt.Errorf("pulsar client for %s (%s): %w", name, serviceURL, err)
	}
	return &cluster{
		name:       name,
		serviceURL: serviceURL,
		webURL:     webURL,
		admin:      adm,
		client:     cli,
		rest:       &rest.Client{ServiceURL: webURL, HTTPClient: &http.Client{Timeout: 10 * time.Second}},
	}, nil
}

func clientLogger() pulsarlog.Logger {
	levels := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo,
		"warn": slog.LevelWarn, "error": slog.LevelError}
	level, ok := levels[strings.ToLower(os.Getenv(envClientLog))]
	if !ok {
		return pulsarlog.DefaultNopLogger()
	}
	h := slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	return pulsarlog.NewLoggerWithSlog(slog.New(h))
}

func (p pair) clusters() []*cluster {
	out := []*cluster{p.a}
	if p.b != nil {
		out = append(out, p.b)
	}
	return out
}

func (p pair) close() {
	for _, c := range []*cluster{p.a, p.b} {
		if c != nil {
			c.client.Close()
		}
	}
}

// prepare makes every cluster know the others and creates the contract
// tenant on each (each standalone Pulsar has its own metadata store).
func (p pair) prepare() error {
	names := []string{}
	for _, c := range p.clusters() {
		names = append(names, c.name)
	}
	for _, c := range p.clusters() {
		for _, peer := range p.clusters() {
			if peer != c {
				if err := ensureClusterKnown(c, peer); err != nil {
					return err
				}
			}
		}
		err := c.admin.Tenants().Create(utils.TenantData{Name: contractTenant, AllowedClusters: names})
		if err != nil && !isHTTPStatus(err, http.StatusConflict) {
			return fmt.Errorf("create tenant %s on %s: %w", contractTenant, c.name, err)
		}
	}
	return nil
}

func ensureClusterKnown(c, peer *cluster) error {
	known, err := c.admin.Clusters().List()
	if err != nil {
		return fmt.Errorf("list clusters on %s: %w", c.name, err)
	}
	for _, k := range known {
		if k == peer.name {
			return nil
		}
	}
	err = c.admin.Clusters().Create(utils.ClusterData{
		Name: peer.name, ServiceURL: peer.webURL, BrokerServiceURL: peer.serviceURL,
	})
	if err != nil && !isHTTPStatus(err, http.StatusConflict) {
		return fmt.Errorf("register cluster %s on %s: %w", peer.name, c.name, err)
	}
	return nil
}

func isHTTPStatus(err error, code int) bool {
	var re rest.Error
	return errors.As(err, &re) && re.Code == code
}

// envPulsarVersion names the Pulsar version of a real pair not started by
// the test bed (the bed sets SUBSYNC_TESTBED_VERSION).
const envPulsarVersion = "PULSAR_VERSION"

// realVersion is the real pair's Pulsar version, "" when unknown or emulated.
func realVersion() string {
	if env.emulated {
		return ""
	}
	if v := os.Getenv("SUBSYNC_TESTBED_VERSION"); v != "" {
		return v
	}
	return os.Getenv(envPulsarVersion)
}

// stampExpected says whether the replicators of the main pair stamp copies
// with __MSG_PROP_REPL_SOURCE_POSITION: the emulator's do; a real broker's
// do from 3.0.11, 3.3.5, 4.0.3 and 4.1.0 (apache/pulsar#23697; 3.1 and 3.2
// never got it). A real pair of unknown version is taken to stamp.
func stampExpected() bool {
	v := realVersion()
	if v == "" {
		return true
	}
	var major, minor, patch int
	if _, err := fmt.Sscanf(v, "%d.%d.%d", &major, &minor, &patch); err != nil {
		return true
	}
	switch {
	case major > 4 || major == 4 && (minor >= 1 || patch >= 3):
		return true
	case major == 3 && minor == 0:
		return patch >= 11
	case major == 3 && minor == 3:
		return patch >= 5
	case major == 3 && minor > 3:
		return true
	default:
		return false
	}
}

// requireEmulator skips a test that needs a facility only the emulator has.
func requireEmulator(t *testing.T, why string) {
	t.Helper()
	if !env.emulated {
		t.Skipf("needs the emulator (%s); a real Pulsar pair has no such facility", why)
	}
}

// startSim starts a private emulator for a test that needs non-default
// cluster options; the first one or two clusters become the returned pair.
func startSim(t *testing.T, clusters ...emulator.ClusterOptions) pair {
	t.Helper()
	sim, err := emulator.Start(emulator.Options{Clusters: clusters})
	if err != nil {
		t.Fatalf("start private emulator: %v", err)
	}
	t.Cleanup(sim.Close)
	nameB := ""
	if len(clusters) > 1 {
		nameB = clusters[1].Name
	}
	p, err := pairFromSim(sim, clusters[0].Name, nameB)
	if err != nil {
		t.Fatalf("connect to private emulator: %v", err)
	}
	t.Cleanup(p.close)
	return p
}

// simPost calls the emulator's HTTP fault API (served by every cluster's
// admin listener for the whole Sim).
func simPost(t *testing.T, c *cluster, path string) {
	t.Helper()
	resp, err := http.Post(c.webURL+path, "application/json", nil)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: status %d: %s", path, resp.StatusCode, body)
	}
}

// ---- names ----

var nonNameChars = regexp.MustCompile(`[^a-z0-9]+`)

func randomSuffix() string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// namespace creates a namespace unique to the test on A (and on B when
// replicated), with replication clusters [A] or [A, B].
func (p pair) namespace(t *testing.T, replicated bool) string {
	t.Helper()
	slug := strings.Trim(nonNameChars.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(slug) > 40 {
		slug = slug[len(slug)-40:]
	}
	ns := contractTenant + "/" + slug + "-" + randomSuffix()
	targets := []*cluster{p.a}
	if replicated {
		if p.b == nil {
			t.Fatal("a replicated namespace needs two clusters")
		}
		targets = append(targets, p.b)
	}
	names := []string{}
	for _, c := range targets {
		names = append(names, c.name)
	}
	for _, c := range targets {
		if err := c.admin.Namespaces().CreateNamespace(ns); err != nil {
			t.Fatalf("create namespace %s on %s: %v", ns, c.name, err)
		}
		if err := c.admin.Namespaces().SetNamespaceReplicationClusters(ns, names); err != nil {
			t.Fatalf("set replication clusters %v of %s on %s: %v", names, ns, c.name, err)
		}
	}
	return ns
}

func topicIn(ns, local string) string { return "persistent://" + ns + "/" + local }

func topicName(t *testing.T, topic string) utils.TopicName {
	t.Helper()
	tn, err := utils.GetTopicName(topic)
	if err != nil {
		t.Fatalf("topic name %q: %v", topic, err)
	}
	return *tn
}

// ---- polling ----

// eventually polls check until it returns nil or timeout passes.
func eventually(t *testing.T, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not true within %v: %v", timeout, err)
		}
		time.Sleep(pollEvery)
	}
}

// consistently checks that check keeps returning nil for the whole period.
func consistently(t *testing.T, period time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(period)
	for {
		if err := check(); err != nil {
			t.Fatalf("stopped holding: %v", err)
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(pollEvery)
	}
}

// ---- producing ----

type producerOption func(*pulsar.ProducerOptions)

// newProducer creates a non-batching producer unless an option says otherwise,
// so that every message is its own entry.
func newProducer(t *testing.T, c *cluster, topic string, opts ...producerOption) pulsar.Producer {
	t.Helper()
	o := pulsar.ProducerOptions{Topic: topic, DisableBatching: true, SendTimeout: waitTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	p, err := c.client.CreateProducer(o)
	if err != nil {
		t.Fatalf("create producer on %s for %s: %v", c.name, topic, err)
	}
	t.Cleanup(p.Close)
	return p
}

func send(t *testing.T, p pulsar.Producer, msg *pulsar.ProducerMessage) pulsar.MessageID {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	id, err := p.Send(ctx, msg)
	if err != nil {
		t.Fatalf("send %q: %v", msg.Payload, err)
	}
	return id
}

// sendPayloads sends one message per payload and returns their ids in order.
func sendPayloads(t *testing.T, p pulsar.Producer, payloads ...string) []pulsar.MessageID {
	t.Helper()
	ids := make([]pulsar.MessageID, 0, len(payloads))
	for _, pl := range payloads {
		ids = append(ids, send(t, p, &pulsar.ProducerMessage{Payload: []byte(pl)}))
	}
	return ids
}

// numbered returns prefix-0 ... prefix-(n-1).
func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + "-" + strconv.Itoa(i)
	}
	return out
}

// ---- consuming ----

// holdSubscription is the durable subscription holdEntries leaves behind.
const holdSubscription = "contract-hold"

// holdEntries makes c keep every entry of topic written from now on, as an
// application must: with the default zero retention a broker deletes each
// closed ledger that every durable cursor has consumed (all of them when
// there is none; the replicator's cursor consumes at once), so a reader from
// earliest sees only the last ledger or two. A durable subscription that
// never acknowledges holds them.
func holdEntries(t *testing.T, c *cluster, topic string) {
	t.Helper()
	cons, err := c.client.Subscribe(pulsar.ConsumerOptions{Topic: topic, SubscriptionName: holdSubscription,
		Type: pulsar.Exclusive, SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest})
	if err != nil {
		t.Fatalf("hold subscription on %s/%s: %v", c.name, topic, err)
	}
	cons.Close()
}

func subscribe(t *testing.T, c *cluster, o pulsar.ConsumerOptions) pulsar.Consumer {
	t.Helper()
	cons, err := c.client.Subscribe(o)
	if err != nil {
		t.Fatalf("subscribe %s on %s/%s: %v", o.SubscriptionName, c.name, o.Topic, err)
	}
	t.Cleanup(cons.Close)
	return cons
}

// receiveN receives exactly n messages or fails.
func receiveN(t *testing.T, cons pulsar.Consumer, n int) []pulsar.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	out := make([]pulsar.Message, 0, n)
	for len(out) < n {
		m, err := cons.Receive(ctx)
		if err != nil {
			t.Fatalf("received %d of %d messages (%v): %v", len(out), n, payloadsOf(out), err)
		}
		out = append(out, m)
	}
	return out
}

// expectNoMessage fails if cons receives anything within quietPeriod.
func expectNoMessage(t *testing.T, cons pulsar.Consumer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), quietPeriod)
	defer cancel()
	if m, err := cons.Receive(ctx); err == nil {
		t.Fatalf("unexpected message %q at %v", m.Payload(), m.ID())
	}
}

func newReader(t *testing.T, c *cluster, o pulsar.ReaderOptions) pulsar.Reader {
	t.Helper()
	r, err := c.client.CreateReader(o)
	if err != nil {
		t.Fatalf("create reader on %s/%s: %v", c.name, o.Topic, err)
	}
	t.Cleanup(r.Close)
	return r
}

// nextN reads exactly n messages from r or fails.
func nextN(t *testing.T, r pulsar.Reader, n int) []pulsar.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	out := make([]pulsar.Message, 0, n)
	for len(out) < n {
		m, err := r.Next(ctx)
		if err != nil {
			t.Fatalf("read %d of %d messages (%v): %v", len(out), n, payloadsOf(out), err)
		}
		out = append(out, m)
	}
	return out
}

func expectNoNext(t *testing.T, r pulsar.Reader) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), quietPeriod)
	defer cancel()
	if m, err := r.Next(ctx); err == nil {
		t.Fatalf("unexpected message %q at %v", m.Payload(), m.ID())
	}
}

// readExactly reads the topic on c from the earliest message: exactly n
// messages, then nothing more for quietPeriod.
func readExactly(t *testing.T, c *cluster, topic string, n int) []pulsar.Message {
	t.Helper()
	r := newReader(t, c, pulsar.ReaderOptions{Topic: topic, StartMessageID: pulsar.EarliestMessageID()})
	defer r.Close()
	msgs := nextN(t, r, n)
	expectNoNext(t, r)
	return msgs
}

func payloadsOf(msgs []pulsar.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m.Payload())
	}
	return out
}

func byPayload(msgs []pulsar.Message) map[string]pulsar.Message {
	out := make(map[string]pulsar.Message, len(msgs))
	for _, m := range msgs {
		out[string(m.Payload())] = m
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// ---- admin ----

func fetchInternalStats(t *testing.T, c *cluster, topic string) (utils.PersistentTopicInternalStats, error) {
	return c.admin.Topics().GetInternalStats(topicName(t, topic))
}

func mustInternalStats(t *testing.T, c *cluster, topic string) utils.PersistentTopicInternalStats {
	t.Helper()
	st, err := fetchInternalStats(t, c, topic)
	if err != nil {
		t.Fatalf("internal stats of %s on %s: %v", topic, c.name, err)
	}
	return st
}

// cursorStats returns the named cursor from the topic's internal stats.
func cursorStats(t *testing.T, c *cluster, topic, name string) (utils.CursorStats, error) {
	st, err := fetchInternalStats(t, c, topic)
	if err != nil {
		return utils.CursorStats{}, fmt.Errorf("internal stats of %s on %s: %w", topic, c.name, err)
	}
	cs, ok := st.Cursors[name]
	if !ok {
		return utils.CursorStats{}, fmt.Errorf("no cursor %q on %s/%s (cursors: %v)", name, c.name, topic, cursorNames(st))
	}
	return cs, nil
}

func cursorNames(st utils.PersistentTopicInternalStats) []string {
	out := []string{}
	for n := range st.Cursors {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ---- positions and the cursor model ----

// pos is a ledger:entry position.
type pos struct{ L, E int64 }

func (p pos) String() string { return fmt.Sprintf("%d:%d", p.L, p.E) }

func (p pos) less(q pos) bool { return p.L < q.L || (p.L == q.L && p.E < q.E) }

func posOf(id pulsar.MessageID) pos { return pos{id.LedgerID(), id.EntryID()} }

func parsePos(s string) (pos, error) {
	l, e, ok := strings.Cut(s, ":")
	if !ok {
		return pos{}, fmt.Errorf("position %q: want ledger:entry", s)
	}
	li, err1 := strconv.ParseInt(l, 10, 64)
	ei, err2 := strconv.ParseInt(e, 10, 64)
	if err1 != nil || err2 != nil {
		return pos{}, fmt.Errorf("position %q: want two integers", s)
	}
	return pos{li, ei}, nil
}

// entriesOf returns the distinct entry positions of ids in order (a batch's
// messages share one entry).
func entriesOf(ids []pulsar.MessageID) []pos {
	out := []pos{}
	for _, id := range ids {
		p := posOf(id)
		if len(out) == 0 || out[len(out)-1] != p {
			out = append(out, p)
		}
	}
	return out
}

// idmContains says whether p lies in one of the individuallyDeletedMessages
// ranges (open below, closed above); both of Pulsar's spellings parse
// (ranges joined by "," or ", ", possibly spanning ledgers).
func idmContains(idm string, p pos) (bool, error) {
	body := strings.TrimSuffix(strings.TrimPrefix(idm, "["), "]")
	if body == "" {
		return false, nil
	}
	for _, r := range strings.Split(body, ",") {
		r = strings.TrimSpace(r)
		lo, hi, ok := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(r, "("), "]"), "..")
		if !ok {
			return false, fmt.Errorf("range %q of %s: want (L:E..L:E]", r, idm)
		}
		lower, err1 := parsePos(lo)
		upper, err2 := parsePos(hi)
		if err1 != nil || err2 != nil {
			return false, fmt.Errorf("range %q of %s: unparsable bounds", r, idm)
		}
		if lower.less(p) && !upper.less(p) {
			return true, nil
		}
	}
	return false, nil
}

// cursorWant is what Pulsar's ManagedCursorImpl reports for a subscription
// over a topic made of entries (in order, nothing else in the topic) when the
// entries in acked are deleted.
type cursorWant struct {
	mdp     pos
	idm     string
	ranges  int
	entries []pos
}

// expectCursor models the cursor: the mark-delete position is the end of the
// acked prefix (or the entry before the first one); every other maximal run of
// acked entries within one ledger prints as (L:first-1..L:last].
func expectCursor(entries []pos, acked map[pos]bool) cursorWant {
	w := cursorWant{entries: entries}
	if len(entries) == 0 {
		w.idm = "[]"
		return w
	}
	w.mdp = pos{entries[0].L, entries[0].E - 1}
	i := 0
	for ; i < len(entries) && acked[entries[i]]; i++ {
		w.mdp = entries[i]
	}
	ranges := []string{}
	for i < len(entries) {
		if !acked[entries[i]] {
			i++
			continue
		}
		start := entries[i]
		end := start
		for i+1 < len(entries) && acked[entries[i+1]] && entries[i+1].L == start.L && entries[i+1].E == end.E+1 {
			i++
			end = entries[i]
		}
		ranges = append(ranges, fmt.Sprintf("(%d:%d..%s]", start.L, start.E-1, end))
		i++
	}
	w.idm = "[" + strings.Join(ranges, ",") + "]"
	w.ranges = len(ranges)
	return w
}

// mdpMatches says whether a reported mark-delete position equals the model's.
// Pulsar moves a mark-delete position that sits on the last entry of a
// finished ledger to (next ledger):-1 when it trims consumed ledgers
// (ManagedLedgerImpl.maybeUpdateCursorBeforeTrimmingConsumedLedger); both
// spellings denote the same cursor state.
func (w cursorWant) mdpMatches(got string) bool {
	if got == w.mdp.String() {
		return true
	}
	g, err := parsePos(got)
	if err != nil || g.E != -1 || g.L <= w.mdp.L {
		return false
	}
	for i, e := range w.entries {
		if e != w.mdp {
			continue
		}
		if i+1 == len(w.entries) {
			return true // the ledger after the last entry is not known here
		}
		next := w.entries[i+1]
		return next.L != e.L && g.L <= next.L
	}
	return false
}

// checkCursor waits until the subscription's cursor matches the model.
func checkCursor(t *testing.T, c *cluster, topic, sub string, want cursorWant) {
	t.Helper()
	eventually(t, waitTimeout, func() error {
		cs, err := cursorStats(t, c, topic, sub)
		if err != nil {
			return err
		}
		if cs.IndividuallyDeletedMessages != want.idm || !want.mdpMatches(cs.MarkDeletePosition) {
			return fmt.Errorf("cursor %s: markDeletePosition %s individuallyDeletedMessages %s; want %s and %s",
				sub, cs.MarkDeletePosition, cs.IndividuallyDeletedMessages, want.mdp, want.idm)
		}
		if cs.TotalNonContiguousDeletedMessagesRange != want.ranges {
			return fmt.Errorf("cursor %s: totalNonContiguousDeletedMessagesRange %d, want %d",
				sub, cs.TotalNonContiguousDeletedMessagesRange, want.ranges)
		}
		return nil
	})
}

// ackedSet builds the acked-entry set from indexes into entries.
func ackedSet(entries []pos, idx ...int) map[pos]bool {
	out := map[pos]bool{}
	for _, i := range idx {
		out[entries[i]] = true
	}
	return out
}

func rangeInts(from, to int) []int {
	out := []int{}
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// newBatchingProducer batches up to n messages and never flushes on a timer,
// so sendBatch controls what travels together.
func newBatchingProducer(t *testing.T, c *cluster, topic string, n int) pulsar.Producer {
	t.Helper()
	return newProducer(t, c, topic, func(o *pulsar.ProducerOptions) {
		o.DisableBatching = false
		o.BatchingMaxMessages = uint(n)
		o.BatchingMaxSize = 1 << 20
		o.BatchingMaxPublishDelay = time.Minute
	})
}

// sendBatch sends payloads asynchronously and flushes: one batch, one entry.
func sendBatch(t *testing.T, p pulsar.Producer, payloads []string) []pulsar.MessageID {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ids := make([]pulsar.MessageID, len(payloads))
	done := make(chan error, len(payloads))
	for i, pl := range payloads {
		p.SendAsync(ctx, &pulsar.ProducerMessage{Payload: []byte(pl)},
			func(id pulsar.MessageID, _ *pulsar.ProducerMessage, err error) {
				ids[i] = id
				done <- err
			})
	}
	if err := p.FlushWithCtx(context.Background()); err != nil {
		t.Fatalf("flush batch: %v", err)
	}
	for range payloads {
		if err := <-done; err != nil {
			t.Fatalf("send batch %v: %v", payloads, err)
		}
	}
	return ids
}

func namespaceName(t *testing.T, ns string) utils.NameSpaceName {
	t.Helper()
	n, err := utils.GetNamespaceName(ns)
	if err != nil {
		t.Fatalf("namespace name %q: %v", ns, err)
	}
	return *n
}
