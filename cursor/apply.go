package cursor

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/subsync/subsync/ackset"
)

// ApplierOptions tune an Applier.
type ApplierOptions struct {
	// ConsumerName names the acknowledging consumer (default
	// "subsync-cursor"), so operators can recognise it in topic stats.
	ConsumerName string
	// AckChunk is the number of message ids per acknowledgement request
	// (default 1000).
	AckChunk int
}

const (
	defaultConsumerName = "subsync-cursor"
	defaultAckChunk     = 1000
)

// Applier executes Plans against Pulsar: a short-lived zero-queue Shared
// consumer creates a missing subscription and makes the individual acks,
// an admin call resets.
type Applier struct {
	client pulsar.Client
	adm    Admin
	opts   ApplierOptions
}

// NewApplier returns an Applier using client for acknowledgements and adm
// for subscription management.
func NewApplier(client pulsar.Client, adm Admin, opts ApplierOptions) *Applier {
	if opts.ConsumerName == "" {
		opts.ConsumerName = defaultConsumerName
	}
	if opts.AckChunk <= 0 {
		opts.AckChunk = defaultAckChunk
	}
	return &Applier{client: client, adm: adm, opts: opts}
}

// Result is what Apply did.
type Result struct {
	Created  bool  // the subscription was created
	Reset    bool  // the cursor was reset
	Acked    int64 // positions acknowledged individually (confirmed by the broker)
	Deferred bool  // nothing (more) was done: consumers prevent it; see Reason
	Reason   string
}

// Apply executes p on subscription sub of topic (one partition, by its
// "-partition-N" name, or a non-partitioned topic). A deferred plan does
// nothing. Apply stops and returns a deferred Result without error when the
// plan turns out stale: consumers attached right before a reset, a
// subscription to create that exists already while a reset is planned, or
// exclusive-type consumers holding the subscription (ConsumerBusy) when the
// acknowledging consumer subscribes. What was done before stays done (every
// step only acknowledges positions the plan allows); the caller re-plans.
func (a *Applier) Apply(ctx context.Context, topic, sub string, p Plan) (Result, error) {
	var res Result
	if p.Deferred {
		res.Deferred, res.Reason = true, p.Reason
		return res, nil
	}
	if p.Create {
		created, reason, err := a.create(ctx, topic, sub)
		if err != nil {
			return res, err
		}
		if reason != "" {
			res.Deferred, res.Reason = true, reason
			return res, nil
		}
		res.Created = created
		if !created && p.ResetTo != nil {
			// The reset was planned for a cursor with nothing acknowledged;
			// the existing one may hold acks above the reset position that
			// the plan would not restore. The next round re-plans.
			res.Deferred, res.Reason = true, "subscription already existed; plan is stale"
			return res, nil
		}
	}
	if p.ResetTo != nil {
		reason, err := a.reset(ctx, topic, sub, *p.ResetTo)
		if err != nil {
			return res, err
		}
		if reason != "" {
			// The acks above the reset position assume the reset happened;
			// without it the plan is stale. The next round re-plans.
			res.Deferred, res.Reason = true, reason
			return res, nil
		}
		res.Reset = true
	}
	if len(p.Acks) == 0 {
		return res, nil
	}
	acked, reason, err := a.ack(ctx, topic, sub, p.Acks)
	res.Acked = acked
	if reason != "" {
		res.Deferred, res.Reason = true, reason
	}
	return res, err
}

// ConsumerName is the name of the acknowledging consumer, which topic
// stats list among a subscription's consumers while it applies.
func (a *Applier) ConsumerName() string { return a.opts.ConsumerName }

// Delete deletes subscription sub of topic unless consumers are attached;
// then it returns the reason it did not. A subscription already gone is
// not an error.
func (a *Applier) Delete(ctx context.Context, topic, sub string) (string, error) {
	stats, err := a.adm.Stats(ctx, topic)
	if err != nil {
		return "", fmt.Errorf("topic %s: subscription %q: stats before delete: %w", topic, sub, err)
	}
	st, ok := stats.Subscriptions[sub]
	if !ok {
		return "", nil
	}
	if n := len(st.Consumers); n > 0 {
		return fmt.Sprintf("%d consumer(s) attached", n), nil
	}
	if err := a.adm.DeleteSubscription(ctx, topic, sub); err != nil {
		return "", fmt.Errorf("topic %s: subscription %q: delete: %w", topic, sub, err)
	}
	return "", nil
}

// create makes sure the subscription exists: if topic stats do not list
// it, the acknowledging consumer subscribes at the earliest position and
// leaves. It reports whether the subscription was missing (and so was
// created), or why nothing was done.
//
// It never uses the admin API's create (PUT .../subscription/{sub}): a
// real broker implements it as "create at Latest, then reset-cursor to the
// requested position" (PersistentTopicsBase#internalCreateSubscription),
// so the new cursor first has every entry of the topic acknowledged and
// persisted; a failed reset or a broker crash in between leaves it so,
// and a reader in between sees it. A consumer's subscribe initialises the
// cursor at its initial position before the cursor becomes visible
// (ManagedLedgerImpl#asyncOpenCursor): it never acknowledges anything.
func (a *Applier) create(ctx context.Context, topic, sub string) (bool, string, error) {
	stats, err := a.adm.Stats(ctx, topic)
	if err != nil {
		return false, "", fmt.Errorf("topic %s: subscription %q: stats before create: %w", topic, sub, err)
	}
	if _, ok := stats.Subscriptions[sub]; ok {
		return false, "", nil
	}
	consumer, reason, err := a.subscribe(topic, sub)
	if err != nil || reason != "" {
		return false, reason, err
	}
	consumer.Close()
	return true, "", nil
}

// reset resets the cursor unless consumers are attached (a reset would
// disconnect them); then it returns the reason it did not.
func (a *Applier) reset(ctx context.Context, topic, sub string, to ackset.Position) (string, error) {
	stats, err := a.adm.Stats(ctx, topic)
	if err != nil {
		return "", fmt.Errorf("topic %s: subscription %q: stats before reset: %w", topic, sub, err)
	}
	if n := len(stats.Subscriptions[sub].Consumers); n > 0 {
		return fmt.Sprintf("%d consumer(s) attached before reset", n), nil
	}
	if err := a.adm.ResetCursor(ctx, topic, sub, to); err != nil {
		return "", fmt.Errorf("topic %s: subscription %q: reset cursor to %s: %w", topic, sub, to, err)
	}
	return "", nil
}

// ack acknowledges every position of acks through a zero-queue Shared
// consumer that never receives, then closes it.
func (a *Applier) ack(ctx context.Context, topic, sub string, acks []ackset.Range) (int64, string, error) {
	partition, err := partitionIndex(topic)
	if err != nil {
		return 0, "", err
	}
	consumer, reason, err := a.subscribe(topic, sub)
	if err != nil || reason != "" {
		return 0, reason, err
	}
	defer consumer.Close()

	var acked int64
	chunk := make([]pulsar.MessageID, 0, a.opts.AckChunk)
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := consumer.AckIDList(chunk); err != nil {
			return fmt.Errorf("ack %d positions from %s: %w", len(chunk), chunk[0], err)
		}
		acked += int64(len(chunk))
		chunk = chunk[:0]
		return nil
	}
	for _, r := range acks {
		ledger, first, last, ok := r.Entries()
		if !ok {
			return acked, "", fmt.Errorf("topic %s: subscription %q: ack range %s crosses ledgers", topic, sub, r)
		}
		for e := max(first, 0); e <= last; e++ {
			// The batch index is ignored for a whole-entry ack (no ack_set
			// is sent for a plain message id); the partition index must be
			// the consumer's own or the client drops the id silently.
			chunk = append(chunk, pulsar.NewMessageID(ledger, e, -1, partition))
			if len(chunk) == a.opts.AckChunk {
				if err := flush(); err != nil {
					return acked, "", fmt.Errorf("topic %s: subscription %q: %w", topic, sub, err)
				}
			}
			if e == last { // e++ would overflow at MaxInt64
				break
			}
		}
	}
	if err := flush(); err != nil {
		return acked, "", fmt.Errorf("topic %s: subscription %q: %w", topic, sub, err)
	}
	return acked, "", nil
}

// subscribe attaches the acknowledging consumer: Shared, zero-queue (it is
// never fed), acknowledgements confirmed. On a missing subscription it
// creates a durable one at the earliest position, nothing acknowledged.
// ConsumerBusy (exclusive-type consumers attached) is a reason, not an
// error.
func (a *Applier) subscribe(topic, sub string) (pulsar.Consumer, string, error) {
	consumer, err := a.client.Subscribe(pulsar.ConsumerOptions{
		Topic:                       topic,
		SubscriptionName:            sub,
		Name:                        a.opts.ConsumerName,
		Type:                        pulsar.Shared,
		SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest,
		EnableZeroQueueConsumer:     true,
		AckWithResponse:             true,
	})
	if err != nil {
		if isConsumerBusy(err) {
			return nil, "exclusive-type consumers attached: " + err.Error(), nil
		}
		return nil, "", fmt.Errorf("topic %s: subscription %q: subscribe: %w", topic, sub, err)
	}
	return consumer, "", nil
}

// partitionIndex is the partition index pulsar-client-go gives a consumer
// of topic, computed the way the client does: the number after the last "-"
// when the name contains "-partition-", -1 otherwise.
func partitionIndex(topic string) (int32, error) {
	if !strings.Contains(topic, "-partition-") {
		return -1, nil
	}
	tail := topic[strings.LastIndex(topic, "-")+1:]
	n, err := strconv.ParseInt(tail, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("topic %s: partition suffix %q is not a partition index", topic, tail)
	}
	return int32(n), nil
}

// isConsumerBusy recognises the broker's ConsumerBusy error. The client
// reports server errors as text ("server error: ConsumerBusy: ...").
func isConsumerBusy(err error) bool {
	var pe *pulsar.Error
	if errors.As(err, &pe) && pe.Result() == pulsar.ConsumerBusy {
		return true
	}
	return strings.Contains(err.Error(), "ConsumerBusy")
}
