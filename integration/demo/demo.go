package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/subsync/subsync/integration/workload"
)

// Names of the demo's clusters, namespace, topic and subscriptions.
const (
	primaryCluster = "east"
	standbyCluster = "west"
	namespace      = "demo/failover"
	topic          = "persistent://" + namespace + "/orders"
	pip33Sub       = "pip33-sub"
	subsyncSub     = "subsync-sub"
)

// daemonGrace is how long a cancelled daemon may take to stop.
const daemonGrace = 20 * time.Second

// Run starts the clusters and daemons, runs the workload on both
// subscriptions, fails east over to west and reports. Everything it
// started is stopped before it returns. With a non-nil error the Result
// holds what was measured so far.
func Run(ctx context.Context, o Options) (Result, error) {
	o = o.withDefaults()
	subType, err := o.validate()
	if err != nil {
		return Result{}, fmt.Errorf("demo options: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	start := time.Now()
	e := &env{o: o, progress: workload.NewSyncWriter(o.Progress), logger: o.Logger}
	if e.logger == nil {
		e.logger = slog.New(slog.DiscardHandler)
	}
	res := Result{Brokers: "emulator", Seed: o.Seed, Consumers: o.Consumers, SubscriptionType: workload.SubscriptionTypeName(subType),
		Partitions: o.Partitions, Batching: o.Batching, FailoverAt: o.FailoverAt, HoldFraction: o.HoldFraction}
	if o.Pulsar != "" {
		res.Brokers = o.Pulsar
	}
	runErr := e.start(ctx)
	if runErr == nil {
		runErr = e.run(ctx, subType, &res)
	}
	closing := time.Now()
	closeErr := e.close()
	res.Phases.Shutdown = time.Since(closing).Seconds()
	res.ElapsedSeconds = time.Since(start).Seconds()
	return res, errors.Join(runErr, closeErr)
}

// env is everything a run starts.
type env struct {
	o        Options
	progress io.Writer
	logger   *slog.Logger

	clusters         clusters
	primary, standby *workload.Endpoint
	daemons          map[string]*daemon
	workDir          string
	removeWorkDir    bool

	mu    sync.Mutex
	waits map[string]syncWait
}

// syncWait is how one mechanism's wait before the failover ended.
type syncWait struct {
	synced bool
	took   time.Duration
}

func (e *env) say(format string, args ...any) {
	fmt.Fprintf(e.progress, format+"\n", args...)
}

func (e *env) start(ctx context.Context) error {
	var err error
	if e.o.Pulsar != "" {
		e.say("demo: starting real Apache Pulsar %s clusters %s (primary) and %s (standby); the first run has Maven fetch the broker",
			e.o.Pulsar, primaryCluster, standbyCluster)
		e.clusters, err = startReal(ctx, e.o.Pulsar)
	} else {
		e.say("demo: starting emulated clusters %s (primary) and %s (standby)", primaryCluster, standbyCluster)
		e.clusters, err = startEmulated(e.o)
	}
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if e.primary, err = e.connect(primaryCluster); err != nil {
		return err
	}
	if e.standby, err = e.connect(standbyCluster); err != nil {
		return err
	}
	if err := workload.SetupReplicatedNamespace(ctx, namespace, e.primary, e.standby); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return e.startDaemons()
}

func (e *env) connect(cluster string) (*workload.Endpoint, error) {
	ep, err := workload.Connect(cluster, e.clusters.serviceURL(cluster), e.clusters.webURL(cluster), e.o.Logger)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return ep, nil
}

func (e *env) startDaemons() error {
	e.workDir = e.o.WorkDir
	if e.workDir == "" {
		dir, err := os.MkdirTemp("", "subsync-demo-")
		if err != nil {
			return fmt.Errorf("demo: work directory: %w", err)
		}
		e.workDir, e.removeWorkDir = dir, true
	}
	keys, err := newKeyring()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	e.daemons = map[string]*daemon{}
	for _, cluster := range []string{primaryCluster, standbyCluster} {
		ep, err := e.connect(cluster)
		if err != nil {
			return err
		}
		dm, err := startDaemon(ep, daemonConfig(cluster, namespace, keys, e.o.ExportInterval), e.workDir, e.logger)
		if err != nil {
			ep.Close()
			return fmt.Errorf("demo: %w", err)
		}
		e.daemons[cluster] = dm
	}
	e.say("demo: subsync daemons running beside %s and %s (stores in %s)", primaryCluster, standbyCluster, e.workDir)
	return nil
}

func (e *env) run(ctx context.Context, subType pulsar.SubscriptionType, res *Result) error {
	sc := workload.Scenario{
		Primary: e.primary, Standby: e.standby,
		StopPrimary: e.failPrimary,
		Topic:       topic, Partitions: e.o.Partitions,
		Subscriptions: []workload.SubscriptionSpec{
			{Name: pip33Sub, ReplicateSubscriptionState: true},
			{Name: subsyncSub},
		},
		Batching: e.o.Batching, BatchMaxMessages: e.o.BatchMaxMessages, Keys: e.o.Keys, ProduceRate: e.o.ProduceRate,
		Plan: workload.PlanOptions{Seed: e.o.Seed, Messages: e.o.Messages, FailoverAt: e.o.FailoverAt,
			HoldFraction: e.o.HoldFraction},
		Type: subType, Consumers: e.o.Consumers, AckWindow: e.o.AckWindow,
		WaitSynced:  e.waitSynced,
		StandbyIdle: e.o.StandbyIdle,
		Progress:    e.progress,
	}
	rep, err := sc.Run(ctx)
	res.Messages = len(rep.Produced.IDs)
	if rep.Plan != nil {
		res.Held = len(rep.Plan.Held)
	}
	res.Phases.Primary, res.Phases.Sync = rep.PrimaryTime.Seconds(), rep.SyncTime.Seconds()
	res.Phases.Standby = rep.StandbyTime.Seconds()
	res.PIP33 = e.outcome(rep, pip33Sub)
	res.Subsync = e.outcome(rep, subsyncSub)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// failPrimary stops east and, with it, the daemon beside it: a site
// failure leaves it no chance to flush.
func (e *env) failPrimary() error {
	err := e.clusters.fail(primaryCluster)
	if dm, ok := e.daemons[primaryCluster]; ok {
		dm.cancel()
	}
	return err
}

func (e *env) outcome(rep workload.Report, sub string) Outcome {
	out := Outcome{Subscription: sub}
	if s, ok := rep.Subscription(sub); ok {
		a := s.Accounting
		out.AckedOnPrimary, out.ReceivedOnStandby, out.UniqueOnStandby = a.AckedOnPrimary, a.ReceivedOnStandby, a.UniqueOnStandby
		out.Duplicates, out.Lost = a.Duplicates, a.Lost
		out.AckedInPartialBatches, out.AckErrors = s.Primary.AckedInPartialBatches, s.Primary.AckErrors
	}
	e.mu.Lock()
	w := e.waits[sub]
	e.mu.Unlock()
	out.Synced, out.SyncSeconds = w.synced, w.took.Seconds()
	return out
}

// waitSynced lets both mechanisms catch up, each bounded by SyncTimeout;
// only the end of ctx is an error.
func (e *env) waitSynced(ctx context.Context) error {
	var wg sync.WaitGroup
	waits := map[string]func(context.Context) syncWait{pip33Sub: e.waitPIP33, subsyncSub: e.waitSubsync}
	results := map[string]syncWait{}
	var mu sync.Mutex
	for sub, wait := range waits {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := wait(ctx)
			mu.Lock()
			results[sub] = w
			mu.Unlock()
			if w.synced {
				e.say("sync %s: caught up after %v", sub, w.took.Round(time.Millisecond))
			} else {
				e.say("sync %s: not caught up after %v, failing over anyway", sub, w.took.Round(time.Millisecond))
			}
		}()
	}
	wg.Wait()
	e.mu.Lock()
	e.waits = results
	e.mu.Unlock()
	return ctx.Err()
}

// waitPIP33 waits for the standby's copy of the PIP-33 subscription to
// stop moving: snapshots complete within a couple of periods.
func (e *env) waitPIP33(ctx context.Context) syncWait {
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, e.o.SyncTimeout)
	defer cancel()
	f := e.o.SnapshotFrequency
	err := workload.WaitCursorSettled(wctx, e.standby, topic, pip33Sub, 3*f, 2*f)
	return syncWait{synced: err == nil, took: time.Since(start)}
}

// waitSubsync waits until both daemons report the subscription in sync,
// continuously for several export intervals, counting only reports made
// after at least one export that follows the last acknowledgement.
func (e *env) waitSubsync(ctx context.Context) syncWait {
	const poll = 50 * time.Millisecond
	start := time.Now()
	every := e.o.ExportInterval
	earliest := start.Add(every)
	var since time.Time
	why := ""
	for {
		ok, reason := syncedOnce(e.daemons[primaryCluster], e.daemons[standbyCluster], topic, e.o.Partitions, subsyncSub)
		now := time.Now()
		switch {
		case !ok:
			since, why = time.Time{}, reason
		case since.IsZero():
			since = now
			if since.Before(earliest) {
				since = earliest
			}
		case now.Sub(since) >= 3*every:
			return syncWait{synced: true, took: now.Sub(start)}
		}
		if now.Sub(start) >= e.o.SyncTimeout || ctx.Err() != nil {
			e.say("sync %s: last status: %s", subsyncSub, why)
			return syncWait{took: now.Sub(start)}
		}
		time.Sleep(poll)
	}
}

// close stops everything start started, daemons first.
func (e *env) close() error {
	// Daemons and clients stop concurrently: the stopped primary makes
	// every close that still talks to it wait for the client's timeouts,
	// and nothing of the report depends on those closes finishing.
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, cluster := range []string{standbyCluster, primaryCluster} {
		if dm, ok := e.daemons[cluster]; ok {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := dm.stop(daemonGrace)
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	for _, ep := range []*workload.Endpoint{e.primary, e.standby} {
		if ep != nil {
			closeBounded(ep.Close, clientCloseGrace)
		}
	}
	if e.clusters != nil {
		e.clusters.close()
	}
	if e.removeWorkDir {
		errs = append(errs, os.RemoveAll(e.workDir))
	}
	return errors.Join(errs...)
}

// clientCloseGrace bounds the wait for the workload's clients to close.
const clientCloseGrace = 2 * time.Second
