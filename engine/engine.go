package engine

import (
	"fmt"
	"slices"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/cursor"
	"github.com/subsync/subsync/owner"
	"github.com/subsync/subsync/snapshot"
)

// Config holds what stays fixed for one topic partition.
type Config struct {
	Cluster string // this cluster
	Topic   string // the topic partition
	Owner   owner.Config
	// FullEvery is how often (ms) a full state is sent even without change.
	FullEvery int64
	// EpochBase is this daemon's incarnation (unix ms it started acting):
	// a new stream's epoch follows from it (snapshot.NextEpoch).
	EpochBase int64
	// AckConsumer names subsync's acknowledging consumer, which is not an
	// application consumer.
	AckConsumer string
	// ResetThreshold tunes the cursor planner (cursor.PlanOptions).
	ResetThreshold int64
}

// Stream is one subscription's outgoing update stream.
type Stream struct {
	Epoch    int64
	Seq      uint64
	Set      ackset.Set // what the last update made the receivers hold
	LastFull int64      // unix ms of the last full state
	// Current: the stream belongs to this daemon's incarnation; a stream
	// restored from a previous one is continued by a new epoch.
	Current bool
	// Active and Deleted are what the last update said.
	Active, Deleted bool
}

// Subscription is everything the engine knows of one subscription.
type Subscription struct {
	Stream  Stream
	Memory  owner.Memory
	Reports map[string]owner.Report // by remote cluster
	// Seen is what the last read showed of the application consumers.
	Seen Seen
}

// Seen is one read's view of the application consumers.
type Seen struct {
	Consumers int
	LastFlow  int64
}

// Read is one read of the topic, shared by its subscriptions; NewRead
// makes one.
type Read struct {
	now   int64 // unix ms
	topic cursor.TopicState
	// runs is the tail index; tailCaughtUp: it covers the topic up to the
	// LAC, so every local position is one it can judge.
	runs         []ackset.Run
	tailCaughtUp bool
	// live and indexed are derived from runs once for all subscriptions:
	// the runs in ledgers the topic still has (LiveRuns) and what they map.
	live    []ackset.Run
	indexed ackset.Set
}

// NewRead prepares a read of the topic at now (unix ms) for Decide.
func NewRead(now int64, ts cursor.TopicState, runs []ackset.Run, tailCaughtUp bool) Read {
	live := LiveRuns(ts, runs)
	return Read{now: now, topic: ts, runs: runs, tailCaughtUp: tailCaughtUp, live: live, indexed: IndexedSet(live)}
}

// Ready is what one round does for one subscription, in this order:
// persist NewEpoch (with the previous stream's set) before anything
// carries it; publish Publish; then keep Next (persisting it). Apply or
// Delete the local cursor. A part that fails leaves the previous state:
// the next round decides again.
type Ready struct {
	Sub string
	// Refused: the cursor read is impossible (beyond the LAC or outside
	// the topic's ledgers); nothing else is done.
	Refused error
	Step    owner.Step
	// NewEpoch is set when Publish starts a new stream.
	NewEpoch int64
	Publish  *snapshot.Update
	// Added counts the entries Publish newly acknowledges.
	Added uint64
	Next  Subscription
	// Plan is the cursor change (nil: none); Pending counts the wanted
	// positions the cursor lacks; Sources names the remotes whose state it
	// applies.
	Plan    *cursor.Plan
	Pending int64
	Sources []string
	Delete  bool
}

// Decide runs one round for subscription sub. export says whether this
// round may publish (ticks do; a round run because an update arrived does
// not).
func Decide(cfg Config, r Read, sub string, s Subscription, export bool) (Ready, error) {
	rd := Ready{Sub: sub, Next: s}
	st, exists := r.topic.Subscriptions[sub]
	if exists {
		if err := r.topic.CheckCursor(st); err != nil {
			rd.Refused = err
			return rd, nil
		}
		rd.Next.Seen = Seen{Consumers: st.AppConsumers(cfg.AckConsumer), LastFlow: st.LastFlow}
	}
	local, err := localView(cfg, sub, st, exists, r, s)
	if err != nil {
		return rd, err
	}
	rd.Step = owner.Decide(cfg.Owner, r.now, local, s.Reports, s.Memory)
	rd.Next.Memory = rd.Step.Memory
	if export && rd.Step.Export.Send {
		if err := planExport(cfg, r.now, sub, st.MarkDelete, &rd); err != nil {
			return rd, err
		}
	}
	return rd, planCursor(cfg, r, sub, &rd)
}

// localView is the owner decision's view of the local subscription.
func localView(cfg Config, sub string, st cursor.SubState, exists bool, r Read, s Subscription) (owner.Local, error) {
	local := owner.Local{Exists: exists}
	if !exists {
		return local, nil
	}
	set, err := ackset.FromCursor(st.MarkDelete, st.Deleted, r.live)
	if err != nil {
		return local, fmt.Errorf("subscription %q: translating cursor: %w", sub, err)
	}
	// Entries pruned from the index or trimmed from the topic stay
	// acknowledged: the cursor can no longer say so, and the remotes' own
	// pruning waits for them. Not into a new incarnation of the
	// subscription: what the deleted one acknowledged is not its own.
	local.Acked = set
	if s.Memory.Known {
		local.Acked = set.Union(s.Stream.Set.Difference(r.indexed))
	}
	local.AppConsumers = attachedAround(st.AppConsumers(cfg.AckConsumer), st.LastFlow, s.Seen)
	local.LastFlow = st.LastFlow
	return local, nil
}

// attachedAround makes a read's consumers count for the whole stretch its
// cursor may reflect. owner.Decide takes a read as one instant; a read of
// Pulsar is two calls, the cursor (internalStats) before the consumers
// (stats), so a consumer can acknowledge into this cursor and be gone
// from this consumer list: present at the last read (it may have gone
// just before this one's list), or asking for messages since (it attached
// after the last list). Either way it counts as attached here, so what the
// cursor gained is never taken for a local act.
func attachedAround(consumers int, lastFlow int64, prev Seen) int {
	if consumers == 0 && (prev.Consumers > 0 || lastFlow > prev.LastFlow) {
		return 1
	}
	return consumers
}

// planExport decides the update to publish: a delta, or a full state on a
// new stream, when the consumers' presence or the subscription's existence
// changed, and every FullEvery; nothing when nothing changed.
func planExport(cfg Config, now int64, sub string, mdp ackset.Position, rd *Ready) error {
	ex, prev := rd.Step.Export, rd.Next.Stream
	epoch, seq := prev.Epoch, prev.Seq+1
	if !prev.Current {
		epoch, seq = snapshot.NextEpoch(prev.Epoch, cfg.EpochBase), 1
	}
	changed := ex.Active != prev.Active || ex.Exists == prev.Deleted
	full := !prev.Current || changed || now-prev.LastFull >= cfg.FullEvery
	delta := ackset.Diff(prev.Set, ex.Acked)
	if !full && delta.IsEmpty() {
		return nil
	}
	u := &snapshot.Update{Topic: cfg.Topic, Subscription: sub, Sender: cfg.Cluster, Epoch: epoch,
		Sequence: seq, Full: full, SenderMDP: mdp, SentAt: now,
		Active: ex.Active, LastActive: ex.LastActive, Deleted: !ex.Exists}
	var err error
	if full {
		u.AckSet, err = ackset.Encode(ex.Acked)
	} else {
		u.AckSet, err = ackset.EncodeDelta(delta)
	}
	if err != nil {
		return fmt.Errorf("subscription %q: encoding ack set: %w", sub, err)
	}
	if !prev.Current {
		rd.NewEpoch = epoch
	}
	rd.Publish, rd.Added = u, delta.Added.Cardinality()
	next := Stream{Epoch: epoch, Seq: seq, Set: ex.Acked, LastFull: prev.LastFull, Current: true,
		Active: ex.Active, Deleted: !ex.Exists}
	if full {
		next.LastFull = now
	}
	rd.Next.Stream = next
	return nil
}

// planCursor turns the step's Apply, Create and Delete into a cursor plan.
// A mirror's plan is exact (it resets back when the cursor holds more than
// the owner's set) once the tail has caught up; positions below the
// index's first run are left alone (pruned runs were acknowledged here).
func planCursor(cfg Config, r Read, sub string, rd *Ready) error {
	step := rd.Step
	if step.Delete {
		rd.Delete = true
		return nil
	}
	if step.Apply == owner.ApplyNone {
		return nil
	}
	rd.Sources = sources(step, rd.Next.Reports, cfg.Owner, r.now)
	want, err := ackset.ToLocal(step.Want, r.runs)
	if err != nil {
		return fmt.Errorf("subscription %q: translating the state to apply: %w", sub, err)
	}
	opts := cursor.PlanOptions{ResetThreshold: cfg.ResetThreshold}
	if step.Apply == owner.ApplyExact && r.tailCaughtUp && len(r.runs) > 0 {
		opts.Exact, opts.Floor = true, &r.runs[0].Local
	}
	plan := cursor.PlanApply(r.topic, sub, want, opts)
	if plan.Create && !step.Create {
		// Missing here and not to be created (deleted here).
		return nil
	}
	rd.Plan, rd.Pending = &plan, pendingAcks(r.topic, sub, want)
	return nil
}

// sources names, sorted, the remotes whose sets the step applies.
func sources(step owner.Step, reports map[string]owner.Report, cfg owner.Config, now int64) []string {
	if step.Role == owner.Mirrors {
		return []string{step.Owner}
	}
	var out []string
	for name, r := range reports {
		if r.Exists && r.Active && now-r.Received <= cfg.Silence {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// pendingAcks counts the wanted local positions the cursor does not hold
// yet, whatever the plan (a deferred plan carries no acks, a reset covers
// some without listing them).
func pendingAcks(ts cursor.TopicState, sub string, want []ackset.Range) int64 {
	if s, ok := ts.Subscriptions[sub]; ok {
		s.Consumers = 0
		ts.Subscriptions = map[string]cursor.SubState{sub: s}
	}
	return cursor.PlanApply(ts, sub, want, cursor.PlanOptions{ResetThreshold: -1}).AckCount()
}

// LiveRuns keeps the runs whose local ledger the topic still has. A run in
// a ledger the topic no longer lists says nothing about its subscriptions:
// the ledger was trimmed (what a subscription acknowledged there was
// exported before and is carried), or it belonged to an incarnation of the
// topic deleted since, whose entries no subscription of this one consumed.
// Below a live mark-delete position such a run would count as acknowledged.
func LiveRuns(ts cursor.TopicState, runs []ackset.Run) []ackset.Run {
	ledgers := make(map[int64]bool, len(ts.Ledgers))
	for _, l := range ts.Ledgers {
		ledgers[l.ID] = true
	}
	out := make([]ackset.Run, 0, len(runs))
	for _, r := range runs {
		if ledgers[r.Local.Ledger] {
			out = append(out, r)
		}
	}
	return out
}

// IndexedSet is every EntryID the runs map.
func IndexedSet(runs []ackset.Run) ackset.Set {
	var out ackset.Set
	for _, r := range runs {
		_ = out.AddRange(r.Origin, r.OriginLedger, r.OriginEntry, r.OriginEntry+r.Count-1)
	}
	return out
}

// Merge applies a received full state or delta to the sender's previous
// set; added counts what it newly acknowledges.
func Merge(prev ackset.Set, u *snapshot.Update) (next ackset.Set, added uint64, err error) {
	if u.Full {
		set, err := ackset.Decode(u.AckSet)
		if err != nil {
			return ackset.Set{}, 0, err
		}
		return set, set.Difference(prev).Cardinality(), nil
	}
	d, err := ackset.DecodeDelta(u.AckSet)
	if err != nil {
		return ackset.Set{}, 0, err
	}
	return d.Apply(prev), d.Added.Cardinality(), nil
}
