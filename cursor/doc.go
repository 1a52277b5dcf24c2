// Package cursor owns the local side of a subscription's acknowledgement
// state: reading it from the broker (ReadTopic, over the small Admin
// interface), planning how to make a local cursor include a set of local
// positions (PlanApply, pure), and executing that plan against Pulsar
// (Applier: reset-cursor through the admin API; creating a missing
// subscription and individual acks through a zero-queue Shared consumer
// that never receives).
//
// The safety invariant shapes every decision here: a plan never acknowledges
// a position that is neither wanted nor already acknowledged locally, and a
// reset-cursor is used only when every entry it acknowledges is known to be
// wanted or acknowledged already. Ledger boundaries are crossed only when the
// ledger layout proves the entries on both sides are adjacent.
//
// The package must not touch the tail index, the control topic, the ack-set
// encoding or Pebble: it receives local positions (from ackset.ToLocal) and
// deals with one topic partition's cursors only.
package cursor
