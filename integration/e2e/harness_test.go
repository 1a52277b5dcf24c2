package e2e

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/subsync/subsync/integration/emulator"
	"github.com/subsync/subsync/integration/workload"
	"github.com/subsync/subsync/mapping"
	"github.com/subsync/subsync/replicator"
	"github.com/subsync/subsync/snapshot"
)

// The clusters, the geo-replicated namespace and the subscription that
// the daemons are told to leave alone (a control group: what a failover
// costs without any sync).
const (
	east           = "east"
	west           = "west"
	emulatedNSName = "e2e/geo"
	unsynced       = "unsynced"
)

// Bounds of the harness's waits. Generous for a loaded 2-core machine
// under -race; a passing run needs a fraction of them.
const (
	testTimeout = 75 * time.Second
	syncTimeout = 25 * time.Second
	pollEvery   = 50 * time.Millisecond
	daemonGrace = 20 * time.Second
)

// envOptions shape a pair of clusters and their daemons.
type envOptions struct {
	// LedgerMaxEntries rolls ledgers over after so many entries (0: the
	// emulator's default, 100).
	LedgerMaxEntries int
	// ResetThreshold is the daemons' reset-cursor threshold (0: default).
	ResetThreshold int64
	// SnapshotTimeout abandons unanswered snapshot requests (0: default).
	SnapshotTimeout time.Duration
	// NoSourcePositionStamp emulates Pulsars whose replicated copies carry
	// no source-position stamp.
	NoSourcePositionStamp bool
}

// env is two emulated clusters, east and west, with a geo-replicated
// namespace, the applications' connections to each and one subsync
// daemon beside each, with its own connections and store.
type env struct {
	t    *testing.T
	o    envOptions
	bed  clusters
	ns   string // the geo-replicated namespace
	keys *snapshot.Keyring
	eps  map[string]*workload.Endpoint // the applications' connections
	dirs map[string]string             // each daemon's store, kept across restarts

	mu      sync.Mutex
	daemons map[string]*daemonProc
	// lastSync describes the clusters and daemons when the last wait for
	// sync ended, for failure messages; lastTopic is its topic.
	lastSync, lastTopic string
}

// noteTopic records the test's topic for failure messages.
func (e *env) noteTopic(topic string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lastTopic = topic
}

func (e *env) topicOf() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lastTopic
}

// daemonProc is one incarnation of a daemon: stopping it and starting
// another on the same store is a restart.
type daemonProc struct {
	cluster string
	d       *replicator.Daemon
	metrics *replicator.Metrics
	ep      *workload.Endpoint
	store   *mapping.Store
	cancel  context.CancelFunc
	done    chan error
	// stopOnce: a daemon stopped as the usual one and again at the test's
	// end is stopped once.
	stopOnce sync.Once
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	e := &env{t: t, o: o, keys: newKeyring(t), eps: map[string]*workload.Endpoint{},
		dirs: map[string]string{}, daemons: map[string]*daemonProc{}}
	if bed != nil {
		if o.NoSourcePositionStamp {
			t.Skipf("needs brokers that do not stamp replicated copies; the test bed runs Pulsar %s, which does", bed.remote.Version)
		}
		e.bed, e.ns = bed.acquire(t), testNamespace(t)
	} else {
		sim, err := startSim(t, o)
		if err != nil {
			t.Fatalf("starting the emulator: %v", err)
		}
		t.Cleanup(sim.Close)
		e.bed, e.ns = simClusters{sim}, emulatedNSName
	}
	for _, name := range []string{east, west} {
		e.eps[name] = e.connect(name)
		e.dirs[name] = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := workload.SetupReplicatedNamespace(ctx, e.ns, e.eps[east], e.eps[west]); err != nil {
		t.Fatalf("setting up %s: %v", e.ns, err)
	}
	// Registered after sim.Close and the connections, so it runs before
	// them.
	t.Cleanup(e.shutdown)
	return e
}

// startSim starts east and west on ports below the kernel's ephemeral
// range: a stopped cluster restarts on its ports, which meanwhile must
// not become some connection's local port or another test's listener.
func startSim(t *testing.T, o envOptions) (*emulator.Sim, error) {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		cluster := func(name string) emulator.ClusterOptions {
			return emulator.ClusterOptions{Name: name, LedgerMaxEntries: o.LedgerMaxEntries,
				NoSourcePositionStamp: o.NoSourcePositionStamp, ServiceAddr: freeAddr(), WebAddr: freeAddr()}
		}
		var sim *emulator.Sim
		sim, err = emulator.Start(emulator.Options{Logger: emulatorLogger(t),
			Clusters: []emulator.ClusterOptions{cluster(east), cluster(west)}})
		if err == nil {
			return sim, nil
		}
	}
	return nil, err
}

// Ports for the emulated clusters: below Linux's default ephemeral range
// (32768-60999), which the kernel hands out for port 0 and outgoing
// connections.
const (
	firstPort = 20000
	lastPort  = 32000
)

// freeAddr returns a loopback address on a random port of the range that
// is free now.
func freeAddr() string {
	for {
		p, err := rand.Int(rand.Reader, big.NewInt(lastPort-firstPort))
		if err != nil {
			panic(err)
		}
		addr := fmt.Sprintf("127.0.0.1:%d", firstPort+p.Int64())
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			return addr
		}
	}
}

func newKeyring(t *testing.T) *snapshot.Keyring {
	t.Helper()
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	kr, err := snapshot.NewKeyring(1, snapshot.Key{ID: 1, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// connect opens a client and an admin client to a cluster, closed with the
// test.
func (e *env) connect(cluster string) *workload.Endpoint {
	e.t.Helper()
	ep, err := workload.Connect(cluster, e.bed.serviceURL(cluster), e.bed.webURL(cluster), nil)
	if err != nil {
		e.t.Fatalf("connecting to %s: %v", cluster, err)
	}
	e.t.Cleanup(ep.Close)
	return ep
}

// daemonLogger routes a daemon's logs to stderr when SUBSYNC_TEST_LOG is
// set, tagged with the test and the cluster.
func daemonLogger(t *testing.T, cluster string) *slog.Logger {
	if os.Getenv("SUBSYNC_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	h := slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})
	return slog.New(h).With("test", t.Name(), "daemon", cluster)
}

func emulatorLogger(t *testing.T) *slog.Logger {
	if os.Getenv("SUBSYNC_TEST_EMULATOR_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil)).With("test", t.Name(), "emulator", true)
}

// daemonConfig: fast intervals so that a test measures sync, not timers;
// the control group subscription is out of scope.
func (e *env) daemonConfig(cluster string) replicator.Config {
	return replicator.Config{
		Cluster:              cluster,
		Namespaces:           []string{e.ns},
		ExcludeSubscriptions: []*regexp.Regexp{regexp.MustCompile("^" + unsynced + "$")},
		Keys:                 e.keys,
		ExportInterval:       100 * time.Millisecond,
		SnapshotInterval:     300 * time.Millisecond,
		DiscoveryInterval:    200 * time.Millisecond,
		ResetThreshold:       e.o.ResetThreshold,
		SnapshotTimeout:      e.o.SnapshotTimeout,
		LeaseInterval:        200 * time.Millisecond,
	}
}

// startDaemons starts a daemon beside each cluster.
func (e *env) startDaemons() {
	e.t.Helper()
	e.startDaemon(east)
	e.startDaemon(west)
}

// startDaemon starts a daemon beside cluster on its store directory, with
// its own connections and metrics, as a separate process would have.
func (e *env) startDaemon(cluster string) *daemonProc {
	e.t.Helper()
	dp := e.launchDaemon(cluster, e.dirs[cluster], cluster)
	e.mu.Lock()
	e.daemons[cluster] = dp
	e.mu.Unlock()
	return dp
}

// startExtraDaemon starts another daemon beside cluster, on the store in
// dir (a second replica of a deployment has one of its own), while the
// usual one may run. It is stopped with the test unless adoptDaemon made
// it the usual one.
func (e *env) startExtraDaemon(cluster, dir string) *daemonProc {
	e.t.Helper()
	dp := e.launchDaemon(cluster, dir, cluster+"-extra")
	e.t.Cleanup(func() {
		e.mu.Lock()
		adopted := e.daemons[cluster] == dp
		e.mu.Unlock()
		if !adopted {
			e.stopProc(dp)
		}
	})
	return dp
}

// adoptDaemon makes dp the daemon beside its cluster, once the usual one
// is stopped.
func (e *env) adoptDaemon(dp *daemonProc) {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.daemons[dp.cluster]; ok {
		e.t.Fatalf("a daemon already runs beside %s", dp.cluster)
	}
	e.daemons[dp.cluster] = dp
}

// launchDaemon starts a daemon for cluster on the store in dir; tag names
// it in the logs.
func (e *env) launchDaemon(cluster, dir, tag string) *daemonProc {
	e.t.Helper()
	store, err := mapping.Open(dir)
	if err != nil {
		e.t.Fatalf("daemon %s: opening its store: %v", tag, err)
	}
	ep, err := workload.Connect(cluster, e.bed.serviceURL(cluster), e.bed.webURL(cluster), nil)
	if err != nil {
		store.Close()
		e.t.Fatalf("daemon %s: connecting: %v", tag, err)
	}
	metrics := replicator.NewMetrics(nil)
	d, err := replicator.New(e.daemonConfig(cluster), replicator.Deps{Client: ep.Client, Admin: ep.Admin,
		Entries: replicator.HTTPEntries{WebServiceURL: ep.WebURL},
		Store:   store, Metrics: metrics, Logger: daemonLogger(e.t, tag)})
	if err != nil {
		ep.Close()
		store.Close()
		e.t.Fatalf("daemon %s: %v", tag, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	dp := &daemonProc{cluster: cluster, d: d, metrics: metrics, ep: ep, store: store, cancel: cancel, done: make(chan error, 1)}
	go func() { dp.done <- d.Run(ctx) }()
	return dp
}

// daemon returns the running daemon beside cluster.
func (e *env) daemon(cluster string) *daemonProc {
	e.mu.Lock()
	defer e.mu.Unlock()
	dp, ok := e.daemons[cluster]
	if !ok {
		e.t.Fatalf("no daemon running beside %s", cluster)
	}
	return dp
}

// stopDaemon cancels the daemon beside cluster and waits for it to finish
// before closing its store and connections (a restart reopens the store).
func (e *env) stopDaemon(cluster string) {
	e.mu.Lock()
	dp, ok := e.daemons[cluster]
	delete(e.daemons, cluster)
	e.mu.Unlock()
	if ok {
		e.stopProc(dp)
	}
}

// stopProc stops one daemon, once: see stopDaemon.
func (e *env) stopProc(dp *daemonProc) {
	dp.stopOnce.Do(func() { e.stopNow(dp) })
}

func (e *env) stopNow(dp *daemonProc) {
	dp.cancel()
	select {
	case err := <-dp.done:
		if err != nil {
			e.t.Errorf("daemon %s: Run: %v", dp.cluster, err)
		}
	case <-time.After(daemonGrace):
		e.t.Errorf("daemon %s: still running %v after cancellation", dp.cluster, daemonGrace)
		return
	}
	dp.ep.Close()
	if err := dp.store.Close(); err != nil {
		e.t.Errorf("daemon %s: closing its store: %v", dp.cluster, err)
	}
}

// failSite makes a cluster fail. The daemon beside it stays up and must
// ride the outage through when daemonsRideOutages; otherwise it is
// stopped first, as a whole-site failure would take it down.
func (e *env) failSite(cluster string) error {
	if !daemonsRideOutages {
		e.stopDaemon(cluster)
	}
	e.t.Logf("%s fails (its daemon rides the outage through: %v)", cluster, daemonsRideOutages)
	return e.bed.stop(cluster)
}

// recoverSite brings a failed cluster back, and its daemon on the same
// store when failSite stopped it.
func (e *env) recoverSite(cluster string) error {
	if err := e.bed.start(cluster); err != nil {
		return err
	}
	e.mu.Lock()
	_, running := e.daemons[cluster]
	e.mu.Unlock()
	if !running {
		e.startDaemon(cluster)
	}
	return nil
}

// shutdown brings stopped clusters back first: a client whose cluster is
// down takes seconds to close.
func (e *env) shutdown() {
	for _, c := range []string{east, west} {
		if !e.bed.running(c) {
			_ = e.bed.start(c)
		}
	}
	e.stopDaemons()
}

func (e *env) stopDaemons() {
	var wg sync.WaitGroup
	for _, c := range []string{east, west} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.stopDaemon(c)
		}()
	}
	wg.Wait()
}

// topicName is a fresh topic of the test's namespace.
func (e *env) topicName(name string) string { return "persistent://" + e.ns + "/" + name }

// createTopic creates topic (partitioned when partitions > 0) on both
// clusters, and each subscription at the earliest position on each of
// the given clusters.
func (e *env) createTopic(ctx context.Context, topic string, partitions int, subs []string, on ...string) {
	e.t.Helper()
	e.noteTopic(topic)
	if err := workload.CreateTopic(ctx, topic, partitions, e.eps[east], e.eps[west]); err != nil {
		e.t.Fatal(err)
	}
	var eps []*workload.Endpoint
	for _, c := range on {
		eps = append(eps, e.eps[c])
	}
	for _, s := range subs {
		if err := workload.CreateSubscription(ctx, topic, s, eps...); err != nil {
			e.t.Fatal(err)
		}
	}
}

// eventually polls f until it succeeds or timeout passes.
func eventually(ctx context.Context, timeout time.Duration, f func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var err error
	for {
		if err = f(); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not within %v: %w", timeout, err)
		case <-time.After(pollEvery):
		}
	}
}

// mustEventually is eventually that fails the test, naming what was awaited.
func (e *env) mustEventually(ctx context.Context, what string, f func() error) {
	e.t.Helper()
	if err := eventually(ctx, syncTimeout, f); err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
}

// waitSynced waits, bounded, until the standby's copy of sub is what the
// primary's is: see synced.
func (e *env) waitSynced(ctx context.Context, primary, standby, topic string, partitions int, sub string) error {
	start := time.Now()
	err := eventually(ctx, syncTimeout, func() error { return e.synced(ctx, primary, standby, topic, partitions, sub) })
	if err != nil {
		return fmt.Errorf("%s/%s not synced from %s to %s: %w\n%s", topic, sub, primary, standby, err, e.diagnose(topic, sub))
	}
	e.t.Logf("%s synced from %s to %s in %v", sub, primary, standby, time.Since(start).Round(time.Millisecond))
	diag := e.diagnose(topic, sub)
	e.mu.Lock()
	e.lastSync, e.lastTopic = diag, topic
	e.mu.Unlock()
	return nil
}

// diagnose describes what each running daemon and cluster knows of
// topic and sub, for a failure message.
func (e *env) diagnose(topic, sub string) string {
	var b strings.Builder
	e.mu.Lock()
	procs := make([]*daemonProc, 0, len(e.daemons))
	for _, c := range []string{east, west} {
		if dp, ok := e.daemons[c]; ok {
			procs = append(procs, dp)
		}
	}
	e.mu.Unlock()
	for _, dp := range procs {
		st, _ := json.Marshal(dp.d.Status(topic))
		fmt.Fprintf(&b, "daemon %s status: %s\n", dp.cluster, st)
		for _, name := range []string{"tail_entries_total", "tail_unmapped_total", "acks_exported_total", "acks_imported_total",
			"acks_applied_total", "apply_errors_total", "acks_skipped_total", "updates_sent_total", "updates_received_total",
			"updates_rejected_total", "snapshot_timeouts_total"} {
			v, _ := metricValue(dp.metrics, "pulsar_subsync_"+name)
			fmt.Fprintf(&b, "  %s=%v", name, v)
		}
		b.WriteString("\n")
	}
	for _, c := range []string{east, west} {
		for _, part := range partitionsOf(e.eps[c], topic) {
			st, err := internalStatsOf(e.eps[c], part)
			if err != nil {
				fmt.Fprintf(&b, "%s %s: %v\n", c, part, err)
				continue
			}
			cs := st.Cursors[sub]
			fmt.Fprintf(&b, "%s %s: lac %s, entries %d; %s mark-delete %s, read %s, deleted %.400s\n", c, part,
				st.LastConfirmedEntry, st.EntriesAddedCounter, sub, cs.MarkDeletePosition, cs.ReadPosition, cs.IndividuallyDeletedMessages)
		}
	}
	return b.String()
}

// synced holds when four views agree that every acknowledgement of sub on
// the primary is applied on the standby:
//   - the brokers: the standby's backlog equals the primary's (the standby
//     can only acknowledge what the primary did, so equal counts mean equal
//     sets; emulator only, see sameBacklog);
//   - the daemons' status: the primary's sees nothing acknowledged there
//     and not on the standby, the standby's has nothing received and not
//     applied, nothing deferred, on every partition;
//   - the primary's failover check for sub: ready towards the standby;
//   - the cursors themselves, by message id (sameAcks), checked last as
//     it reads the whole topic on both clusters.
func (e *env) synced(ctx context.Context, primary, standby, topic string, partitions int, sub string) error {
	if err := e.sameBacklog(ctx, primary, standby, topic, sub); err != nil {
		return err
	}
	if err := statusSynced(e.daemon(primary), e.daemon(standby), topic, partitions, sub); err != nil {
		return err
	}
	if err := failoverReady(e.daemon(primary).d.FailoverCheck(replicator.FailoverOptions{}), topic, partitions, sub, standby); err != nil {
		return err
	}
	return e.sameAcks(ctx, primary, standby, topic, sub)
}

// sameBacklog compares the brokers' backlog counts of sub, on the
// emulator only: a real cluster's copy of a topic can hold duplicate
// entries (a crashed source's replicator sends again what its lazily
// persisted cursor had not recorded, and deduplication is off by
// default), which no acknowledgement of the other cluster covers. The
// comparison by message id (sameAcks) holds there too.
func (e *env) sameBacklog(ctx context.Context, primary, standby, topic, sub string) error {
	if e.bed.real() {
		return nil
	}
	pb, err := workload.Backlog(ctx, e.eps[primary], topic, sub)
	if err != nil {
		return err
	}
	sb, err := workload.Backlog(ctx, e.eps[standby], topic, sub)
	if err != nil {
		return err
	}
	if pb != sb {
		return fmt.Errorf("backlog %d on %s, %d on %s", pb, primary, sb, standby)
	}
	return nil
}

// statusSynced reads both daemons' status reports for sub.
func statusSynced(primary, standby *daemonProc, topic string, partitions int, sub string) error {
	want := max(1, partitions)
	ps := subscriptionStatuses(primary.d.Status(topic), topic, sub)
	ss := subscriptionStatuses(standby.d.Status(topic), topic, sub)
	if len(ps) != want || len(ss) != want {
		return fmt.Errorf("status of %s covers %d of %d partitions on %s, %d on %s", sub, len(ps), want, primary.cluster, len(ss), standby.cluster)
	}
	for _, s := range ps {
		r, ok := remoteStatus(s, standby.cluster)
		if !ok || r.LastUpdate.IsZero() || r.LocalAckedNotAckedThere != 0 {
			return fmt.Errorf("%s status: %d acknowledged, not on %s (heard from it: %v)",
				primary.cluster, r.LocalAckedNotAckedThere, standby.cluster, ok && !r.LastUpdate.IsZero())
		}
	}
	for _, s := range ss {
		r, ok := remoteStatus(s, primary.cluster)
		if !ok || r.LastUpdate.IsZero() || r.RemoteAckedNotAppliedHere != 0 || r.Deferred {
			return fmt.Errorf("%s status: %d received from %s, not applied (deferred: %v %s)",
				standby.cluster, r.RemoteAckedNotAppliedHere, primary.cluster, r.Deferred, r.DeferReason)
		}
	}
	return nil
}

// failoverReady checks the failover report's entries for sub towards
// standby, one per partition.
func failoverReady(r replicator.FailoverReport, topic string, partitions int, sub, standby string) error {
	fs := failoverEntries(r, topic, sub, standby)
	if len(fs) != max(1, partitions) {
		return fmt.Errorf("failover check lists %d partitions of %s/%s, want %d", len(fs), topic, sub, max(1, partitions))
	}
	for _, f := range fs {
		if !f.Ready {
			return fmt.Errorf("failover check: %s/%s not ready: %s", f.Topic, f.Subscription, f.Reason)
		}
	}
	return nil
}

func failoverEntries(r replicator.FailoverReport, topic, sub, standby string) []replicator.FailoverSubscription {
	var out []replicator.FailoverSubscription
	for _, f := range r.Subscriptions {
		if f.Subscription == sub && f.Standby == standby && inTopic(f.Topic, topic) {
			out = append(out, f)
		}
	}
	return out
}

// inTopic reports whether name is topic or one of its partitions.
func inTopic(name, topic string) bool {
	return name == topic || strings.HasPrefix(name, topic+"-partition-")
}

// subscriptionStatuses picks sub's status in every partition of topic.
func subscriptionStatuses(rep replicator.StatusReport, topic, sub string) []replicator.SubscriptionStatus {
	var out []replicator.SubscriptionStatus
	for _, t := range rep.Topics {
		if !inTopic(t.Topic, topic) {
			continue
		}
		for _, s := range t.Subscriptions {
			if s.Subscription == sub {
				out = append(out, s)
			}
		}
	}
	return out
}

func remoteStatus(s replicator.SubscriptionStatus, remote string) (replicator.SubscriptionRemoteStatus, bool) {
	for _, r := range s.Remotes {
		if r.Remote == remote {
			return r, true
		}
	}
	return replicator.SubscriptionRemoteStatus{}, false
}

// remoteStatuses sums sub's status towards remote over topic's partitions.
func remoteStatuses(rep replicator.StatusReport, topic, sub, remote string) (sum replicator.SubscriptionRemoteStatus, n int) {
	for _, s := range subscriptionStatuses(rep, topic, sub) {
		r, ok := remoteStatus(s, remote)
		if !ok {
			continue
		}
		n++
		sum.LocalAckedNotAckedThere += r.LocalAckedNotAckedThere
		sum.RemoteAckedNotAppliedHere += r.RemoteAckedNotAppliedHere
		sum.Deferred = sum.Deferred || r.Deferred
		if r.DeferReason != "" {
			sum.DeferReason = r.DeferReason
		}
	}
	return sum, n
}

// metricValue sums a metric's samples whose labels include every pair of
// labels ("name", "value", ...); counters, gauges and untyped only.
func metricValue(m *replicator.Metrics, name string, labels ...string) (float64, error) {
	if len(labels)%2 != 0 {
		return 0, errors.New("metricValue: labels come in name/value pairs")
	}
	fams, err := m.Registry.Gather()
	if err != nil {
		return 0, fmt.Errorf("gathering metrics: %w", err)
	}
	var sum float64
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			if !hasLabels(s.GetLabel(), labels) {
				continue
			}
			switch {
			case s.Counter != nil:
				sum += s.Counter.GetValue()
			case s.Gauge != nil:
				sum += s.Gauge.GetValue()
			case s.Untyped != nil:
				sum += s.Untyped.GetValue()
			}
		}
	}
	return sum, nil
}

type labelPair interface {
	GetName() string
	GetValue() string
}

func hasLabels[L labelPair](have []L, want []string) bool {
	for i := 0; i < len(want); i += 2 {
		found := false
		for _, l := range have {
			if l.GetName() == want[i] && l.GetValue() == want[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// ackAndSync runs an acknowledgement phase on primary and waits until the
// standby has synced the phase's subscription; either failing ends the test.
func (e *env) ackAndSync(ctx context.Context, t *testing.T, primary, standby string, partitions int, p ackPhase) ackResult {
	t.Helper()
	res, err := runAckPhase(ctx, e.eps[primary], p)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.waitSynced(ctx, primary, standby, p.Topic, partitions, p.Subscription); err != nil {
		t.Fatal(err)
	}
	return res
}
