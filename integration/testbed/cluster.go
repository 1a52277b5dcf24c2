package testbed

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Cluster is one standalone Pulsar cluster of the bed: a broker with an
// in-process bookie, in its own JVM, on its own ports and data directory.
type Cluster struct {
	Name string

	dir                             string
	brokerPort, webPort, bookiePort int
	classPath                       string
	opts                            Options

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	paused bool
}

// ServiceURL is the cluster's binary-protocol address.
func (c *Cluster) ServiceURL() string { return fmt.Sprintf("pulsar://127.0.0.1:%d", c.brokerPort) }

// WebURL is the cluster's admin REST address.
func (c *Cluster) WebURL() string { return fmt.Sprintf("http://127.0.0.1:%d", c.webPort) }

// LogFile is where the broker's JVM writes its output.
func (c *Cluster) LogFile() string { return filepath.Join(c.dir, "broker.log") }

// State is "running", "paused" or "killed".
func (c *Cluster) State() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.cmd == nil:
		return "killed"
	case c.paused:
		return "paused"
	default:
		return "running"
	}
}

// Pid is the broker JVM's process id, 0 while the cluster is killed.
func (c *Cluster) Pid() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

// tmpDir is the JVM's java.io.tmpdir, inside the cluster's directory:
// each JVM unpacks its native libraries there (RocksDB's, 13 MB, and
// BookKeeper's checksum library) and deletes them at exit, which a
// SIGKILL skips; under /tmp they piled up, one set per kill.
func (c *Cluster) tmpDir() string { return filepath.Join(c.dir, "tmp") }

// jvmArgs are the module openings Pulsar's own launcher passes (Netty,
// BookKeeper and the metrics code reach into JDK internals), then the
// standalone starter without functions worker or stream storage.
func (c *Cluster) jvmArgs() []string {
	args := []string{"-Xms256m", "-Xmx" + c.opts.Heap, "-XX:MaxDirectMemorySize=" + c.opts.Heap,
		"-Dio.netty.tryReflectionSetAccessible=true",
		"-Dlog4j2.formatMsgNoLookups=true", "-Djava.io.tmpdir=" + c.tmpDir()}
	for _, open := range []string{"java.base/java.io", "java.base/java.lang", "java.base/java.nio",
		"java.base/java.util.zip", "java.base/jdk.internal.misc", "java.base/sun.net", "java.base/sun.nio.ch",
		"java.management/sun.management", "jdk.management/com.sun.management.internal"} {
		args = append(args, "--add-opens", open+"=ALL-UNNAMED")
	}
	args = append(args, "--add-exports", "java.base/jdk.internal.platform=ALL-UNNAMED")
	return append(args, "-cp", c.classPath, "org.apache.pulsar.PulsarStandaloneStarter",
		"-c", filepath.Join(c.dir, "standalone.conf"), "-nfw", "-nss", "-a", "127.0.0.1",
		"--metadata-dir", filepath.Join(c.dir, "metadata"),
		"--bookkeeper-dir", filepath.Join(c.dir, "bookkeeper"),
		"--bookkeeper-port", fmt.Sprint(c.bookiePort))
}

// start launches the JVM on the cluster's data and waits until its broker
// answers admin requests.
func (c *Cluster) start(ctx context.Context) error {
	// What a killed JVM left in its temporary directory is nobody's now.
	if err := os.RemoveAll(c.tmpDir()); err != nil {
		return fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	if err := os.MkdirAll(c.tmpDir(), 0o755); err != nil {
		return fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	// A ZooKeeper would have expired the killed JVM's session by now.
	if err := c.expireSessions(ctx); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(c.dir, "standalone.conf"), []byte(brokerConfig(c, c.opts)), 0o644); err != nil {
		return fmt.Errorf("cluster %s: writing its configuration: %w", c.Name, err)
	}
	logf, err := os.OpenFile(c.LogFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	cmd := exec.Command(c.opts.Java, c.jvmArgs()...)
	cmd.Dir = c.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so that a Ctrl-C of the test run does not
	// reach the brokers before the bed stops them in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("cluster %s: starting java: %w", c.Name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	c.mu.Lock()
	c.cmd, c.exited, c.paused = cmd, exited, false
	c.mu.Unlock()
	if err := c.waitReady(ctx, exited); err != nil {
		c.kill()
		return err
	}
	if err := c.waitWritable(ctx); err != nil {
		c.kill()
		return err
	}
	return nil
}

// waitWritable creates throwaway topics until one succeeds: a restarted
// broker answers its health check a moment before it can open new ledgers
// ("Not enough non-faulty bookies available" until its BookKeeper client
// has seen the bookie again).
func (c *Cluster) waitWritable(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.StartTimeout)
	defer cancel()
	for {
		err := TakesWrites(ctx, c.WebURL())
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster %s: cannot create a topic within %v (%v); see %s", c.Name, c.opts.StartTimeout, err, c.LogFile())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// TakesWrites creates and deletes a throwaway topic in public/default on
// the cluster at webURL: nil when the broker can open a new ledger now.
func TakesWrites(ctx context.Context, webURL string) error {
	topic := fmt.Sprintf("%s/admin/v2/persistent/public/default/testbed-writable-%d", webURL, time.Now().UnixNano())
	if err := adminCall(ctx, http.MethodPut, topic, nil); err != nil {
		return err
	}
	return adminCall(ctx, http.MethodDelete, topic+"?force=true", nil)
}

// waitReady polls the broker's health check, which answers only once the
// broker can write to and read from a topic.
func (c *Cluster) waitReady(ctx context.Context, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.StartTimeout)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}
	url := c.WebURL() + "/admin/v2/brokers/health"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("cluster %s: the broker exited while starting; see %s", c.Name, c.LogFile())
		case <-ctx.Done():
			return fmt.Errorf("cluster %s: not healthy within %v; see %s", c.Name, c.opts.StartTimeout, c.LogFile())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// kill sends SIGKILL to the JVM (resuming it first would be pointless:
// a stopped process dies of SIGKILL too) and waits for it to be gone.
func (c *Cluster) kill() {
	c.mu.Lock()
	cmd, exited := c.cmd, c.exited
	c.cmd, c.paused = nil, false
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-exited
}

func (c *Cluster) signal(sig syscall.Signal, paused bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		return fmt.Errorf("cluster %s is killed", c.Name)
	}
	if err := syscall.Kill(-c.cmd.Process.Pid, sig); err != nil {
		return fmt.Errorf("cluster %s: %v: %w", c.Name, sig, err)
	}
	c.paused = paused
	return nil
}

// errUnknownCluster is returned for a name the bed does not run.
var errUnknownCluster = errors.New("no such cluster in the test bed")
