package workload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
)

// PrimaryOptions describe the consumers of one subscription on the primary.
type PrimaryOptions struct {
	Topic        string
	Subscription string
	Type         pulsar.SubscriptionType
	Consumers    int
	// ReplicateSubscriptionState turns PIP-33 on for the subscription.
	ReplicateSubscriptionState bool
	Plan                       *Plan
	// AckWindow is how many received messages each consumer keeps before
	// acknowledging a randomly chosen one of them, so acknowledgements go
	// out of order (default 16; 1 acknowledges in delivery order).
	AckWindow int
	// IdleFlush: a consumer that received nothing for this long
	// acknowledges its whole window, in random order (default 100ms).
	IdleFlush time.Duration
	Progress  io.Writer
}

// PrimaryResult is what the consumers did on the primary.
type PrimaryResult struct {
	Subscription string
	// Acked lists, increasing, the ids whose acknowledgement the broker
	// confirmed (AckWithResponse).
	Acked []int
	// Held lists, increasing, the held ids that were delivered.
	Held []int
	// Deliveries counts every message delivered on the primary.
	Deliveries int
	// AckErrors counts acknowledgements the broker did not confirm; their
	// ids are not in Acked.
	AckErrors int
	// AckedInPartialBatches counts acknowledged messages whose batch was
	// not acknowledged whole: the broker keeps such an entry, so they come
	// back after a failover whatever syncs the subscription.
	AckedInPartialBatches int
	// Foreign counts deliveries whose payload was not the workload's.
	Foreign int
}

// PrimaryRun is a set of consumers attached to one subscription on the
// primary. They stay attached after Consume returns, as an application's
// would until its cluster fails; Close detaches them.
type PrimaryRun struct {
	o         PrimaryOptions
	consumers []pulsar.Consumer

	mu       sync.Mutex
	settled  map[int]bool // ids acknowledged or whose ack failed
	acked    map[int]entryRef
	held     map[int]bool
	res      PrimaryResult
	progress *progress
}

// entryRef names the entry a message is in, to find partial batches.
type entryRef struct {
	partition     int32
	ledger, entry int64
	batchSize     int32
}

func (o PrimaryOptions) validate() error {
	var errs []error
	if o.Topic == "" || o.Subscription == "" {
		errs = append(errs, fmt.Errorf("primary: topic %q and subscription %q are required", o.Topic, o.Subscription))
	}
	if o.Consumers < 1 {
		errs = append(errs, fmt.Errorf("primary: consumers %d, expected at least 1", o.Consumers))
	}
	if o.Type == pulsar.Exclusive && o.Consumers > 1 {
		errs = append(errs, fmt.Errorf("primary: an exclusive subscription takes 1 consumer, not %d", o.Consumers))
	}
	if o.Plan == nil {
		errs = append(errs, errors.New("primary: a plan is required"))
	}
	if o.AckWindow < 0 {
		errs = append(errs, fmt.Errorf("primary: ack window %d, expected 0 (default) or more", o.AckWindow))
	}
	return errors.Join(errs...)
}

// StartPrimary attaches the consumers.
func StartPrimary(client pulsar.Client, o PrimaryOptions) (*PrimaryRun, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.AckWindow == 0 {
		o.AckWindow = 16
	}
	if o.IdleFlush <= 0 {
		o.IdleFlush = 100 * time.Millisecond
	}
	r := &PrimaryRun{o: o, settled: map[int]bool{}, acked: map[int]entryRef{}, held: map[int]bool{},
		res:      PrimaryResult{Subscription: o.Subscription},
		progress: newProgress(o.Progress, "primary "+o.Subscription, o.Plan.AckCount())}
	for i := 0; i < o.Consumers; i++ {
		c, err := client.Subscribe(pulsar.ConsumerOptions{
			Topic:                       o.Topic,
			SubscriptionName:            o.Subscription,
			Name:                        fmt.Sprintf("%s-primary-%d", o.Subscription, i),
			Type:                        o.Type,
			SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest,
			ReplicateSubscriptionState:  o.ReplicateSubscriptionState,
			AckWithResponse:             true,
		})
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("primary: consumer %d on %s/%s: %w", i, o.Topic, o.Subscription, err)
		}
		r.consumers = append(r.consumers, c)
	}
	return r, nil
}

// Close detaches the consumers.
func (r *PrimaryRun) Close() {
	for _, c := range r.consumers {
		c.Close()
	}
	r.consumers = nil
}

// Consume receives and acknowledges until every message the plan
// acknowledges is settled (acknowledged, or its acknowledgement failed),
// or ctx ends.
func (r *PrimaryRun) Consume(ctx context.Context) (PrimaryResult, error) {
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	if r.o.Plan.AckCount() == 0 {
		stop()
	}
	var wg sync.WaitGroup
	for i, c := range r.consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.consumeLoop(runCtx, stop, i, c)
		}()
	}
	wg.Wait()
	res := r.result()
	if settled := r.settledCount(); settled < r.o.Plan.AckCount() {
		return res, fmt.Errorf("primary %s: %d of %d planned acknowledgements settled: %w",
			r.o.Subscription, settled, r.o.Plan.AckCount(), context.Cause(ctx))
	}
	return res, nil
}

// consumeLoop is one consumer: it keeps up to AckWindow planned messages
// and acknowledges a random one whenever the window is full.
func (r *PrimaryRun) consumeLoop(ctx context.Context, done context.CancelFunc, idx int, c pulsar.Consumer) {
	rng := rand.New(rand.NewPCG(uint64(r.o.Plan.Seed), uint64(idx)+1))
	var window []pulsar.Message
	for ctx.Err() == nil {
		m, err := receiveWithin(ctx, c, r.o.IdleFlush)
		if err != nil {
			window = r.ackAll(ctx, done, c, rng, window)
			if !errors.Is(err, context.DeadlineExceeded) {
				pause(ctx, r.o.IdleFlush) // a closed consumer fails at once: do not spin
			}
			continue
		}
		id, ok := r.recordDelivery(m)
		if !ok || !r.o.Plan.ShouldAck(id) {
			continue
		}
		window = append(window, m)
		if len(window) >= r.o.AckWindow {
			window = r.ackOne(ctx, done, c, rng, window)
		}
	}
}

// pause sleeps for d or until ctx ends.
func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// receiveWithin is Receive bounded by d.
func receiveWithin(ctx context.Context, c pulsar.Consumer, d time.Duration) (pulsar.Message, error) {
	rctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return c.Receive(rctx)
}

func (r *PrimaryRun) ackAll(ctx context.Context, done context.CancelFunc, c pulsar.Consumer, rng *rand.Rand, window []pulsar.Message) []pulsar.Message {
	for len(window) > 0 && ctx.Err() == nil {
		window = r.ackOne(ctx, done, c, rng, window)
	}
	return window
}

// ackOne acknowledges a random message of the window and returns the rest.
func (r *PrimaryRun) ackOne(ctx context.Context, done context.CancelFunc, c pulsar.Consumer, rng *rand.Rand, window []pulsar.Message) []pulsar.Message {
	i := rng.IntN(len(window))
	m := window[i]
	window[i] = window[len(window)-1]
	window = window[:len(window)-1]
	if ctx.Err() != nil {
		return window
	}
	err := c.Ack(m)
	if r.recordAck(m, err) {
		done()
	}
	return window
}

// recordDelivery notes a delivery and returns its id.
func (r *PrimaryRun) recordDelivery(m pulsar.Message) (int, bool) {
	id, err := ParseID(m.Payload())
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Deliveries++
	if err != nil {
		r.res.Foreign++
		return 0, false
	}
	if r.o.Plan.IsHeld(id) {
		r.held[id] = true
	}
	return id, true
}

// recordAck notes an acknowledgement's outcome and reports whether every
// planned acknowledgement is now settled.
func (r *PrimaryRun) recordAck(m pulsar.Message, err error) bool {
	id, _ := ParseID(m.Payload()) // only parsed messages enter a window
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.settled[id] {
		return len(r.settled) >= r.o.Plan.AckCount()
	}
	r.settled[id] = true
	if err != nil {
		r.res.AckErrors++
	} else {
		mid := m.ID()
		r.acked[id] = entryRef{partition: mid.PartitionIdx(), ledger: mid.LedgerID(), entry: mid.EntryID(), batchSize: mid.BatchSize()}
	}
	r.progress.update(len(r.settled), "acknowledged")
	return len(r.settled) >= r.o.Plan.AckCount()
}

func (r *PrimaryRun) settledCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.settled)
}

func (r *PrimaryRun) result() PrimaryResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := r.res
	perEntry := map[entryRef]int{}
	for id, e := range r.acked {
		res.Acked = append(res.Acked, id)
		perEntry[e]++
	}
	for e, n := range perEntry {
		if int(e.batchSize) > 1 && n < int(e.batchSize) {
			res.AckedInPartialBatches += n
		}
	}
	for id := range r.held {
		res.Held = append(res.Held, id)
	}
	slices.Sort(res.Acked)
	slices.Sort(res.Held)
	return res
}
