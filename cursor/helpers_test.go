package cursor

import (
	"github.com/subsync/subsync/ackset"
)

// pos is a position.
func pos(l, e int64) ackset.Position { return ackset.Position{Ledger: l, Entry: e} }

// ents is the range of entries first..last of ledger l.
func ents(l, first, last int64) ackset.Range {
	return ackset.Range{From: pos(l, first-1), To: pos(l, last)}
}

// rng is the half-open range (from..to] as Pulsar prints it.
func rng(fl, fe, tl, te int64) ackset.Range {
	return ackset.Range{From: pos(fl, fe), To: pos(tl, te)}
}

func ptr(p ackset.Position) *ackset.Position { return &p }
