// Package ackset owns the acknowledgement state of a subscription as data.
//
// It holds:
//   - Position and EntryID, the local and the cluster-independent identity of
//     an entry;
//   - Pulsar's individuallyDeletedMessages (IDM) text format (ParseIDM,
//     FormatIDM) as printed by the broker's internal stats;
//   - Set, the acknowledged entries of one subscription as EntryIDs (per
//     origin cluster, per origin ledger, a roaring bitmap of entry ids);
//   - Run, one stretch of the tail index (consecutive local entries that map
//     to consecutive entries of one origin ledger), and the pure translation
//     between a cursor state (mark-delete position + IDM) and a Set over a
//     list of runs (FromCursor, ToLocal);
//   - the versioned binary encoding of a Set and of a Delta between two Sets.
//
// Everything here is pure and deterministic: the package must not touch the
// network, Pebble, clocks, logging or any global state. Decoders treat their
// input as untrusted: they return errors, never panic, and bound their
// allocations by the size of the input.
//
// The safety rule of subsync shapes the translation: a position is reported
// only if its EntryID is explicitly known to be acknowledged. FromCursor
// reports an EntryID only when every local copy of it is acknowledged, and
// ToLocal returns only positions whose EntryID is in the given Set.
package ackset
