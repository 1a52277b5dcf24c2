package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/subsync/subsync/integration/workload"
)

// The applications of the tests: producers of numbered messages (the
// workload's payloads) and consumers that acknowledge out of order.

// ids returns from, from+1, ..., to-1.
func ids(from, to int) []int {
	out := make([]int, 0, max(0, to-from))
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// produceIDs sends the workload payloads of ids on ep, unbatched, and
// returns the ids whose send the broker confirmed. Any failure fails the
// test: a message that may or may not be stored would blur the accounting.
func produceIDs(ctx context.Context, t *testing.T, ep *workload.Endpoint, topic string, ids []int) []int {
	t.Helper()
	return produceWith(ctx, t, ep, topic, ids, nil)
}

// produceWith is produceIDs with a hook that may change each message
// (its replication clusters, say) before it is sent.
func produceWith(ctx context.Context, t *testing.T, ep *workload.Endpoint, topic string, ids []int, edit func(id int, m *pulsar.ProducerMessage)) []int {
	t.Helper()
	confirmed, err := produce(ctx, ep, topic, ids, edit)
	if err != nil {
		t.Fatal(err)
	}
	return confirmed
}

// produce is produceWith for any goroutine: it returns the error.
func produce(ctx context.Context, ep *workload.Endpoint, topic string, ids []int, edit func(id int, m *pulsar.ProducerMessage)) ([]int, error) {
	prod, err := ep.Client.CreateProducer(pulsar.ProducerOptions{Topic: topic, DisableBatching: true})
	if err != nil {
		return nil, fmt.Errorf("producer on %s/%s: %w", ep.Name, topic, err)
	}
	defer prod.Close()
	var mu sync.Mutex
	var wg sync.WaitGroup
	var confirmed []int
	var firstErr error
	for _, id := range ids {
		wg.Add(1)
		msg := &pulsar.ProducerMessage{Payload: workload.Payload(id, 0)}
		if edit != nil {
			edit(id, msg)
		}
		prod.SendAsync(ctx, msg, func(_ pulsar.MessageID, _ *pulsar.ProducerMessage, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("message %d: %w", id, err)
			} else if err == nil {
				confirmed = append(confirmed, id)
			}
		})
	}
	if err := prod.FlushWithCtx(ctx); err != nil {
		return nil, fmt.Errorf("flushing on %s: %w", ep.Name, err)
	}
	wg.Wait()
	if firstErr != nil {
		return nil, fmt.Errorf("producing on %s: %d of %d confirmed: %w", ep.Name, len(confirmed), len(ids), firstErr)
	}
	slices.Sort(confirmed)
	return confirmed, nil
}

// ackPhase describes consumers that work through a subscription for a
// while: every delivered message that shouldAck is acknowledged (in a
// shuffled order, a window at a time), the others are received and held
// unacknowledged until the consumers close.
type ackPhase struct {
	Topic        string
	Subscription string
	Type         pulsar.SubscriptionType
	Consumers    int
	ShouldAck    func(id int) bool
	// Want is how many confirmed acknowledgements end the phase.
	Want int
	Seed uint64
}

// ackResult is what an ackPhase did.
type ackResult struct {
	Delivered []int // every delivery, repeats included
	Acked     []int // confirmed acknowledgements, increasing
}

// runAckPhase attaches the consumers, acknowledges until Want
// acknowledgements are confirmed, then closes them.
func runAckPhase(ctx context.Context, ep *workload.Endpoint, p ackPhase) (ackResult, error) {
	var consumers []pulsar.Consumer
	defer func() {
		for _, c := range consumers {
			c.Close()
		}
	}()
	for i := 0; i < max(1, p.Consumers); i++ {
		c, err := ep.Client.Subscribe(pulsar.ConsumerOptions{Topic: p.Topic, SubscriptionName: p.Subscription,
			Name: fmt.Sprintf("%s-app-%d", p.Subscription, i), Type: p.Type,
			SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest, AckWithResponse: true})
		if err != nil {
			return ackResult{}, fmt.Errorf("consumer %d on %s/%s/%s: %w", i, ep.Name, p.Topic, p.Subscription, err)
		}
		consumers = append(consumers, c)
	}
	ph := &phaseRun{p: p, acked: map[int]bool{}}
	if p.Want == 0 {
		return ph.result(), nil
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	for i, c := range consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ph.loop(runCtx, stop, c, rand.New(rand.NewPCG(p.Seed, uint64(i))))
		}()
	}
	wg.Wait()
	res := ph.result()
	if len(res.Acked) < p.Want {
		return res, fmt.Errorf("%s/%s on %s: %d of %d acknowledgements confirmed (%d ack errors): %w",
			p.Topic, p.Subscription, ep.Name, len(res.Acked), p.Want, ph.ackErrors, ctx.Err())
	}
	return res, nil
}

type phaseRun struct {
	p         ackPhase
	mu        sync.Mutex
	delivered []int
	acked     map[int]bool
	ackErrors int
}

const ackWindow = 8

func (ph *phaseRun) loop(ctx context.Context, done context.CancelFunc, c pulsar.Consumer, rng *rand.Rand) {
	var window []pulsar.Message
	for ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		m, err := c.Receive(rctx)
		cancel()
		if err != nil {
			window = ph.ackAll(done, c, rng, window)
			continue
		}
		id, err := workload.ParseID(m.Payload())
		if err != nil {
			continue
		}
		ph.mu.Lock()
		ph.delivered = append(ph.delivered, id)
		ph.mu.Unlock()
		if ph.p.ShouldAck(id) {
			window = append(window, m)
		}
		if len(window) >= ackWindow {
			window = ph.ackAll(done, c, rng, window)
		}
	}
}

// ackAll acknowledges the window in a random order.
func (ph *phaseRun) ackAll(done context.CancelFunc, c pulsar.Consumer, rng *rand.Rand, window []pulsar.Message) []pulsar.Message {
	rng.Shuffle(len(window), func(i, j int) { window[i], window[j] = window[j], window[i] })
	for _, m := range window {
		err := c.Ack(m)
		id, _ := workload.ParseID(m.Payload())
		ph.mu.Lock()
		if err != nil {
			ph.ackErrors++
		} else {
			ph.acked[id] = true
		}
		enough := len(ph.acked) >= ph.p.Want
		ph.mu.Unlock()
		if enough {
			done()
		}
	}
	return window[:0]
}

func (ph *phaseRun) result() ackResult {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	res := ackResult{Delivered: slices.Clone(ph.delivered)}
	for id := range ph.acked {
		res.Acked = append(res.Acked, id)
	}
	slices.Sort(res.Acked)
	return res
}

// drain consumes sub on ep until it is quiet with an empty backlog,
// acknowledging everything, and returns every delivered id.
func drain(ctx context.Context, ep *workload.Endpoint, topic, sub string, typ pulsar.SubscriptionType, consumers int) (workload.StandbyResult, error) {
	if typ == pulsar.Exclusive {
		consumers = 1
	}
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	var res workload.StandbyResult
	var err error
	// A subscribe can race the short-lived acknowledging consumer of a
	// daemon applying late acknowledgements; applications retry.
	for attempt := 0; attempt < 5; attempt++ {
		res, err = workload.ConsumeStandby(ctx, ep, workload.StandbyOptions{Topic: topic, Subscription: sub,
			Type: typ, Consumers: consumers, Idle: 300 * time.Millisecond})
		if err == nil || !isConsumerBusy(err) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err == nil && res.AckErrors > 0 {
		err = fmt.Errorf("draining %s/%s on %s: %d acknowledgements failed", topic, sub, ep.Name, res.AckErrors)
	}
	return res, err
}

func isConsumerBusy(err error) bool {
	var pe *pulsar.Error
	if errors.As(err, &pe) && pe.Result() == pulsar.ConsumerBusy {
		return true
	}
	return err != nil && strings.Contains(err.Error(), "ConsumerBusy")
}

// checkNoLoss logs a failover's accounting, fails on any lost or
// unexpected message and on more than maxDup duplicates; a failure shows
// the state of the clusters when they were last found synced.
func (e *env) checkNoLoss(what string, a workload.Accounting, maxDup int) {
	e.t.Helper()
	t := e.t
	defer func() {
		if !t.Failed() {
			return
		}
		e.mu.Lock()
		t.Logf("state when last found synced:\n%s", e.lastSync)
		e.mu.Unlock()
		ids := slices.Concat(firstN(a.DuplicateIDs, 20), firstN(a.LostIDs, 20))
		for _, c := range []string{east, west} {
			if e.bed.running(c) && len(ids) > 0 && e.topicOf() != "" {
				t.Logf("positions on %s of duplicates and lost: %v", c, locate(e.eps[c], e.topicOf(), ids))
			}
		}
	}()
	t.Logf("%s: produced %d, acked on primary %d, delivered on standby %d (%d unique), duplicates %d (bound %d), lost %d",
		what, a.Produced, a.AckedOnPrimary, a.ReceivedOnStandby, a.UniqueOnStandby, a.Duplicates, maxDup, a.Lost)
	if a.Lost != 0 {
		t.Errorf("%s: %d messages lost: %v", what, a.Lost, firstN(a.LostIDs, 40))
	}
	if a.Unexpected != 0 {
		t.Errorf("%s: %d unexpected messages delivered", what, a.Unexpected)
	}
	if a.Duplicates > maxDup {
		t.Errorf("%s: %d duplicates, more than %d: %v", what, a.Duplicates, maxDup, firstN(a.DuplicateIDs, 40))
	}
}

func firstN(xs []int, n int) []int {
	if len(xs) > n {
		return xs[:n]
	}
	return xs
}

// union merges id lists.
func union(lists ...[]int) []int {
	var out []int
	for _, l := range lists {
		out = append(out, l...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// locate finds where the messages ids are stored on ep: partition and
// position, by reading the topic from the start.
func locate(ep *workload.Endpoint, topic string, ids []int) map[int]string {
	want := setOf(ids)
	out := map[int]string{}
	for _, part := range partitionsOf(ep, topic) {
		r, err := ep.Client.CreateReader(pulsar.ReaderOptions{Topic: part, StartMessageID: pulsar.EarliestMessageID()})
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		for r.HasNext() && ctx.Err() == nil {
			m, err := r.Next(ctx)
			if err != nil {
				break
			}
			if id, err := workload.ParseID(m.Payload()); err == nil && want[id] {
				out[id] = fmt.Sprintf("%s@%d:%d", part[strings.LastIndex(part, "/")+1:], m.ID().LedgerID(), m.ID().EntryID())
			}
		}
		cancel()
		r.Close()
	}
	return out
}
