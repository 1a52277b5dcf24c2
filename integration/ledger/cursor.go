package ledger

import (
	"errors"
	"fmt"
	"maps"
	"sort"
)

// CursorOptions configures a new cursor.
type CursorOptions struct {
	// Durable cursors are subscriptions and replicators; non-durable ones
	// are readers (NonDurableCursorImpl).
	Durable bool
	// Properties are the initial mark-delete properties (Pulsar: the
	// properties passed to openCursor, e.g. pulsar.replicated.subscription).
	Properties map[string]int64
}

// Cursor state names as ManagedCursorImpl.State prints them.
const (
	CursorStateNoLedger = "NoLedger"
	CursorStateOpen     = "Open"
	CursorStateClosed   = "Closed"
)

// CompactionCursorName is the compactor's cursor; a reset keeps its
// mark-delete properties (ManagedCursorImpl.isCompactionCursor).
const CompactionCursorName = "__compaction"

// Cursor is a position-tracking reader of a managed ledger: a subscription,
// a reader or a replicator. All methods are goroutine-safe; they share the
// managed ledger's lock.
type Cursor struct {
	ml      *ManagedLedger
	name    string
	durable bool

	markDelete Position
	read       Position
	deleted    rangeSet
	// batchDeleted is ManagedCursorImpl.batchDeletedIndexes: per entry the
	// ack set still unacked (bit i == 1: message i not acknowledged yet).
	batchDeleted map[Position]bitset
	// props are the properties of the last mark-delete entry
	// (ManagedCursor.getProperties, shown as "properties" in stats).
	props map[string]int64

	// messagesConsumed is ManagedCursorImpl.messagesConsumedCounter, kept so
	// that entriesAddedCounter - messagesConsumedCounter is the backlog.
	messagesConsumed int64

	// The cursor's metadata ledger, emulated: a durable cursor starts
	// without one (NoLedger, -1) and gets one with its first persisted
	// mark-delete. Pulsar's rate limiting of those writes is not emulated,
	// so cursorLedgerLastEntry counts every persisted operation.
	cursorLedger          int64
	cursorLedgerLastEntry int64
	lastLedgerSwitch      int64 // unix ms
	state                 string

	// Set by the broker: a dispatcher is attached (active) and/or waiting
	// for new entries (waitingReadOp).
	active        bool
	waitingReadOp bool
}

// ErrInvalidPosition is returned for a position beyond the last confirmed
// entry (Pulsar: "Invalid mark deleted position").
var ErrInvalidPosition = errors.New("invalid mark deleted position")

// ErrMarkDeletingMarkedPosition is returned by MarkDelete for a position
// before the current mark-delete position.
var ErrMarkDeletingMarkedPosition = errors.New("mark deleting an already mark-deleted position")

// OpenCursor returns the cursor named name, creating it if it does not
// exist (created reports which). markDelete is the initial mark-delete
// position: use EarliestMarkDelete or LatestMarkDelete; Earliest and Latest
// (and any position beyond the LAC) are accepted too.
//
// A durable cursor is initialized as ManagedCursorImpl.initializeCursorPosition
// (read position Next(markDelete), consumed counter entriesAdded minus the
// entries after markDelete); a non-durable one as NonDurableCursorImpl
// (recoverCursor), whose counter counts the entries from the read position.
func (ml *ManagedLedger) OpenCursor(name string, markDelete Position, opt CursorOptions) (c *Cursor, created bool) {
	ml.mu.Lock()
	defer ml.mu.Unlock()
	if c, ok := ml.cursors[name]; ok {
		return c, false
	}
	c = &Cursor{
		ml:                    ml,
		name:                  name,
		durable:               opt.Durable,
		deleted:               newRangeSet(),
		batchDeleted:          make(map[Position]bitset),
		props:                 maps.Clone(opt.Properties),
		cursorLedger:          -1,
		cursorLedgerLastEntry: -1,
		lastLedgerSwitch:      ml.nowMs(),
		state:                 CursorStateNoLedger,
	}
	if c.props == nil {
		c.props = make(map[string]int64)
	}
	if opt.Durable {
		c.initializeDurable(markDelete)
	} else {
		c.initializeNonDurable(markDelete)
		c.state = CursorStateOpen
	}
	ml.cursors[name] = c
	return c, true
}

func (c *Cursor) initializeDurable(md Position) {
	ml := c.ml
	switch {
	case md == Earliest:
		md = ml.firstPositionLocked()
	case md.Compare(ml.lac) > 0:
		md = ml.lac
	}
	c.markDelete = md
	c.read = ml.nextValidLocked(md)
	c.messagesConsumed = ml.entriesAdded - ml.openClosedLocked(md, ml.lac)
}

func (c *Cursor) initializeNonDurable(md Position) {
	ml := c.ml
	switch {
	case md.Compare(ml.lac) > 0:
		c.markDelete, c.read, c.messagesConsumed = ml.lac, ml.nextValidLocked(ml.lac), ml.entriesAdded
		return
	case md.Ledger == Earliest.Ledger:
		md = ml.prevLocked(ml.firstPositionLocked())
	}
	c.markDelete = md
	c.read = ml.nextValidLocked(md)
	var backlog int64
	if c.read.Compare(ml.lac) <= 0 {
		backlog = ml.countLocked(c.read, true, ml.lac, true)
	}
	c.messagesConsumed = ml.entriesAdded - backlog
}

// Cursor returns the cursor named name.
func (ml *ManagedLedger) Cursor(name string) (*Cursor, bool) {
	ml.mu.Lock()
	defer ml.mu.Unlock()
	c, ok := ml.cursors[name]
	return c, ok
}

// Cursors returns all cursors sorted by name.
func (ml *ManagedLedger) Cursors() []*Cursor {
	ml.mu.Lock()
	defer ml.mu.Unlock()
	return ml.sortedCursorsLocked()
}

func (ml *ManagedLedger) sortedCursorsLocked() []*Cursor {
	out := make([]*Cursor, 0, len(ml.cursors))
	for _, c := range ml.cursors {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// DeleteCursor removes the cursor named name; it reports whether it existed.
func (ml *ManagedLedger) DeleteCursor(name string) bool {
	ml.mu.Lock()
	defer ml.mu.Unlock()
	c, ok := ml.cursors[name]
	if ok {
		c.state = CursorStateClosed
		delete(ml.cursors, name)
		ml.maybeTrimLocked()
	}
	return ok
}

// Name returns the cursor's name.
func (c *Cursor) Name() string { return c.name }

// Durable reports whether the cursor is durable (a subscription).
func (c *Cursor) Durable() bool { return c.durable }

// MarkDeletePosition returns the mark-delete position.
func (c *Cursor) MarkDeletePosition() Position {
	c.ml.mu.Lock()
	defer c.ml.mu.Unlock()
	return c.markDelete
}

// ReadPosition returns the position of the next read.
func (c *Cursor) ReadPosition() Position {
	c.ml.mu.Lock()
	defer c.ml.mu.Unlock()
	return c.read
}

// SeekRead sets the read position without touching acks. As
// ManagedCursorImpl.seek(pos, force=false), a position at or before the
// mark-delete position becomes the one right after it.
func (c *Cursor) SeekRead(p Position) {
	c.ml.mu.Lock()
	defer c.ml.mu.Unlock()
	if p.Compare(c.markDelete) <= 0 {
		p = c.ml.nextValidLocked(c.markDelete)
	}
	c.read = p
}

// Rewind moves the read position back to right after the mark-delete
// position (ManagedCursorImpl.rewind).
func (c *Cursor) Rewind() {
	c.ml.mu.Lock()
	defer c.ml.mu.Unlock()
	c.read = c.ml.nextValidLocked(c.markDelete)
}

// ReadNext returns up to max entries from the read position on, skipping
// deleted entries (markers are returned: the caller acks them), and moves
// the read position to the position after the last entry examined.
func (c *Cursor) ReadNext(max int) []Entry {
	c.ml.mu.Lock()
	defer c.ml.mu.Unlock()
	if max <= 0 {
		return nil
	}
	var out []Entry
	last, scanned := Position{}, false
	c.ml.forEachFrom(c.read, func(e *Entry) bool {
		if len(out) >= max {
			return false
		}
		last, scanned = e.Pos, true
		if !c.isDeletedLocked(e.Pos) {
			out = append(out, *e)
		}
		return true
	})
	if scanned {
		c.read = c.ml.nextValidLocked(last)
	}
	return out
}

// HasMoreEntries is ManagedCursorImpl.hasMoreEntries: with a LAC inside a
// ledger, whether the read position is at or before it; with a LAC of
// (ledger, -1), whether entries that are not deleted remain to be read.
func (c *Cursor) HasMoreEntries() bool {
	c.ml.mu.Lock()
	defer c.ml.mu.Unlock()
	lac := c.ml.lac
	if lac.Entry != -1 {
		return c.read.Compare(lac) <= 0
	}
	end := lac.next()
	if c.read.Compare(end) > 0 {
		return false
	}
	return c.cursorCount(c.read, true, end, false) > 0
}

// cursorCount is ManagedCursorImpl.getNumberOfEntries(Range): the managed
// ledger's count minus the individually deleted positions in the range.
func (c *Cursor) cursorCount(from Position, fromIncl bool, to Position, toIncl bool) int64 {
	return c.ml.countLocked(from, fromIncl, to, toIncl) - c.deleted.cardinality(from, to)
}

// IsDeleted reports whether p is acknowledged: at or below the mark-delete
// position or individually deleted.
func (c *Cursor) IsDeleted(p Position) bool {
	c.ml.mu.Lock()
	defer c.ml.mu.Unlock()
	return c.isDeletedLocked(p)
}

func (c *Cursor) isDeletedLocked(p Position) bool {
	return p.Compare(c.markDelete) <= 0 || c.deleted.contains(p)
}

// MarkDelete acknowledges everything up to and including p (a cumulative
// ack), keeping the mark-delete properties. It fails with
// ErrMarkDeletingMarkedPosition for a position before the mark-delete
// position and with ErrInvalidPosition for one beyond the LAC (except
// Pulsar's one allowance: (next ledger, -1) when the cursor has consumed the
// LAC's whole ledger). Individually deleted ranges that become contiguous
// are absorbed (ManagedCursorImpl.setAcknowledgedPosition).
func (c *Cursor) MarkDelete(p Position) error {
	c.ml.mu.Lock()
	defer c.ml.mu.Unlock()
	return c.markDeleteLocked(p, c.props)
}

// MarkDeleteWithProperties is MarkDelete replacing the mark-delete
// properties, as ManagedCursor.asyncMarkDelete(position, properties) does;
// the broker passes the subscription's base properties merged with the
// ack's.
func (c *Cursor) MarkDeleteWithProperties(p Position, props map[string]int64) error {
	c.ml.mu.Lock()
	defer c.ml.mu.Unlock()
	return c.markDeleteLocked(p, props)
}

// markDeleteLocked is ManagedCursorImpl.asyncMarkDelete.
func (c *Cursor) markDeleteLocked(p Position, props map[string]int64) error {
	ml := c.ml
	if ml.lac.Compare(p) < 0 && !c.mayMoveBeyondLAC(p) {
		return fmt.Errorf("mark-delete %s on cursor %s beyond last confirmed entry %s: %w", p, c.name, ml.lac, ErrInvalidPosition)
	}
	if p.Compare(c.markDelete) < 0 {
		return fmt.Errorf("mark-delete %s on cursor %s before mark-delete position %s: %w", p, c.name, c.markDelete, ErrMarkDeletingMarkedPosition)
	}
	c.setAcknowledgedPosition(p)
	c.props = maps.Clone(props)
	if c.props == nil {
		c.props = make(map[string]int64)
	}
	c.persist()
	return nil
}

// mayMoveBeyondLAC is the shouldCursorMoveForward exception of
// asyncMarkDelete: p is in the ledger after the LAC's and the cursor's
// mark-delete position is the last entry of its ledger.
func (c *Cursor) mayMoveBeyondLAC(p Position) bool {
	ml := c.ml
	entries, ok := ml.entriesOf(c.markDelete.Ledger)
	if !ok {
		return false
	}
	i := ml.ceilingIndex(ml.lac.Ledger + 1)
	return i < len(ml.ledgers) && c.markDelete.Entry+1 >= entries && p.Ledger == ml.ledgers[i].id
}

// setAcknowledgedPosition is ManagedCursorImpl.setAcknowledgedPosition (p
// not before the mark-delete position): counts the newly consumed entries,
// extends p over individually deleted runs that follow it (across ledger
// boundaries), drops ranges and batch state at or below it, and moves the
// read position forward when it is not past the new mark-delete position.
//
// A durable cursor then trims as ManagedLedgerImpl.updateCursor does: only
// when the slowest durable mark-delete position changed and the previous
// slowest one is in another ledger than this cursor's new position. A trim
// on every mark-delete would delete a just-closed ledger as soon as any
// cursor moved within the new one, which Pulsar does not.
func (c *Cursor) setAcknowledgedPosition(p Position) {
	if !c.durable {
		c.setAcknowledgedPositionNoTrim(p)
		return
	}
	before, _ := c.ml.slowestDurableLocked()
	c.setAcknowledgedPositionNoTrim(p)
	after, _ := c.ml.slowestDurableLocked()
	if before != after && before.Ledger != c.markDelete.Ledger {
		c.ml.maybeTrimLocked()
	}
}

// slowestDurableLocked is the lowest mark-delete position of the durable
// cursors (ManagedCursorContainer.getSlowestReaderPosition).
func (ml *ManagedLedger) slowestDurableLocked() (Position, bool) {
	var slowest Position
	found := false
	for _, o := range ml.cursors {
		if o.durable && (!found || o.markDelete.Compare(slowest) < 0) {
			slowest, found = o.markDelete, true
		}
	}
	return slowest, found
}

// setAcknowledgedPositionNoTrim is setAcknowledgedPosition without the
// trimming it may trigger (used by the trimmer itself).
func (c *Cursor) setAcknowledgedPositionNoTrim(p Position) {
	ml := c.ml
	old := c.markDelete
	if p != old {
		var skipped int64
		if p.Ledger == old.Ledger && p.Entry == old.Entry+1 {
			if !c.deleted.contains(p) {
				skipped = 1
			}
		} else {
			skipped = c.cursorCount(old, false, p, true)
		}
		for after := ml.nextValidLocked(p); after.Compare(ml.lac) <= 0; after = ml.nextValidLocked(p) {
			end, ok := c.deleted.runEnd(after)
			if !ok {
				break
			}
			p = end
		}
		c.messagesConsumed += skipped
	}
	c.markDelete = p
	c.deleted.removeAtMost(p)
	c.dropBatchStateAtMost(p)
	if c.read.Compare(p) <= 0 {
		c.read = ml.nextValidLocked(p)
	}
}

func (c *Cursor) dropBatchStateAtMost(p Position) {
	for pos := range c.batchDeleted {
		if pos.Compare(p) <= 0 {
			delete(c.batchDeleted, pos)
		}
	}
}

// persist records a write of the cursor's state to its metadata ledger (the
// cursorLedger fields of the internal stats): the first one creates the
// ledger (its entry 0 holds the last mark-delete, entry 1 the pending one).
func (c *Cursor) persist() {
	if !c.durable {
		return
	}
	if c.cursorLedger < 0 {
		c.cursorLedger = c.ml.cfg.NextLedgerID()
		c.state = CursorStateOpen
	}
	c.cursorLedgerLastEntry++
	if c.cursorLedgerLastEntry == 0 {
		c.cursorLedgerLastEntry = 1
	}
}

// Delete acknowledges individual entries. Positions at or below the
// mark-delete position are ignored; when acks become contiguous with the
// mark-delete position it advances (across ledger boundaries). As
// ManagedCursorImpl.asyncDelete, a position beyond the last confirmed entry
// stops the call: the positions before it stay applied but the mark-delete
// position is not advanced. Use DeleteChecked to see that error.
func (c *Cursor) Delete(ps ...Position) {
	_ = c.DeleteChecked(ps...)
}

// DeleteChecked is Delete, returning ErrInvalidPosition (wrapped) for a
// position beyond the last confirmed entry.
func (c *Cursor) DeleteChecked(ps ...Position) error {
	c.ml.mu.Lock()
	defer c.ml.mu.Unlock()
	for _, p := range ps {
		if err := c.deleteOneLocked(p, nil); err != nil {
			return err
		}
	}
	c.afterDeleteLocked()
	return nil
}

// deleteOneLocked is the loop body of ManagedCursorImpl.asyncDelete for one
// position: a whole-entry ack (ackSet nil) or a batch-index ack.
func (c *Cursor) deleteOneLocked(p Position, ackSet []int64) error {
	if c.ml.lac.Compare(p) < 0 {
		return fmt.Errorf("delete %s on cursor %s beyond last confirmed entry %s: %w", p, c.name, c.ml.lac, ErrInvalidPosition)
	}
	if c.isDeletedLocked(p) {
		delete(c.batchDeleted, p)
		return nil
	}
	if ackSet != nil {
		remaining := bitsetFromWords(ackSet)
		if stored, ok := c.batchDeleted[p]; ok {
			remaining = stored.and(remaining)
		}
		if !remaining.empty() {
			c.batchDeleted[p] = remaining
			return nil
		}
	}
	c.deleted.addOpenClosed(c.ml.prevLocked(p), p)
	c.messagesConsumed++
	delete(c.batchDeleted, p)
	return nil
}

// afterDeleteLocked is the end of ManagedCursorImpl.asyncDelete: when the
// first individually deleted range touches the mark-delete position (no
// entry between them), the mark-delete position moves to its upper end;
// then the state is persisted.
func (c *Cursor) afterDeleteLocked() {
	if c.deleted.isEmpty() {
		return
	}
	lower, upper, _ := c.deleted.firstRange()
	if upper.Compare(c.markDelete) <= 0 {
		c.deleted.removeAtMost(c.markDelete)
		var ok bool
		if lower, upper, ok = c.deleted.firstRange(); !ok {
			return
		}
	}
	if lower.Compare(c.markDelete) <= 0 || c.ml.countLocked(c.markDelete, false, lower, true) <= 0 {
		c.setAcknowledgedPosition(upper)
	}
	c.persist()
}

// AckBatchIndexes applies a batch-index ack: ackSet has bit i == 1 for
// message i still unacknowledged (Pulsar's convention) and is intersected
// with the stored state; when no bit remains the entry is deleted whole
// (nil or empty ackSet: at once). It reports whether the entry is now
// deleted. batchSize is not used: ManagedCursorImpl does not know it either.
func (c *Cursor) AckBatchIndexes(p Position, ackSet []int64, batchSize int32) (entryDone bool) {
	c.ml.mu.Lock()
	defer c.ml.mu.Unlock()
	if ackSet == nil {
		ackSet = []int64{}
	}
	if err := c.deleteOneLocked(p, ackSet); err != nil {
		return false
	}
	c.afterDeleteLocked()
	return c.isDeletedLocked(p)
}

// BatchAckSet returns the stored partial ack state of p (bit i == 1:
// message i still unacknowledged), nil if there is none.
func (c *Cursor) BatchAckSet(p Position) []int64 {
	c.ml.mu.Lock()
	defer c.ml.mu.Unlock()
	b, ok := c.batchDeleted[p]
	if !ok {
		return nil
	}
	return b.words()
}

// ResetTo is ManagedCursorImpl.asyncResetCursor(p, force=false): an invalid
// p becomes Next(p) (Earliest means the first position, Latest the one after
// the LAC); then read position = p, mark-delete position = Prev(p),
// individually deleted ranges and batch state cleared, and the mark-delete
// properties emptied (except on the compaction cursor).
func (c *Cursor) ResetTo(p Position) {
	c.ml.mu.Lock()
	defer c.ml.mu.Unlock()
	ml := c.ml
	if !ml.isValidLocked(p) && p != Earliest && p != Latest {
		p = ml.nextValidLocked(p)
	}
	switch p {
	case Earliest:
		p = ml.firstPositionLocked()
	case Latest:
		p = ml.nextValidLocked(ml.lac)
	}
	newMD := ml.prevLocked(p)
	// internalResetCursor persists newMD first; for a durable cursor that
	// write's completion already dropped the ranges at or below newMD when
	// the counter is adjusted below.
	if c.durable {
		c.deleted.removeAtMost(newMD)
	}
	if c.markDelete.Compare(newMD) >= 0 {
		c.messagesConsumed -= c.cursorCount(newMD, true, c.markDelete, false)
	} else {
		c.messagesConsumed += c.cursorCount(c.markDelete, true, newMD, false)
	}
	c.markDelete = newMD
	if c.name != CompactionCursorName {
		c.props = make(map[string]int64)
	}
	c.deleted.clear()
	clear(c.batchDeleted)
	c.read = p
	c.persist()
	if c.durable {
		ml.maybeTrimLocked()
	}
}

// SkipEntries is the admin skip (ManagedCursorImpl.asyncSkipEntries with
// IndividualDeletedEntries.Exclude): the mark-delete position moves over the
// next n entries that are not deleted yet, stopping at the last confirmed
// entry. As in Pulsar the mark-delete goes through asyncMarkDelete without
// properties, so they are emptied.
func (c *Cursor) SkipEntries(n int64) {
	c.ml.mu.Lock()
	defer c.ml.mu.Unlock()
	if n <= 0 {
		return
	}
	deleted := c.individuallyDeletedToSkip(n)
	target := c.ml.positionAfterNLocked(c.markDelete, n+deleted, true)
	_ = c.markDeleteLocked(target, nil) // backwards/invalid: Pulsar completes the skip silently
}

// individuallyDeletedToSkip is getNumIndividualDeletedEntriesToSkip: the
// individually deleted entries lying among the next n live entries.
func (c *Cursor) individuallyDeletedToSkip(n int64) int64 {
	ml := c.ml
	start := c.markDelete
	var total, deleted int64
	c.deleted.forEach(func(lower, upper Position) bool {
		if start.Compare(lower) > 0 {
			return true
		}
		live := ml.countLocked(start, false, lower, true)
		if total+live >= n {
			return false
		}
		total += live
		deleted += ml.countLocked(lower, false, upper, true)
		start = upper
		return true
	})
	return deleted
}

// IndividuallyDeletedMessages prints the individually deleted ranges exactly
// as Pulsar's internal stats do, e.g. "[(3:5..3:7],(4:-1..4:0]]" or "[]".
func (c *Cursor) IndividuallyDeletedMessages() string {
	c.ml.mu.Lock()
	defer c.ml.mu.Unlock()
	return c.deleted.String()
}

// Backlog is the number of entries after the mark-delete position, up to
// the LAC, that are not individually deleted
// (getNumberOfEntriesInBacklog(isPrecise=true)).
func (c *Cursor) Backlog() int64 {
	c.ml.mu.Lock()
	defer c.ml.mu.Unlock()
	if c.markDelete.Compare(c.ml.lac) >= 0 {
		return 0
	}
	return c.cursorCount(c.markDelete, false, c.ml.lac, true)
}

// BacklogEstimate is getNumberOfEntriesInBacklog(isPrecise=false), what the
// topic stats' msgBacklog shows: entriesAdded - messagesConsumed, falling
// back to Backlog when negative.
func (c *Cursor) BacklogEstimate() int64 {
	c.ml.mu.Lock()
	b := c.ml.entriesAdded - c.messagesConsumed
	c.ml.mu.Unlock()
	if b < 0 {
		return c.Backlog()
	}
	return b
}

// Properties returns a copy of the mark-delete properties.
func (c *Cursor) Properties() map[string]int64 {
	c.ml.mu.Lock()
	defer c.ml.mu.Unlock()
	return maps.Clone(c.props)
}

// SetProperty sets one mark-delete property.
func (c *Cursor) SetProperty(k string, v int64) {
	c.ml.mu.Lock()
	defer c.ml.mu.Unlock()
	c.props[k] = v
}

// SetActive records whether a dispatcher (consumers) is attached; it shows
// as "active" in the internal stats.
func (c *Cursor) SetActive(active bool) {
	c.ml.mu.Lock()
	defer c.ml.mu.Unlock()
	c.active = active
}

// SetWaitingReadOp records whether the cursor's reader is caught up and
// waiting for new entries; it shows as waitingReadOp and in
// waitingCursorsCount.
func (c *Cursor) SetWaitingReadOp(waiting bool) {
	c.ml.mu.Lock()
	defer c.ml.mu.Unlock()
	c.waitingReadOp = waiting
}

// entriesSinceFirstNotAckedLocked is
// ManagedCursorImpl.getNumberOfEntriesSinceFirstNotAckedMessage: the managed
// ledger's count of (markDelete, read] when markDelete < read, else 0.
func (c *Cursor) entriesSinceFirstNotAckedLocked() int64 {
	if c.markDelete.Compare(c.read) >= 0 {
		return 0
	}
	return c.ml.countLocked(c.markDelete, false, c.read, true)
}
