package cursor

import (
	"context"
	"fmt"

	"github.com/apache/pulsar-client-go/pulsaradmin"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"

	"github.com/subsync/subsync/ackset"
)

// Admin is the part of Pulsar's admin API this package uses. Topics are full
// names of one topic partition ("persistent://tenant/ns/t-partition-3") or
// of a non-partitioned topic.
type Admin interface {
	// InternalStats returns the topic's managed-ledger stats (ledgers, LAC,
	// every cursor's mark-delete position and individually deleted ranges).
	InternalStats(ctx context.Context, topic string) (utils.PersistentTopicInternalStats, error)
	// Stats returns the topic's stats (subscription types, consumers,
	// durability).
	Stats(ctx context.Context, topic string) (utils.TopicStats, error)
	// ResetCursor resets the subscription's read position to pos; the broker
	// sets the mark-delete position to the entry before it and clears the
	// individually deleted ranges.
	ResetCursor(ctx context.Context, topic, sub string, pos ackset.Position) error
	// DeleteSubscription deletes the subscription; the broker refuses while
	// consumers are attached (no force).
	DeleteSubscription(ctx context.Context, topic, sub string) error
}

// NewAdmin adapts a pulsaradmin client to Admin.
func NewAdmin(c pulsaradmin.Client) Admin { return pulsarAdmin{c: c} }

type pulsarAdmin struct{ c pulsaradmin.Client }

func topicName(topic string) (utils.TopicName, error) {
	tn, err := utils.GetTopicName(topic)
	if err != nil {
		return utils.TopicName{}, fmt.Errorf("topic name %q: %w", topic, err)
	}
	return *tn, nil
}

func (a pulsarAdmin) InternalStats(ctx context.Context, topic string) (utils.PersistentTopicInternalStats, error) {
	tn, err := topicName(topic)
	if err != nil {
		return utils.PersistentTopicInternalStats{}, err
	}
	return a.c.Topics().GetInternalStatsWithContext(ctx, tn)
}

func (a pulsarAdmin) Stats(ctx context.Context, topic string) (utils.TopicStats, error) {
	tn, err := topicName(topic)
	if err != nil {
		return utils.TopicStats{}, err
	}
	return a.c.Topics().GetStatsWithContext(ctx, tn)
}

func (a pulsarAdmin) ResetCursor(ctx context.Context, topic, sub string, pos ackset.Position) error {
	tn, err := topicName(topic)
	if err != nil {
		return err
	}
	id := utils.MessageID{LedgerID: pos.Ledger, EntryID: pos.Entry, PartitionIndex: -1, BatchIndex: -1}
	return a.c.Subscriptions().ResetCursorToMessageIDWithContext(ctx, tn, sub, id)
}

func (a pulsarAdmin) DeleteSubscription(ctx context.Context, topic, sub string) error {
	tn, err := topicName(topic)
	if err != nil {
		return err
	}
	return a.c.Subscriptions().DeleteWithContext(ctx, tn, sub)
}
