package engine

import (
	"testing"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/cursor"
	"github.com/subsync/subsync/owner"
	"github.com/subsync/subsync/snapshot"
)

// The lifecycle findings as deterministic rounds. Both clusters hold east's
// entries 3:0..49; on each, local ledger 1 holds them at 1:0..49.

func pos(l, e int64) ackset.Position { return ackset.Position{Ledger: l, Entry: e} }

var runs = []ackset.Run{{Local: pos(1, 0), Origin: "east", OriginLedger: 3, OriginEntry: 0, Count: 50}}

func eastIDs(t *testing.T, first, last int64) ackset.Set {
	t.Helper()
	var s ackset.Set
	if last >= first {
		if err := s.AddRange("east", 3, first, last); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func cfgOf(cluster string) Config {
	return Config{Cluster: cluster, Topic: "persistent://t/n/x", FullEvery: 30_000, EpochBase: 1_000,
		AckConsumer: "subsync-cursor", ResetThreshold: -1,
		Owner: owner.Config{Self: cluster, Silence: 90_000, Linger: 30_000}}
}

func topicOf(subs map[string]cursor.SubState) cursor.TopicState {
	return cursor.TopicState{LastConfirmed: pos(1, 49), Ledgers: []cursor.Ledger{{ID: 1}}, Subscriptions: subs}
}

func read(now int64, subs map[string]cursor.SubState) Read {
	return NewRead(now, topicOf(subs), runs, true)
}

func withConsumer(mdp ackset.Position) cursor.SubState {
	return cursor.SubState{MarkDelete: mdp, Type: "Shared", Consumers: 1, ConsumerNames: []string{"app"}}
}

func idle(mdp ackset.Position) cursor.SubState {
	return cursor.SubState{MarkDelete: mdp, Type: "Shared"}
}

func decide(t *testing.T, cluster string, r Read, s Subscription) Ready {
	t.Helper()
	rd, err := Decide(cfgOf(cluster), r, "billing", s, true)
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

// received turns a published update into the receiver's report, as the
// worker does through Merge.
func received(t *testing.T, prev owner.Report, u *snapshot.Update, at int64) owner.Report {
	t.Helper()
	set, _, err := Merge(prev.Acked, u)
	if err != nil {
		t.Fatal(err)
	}
	return owner.Report{Presence: owner.Presence{Active: u.Active, LastActive: u.LastActive}, Exists: !u.Deleted,
		Acked: set, Received: at}
}

func publishedSet(t *testing.T, u *snapshot.Update) ackset.Set {
	t.Helper()
	if u == nil || !u.Full {
		t.Fatalf("want a full state published, got %+v", u)
	}
	set, err := ackset.Decode(u.AckSet)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestOwnerPublishesAndMirrorFollows(t *testing.T) {
	east := decide(t, "east", read(1000, map[string]cursor.SubState{"billing": withConsumer(pos(1, 39))}), Subscription{})
	if east.Step.Role != owner.Owns || east.NewEpoch != 1_000 || !east.Publish.Active {
		t.Fatalf("east: role %v, new epoch %d, publish %+v; want an active owner starting a stream", east.Step.Role, east.NewEpoch, east.Publish)
	}
	if got := publishedSet(t, east.Publish); !got.Equal(eastIDs(t, 0, 39)) {
		t.Fatalf("east published %v; want 3:0..39", got)
	}
	rep := received(t, owner.Report{}, east.Publish, 1001)
	west := decide(t, "west", read(1002, map[string]cursor.SubState{}), Subscription{Reports: map[string]owner.Report{"east": rep}})
	if west.Plan == nil || !west.Plan.Create || len(west.Plan.Acks) != 1 || west.Plan.Acks[0].String() != "(1:-1..1:39]" {
		t.Fatalf("west's plan %v; want create and ack 1:0..39", west.Plan)
	}
}

// Finding 2: the owner's rewind is mirrored by a reset back; the mirror's
// stale export is never applied on the owner.
func TestRewindIsMirroredNotUndone(t *testing.T) {
	east := decide(t, "east", read(1000, map[string]cursor.SubState{"billing": withConsumer(pos(1, 49))}), Subscription{})
	rep := received(t, owner.Report{}, east.Publish, 1001)
	west := decide(t, "west", read(1002, map[string]cursor.SubState{"billing": idle(pos(1, 49))}),
		Subscription{Reports: map[string]owner.Report{"east": rep}})
	// East rewinds to the start.
	east = decide(t, "east", read(2000, map[string]cursor.SubState{"billing": withConsumer(pos(1, -1))}),
		Subscription{Stream: east.Next.Stream, Memory: east.Next.Memory,
			Reports: map[string]owner.Report{"west": received(t, owner.Report{}, west.Publish, 1003)}})
	if east.Plan != nil {
		t.Fatalf("east plans %v from west's export; want nothing applied on the owner", east.Plan)
	}
	rep = received(t, rep, east.Publish, 2001)
	west = decide(t, "west", read(2002, map[string]cursor.SubState{"billing": idle(pos(1, 49))}),
		Subscription{Stream: west.Next.Stream, Memory: west.Next.Memory, Reports: map[string]owner.Report{"east": rep}})
	if west.Plan == nil || west.Plan.ResetTo == nil || *west.Plan.ResetTo != pos(1, 0) {
		t.Fatalf("west's plan %v; want a reset back to 1:0", west.Plan)
	}
}

// Finding 3: a clear-backlog on the mirror is undone there and never in
// what it exports.
func TestClearBacklogOnMirrorIsUndoneAndNotExported(t *testing.T) {
	east := decide(t, "east", read(1000, map[string]cursor.SubState{"billing": withConsumer(pos(1, 39))}), Subscription{})
	reports := map[string]owner.Report{"east": received(t, owner.Report{}, east.Publish, 1001)}
	west := decide(t, "west", read(1002, map[string]cursor.SubState{"billing": idle(pos(1, 39))}), Subscription{Reports: reports})
	west = decide(t, "west", read(2000, map[string]cursor.SubState{"billing": idle(pos(1, 49))}),
		Subscription{Stream: west.Next.Stream, Memory: west.Next.Memory, Reports: reports})
	if west.Plan == nil || west.Plan.ResetTo == nil || *west.Plan.ResetTo != pos(1, 40) {
		t.Fatalf("west's plan %v; want a reset back to 1:40", west.Plan)
	}
	if !west.Step.Export.Acked.Equal(eastIDs(t, 0, 39)) {
		t.Fatalf("west exports %v; want only east's 3:0..39", west.Step.Export.Acked)
	}
}

// Finding 1: a recreated topic's old runs never count under a new
// mark-delete position.
func TestRunsOfAGoneLedgerAreNotAcknowledged(t *testing.T) {
	ts := topicOf(map[string]cursor.SubState{"billing": withConsumer(pos(7, -1))})
	ts.Ledgers, ts.LastConfirmed = []cursor.Ledger{{ID: 7}}, pos(7, -1)
	rd := decide(t, "west", NewRead(1000, ts, runs, true), Subscription{})
	if got := publishedSet(t, rd.Publish); !got.IsEmpty() {
		t.Fatalf("published %v; want nothing acknowledged", got)
	}
}

// Finding 4: the owner's deletion is published and mirrored; a mirror's
// own deletion is never undone.
func TestDeletionPropagatesAndSticks(t *testing.T) {
	east := decide(t, "east", read(1000, map[string]cursor.SubState{"billing": withConsumer(pos(1, 9))}), Subscription{})
	east = decide(t, "east", read(2000, map[string]cursor.SubState{}), Subscription{Stream: east.Next.Stream, Memory: east.Next.Memory})
	if east.Publish == nil || !east.Publish.Deleted {
		t.Fatalf("east published %+v; want the deletion", east.Publish)
	}
	reports := map[string]owner.Report{"east": received(t, owner.Report{}, east.Publish, 2001)}
	west := decide(t, "west", read(2002, map[string]cursor.SubState{"billing": idle(pos(1, 9))}), Subscription{Reports: reports})
	if !west.Delete || west.Plan != nil {
		t.Fatalf("west: delete %v plan %v; want the subscription deleted", west.Delete, west.Plan)
	}
	west = decide(t, "west", read(3000, map[string]cursor.SubState{}), Subscription{Stream: west.Next.Stream, Memory: west.Next.Memory, Reports: reports})
	if west.Delete || west.Plan != nil {
		t.Fatalf("west after the deletion: delete %v plan %v; want nothing", west.Delete, west.Plan)
	}
}

func TestRefusedCursorDoesNothing(t *testing.T) {
	rd := decide(t, "east", read(1000, map[string]cursor.SubState{"billing": withConsumer(pos(1, 99))}), Subscription{})
	if rd.Refused == nil || rd.Publish != nil || rd.Plan != nil {
		t.Fatalf("ready %+v; want a refused cursor and nothing else", rd)
	}
}

// A mirror never resets back while its tail has not judged every entry.
func TestNoExactPlanBeforeTheTailCaughtUp(t *testing.T) {
	east := decide(t, "east", read(1000, map[string]cursor.SubState{"billing": withConsumer(pos(1, 9))}), Subscription{})
	r := NewRead(1002, topicOf(map[string]cursor.SubState{"billing": idle(pos(1, 49))}), runs, false)
	west := decide(t, "west", r, Subscription{Reports: map[string]owner.Report{"east": received(t, owner.Report{}, east.Publish, 1001)}})
	if west.Plan != nil && west.Plan.ResetTo != nil {
		t.Fatalf("west's plan %v resets before the tail caught up", west.Plan)
	}
}

func TestQuietRoundPublishesNothing(t *testing.T) {
	subs := map[string]cursor.SubState{"billing": withConsumer(pos(1, 9))}
	first := decide(t, "east", read(1000, subs), Subscription{})
	again := decide(t, "east", read(2000, subs), Subscription{Stream: first.Next.Stream, Memory: first.Next.Memory})
	if again.Publish != nil {
		t.Fatalf("published %+v with nothing changed", again.Publish)
	}
	if full := decide(t, "east", read(1000+30_000, subs), Subscription{Stream: first.Next.Stream, Memory: first.Next.Memory}); full.Publish == nil || !full.Publish.Full {
		t.Fatal("no full state after FullEvery")
	}
}

// A read takes the cursor before the consumers: consumers that were listed
// at the last read, or asked for messages since, may have acknowledged
// into this cursor and left before this list. What the cursor gained is
// theirs, never a local act, and the owner exports it.
func TestConsumersGoneBetweenCursorAndListAreNotLocalActs(t *testing.T) {
	subs := func(mdp ackset.Position) map[string]cursor.SubState {
		return map[string]cursor.SubState{"billing": {MarkDelete: mdp, Type: "Shared", LastFlow: 900}}
	}
	// Read 1: consumers asked for messages (flow 900) and are gone.
	s := Subscription{}
	rd := decide(t, "east", read(1000, subs(pos(1, 9))), s)
	s = Subscription{Stream: rd.Next.Stream, Memory: rd.Next.Memory, Seen: rd.Next.Seen}
	// Read 2: their last acknowledgements reached the cursor after read 1.
	rd = decide(t, "east", read(2000, subs(pos(1, 39))), s)
	if !rd.Next.Memory.LocalOnly.IsEmpty() || !rd.Step.Export.Acked.Equal(eastIDs(t, 0, 39)) {
		t.Fatalf("local-only %v, exported %v; want the consumers' 3:0..39 exported", rd.Next.Memory.LocalOnly, rd.Step.Export.Acked)
	}
	s = Subscription{Stream: rd.Next.Stream, Memory: rd.Next.Memory, Seen: rd.Next.Seen}
	// Read 3: quiet since read 1; a skip acknowledged 40..44 here.
	rd = decide(t, "east", read(3000, subs(pos(1, 44))), s)
	if !rd.Next.Memory.LocalOnly.Equal(eastIDs(t, 40, 44)) {
		t.Fatalf("local-only %v; want the skipped 3:40..44", rd.Next.Memory.LocalOnly)
	}
}
