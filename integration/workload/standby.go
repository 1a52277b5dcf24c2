package workload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
)

// StandbyOptions describe the consumers that take over a subscription on
// the standby after the failover.
type StandbyOptions struct {
	Topic        string
	Subscription string
	Type         pulsar.SubscriptionType
	Consumers    int
	// Idle: the run ends once nothing arrived for this long and the
	// subscription's backlog on the standby is 0 (default 1s).
	Idle time.Duration
	// Poll is how often the end condition is checked (default 100ms).
	Poll     time.Duration
	Progress io.Writer
}

// StandbyResult is what the standby delivered.
type StandbyResult struct {
	Subscription string
	// Received lists every delivered id in arrival order, repeats
	// included.
	Received []int
	// AckErrors counts acknowledgements the standby did not confirm.
	AckErrors int
	// Foreign counts deliveries whose payload was not the workload's.
	Foreign int
}

func (o StandbyOptions) validate() error {
	var errs []error
	if o.Topic == "" || o.Subscription == "" {
		errs = append(errs, fmt.Errorf("standby: topic %q and subscription %q are required", o.Topic, o.Subscription))
	}
	if o.Consumers < 1 {
		errs = append(errs, fmt.Errorf("standby: consumers %d, expected at least 1", o.Consumers))
	}
	if o.Type == pulsar.Exclusive && o.Consumers > 1 {
		errs = append(errs, fmt.Errorf("standby: an exclusive subscription takes 1 consumer, not %d", o.Consumers))
	}
	return errors.Join(errs...)
}

// ConsumeStandby attaches consumers to the subscription on the standby,
// acknowledges everything delivered and returns once the standby has gone
// quiet with an empty backlog. Ending because ctx ended is an error (the
// result so far is returned with it).
func ConsumeStandby(ctx context.Context, e *Endpoint, o StandbyOptions) (StandbyResult, error) {
	if err := o.validate(); err != nil {
		return StandbyResult{}, err
	}
	if o.Idle <= 0 {
		o.Idle = time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 100 * time.Millisecond
	}
	s := &standbyRun{o: o, res: StandbyResult{Subscription: o.Subscription},
		progress: newProgress(o.Progress, "standby "+o.Subscription, 0)}
	s.lastDelivery.Store(time.Now().UnixNano())
	consumers, err := s.subscribe(e.Client)
	if err != nil {
		return StandbyResult{}, err
	}
	defer func() {
		for _, c := range consumers {
			c.Close()
		}
	}()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	for _, c := range consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.consumeLoop(runCtx, c)
		}()
	}
	quietErr := s.waitQuiet(runCtx, e)
	stop()
	wg.Wait()
	return s.result(), quietErr
}

type standbyRun struct {
	o            StandbyOptions
	lastDelivery atomic.Int64 // unix ns
	mu           sync.Mutex
	res          StandbyResult
	progress     *progress
}

func (s *standbyRun) subscribe(client pulsar.Client) ([]pulsar.Consumer, error) {
	var out []pulsar.Consumer
	for i := 0; i < s.o.Consumers; i++ {
		c, err := client.Subscribe(pulsar.ConsumerOptions{
			Topic:                       s.o.Topic,
			SubscriptionName:            s.o.Subscription,
			Name:                        fmt.Sprintf("%s-standby-%d", s.o.Subscription, i),
			Type:                        s.o.Type,
			SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest,
			AckWithResponse:             true,
		})
		if err != nil {
			for _, c := range out {
				c.Close()
			}
			return nil, fmt.Errorf("standby: consumer %d on %s/%s: %w", i, s.o.Topic, s.o.Subscription, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func (s *standbyRun) consumeLoop(ctx context.Context, c pulsar.Consumer) {
	for {
		m, err := c.Receive(ctx)
		if err != nil {
			return // only ctx ends a Receive without a message
		}
		s.lastDelivery.Store(time.Now().UnixNano())
		ackErr := c.Ack(m)
		s.record(m, ackErr)
	}
}

func (s *standbyRun) record(m pulsar.Message, ackErr error) {
	id, err := ParseID(m.Payload())
	s.mu.Lock()
	defer s.mu.Unlock()
	if ackErr != nil {
		s.res.AckErrors++
	}
	if err != nil {
		s.res.Foreign++
		return
	}
	s.res.Received = append(s.res.Received, id)
	s.progress.update(len(s.res.Received), "received")
}

// waitQuiet returns nil once nothing arrived for Idle and the backlog is 0.
func (s *standbyRun) waitQuiet(ctx context.Context, e *Endpoint) error {
	tick := time.NewTicker(s.o.Poll)
	defer tick.Stop()
	var lastErr error
	var backlog int64 = -1
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("standby %s: not quiet (backlog %d, last check: %v): %w",
				s.o.Subscription, backlog, lastErr, context.Cause(ctx))
		case <-tick.C:
		}
		if time.Since(time.Unix(0, s.lastDelivery.Load())) < s.o.Idle {
			continue
		}
		backlog, lastErr = Backlog(ctx, e, s.o.Topic, s.o.Subscription)
		if lastErr == nil && backlog == 0 {
			return nil
		}
	}
}

func (s *standbyRun) result() StandbyResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	res := s.res
	res.Received = append([]int(nil), res.Received...)
	return res
}
