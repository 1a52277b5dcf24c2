package ackset

import (
	"fmt"
	"math"
)

// Run is one stretch of the tail index: local entries
// Local.Entry .. Local.Entry+Count-1 of local ledger Local.Ledger are the
// origin entries OriginEntry .. OriginEntry+Count-1 of origin ledger
// OriginLedger of cluster Origin. A run never crosses a local ledger. Locally
// produced entries are runs whose Origin is the local cluster and whose
// origin position equals the local one.
type Run struct {
	Local        Position
	Origin       string
	OriginLedger int64
	OriginEntry  int64
	Count        int64
}

// Validate checks the run on its own: a non-empty origin, non-negative
// positions, Count >= 1, origin entries within [0, MaxEntry] and no int64
// overflow at the local end.
func (r Run) Validate() error {
	if err := r.validate(); err != nil {
		return fmt.Errorf("tail index run %s: %w", r, err)
	}
	return nil
}

func (r Run) validate() error {
	switch {
	case r.Count < 1:
		return fmt.Errorf("count must be >= 1")
	case r.Local.Ledger < 0 || r.Local.Entry < 0:
		return fmt.Errorf("local position must have ledger and entry >= 0")
	case r.Count > math.MaxInt64-r.Local.Entry:
		return fmt.Errorf("local entries overflow int64")
	case r.OriginEntry > MaxEntry-(r.Count-1):
		return fmt.Errorf("origin entries must end at or below %d", int64(MaxEntry))
	}
	return validateEntries(r.Origin, r.OriginLedger, r.OriginEntry, r.OriginEntry+r.Count-1)
}

// String formats the run as "L:E+N->origin/L:E".
func (r Run) String() string {
	return fmt.Sprintf("%s+%d->%s/%d:%d", r.Local, r.Count, r.Origin, r.OriginLedger, r.OriginEntry)
}

// Last returns the local position of the run's last entry.
func (r Run) Last() Position {
	return Position{Ledger: r.Local.Ledger, Entry: r.Local.Entry + r.Count - 1}
}

// Contains reports whether local position p is one of the run's entries.
func (r Run) Contains(p Position) bool {
	return p.Ledger == r.Local.Ledger && p.Entry >= r.Local.Entry && p.Entry-r.Local.Entry < r.Count
}

// EntryIDAt returns the EntryID of local position p, if p is in the run.
func (r Run) EntryIDAt(p Position) (EntryID, bool) {
	if !r.Contains(p) {
		return EntryID{}, false
	}
	return EntryID{Origin: r.Origin, Ledger: r.OriginLedger, Entry: r.OriginEntry + (p.Entry - r.Local.Entry)}, true
}

// LocalFor returns the local position of id, if id is in the run.
func (r Run) LocalFor(id EntryID) (Position, bool) {
	if id.Origin != r.Origin || id.Ledger != r.OriginLedger ||
		id.Entry < r.OriginEntry || id.Entry-r.OriginEntry >= r.Count {
		return Position{}, false
	}
	return Position{Ledger: r.Local.Ledger, Entry: r.Local.Entry + (id.Entry - r.OriginEntry)}, true
}

// ValidateRuns checks every run and that the runs are sorted by local
// position without overlap. Several runs may map to the same EntryIDs (the
// replicator can duplicate entries); that is allowed.
func ValidateRuns(runs []Run) error {
	for i, r := range runs {
		if err := r.validate(); err != nil {
			return fmt.Errorf("tail index run %d (%s): %w", i, r, err)
		}
		if i > 0 && !runs[i-1].Last().Less(r.Local) {
			return fmt.Errorf("tail index run %d (%s): starts at or before the end of run %d (%s); runs must be sorted by local position without overlap",
				i, r, i-1, runs[i-1])
		}
	}
	return nil
}
