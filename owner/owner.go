package owner

import (
	"slices"

	"github.com/subsync/subsync/ackset"
)

// Role is what this cluster is for the subscription.
type Role uint8

const (
	// Unowned: no cluster has seen application consumers; nothing is synced.
	Unowned Role = iota
	// Owns: this cluster owns the state; it exports and applies nothing.
	Owns
	// Mirrors: another cluster owns the state; this cursor follows it exactly.
	Mirrors
	// Shares: application consumers are attached on several clusters; each
	// exports its own, receivers take the union and never un-acknowledge.
	Shares
)

func (r Role) String() string {
	switch r {
	case Owns:
		return "owner"
	case Mirrors:
		return "mirror"
	case Shares:
		return "shared"
	}
	return "unowned"
}

// Presence is what a cluster says about the subscription's application
// consumers there.
type Presence struct {
	Active     bool  // application consumers attached when it reported
	LastActive int64 // unix ms they were last seen attached; 0: never
}

// Report is a remote cluster's last word on the subscription.
type Report struct {
	Presence
	// Exists is false when the sender says the subscription was deleted
	// there after it had existed.
	Exists bool
	// Acked is the sender's consumers' acknowledged set.
	Acked ackset.Set
	// Received is when it arrived, unix ms on this cluster's clock.
	Received int64
}

// Local is one read of the subscription on this cluster.
type Local struct {
	Exists bool
	// AppConsumers counts attached consumers other than subsync's own.
	AppConsumers int
	// LastFlow is when an application consumer last asked the broker for
	// messages (the subscription's lastConsumedFlowTimestamp; subsync's
	// zero-queue consumer never asks), unix ms; 0 when unknown. It shows a
	// consumer that came and went between two reads.
	LastFlow int64
	// Acked is the cursor's acknowledged set as EntryIDs.
	Acked ackset.Set
}

// Memory is what this cluster keeps about the subscription between steps
// and across restarts. The zero Memory is a subscription never seen.
type Memory struct {
	LastActive int64 // unix ms application consumers were last seen here
	Known      bool  // the subscription existed here at the last read
	// Deleted: it disappeared here after it had existed. subsync does not
	// create it again until its owner deletes and recreates it.
	Deleted bool
	// OwnerDeleted: the owner's last word was a deletion, so a later
	// "exists" from it is a recreation.
	OwnerDeleted bool
	// DeletedOwning: it was found deleted here while this cluster owned
	// it (the owner's deletion), so an incarnation elsewhere whose
	// consumers were seen after this cluster's own is a recreation.
	DeletedOwning bool
	// Mirroring: the last step mirrored the owner (for the caller's
	// records; Decide does not need it).
	Mirroring bool
	// Idle: no application consumer was attached at the last read.
	Idle bool
	// Applied is what the cursor holds after the last step as far as
	// subsync knows: what it read there, or what subsync made it hold
	// (mirror) or added (union). LocalOnly is the acknowledgements the
	// cursor gained beyond Applied between two idle reads with no
	// consumer's flow in between, which nobody but a local act (TTL,
	// skip, clear-backlog, an operator) can have made. LocalOnly is never
	// exported.
	Applied   ackset.Set
	LocalOnly ackset.Set
}

// Apply says how the local cursor should follow Step.Want.
type Apply uint8

const (
	// ApplyNone: leave the cursor alone.
	ApplyNone Apply = iota
	// ApplyExact: the cursor must hold exactly Want (reset back if needed).
	ApplyExact
	// ApplyUnion: add Want to the cursor; never un-acknowledge.
	ApplyUnion
)

// Export is what this cluster tells the others.
type Export struct {
	Presence
	Exists bool
	Acked  ackset.Set
	// Send is false while the subscription was never seen here: there is
	// nothing to say.
	Send bool
}

// Step is the outcome of Decide.
type Step struct {
	Role   Role
	Owner  string // the owning cluster for Owns and Mirrors
	Export Export
	Apply  Apply
	Want   ackset.Set
	// Create: the subscription is missing here and must be created (at the
	// earliest position) before Want is applied. Memory then says it
	// exists here: a caller whose creation failed keeps its previous
	// Memory, or the next read takes the subscription for deleted here.
	Create bool
	// Delete: the owner deleted the subscription; delete it here.
	Delete bool
	Memory Memory
}

// Config holds the parameters of Decide.
type Config struct {
	Self string // this cluster's name
	// Silence is how long (ms) a remote's claim of active consumers counts
	// without a newer report: a remote whose daemon or cluster is gone says
	// nothing more, and its consumers are then presumed gone.
	Silence int64
	// Linger is how long (ms) after an application consumer last asked
	// for messages (Local.LastFlow) this cluster still counts as active: a
	// consumer that acknowledged and left between two reads was active,
	// and a cluster with consumers attached elsewhere must take its
	// acknowledgements in (union) before that other cluster owns alone.
	Linger int64
}

// Decide computes this cluster's step for one subscription at now (unix ms)
// from its local read, the remotes' last reports (by cluster) and its
// memory. It is pure: equal inputs give equal steps.
func Decide(cfg Config, now int64, local Local, remotes map[string]Report, mem Memory) Step {
	readBefore, lastActive := mem.Known, mem.LastActive
	mem = observe(mem, now, local)
	attached := local.Exists && local.AppConsumers > 0
	self := Presence{Active: local.Exists && (attached || (local.LastFlow > 0 && now-local.LastFlow <= cfg.Linger)),
		LastActive: mem.LastActive}
	role, owner := roleOf(cfg, now, self, remotes)
	step := Step{Role: role, Owner: owner}
	if local.Exists && readBefore && mem.Idle && !attached && mem.LastActive == lastActive {
		// No application consumer was attached at the last read, none is
		// now and none asked for messages in between (one that attaches
		// always does): what the cursor gained beyond what the last step
		// left in it was done here by someone else. It stays local, on a
		// mirror as on an owner whose consumers left, even after this
		// cluster owns. (What the cursor held when first read is taken
		// for its consumers'.)
		mem.LocalOnly = mem.LocalOnly.Union(local.Acked.Difference(mem.Applied))
	}
	mem.Idle = !attached
	mem.Mirroring = role == Mirrors
	mem.Applied = local.Acked
	step.Export = Export{Presence: self, Exists: local.Exists, Send: mem.Known || mem.Deleted}
	if local.Exists {
		step.Export.Acked = local.Acked.Difference(mem.LocalOnly)
	}
	switch role {
	case Mirrors:
		mem = mirror(&step, local, remotes[owner], mem)
	case Shares:
		mem = share(&step, cfg, now, local, remotes, mem)
	case Owns:
		if readBefore && !local.Exists {
			// Found deleted here while this cluster owns it: the owner's
			// deletion, so whatever incarnation the application starts
			// next, anywhere, is a recreation this cluster mirrors.
			mem.DeletedOwning = true
		}
	}
	if step.Create {
		// It exists once the caller has performed the step: gone at the
		// next read, someone deleted it here.
		mem.Known, mem.Deleted = true, false
	}
	step.Memory = mem
	return step
}

// observe folds a local read into memory: when consumers were last seen,
// whether the subscription exists or was deleted here.
func observe(mem Memory, now int64, local Local) Memory {
	if local.Exists && local.AppConsumers > 0 {
		mem.LastActive = max(mem.LastActive, now)
	}
	if local.Exists && local.LastFlow > mem.LastActive {
		// A broker's answer is untrusted: never later than now.
		mem.LastActive = min(local.LastFlow, now)
	}
	switch {
	case local.Exists && !mem.Known:
		mem.Known, mem.Deleted = true, false
	case !local.Exists && mem.Known:
		mem.Known, mem.Deleted = false, true
	}
	if local.Exists {
		// A rewind here un-acknowledged some of them: re-acknowledged by
		// consumers, they are theirs.
		mem.LocalOnly = mem.LocalOnly.Intersect(local.Acked)
		// An incarnation exists here: that the owner deleted an earlier
		// one no longer excuses creating it again once deleted here.
		mem.OwnerDeleted, mem.DeletedOwning = false, false
	} else {
		mem.LocalOnly, mem.Applied = ackset.Set{}, ackset.Set{}
	}
	return mem
}

// roleOf finds the owner: the one cluster with application consumers
// attached; with several, nobody (Shares); with none, the cluster where
// they were seen last (ties to the smaller name); where none were ever
// seen, nobody (Unowned).
func roleOf(cfg Config, now int64, self Presence, remotes map[string]Report) (Role, string) {
	var active []string
	best, bestAt := "", int64(0)
	consider := func(name string, p Presence) {
		if p.Active {
			active = append(active, name)
		}
		if p.LastActive > bestAt || (p.LastActive == bestAt && p.LastActive > 0 && name < best) {
			best, bestAt = name, p.LastActive
		}
	}
	consider(cfg.Self, self)
	for name, r := range remotes {
		if name == cfg.Self {
			continue
		}
		consider(name, presenceOf(cfg, now, r))
	}
	switch {
	case len(active) == 1:
		best = active[0]
	case len(active) > 1:
		return Shares, ""
	case best == "":
		return Unowned, ""
	}
	if best == cfg.Self {
		return Owns, best
	}
	return Mirrors, best
}

// presenceOf is a remote's presence as it counts now: an active claim not
// renewed within Silence has lapsed, and so has one whose sender saw its
// consumers last more than Silence (and Linger) ago, however late it
// arrived (an active sender's LastActive is its read, or a flow within
// Linger of it; this compares the two clusters' clocks, as ownership
// does).
func presenceOf(cfg Config, now int64, r Report) Presence {
	p := r.Presence
	if p.Active && (now-r.Received > cfg.Silence || now-p.LastActive > cfg.Silence+cfg.Linger) {
		p.Active = false
	}
	return p
}

// mirror follows the owner exactly: its deletion, its recreation, its set.
func mirror(step *Step, local Local, owner Report, mem Memory) Memory {
	if !owner.Exists {
		mem.OwnerDeleted = true
		step.Delete = local.Exists
		return mem
	}
	if mem.OwnerDeleted || (mem.DeletedOwning && owner.LastActive > mem.LastActive) {
		// Deleted and created again on the owner, or the application
		// consumes elsewhere since it was deleted here on its owner: a
		// new incarnation that may be mirrored, even where it had been
		// deleted. (A claim from before, however late it arrives, is no
		// new incarnation.)
		mem.OwnerDeleted, mem.DeletedOwning, mem.Deleted = false, false, false
	}
	if !local.Exists {
		if mem.Deleted {
			return mem
		}
		step.Create = true
	}
	step.Apply, step.Want = ApplyExact, owner.Acked
	mem.Applied = owner.Acked
	// What the owner acknowledged is its state, whoever acknowledged it
	// here first.
	mem.LocalOnly = mem.LocalOnly.Difference(owner.Acked)
	return mem
}

// share adds what every other active cluster's consumers acknowledged.
func share(step *Step, cfg Config, now int64, local Local, remotes map[string]Report, mem Memory) Memory {
	names := make([]string, 0, len(remotes))
	for name := range remotes {
		names = append(names, name)
	}
	slices.Sort(names)
	var want ackset.Set
	for _, name := range names {
		r := remotes[name]
		if name != cfg.Self && r.Exists && presenceOf(cfg, now, r).Active {
			want = want.Union(r.Acked)
		}
	}
	if want.IsEmpty() || (!local.Exists && mem.Deleted) {
		return mem
	}
	step.Create = !local.Exists
	step.Apply, step.Want = ApplyUnion, want
	mem.Applied = mem.Applied.Union(want)
	mem.LocalOnly = mem.LocalOnly.Difference(want)
	return mem
}
