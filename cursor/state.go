package cursor

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"

	"github.com/subsync/subsync/ackset"
)

// TopicState is one topic partition's cursors as internalStats reports them,
// plus consumers from topic stats.
type TopicState struct {
	Topic         string
	LastConfirmed ackset.Position
	// Subscriptions holds durable subscriptions only: no pulsar.repl.*
	// cursors, no non-durable (reader) cursors.
	Subscriptions map[string]SubState
	// Ledgers lists the topic's ledgers in order, as internalStats reports
	// them. The last one is the ledger being written: its size is not final.
	Ledgers []Ledger
	// Replicators holds the geo-replicator cursors (pulsar.repl.<remote>)
	// by remote cluster: an entry they have acknowledged was sent to that
	// remote, or skipped for good (replicate_to, TTL).
	Replicators map[string]SubState
}

// Ledger is one ledger of a topic.
type Ledger struct {
	ID int64
	// Entries is the number of entries of a closed ledger. For the ledger
	// being written (the last of TopicState.Ledgers) the broker reports 0.
	Entries int64
}

// SubState is one durable subscription's cursor and consumers.
type SubState struct {
	MarkDelete ackset.Position
	Deleted    []ackset.Range // parsed individuallyDeletedMessages, ascending and disjoint as ParseIDM returns them
	// Type is "Shared", "Exclusive", "Failover", "Key_Shared", or "" when
	// no consumer ever attached.
	Type       string
	Consumers  int  // consumers currently attached
	Replicated bool // PIP-33 flag, informative
	// ConsumerNames names the attached consumers (subsync's acknowledging
	// consumer among them while it applies).
	ConsumerNames []string
	// LastFlow is the broker's lastConsumedFlowTimestamp (unix ms): when a
	// consumer last asked for messages, kept after it leaves while the
	// broker keeps the topic loaded; 0 after a reload. A zero-queue
	// consumer that never receives, like subsync's, never asks.
	LastFlow int64
}

// AppConsumers counts the attached consumers not named own (subsync's
// acknowledging consumer).
func (s SubState) AppConsumers(own string) int {
	n := s.Consumers
	for _, name := range s.ConsumerNames {
		if name == own {
			n--
		}
	}
	return max(n, 0)
}

// IsAcked reports whether p is acknowledged: at or before the mark-delete
// position or inside one of the individually deleted ranges.
func (s SubState) IsAcked(p ackset.Position) bool {
	if !s.MarkDelete.Less(p) {
		return true
	}
	i := sort.Search(len(s.Deleted), func(i int) bool { return !s.Deleted[i].To.Less(p) })
	return i < len(s.Deleted) && s.Deleted[i].Contains(p)
}

// replCursorPrefix names the cursors of geo-replication's replicators.
const replCursorPrefix = "pulsar.repl."

// ReadTopic reads one topic partition's durable subscriptions: one stats
// call (types, consumers, durability) then one internalStats call (ledgers,
// cursors). Only subscriptions both calls report, as durable, are kept: one
// deleted or created between the calls is left out until the next read
// (its durability is unknown, and exporting a reader's cursor would create
// a subscription on the remote). Planning for a subscription left out
// yields Create, which Apply treats as done when the subscription exists.
func ReadTopic(ctx context.Context, adm Admin, topic string) (TopicState, error) {
	stats, err := adm.Stats(ctx, topic)
	if err != nil {
		return TopicState{}, fmt.Errorf("topic %s: stats: %w", topic, err)
	}
	internal, err := adm.InternalStats(ctx, topic)
	if err != nil {
		return TopicState{}, fmt.Errorf("topic %s: internal stats: %w", topic, err)
	}
	return topicState(topic, stats, internal)
}

// StatsCache lets a caller that reads a topic every second reuse its last
// stats answer (subscription types, consumer counts, durability) and call
// internalStats alone, refreshing stats only when they are older than
// MaxAge, or internalStats shows a cursor they do not know or one that
// moved (someone acknowledged: the consumers' presence decides who owns
// the subscription). Consumer counts
// may then be up to MaxAge old: planning treats them as a hint, and the
// Applier checks again before anything that depends on them.
type StatsCache struct {
	MaxAge time.Duration
	stats  utils.TopicStats
	at     time.Time
	// cursors is each subscription's cursor as of the last read: one that
	// moved was acknowledged by someone, whose presence the stats show.
	cursors map[string]utils.CursorStats
}

// ReadTopicCached is ReadTopic with a StatsCache; now is the caller's clock.
func ReadTopicCached(ctx context.Context, adm Admin, topic string, c *StatsCache, now time.Time) (TopicState, error) {
	internal, err := adm.InternalStats(ctx, topic)
	if err != nil {
		return TopicState{}, fmt.Errorf("topic %s: internal stats: %w", topic, err)
	}
	moved := c.moved(internal)
	if c.at.IsZero() || now.Sub(c.at) >= c.MaxAge || !c.knows(internal) || moved {
		stats, err := adm.Stats(ctx, topic)
		if err != nil {
			return TopicState{}, fmt.Errorf("topic %s: stats: %w", topic, err)
		}
		c.stats, c.at = stats, now
	}
	return topicState(topic, c.stats, internal)
}

// moved reports whether a subscription's cursor changed since the last
// read (and remembers this read's).
func (c *StatsCache) moved(internal utils.PersistentTopicInternalStats) bool {
	moved := false
	for name, cs := range internal.Cursors {
		if strings.HasPrefix(name, replCursorPrefix) {
			continue
		}
		prev, ok := c.cursors[name]
		if ok && (prev.MarkDeletePosition != cs.MarkDeletePosition || prev.IndividuallyDeletedMessages != cs.IndividuallyDeletedMessages) {
			moved = true
		}
	}
	c.cursors = internal.Cursors
	return moved
}

// knows reports whether the cached stats list every non-replicator cursor.
func (c *StatsCache) knows(internal utils.PersistentTopicInternalStats) bool {
	for name := range internal.Cursors {
		if strings.HasPrefix(name, replCursorPrefix) {
			continue
		}
		if _, ok := c.stats.Subscriptions[name]; !ok {
			return false
		}
	}
	return true
}

// topicState combines the two admin answers. Everything from the broker is
// untrusted input: malformed values are errors naming the topic, the
// subscription and the offending text.
func topicState(topic string, stats utils.TopicStats, internal utils.PersistentTopicInternalStats) (TopicState, error) {
	lac, err := ackset.ParsePosition(internal.LastConfirmedEntry)
	if err != nil {
		return TopicState{}, fmt.Errorf("topic %s: lastConfirmedEntry %q: %w", topic, internal.LastConfirmedEntry, err)
	}
	ledgers, err := ledgerLayout(internal.Ledgers)
	if err != nil {
		return TopicState{}, fmt.Errorf("topic %s: %w", topic, err)
	}
	st := TopicState{Topic: topic, LastConfirmed: lac, Ledgers: ledgers, Subscriptions: map[string]SubState{},
		Replicators: map[string]SubState{}}
	for name, cs := range internal.Cursors {
		if remote, ok := strings.CutPrefix(name, replCursorPrefix); ok {
			repl, err := subState(cs)
			if err != nil {
				return TopicState{}, fmt.Errorf("topic %s: replicator cursor %q: %w", topic, name, err)
			}
			st.Replicators[remote] = repl
			continue
		}
		ss, inStats := stats.Subscriptions[name]
		if !inStats || !ss.IsDurable {
			continue
		}
		sub, err := subState(cs)
		if err != nil {
			return TopicState{}, fmt.Errorf("topic %s: subscription %q: %w", topic, name, err)
		}
		sub.Type = subType(ss.SubType)
		sub.Consumers = len(ss.Consumers)
		for _, c := range ss.Consumers {
			sub.ConsumerNames = append(sub.ConsumerNames, c.ConsumerName)
		}
		sub.LastFlow = max(ss.LastConsumedFlowTimestamp, 0)
		sub.Replicated = ss.IsReplicated
		st.Subscriptions[name] = sub
	}
	return st, nil
}

func subState(cs utils.CursorStats) (SubState, error) {
	mdp, err := ackset.ParsePosition(cs.MarkDeletePosition)
	if err != nil {
		return SubState{}, fmt.Errorf("markDeletePosition %q: %w", cs.MarkDeletePosition, err)
	}
	idm, err := ackset.ParseIDM(cs.IndividuallyDeletedMessages)
	if err != nil {
		return SubState{}, fmt.Errorf("individuallyDeletedMessages %q: %w", clip(cs.IndividuallyDeletedMessages), err)
	}
	return SubState{MarkDelete: mdp, Deleted: idm}, nil
}

func ledgerLayout(in []utils.LedgerInfo) ([]Ledger, error) {
	out := make([]Ledger, 0, len(in))
	for i, l := range in {
		switch {
		case l.LedgerID < 0:
			return nil, fmt.Errorf("ledgers[%d]: ledgerId %d is negative", i, l.LedgerID)
		case l.Entries < 0:
			return nil, fmt.Errorf("ledgers[%d] (ledger %d): entries %d is negative", i, l.LedgerID, l.Entries)
		case i > 0 && l.LedgerID <= in[i-1].LedgerID:
			return nil, fmt.Errorf("ledgers[%d]: ledger %d does not follow ledger %d; expected ascending ids",
				i, l.LedgerID, in[i-1].LedgerID)
		}
		out = append(out, Ledger{ID: l.LedgerID, Entries: l.Entries})
	}
	return out, nil
}

// subType normalises the broker's subscription type: Pulsar reports "None"
// for a subscription that has no dispatcher yet.
func subType(s string) string {
	if s == "None" {
		return ""
	}
	return s
}

// clip shortens untrusted text quoted in an error message.
func clip(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
