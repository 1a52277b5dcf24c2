package owner

import (
	"testing"

	"github.com/subsync/subsync/ackset"
)

const silence = 30_000

func cfgOf(self string) Config { return Config{Self: self, Silence: silence} }

// ids is the set of east's entries 0:first..0:last.
func ids(t *testing.T, first, last int64) ackset.Set {
	t.Helper()
	var s ackset.Set
	if last >= first {
		if err := s.AddRange("east", 0, first, last); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func active(acked ackset.Set) Local  { return Local{Exists: true, AppConsumers: 1, Acked: acked} }
func passive(acked ackset.Set) Local { return Local{Exists: true, Acked: acked} }

// pair runs one step on each of two clusters and hands each one's export
// to the other, as the control topic would.
type pair struct {
	t       *testing.T
	now     int64
	mem     map[string]Memory
	reports map[string]map[string]Report // receiver -> sender -> report
	last    map[string]Step
}

func newPair(t *testing.T) *pair {
	return &pair{t: t, now: 1_000_000, mem: map[string]Memory{},
		reports: map[string]map[string]Report{"east": {}, "west": {}}, last: map[string]Step{}}
}

func (p *pair) step(self string, local Local) Step {
	p.now += 1000
	s := Decide(cfgOf(self), p.now, local, p.reports[self], p.mem[self])
	p.mem[self] = s.Memory
	p.last[self] = s
	if s.Export.Send {
		for other := range p.reports {
			if other != self {
				p.reports[other][self] = Report{Presence: s.Export.Presence, Exists: s.Export.Exists,
					Acked: s.Export.Acked, Received: p.now}
			}
		}
	}
	return s
}

func TestOwnerIsWhereConsumersAre(t *testing.T) {
	p := newPair(t)
	east := p.step("east", active(ids(t, 0, 9)))
	west := p.step("west", passive(ackset.Set{}))
	if east.Role != Owns || east.Apply != ApplyNone {
		t.Fatalf("east: role %v apply %v; want owner applying nothing", east.Role, east.Apply)
	}
	if west.Role != Mirrors || west.Owner != "east" || west.Apply != ApplyExact || !west.Want.Equal(ids(t, 0, 9)) {
		t.Fatalf("west: %+v; want mirror of east's 0..9", west)
	}
}

func TestNobodyEverActiveSyncsNothing(t *testing.T) {
	p := newPair(t)
	p.step("east", passive(ids(t, 0, 4)))
	west := p.step("west", Local{})
	if west.Role != Unowned || west.Apply != ApplyNone || west.Create {
		t.Fatalf("west: %+v; want nothing done for a subscription nobody consumed", west)
	}
}

func TestConsumerSeenOnlyThroughFlowMakesOwner(t *testing.T) {
	p := newPair(t)
	east := p.step("east", Local{Exists: true, LastFlow: p.now + 500, Acked: ids(t, 0, 3)})
	if east.Role != Owns {
		t.Fatalf("east role %v; want owner after a consumer asked for messages between reads", east.Role)
	}
	west := p.step("west", Local{})
	if west.Role != Mirrors || !west.Create {
		t.Fatalf("west: %+v; want a mirror that creates the subscription", west)
	}
}

func TestFlowFromTheFutureIsCapped(t *testing.T) {
	s := Decide(cfgOf("east"), 1000, Local{Exists: true, LastFlow: 1 << 62}, nil, Memory{})
	if s.Memory.LastActive != 1000 {
		t.Fatalf("LastActive %d; want capped at now (1000)", s.Memory.LastActive)
	}
}

// Finding 2: a rewind on the owner is mirrored, and the mirror's own
// (pre-rewind) cursor never undoes it.
func TestRewindOnOwnerIsMirroredNotUndone(t *testing.T) {
	p := newPair(t)
	p.step("east", active(ids(t, 0, 49)))
	p.step("west", passive(ackset.Set{}))
	p.step("west", passive(ids(t, 0, 49))) // applied
	east := p.step("east", active(ackset.Set{}))
	if east.Apply != ApplyNone {
		t.Fatalf("owner after rewind applies %v; want nothing (west's stale set is an echo)", east.Apply)
	}
	west := p.step("west", passive(ids(t, 0, 49)))
	if west.Apply != ApplyExact || !west.Want.IsEmpty() {
		t.Fatalf("west after east's rewind: apply %v want %v; want exactly east's empty set", west.Apply, west.Want)
	}
}

// Finding 3: TTL, skip or clear-backlog on the mirror never reach the
// owner, and stay out of the mirror's export after it becomes the owner.
func TestLocalChangesOnMirrorStayLocal(t *testing.T) {
	p := newPair(t)
	p.step("east", active(ids(t, 0, 9)))
	p.step("west", passive(ackset.Set{}))
	p.step("west", passive(ids(t, 0, 9)))
	// clear-backlog on west: 0..49 acknowledged there.
	west := p.step("west", passive(ids(t, 0, 49)))
	if west.Apply != ApplyExact || !west.Want.Equal(ids(t, 0, 9)) {
		t.Fatalf("west: %v %v; want reset back to east's 0..9", west.Apply, west.Want)
	}
	if east := p.step("east", active(ids(t, 0, 9))); east.Apply != ApplyNone {
		t.Fatalf("east applies %v; want nothing from a mirror", east.Apply)
	}
	// Before the reset lands, east's consumers leave and west's attach.
	p.step("east", passive(ids(t, 0, 9)))
	west = p.step("west", active(ids(t, 0, 49)))
	if west.Role != Owns {
		t.Fatalf("west role %v; want owner", west.Role)
	}
	if !west.Export.Acked.Equal(ids(t, 0, 9)) {
		t.Fatalf("west exports %v; want only 0..9 (10..49 were cleared locally)", west.Export.Acked)
	}
	// West's consumers acknowledge more: theirs are exported.
	more := ids(t, 0, 49)
	_ = more.AddRange("west", 0, 0, 4)
	west = p.step("west", active(more))
	want := ids(t, 0, 9)
	_ = want.AddRange("west", 0, 0, 4)
	if !west.Export.Acked.Equal(want) {
		t.Fatalf("west exports %v; want %v", west.Export.Acked, want)
	}
}

// A cluster's consumers' own acknowledgements are never taken for local
// changes when it turns mirror.
func TestOwnersAcksAreNotLocalOnlyAfterHandover(t *testing.T) {
	p := newPair(t)
	p.step("east", active(ids(t, 0, 19)))
	p.step("west", passive(ackset.Set{}))
	p.step("west", passive(ids(t, 0, 19)))
	// Consumers move to west.
	p.step("west", active(ids(t, 0, 29)))
	east := p.step("east", passive(ids(t, 0, 19)))
	if east.Role != Mirrors || !east.Memory.LocalOnly.IsEmpty() {
		t.Fatalf("east: role %v localOnly %v; want a mirror with nothing local-only", east.Role, east.Memory.LocalOnly)
	}
	p.step("east", passive(ids(t, 0, 29)))
	// And back: east exports everything its cursor holds.
	east = p.step("east", active(ids(t, 0, 29)))
	p.step("west", passive(ids(t, 0, 29)))
	east = p.step("east", active(ids(t, 0, 29)))
	if east.Role != Owns || !east.Export.Acked.Equal(ids(t, 0, 29)) {
		t.Fatalf("east: %v exports %v; want owner exporting 0..29", east.Role, east.Export.Acked)
	}
}

// Findings 1 and 4: a subscription deleted on the mirror (with its topic,
// or alone) is not recreated, and the owner is not touched.
func TestDeletedOnMirrorStaysDeletedAndOwnerUntouched(t *testing.T) {
	p := newPair(t)
	p.step("east", active(ackset.Set{}))
	p.step("west", passive(ackset.Set{}))
	p.step("west", passive(ids(t, 0, 9)))
	west := p.step("west", Local{})
	if west.Create || west.Apply != ApplyNone {
		t.Fatalf("west after local deletion: %+v; want nothing created or applied", west)
	}
	east := p.step("east", active(ackset.Set{}))
	if east.Apply != ApplyNone || east.Delete {
		t.Fatalf("east: %+v; want the owner untouched by a mirror's deletion", east)
	}
	for i := 0; i < 3; i++ {
		if west = p.step("west", Local{}); west.Create {
			t.Fatal("west recreated a subscription deleted there")
		}
	}
}

// Finding 4: deletion on the owner propagates and is never undone; a
// recreation on the owner is mirrored again.
func TestDeletionOnOwnerPropagates(t *testing.T) {
	p := newPair(t)
	p.step("east", active(ids(t, 0, 4)))
	p.step("west", passive(ackset.Set{}))
	p.step("east", Local{})
	west := p.step("west", passive(ids(t, 0, 4)))
	if !west.Delete || west.Create {
		t.Fatalf("west: %+v; want the subscription deleted", west)
	}
	for i := 0; i < 3; i++ {
		p.step("east", Local{})
		if west = p.step("west", Local{}); west.Create || west.Delete {
			t.Fatalf("west step %d: %+v; want nothing more", i, west)
		}
	}
	p.step("east", active(ackset.Set{}))
	if west = p.step("west", Local{}); !west.Create {
		t.Fatalf("west: %+v; want the owner's recreation mirrored", west)
	}
}

func TestSilentActiveRemoteLapsesButKeepsOwnership(t *testing.T) {
	p := newPair(t)
	p.step("east", active(ids(t, 0, 9)))
	p.now += 2 * silence // east's cluster dies, its daemon with it
	west := p.step("west", passive(ids(t, 0, 9)))
	if west.Role != Mirrors || west.Owner != "east" {
		t.Fatalf("west: %v %q; want east to stay owner (seen active last)", west.Role, west.Owner)
	}
	west = p.step("west", active(ids(t, 0, 12)))
	if west.Role != Owns {
		t.Fatalf("west role %v; want owner once its consumers attach", west.Role)
	}
}

func TestBothActiveTakeTheUnion(t *testing.T) {
	p := newPair(t)
	p.step("east", active(ids(t, 0, 9)))
	west := p.step("west", active(ids(t, 20, 29)))
	if west.Role != Shares || west.Apply != ApplyUnion || !west.Want.Equal(ids(t, 0, 9)) {
		t.Fatalf("west: %+v; want the union with east's 0..9", west)
	}
	east := p.step("east", active(ackset.Set{})) // a rewind while both active
	if east.Apply != ApplyUnion || !east.Want.Equal(ids(t, 20, 29)) {
		t.Fatalf("east: %v %v; want union with west's 20..29", east.Apply, east.Want)
	}
	if west = p.step("west", active(ids(t, 0, 29))); west.Apply != ApplyNone {
		t.Fatalf("west applies %v from east's empty set; want nothing (never un-ack while active)", west.Apply)
	}
}

func TestTieOnLastActiveGoesToSmallerName(t *testing.T) {
	r := map[string]Report{"west": {Presence: Presence{LastActive: 5}, Exists: true, Received: 5}}
	s := Decide(cfgOf("east"), 10, passive(ackset.Set{}), r, Memory{LastActive: 5, Known: true})
	if s.Role != Owns {
		t.Fatalf("east role %v; want owner on a tie", s.Role)
	}
	r = map[string]Report{"east": {Presence: Presence{LastActive: 5}, Exists: true, Received: 5}}
	s = Decide(cfgOf("west"), 10, passive(ackset.Set{}), r, Memory{LastActive: 5, Known: true})
	if s.Role != Mirrors || s.Owner != "east" {
		t.Fatalf("west: %v %q; want mirror of east", s.Role, s.Owner)
	}
}

func TestDecideIsPure(t *testing.T) {
	r := map[string]Report{"west": {Presence: Presence{Active: true, LastActive: 9}, Exists: true, Acked: ids(t, 0, 3), Received: 9}}
	a := Decide(cfgOf("east"), 10, passive(ids(t, 0, 1)), r, Memory{Known: true})
	b := Decide(cfgOf("east"), 10, passive(ids(t, 0, 1)), r, Memory{Known: true})
	if a.Role != b.Role || !a.Want.Equal(b.Want) || a.Apply != b.Apply || !a.Export.Acked.Equal(b.Export.Acked) {
		t.Fatalf("two equal calls differ: %+v vs %+v", a, b)
	}
}

func TestRecentFlowCountsAsActiveForLinger(t *testing.T) {
	cfg := Config{Self: "east", Silence: silence, Linger: 5000}
	local := Local{Exists: true, LastFlow: 10_000}
	if s := Decide(cfg, 14_000, local, nil, Memory{}); !s.Export.Active {
		t.Fatal("a consumer that asked for messages 4 s ago does not count as active")
	}
	if s := Decide(cfg, 16_000, local, nil, Memory{}); s.Export.Active {
		t.Fatal("a consumer that asked for messages 6 s ago still counts as active")
	}
}

// Found by owner/sim: local changes stay local on every passive cluster,
// not only on a mirror: a clear-backlog on the owner after its
// consumers left is not exported.
func TestLocalChangesOnPassiveOwnerStayLocal(t *testing.T) {
	p := newPair(t)
	p.step("east", active(ids(t, 0, 9)))
	p.step("west", passive(ackset.Set{}))
	p.step("west", passive(ids(t, 0, 9)))
	p.step("east", passive(ids(t, 0, 9))) // consumers leave: east keeps ownership
	east := p.step("east", passive(ids(t, 0, 49)))
	if east.Role != Owns || !east.Export.Acked.Equal(ids(t, 0, 9)) {
		t.Fatalf("east: %v exports %v; want owner exporting 0..9 (10..49 were cleared locally)", east.Role, east.Export.Acked)
	}
	if west := p.step("west", passive(ids(t, 0, 9))); !west.Want.Equal(ids(t, 0, 9)) {
		t.Fatalf("west wants %v; want 0..9", west.Want)
	}
	// Consumers come back: still not theirs.
	if east = p.step("east", active(ids(t, 0, 49))); !east.Export.Acked.Equal(ids(t, 0, 9)) {
		t.Fatalf("east exports %v with consumers back; want 0..9", east.Export.Acked)
	}
}

// The same before any consumer was ever seen: an operator's subscription
// expires entries by TTL, then consumers attach.
func TestLocalChangesBeforeAnyConsumerStayLocal(t *testing.T) {
	p := newPair(t)
	p.step("east", passive(ackset.Set{}))
	p.step("east", passive(ids(t, 0, 4))) // TTL
	east := p.step("east", active(ids(t, 0, 4)))
	if east.Role != Owns || !east.Export.Acked.IsEmpty() {
		t.Fatalf("east: %v exports %v; want owner exporting nothing (0..4 expired locally)", east.Role, east.Export.Acked)
	}
}

// An acknowledgement a consumer may have made is not taken for a local
// one: consumers attached at the last read, or a flow since.
func TestConsumersBetweenReadsAreNotLocal(t *testing.T) {
	p := newPair(t)
	p.step("east", active(ids(t, 0, 4)))
	if east := p.step("east", passive(ids(t, 0, 9))); !east.Export.Acked.Equal(ids(t, 0, 9)) {
		t.Fatalf("east exports %v; want 0..9 (consumers were attached at the last read)", east.Export.Acked)
	}
	p.now += 1000
	flowed := passive(ids(t, 0, 14))
	flowed.LastFlow = p.now + 500 // attached, acknowledged, left between two reads
	if east := p.step("east", flowed); !east.Export.Acked.Equal(ids(t, 0, 14)) {
		t.Fatalf("east exports %v; want 0..14 (a consumer flowed since the last read)", east.Export.Acked)
	}
}

// Found by owner/sim: a subscription subsync created on a
// mirror and an operator deleted before the next read stays deleted.
func TestCreatedThenDeletedBeforeNextReadIsNotRecreated(t *testing.T) {
	p := newPair(t)
	p.step("east", active(ids(t, 0, 4)))
	if west := p.step("west", Local{}); !west.Create {
		t.Fatalf("west: %+v; want the subscription created", west)
	}
	// An operator deletes it before west reads it again.
	if west := p.step("west", Local{}); west.Create {
		t.Fatal("west recreated a subscription an operator deleted there")
	}
}

// Found by owner/sim: the owner deletes the subscription, the
// mirrors follow; when the application subscribes again on another
// cluster (a new incarnation), the old owner mirrors it.
func TestOwnerDeletionThenRecreationElsewhereIsMirrored(t *testing.T) {
	p := newPair(t)
	p.step("east", active(ids(t, 0, 9)))
	p.step("west", passive(ackset.Set{}))
	p.step("east", Local{}) // the operator deletes it on the owner
	if west := p.step("west", passive(ids(t, 0, 9))); !west.Delete {
		t.Fatalf("west: %+v; want the subscription deleted", west)
	}
	p.step("west", Local{})
	p.step("east", Local{})
	p.step("west", active(ackset.Set{})) // subscribed again on west
	east := p.step("east", Local{})
	if east.Role != Mirrors || east.Owner != "west" || !east.Create {
		t.Fatalf("east: %+v; want a mirror of west creating the new incarnation", east)
	}
}

// A pitfall of that fix, found by owner/sim: a subscription deleted on a
// mirror stays deleted there even when, the owner silent, the mirror
// later looks like the owner (its own consumers were seen last).
func TestMirrorDeletionStaysWhenItLaterLooksLikeTheOwner(t *testing.T) {
	p := newPair(t)
	p.step("east", active(ids(t, 0, 9)))
	p.step("west", active(ids(t, 0, 9))) // seen active after east's report
	p.step("west", passive(ids(t, 0, 9)))
	if west := p.step("west", Local{}); west.Role != Mirrors {
		t.Fatalf("west role %v at its deletion; want mirror of active east", west.Role)
	}
	p.now += 2 * silence // east falls silent: its claim lapses
	if west := p.step("west", Local{}); west.Role != Owns || west.Create {
		t.Fatalf("west: %+v; want the owner (seen last), creating nothing", west)
	}
	p.step("east", active(ids(t, 0, 9))) // east speaks again
	if west := p.step("west", Local{}); west.Create {
		t.Fatalf("west: %+v; recreated the subscription deleted there", west)
	}
}

// A pitfall of the same fix, found by owner/sim: the owner's own deletion
// is not undone by a remote's stale claim of consumers (a report sent
// before and delivered late): only consumers seen there after this
// cluster's own mean a new incarnation to mirror.
func TestOwnerDeletionNotUndoneByStaleClaim(t *testing.T) {
	p := newPair(t)
	stale := p.now + 500 // west's consumers, seen before east's
	p.step("east", active(ids(t, 0, 9)))
	p.step("east", Local{}) // the owner deletes it
	p.reports["east"]["west"] = Report{Presence: Presence{Active: true, LastActive: stale}, Exists: true,
		Acked: ids(t, 0, 4), Received: p.now + 1000}
	if east := p.step("east", Local{}); east.Create {
		t.Fatalf("east: %+v; recreated the subscription deleted on it while it owned it", east)
	}
}

// Found by owner/sim: an entry a mirror acknowledged locally
// that the owner acknowledged too is the owner's state: it is exported
// once the mirror owns.
func TestLocalAckTheOwnerAlsoAckedIsTheOwners(t *testing.T) {
	p := newPair(t)
	p.step("east", active(ids(t, 0, 9)))
	p.step("west", passive(ackset.Set{}))
	p.step("west", passive(ids(t, 0, 9)))
	p.step("west", passive(ids(t, 0, 49))) // clear-backlog on west
	p.step("east", active(ids(t, 0, 19)))
	p.step("west", passive(ids(t, 0, 49))) // east's 0..19 now wanted
	p.step("west", passive(ids(t, 0, 19))) // the reset landed
	p.step("east", passive(ids(t, 0, 19)))
	west := p.step("west", active(ids(t, 0, 19)))
	if west.Role != Owns || !west.Export.Acked.Equal(ids(t, 0, 19)) {
		t.Fatalf("west: %v exports %v; want owner exporting 0..19", west.Role, west.Export.Acked)
	}
}

// Found by owner/sim: that the owner deleted an earlier
// incarnation does not excuse recreating a later one an operator deleted
// on a mirror.
func TestOldOwnerDeletionDoesNotResurrectALaterIncarnation(t *testing.T) {
	p := newPair(t)
	p.step("east", active(ids(t, 0, 9)))
	p.step("west", passive(ackset.Set{}))
	p.step("east", Local{}) // the owner deletes it
	p.step("west", passive(ids(t, 0, 9)))
	p.step("west", Local{})
	p.step("west", active(ackset.Set{})) // a new incarnation, on west
	p.step("east", Local{})
	p.step("east", passive(ackset.Set{})) // created on east by subsync
	p.step("west", passive(ackset.Set{}))
	p.step("east", active(ackset.Set{})) // the consumers move to east
	// An operator deletes it on west before west's next read.
	if west := p.step("west", Local{}); west.Role != Mirrors || west.Create {
		t.Fatalf("west: %+v; want a mirror of east that recreates nothing", west)
	}
}

// Found by owner/sim: a claim of active consumers that
// arrives late (sent long before, and nothing newer from its sender)
// has lapsed: an active sender's LastActive is when it last saw them.
func TestLateStaleActiveClaimLapses(t *testing.T) {
	p := newPair(t)
	sent := p.now // west's consumers, seen before east's
	p.step("east", active(ids(t, 0, 9)))
	p.step("east", passive(ids(t, 0, 9)))
	p.now += 3 * silence
	p.reports["east"]["west"] = Report{Presence: Presence{Active: true, LastActive: sent}, Exists: true,
		Acked: ids(t, 0, 19), Received: p.now}
	if east := p.step("east", passive(ids(t, 0, 9))); east.Role != Owns || east.Apply != ApplyNone {
		t.Fatalf("east: %v %v %v; want the owner (west's claim is over %d s old), applying nothing", east.Role, east.Apply, east.Want, 3*silence/1000)
	}
}
