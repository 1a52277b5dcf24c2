package testbed

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

//go:embed ExpireSessions.java
var expireSessionsSource []byte

// expireSessions deletes the ephemeral nodes that a killed JVM left in the
// cluster's RocksDB metadata store, before a new JVM starts on it: what
// ZooKeeper does to a dead session's nodes. Pulsar's RocksdbMetadataStore
// has no session expiry; a restarted JVM (a new store instance id) deletes
// another instance's ephemeral node only when it first reads it. For the
// bookie's registration (/ledgers/available/<bookie>) that read comes from
// the new bookie's own registration lock, and the deletion's notification
// can reach the lock after it is held again: ResourceLockImpl then
// revalidates, finds a BookieServiceInfo that is never equal to its own
// (the class has no equals), deletes and re-creates its node, which
// notifies it again, without end. The broker's BookKeeper client sees the
// bookie come and go thousands of times a second, and new ledgers fail
// with "Not enough non-faulty bookies available" (TestRestartsKeepTheBookie;
// docs/testbed.md).
//
// The paths deleted are appended to the broker's log.
func (c *Cluster) expireSessions(ctx context.Context) error {
	store := filepath.Join(c.dir, "metadata")
	if _, err := os.Stat(filepath.Join(store, "CURRENT")); errors.Is(err, fs.ErrNotExist) {
		return nil // the first start: no store yet
	}
	jar, err := rocksdbJar(c.classPath)
	if err != nil {
		return fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	src := filepath.Join(c.dir, "ExpireSessions.java")
	if err := os.WriteFile(src, expireSessionsSource, 0o644); err != nil {
		return fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.opts.Java, "-Djava.io.tmpdir="+c.tmpDir(), "-cp", jar, src, store)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cluster %s: expiring the killed JVM's ephemeral nodes in %s: %w\n%s", c.Name, store, err,
			tail(stderr.String(), 2000))
	}
	var note strings.Builder
	stamp := time.Now().Format("2006-01-02T15:04:05.000")
	for _, path := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if path == "" {
			continue
		}
		fmt.Fprintf(&note, "%s - testbed - expired ephemeral node %s (left by the killed JVM)\n", stamp, path)
	}
	if note.Len() == 0 {
		return nil
	}
	logf, err := os.OpenFile(c.LogFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	defer logf.Close()
	_, err = logf.WriteString(note.String())
	return err
}

// rocksdbJar finds RocksDB's Java binding on the broker's class path.
func rocksdbJar(classPath string) (string, error) {
	for _, jar := range filepath.SplitList(classPath) {
		if strings.HasPrefix(filepath.Base(jar), "rocksdbjni-") && strings.HasSuffix(jar, ".jar") {
			return jar, nil
		}
	}
	return "", errors.New("no rocksdbjni jar on the broker's class path")
}
