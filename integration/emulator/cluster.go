package emulator

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/subsync/subsync/integration/ledger"
)

// ErrClusterStopped is returned for work on a cluster whose listeners are stopped.
var ErrClusterStopped = errors.New("cluster is stopped")

// Cluster is one emulated Pulsar cluster: a broker, its storage and its
// metadata store.
type Cluster struct {
	sim   *Sim
	name  string
	opts  ClusterOptions
	log   *slog.Logger
	meta  metadataPolicies
	admin http.Handler

	nextLedger   atomic.Int64
	nextProducer atomic.Int64

	mu          sync.Mutex
	topics      map[string]*Topic
	partitioned map[string]int
	running     bool
	binLn       net.Listener
	httpLn      net.Listener
	httpSrv     *http.Server
	binAddr     string
	httpAddr    string
	conns       map[*conn]struct{}
}

// Name returns the cluster's name.
func (c *Cluster) Name() string { return c.name }

// ServiceURL is the binary protocol address, "pulsar://127.0.0.1:port".
func (c *Cluster) ServiceURL() string { return "pulsar://" + c.binAddr }

// WebURL is the admin REST address, "http://127.0.0.1:port".
func (c *Cluster) WebURL() string { return "http://" + c.httpAddr }

// Running reports whether the cluster's listeners are up.
func (c *Cluster) Running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.running
}

func (c *Cluster) ledgerConfig(namespace string) ledger.Config {
	return ledger.Config{
		MaxEntriesPerLedger: c.opts.LedgerMaxEntries,
		NextLedgerID:        func() int64 { return c.nextLedger.Add(1) },
		// A broker's default retention is zero: once a ledger is closed,
		// everything before the slowest durable cursor goes (all closed
		// ledgers when there is none), and a reader from earliest sees only
		// what is left. The real test bed showed it; code that needs older
		// entries must hold them with a subscription.
		TrimConsumedLedgers: true,
		// Any retention policy keeps every ledger: the emulator does not
		// count minutes or megabytes, and tests run for far less than any.
		Retain: func() bool { return c.meta.Retains(namespace) },
	}
}

// topic returns the named topic, creating it when create is set and its
// namespace exists (Pulsar's default allowAutoTopicCreation=true).
func (c *Cluster) topic(name string, create bool) (*Topic, error) {
	tn, err := parseTopic(name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.topics[tn.full]; ok {
		return t, nil
	}
	if !create {
		return nil, fmt.Errorf("topic %s: %w", tn.full, errTopicNotFound)
	}
	if !c.meta.NamespaceExists(tn.namespace) {
		return nil, fmt.Errorf("topic %s: namespace %s: %w", tn.full, tn.namespace, errNamespaceNotFound)
	}
	if n, ok := c.partitioned[tn.full]; ok && n > 0 {
		return nil, fmt.Errorf("topic %s is partitioned (%d partitions): use its -partition-N topics", tn.full, n)
	}
	t := newTopic(c, tn)
	c.topics[tn.full] = t
	t.start()
	return t, nil
}

// lookupTopic returns an existing topic or nil.
func (c *Cluster) lookupTopic(name string) *Topic {
	t, _ := c.topic(name, false)
	return t
}

func (c *Cluster) allTopics() []*Topic {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Topic, 0, len(c.topics))
	for _, t := range c.topics {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name.full < out[j].name.full })
	return out
}

// partitions returns the partition count of a partitioned topic, 0 otherwise.
func (c *Cluster) partitions(name string) int {
	tn, err := parseTopic(name)
	if err != nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.partitioned[tn.full]
}

// createPartitioned records a partitioned topic and creates its partitions.
func (c *Cluster) createPartitioned(name string, n int) error {
	tn, err := parseTopic(name)
	if err != nil {
		return err
	}
	if n <= 0 {
		return fmt.Errorf("partitioned topic %s: %d partitions, expected at least 1", tn.full, n)
	}
	if tn.partition >= 0 {
		return fmt.Errorf("partitioned topic %s: name ends with a partition suffix", tn.full)
	}
	if !c.meta.NamespaceExists(tn.namespace) {
		return fmt.Errorf("topic %s: namespace %s: %w", tn.full, tn.namespace, errNamespaceNotFound)
	}
	c.mu.Lock()
	if _, ok := c.partitioned[tn.full]; ok {
		c.mu.Unlock()
		return fmt.Errorf("partitioned topic %s: %w", tn.full, errAlreadyExists)
	}
	if _, ok := c.topics[tn.full]; ok {
		c.mu.Unlock()
		return fmt.Errorf("topic %s exists as a non-partitioned topic: %w", tn.full, errAlreadyExists)
	}
	c.partitioned[tn.full] = n
	c.mu.Unlock()
	for i := 0; i < n; i++ {
		if _, err := c.topic(partitionName(tn.full, i), true); err != nil {
			return err
		}
	}
	return nil
}

// replicationChanged re-evaluates every topic's replicators after a
// namespace policy change.
func (c *Cluster) replicationChanged() {
	for _, t := range c.allTopics() {
		t.syncReplicators()
	}
}

func (c *Cluster) addConn(cn *conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running {
		return false
	}
	c.conns[cn] = struct{}{}
	return true
}

func (c *Cluster) removeConn(cn *conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.conns, cn)
}

// listen opens (or re-opens on the same ports) both listeners.
func (c *Cluster) listen() error {
	bin, err := net.Listen("tcp", addrOrAny(c.binAddr))
	if err != nil {
		return fmt.Errorf("cluster %s: binary listener: %w", c.name, err)
	}
	web, err := net.Listen("tcp", addrOrAny(c.httpAddr))
	if err != nil {
		bin.Close()
		return fmt.Errorf("cluster %s: admin listener: %w", c.name, err)
	}
	srv := &http.Server{Handler: c.adminHandler(), ReadHeaderTimeout: 10 * time.Second}
	c.mu.Lock()
	c.binLn, c.httpLn, c.httpSrv = bin, web, srv
	c.binAddr, c.httpAddr = bin.Addr().String(), web.Addr().String()
	c.running = true
	c.mu.Unlock()
	go c.acceptLoop(bin)
	go func() { _ = srv.Serve(web) }()
	return nil
}

func addrOrAny(addr string) string {
	if addr == "" {
		return "127.0.0.1:0"
	}
	return addr
}

func (c *Cluster) acceptLoop(ln net.Listener) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		cn := newConn(c, nc)
		if !c.addConn(cn) {
			nc.Close()
			continue
		}
		go cn.serve()
	}
}

// stop closes the listeners and every connection; state is kept.
func (c *Cluster) stop() {
	c.mu.Lock()
	if !c.running {
		c.mu.Unlock()
		return
	}
	c.running = false
	bin, srv := c.binLn, c.httpSrv
	conns := make([]*conn, 0, len(c.conns))
	for cn := range c.conns {
		conns = append(conns, cn)
	}
	c.mu.Unlock()
	bin.Close()
	srv.Close()
	for _, cn := range conns {
		cn.close()
	}
}

// close stops the cluster for good: listeners, connections and every
// topic's goroutines.
func (c *Cluster) close() {
	c.stop()
	for _, t := range c.allTopics() {
		t.close()
	}
}
