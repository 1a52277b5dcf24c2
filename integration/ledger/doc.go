// Package ledger is the Pulsar emulator's managed ledger: the ordered entries
// of one topic partition, split into ledgers that roll over, and the cursors
// (subscriptions, readers, replicators) that read and acknowledge them.
//
// It owns, and reproduces from Pulsar's ManagedLedgerImpl and
// ManagedCursorImpl (the Java method is named where behaviour is subtle):
//   - positions (ledger:entry), ledger rollover, the last confirmed entry and
//     the position arithmetic around empty, closed and trimmed ledgers
//     (nav.go: isValidPosition, getNextValidPosition, getPreviousPosition,
//     getFirstPosition, getNumberOfEntries, getPositionAfterN);
//   - a cursor's mark-delete position, its individually deleted ranges kept
//     as Pulsar's per-ledger bitsets (rangeset.go) so that
//     individuallyDeletedMessages prints exactly as the broker's, the
//     collapse of contiguous acks into the mark-delete position, batch-index
//     acks, reset, skip (cursor.go);
//   - TTL expiry and seek by time (expiry.go), trimming of consumed ledgers
//     (trim.go);
//   - the data behind GET .../internalStats (stats.go).
//
// It is in memory and goroutine-safe (one lock per managed ledger, shared by
// its cursors). Time only enters through Config.Now and the timestamps the
// caller puts in entries or passes in (ExpireBefore, FindByPublishTime).
// It must not touch the network, protobuf, the wire format of entries
// (Entry.Data is opaque) or any of subsync's own packages: the emulator
// stays independent of the code it is meant to test.
package ledger
