package cursor

import (
	"fmt"

	"github.com/subsync/subsync/ackset"
)

// Plan is what Apply will do to one subscription. The zero Plan (see Empty)
// does nothing.
type Plan struct {
	// Create: the subscription is missing locally; create it at the earliest
	// position first.
	Create bool
	// ResetTo: reset the cursor to this position (read position = it,
	// mark-delete position = the entry before it, individually deleted
	// ranges cleared) before acknowledging. Its entry is always >= 1, so the
	// broker puts the mark-delete position on ResetTo.Entry-1 of the same
	// ledger (or, if that entry does not exist, on the last entry before
	// it), never after it.
	ResetTo *ackset.Position
	// Acks are the local positions to acknowledge individually (after the
	// reset, if any), sorted, each within one ledger.
	Acks []ackset.Range
	// Deferred: the plan cannot be applied now (Reason says why); Acks is
	// empty.
	Deferred bool
	Reason   string
	// Skipped counts wanted positions that are not acknowledged because they
	// are beyond LastConfirmed or do not exist (past the end of a closed
	// ledger, or in a ledger the topic does not have).
	Skipped int64
	// Unresolved counts wanted ranges that cross ledgers in a way the known
	// ledger layout cannot enumerate; their unknown parts are not
	// acknowledged (ackset.ToLocal never returns such ranges).
	Unresolved int
	// Inexact: an exact plan was asked for, the cursor holds positions
	// that are not wanted, and the plan could not remove them (consumers
	// attached, or the layout cannot place the reset).
	Inexact bool
}

// Empty reports whether the plan changes nothing.
func (p Plan) Empty() bool {
	return !p.Create && p.ResetTo == nil && len(p.Acks) == 0 && !p.Deferred
}

// AckCount returns the number of positions in Acks.
func (p Plan) AckCount() int64 {
	var n int64
	for _, r := range p.Acks {
		if _, first, last, ok := r.Entries(); ok && last >= first {
			n = satAdd(n, satAdd(last-first, 1))
		}
	}
	return n
}

// String summarises the plan for logs.
func (p Plan) String() string {
	reset := "none"
	if p.ResetTo != nil {
		reset = p.ResetTo.String()
	}
	return fmt.Sprintf("create=%t reset=%s acks=%d ranges/%d entries deferred=%t reason=%q skipped=%d unresolved=%d",
		p.Create, reset, len(p.Acks), p.AckCount(), p.Deferred, p.Reason, p.Skipped, p.Unresolved)
}

// PlanOptions tune PlanApply.
type PlanOptions struct {
	// ResetThreshold is the smallest number of individual acks a
	// reset-cursor must save before it is used (the wanted, not yet
	// acknowledged positions its mark-delete jump covers); < 0 disables
	// reset. 0 resets whenever that saves anything.
	ResetThreshold int64
	// LedgerSize optionally gives the number of entries of a closed ledger.
	// It adds to (and must agree with) the sizes in TopicState.Ledgers; a
	// disagreement makes the size unknown.
	LedgerSize func(ledger int64) (entries int64, ok bool)
	// Exact makes the cursor hold exactly the wanted positions, from Floor
	// on: acknowledged positions that are not wanted are un-acknowledged
	// by a reset back to the first position that is not wanted, after
	// which the wanted ones above it are acknowledged again. Positions
	// before Floor are left as they are (nil Floor: none). Used for a
	// mirror, which has no consumers; with consumers attached, or a layout
	// that cannot place the reset, the plan only adds (Inexact says so).
	Exact bool
	Floor *ackset.Position
}

// PlanApply plans how to make subscription sub of topic state t include the
// local positions want. It is pure.
//
// Safety: the plan never acknowledges a position that is neither in want
// nor already acknowledged locally. Acks are want minus what the cursor
// already has (mark-delete position and individually deleted ranges), minus
// positions beyond LastConfirmed or known not to exist (counted in Skipped).
//
// A missing subscription is created (at the earliest position; with a
// known ledger layout the reset below may follow). Consumers attached with
// a type other than Shared defer the plan: an extra Shared consumer cannot
// join an Exclusive, Failover or Key_Shared subscription.
//
// With no consumer attached, a reset-cursor replaces individual acks when
// the positions right after the mark-delete position that are acknowledged
// (locally or in want) form one contiguous stretch, and the wanted
// positions in it number at least ResetThreshold and more than the local
// individually deleted positions above it (which the reset clears and the
// plan acknowledges again). A stretch continues across a ledger boundary
// only when the ledger layout proves the two entries adjacent.
func PlanApply(t TopicState, sub string, want []ackset.Range, o PlanOptions) Plan {
	lay := newLayout(t, o.LedgerSize)
	wanted, unresolved := lay.spans(want)
	wanted, skipped := lay.clip(wanted)
	p := Plan{Skipped: skipped, Unresolved: unresolved}

	s, exists := t.Subscriptions[sub]
	var local ackedState
	if exists {
		if reason := deferReason(s); reason != "" {
			p.Deferred, p.Reason = true, reason
			return p
		}
		local = newAckedState(s.MarkDelete, s.Deleted)
	} else {
		p.Create = true
		// A subscription created at the earliest position has its
		// mark-delete position before entry 0 of the first ledger; with
		// no layout nothing is assumed and no reset is planned.
		local = ackedState{mdp: ackset.Position{Ledger: -1, Entry: -1}}
	}
	toAck := local.notAcked(wanted)
	if o.Exact && exists {
		if reset, acks, excess, ok := lay.planExact(s, local, wanted, o.Floor); excess {
			if ok {
				p.ResetTo, p.Acks = &reset, ranges(acks)
				return p
			}
			p.Inexact = true
		}
	}

	if reset, acks, ok := lay.planReset(o.ResetThreshold, s, exists, local, toAck); ok {
		p.ResetTo, toAck = &reset, acks
	}
	p.Acks = ranges(toAck)
	return p
}

func ranges(spans []span) []ackset.Range {
	if len(spans) == 0 {
		return nil
	}
	out := make([]ackset.Range, len(spans))
	for i, s := range spans {
		out[i] = s.toRange()
	}
	return out
}

// deferReason says why consumers attached to s prevent an extra Shared
// consumer from acknowledging, or "" when they do not.
func deferReason(s SubState) string {
	if s.Consumers <= 0 {
		return ""
	}
	switch s.Type {
	case "Shared":
		return ""
	case "Exclusive", "Failover", "Key_Shared":
		return fmt.Sprintf("%d %s consumer(s) attached", s.Consumers, s.Type)
	case "":
		return fmt.Sprintf("%d consumer(s) attached with unknown subscription type", s.Consumers)
	}
	return fmt.Sprintf("%d consumer(s) attached with unsupported subscription type %q", s.Consumers, s.Type)
}

// planReset decides whether a reset-cursor is worth it and safe. It returns
// the reset position and the acks to make after it.
func (lay layout) planReset(threshold int64, s SubState, exists bool, local ackedState, toAck []span) (ackset.Position, []span, bool) {
	if threshold < 0 || len(toAck) == 0 {
		return ackset.Position{}, nil, false
	}
	if exists && s.Consumers != 0 {
		return ackset.Position{}, nil, false
	}
	if !exists {
		first, ok := lay.firstLedger()
		if !ok {
			return ackset.Position{}, nil, false
		}
		local.mdp = ackset.Position{Ledger: first, Entry: -1}
	}
	idm, ok := lay.enumerable(local)
	if !ok {
		return ackset.Position{}, nil, false
	}
	acked := union(idm, toAck)
	n := lay.stretch(local.mdp, acked)
	if n == 0 {
		return ackset.Position{}, nil, false
	}
	end := acked[n-1].end()
	saved := total(within(toAck, end))
	reAcked := total(idm) - total(within(idm, end))
	if saved < max(threshold, 1) || saved <= reAcked {
		return ackset.Position{}, nil, false
	}
	return ackset.Position{Ledger: end.Ledger, Entry: end.Entry + 1}, acked[n:], true
}

// within returns the parts of the normalized spans at or before p.
func within(spans []span, p ackset.Position) []span {
	var out []span
	for _, s := range spans {
		switch {
		case !p.Less(s.end()):
			out = append(out, s)
		case !p.Less(s.start()):
			out = append(out, span{s.ledger, s.first, p.Entry})
		}
	}
	return out
}

// planExact finds whether the cursor holds positions (from floor on) that
// are not wanted and, if it does, the reset that removes them: back to the
// first position not wanted, every position before it being wanted (or
// before floor), then the wanted positions after it acknowledged again.
// ok is false when consumers are attached or the layout cannot place it.
func (lay layout) planExact(s SubState, local ackedState, wanted []span, floor *ackset.Position) (reset ackset.Position, acks []span, excess, ok bool) {
	gap, found, known := lay.firstGap(wanted, floor)
	if !known {
		return ackset.Position{}, nil, true, false
	}
	idm, enumerable := lay.enumerable(local)
	if !enumerable {
		return ackset.Position{}, nil, true, false
	}
	extra := notIn(aboveFloor(idm, floor), wanted)
	mdpExcess := found && !local.mdp.Less(gap)
	if !mdpExcess && len(extra) == 0 {
		return ackset.Position{}, nil, false, false
	}
	if s.Consumers != 0 || !found {
		return ackset.Position{}, nil, true, false
	}
	return gap, after(wanted, gap), true, true
}

// firstGap returns the first position of the topic, in ledger order, that
// is neither wanted nor before floor. found is false when every position
// up to the LAC is; known is false when a ledger before the gap has an
// unknown size.
func (lay layout) firstGap(wanted []span, floor *ackset.Position) (gap ackset.Position, found, known bool) {
	if len(lay.ledgers) == 0 {
		return ackset.Position{}, false, false
	}
	w := 0
	for _, l := range lay.ledgers {
		n, ok := lay.entriesIn(l.ID)
		if !ok {
			return ackset.Position{}, false, false
		}
		e := int64(0)
		if floor != nil {
			if l.ID < floor.Ledger {
				continue
			}
			if l.ID == floor.Ledger {
				e = max(e, floor.Entry)
			}
		}
		for ; w < len(wanted) && wanted[w].ledger < l.ID; w++ {
		}
		for ; w < len(wanted) && wanted[w].ledger == l.ID && wanted[w].first <= e; w++ {
			e = max(e, wanted[w].last+1)
		}
		if e < n {
			return ackset.Position{Ledger: l.ID, Entry: e}, true, true
		}
	}
	return ackset.Position{}, false, true
}

// entriesIn is the number of entries ledger l holds now: its final size
// when closed, up to the LAC for the ledger being written.
func (lay layout) entriesIn(l int64) (int64, bool) {
	switch {
	case l == lay.lac.Ledger:
		return lay.lac.Entry + 1, true
	case l > lay.lac.Ledger:
		return 0, true
	}
	return lay.size(l)
}

// aboveFloor drops the parts of the normalized spans before floor.
func aboveFloor(spans []span, floor *ackset.Position) []span {
	if floor == nil {
		return spans
	}
	return after(spans, ackset.Position{Ledger: floor.Ledger, Entry: floor.Entry - 1})
}

// after returns the parts of the normalized spans strictly after p.
func after(spans []span, p ackset.Position) []span {
	var out []span
	for _, s := range spans {
		switch {
		case s.ledger < p.Ledger || (s.ledger == p.Ledger && s.last <= p.Entry):
		case s.ledger == p.Ledger && s.first <= p.Entry:
			out = append(out, span{s.ledger, p.Entry + 1, s.last})
		default:
			out = append(out, s)
		}
	}
	return out
}

// notIn returns the parts of the normalized spans a that are not in b.
func notIn(a, b []span) []span {
	var idm []ackset.Range
	for _, s := range b {
		idm = append(idm, ackset.Range{From: ackset.Position{Ledger: s.ledger, Entry: s.first - 1},
			To: ackset.Position{Ledger: s.ledger, Entry: s.last}})
	}
	return newAckedState(ackset.Position{Ledger: -1, Entry: -1}, idm).notAcked(a)
}
