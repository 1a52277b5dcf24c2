package ledger

// TrimConsumedLedgers deletes the closed ledgers that every durable cursor
// has consumed, as ManagedLedgerImpl.internalTrimLedgers does with zero
// retention, whatever Config.TrimConsumedLedgers says. It returns the ids
// of the deleted ledgers.
func (ml *ManagedLedger) TrimConsumedLedgers() []int64 {
	ml.mu.Lock()
	defer ml.mu.Unlock()
	return ml.trimLocked()
}

func (ml *ManagedLedger) maybeTrimLocked() {
	if ml.cfg.TrimConsumedLedgers && (ml.cfg.Retain == nil || !ml.cfg.Retain()) {
		ml.trimLocked()
	}
}

// trimLocked is internalTrimLedgers with retention time and size 0: every
// ledger before the slowest durable cursor's (the one after it when that
// cursor sits on the last entry of a closed ledger; all closed ledgers when
// there is no durable cursor) is deleted, the current ledger never.
// Non-durable cursors behind the deleted data are mark-deleted to its last
// entry first (advanceCursorsIfNecessary).
func (ml *ManagedLedger) trimLocked() []int64 {
	cur := ml.current()
	slowest := ml.slowestReaderLedgerLocked()
	n := 0
	for n < len(ml.ledgers) && ml.ledgers[n].id < slowest && ml.ledgers[n] != cur {
		n++
	}
	if n == 0 {
		return nil
	}
	doomed := ml.ledgers[:n]
	ml.advanceCursorsPastLocked(doomed)
	ids := make([]int64, n)
	for i, l := range doomed {
		ids[i] = l.id
		ml.numberOfEntries -= int64(len(l.entries))
		ml.totalSize -= l.size
	}
	ml.ledgers = append([]*ledgerData(nil), ml.ledgers[n:]...)
	return ids
}

// slowestReaderLedgerLocked is the slowestReaderLedgerId of
// internalTrimLedgers.
func (ml *ManagedLedger) slowestReaderLedgerLocked() int64 {
	cur := ml.current()
	var slowest *Position
	for _, c := range ml.cursors {
		if c.durable && (slowest == nil || c.markDelete.Compare(*slowest) < 0) {
			md := c.markDelete
			slowest = &md
		}
	}
	if slowest == nil {
		return cur.id + 1
	}
	if i := ml.ledgerIndex(slowest.Ledger); i >= 0 && ml.ledgers[i] != cur &&
		ml.infoEntries(i) == slowest.Entry+1 {
		return slowest.Ledger + 1
	}
	return slowest.Ledger
}

// advanceCursorsPastLocked is advanceCursorsIfNecessary: cursors whose
// mark-delete position is before the last entry of the ledgers to delete
// (and that entry is not beyond the LAC) mark-delete up to it, keeping their
// properties.
func (ml *ManagedLedger) advanceCursorsPastLocked(doomed []*ledgerData) {
	var highest *Position
	for i := len(doomed) - 1; i >= 0; i-- {
		if n := len(doomed[i].entries); n > 0 {
			highest = &Position{Ledger: doomed[i].id, Entry: int64(n - 1)}
			break
		}
	}
	if highest == nil {
		return
	}
	for _, c := range ml.sortedCursorsLocked() {
		if highest.Compare(c.markDelete) > 0 && highest.Compare(ml.lac) <= 0 {
			c.setAcknowledgedPositionNoTrim(*highest)
			c.persist()
		}
	}
}
