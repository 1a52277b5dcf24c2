package replicator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"
)

// Lease timing, in lease intervals. A check of the lease is bounded by
// leaseCheckIntervals; a holder stops acting when it has not confirmed its
// lease for leaseTTLIntervals; a new holder waits leaseGraceIntervals,
// longer than the old holder's TTL plus one round and one check (the old
// holder notices that late at most), so the old one has stopped first.
// The TTL spans a few slow admin answers: a busy admin API must not make
// the holder stop and restart its work.
const (
	leaseCheckIntervals = 2
	leaseTTLIntervals   = 4
	leaseGraceIntervals = leaseTTLIntervals + 1 + leaseCheckIntervals + 1
)

// leaseTopic is the namespace's lease topic, named after the control
// topic so that two groups of daemons with their own control topics never
// share a lease. Nothing is ever published to it: the lease is its
// subscription, and Pulsar never replicates a subscription by itself (only
// PIP-33 consumers that ask for it, and this one does not), so each
// cluster's copy of the topic holds its own lease even in a replicated
// namespace.
func (d *Daemon) leaseTopic(ns string) string {
	return "persistent://" + ns + "/" + d.cfg.ControlTopic + "-lease"
}

// leaseSubscription names the cluster too, for whoever lists the topic's
// subscriptions.
func (d *Daemon) leaseSubscription() string { return "subsync-lease-" + d.cfg.Cluster }

// instanceName tells this daemon's lease consumer from another daemon's in
// the broker's stats: the host (a pod's name) and a random part, as two
// incarnations on one host must differ too.
func instanceName(cluster string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return fmt.Sprintf("subsync-%s-%s-%s", cluster, host, hex.EncodeToString(b))
}

// lease is one namespace's lease as this daemon sees it: its consumer
// while it holds the subscription, and the state machine that says
// whether it may act.
type lease struct {
	d        *Daemon
	topic    string
	sub      string
	consumer pulsar.Consumer
	state    leaseState
	// waitLogged: "another daemon holds the lease" was logged for this
	// wait, so it is said once, not every interval.
	waitLogged bool
	log        *slog.Logger
}

func (d *Daemon) newLease(ns string) *lease {
	topic := d.leaseTopic(ns)
	iv := d.cfg.LeaseInterval
	return &lease{d: d, topic: topic, sub: d.leaseSubscription(),
		state: leaseState{grace: leaseGraceIntervals * iv, ttl: leaseTTLIntervals * iv},
		log:   d.log.With("namespace", ns, "leaseTopic", topic)}
}

// step takes the lease when free, or checks that this daemon still holds
// it.
func (l *lease) step(ctx context.Context) {
	at := l.d.now()
	if l.consumer == nil {
		l.tryAcquire(ctx, at)
		return
	}
	l.check(ctx, at)
}

// tryAcquire subscribes with an Exclusive consumer: the broker refuses it
// (ConsumerBusy) while another daemon's consumer is connected, and frees
// the subscription as soon as that consumer's connection closes. It asks
// first whether the lease is held: that spares the broker a refused
// subscribe every interval, and the log the Pulsar client's ERROR line
// for each. The answer may be stale by the time it subscribes; the
// broker's refusal settles that race.
func (l *lease) tryAcquire(ctx context.Context, at time.Time) {
	askCtx, cancel := context.WithTimeout(ctx, leaseCheckIntervals*l.d.cfg.LeaseInterval)
	holders, err := l.holders(askCtx)
	cancel()
	if err == nil && len(holders) > 0 {
		l.waiting(holders, nil)
		return
	}
	c, err := subscribeCtx(ctx, l.d.deps.Client, pulsar.ConsumerOptions{
		Topic: l.topic, SubscriptionName: l.sub, Type: pulsar.Exclusive, Name: l.d.instance,
	})
	switch {
	case ctx.Err() != nil:
		return
	case isConsumerBusy(err):
		l.waiting(nil, err)
		return
	case err != nil:
		l.d.rateLog.warn(l.log, l.d.now(), "lease_subscribe", "cannot subscribe to the lease topic; retrying", "err", err)
		return
	}
	l.consumer = c
	l.state.acquired(at)
	l.waitLogged = false
	l.log.Info("lease taken; acting for this cluster once the grace period has passed",
		"instance", l.d.instance, "grace", l.state.grace)
}

// waiting logs, once per wait, that another daemon holds the lease: the
// holders the broker lists, or its refusal.
func (l *lease) waiting(holders []string, refusal error) {
	if l.waitLogged {
		return
	}
	l.waitLogged = true
	args := []any{"instance", l.d.instance}
	if len(holders) > 0 {
		args = append(args, "holder", holders)
	}
	if refusal != nil {
		args = append(args, "refusal", refusal)
	}
	l.log.Warn("another subsync daemon acts for this cluster and namespace; this one waits (no tail, export, import or apply) and takes over when it goes", args...)
}

// check asks the broker who holds the lease. Only a definite answer
// changes the state: another holder means the lease was lost; an error or
// no holder at all (this daemon's client is reconnecting) confirms
// nothing, and acting stops once that lasts the TTL.
func (l *lease) check(ctx context.Context, at time.Time) {
	checkCtx, cancel := context.WithTimeout(ctx, leaseCheckIntervals*l.d.cfg.LeaseInterval)
	defer cancel()
	holders, err := l.holders(checkCtx)
	switch {
	case err != nil:
		l.d.rateLog.warn(l.log, l.d.now(), "lease_check", "cannot confirm the lease", "err", err)
	case slices.Contains(holders, l.d.instance):
		l.state.confirm(at)
	case len(holders) > 0:
		l.log.Warn("lease lost to another subsync daemon; stopping", "holder", holders, "instance", l.d.instance)
		l.release()
	}
}

// subscribeCtx is Subscribe that returns when ctx ends: the client waits
// up to its operation timeout (30 s) for an unreachable broker, which
// must not hold up a shutdown. A consumer that arrives after that is
// closed at once, so an abandoned attempt never keeps the lease.
func subscribeCtx(ctx context.Context, client pulsar.Client, opts pulsar.ConsumerOptions) (pulsar.Consumer, error) {
	type result struct {
		c   pulsar.Consumer
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := client.Subscribe(opts)
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		return r.c, r.err
	case <-ctx.Done():
		go func() {
			if r := <-done; r.err == nil {
				r.c.Close()
			}
		}()
		return nil, fmt.Errorf("subscribing to %s: %w", opts.Topic, ctx.Err())
	}
}

// holders lists the consumer names on the lease subscription.
func (l *lease) holders(ctx context.Context) ([]string, error) {
	name, err := utils.GetTopicName(l.topic)
	if err != nil {
		return nil, fmt.Errorf("lease topic %s: %w", l.topic, err)
	}
	st, err := l.d.deps.Admin.Topics().GetStatsWithContext(ctx, *name)
	if err != nil {
		return nil, fmt.Errorf("lease topic %s: reading stats: %w", l.topic, err)
	}
	var out []string
	for _, c := range st.Subscriptions[l.sub].Consumers {
		out = append(out, c.ConsumerName)
	}
	return out, nil
}

// release closes the consumer, which frees the subscription for another
// daemon; the caller has stopped acting first.
func (l *lease) release() {
	if l.consumer != nil {
		closeWithin(closeTimeout, l.consumer.Close)
		l.consumer = nil
	}
	l.state.lost()
}

// isConsumerBusy recognises the broker's ConsumerBusy answer; the client
// reports some server errors only as text.
func isConsumerBusy(err error) bool {
	var pe *pulsar.Error
	if errors.As(err, &pe) && pe.Result() == pulsar.ConsumerBusy {
		return true
	}
	return err != nil && strings.Contains(err.Error(), "ConsumerBusy")
}
