// Package sim owns a deterministic, seeded simulation of two or three
// clusters whose daemons decide with owner.Decide for one subscription of
// one topic, and the invariants it checks after every event.
//
// It must not touch the network, Pulsar, the store, clocks or goroutines:
// time is a number the simulation advances, randomness is math/rand/v2's
// PCG seeded by the run's seed, and equal seeds give equal runs, trace
// included. It uses package owner as its callers do and changes nothing
// in it.
//
// # The model
//
// Each cluster has a topic (a growing set of EntryIDs, origin = the
// producing cluster, ledger 0, entry = a sequence per origin), which gets
// the other clusters' entries by replication, in order per origin, late,
// and now and then without one (skipped by the replicator). The
// subscription there exists or not; its cursor is a set of EntryIDs, and
// every entry in it was put there by exactly one of: the application's
// consumers there (cons), subsync (subs: ApplyExact, ApplyUnion), or a
// local act (loc: TTL, skip, clear-backlog). Application consumers are
// attached or not (a failover moves them; a switchover attaches them on
// two clusters) and stamp the subscription's last flow when they attach
// and acknowledge.
//
// Each cluster's daemon has a Memory and the reports it imported, both
// persisted (a crash loses only its outgoing messages), and steps: read
// the subscription into owner.Local, call owner.Decide, keep the Memory,
// send the Export to every other cluster if Step.Export.Send, then
// perform the Step: Create (an empty subscription), Delete, ApplyExact
// (cursor = Want ∩ the entries the topic has, never with consumers
// attached) or ApplyUnion (cursor ∪= Want ∩ the entries it has). A
// control link per pair of daemons delays, reorders, duplicates and loses
// messages; the receiver keeps the newest report per sender (by sequence)
// and takes its arrival time as Report.Received.
//
// Random events: produce, replicate, a daemon step, deliver / duplicate /
// lose a message, consumers acknowledge (out of order), nack, rewind
// (un-acknowledge everything after a position of the local topic),
// attach (failover or switchover; creating the subscription if missing),
// detach, a local act on a cluster without consumers, an operator deletes
// the subscription, creates it (no consumers), or deletes and recreates
// it where the consumers are (they attach to the new, empty one), a
// daemon crashes or restarts, time passes (sometimes beyond Silence), and
// settle: every daemon up, four rounds of a step on every cluster and
// every message delivered, then the liveness check.
//
// # The truth
//
// W is the set of entries the application stands behind: an application
// consumer acknowledged it and it was not un-acknowledged since by a
// rewind or a recreation on the cluster of the consumers, or the deletion
// of the subscription on its owner (each such removal is a "tomb", made
// at a cluster x). A failover adopts the state the application consumes
// from: attaching on a cluster adds what that cursor holds (but loc) to
// W, and so does a union applied on an active cluster. Ownership in the
// truth is the design's rule on everything observable: the one active
// cluster (consumers attached, or a flow within Linger), else the latest
// seen active by a daemon read (or by a flow the daemon there has yet to
// read), ties to the smaller name.
//
// # The invariants
//
// 1. Safety (checked at every export and every apply).
//
//	(a) Local stays local: an Export carries only entries consumers or
//	    subsync put in the cursor (an entry subsync was told to apply
//	    that a local act acknowledged when it arrived is subsync's), and
//	    of those a local act put there only ones the application stands
//	    behind (W) or that a report the daemon held at its previous step
//	    justifies as in (b): what the owner wants acknowledged anyway.
//	(b) No acknowledgement nobody wants: every entry subsync puts in a
//	    cursor (or takes over from a local act) is in W now; or is, in a
//	    report the daemon holds, "lagged" state of a sender that was the
//	    owner or an active cluster (below); or, unless it was
//	    un-acknowledged at this very cluster and its daemon has seen that
//	    (the echo that undoes a rewind), is in a report the daemon holds
//	    and was in W when that was sent, or had left W by a tomb at a
//	    cluster x the sender could not have seen (no report from x sent
//	    at or after a daemon read on x saw the tomb had reached it by its
//	    previous step), or had seen but, by the design's rule on what it
//	    knew then, took another cluster for the owner. Lag is inherent: a
//	    rewind not yet heard of is not mirrored. An entry applied while
//	    not in W is lagged where it was applied: if that cluster exports
//	    it as the owner (in truth, or by the design's rule on what its
//	    daemon knows) or an active cluster, it is its state.
//
// 2. Deletion (checked before every Create a daemon performs).
//
//	(a) Once the subscription was deleted on its owner and nobody
//	    recreated it, no daemon that has heard from every cluster since
//	    (so that no stale report excuses it) creates it.
//	(b) One an operator deleted on a mirror is created there again by
//	    subsync only after its owner deleted it and it was recreated
//	    (after the deletion here, or before it but unheard of here), or
//	    after this daemon saw, by the design's rule on what it had heard,
//	    that the owner had deleted it too.
//
// 3. Liveness (after a settle). With consumers attached on exactly one
// cluster O, every other cluster's subscription exists unless an
// operator deleted it there, and its cursor equals, of the entries its
// topic has, what O's cursor holds but local acts put there (nor, see
// below, what O's daemon cannot tell from them). With consumers nowhere
// and the subscription deleted on its owner, it exists nowhere.
//
// # What a daemon cannot see, and the schedule
//
// A daemon learns only from its reads and the reports it holds, so the
// invariants are stated on what it could know, and the schedule keeps
// apart what no daemon could tell apart:
//
//   - A subscription that existed only between two reads (created and
//     deleted in between) is invisible: its deletion is nobody's.
//   - Consumer activity and local acts do not share a read interval on a
//     cluster (the daemon reads in between), and a local act waits for
//     the daemon's first read of a new incarnation: an acknowledgement
//     gained between two reads while consumers were (or flowed) there is
//     theirs to the daemon.
//   - An entry a read found acknowledged by a local act that is reset
//     and acknowledged again by consumers before the next read cannot be
//     told from one whose reset never landed; the daemon keeps it local
//     (duplicates, never loss), and liveness expects it so.
//   - A rewind or a recreation happens only while the application is on
//     one cluster alone (no other cluster active or claiming to be in a
//     report held or on its way): while several are active the design
//     takes the union and does not un-acknowledge.
//   - An operator's deletion is the owner's or a mirror's as the daemon
//     there finds it: by the design's rule on what it had heard at the
//     read that found the subscription gone.
//   - An entry subsync was told to apply and that arrived later is
//     subsync's, whoever acknowledges it.
package sim
