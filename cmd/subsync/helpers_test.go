package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/subsync/subsync/replicator"
)

// fakeEngine answers like a daemon with canned reports and records the
// requests it got.
type fakeEngine struct {
	mu          sync.Mutex
	healthy     error
	ready       error
	status      replicator.StatusReport
	mappings    replicator.MappingsReport
	mappingsErr error
	failover    replicator.FailoverReport

	statusFilters []string
	mappingTopics []string
	failoverOpts  []replicator.FailoverOptions
}

func (f *fakeEngine) Healthy() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.healthy
}

func (f *fakeEngine) Ready() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ready
}

// requests returns what the engine was asked, safe against the server's
// goroutines.
func (f *fakeEngine) requests() (filters, topics []string, opts []replicator.FailoverOptions) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.statusFilters), slices.Clone(f.mappingTopics), slices.Clone(f.failoverOpts)
}

func (f *fakeEngine) setProbes(healthy, ready error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.healthy, f.ready = healthy, ready
}

func (f *fakeEngine) Status(filter string) replicator.StatusReport {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statusFilters = append(f.statusFilters, filter)
	return f.status
}

func (f *fakeEngine) Mappings(topic string) (replicator.MappingsReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mappingTopics = append(f.mappingTopics, topic)
	return f.mappings, f.mappingsErr
}

func (f *fakeEngine) FailoverCheck(_ context.Context, o replicator.FailoverOptions) replicator.FailoverReport {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failoverOpts = append(f.failoverOpts, o)
	return f.failover
}

// fakeDaemon serves newHandler over a fake engine.
type fakeDaemon struct {
	engine   *fakeEngine
	stopping *atomic.Bool
	registry *prometheus.Registry
	srv      *httptest.Server
}

func startFakeDaemon(t *testing.T, e *fakeEngine) *fakeDaemon {
	t.Helper()
	d := &fakeDaemon{engine: e, stopping: &atomic.Bool{}, registry: prometheus.NewRegistry()}
	d.srv = httptest.NewServer(newHandler(e, d.registry, d.stopping, slog.New(slog.DiscardHandler)))
	t.Cleanup(d.srv.Close)
	return d
}

// result is one CLI invocation's outcome.
type result struct {
	code           int
	stdout, stderr string
}

// cli runs the command line in-process with the given environment.
func cli(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code := execute(ctx, args, env, &out, &errOut)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

var errFake = errors.New("fake failure")

var testTime = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func sampleStatus() replicator.StatusReport {
	return replicator.StatusReport{
		Cluster:     "east",
		GeneratedAt: testTime,
		Topics: []replicator.TopicStatus{{
			Topic:          "persistent://shop/eu/orders-partition-0",
			LastConfirmed:  "1000005:42",
			TailPosition:   "1000005:40",
			TailLagEntries: 2,
			IndexRuns:      3,
			Remotes: []replicator.RemoteTopicStatus{{
				Remote: "west", LastSnapshot: testTime.Add(-1500 * time.Millisecond), ReplicationLagEntries: 7, RoundTripSeconds: 0.25,
			}},
			Subscriptions: []replicator.SubscriptionStatus{
				{
					Subscription: "billing", MarkDeletePosition: "1000005:10", DeletedRanges: 4,
					Remotes: []replicator.SubscriptionRemoteStatus{{
						Remote: "west", RemoteAckedNotAppliedHere: 11, LocalAckedNotAckedThere: 13,
						LastUpdate: testTime.Add(-2 * time.Second), Following: true, LagSeconds: 2.5,
					}},
				},
				{
					Subscription: "audit", MarkDeletePosition: "1000005:3",
					Remotes: []replicator.SubscriptionRemoteStatus{{
						Remote: "west", Deferred: true, DeferReason: "exclusive consumer attached",
					}},
				},
			},
		}},
	}
}

func sampleFailover(ready bool) replicator.FailoverReport {
	read, updated := testTime.Add(-time.Second), testTime.Add(-3*time.Second)
	rep := replicator.FailoverReport{
		Cluster: "east", GeneratedAt: testTime, Ready: ready,
		Subscriptions: []replicator.FailoverSubscription{
			{Topic: "persistent://shop/eu/orders", Subscription: "billing", Standby: "west", Ready: true, ReadAt: read, StandbyUpdateAt: updated},
			{Topic: "persistent://shop/eu/orders", Subscription: "audit", Standby: "west", NotAckedOnStandby: 17, ReplicationLagEntries: 3, Ready: ready, Reason: "17 acked here, not on west",
				ReadAt: read, StandbyUpdateAt: updated},
		},
		Namespaces:            []replicator.FailoverNamespace{{Namespace: "shop/eu", Remotes: []string{"west"}}},
		ExportIntervalSeconds: 1, FullStateIntervalSeconds: 30,
	}
	if ready {
		rep.Subscriptions[1] = replicator.FailoverSubscription{Topic: "persistent://shop/eu/orders", Subscription: "audit", Standby: "west", Ready: true,
			ReadAt: read, StandbyUpdateAt: updated}
	}
	return rep
}

func statusFilters(e *fakeEngine) []string { f, _, _ := e.requests(); return f }
func mappingTopics(e *fakeEngine) []string { _, t, _ := e.requests(); return t }
func failoverOpts(e *fakeEngine) []replicator.FailoverOptions {
	_, _, o := e.requests()
	return o
}
