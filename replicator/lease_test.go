package replicator

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/subsync/subsync/mapping"
)

// leaseDaemon is a daemon of east on the pair's emulator, not running: its
// leases are driven step by step.
func leaseDaemon(t *testing.T, p *pair) *Daemon {
	t.Helper()
	store, err := mapping.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	d, err := New(Config{Cluster: "east", Namespaces: []string{p.ns}, Keys: p.keys, LeaseInterval: 100 * time.Millisecond},
		Deps{Client: p.clients["east"], Admin: p.admins["east"], Store: store, Logger: slog.New(slog.DiscardHandler),
			Entries: HTTPEntries{WebServiceURL: p.webs["east"]}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Against the emulator's broker: one daemon takes the lease, a second is
// refused and waits; when the first's consumer goes away unnoticed (its
// connection dropped for good) the second takes the lease, and the
// first's next check finds the other holder and gives up its claim.
func TestLeaseTakenRefusedAndLost(t *testing.T) {
	p := newPair(t)
	ctx := context.Background()
	a, b := leaseDaemon(t, p), leaseDaemon(t, p)
	la, lb := a.newLease(p.ns), b.newLease(p.ns)
	t.Cleanup(la.release)
	t.Cleanup(lb.release)

	la.step(ctx)
	if !la.state.holding() || la.consumer == nil {
		t.Fatal("the first daemon did not take the free lease")
	}
	lb.step(ctx)
	if lb.state.holding() || lb.consumer != nil || !lb.waitLogged {
		t.Fatalf("the second daemon took a held lease (holding %v) or did not say it waits (%v)", lb.state.holding(), lb.waitLogged)
	}
	holders, err := la.holders(ctx)
	if err != nil || !slices.Equal(holders, []string{a.instance}) {
		t.Fatalf("the broker lists %q (%v) on the lease, want the first daemon %q", holders, err, a.instance)
	}
	// The second asked first and did not subscribe; had it, the broker
	// would have refused it, and the refusal must be recognised.
	_, err = subscribeCtx(ctx, b.deps.Client, pulsar.ConsumerOptions{Topic: lb.topic, SubscriptionName: lb.sub,
		Type: pulsar.Exclusive, Name: b.instance})
	if !isConsumerBusy(err) {
		t.Fatalf("subscribing to a held lease: %v, want ConsumerBusy", err)
	}
	confirmedBefore := la.state.confirmed
	time.Sleep(5 * time.Millisecond)
	la.step(ctx)
	if !la.state.confirmed.After(confirmedBefore) {
		t.Fatal("the holder's check did not confirm its lease")
	}

	la.consumer.Close() // behind the lease's back: a connection lost for good
	lb.step(ctx)
	if !lb.state.holding() {
		t.Fatal("the second daemon did not take the lease once the first's consumer was gone")
	}
	la.step(ctx)
	if la.state.holding() || la.consumer != nil {
		t.Fatal("the first daemon still claims the lease another daemon holds")
	}
	if la.state.acting(time.Now()) {
		t.Fatal("the first daemon would act without its lease")
	}
}
