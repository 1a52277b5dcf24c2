package demo

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/subsync/subsync/integration/workload"
	"github.com/subsync/subsync/mapping"
	"github.com/subsync/subsync/replicator"
	"github.com/subsync/subsync/snapshot"
)

// daemon is one in-process subsync daemon with its own connections, as a
// separate process beside its cluster would have.
type daemon struct {
	cluster string
	d       *replicator.Daemon
	ep      *workload.Endpoint
	store   *mapping.Store
	cancel  context.CancelFunc
	done    chan error
}

// newKeyring draws the HMAC key both daemons share.
func newKeyring() (*snapshot.Keyring, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("drawing the HMAC key: %w", err)
	}
	return snapshot.NewKeyring(1, snapshot.Key{ID: 1, Secret: secret})
}

// startDaemon connects, opens the store under dir and runs the daemon
// until stop.
func startDaemon(ep *workload.Endpoint, cfg replicator.Config, dir string, logger *slog.Logger) (*daemon, error) {
	store, err := mapping.Open(filepath.Join(dir, cfg.Cluster))
	if err != nil {
		return nil, fmt.Errorf("subsync %s: opening its store: %w", cfg.Cluster, err)
	}
	d, err := replicator.New(cfg, replicator.Deps{Client: ep.Client, Admin: ep.Admin, Store: store,
		Entries: replicator.HTTPEntries{WebServiceURL: ep.WebURL},
		Logger:  logger.With("daemon", cfg.Cluster)})
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("subsync %s: %w", cfg.Cluster, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	dm := &daemon{cluster: cfg.Cluster, d: d, ep: ep, store: store, cancel: cancel, done: make(chan error, 1)}
	go func() { dm.done <- d.Run(ctx) }()
	return dm, nil
}

// daemonConfig is the demo's daemon configuration: the demo namespace,
// PIP-33's subscription left to PIP-33.
func daemonConfig(cluster, namespace string, keys *snapshot.Keyring, exportInterval time.Duration) replicator.Config {
	return replicator.Config{
		Cluster:              cluster,
		Namespaces:           []string{namespace},
		ExcludeSubscriptions: []*regexp.Regexp{regexp.MustCompile("^" + regexp.QuoteMeta(pip33Sub) + "$")},
		Keys:                 keys,
		ExportInterval:       exportInterval,
		SnapshotInterval:     time.Second,
		DiscoveryInterval:    250 * time.Millisecond,
		// A demo has one daemon per cluster: a short lease interval makes
		// its wait before acting (eight intervals) short too.
		LeaseInterval: 100 * time.Millisecond,
	}
}

// stop cancels the daemon and waits up to grace for it to finish; only
// then are its store and connections closed (a daemon still running
// after grace keeps them, and the run reports it).
func (dm *daemon) stop(grace time.Duration) error {
	dm.cancel()
	select {
	case err := <-dm.done:
		closeBounded(dm.ep.Close, clientCloseGrace)
		if cerr := dm.store.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("closing its store: %w", cerr)
		}
		if err != nil {
			return fmt.Errorf("subsync %s: %w", dm.cluster, err)
		}
		return nil
	case <-time.After(grace):
		return fmt.Errorf("subsync %s: still running %v after cancellation", dm.cluster, grace)
	}
}

// syncedOnce reports whether, by both daemons' own status, every
// acknowledgement of sub made on the primary is applied on the standby:
// the primary's daemon sees nothing acknowledged there and not on the
// standby, and the standby's daemon has nothing received but not applied,
// for every partition.
func syncedOnce(primary, standby *daemon, topic string, partitions int, sub string) (bool, string) {
	want := max(1, partitions)
	ps, pn := subscriptionStatuses(primary.d.Status(topic), topic, sub)
	ss, sn := subscriptionStatuses(standby.d.Status(topic), topic, sub)
	if pn != want || sn != want || len(ps) != want || len(ss) != want {
		return false, fmt.Sprintf("%s status covers %d/%d partitions with %d subscriptions, %s %d/%d with %d",
			primary.cluster, pn, want, len(ps), standby.cluster, sn, want, len(ss))
	}
	for _, s := range ps {
		r, ok := remoteStatus(s, standby.cluster)
		if !ok || r.LastUpdate.IsZero() || r.LocalAckedNotAckedThere != 0 {
			return false, fmt.Sprintf("%s: %d acknowledged, not on %s (heard from it: %v)",
				primary.cluster, r.LocalAckedNotAckedThere, standby.cluster, ok && !r.LastUpdate.IsZero())
		}
	}
	for _, s := range ss {
		r, ok := remoteStatus(s, primary.cluster)
		if !ok || r.LastUpdate.IsZero() || r.RemoteAckedNotAppliedHere != 0 || r.Deferred {
			return false, fmt.Sprintf("%s: %d received from %s, not applied (deferred: %v %s)",
				standby.cluster, r.RemoteAckedNotAppliedHere, primary.cluster, r.Deferred, r.DeferReason)
		}
	}
	return true, ""
}

// subscriptionStatuses picks sub's status in every partition of topic,
// and counts the partitions reported.
func subscriptionStatuses(rep replicator.StatusReport, topic, sub string) ([]replicator.SubscriptionStatus, int) {
	var out []replicator.SubscriptionStatus
	n := 0
	for _, t := range rep.Topics {
		if t.Topic != topic && !strings.HasPrefix(t.Topic, topic+"-partition-") {
			continue
		}
		n++
		for _, s := range t.Subscriptions {
			if s.Subscription == sub {
				out = append(out, s)
			}
		}
	}
	return out, n
}

func remoteStatus(s replicator.SubscriptionStatus, remote string) (replicator.SubscriptionRemoteStatus, bool) {
	for _, r := range s.Remotes {
		if r.Remote == remote {
			return r, true
		}
	}
	return replicator.SubscriptionRemoteStatus{}, false
}

// closeBounded runs close and waits for it at most grace: a client of a
// stopped cluster can wait for its operation timeout, which tells the demo
// nothing.
func closeBounded(close func(), grace time.Duration) {
	done := make(chan struct{}, 1)
	go func() {
		defer func() { done <- struct{}{} }()
		close()
	}()
	select {
	case <-done:
	case <-time.After(grace):
	}
}
