package workload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
)

// SubscriptionSpec is one subscription the scenario runs the workload on.
type SubscriptionSpec struct {
	Name string
	// ReplicateSubscriptionState turns PIP-33 on for it.
	ReplicateSubscriptionState bool
}

// Scenario is one failover experiment: every subscription gets the same
// messages and the same plan, on one topic.
type Scenario struct {
	Primary, Standby *Endpoint
	// StopPrimary makes the primary cluster fail (the emulator's
	// Sim.StopCluster, say). Required.
	StopPrimary func() error
	// Topic ("persistent://tenant/ns/name") must not exist yet; its
	// namespace must replicate between the two clusters.
	Topic      string
	Partitions int
	// Subscriptions are created at the earliest position on both
	// clusters before anything is produced.
	Subscriptions []SubscriptionSpec
	Batching      bool
	// BatchMaxMessages is ProduceOptions.BatchMaxMessages.
	BatchMaxMessages int
	Keys             int
	PayloadSize      int
	// ProduceRate is ProduceOptions.Rate.
	ProduceRate int
	Plan        PlanOptions
	Type        pulsar.SubscriptionType
	Consumers   int
	AckWindow   int
	// WaitSynced runs once every planned acknowledgement is settled on
	// the primary, before the primary is stopped: the moment a sync
	// mechanism gets to catch up. nil: no wait.
	WaitSynced func(ctx context.Context) error
	// StandbyIdle is StandbyOptions.Idle.
	StandbyIdle time.Duration
	Progress    io.Writer
}

// SubscriptionReport is one subscription's run and what it cost.
type SubscriptionReport struct {
	Name       string
	Primary    PrimaryResult
	Standby    StandbyResult
	Accounting Accounting
}

// Report is a scenario's outcome.
type Report struct {
	Plan          *Plan
	Produced      Produced
	Subscriptions []SubscriptionReport
	// PrimaryTime, SyncTime and StandbyTime are how long each phase took.
	PrimaryTime, SyncTime, StandbyTime time.Duration
}

// Subscription returns the named subscription's report.
func (r Report) Subscription(name string) (SubscriptionReport, bool) {
	for _, s := range r.Subscriptions {
		if s.Name == name {
			return s, true
		}
	}
	return SubscriptionReport{}, false
}

func (s Scenario) validate() error {
	var errs []error
	if s.Primary == nil || s.Standby == nil {
		errs = append(errs, errors.New("scenario: primary and standby endpoints are required"))
	}
	if s.StopPrimary == nil {
		errs = append(errs, errors.New("scenario: StopPrimary is required"))
	}
	if len(s.Subscriptions) == 0 {
		errs = append(errs, errors.New("scenario: at least one subscription is required"))
	}
	seen := map[string]bool{}
	for _, sub := range s.Subscriptions {
		if sub.Name == "" || seen[sub.Name] {
			errs = append(errs, fmt.Errorf("scenario: subscription name %q is empty or repeated", sub.Name))
		}
		seen[sub.Name] = true
	}
	if s.Keys < 0 || s.PayloadSize < 0 {
		errs = append(errs, fmt.Errorf("scenario: keys %d and payload size %d must not be negative", s.Keys, s.PayloadSize))
	}
	return errors.Join(errs...)
}

// Run sets up the topic and subscriptions, then runs the phases: consume
// on the primary while producing, wait for sync, stop the primary, drain
// the standby, account.
func (s Scenario) Run(ctx context.Context) (Report, error) {
	if err := s.validate(); err != nil {
		return Report{}, err
	}
	plan, err := NewPlan(s.Plan)
	if err != nil {
		return Report{}, fmt.Errorf("scenario: %w", err)
	}
	rep := Report{Plan: plan}
	if err := s.setup(ctx); err != nil {
		return rep, err
	}
	start := time.Now()
	runs, err := s.startPrimaries(plan)
	if err != nil {
		return rep, err
	}
	defer closeAll(runs)
	primaries, err := s.produceAndConsume(ctx, plan, runs, &rep)
	if err != nil {
		return rep, err
	}
	rep.PrimaryTime = time.Since(start)
	start = time.Now()
	if s.WaitSynced != nil {
		s.say("sync: waiting before the failover")
		if err := s.WaitSynced(ctx); err != nil {
			return rep, fmt.Errorf("scenario: waiting for sync: %w", err)
		}
	}
	rep.SyncTime = time.Since(start)
	s.say("sync: done after %v", rep.SyncTime.Round(time.Millisecond))
	closeAll(runs)
	s.say("failover: stopping %s", s.Primary.Name)
	if err := s.StopPrimary(); err != nil {
		return rep, fmt.Errorf("scenario: stop primary %s: %w", s.Primary.Name, err)
	}
	start = time.Now()
	standbys, err := s.drainStandby(ctx)
	rep.StandbyTime = time.Since(start)
	for i, sub := range s.Subscriptions {
		rep.Subscriptions = append(rep.Subscriptions, SubscriptionReport{Name: sub.Name,
			Primary: primaries[i], Standby: standbys[i],
			Accounting: Account(rep.Produced.IDs, primaries[i].Acked, standbys[i].Received)})
	}
	return rep, err
}

func (s Scenario) say(format string, args ...any) {
	if s.Progress != nil {
		fmt.Fprintf(s.Progress, format+"\n", args...)
	}
}

func (s Scenario) setup(ctx context.Context) error {
	if err := CreateTopic(ctx, s.Topic, s.Partitions, s.Primary, s.Standby); err != nil {
		return fmt.Errorf("scenario: %w", err)
	}
	for _, sub := range s.Subscriptions {
		if err := CreateSubscription(ctx, s.Topic, sub.Name, s.Primary, s.Standby); err != nil {
			return fmt.Errorf("scenario: %w", err)
		}
	}
	s.say("setup: topic %s (%d partitions), %d subscriptions on %s and %s",
		s.Topic, s.Partitions, len(s.Subscriptions), s.Primary.Name, s.Standby.Name)
	return nil
}

func (s Scenario) startPrimaries(plan *Plan) ([]*PrimaryRun, error) {
	var runs []*PrimaryRun
	for _, sub := range s.Subscriptions {
		r, err := StartPrimary(s.Primary.Client, PrimaryOptions{
			Topic: s.Topic, Subscription: sub.Name, Type: s.Type, Consumers: s.Consumers,
			ReplicateSubscriptionState: sub.ReplicateSubscriptionState,
			Plan:                       plan, AckWindow: s.AckWindow, Progress: s.Progress,
		})
		if err != nil {
			closeAll(runs)
			return nil, fmt.Errorf("scenario: %w", err)
		}
		runs = append(runs, r)
	}
	return runs, nil
}

func closeAll(runs []*PrimaryRun) {
	for _, r := range runs {
		r.Close()
	}
}

// produceAndConsume produces while the consumers work through the plan.
func (s Scenario) produceAndConsume(ctx context.Context, plan *Plan, runs []*PrimaryRun, rep *Report) ([]PrimaryResult, error) {
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	results := make([]PrimaryResult, len(runs))
	errs := make([]error, len(runs))
	var wg sync.WaitGroup
	for i, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = r.Consume(cctx)
		}()
	}
	produced, err := Produce(ctx, s.Primary.Client, ProduceOptions{Topic: s.Topic, Messages: plan.Messages,
		Batching: s.Batching, BatchMaxMessages: s.BatchMaxMessages, Keys: s.Keys, PayloadSize: s.PayloadSize, Rate: s.ProduceRate, Progress: s.Progress})
	rep.Produced = produced
	if err == nil && produced.Failed > 0 {
		err = fmt.Errorf("produce: %d of %d sends failed, first: %w", produced.Failed, plan.Messages, produced.FirstError)
	}
	if err != nil {
		cancel(err)
	}
	wg.Wait()
	if err != nil {
		return results, fmt.Errorf("scenario: %w", err)
	}
	return results, errors.Join(errs...)
}

// drainStandby consumes every subscription on the standby at once.
func (s Scenario) drainStandby(ctx context.Context) ([]StandbyResult, error) {
	results := make([]StandbyResult, len(s.Subscriptions))
	errs := make([]error, len(s.Subscriptions))
	var wg sync.WaitGroup
	for i, sub := range s.Subscriptions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = ConsumeStandby(ctx, s.Standby, StandbyOptions{
				Topic: s.Topic, Subscription: sub.Name, Type: s.Type, Consumers: s.Consumers,
				Idle: s.StandbyIdle, Progress: s.Progress})
		}()
	}
	wg.Wait()
	return results, errors.Join(errs...)
}
