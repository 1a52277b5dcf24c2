package ledger

import (
	"maps"
	"time"
)

// InternalStats is Pulsar's PersistentTopicInternalStats (which extends
// ManagedLedgerInternalStats) as GET .../internalStats serves it. Field
// names follow the Java classes; Pulsar's admin JSON omits null fields,
// hence the omitempty on the optional strings.
type InternalStats struct {
	EntriesAddedCounter                int64                  `json:"entriesAddedCounter"`
	NumberOfEntries                    int64                  `json:"numberOfEntries"`
	TotalSize                          int64                  `json:"totalSize"`
	CurrentLedgerEntries               int64                  `json:"currentLedgerEntries"`
	CurrentLedgerSize                  int64                  `json:"currentLedgerSize"`
	LastLedgerCreatedTimestamp         string                 `json:"lastLedgerCreatedTimestamp,omitempty"`
	LastLedgerCreationFailureTimestamp string                 `json:"lastLedgerCreationFailureTimestamp,omitempty"`
	WaitingCursorsCount                int                    `json:"waitingCursorsCount"`
	PendingAddEntriesCount             int                    `json:"pendingAddEntriesCount"`
	LastConfirmedEntry                 string                 `json:"lastConfirmedEntry"`
	State                              string                 `json:"state"`
	Ledgers                            []LedgerStats          `json:"ledgers"`
	Cursors                            map[string]CursorStats `json:"cursors"`
	SchemaLedgers                      []LedgerStats          `json:"schemaLedgers"`
	CompactedLedger                    *LedgerStats           `json:"compactedLedger,omitempty"`
}

// LedgerStats is ManagedLedgerInternalStats.LedgerInfo. As in Pulsar, the
// open ledger reports 0 entries and 0 bytes: its metadata is only updated
// when it is closed.
type LedgerStats struct {
	LedgerID        int64  `json:"ledgerId"`
	Entries         int64  `json:"entries"`
	Size            int64  `json:"size"`
	Offloaded       bool   `json:"offloaded"`
	Metadata        string `json:"metadata,omitempty"`
	UnderReplicated bool   `json:"underReplicated"`
}

// CursorStats is ManagedLedgerInternalStats.CursorStats.
type CursorStats struct {
	MarkDeletePosition                       string           `json:"markDeletePosition"`
	ReadPosition                             string           `json:"readPosition"`
	WaitingReadOp                            bool             `json:"waitingReadOp"`
	PendingReadOps                           int              `json:"pendingReadOps"`
	MessagesConsumedCounter                  int64            `json:"messagesConsumedCounter"`
	CursorLedger                             int64            `json:"cursorLedger"`
	CursorLedgerLastEntry                    int64            `json:"cursorLedgerLastEntry"`
	IndividuallyDeletedMessages              string           `json:"individuallyDeletedMessages"`
	LastLedgerSwitchTimestamp                string           `json:"lastLedgerSwitchTimestamp"`
	State                                    string           `json:"state"`
	Active                                   bool             `json:"active"`
	NumberOfEntriesSinceFirstNotAckedMessage int64            `json:"numberOfEntriesSinceFirstNotAckedMessage"`
	TotalNonContiguousDeletedMessagesRange   int              `json:"totalNonContiguousDeletedMessagesRange"`
	SubscriptionHavePendingRead              bool             `json:"subscriptionHavePendingRead"`
	SubscriptionHavePendingReplayRead        bool             `json:"subscriptionHavePendingReplayRead"`
	Properties                               map[string]int64 `json:"properties"`
}

// ManagedLedgerStateOpened is the state of a managed ledger with an open
// ledger (ManagedLedgerImpl.State.LedgerOpened).
const ManagedLedgerStateOpened = "LedgerOpened"

// formatTimestamp is Pulsar's DateFormatter.format: ISO offset date-time
// with the fraction of a second trimmed (the emulator runs in UTC).
func formatTimestamp(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.999999999Z07:00")
}

// Stats returns the cursor's internal stats.
func (c *Cursor) Stats() CursorStats {
	c.ml.mu.Lock()
	defer c.ml.mu.Unlock()
	return c.statsLocked()
}

func (c *Cursor) statsLocked() CursorStats {
	return CursorStats{
		MarkDeletePosition:                       c.markDelete.String(),
		ReadPosition:                             c.read.String(),
		WaitingReadOp:                            c.waitingReadOp,
		MessagesConsumedCounter:                  c.messagesConsumed,
		CursorLedger:                             c.cursorLedger,
		CursorLedgerLastEntry:                    c.cursorLedgerLastEntry,
		IndividuallyDeletedMessages:              c.deleted.String(),
		LastLedgerSwitchTimestamp:                formatTimestamp(c.lastLedgerSwitch),
		State:                                    c.state,
		Active:                                   c.active,
		NumberOfEntriesSinceFirstNotAckedMessage: c.entriesSinceFirstNotAckedLocked(),
		TotalNonContiguousDeletedMessagesRange:   c.deleted.size(),
		SubscriptionHavePendingRead:              c.waitingReadOp,
		Properties:                               maps.Clone(c.props),
	}
}

// InternalStats returns the topic's internal stats.
func (ml *ManagedLedger) InternalStats() InternalStats {
	ml.mu.Lock()
	defer ml.mu.Unlock()
	cur := ml.current()
	st := InternalStats{
		EntriesAddedCounter:        ml.entriesAdded,
		NumberOfEntries:            ml.numberOfEntries,
		TotalSize:                  ml.totalSize,
		CurrentLedgerEntries:       int64(len(cur.entries)),
		CurrentLedgerSize:          cur.size,
		LastLedgerCreatedTimestamp: formatTimestamp(ml.lastLedgerCreated),
		LastConfirmedEntry:         ml.lac.String(),
		State:                      ManagedLedgerStateOpened,
		Ledgers:                    make([]LedgerStats, 0, len(ml.ledgers)),
		Cursors:                    make(map[string]CursorStats, len(ml.cursors)),
		SchemaLedgers:              []LedgerStats{},
		CompactedLedger:            &LedgerStats{LedgerID: -1, Entries: -1, Size: -1},
	}
	for _, l := range ml.ledgers {
		ls := LedgerStats{LedgerID: l.id}
		if l != cur {
			ls.Entries, ls.Size = int64(len(l.entries)), l.size
		}
		st.Ledgers = append(st.Ledgers, ls)
	}
	for name, c := range ml.cursors {
		st.Cursors[name] = c.statsLocked()
		if c.waitingReadOp {
			st.WaitingCursorsCount++
		}
	}
	return st
}
