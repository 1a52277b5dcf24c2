// Package owner decides, for one subscription of one topic partition, which
// cluster owns its acknowledged state and what this cluster does about it:
// what it tells the other clusters, whether its cursor follows the owner
// exactly, takes the union of several active clusters, or is left alone,
// and whether subsync creates or deletes it here.
//
// It implements the semantics of the design brief ("Who owns a
// subscription's state", "Lifecycle"):
//
//   - The owner is the cluster where application consumers are attached
//     (subsync's own acknowledging consumer does not count). With no
//     consumers anywhere the cluster where they were seen last keeps it;
//     where none were ever seen, nobody owns the subscription and nothing
//     is synced.
//   - Every other cluster mirrors the owner's acknowledged set exactly, a
//     rewind included; with several clusters active at once each receiver
//     takes the union of their sets and never un-acknowledges.
//   - Acknowledgements a passive cluster's cursor gained that subsync did
//     not apply (TTL, skip, clear-backlog, an operator's reset) stay local:
//     they are never in what it exports, even after it becomes the owner.
//   - A subscription deleted on its owner is deleted on the mirrors; one
//     deleted anywhere is never recreated by subsync until its owner
//     recreates it.
//
// Decide is a pure function of what was observed locally, what the remote
// clusters last said, what this cluster remembers (Memory) and the time;
// it returns a Step: the role, what to export, what the local cursor should
// hold, what to create or delete, and the Memory to keep. The caller (the
// replicator's worker) reads cursors, receives updates, persists Memory and
// performs the Step. This package must not touch the network, Pulsar, the
// store or clocks, and knows nothing of positions: sets here are EntryIDs.
package owner
