package replicator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/apache/pulsar-client-go/pulsaradmin"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/rest"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"

	"github.com/subsync/subsync/cursor"
	"github.com/subsync/subsync/mapping"
	"github.com/subsync/subsync/snapshot"
)

// Deps are the daemon's connections to the outside world.
type Deps struct {
	Client pulsar.Client
	Admin  pulsaradmin.Client
	Store  *mapping.Store
	// Entries reads a batched entry's metadata (the source-position stamp)
	// from the admin API's raw answer.
	Entries EntryFetcher
	Metrics *Metrics // nil: a private registry
	Logger  *slog.Logger
	Now     func() time.Time // nil: time.Now
}

// Daemon syncs one cluster's subscriptions with its remotes.
type Daemon struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	now     func() time.Time
	metrics *Metrics
	admin   cursor.Admin
	applier *cursor.Applier
	// adminSlots bounds concurrent admin reads, to what the admin client
	// keeps idle connections for: more would only open new connections.
	adminSlots slots
	// rateLog bounds the log lines of rejected input.
	rateLog *rateLog
	// health is what the lag gauges and readiness are computed from.
	health *health
	// epoch is when this incarnation started; each period of acting for a
	// namespace takes a newer one (nsWork.epoch).
	epoch int64
	// instance names this daemon's lease consumers.
	instance string
	// lastEpoch is the epoch of the latest period of acting (guarded by mu).
	lastEpoch int64

	running atomic.Bool
	ready   atomic.Bool
	wg      sync.WaitGroup
	// keys sign and check control messages; SetKeys swaps them while the
	// daemon runs (an operator's key rotation step).
	keys atomic.Pointer[snapshot.Keyring]

	mu      sync.Mutex
	acting  map[string]*nsWork // namespace -> its work while this daemon holds its lease
	workers map[string]*worker
	remotes map[string][]string // namespace -> remote clusters
}

// nsWork is one period during which this daemon acts for a namespace: its
// control channel and workers run under ctx and are counted by wg, so
// that losing the lease stops all of them before it is given up.
type nsWork struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// epoch marks every update of this period. Taken when the period
	// starts, it is newer than the epoch of any daemon that acted for the
	// cluster before (their periods started earlier), so receivers never
	// find this one's updates stale.
	epoch   int64
	control *controlChannel // guarded by Daemon.mu
	// discovered: a discovery of the namespace completed in this period.
	discovered atomic.Bool
}

// defaultAdminConcurrency stays below pulsaradmin's idle connections per
// host (10).
const defaultAdminConcurrency = 8

// slots is a counting semaphore.
type slots chan struct{}

func (s slots) acquire(ctx context.Context) error {
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s slots) release() { <-s }

// New checks the configuration and dependencies; Run starts the work.
func New(cfg Config, deps Deps) (*Daemon, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Client == nil || deps.Admin == nil || deps.Store == nil || deps.Entries == nil {
		return nil, errors.New("replicator: Client, Admin, Store and Entries are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Metrics == nil {
		deps.Metrics = NewMetrics(nil)
	}
	adm := cursor.NewAdmin(deps.Admin)
	d := &Daemon{
		cfg: cfg, deps: deps, now: deps.Now, metrics: deps.Metrics, admin: adm,
		log:        deps.Logger.With("cluster", cfg.Cluster),
		applier:    cursor.NewApplier(deps.Client, adm, cursor.ApplierOptions{}),
		adminSlots: make(slots, cfg.AdminConcurrency),
		rateLog:    newRateLog(rejectLogEvery),
		epoch:      deps.Now().UnixMilli(),
		instance:   instanceName(cfg.Cluster),
		acting:     map[string]*nsWork{},
		workers:    map[string]*worker{},
		remotes:    map[string][]string{},
	}
	d.health = newHealth(d)
	d.metrics.computedAtScrape(d.refreshGauges)
	d.keys.Store(cfg.Keys)
	return d, nil
}

// SetKeys replaces the keys that sign and check control messages, from the
// next message on.
func (d *Daemon) SetKeys(keys *snapshot.Keyring) error {
	if keys == nil {
		return errors.New("replicator: SetKeys needs a keyring")
	}
	d.keys.Store(keys)
	return nil
}

// Run syncs until ctx is cancelled, then flushes and checkpoints.
func (d *Daemon) Run(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return errors.New("replicator: Run called twice")
	}
	defer d.running.Store(false)
	d.log.Info("subsync daemon starting", "namespaces", d.cfg.Namespaces, "epoch", d.epoch, "instance", d.instance)
	tick := time.NewTicker(d.cfg.DiscoveryInterval)
	defer tick.Stop()
	if err := d.awaitIdentity(ctx, tick.C); err != nil {
		return fmt.Errorf("replicator: %w", err)
	}
	if ctx.Err() != nil {
		d.shutdown()
		return nil
	}
	for _, ns := range d.cfg.Namespaces {
		d.metrics.LeaseHeld.WithLabelValues(d.cfg.Cluster, ns).Set(0)
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.leaseLoop(ctx, ns)
		}()
	}
	for {
		if err := d.discover(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("discovery incomplete", "err", err)
		} else if err == nil {
			d.ready.Store(true)
		}
		d.reportStoreSize()
		select {
		case <-ctx.Done():
			d.shutdown()
			return nil
		case <-tick.C:
		}
	}
}

// errIdentity marks a definite answer that the configured identity is
// wrong, as opposed to an admin call that failed.
var errIdentity = errors.New("identity check failed")

// awaitIdentity runs checkIdentity until Pulsar answers: a wrong identity
// is an error; an unreachable admin API is waited for (the daemon is not
// ready meanwhile), as Pulsar may still be starting. It returns nil when
// ctx ends first.
func (d *Daemon) awaitIdentity(ctx context.Context, retry <-chan time.Time) error {
	for {
		err := d.checkIdentity(ctx)
		if err == nil || errors.Is(err, errIdentity) {
			return err
		}
		d.log.Warn("cannot check the cluster's identity yet; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-retry:
		}
	}
}

// checkIdentity refuses to start under a cluster name Pulsar does not
// know, or for a namespace that does not replicate between this cluster
// and another. A misspelt name would otherwise make the real local
// cluster look like a remote, whose updates this daemon would apply.
func (d *Daemon) checkIdentity(ctx context.Context) error {
	callCtx, cancel := context.WithTimeout(ctx, d.cfg.AdminTimeout)
	defer cancel()
	known, err := d.deps.Admin.Clusters().ListWithContext(callCtx)
	if err != nil {
		return fmt.Errorf("cluster %q: listing the clusters Pulsar knows: %w", d.cfg.Cluster, err)
	}
	if !slices.Contains(known, d.cfg.Cluster) {
		return fmt.Errorf("%w: cluster %q is not a cluster Pulsar knows; expected one of %q", errIdentity, d.cfg.Cluster, known)
	}
	var errs []error
	for _, ns := range d.cfg.Namespaces {
		if err := d.checkNamespace(ctx, ns); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (d *Daemon) checkNamespace(ctx context.Context, ns string) error {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.AdminTimeout)
	defer cancel()
	clusters, err := d.deps.Admin.Namespaces().GetNamespaceReplicationClustersWithContext(ctx, ns)
	switch {
	case isClientError(err):
		return fmt.Errorf("%w: namespace %s: reading its replication clusters: %w", errIdentity, ns, err)
	case err != nil:
		return fmt.Errorf("namespace %s: reading its replication clusters: %w", ns, err)
	case !slices.Contains(clusters, d.cfg.Cluster):
		return fmt.Errorf("%w: namespace %s replicates to %q, not to this cluster %q", errIdentity, ns, clusters, d.cfg.Cluster)
	case !slices.ContainsFunc(clusters, func(c string) bool { return c != d.cfg.Cluster }):
		return fmt.Errorf("%w: namespace %s replicates to %q only; expected at least one other cluster to sync with", errIdentity, ns, d.cfg.Cluster)
	}
	return nil
}

// isClientError reports an admin answer of 4xx (e.g. no such namespace):
// asking again will not change it.
func isClientError(err error) bool {
	var re rest.Error
	if errors.As(err, &re) {
		return re.Code >= 400 && re.Code < 500
	}
	var rp *rest.Error
	return errors.As(err, &rp) && rp != nil && rp.Code >= 400 && rp.Code < 500
}

// shutdown waits for every lease loop: each stops its namespace's work
// (the loops' last flushes, the control channel) before it lets the
// lease go.
func (d *Daemon) shutdown() {
	d.wg.Wait()
	d.log.Info("subsync daemon stopped")
}

// closeTimeout bounds how long shutdown waits for Pulsar to confirm closes.
const closeTimeout = time.Second

// closeWithin runs the closers concurrently and returns when all are done
// or the timeout passes, whichever is first.
func closeWithin(timeout time.Duration, closers ...func()) {
	var wg sync.WaitGroup
	for _, c := range closers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c()
		}()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(timeout):
	}
}

func (d *Daemon) reportStoreSize() {
	if st, err := d.deps.Store.Stats(); err == nil {
		d.metrics.StoreBytes.WithLabelValues(d.cfg.Cluster).Set(float64(st.DiskBytes))
	}
	err := d.deps.Store.WriteError()
	full, failed := errors.Is(err, mapping.ErrDiskFull), errors.Is(err, mapping.ErrStoreFailed)
	d.metrics.StoreRefusing.WithLabelValues(d.cfg.Cluster, "disk_full").Set(boolGauge(full))
	d.metrics.StoreRefusing.WithLabelValues(d.cfg.Cluster, "failed").Set(boolGauge(failed))
	if err != nil {
		d.log.Error("store refuses writes; tails, exports and imports wait", "err", err)
	}
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// discover opens control channels and starts a worker for every topic
// partition in scope of the namespaces this daemon acts for; it keeps
// going past one namespace's failure.
func (d *Daemon) discover(_ context.Context) error {
	var errs []error
	for _, ns := range d.cfg.Namespaces {
		work := d.workOf(ns)
		if work == nil {
			continue
		}
		if err := d.discoverNamespace(work, ns); err != nil && work.ctx.Err() == nil {
			errs = append(errs, fmt.Errorf("namespace %s: %w", ns, err))
		}
	}
	return errors.Join(errs...)
}

// workOf returns the namespace's current work, nil while this daemon does
// not act for it.
func (d *Daemon) workOf(ns string) *nsWork {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.acting[ns]
}

// discoverNamespace finds the namespace's remotes and topics, and counts
// its failures and successes.
func (d *Daemon) discoverNamespace(work *nsWork, ns string) error {
	err := d.discoverTopics(work, ns)
	switch {
	case err == nil:
		d.health.succeeded(ns, opDiscovery)
	case work.ctx.Err() == nil:
		d.health.failed(ns, opDiscovery)
	}
	return err
}

func (d *Daemon) discoverTopics(work *nsWork, ns string) error {
	ctx := work.ctx
	callCtx, cancel := context.WithTimeout(ctx, d.cfg.AdminTimeout)
	defer cancel()
	clusters, err := d.deps.Admin.Namespaces().GetNamespaceReplicationClustersWithContext(callCtx, ns)
	if err != nil {
		return fmt.Errorf("reading replication clusters: %w", err)
	}
	remotes := slices.DeleteFunc(slices.Clone(clusters), func(c string) bool { return c == d.cfg.Cluster })
	slices.Sort(remotes)
	d.mu.Lock()
	d.remotes[ns] = remotes
	d.mu.Unlock()
	d.metrics.InitNamespace(d.cfg.Cluster, ns, remotes)
	if _, err := d.control(work, ns); err != nil {
		return err
	}
	name, err := utils.GetNamespaceName(ns)
	if err != nil {
		return err
	}
	listCtx, cancelList := context.WithTimeout(ctx, d.cfg.AdminTimeout)
	defer cancelList()
	_, topics, err := d.deps.Admin.Topics().ListWithContext(listCtx, *name)
	if err != nil {
		return fmt.Errorf("listing topics: %w", err)
	}
	n := 0
	for _, t := range topics {
		if !d.topicInScope(t) {
			continue
		}
		n++
		if _, err := d.workerFor(t); err != nil {
			return err
		}
	}
	d.metrics.TopicsInScope.WithLabelValues(d.cfg.Cluster, ns).Set(float64(n))
	work.discovered.Store(true)
	return nil
}

// control returns the namespace's control channel of this period of
// acting, opening it once.
func (d *Daemon) control(work *nsWork, ns string) (*controlChannel, error) {
	d.mu.Lock()
	cc := work.control
	d.mu.Unlock()
	if cc != nil {
		return cc, nil
	}
	cc, err := d.openControl(work.ctx, ns)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if existing := work.control; existing != nil || d.acting[ns] != work {
		d.mu.Unlock()
		cc.close()
		if existing == nil {
			return nil, fmt.Errorf("namespace %s: %w", ns, errNotActing)
		}
		return existing, nil
	}
	work.control = cc
	work.wg.Add(1)
	d.mu.Unlock()
	go func() {
		defer work.wg.Done()
		cc.receiveLoop(work.ctx)
	}()
	return cc, nil
}

// errNotActing: another daemon holds the namespace's lease, or this one
// has not acted for it long enough yet.
var errNotActing = errors.New("this daemon does not act for the namespace (another holds its lease)")

// workerFor returns the topic's worker, starting it if needed.
func (d *Daemon) workerFor(topic string) (*worker, error) {
	if !d.topicInScope(topic) {
		return nil, fmt.Errorf("topic %s: %w", topic, ErrNotInScope)
	}
	d.mu.Lock()
	w, ok := d.workers[topic]
	d.mu.Unlock()
	if ok {
		return w, nil
	}
	ns, _ := namespaceOf(topic)
	work := d.workOf(ns)
	if work == nil {
		return nil, fmt.Errorf("topic %s: %w", topic, errNotActing)
	}
	cc, err := d.control(work, ns)
	if err != nil {
		return nil, err
	}
	w, err = newWorker(d, topic, ns, cc, work.epoch)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if existing, ok := d.workers[topic]; ok {
		d.mu.Unlock()
		return existing, nil
	}
	if d.acting[ns] != work {
		d.mu.Unlock()
		return nil, fmt.Errorf("topic %s: %w", topic, errNotActing)
	}
	d.workers[topic] = w
	work.wg.Add(1)
	d.mu.Unlock()
	go func() {
		defer work.wg.Done()
		w.run(work.ctx)
	}()
	d.log.Info("syncing topic", "topic", topic, "namespace", ns)
	return w, nil
}

// topicInScope: a persistent topic of a configured namespace, matching a
// topic pattern when any is set, and not a control topic.
func (d *Daemon) topicInScope(topic string) bool {
	ns, err := namespaceOf(topic)
	if err != nil || !slices.Contains(d.cfg.Namespaces, ns) {
		return false
	}
	base := partitionedParent(topic)
	if base == "persistent://"+ns+"/"+d.cfg.ControlTopic || base == d.leaseTopic(ns) {
		return false
	}
	if len(d.cfg.TopicPatterns) == 0 {
		return true
	}
	for _, p := range d.cfg.TopicPatterns {
		if p.MatchString(base) {
			return true
		}
	}
	return false
}

// partitionedParent strips a "-partition-N" suffix.
func partitionedParent(topic string) string {
	i := strings.LastIndex(topic, "-partition-")
	if i < 0 {
		return topic
	}
	for _, r := range topic[i+len("-partition-"):] {
		if r < '0' || r > '9' {
			return topic
		}
	}
	if i+len("-partition-") == len(topic) {
		return topic
	}
	return topic[:i]
}

// subscriptionInScope: never system cursors or subsync's own control
// subscriptions; then the include and exclude patterns.
func (d *Daemon) subscriptionInScope(sub string) bool {
	if IsSystemCursor(sub) || sub == d.controlSubscription() {
		return false
	}
	for _, p := range d.cfg.ExcludeSubscriptions {
		if p.MatchString(sub) {
			return false
		}
	}
	if len(d.cfg.IncludeSubscriptions) == 0 {
		return true
	}
	for _, p := range d.cfg.IncludeSubscriptions {
		if p.MatchString(sub) {
			return true
		}
	}
	return false
}

// IsSystemCursor reports whether a cursor belongs to Pulsar itself: its
// geo-replicators (pulsar.repl.*), the compactor (__compaction),
// deduplication (pulsar.dedup) and any other "pulsar." or "__" name.
// Moving such a cursor breaks the feature that owns it (compacted reads,
// replication, dedup), so no configuration can bring one into scope.
func IsSystemCursor(name string) bool {
	return strings.HasPrefix(name, "pulsar.") || strings.HasPrefix(name, "__")
}

// remotesOf returns the namespace's remote clusters as last discovered.
func (d *Daemon) remotesOf(ns string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.remotes[ns]
}

// fullStateInterval is how often a full state is sent even without change.
func (d *Daemon) fullStateInterval() time.Duration {
	return time.Duration(d.cfg.FullStateEvery) * d.cfg.ExportInterval
}

// Healthy reports whether the daemon's loops are alive.
func (d *Daemon) Healthy() error {
	if !d.running.Load() {
		return errors.New("daemon is not running")
	}
	// A failed store needs a restart to reopen it; a full disk does not.
	if err := d.deps.Store.WriteError(); errors.Is(err, mapping.ErrStoreFailed) {
		return err
	}
	return nil
}

// Ready reports whether the first discovery finished and, in every
// namespace this daemon acts for, the topics are found and the control
// topic is subscribed, and whether the local broker can be read (see
// brokerReadable). A namespace another daemon acts for does not make it
// unready: waiting is what this daemon should do there.
func (d *Daemon) Ready() error {
	if err := d.Healthy(); err != nil {
		return err
	}
	if !d.ready.Load() {
		return errors.New("initial discovery has not completed")
	}
	for _, ns := range d.cfg.Namespaces {
		if work := d.workOf(ns); work != nil && !work.discovered.Load() {
			return fmt.Errorf("namespace %s: no discovery has completed since this daemon began to act for it", ns)
		}
	}
	return d.brokerReadable()
}

func (d *Daemon) workerList() []*worker {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]*worker, 0, len(d.workers))
	for _, w := range d.workers {
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b *worker) int { return strings.Compare(a.topic, b.topic) })
	return out
}
