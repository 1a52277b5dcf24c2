package sim

import (
	"fmt"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/owner"
)

// checkModel checks the model itself, at the end of every settle (and,
// with Config.Verbose, after every daemon step): a cursor holds only
// entries its topic has, and cons, subs and loc partition it.
func (s *sim) checkModel(cls ...*cluster) {
	for _, c := range cls {
		sub := &c.sub
		if !sub.exists {
			if !sub.cursor.IsEmpty() || !sub.cons.IsEmpty() || !sub.subs.IsEmpty() || !sub.loc.IsEmpty() || c.consumers {
				s.failf("model", "%s: a missing subscription holds acks or consumers", c.name)
			}
			continue
		}
		if !sub.cursor.Difference(c.has).IsEmpty() {
			s.failf("model", "%s: cursor %s holds entries the topic lacks (%s)", c.name, sub.cursor, c.has)
		}
		parts := sub.cons.Union(sub.subs).Union(sub.loc)
		if !parts.Equal(sub.cursor) || sub.cons.Intersects(sub.subs) || sub.cons.Intersects(sub.loc) || sub.subs.Intersects(sub.loc) {
			s.failf("model", "%s: provenance cons %s subs %s loc %s does not partition cursor %s", c.name, sub.cons, sub.subs, sub.loc, sub.cursor)
		}
	}
}

// checkExport is invariant 1a, at the sender: see doc.go. (An export is
// of the cursor, so only what local acts put there can be wrong.)
func (s *sim) checkExport(c *cluster, e owner.Export) {
	if c.sub.loc.IsEmpty() {
		return // exports are of the cursor: only loc can be bad
	}
	bad := e.Acked.Intersect(c.sub.loc).Difference(s.w)
	for id := range bad.IDs() {
		// A local act acknowledged what the owner (as last heard) wants
		// acknowledged anyway: the owner's state, not a local change.
		if !s.justified(c.d.heldPrev, id) {
			s.failf("safety (local stays local)", "%s exports %s, which a local act put in its cursor and no application consumer acknowledged (local %s, cursor %s; %s)",
				c.name, id, c.sub.loc, c.sub.cursor, s.heldString(c.d.heldPrev))
			return
		}
	}
}

// checkApplied is invariant 1b, at the receiver, for what subsync puts in
// c's cursor (or takes over from a local act): see doc.go. What it
// accepts while the application does not stand behind it (not in W) is
// "lagged" here: exported in turn by this cluster as the owner or an
// active cluster, it is its state.
func (s *sim) checkApplied(c *cluster, added ackset.Set) {
	if added.IsEmpty() {
		return
	}
	added = added.Difference(s.w) // what the application stands behind now is fine
	if added.IsEmpty() {
		return
	}
	var ok ackset.Set
	for _, m := range c.d.held {
		if m != nil {
			ok = ok.Union(m.exp.Acked.Intersect(m.w))
		}
	}
	// What the application no longer stands behind, applied as the sender
	// knew it: lagged.
	c.lagged = c.lagged.Union(added)
	rest := added.Difference(ok)
	if rest.IsEmpty() {
		return
	}
	for id := range rest.IDs() {
		if lagged(c.d.held, id) {
			continue
		}
		if t := s.lastTomb(id, len(s.tombs)); t != nil && t.x == c.idx && t.seen <= len(s.trace) {
			// Un-acknowledged here, and this daemon has seen it: no
			// report, however stale, excuses acknowledging it again (the
			// echo that undoes a rewind).
			s.failf("safety (no ack nobody wants)", "%s: subsync acknowledges %s again, un-acknowledged here since (%s)",
				c.name, id, s.heldString(c.d.held))
			return
		}
		if !s.justified(c.d.held, id) {
			s.failf("safety (no ack nobody wants)", "%s: subsync acknowledges %s, which no application consumer acknowledged and still wanted when any report %s holds was sent (%s)",
				c.name, id, c.name, s.heldString(c.d.held))
			return
		}
	}
}

// lagged: a report among held, from the owner or an active cluster,
// carries id as its state that was applied there excused by lag.
func lagged(held []*message, id ackset.EntryID) bool {
	for _, m := range held {
		if m != nil && m.lagged.Contains(id) {
			return true
		}
	}
	return false
}

// heldString describes held reports for a failure.
func (s *sim) heldString(held []*message) string {
	out := "reports held:"
	for _, m := range held {
		if m != nil {
			out += fmt.Sprintf(" %s #%d sent at step %d %s (application's then: %s)", s.name(m.from), m.seq, m.sendStep, m.exp.Acked, m.w)
		}
	}
	return out
}

// justified: a report among held contains id, and id was acknowledged by
// the application when it was sent, or un-acknowledged at a cluster x
// whose doing the sender had not seen, or had seen while it took another
// cluster than x for the owner.
func (s *sim) justified(held []*message, id ackset.EntryID) bool {
	for from, m := range held {
		if m == nil || !m.exp.Acked.Contains(id) {
			continue
		}
		if m.w.Contains(id) {
			return true
		}
		t := s.lastTomb(id, m.tombs)
		if t != nil && !(t.x == from && m.sendStep >= t.seen) && (m.knows[t.x] < t.seen || m.view != t.x) {
			// The sender had not heard of the un-acknowledgement yet, or
			// had but (by the design's rule on what it knew) took
			// another cluster for the owner.
			return true
		}
	}
	return false
}

// checkCreate is invariant 2, before subsync creates the subscription on c.
func (s *sim) checkCreate(c *cluster) {
	// 2a: the owner deleted it, nobody recreated it, and c has heard from
	// every cluster since (so no stale report can excuse it).
	if s.ownerDeleted {
		k := len(s.dels) - 1
		del := s.dels[k]
		if m := c.d.held[del.owner]; m != nil && m.epoch > k {
			all := true
			for _, h := range c.d.held {
				if h != nil && h.epoch <= k {
					all = false
				}
			}
			if all {
				s.failf("deletion", "%s: subsync creates the subscription %s deleted at step %d, not recreated since, having heard from every cluster since",
					c.name, s.name(del.owner), del.step)
				return
			}
		}
	}
	// 2b: an operator deleted it here; only a deletion and recreation on
	// the owner after that (or one this daemon had not heard of when it
	// was deleted here), or its owner's deletion as this daemon learned
	// it since (by the design's rule, independently of Decide), allows
	// subsync to create it again.
	if od := c.opDel; od != nil {
		if od.ownerGone {
			return
		}
		for k, del := range s.dels {
			if del.recreated >= 0 && (del.recreated > od.step || k >= len(od.knew) || !od.knew[k]) {
				return
			}
		}
		s.failf("deletion", "%s: subsync recreates the subscription an operator deleted here at step %d; its owner has not deleted and recreated it since",
			c.name, od.step)
	}
}

// checkLiveness is invariant 3, after a settle: with consumers on exactly
// one cluster, every other cluster's subscription exists (unless an
// operator deleted it there) and holds exactly what the owner's consumers
// and mirroring put in the owner's cursor, of the entries it has. With
// consumers nowhere and the subscription deleted on its owner, it exists
// nowhere.
func (s *sim) checkLiveness() {
	act := s.active()
	switch {
	case len(act) == 1:
		o := act[0]
		want := o.sub.cursor.Difference(o.sub.loc).Difference(o.amb)
		s.record(record{kind: evCheck, what: "liveness: mirrors follow " + o.name, set: want})
		for _, c := range s.others(o) {
			if !c.sub.exists {
				if c.opDel == nil {
					s.failf("liveness", "%s: no subscription after settling, yet no operator deleted it there", c.name)
				}
				continue
			}
			if exp := want.Intersect(c.has); !c.sub.cursor.Equal(exp) {
				s.failf("liveness", "%s: cursor %s after settling; want %s (owner %s's %s of the entries %s has)",
					c.name, c.sub.cursor, exp, o.name, want, c.name)
				return
			}
		}
	case len(act) == 0 && s.ownerDeleted:
		s.record(record{kind: evCheck, what: "liveness: deleted everywhere"})
		for _, c := range s.cl {
			if c.sub.exists {
				s.failf("liveness", "%s: subscription still exists after settling; its owner %s deleted it", c.name, s.name(s.dels[len(s.dels)-1].owner))
			}
		}
	}
}
