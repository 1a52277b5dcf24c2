package cursor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"

	"github.com/subsync/subsync/ackset"
)

// modelBroker is one topic of a real broker, reduced to what creating a
// subscription does there: one closed ledger 10 of 10 entries, cursors
// with a mark-delete position and individual acks. Its admin create is
// Pulsar's (PersistentTopicsBase#internalCreateSubscription): the cursor
// is created at Latest, then reset to the requested position; here the
// reset fails, as it does when the subscription is fenced by another
// reset or the broker dies in between, and the cursor stays at Latest
// (Pulsar does not undo the create). A consumer's subscribe initialises a
// new cursor at its initial position before anyone can see it
// (ManagedLedgerImpl#asyncOpenCursor).
type modelBroker struct {
	mu      sync.Mutex
	cursors map[string]*modelCursor
}

type modelCursor struct {
	mdp   ackset.Position
	acked map[ackset.Position]bool
}

const modelLedger, modelEntries = 10, 10

func (b *modelBroker) isAcked(sub string, p ackset.Position) bool {
	c := b.cursors[sub]
	return !c.mdp.Less(p) || c.acked[p]
}

func (b *modelBroker) InternalStats(context.Context, string) (utils.PersistentTopicInternalStats, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := utils.PersistentTopicInternalStats{
		LastConfirmedEntry: fmt.Sprintf("%d:%d", modelLedger, modelEntries-1),
		Ledgers:            []utils.LedgerInfo{{LedgerID: modelLedger, Entries: modelEntries}},
		Cursors:            map[string]utils.CursorStats{},
	}
	for name, c := range b.cursors {
		var idm []ackset.Range
		for e := int64(0); e < modelEntries; e++ {
			p := ackset.Position{Ledger: modelLedger, Entry: e}
			if c.mdp.Less(p) && c.acked[p] {
				idm = append(idm, ents(modelLedger, e, e))
			}
		}
		st.Cursors[name] = utils.CursorStats{MarkDeletePosition: c.mdp.String(), IndividuallyDeletedMessages: ackset.FormatIDM(idm)}
	}
	return st, nil
}

func (b *modelBroker) Stats(context.Context, string) (utils.TopicStats, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := utils.TopicStats{Subscriptions: map[string]utils.SubscriptionStats{}}
	for name := range b.cursors {
		st.Subscriptions[name] = utils.SubscriptionStats{SubType: "None", IsDurable: true}
	}
	return st, nil
}

func (b *modelBroker) ResetCursor(context.Context, string, string, ackset.Position) error {
	return errors.New("model broker: reset not modelled")
}

func (b *modelBroker) DeleteSubscription(context.Context, string, string) error {
	return errors.New("model broker: delete not modelled")
}

// CreateSubscription is the admin create of a real broker whose reset
// step fails (see modelBroker). The Admin interface no longer has it; the
// model keeps it so that an Applier that creates through the admin API
// is caught.
func (b *modelBroker) CreateSubscription(_ context.Context, _, sub string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.cursors[sub]; ok {
		return errors.New("409 Subscription already exists for topic")
	}
	b.cursors[sub] = &modelCursor{mdp: ackset.Position{Ledger: modelLedger, Entry: modelEntries - 1}, acked: map[ackset.Position]bool{}}
	return errors.New("500 Failed to fence subscription")
}

// Subscribe is a consumer's subscribe at Earliest.
func (b *modelBroker) Subscribe(o pulsar.ConsumerOptions) (pulsar.Consumer, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if o.SubscriptionInitialPosition != pulsar.SubscriptionPositionEarliest {
		return nil, errors.New("model broker: only Earliest is modelled")
	}
	if _, ok := b.cursors[o.SubscriptionName]; !ok {
		b.cursors[o.SubscriptionName] = &modelCursor{mdp: ackset.Position{Ledger: modelLedger, Entry: -1}, acked: map[ackset.Position]bool{}}
	}
	return modelConsumer{b: b, sub: o.SubscriptionName}, nil
}

// modelClient and modelConsumer implement the calls the Applier makes;
// any other call panics on the nil embedded interface.
type modelClient struct {
	pulsar.Client
	b *modelBroker
}

func (c modelClient) Subscribe(o pulsar.ConsumerOptions) (pulsar.Consumer, error) {
	return c.b.Subscribe(o)
}

type modelConsumer struct {
	pulsar.Consumer
	b   *modelBroker
	sub string
}

func (c modelConsumer) AckIDList(ids []pulsar.MessageID) error {
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	for _, id := range ids {
		c.b.cursors[c.sub].acked[ackset.Position{Ledger: id.LedgerID(), Entry: id.EntryID()}] = true
	}
	return nil
}

func (c modelConsumer) Close() {}

// A subscription missing on the receiver is created with nothing
// acknowledged but the wanted entries, even on a broker whose admin create
// passes through Latest: the Applier must not create through the admin API.
// Two rounds, as the replicator runs them: an error in the first is
// retried by re-planning from the broker's state.
func TestApplyCreateAcknowledgesOnlyWanted(t *testing.T) {
	b := &modelBroker{cursors: map[string]*modelCursor{}}
	a := NewApplier(modelClient{b: b}, b, ApplierOptions{})
	want := []ackset.Range{ents(modelLedger, 2, 2), ents(modelLedger, 5, 6)}
	wanted := map[int64]bool{2: true, 5: true, 6: true}
	ctx := context.Background()
	for round := 1; round <= 2; round++ {
		ts, err := ReadTopic(ctx, b, "persistent://t/n/topic")
		if err != nil {
			t.Fatal(err)
		}
		p := PlanApply(ts, "standby", want, PlanOptions{ResetThreshold: -1})
		res, err := a.Apply(ctx, "persistent://t/n/topic", "standby", p)
		t.Logf("round %d: plan %s: %+v, %v", round, p, res, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for e := int64(0); e < modelEntries; e++ {
		p := ackset.Position{Ledger: modelLedger, Entry: e}
		if got := b.isAcked("standby", p); got != wanted[e] {
			t.Errorf("entry %s acknowledged = %t, want %t", p, got, wanted[e])
		}
	}
}
