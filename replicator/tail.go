package replicator

import (
	"context"
	"maps"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/mapping"
)

// SourcePositionProperty is the property Pulsar (3.0.11+, 3.3.6+, 4.0.4+)
// stamps on every replicated copy: the entry's position in its source.
const SourcePositionProperty = "__MSG_PROP_REPL_SOURCE_POSITION"

// tailFlushEvery bounds how long read entries wait before they are
// persisted with the checkpoint.
const tailFlushEvery = 100 * time.Millisecond

// tailLoop reads the local topic with a non-durable reader from the
// checkpoint and appends every entry to the tail index, flushing runs and
// checkpoint together. It restarts the reader after errors.
func (w *worker) tailLoop(ctx context.Context) {
	for ctx.Err() == nil {
		if err := w.tailOnce(ctx); err != nil && ctx.Err() == nil {
			w.d.health.failed(w.namespace, opTail)
			w.log.Warn("tail reader failed; retrying", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

func (w *worker) tailOnce(ctx context.Context) error {
	w.mu.Lock()
	start, started := w.tail.position, w.tail.started
	// The newest stamp per origin as of the checkpoint. Stamps read after
	// it count only once flushed: a failed flush re-reads those entries,
	// and they must not then look like stale copies of themselves.
	stamps := maps.Clone(w.tail.lastStamp)
	w.mu.Unlock()
	startID := pulsar.EarliestMessageID()
	if started {
		startID = pulsar.NewMessageID(start.Ledger, start.Entry, -1, 0)
	}
	reader, err := w.d.deps.Client.CreateReader(pulsar.ReaderOptions{
		Topic: w.topic, StartMessageID: startID, ReceiverQueueSize: 1000,
	})
	if err != nil {
		return err
	}
	defer closeWithin(closeTimeout, reader.Close)
	b := &mapping.RunBuilder{}
	if started {
		if err := b.ResumeAfter(start); err != nil {
			return err
		}
	}
	last, lastOK := start, started
	// Entries read but not yet persisted wait at most tailFlushEvery. An
	// idle tail waits on ctx alone: a deadline per idle topic, a thousand
	// topics ten times a second, costs more than tailing itself.
	windows := deadlines{parent: ctx}
	defer windows.stop()
	var window context.Context // non-nil while entries wait for a flush
	var flushAt time.Time
	for {
		wait := ctx
		if window != nil {
			wait = window
		}
		msg, err := reader.Next(wait)
		if err == nil {
			pos := ackset.Position{Ledger: msg.ID().LedgerID(), Entry: msg.ID().EntryID()}
			// A batch delivers one message per index, all at one position;
			// after a restart the checkpointed entry may come again.
			if !lastOK || last.Less(pos) {
				w.appendEntry(ctx, b, stamps, pos, msg)
				last, lastOK = pos, true
				if window == nil {
					flushAt = time.Now().Add(tailFlushEvery)
					window = windows.until(flushAt)
				}
			}
		} else if ctx.Err() != nil {
			// Best effort: what is not flushed is read again after a restart.
			_ = w.flushTail(b, last, lastOK, stamps)
			return nil
		}
		if window != nil && (time.Now().After(flushAt) || b.Pending() >= 10000) {
			if err := w.flushTail(b, last, lastOK, stamps); err != nil {
				return err
			}
			windows.stop()
			window = nil
		}
	}
}

// appendEntry adds one entry to the run builder and its stamp to stamps,
// the tail's unflushed view of the newest stamp per origin. A replicated
// entry whose source position cannot be established safely is left out of
// the index (so never acknowledged by subsync) and counted.
func (w *worker) appendEntry(ctx context.Context, b *mapping.RunBuilder, stamps map[string]ackset.Position, pos ackset.Position, msg pulsar.Message) {
	labels := []string{w.d.cfg.Cluster, w.namespace, w.topic}
	w.d.metrics.TailEntries.WithLabelValues(labels...).Inc()
	id, ok := w.entryIDOf(ctx, stamps, pos, msg)
	if !ok {
		w.d.metrics.TailUnmapped.WithLabelValues(labels...).Inc()
		// The gap breaks the current run, as a hidden marker does.
		return
	}
	if err := b.Append(pos, id); err != nil {
		w.log.Error("tail index append rejected", "position", pos.String(), "err", err)
		return
	}
	if id.Origin != w.d.cfg.Cluster {
		stamps[id.Origin] = id.Position()
	}
}

// entryIDOf is the cluster-independent identity of the entry at pos.
//
// For a replicated entry it is the broker's source-position stamp. The
// client shows a batch's messages with their own properties only, so for
// a batch the stamp is read from the entry's metadata through the admin
// API (batchEntryStamp); a stamp seen in a message's properties is trusted
// only for an entry of one message. A stamp must grow per origin: one that
// does not (a re-sent duplicate, or a stale copy of the property) is not
// mapped. A chunked message is not mapped at all: the client delivers it
// once, at its last chunk, after the entries interleaved with its chunks,
// so its chunks cannot all be mapped, and mapping some would sync a part
// of a message.
func (w *worker) entryIDOf(ctx context.Context, stamps map[string]ackset.Position, pos ackset.Position, msg pulsar.Message) (ackset.EntryID, bool) {
	if isChunked(msg.ID()) {
		w.refuseStamp(stampChunked)
		return ackset.EntryID{}, false
	}
	if !msg.IsReplicated() {
		return ackset.EntryID{Origin: w.d.cfg.Cluster, Ledger: pos.Ledger, Entry: pos.Entry}, true
	}
	origin := msg.GetReplicatedFrom()
	stamp, ok := "", false
	if msg.ID().BatchSize() <= 1 {
		stamp, ok = msg.Properties()[SourcePositionProperty]
	}
	if !ok {
		stamp, ok = w.entryStamp(ctx, pos)
	}
	if !ok {
		return ackset.EntryID{}, false
	}
	src, err := ackset.ParsePosition(stamp)
	if err != nil || src.Ledger < 0 || src.Entry < 0 || origin == "" || origin == w.d.cfg.Cluster {
		w.log.Warn("unusable source-position stamp", "position", pos.String(), "stamp", stamp, "replicatedFrom", origin)
		return ackset.EntryID{}, false
	}
	if last, seen := stamps[origin]; seen && !last.Less(src) {
		return ackset.EntryID{}, false
	}
	return ackset.EntryID{Origin: origin, Ledger: src.Ledger, Entry: src.Entry}, true
}

// entryStamp reads a batched entry's stamp from the admin API's raw
// answer, never from a map that merges the batch members' properties.
func (w *worker) entryStamp(ctx context.Context, pos ackset.Position) (string, bool) {
	h, body, err := w.d.deps.Entries.FetchEntry(ctx, w.topic, pos)
	if err != nil {
		w.refuseStamp(stampFetchFailed)
		w.d.rateLog.warn(w.log, w.d.now(), "entry_fetch_failed", "reading entry metadata failed", "position", pos.String(), "err", err)
		return "", false
	}
	stamp, reason := batchEntryStamp(h, body)
	if reason != "" {
		w.refuseStamp(reason)
		return "", false
	}
	return stamp, true
}

func (w *worker) refuseStamp(reason string) {
	w.d.metrics.TailStampsRefused.WithLabelValues(w.d.cfg.Cluster, w.namespace, w.topic, reason).Inc()
}

// isChunked reports whether id names a chunked message: its wire form
// carries the first chunk's id (MessageIdData.first_chunk_message_id).
func isChunked(id pulsar.MessageID) bool {
	const firstChunkField = 7
	b := id.Serialize()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		if num == firstChunkField {
			return true
		}
		b = b[n:]
		if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
			return false
		}
		b = b[n:]
	}
	return false
}

// flushTail persists completed runs with the checkpoint in one batch; only
// then do the stamps read up to the checkpoint become the tail's own.
func (w *worker) flushTail(b *mapping.RunBuilder, last ackset.Position, ok bool, stamps map[string]ackset.Position) error {
	if !ok {
		return nil
	}
	w.mu.Lock()
	unchanged := w.tail.started && w.tail.position == last
	w.mu.Unlock()
	if unchanged {
		return nil
	}
	runs := b.Flush()
	if err := w.d.deps.Store.AppendTail(w.topic, runs, last); err != nil {
		return err
	}
	w.mu.Lock()
	w.tail.position, w.tail.started = last, true
	w.tail.lastStamp = maps.Clone(stamps)
	for _, r := range runs {
		w.observeRun(r)
	}
	w.mu.Unlock()
	w.d.health.succeeded(w.namespace, opTail)
	return nil
}

// deadlines hands out one child context at a time, each ending at its
// deadline; asking for the next cancels the previous one.
type deadlines struct {
	parent context.Context
	cancel context.CancelFunc
}

func (d *deadlines) until(t time.Time) context.Context {
	d.stop()
	ctx, cancel := context.WithDeadline(d.parent, t)
	d.cancel = cancel
	return ctx
}

func (d *deadlines) stop() {
	if d.cancel != nil {
		d.cancel()
	}
}
