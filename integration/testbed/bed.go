package testbed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"time"
)

// Options shape a test bed.
type Options struct {
	// Version of org.apache.pulsar:pulsar-broker (DefaultVersion if empty).
	Version string
	// Clusters are the names of the clusters, two or three.
	Clusters []string
	// Dir holds each cluster's data and log (a new temporary directory if
	// empty, removed by Close).
	Dir string
	// CacheDir keeps the resolved class path between runs
	// ($XDG_CACHE_HOME/subsync-testbed if empty).
	CacheDir string
	// LedgerMaxEntries rolls a ledger over after so many entries
	// (managedLedgerMaxEntriesPerLedger; 10 if zero, as the contract
	// tests' emulator uses).
	LedgerMaxEntries int
	// BrokerSettings override or add broker configuration keys.
	BrokerSettings map[string]string
	// Java is the java command ("java" if empty).
	Java string
	// Heap is each JVM's maximum heap and direct memory ("768m" if empty).
	Heap string
	// StartTimeout bounds each broker's start (90 s if zero).
	StartTimeout time.Duration
}

// Bed is a running set of real Pulsar clusters that replicate to one
// another.
type Bed struct {
	opts     Options
	clusters []*Cluster
	ownDir   bool
}

var clusterName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}$`)

func (o *Options) fill() error {
	if o.Version == "" {
		o.Version = DefaultVersion
	}
	if len(o.Clusters) < 2 || len(o.Clusters) > 3 {
		return fmt.Errorf("test bed clusters %q: want two or three names", o.Clusters)
	}
	seen := map[string]bool{}
	for _, n := range o.Clusters {
		if !clusterName.MatchString(n) || seen[n] {
			return fmt.Errorf("test bed cluster name %q: want distinct lower-case names (letters, digits, '-')", n)
		}
		seen[n] = true
	}
	if o.LedgerMaxEntries == 0 {
		o.LedgerMaxEntries = 10
	}
	if o.LedgerMaxEntries < 0 {
		return fmt.Errorf("ledger max entries %d: want a positive number of entries per ledger", o.LedgerMaxEntries)
	}
	if o.Java == "" {
		o.Java = "java"
	}
	if o.Heap == "" {
		o.Heap = "768m"
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 90 * time.Second
	}
	if o.CacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return fmt.Errorf("test bed cache directory: %w", err)
		}
		o.CacheDir = filepath.Join(base, "subsync-testbed")
	}
	return nil
}

// Start resolves the broker's jars, starts every cluster and wires
// geo-replication between them: each cluster knows every other one, and
// tenant "subsync" with namespace "subsync/geo" replicates to all.
func Start(ctx context.Context, o Options) (*Bed, error) {
	if err := o.fill(); err != nil {
		return nil, err
	}
	cp, err := ClassPath(ctx, o.Version, o.CacheDir)
	if err != nil {
		return nil, err
	}
	b := &Bed{opts: o}
	if o.Dir == "" {
		if b.opts.Dir, err = os.MkdirTemp("", "subsync-testbed-"); err != nil {
			return nil, err
		}
		b.ownDir = true
	}
	ports, err := freePorts(3 * len(o.Clusters))
	if err != nil {
		return nil, err
	}
	for i, name := range o.Clusters {
		c, err := b.newCluster(name, cp, ports[3*i:3*i+3])
		if err != nil {
			b.Close()
			return nil, err
		}
		b.clusters = append(b.clusters, c)
	}
	if err := b.startAll(ctx); err != nil {
		// The brokers' logs say why: keep them.
		b.ownDir = false
		b.Close()
		return nil, err
	}
	if err := b.wire(ctx); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

func (b *Bed) newCluster(name, cp string, ports []int) (*Cluster, error) {
	dir := filepath.Join(b.opts.Dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", name, err)
	}
	return &Cluster{Name: name, dir: dir, brokerPort: ports[0], webPort: ports[1], bookiePort: ports[2],
		classPath: cp, opts: b.opts}, nil
}

func (b *Bed) startAll(ctx context.Context) error {
	errs := make([]error, len(b.clusters))
	var wg sync.WaitGroup
	for i, c := range b.clusters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.start(ctx)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Clusters lists the bed's clusters in the order of Options.Clusters.
func (b *Bed) Clusters() []*Cluster { return b.clusters }

// Cluster returns the named cluster, or nil.
func (b *Bed) Cluster(name string) *Cluster {
	for _, c := range b.clusters {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Version is the Pulsar version the bed runs.
func (b *Bed) Version() string { return b.opts.Version }

// Kill SIGKILLs a cluster's JVM; its data stays for Restart.
func (b *Bed) Kill(name string) error {
	c := b.Cluster(name)
	if c == nil {
		return fmt.Errorf("kill %q: %w", name, errUnknownCluster)
	}
	c.kill()
	return nil
}

// Restart starts a killed cluster again on its data and ports (a running
// one is killed first) and waits until it is healthy.
func (b *Bed) Restart(ctx context.Context, name string) error {
	c := b.Cluster(name)
	if c == nil {
		return fmt.Errorf("restart %q: %w", name, errUnknownCluster)
	}
	c.kill()
	return c.start(ctx)
}

// Pause stops a cluster's JVM (SIGSTOP): it neither serves nor replicates
// until Resume.
func (b *Bed) Pause(name string) error {
	c := b.Cluster(name)
	if c == nil {
		return fmt.Errorf("pause %q: %w", name, errUnknownCluster)
	}
	return c.signal(syscall.SIGSTOP, true)
}

// Resume continues a paused cluster (SIGCONT).
func (b *Bed) Resume(name string) error {
	c := b.Cluster(name)
	if c == nil {
		return fmt.Errorf("resume %q: %w", name, errUnknownCluster)
	}
	return c.signal(syscall.SIGCONT, false)
}

// Close kills every cluster and removes the data directory the bed made.
func (b *Bed) Close() {
	for _, c := range b.clusters {
		c.kill()
	}
	if b.ownDir {
		os.RemoveAll(b.opts.Dir)
	}
}

// wire registers every cluster on every other one, then creates tenant
// subsync and namespace subsync/geo replicated to all of them.
func (b *Bed) wire(ctx context.Context) error {
	names := make([]string, len(b.clusters))
	for i, c := range b.clusters {
		names[i] = c.Name
	}
	for _, c := range b.clusters {
		for _, other := range b.clusters {
			if other == c {
				continue
			}
			body := map[string]string{"serviceUrl": other.WebURL(), "brokerServiceUrl": other.ServiceURL()}
			if err := adminCall(ctx, http.MethodPut, c.WebURL()+"/admin/v2/clusters/"+other.Name, body, http.StatusConflict); err != nil {
				return fmt.Errorf("registering %s on %s: %w", other.Name, c.Name, err)
			}
		}
	}
	for _, c := range b.clusters {
		if err := ReplicatedNamespace(ctx, c.WebURL(), "subsync/geo", names); err != nil {
			return fmt.Errorf("cluster %s: %w", c.Name, err)
		}
	}
	return nil
}

// ReplicatedNamespace creates namespace (tenant/name) on the cluster at
// webURL, its tenant allowed on every one of clusters, and sets its
// replication clusters. Existing tenants and namespaces are kept.
func ReplicatedNamespace(ctx context.Context, webURL, namespace string, clusters []string) error {
	tenant, _, ok := cutNamespace(namespace)
	if !ok {
		return fmt.Errorf("namespace %q: want tenant/name", namespace)
	}
	tenantBody := map[string]any{"adminRoles": []string{}, "allowedClusters": clusters}
	if err := adminCall(ctx, http.MethodPut, webURL+"/admin/v2/tenants/"+tenant, tenantBody, http.StatusConflict); err != nil {
		return fmt.Errorf("creating tenant %s: %w", tenant, err)
	}
	if err := adminCall(ctx, http.MethodPut, webURL+"/admin/v2/namespaces/"+namespace, nil, http.StatusConflict); err != nil {
		return fmt.Errorf("creating namespace %s: %w", namespace, err)
	}
	if err := adminCall(ctx, http.MethodPost, webURL+"/admin/v2/namespaces/"+namespace+"/replication", clusters); err != nil {
		return fmt.Errorf("setting the replication clusters of %s: %w", namespace, err)
	}
	return nil
}

func cutNamespace(ns string) (tenant, name string, ok bool) {
	for i := 0; i < len(ns); i++ {
		if ns[i] == '/' {
			return ns[:i], ns[i+1:], i > 0 && i < len(ns)-1
		}
	}
	return "", "", false
}

// adminCall sends one JSON admin request; a 2xx or one of the tolerated
// statuses is success.
func adminCall(ctx context.Context, method, url string, body any, tolerated ...int) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	for _, s := range tolerated {
		if resp.StatusCode == s {
			return nil
		}
	}
	return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, bytes.TrimSpace(msg))
}

// freePorts returns n distinct loopback ports that are free now, below
// Linux's ephemeral range (32768-60999) so that a killed cluster's ports
// do not become some connection's local port before it restarts.
func freePorts(n int) ([]int, error) {
	var ports []int
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for p := 20000 + os.Getpid()%5000*2; len(ports) < n && p < 32000; p++ {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		held = append(held, l)
		ports = append(ports, p)
	}
	if len(ports) < n {
		return nil, fmt.Errorf("no %d free loopback ports below 32000", n)
	}
	return ports, nil
}
