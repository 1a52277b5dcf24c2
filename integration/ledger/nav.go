package ledger

// Position arithmetic, mirroring ManagedLedgerImpl: isValidPosition,
// getNextValidPosition (getValidPositionAfterSkippedEntries),
// getPreviousPosition, getFirstPosition, getNumberOfEntries(Range) and
// getPositionAfterN. All *Locked functions expect ml.mu held.
//
// Pulsar keeps per-ledger metadata (LedgerInfo) in which the open ledger
// has 0 entries until it is closed; the arithmetic below reads entry counts
// through infoEntries to reproduce that.

// Sentinels of Pulsar's PositionFactory.EARLIEST / LATEST.
var (
	Earliest = Position{Ledger: -1, Entry: -1}
	Latest   = Position{Ledger: 1<<63 - 1, Entry: 1<<63 - 1}
)

// next is Position.getNext: entry 0 for a position before the first entry,
// else the following entry id in the same ledger.
func (p Position) next() Position {
	if p.Entry < 0 {
		return Position{Ledger: p.Ledger, Entry: 0}
	}
	return Position{Ledger: p.Ledger, Entry: p.Entry + 1}
}

// infoEntries is LedgerInfo.getEntries of ml.ledgers[i]: 0 for the open
// ledger, whose metadata is written only when it is closed.
func (ml *ManagedLedger) infoEntries(i int) int64 {
	if i == len(ml.ledgers)-1 {
		return 0
	}
	return int64(len(ml.ledgers[i].entries))
}

// entriesOf returns LedgerInfo.getEntries of the ledger with the given id
// and whether it is known.
func (ml *ManagedLedger) entriesOf(id int64) (int64, bool) {
	i := ml.ledgerIndex(id)
	if i < 0 {
		return 0, false
	}
	return ml.infoEntries(i), true
}

// FirstPosition returns the first valid position: the first stored entry,
// or the position the next Append will take when nothing is stored.
func (ml *ManagedLedger) FirstPosition() Position {
	ml.mu.Lock()
	defer ml.mu.Unlock()
	return ml.nextValidLocked(ml.firstPositionLocked())
}

// EarliestMarkDelete is the mark-delete position of a cursor opened at
// "earliest" (ManagedLedgerImpl.getFirstPositionAndCounter): Pulsar's
// getFirstPosition(), (first ledger, -1). It equals Prev(FirstPosition())
// except after the LAC's own ledger was trimmed, where Pulsar (and this)
// answer (LAC ledger, -1).
func (ml *ManagedLedger) EarliestMarkDelete() Position {
	ml.mu.Lock()
	defer ml.mu.Unlock()
	return ml.firstPositionLocked()
}

// LatestMarkDelete is the mark-delete position of a cursor opened at
// "latest": the last confirmed entry.
func (ml *ManagedLedger) LatestMarkDelete() Position { return ml.LastConfirmed() }

// firstPositionLocked is ManagedLedgerImpl.getFirstPosition: (first ledger,
// -1), or (LAC ledger, -1) when every ledger up to the LAC's was trimmed.
func (ml *ManagedLedger) firstPositionLocked() Position {
	id := ml.ledgers[0].id
	if id > ml.lac.Ledger {
		id = ml.lac.Ledger
	}
	return Position{Ledger: id, Entry: -1}
}

// Next returns the position following p (getNextValidPosition).
func (ml *ManagedLedger) Next(p Position) Position {
	ml.mu.Lock()
	defer ml.mu.Unlock()
	return ml.nextValidLocked(p)
}

// Prev returns the position before p (getPreviousPosition).
func (ml *ManagedLedger) Prev(p Position) Position {
	ml.mu.Lock()
	defer ml.mu.Unlock()
	return ml.prevLocked(p)
}

// IsValid reports whether p is a valid read position
// (ManagedLedgerImpl.isValidPosition).
func (ml *ManagedLedger) IsValid(p Position) bool {
	ml.mu.Lock()
	defer ml.mu.Unlock()
	return ml.isValidLocked(p)
}

// isValidLocked is ManagedLedgerImpl.isValidPosition: p's ledger must be
// known; in the open ledger any entry up to LAC+1 (or entry 0) is valid; in
// the closed ledger holding the LAC only entries up to the LAC; in older
// ledgers only stored entries.
func (ml *ManagedLedger) isValidLocked(p Position) bool {
	i := ml.ledgerIndex(p.Ledger)
	switch {
	case i < 0, p.Entry < 0:
		return false
	case i == len(ml.ledgers)-1:
		return (p.Ledger == ml.lac.Ledger && p.Entry <= ml.lac.Entry+1) || p.Entry == 0
	case p.Ledger == ml.lac.Ledger:
		return p.Entry <= ml.lac.Entry
	}
	return p.Entry < ml.infoEntries(i)
}

// nextValidLocked is ManagedLedgerImpl.getNextValidPosition: p's successor,
// moved to entry 0 of the following ledgers until it is valid; past the last
// ledger, (open ledger, 0) when it is empty, else the slot after the LAC.
func (ml *ManagedLedger) nextValidLocked(p Position) Position {
	next := p.next()
	for !ml.isValidLocked(next) {
		i := ml.ceilingIndex(next.Ledger + 1)
		if i >= len(ml.ledgers) {
			if cur := ml.current(); len(cur.entries) == 0 {
				return Position{Ledger: cur.id, Entry: 0}
			}
			return ml.lac.next()
		}
		next = Position{Ledger: ml.ledgers[i].id, Entry: 0}
	}
	return next
}

// prevLocked is ManagedLedgerImpl.getPreviousPosition: the entry before p in
// its ledger, else the last entry of the newest earlier non-empty ledger,
// else (first earlier ledger, -1), else (p's ledger, -1).
func (ml *ManagedLedger) prevLocked(p Position) Position {
	if p.Entry > 0 {
		return Position{Ledger: p.Ledger, Entry: p.Entry - 1}
	}
	head := ml.ceilingIndex(p.Ledger) // ledgers [0, head) are older than p's
	if head == 0 {
		return Position{Ledger: p.Ledger, Entry: -1}
	}
	for i := head - 1; i >= 0; i-- {
		if n := ml.infoEntries(i); n > 0 {
			return Position{Ledger: ml.ledgers[i].id, Entry: n - 1}
		}
	}
	return Position{Ledger: ml.ledgers[0].id, Entry: -1}
}

// countLocked is ManagedLedgerImpl.getNumberOfEntries(Range): pure
// arithmetic on the positions and the closed ledgers' entry counts. Within
// one ledger it does not check that the entries exist (so (13:19, 13:20]
// counts 1 even when 13:20 is not written yet), as Pulsar does; a ledger
// that was trimmed counts 0 (the check newer Pulsar versions added). Callers
// guarantee from <= to.
func (ml *ManagedLedger) countLocked(from Position, fromIncl bool, to Position, toIncl bool) int64 {
	incl := func(b bool) int64 {
		if b {
			return 1
		}
		return 0
	}
	if from.Ledger == to.Ledger {
		if ml.ledgerIndex(to.Ledger) < 0 {
			return 0
		}
		return to.Entry - from.Entry - 1 + incl(fromIncl) + incl(toIncl)
	}
	count := to.Entry + incl(toIncl)
	if n, ok := ml.entriesOf(from.Ledger); ok {
		count += n - (from.Entry + 1) + incl(fromIncl)
	}
	for i := ml.ceilingIndex(from.Ledger + 1); i < len(ml.ledgers) && ml.ledgers[i].id < to.Ledger; i++ {
		count += ml.infoEntries(i)
	}
	return count
}

// openClosedLocked counts (from, to], 0 when the range is empty or inverted.
func (ml *ManagedLedger) openClosedLocked(from, to Position) int64 {
	if to.Compare(from) <= 0 {
		return 0
	}
	return ml.countLocked(from, false, to, true)
}

// positionAfterNLocked is ManagedLedgerImpl.getPositionAfterN: the position
// n entries after start (start itself excluded when startExcluded), clamped
// to the LAC.
func (ml *ManagedLedger) positionAfterNLocked(start Position, n int64, startExcluded bool) Position {
	cur := start
	if startExcluded {
		cur = ml.nextValidLocked(start)
	}
	ledgerID, entryID := cur.Ledger, cur.Entry
	toSkip := n
	open := ml.current()
	for toSkip >= 0 {
		var total int64
		last := ledgerID == open.id
		if last {
			if len(open.entries) > 0 {
				total = ml.lac.Entry + 1
			}
		} else if e, ok := ml.entriesOf(ledgerID); ok {
			total = e
		}
		var unread int64
		if total > 0 {
			unread = total - entryID
		}
		if unread >= toSkip {
			entryID += toSkip
			break
		}
		toSkip -= unread
		if last {
			entryID = total
			break
		}
		if i := ml.ceilingIndex(ledgerID + 1); i < len(ml.ledgers) {
			ledgerID = ml.ledgers[i].id
		} else {
			ledgerID = open.id
		}
		entryID = 0
	}
	p := ml.prevLocked(Position{Ledger: ledgerID, Entry: entryID})
	if p.Compare(ml.lac) > 0 {
		p = ml.lac
	}
	return p
}
