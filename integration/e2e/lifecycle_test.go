package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"

	"github.com/subsync/subsync/integration/workload"
)

// The owner semantics of the design brief on a cluster's daily life: east's
// consumers own the subscription, west mirrors it. What operators and
// brokers do on either side must never acknowledge on east what east's
// consumers did not, and what is deleted stays deleted.

// heldState sets up the common start: 50 messages on east, east's
// consumers acknowledge ids 0..39, west mirrors that (backlog 10 on both).
func (e *env) heldState(ctx context.Context, t *testing.T, name string) string {
	t.Helper()
	topic := e.topicName(name)
	e.keepRetention(ctx, east)
	e.keepRetention(ctx, west)
	e.createTopic(ctx, topic, 0, []string{synced}, east, west)
	e.startDaemons()
	produced := produceIDs(ctx, t, e.eps[east], topic, ids(0, 50))
	ack := func(id int) bool { return id < 40 }
	e.ackAndSync(ctx, t, east, west, 0, ackPhase{Topic: topic, Subscription: synced, Type: pulsar.Shared,
		Consumers: 2, ShouldAck: ack, Want: countIf(produced, ack), Seed: 91})
	e.mustEventually(ctx, "backlog 10 on both clusters", func() error {
		return backlogs(ctx, e, topic, synced, map[string]int64{east: 10, west: 10})
	})
	return topic
}

// backlogs checks each cluster's backlog of sub.
func backlogs(ctx context.Context, e *env, topic, sub string, want map[string]int64) error {
	for cluster, n := range want {
		got, err := workload.Backlog(ctx, e.eps[cluster], topic, sub)
		if err != nil {
			return fmt.Errorf("%s: %w", cluster, err)
		}
		if got != n {
			return fmt.Errorf("backlog %d on %s, want %d", got, cluster, n)
		}
	}
	return nil
}

// holdsFor checks that f keeps succeeding for d (several export intervals).
func holdsFor(ctx context.Context, d time.Duration, f func() error) error {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if err := f(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

func subTopic(t *testing.T, topic string) utils.TopicName {
	t.Helper()
	tn, err := utils.GetTopicName(topic)
	if err != nil {
		t.Fatal(err)
	}
	return *tn
}

// Finding 2: a rewind on the owner is mirrored, and not undone by the acks
// subsync itself applied on the mirror.
func TestRewindOnOwnerIsMirrored(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	topic := e.heldState(ctx, t, "rewind")
	first, err := firstMessageID(e.eps[east], topic)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.eps[east].Admin.Subscriptions().ResetCursorToMessageIDWithContext(ctx, subTopic(t, topic), synced, first); err != nil {
		t.Fatal(err)
	}
	e.mustEventually(ctx, "the rewind mirrored on west", func() error {
		return backlogs(ctx, e, topic, synced, map[string]int64{east: 50, west: 50})
	})
	if err := holdsFor(ctx, 4*time.Second, func() error {
		return backlogs(ctx, e, topic, synced, map[string]int64{east: 50})
	}); err != nil {
		t.Fatalf("east's rewind was undone: %v", err)
	}
}

// Finding 3: clear-backlog, skip or TTL expiry on the mirror never drain
// the owner, and the mirror returns to the owner's state (TTL expires
// again at its next check: the mirror undoes it each time).
func TestLocalChangesOnMirrorStayLocal(t *testing.T) {
	t.Parallel()
	changes := map[string]func(ctx context.Context, t *testing.T, e *env, topic string) error{
		"clear-backlog": func(ctx context.Context, t *testing.T, e *env, topic string) error {
			return e.eps[west].Admin.Subscriptions().ClearBacklogWithContext(ctx, subTopic(t, topic), synced)
		},
		"skip": func(ctx context.Context, t *testing.T, e *env, topic string) error {
			return e.eps[west].Admin.Subscriptions().SkipMessagesWithContext(ctx, subTopic(t, topic), synced, 5)
		},
		"ttl": func(ctx context.Context, _ *testing.T, e *env, topic string) error {
			return e.eps[west].Admin.Namespaces().SetNamespaceMessageTTLWithContext(ctx, e.ns, 1)
		},
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{})
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			topic := e.heldState(ctx, t, "local-"+name)
			if err := change(ctx, t, e, topic); err != nil {
				t.Fatal(err)
			}
			if err := holdsFor(ctx, 4*time.Second, func() error {
				return backlogs(ctx, e, topic, synced, map[string]int64{east: 10})
			}); err != nil {
				t.Fatalf("a %s on west reached east: %v", name, err)
			}
			// West's cursor was reset back to east's state: the change
			// happened there, and subsync undid it.
			e.mustEventually(ctx, "west's cursor reset back", func() error {
				n, err := metricValue(e.daemon(west).metrics, "pulsar_subsync_mirror_resets_total", "topic", topic, "subscription", synced)
				if err == nil && n < 1 {
					err = fmt.Errorf("mirror_resets_total %v on west", n)
				}
				return err
			})
			if name == "ttl" {
				return // expired again at every check
			}
			e.mustEventually(ctx, "west back to east's state", func() error {
				return backlogs(ctx, e, topic, synced, map[string]int64{west: 10})
			})
		})
	}
}

// Finding 4: a subscription deleted on its owner is deleted on the mirror,
// and neither comes back.
func TestDeletionOnOwnerPropagatesAndSticks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	topic := e.heldState(ctx, t, "delete-on-owner")
	if err := e.eps[east].Admin.Subscriptions().DeleteWithContext(ctx, subTopic(t, topic), synced); err != nil {
		t.Fatal(err)
	}
	e.mustEventually(ctx, "the deletion mirrored on west", func() error {
		return absent(t, e, topic, synced, west)
	})
	if err := holdsFor(ctx, 4*time.Second, func() error { return absent(t, e, topic, synced, east, west) }); err != nil {
		t.Fatalf("a deleted subscription came back: %v", err)
	}
}

// Findings 1 and 4: a subscription deleted on the mirror stays deleted and
// the owner is not touched, nor when the mirror's topic is deleted and
// recreated empty.
func TestDeletionOnMirrorStaysLocal(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	topic := e.heldState(ctx, t, "delete-on-mirror")
	// West's subscription stays gone and east keeps its 10 held messages.
	localOnly := func() error {
		if err := absent(t, e, topic, synced, west); err != nil {
			return err
		}
		return backlogs(ctx, e, topic, synced, map[string]int64{east: 10})
	}
	if err := e.eps[west].Admin.Subscriptions().DeleteWithContext(ctx, subTopic(t, topic), synced); err != nil {
		t.Fatal(err)
	}
	if err := holdsFor(ctx, 4*time.Second, localOnly); err != nil {
		t.Fatalf("after deleting west's subscription: %v", err)
	}
	// The topic itself, deleted and recreated empty on west.
	if err := e.eps[west].Admin.Topics().Delete(subTopic(t, topic), true, true); err != nil {
		t.Fatal(err)
	}
	// Created again empty: by the operator, unless a client's reconnection
	// (with the broker's allowAutoTopicCreation, the default) or east's
	// replicator did it first.
	if err := e.eps[west].Admin.Topics().Create(subTopic(t, topic), 0); err != nil && !strings.Contains(err.Error(), "409") {
		t.Fatal(err)
	}
	if err := holdsFor(ctx, 4*time.Second, localOnly); err != nil {
		t.Fatalf("after recreating west's topic: %v", err)
	}
}

// absent checks that sub does not exist on the clusters.
func absent(t *testing.T, e *env, topic, sub string, clusters ...string) error {
	for _, c := range clusters {
		st, err := e.eps[c].Admin.Topics().GetStats(subTopic(t, topic))
		if err != nil {
			return fmt.Errorf("%s: stats: %w", c, err)
		}
		if _, ok := st.Subscriptions[sub]; ok {
			return fmt.Errorf("subscription %q exists on %s", sub, c)
		}
	}
	return nil
}

// firstMessageID is the position of the topic's first entry on ep.
func firstMessageID(ep *workload.Endpoint, topic string) (utils.MessageID, error) {
	st, err := internalStatsOf(ep, topic)
	if err != nil {
		return utils.MessageID{}, err
	}
	if len(st.Ledgers) == 0 {
		return utils.MessageID{}, fmt.Errorf("%s on %s has no ledgers", topic, ep.Name)
	}
	return utils.MessageID{LedgerID: st.Ledgers[0].LedgerID, EntryID: 0, PartitionIndex: -1, BatchIndex: -1}, nil
}
