package mapping

import (
	"math"

	"github.com/subsync/subsync/ackset"
)

// Run is the tail index's unit, shared with package ackset: local entries
// Local.Entry..Local.Entry+Count-1 of local ledger Local.Ledger are the
// copies of origin entries OriginEntry..OriginEntry+Count-1 of ledger
// OriginLedger in cluster Origin.
type Run = ackset.Run

// maxNameLen bounds topic, cluster and subscription names: keys store
// their length in two bytes.
const maxNameLen = math.MaxUint16

// runOriginLast is the origin entry id of the run's last entry.
func runOriginLast(r Run) int64 { return r.OriginEntry + r.Count - 1 }

// continues reports whether next starts exactly where prev ends, both in
// the local ledger and in the origin ledger, so the two form one run.
func continues(prev, next Run) bool {
	last := prev.Last()
	return next.Local.Ledger == last.Ledger &&
		last.Entry < math.MaxInt64 && next.Local.Entry == last.Entry+1 &&
		next.Origin == prev.Origin &&
		next.OriginLedger == prev.OriginLedger &&
		runOriginLast(prev) < math.MaxInt64 && next.OriginEntry == runOriginLast(prev)+1
}

// coalesce merges neighbours that continue each other. The input must be
// a valid sequence; the result is a new slice.
func coalesce(runs []Run) []Run {
	out := make([]Run, 0, len(runs))
	for _, r := range runs {
		if n := len(out); n > 0 && continues(out[n-1], r) {
			out[n-1].Count += r.Count
			continue
		}
		out = append(out, r)
	}
	return out
}
