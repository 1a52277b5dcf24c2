package emulator

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/subsync/subsync/integration/admin"
)

// Options configures a Sim.
type Options struct {
	Clusters []ClusterOptions
	// Logger receives the emulator's logs; nil discards them.
	Logger *slog.Logger
}

// ClusterOptions configures one emulated cluster.
type ClusterOptions struct {
	Name string
	// LedgerMaxEntries rolls a ledger over after this many entries
	// (managedLedgerMaxEntriesPerLedger); default 100, so tests cross
	// ledger boundaries.
	LedgerMaxEntries int
	// BatchIndexAck behaves like acknowledgmentAtBatchIndexLevelEnabled=true.
	BatchIndexAck bool
	// NoSourcePositionStamp emulates Pulsar before 3.0.11/3.3.5/4.0.3:
	// replicated copies carry no __MSG_PROP_REPL_SOURCE_POSITION.
	NoSourcePositionStamp bool
	// PerKeyPropertyHeaders makes the admin get-message endpoints send
	// Pulsar 3.0.x's X-Pulsar-PROPERTY-<key> header per property instead
	// of 3.1+'s single JSON X-Pulsar-PROPERTY header.
	PerKeyPropertyHeaders bool
	// DisableReplicatedSubscriptions is enableReplicatedSubscriptions=false.
	DisableReplicatedSubscriptions bool
	// SnapshotFrequency is replicatedSubscriptionsSnapshotFrequencyMillis
	// (default 1s).
	SnapshotFrequency time.Duration
	// TTLCheckInterval is how often namespace TTL is applied (default 1s;
	// Pulsar checks every few minutes).
	TTLCheckInterval time.Duration
	// ServiceAddr and WebAddr pin the listeners ("127.0.0.1:port");
	// empty picks free ports.
	ServiceAddr, WebAddr string
}

func (o ClusterOptions) replicatedSubscriptions() bool { return !o.DisableReplicatedSubscriptions }

func (o ClusterOptions) withDefaults() ClusterOptions {
	if o.LedgerMaxEntries <= 0 {
		o.LedgerMaxEntries = 100
	}
	if o.SnapshotFrequency <= 0 {
		o.SnapshotFrequency = time.Second
	}
	if o.TTLCheckInterval <= 0 {
		o.TTLCheckInterval = time.Second
	}
	return o
}

// Sim is a set of emulated clusters in one process.
type Sim struct {
	log      *slog.Logger
	clusters map[string]*Cluster
	order    []string
	stopCh   chan struct{}
	wg       sync.WaitGroup

	mu      sync.Mutex
	paused  map[link]bool
	latency map[link]time.Duration
}

type link struct{ from, to string }

// Start starts every cluster and returns once all listen.
func Start(opts Options) (*Sim, error) {
	if len(opts.Clusters) == 0 {
		return nil, errors.New("emulator: at least one cluster is required")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Sim{log: logger, clusters: map[string]*Cluster{}, stopCh: make(chan struct{}),
		paused: map[link]bool{}, latency: map[link]time.Duration{}}
	for _, co := range opts.Clusters {
		if err := s.addCluster(co); err != nil {
			s.Close()
			return nil, err
		}
	}
	if err := s.seedMetadata(); err != nil {
		s.Close()
		return nil, err
	}
	for _, c := range s.clusters {
		s.wg.Add(2)
		go s.ttlLoop(c)
		go s.policyLoop(c)
	}
	return s, nil
}

func (s *Sim) addCluster(co ClusterOptions) error {
	if !validClusterName(co.Name) {
		return fmt.Errorf("emulator: cluster name %q: expected letters, digits, '-', '_' or '.'", co.Name)
	}
	if _, dup := s.clusters[co.Name]; dup {
		return fmt.Errorf("emulator: cluster %q given twice", co.Name)
	}
	co = co.withDefaults()
	c := &Cluster{
		sim: s, name: co.Name, opts: co,
		log:         s.log.With("cluster", co.Name),
		topics:      map[string]*Topic{},
		partitioned: map[string]int{},
		conns:       map[*conn]struct{}{},
		binAddr:     co.ServiceAddr, httpAddr: co.WebAddr,
	}
	md := admin.NewMetadata(co.Name)
	c.meta = metadataPolicies{md}
	adminOpts := []admin.Option{admin.WithSim(simController{s}), admin.WithLogger(c.log)}
	if co.PerKeyPropertyHeaders {
		adminOpts = append(adminOpts, admin.WithPerKeyPropertyHeaders())
	}
	c.admin = admin.NewServer(md, backend{c}, adminOpts...)
	// Every cluster allocates ledger ids from the same low numbers, as each
	// real cluster's own BookKeeper does (a fresh standalone hands out ids
	// from 0, its system topics taking the first few): the same ledger:entry
	// routinely names different data on two clusters, and code that lets a
	// position of one cluster pass for another's must fail here too.
	c.nextLedger.Store(0)
	s.clusters[co.Name] = c
	s.order = append(s.order, co.Name)
	return c.listen()
}

func validClusterName(n string) bool {
	if n == "" {
		return false
	}
	for _, r := range n {
		ok := r == '-' || r == '_' || r == '.' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !ok {
			return false
		}
	}
	return true
}

func (s *Sim) seedMetadata() error {
	all := map[string]admin.ClusterData{}
	for _, c := range s.clusters {
		all[c.name] = admin.ClusterData{ServiceURL: c.WebURL(), BrokerServiceURL: c.ServiceURL()}
	}
	for _, c := range s.clusters {
		if err := c.meta.md.SeedStandalone(all); err != nil {
			return fmt.Errorf("emulator: cluster %s: %w", c.name, err)
		}
	}
	return nil
}

// Cluster returns the named cluster, or nil.
func (s *Sim) Cluster(name string) *Cluster { return s.cluster(name) }

func (s *Sim) cluster(name string) *Cluster { return s.clusters[name] }

// Clusters returns the clusters in the order they were configured.
func (s *Sim) Clusters() []*Cluster {
	out := make([]*Cluster, 0, len(s.order))
	for _, n := range s.order {
		out = append(out, s.clusters[n])
	}
	return out
}

// Close stops every cluster and background loop.
func (s *Sim) Close() {
	select {
	case <-s.stopCh:
		return
	default:
		close(s.stopCh)
	}
	for _, c := range s.clusters {
		if c.httpSrv != nil || c.binLn != nil {
			c.close()
		}
	}
	s.wg.Wait()
}

func (s *Sim) ttlLoop(c *Cluster) {
	defer s.wg.Done()
	t := time.NewTicker(c.opts.TTLCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stopCh:
			return
		case now := <-t.C:
			for _, tp := range c.allTopics() {
				tp.expire(now)
			}
		}
	}
}

// policyLoop starts and stops replicators when namespace replication
// clusters change.
func (s *Sim) policyLoop(c *Cluster) {
	defer s.wg.Done()
	for {
		ch := c.meta.md.Watch()
		select {
		case <-s.stopCh:
			return
		case <-ch:
			c.replicationChanged()
		}
	}
}

func (s *Sim) checkLink(from, to string) error {
	if s.cluster(from) == nil {
		return fmt.Errorf("link %s->%s: unknown cluster %q", from, to, from)
	}
	if s.cluster(to) == nil {
		return fmt.Errorf("link %s->%s: unknown cluster %q", from, to, to)
	}
	if from == to {
		return fmt.Errorf("link %s->%s: a link joins two different clusters", from, to)
	}
	return nil
}

// PauseLink stops replication from one cluster to another; entries queue
// on the source's replicator cursor.
func (s *Sim) PauseLink(from, to string) error {
	if err := s.checkLink(from, to); err != nil {
		return err
	}
	s.mu.Lock()
	s.paused[link{from, to}] = true
	s.mu.Unlock()
	return nil
}

// ResumeLink undoes PauseLink.
func (s *Sim) ResumeLink(from, to string) error {
	if err := s.checkLink(from, to); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.paused, link{from, to})
	s.mu.Unlock()
	s.kickReplicators(from)
	return nil
}

// SetLinkLatency delays every entry replicated from one cluster to another
// by d after it was written (0 removes the delay).
func (s *Sim) SetLinkLatency(from, to string, d time.Duration) error {
	if err := s.checkLink(from, to); err != nil {
		return err
	}
	if d < 0 {
		return fmt.Errorf("link %s->%s: latency %v is negative", from, to, d)
	}
	s.mu.Lock()
	s.latency[link{from, to}] = d
	s.mu.Unlock()
	return nil
}

// StopCluster closes a cluster's listeners and connections; its state is
// kept and replication to and from it stalls.
func (s *Sim) StopCluster(name string) error {
	c := s.cluster(name)
	if c == nil {
		return fmt.Errorf("stop cluster: unknown cluster %q", name)
	}
	c.stop()
	return nil
}

// StartCluster re-opens a stopped cluster's listeners on the same ports.
func (s *Sim) StartCluster(name string) error {
	c := s.cluster(name)
	if c == nil {
		return fmt.Errorf("start cluster: unknown cluster %q", name)
	}
	if c.Running() {
		return nil
	}
	if err := c.listen(); err != nil {
		return err
	}
	for _, o := range s.order {
		s.kickReplicators(o)
	}
	return nil
}

func (s *Sim) linkUp(from, to string) bool {
	s.mu.Lock()
	paused := s.paused[link{from, to}]
	s.mu.Unlock()
	src, dst := s.cluster(from), s.cluster(to)
	return !paused && src != nil && dst != nil && src.Running() && dst.Running()
}

func (s *Sim) linkLatency(from, to string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latency[link{from, to}]
}

// kickReplicators is a no-op hook: stalled replicators poll every
// retryInterval, so a resumed link is picked up within that.
func (s *Sim) kickReplicators(string) {}

// SimStatus is what GET /sim/status reports.
type SimStatus struct {
	Clusters []ClusterStatus `json:"clusters"`
	Links    []LinkStatus    `json:"links"`
}

// ClusterStatus is one cluster's entry in SimStatus.
type ClusterStatus struct {
	Name          string `json:"name"`
	Running       bool   `json:"running"`
	ServiceURL    string `json:"serviceUrl"`
	WebServiceURL string `json:"webServiceUrl"`
}

// LinkStatus is one directed replication link in SimStatus.
type LinkStatus struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Paused    bool   `json:"paused"`
	LatencyMs int64  `json:"latencyMs"`
}

// Status reports clusters and links.
func (s *Sim) Status() SimStatus {
	var st SimStatus
	for _, c := range s.Clusters() {
		st.Clusters = append(st.Clusters, ClusterStatus{Name: c.name, Running: c.Running(),
			ServiceURL: c.ServiceURL(), WebServiceURL: c.WebURL()})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.order {
		for _, b := range s.order {
			if a == b {
				continue
			}
			l := link{a, b}
			st.Links = append(st.Links, LinkStatus{From: a, To: b, Paused: s.paused[l], LatencyMs: s.latency[l].Milliseconds()})
		}
	}
	sort.Slice(st.Links, func(i, j int) bool {
		if st.Links[i].From != st.Links[j].From {
			return st.Links[i].From < st.Links[j].From
		}
		return st.Links[i].To < st.Links[j].To
	})
	return st
}

// simController adapts Sim to admin.SimController.
type simController struct{ s *Sim }

func (c simController) PauseLink(from, to string) error  { return c.s.PauseLink(from, to) }
func (c simController) ResumeLink(from, to string) error { return c.s.ResumeLink(from, to) }
func (c simController) SetLinkLatency(from, to string, d time.Duration) error {
	return c.s.SetLinkLatency(from, to, d)
}
func (c simController) StopCluster(name string) error  { return c.s.StopCluster(name) }
func (c simController) StartCluster(name string) error { return c.s.StartCluster(name) }
func (c simController) Status() any                    { return c.s.Status() }

// metadataPolicies reads policies from the admin metadata store.
type metadataPolicies struct{ md *admin.Metadata }

func (m metadataPolicies) NamespaceExists(ns string) bool { return m.md.HasNamespace(ns) }

func (m metadataPolicies) ReplicationClusters(ns string) []string {
	cs, err := m.md.ReplicationClusters(ns)
	if err != nil {
		return nil
	}
	return cs
}

func (m metadataPolicies) MessageTTL(ns string) time.Duration {
	ttl, err := m.md.MessageTTL(ns)
	if err != nil || ttl == nil {
		return 0
	}
	return time.Duration(*ttl) * time.Second
}

func (c *Cluster) adminHandler() http.Handler { return c.admin }

func (m metadataPolicies) Retains(ns string) bool {
	r, err := m.md.Retention(ns)
	return err == nil && r.Retains()
}
