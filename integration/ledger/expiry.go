package ledger

// Time-based searches: TTL expiry (PersistentMessageExpiryMonitor) and seek
// by time (PersistentMessageFinder), both built on OpFindNewest.

// EntryTimestamp is Commands.getEntryTimestamp: the broker entry metadata
// timestamp when present (BrokerTime > 0), else the publish time.
func EntryTimestamp(e Entry) int64 {
	if e.BrokerTime > 0 {
		return e.BrokerTime
	}
	return e.PublishTime
}

// findNewestLocked is OpFindNewest: a binary search for the newest entry
// satisfying cond, assuming cond holds on a prefix of the max+1 entries
// from start. It first checks start (nothing matches when it fails), then
// the entry max positions further (clamped to the LAC), then bisects.
// hasMore(p) tells whether reading may continue at p; a missing entry ends
// the search with the last match.
func (ml *ManagedLedger) findNewestLocked(start Position, max int64, cond func(*Entry) bool, hasMore func(Position) bool) (Position, bool) {
	var last Position
	matched := false
	read := func(p Position) (*Entry, bool) {
		if !hasMore(p) {
			return nil, false
		}
		i := ml.ledgerIndex(p.Ledger)
		if i < 0 || p.Entry < 0 || p.Entry >= int64(len(ml.ledgers[i].entries)) {
			return nil, false
		}
		return &ml.ledgers[i].entries[p.Entry], true
	}
	e, ok := read(start)
	if !ok || !cond(e) {
		return last, false
	}
	last, matched = e.Pos, true
	e, ok = read(ml.positionAfterNLocked(start, max, true))
	if !ok {
		return last, matched
	}
	if cond(e) {
		return e.Pos, true
	}
	lo, hi := int64(0), max
	mid := func() int64 { return lo + maxInt64((hi-lo)/2, 1) }
	for {
		e, ok = read(ml.positionAfterNLocked(start, mid(), true))
		if !ok {
			return last, matched
		}
		if cond(e) {
			last = e.Pos
			lo = mid()
		} else {
			hi = mid() - 1
		}
		if hi <= lo {
			return last, matched
		}
	}
}

func maxInt64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// FindByPublishTime is the seek-by-time of PersistentSubscription.resetCursor
// (timestamp) through PersistentMessageFinder: it finds the newest entry
// whose EntryTimestamp (publish time unless the broker stamped BrokerTime)
// is before ms and returns the position after it, or the first position of
// the first ledger when none is. Pass the result to ResetTo. With
// non-decreasing timestamps this is the first entry stamped at or after ms.
func (ml *ManagedLedger) FindByPublishTime(ms int64) Position {
	ml.mu.Lock()
	defer ml.mu.Unlock()
	first := Position{Ledger: ml.ledgers[0].id, Entry: 0}
	found, ok := ml.findNewestLocked(first, ml.numberOfEntries-1,
		func(e *Entry) bool { return EntryTimestamp(*e) < ms },
		func(p Position) bool { return p.Compare(ml.lac) <= 0 })
	if !ok {
		return first
	}
	return ml.nextValidLocked(found)
}

// ExpireBefore is the TTL check of PersistentMessageExpiryMonitor
// .expireMessages for a cutoff of now - TTL: every entry whose
// EntryTimestamp is before cutoffMs is acknowledged by moving the
// mark-delete position (keeping its properties). Like Pulsar it first
// expires whole closed ledgers whose close time is before the cutoff
// (checkExpiryByLedgerClosureTime), then bisects the remaining entries
// (OpFindNewest), which stops at the first entry that has not expired when
// timestamps do not decrease. It returns the number of entries newly
// acknowledged (Pulsar's msgExpired).
func (c *Cursor) ExpireBefore(cutoffMs int64) int {
	c.ml.mu.Lock()
	defer c.ml.mu.Unlock()
	before := c.ml.entriesAdded - c.messagesConsumed
	if p, ok := c.expiredByLedgerCloseTime(cutoffMs); ok {
		_ = c.markDeleteLocked(p, c.props) // a position behind the cursor is refused, as in Pulsar
	}
	if p, ok := c.newestExpired(cutoffMs); ok {
		_ = c.markDeleteLocked(p, c.props)
	}
	return int(before - (c.ml.entriesAdded - c.messagesConsumed))
}

// expiredByLedgerCloseTime is checkExpiryByLedgerClosureTime: the last entry
// of the newest ledger, from the mark-delete position's on, in an unbroken
// run of closed ledgers whose close time is before cutoffMs (clamped to the
// LAC).
func (c *Cursor) expiredByLedgerCloseTime(cutoffMs int64) (Position, bool) {
	ml := c.ml
	var found *ledgerData
	for i := ml.ceilingIndex(c.markDelete.Ledger); i < len(ml.ledgers); i++ {
		l := ml.ledgers[i]
		if l.timestamp == 0 || l.timestamp >= cutoffMs {
			break
		}
		found = l
	}
	if found == nil {
		return Position{}, false
	}
	p := Position{Ledger: found.id, Entry: int64(len(found.entries)) - 1}
	if ml.lac.Compare(p) < 0 {
		p = ml.lac
	}
	return p, true
}

// newestExpired is the asyncFindNewestMatching(SearchActiveEntries) of the
// expiry monitor: the search starts after the mark-delete position over the
// entries up to the LAC, and cannot continue where only individually
// deleted entries remain (ManagedCursorImpl.hasMoreEntries(Position)).
func (c *Cursor) newestExpired(cutoffMs int64) (Position, bool) {
	ml := c.ml
	if c.markDelete.Compare(ml.lac) >= 0 {
		return Position{}, false
	}
	start := ml.nextValidLocked(c.markDelete)
	max := ml.countLocked(c.markDelete, false, ml.lac, true)
	return ml.findNewestLocked(start, max,
		func(e *Entry) bool { return EntryTimestamp(*e) < cutoffMs },
		func(p Position) bool {
			return p.Compare(ml.lac) <= 0 && c.cursorCount(p, true, ml.lac, true) > 0
		})
}
