// Package mapping owns subsync's durable state, kept in Pebble, and the
// in-memory RunBuilder that turns the tail's entries into runs.
//
// It stores, per topic partition:
//   - the tail index: runs mapping local positions to EntryIDs, a reverse
//     index from EntryID to local position, and the tail's checkpoint;
//   - snapshot mappings: per remote cluster, the requester's LAC at request
//     time -> the remote's LAC, replicated watermark and answer time;
//   - the last exported state per subscription and the last imported state
//     per (subscription, remote cluster), as opaque bytes + sequence number.
//
// It must not touch the network, Pulsar, or the meaning of ack sets: states
// are opaque bytes here, and runs are only stored and looked up.
//
// # Durability
//
// Every write is one Pebble batch committed with Sync, so writes that
// belong together (runs, their reverse index, the run count and the tail
// checkpoint) land together or not at all. Writes to one topic are
// serialised by a per-topic lock; the tail index is read-modify-write.
//
// # Key layout
//
// Integers in keys are 8-byte big-endian with the sign bit flipped (int64
// order = byte order); written i64 below. Names are length-prefixed: name(s)
// = 2-byte big-endian length, then the bytes, so no name's encoding is a
// prefix of another's and arbitrary topic names are unambiguous. A position
// is i64(ledger) i64(entry).
//
//	"\x00schema"                                   -> schema version (1 byte, 1)
//	't' name(topic) 'c'                            -> tail checkpoint
//	't' name(topic) 'm'                            -> topic meta: number of runs
//	't' name(topic) 'r' pos(local start)           -> run
//	't' name(topic) 'x' name(origin) i64(origin ledger) i64(origin start) pos(local start)
//	                                               -> reverse index: run count
//	't' name(topic) 'o' name(origin) i64(origin ledger)
//	                                               -> overlap flag (empty)
//	't' name(topic) 's' name(remote) pos(local)    -> snapshot mapping
//	't' name(topic) 'e' name(subscription)         -> last exported state
//	't' name(topic) 'i' name(subscription) name(remote)
//	                                               -> last imported state
//
// All of a topic's records share the prefix 't' name(topic), so Topics lists
// topics by seeking from prefix to prefix and DeleteTopic is one range
// deletion.
//
// # Values
//
// Every value starts with a format version byte (1). Then, with uvarint and
// zigzag varint as in encoding/binary, each in its shortest form:
//
//	checkpoint        varint(ledger) varint(entry)
//	topic meta        uvarint(runs)
//	run               uvarint(count) uvarint(len(origin)) origin uvarint(origin ledger) uvarint(origin start)
//	reverse index     uvarint(count)
//	overlap flag      nothing
//	snapshot mapping  varint x2 (remote LAC) varint x2 (remote watermark) varint(unix ms)
//	exported/imported uvarint(sequence number) then the opaque state to the end
//
// Decoders reject an unknown version, non-shortest varints, out-of-range
// integers, invalid runs and trailing bytes with an error wrapping
// ErrCorrupt; they never panic.
//
// # Duplicated origin entries
//
// When the replicator re-sends entries, one EntryID has several local
// copies and the origin ranges of runs overlap. While an origin ledger has
// no overlap, a reverse lookup reads the one run nearest below the wanted
// entry; AppendTail detects the first overlap in an origin ledger and sets
// its overlap flag, after which lookups in that origin ledger scan all of
// its runs, so every copy is found. Prune drops the flag once no run of the
// origin ledger remains.
package mapping
