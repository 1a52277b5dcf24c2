package contract

import (
	"fmt"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
)

// cursorPosition returns the subscription's mark-delete position and
// individually deleted messages on c.
func cursorPosition(t *testing.T, c *cluster, topic, sub string) (pos, string, error) {
	cs, err := cursorStats(t, c, topic, sub)
	if err != nil {
		return pos{}, "", err
	}
	mdp, err := parsePos(cs.MarkDeletePosition)
	if err != nil {
		return pos{}, "", err
	}
	return mdp, cs.IndividuallyDeletedMessages, nil
}

// TestReplicatedSubscriptionSyncsOnlyTheMarkDeletePosition (PIP-33): with
// replicateSubscriptionState on A, B's subscription is created and its
// mark-delete position follows A's through snapshots, but individual acks are
// not synced, so after failover B delivers again what A acked out of order.
// Snapshot markers are never delivered to consumers or readers on either side.
func TestReplicatedSubscriptionSyncsOnlyTheMarkDeletePosition(t *testing.T) {
	t.Parallel()
	a, b := env.main.a, env.main.b
	topic := topicIn(env.main.namespace(t, true), "pip33")
	const sub = "pip33"
	// Snapshot markers roll ledgers over too; the final reads need them all.
	holdEntries(t, a, topic)
	holdEntries(t, b, topic)
	opts := pulsar.ConsumerOptions{Topic: topic, SubscriptionName: sub, Type: pulsar.Shared,
		ReplicateSubscriptionState: true, AckWithResponse: true}
	onA := subscribe(t, a, opts)
	prod := newProducer(t, a, topic)
	bReader := newReader(t, b, pulsar.ReaderOptions{Topic: topic, StartMessageID: pulsar.EarliestMessageID()})

	// Phase 1: m-0..m-4 acked in full on A; B's subscription follows.
	first := numbered("m", 10)[:5]
	sendPayloads(t, prod, first...)
	ackIndexes(t, onA, receiveN(t, onA, 5), 0, 1, 2, 3, 4)
	bCopies := nextN(t, bReader, 5)
	b4 := posOf(bCopies[4].ID())
	eventually(t, 3*waitTimeout/2, func() error {
		mdp, idm, err := cursorPosition(t, b, topic, sub)
		if err != nil {
			return fmt.Errorf("%s has no synced subscription yet: %w", b.name, err)
		}
		if mdp.less(b4) || idm != "[]" {
			return fmt.Errorf("%s: %s at %s %s, want at or past %s (copy of m-4) and []", b.name, sub, mdp, idm, b4)
		}
		return nil
	})

	// Phase 2: m-5..m-9, only m-6 and m-8 acked on A.
	second := numbered("m", 10)[5:]
	aIDs := sendPayloads(t, prod, second...)
	ackIndexes(t, onA, inPayloadOrder(t, receiveN(t, onA, 5), second), 1, 3)
	bCopies = append(bCopies, nextN(t, bReader, 5)...)
	b5 := posOf(bCopies[5].ID())
	eventually(t, waitTimeout, func() error {
		_, idm, err := cursorPosition(t, a, topic, sub)
		if err != nil {
			return err
		}
		for _, i := range []int{1, 3} {
			// Snapshot markers between the messages are acked by the
			// dispatcher, so m-6 or m-8 may sit inside a longer range.
			if in, err := idmContains(idm, posOf(aIDs[i])); err != nil || !in {
				return fmt.Errorf("%s: individuallyDeletedMessages %s lacks %s (m-%d)", a.name, idm, posOf(aIDs[i]), 5+i)
			}
		}
		return nil
	})
	// Two snapshot periods: snapshots taken after m-9 must not move B past
	// m-5, and B never learns A's individual acks.
	consistently(t, 2500*time.Millisecond, func() error {
		mdp, idm, err := cursorPosition(t, b, topic, sub)
		if err != nil {
			return err
		}
		if !mdp.less(b5) || idm != "[]" {
			return fmt.Errorf("%s: %s at %s %s; must stay before %s (copy of m-5) with []", b.name, sub, mdp, idm, b5)
		}
		return nil
	})

	// Failover: B delivers m-5..m-9 again, m-6 and m-8 included.
	onB := subscribe(t, b, opts)
	if got := sortedCopy(payloadsOf(receiveN(t, onB, 5))); !equalStrings(got, sortedCopy(second)) {
		t.Errorf("after failover %s delivered %v, want %v", b.name, got, second)
	}
	expectNoMessage(t, onB)
	onB.Close()

	// Finishing on A moves B past everything (the snapshots after m-9 exist).
	b9 := posOf(bCopies[9].ID())
	ackRest := []pulsar.MessageID{aIDs[0], aIDs[2], aIDs[4]}
	for _, id := range ackRest {
		if err := onA.AckID(pulsar.NewMessageID(id.LedgerID(), id.EntryID(), -1, 0)); err != nil {
			t.Fatalf("ack %v on %s: %v", posOf(id), a.name, err)
		}
	}
	eventually(t, 3*waitTimeout/2, func() error {
		mdp, idm, err := cursorPosition(t, b, topic, sub)
		if err != nil {
			return err
		}
		if mdp.less(b9) || idm != "[]" {
			return fmt.Errorf("%s: %s at %s %s, want at or past %s (copy of m-9) and []", b.name, sub, mdp, idm, b9)
		}
		return nil
	})

	// Markers exist in both topics and were never delivered.
	expectNoMessage(t, onA)
	all := numbered("m", 10)
	for _, c := range []*cluster{a, b} {
		if got := payloadsOf(readExactly(t, c, topic, len(all))); !equalStrings(got, all) {
			t.Errorf("reader on %s got %v, want exactly %v", c.name, got, all)
		}
		if st := mustInternalStats(t, c, topic); st.EntriesAddedCounter <= int64(len(all)) {
			t.Errorf("%s added %d entries for %d messages: no snapshot markers were written", c.name, st.EntriesAddedCounter, len(all))
		}
	}
	if got := payloadsOf(bCopies); !equalStrings(got, all) {
		t.Errorf("reader on %s while snapshots ran got %v, want %v", b.name, got, all)
	}
}
