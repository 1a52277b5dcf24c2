package sim

import (
	"fmt"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/owner"
)

// weights of the random events; an event that does not apply to the drawn
// state is drawn again.
var weights = [...]struct {
	k kind
	w int
}{
	{evStep, 26}, {evDeliver, 20}, {evProduce, 7}, {evReplicate, 9}, {evAck, 10},
	{evNack, 1}, {evRewind, 2}, {evAttach, 3}, {evDetach, 2}, {evLocal, 4},
	{evDelete, 1}, {evRecreate, 1}, {evCrash, 1}, {evRestart, 2}, {evDup, 2},
	{evLose, 3}, {evTick, 3}, {evSettle, 2}, {evCreate, 1},
}

var totalWeight = func() int {
	n := 0
	for _, w := range weights {
		n += w.w
	}
	return n
}()

func (s *sim) draw() kind {
	r := s.rng.IntN(totalWeight)
	for _, w := range weights {
		if r < w.w {
			return w.k
		}
		r -= w.w
	}
	panic("unreachable")
}

func (s *sim) pick() *cluster { return s.cl[s.rng.IntN(len(s.cl))] }

// event advances time and performs one random event that applies; the
// invariants are checked as the event acts (an export, an apply, a
// create) and after a settle.
func (s *sim) event() {
	s.now += 1 + s.rng.Int64N(300)
	for !s.try(s.draw()) {
	}
}

// try performs an event of kind k on a random cluster or link, or reports
// false when it does not apply.
func (s *sim) try(k kind) bool {
	c := s.pick()
	switch k {
	case evStep:
		if !c.d.up {
			return false
		}
		s.daemonStep(c)
	case evDeliver, evDup, evLose:
		d := s.pick()
		l := s.links[c.idx][d.idx]
		if c == d || len(l.q) == 0 || (k == evDeliver && !d.d.up) {
			return false
		}
		i := s.rng.IntN(len(l.q))
		switch k {
		case evDeliver:
			s.deliver(l, i)
		case evDup:
			m := l.q[i]
			l.q = append(l.q, m)
			s.record(record{kind: evDup, c: c.idx, d: d.idx, n: int(m.seq)})
		case evLose:
			m := l.q[i]
			l.q = append(l.q[:i], l.q[i+1:]...)
			s.record(record{kind: evLose, c: c.idx, d: d.idx, n: int(m.seq)})
		}
	case evProduce:
		s.produce(c, 1+s.rng.IntN(6))
	case evReplicate:
		d := s.pick()
		if c == d || c.repl[d.idx] == c.produced {
			return false
		}
		s.replicate(c, d, 1+s.rng.Int64N(c.produced-c.repl[d.idx]))
	case evAck:
		if !c.consumers || !c.sub.exists {
			return false
		}
		un := c.unacked()
		if len(un) == 0 {
			return false
		}
		n := 1 + s.rng.IntN(min(len(un), 5))
		var acked []ackset.EntryID
		for _, i := range s.rng.Perm(len(un))[:n] { // out of order
			acked = append(acked, un[i])
		}
		set := setOf(acked)
		c.sub.cursor = c.sub.cursor.Union(set)
		c.sub.cons = c.sub.cons.Union(set)
		c.sub.lastFlow = s.now
		c.dirtyConsumer = true
		s.w = s.w.Union(set)
		s.record(record{kind: evAck, c: c.idx, set: set})
	case evNack:
		if !c.consumers {
			return false
		}
		s.record(record{kind: evNack, c: c.idx})
	case evRewind:
		// Only where consumers are attached on this cluster alone: while
		// several clusters are active the union is not un-done (see doc.go).
		if !c.consumers || !c.sub.exists || !s.alone(c) {
			return false
		}
		k := s.rng.IntN(len(c.order) + 1)
		keep := c.prefix(k)
		gone := c.sub.cursor.Difference(keep)
		c.drop(gone)
		c.sub.lastFlow = s.now
		c.dirtyConsumer = true
		s.record(record{kind: evRewind, c: c.idx, n: k, set: gone})
		s.removeFromTruth(s.w.Difference(keep), c, false)
	case evAttach:
		if c.consumers {
			return false
		}
		if c.dirtyLocal && !s.readFirst(c) {
			return false
		}
		s.attach(c, s.rng.IntN(10) < 7)
	case evDetach:
		if !c.consumers {
			return false
		}
		c.consumers = false
		c.dirtyConsumer = true
		s.record(record{kind: evDetach, c: c.idx})
	case evLocal:
		if c.consumers || !c.sub.exists || len(c.unacked()) == 0 {
			return false
		}
		if (c.dirtyConsumer || !c.sub.known) && !s.readFirst(c) {
			return false
		}
		un := c.unacked() // the read may have changed the cursor
		if !c.sub.exists || len(un) == 0 {
			return true
		}
		var what string
		switch s.rng.IntN(3) {
		case 0:
			what, un = "TTL", un[:1+s.rng.IntN(len(un))] // the oldest
		case 1:
			what, un = "skip", un[:min(len(un), 1+s.rng.IntN(3))]
		default:
			what = "clear-backlog"
		}
		set := setOf(un)
		c.sub.cursor = c.sub.cursor.Union(set)
		// What subsync was told to apply here and could not yet (the
		// entries had not arrived) is subsync's, whoever acknowledges it.
		pend := set.Intersect(c.want)
		c.sub.subs = c.sub.subs.Union(pend)
		c.sub.loc = c.sub.loc.Union(set.Difference(pend))
		if c.wantUnion && s.activeNow(c) {
			s.w = s.w.Union(pend)
		}
		c.dirtyLocal = true
		s.record(record{kind: evLocal, c: c.idx, what: what, set: set})
		if !pend.IsEmpty() {
			s.note("of which subsync wants " + pend.String() + " here")
		}
	case evDelete:
		if !c.sub.exists {
			return false
		}
		s.operatorDelete(c)
	case evRecreate:
		return s.recreate()
	case evCreate:
		if c.sub.exists || c.consumers {
			return false
		}
		onOwner := s.ownerNow(nil) == c.idx
		c.sub = s.newSub()
		s.record(record{kind: evCreate, c: c.idx})
		if onOwner {
			s.revive()
		}
	case evCrash:
		if !c.d.up {
			return false
		}
		c.d.up = false
		lost := 0
		for _, l := range s.links[c.idx] {
			lost += len(l.q)
			l.q = nil
		}
		s.record(record{kind: evCrash, c: c.idx, n: lost})
	case evRestart:
		if c.d.up {
			return false
		}
		c.d.up = true
		s.record(record{kind: evRestart, c: c.idx})
	case evTick:
		dt := 1000 + s.rng.Int64N(5000)
		if s.rng.IntN(3) == 0 {
			dt = s.cfg.Silence + s.rng.Int64N(s.cfg.Silence)
		}
		s.now += dt
		s.record(record{kind: evTick, n: int(dt)})
	case evSettle:
		s.settle()
	default:
		panic(fmt.Sprint("unknown event ", k))
	}
	return true
}

// readFirst runs c's daemon step before an event that must not share a
// read interval with what happened since the last one; false when the
// daemon is down.
func (s *sim) readFirst(c *cluster) bool {
	if !c.d.up {
		return false
	}
	s.daemonStep(c)
	return s.fail == nil
}

func (s *sim) produce(c *cluster, n int) {
	var set ackset.Set
	for range n {
		id := ackset.EntryID{Origin: c.name, Ledger: 0, Entry: c.produced}
		c.produced++
		c.order = append(c.order, id)
		_ = set.Add(id)
	}
	c.has = c.has.Union(set)
	s.record(record{kind: evProduce, c: c.idx, n: n, set: c.has})
}

// replicate hands the next n of src's own entries to dst, in order; now
// and then the replicator skips one (TTL-expired before it was sent).
func (s *sim) replicate(src, dst *cluster, n int64) {
	var got, skipped ackset.Set
	for range n {
		id := ackset.EntryID{Origin: src.name, Ledger: 0, Entry: src.repl[dst.idx]}
		src.repl[dst.idx]++
		if s.rng.IntN(12) == 0 {
			_ = skipped.Add(id)
			continue
		}
		dst.order = append(dst.order, id)
		_ = got.Add(id)
	}
	dst.has = dst.has.Union(got)
	r := record{kind: evReplicate, c: src.idx, d: dst.idx, set: got}
	if !skipped.IsEmpty() {
		r.what = skipped.String()
	}
	s.record(r)
}

// attach attaches application consumers on c (creating the subscription
// when missing, as a consumer's subscribe does); a failover detaches them
// everywhere else.
func (s *sim) attach(c *cluster, failover bool) {
	what := ""
	if failover {
		for _, o := range s.others(c) {
			if o.consumers {
				o.consumers = false
				o.dirtyConsumer = true
				what += ", detached from " + o.name
			}
		}
	}
	if !c.sub.exists {
		c.sub = s.newSub()
		what += ", creating the subscription"
	}
	c.consumers = true
	c.sub.lastFlow = s.now
	c.dirtyConsumer = true
	s.record(record{kind: evAttach, c: c.idx, what: what})
	s.revive()
	// The application now consumes from c's cursor: what it holds that no
	// local operator action put there is what it stands behind.
	s.w = s.w.Union(c.sub.cursor.Difference(c.sub.loc))
}

// revive notes that the application consumes the subscription again: a
// deletion on its owner is followed by a recreation.
func (s *sim) revive() {
	s.ownerDeleted = false
	for k := range s.dels {
		if s.dels[k].recreated < 0 {
			s.dels[k].recreated = len(s.trace) - 1
		}
	}
}

// ownerNow is the cluster that owns the subscription by the design's rule,
// with everything observable counted: the one cluster with consumers
// attached; with none, the latest to have been seen active, counting
// flows the daemon has not read yet (ties to the smaller name); -1 for
// several active or none ever seen. except is a cluster whose unread flow
// is about to be lost (its subscription is being deleted).
func (s *sim) ownerNow(except *cluster) int {
	var act []*cluster
	for _, c := range s.cl {
		if c != except && s.activeNow(c) {
			act = append(act, c)
		}
	}
	if len(act) == 1 {
		return act[0].idx
	}
	if len(act) > 1 {
		return -1
	}
	best, at := -1, int64(0)
	for _, c := range s.cl {
		t := c.seen
		if c != except && c.sub.exists && c.sub.lastFlow > t {
			t = c.sub.lastFlow
		}
		if t > at { // clusters in name order: ties stay with the smaller
			best, at = c.idx, t
		}
	}
	return best
}

// viewOwner is the owner by the design's rule on what c's daemon knows:
// its own read (at this step) and the reports it holds; -1 for none or
// several active.
func (s *sim) viewOwner(c *cluster) int {
	best, at, active := -1, int64(0), []int(nil)
	for _, x := range s.cl {
		var on bool
		var last int64
		if x == c {
			on, last = s.activeNow(c), c.seen
		} else if m := c.d.held[x.idx]; m != nil {
			on = s.fresh(m, c.d.reports[x.name].Received)
			last = m.exp.LastActive
		}
		if on {
			active = append(active, x.idx)
		}
		if last > at {
			best, at = x.idx, last
		}
	}
	switch len(active) {
	case 0:
		return best
	case 1:
		return active[0]
	}
	return -1
}

// fresh: m, received then, claims active consumers that still count: the
// claim is renewed within Silence, and its sender saw them within
// Silence and Linger (the design's lapse).
func (s *sim) fresh(m *message, received int64) bool {
	return m.exp.Active && s.now-received <= s.cfg.Silence && s.now-m.exp.LastActive <= s.cfg.Silence+s.cfg.Linger
}

// activeNow: c has application consumers attached, or one asked for
// messages within the linger time (the design's "active").
func (s *sim) activeNow(c *cluster) bool {
	return c.consumers || (c.sub.exists && c.sub.lastFlow > 0 && s.now-c.sub.lastFlow <= s.cfg.Linger)
}

// alone: no cluster but c is active, nor claims to be in a report a
// daemon holds (unlapsed) or that is on its way. A rewind is the
// application's only while its consumers are nowhere else: while several
// clusters are active the union is not undone (the design's "both
// active").
func (s *sim) alone(c *cluster) bool {
	for _, x := range s.others(c) {
		if s.activeNow(x) {
			return false
		}
		for _, y := range s.cl {
			if m := y.d.held[x.idx]; m != nil && s.fresh(m, y.d.reports[x.name].Received) {
				return false
			}
			for _, m := range s.links[x.idx][y.idx].q {
				if m.exp.Active {
					return false
				}
			}
		}
	}
	return true
}

// operatorDelete deletes the subscription on c (its consumers, if any,
// are disconnected first). On the owner it is the subscription's
// deletion; elsewhere a local act that must stay local.
func (s *sim) operatorDelete(c *cluster) {
	others := false
	for _, o := range s.others(c) {
		others = others || s.activeNow(o)
	}
	// What no daemon read of c saw (consumers attached since, a flow)
	// dies with the subscription.
	onOwner := !others && s.ownerNow(c) == c.idx
	if c.consumers {
		c.consumers = false
		c.dirtyConsumer = true
	}
	known := c.readExists
	c.sub = subscription{}
	what := "on a mirror"
	if onOwner {
		what = "on its owner"
	}
	if !known {
		what += ", before the daemon there saw it"
	}
	s.record(record{kind: evDelete, c: c.idx, what: what})
	step := len(s.trace) - 1
	if onOwner {
		s.dels = append(s.dels, deletion{owner: c.idx, step: step, recreated: -1})
		s.ownerDeleted = true
		s.removeFromTruth(s.w, c, true)
	}
	if !known {
		return // to the daemon, this incarnation never was
	}
	od := &opDeletion{step: step, knew: make([]bool, len(s.dels))}
	for k, del := range s.dels {
		if m := c.d.held[del.owner]; m != nil && m.epoch > k {
			od.knew[k] = true
		}
	}
	if onOwner {
		c.ownerDel = od
	} else {
		c.opDel = od
	}
}

// recreate deletes and recreates the subscription on the consumers'
// cluster (or the owner's, or any) and attaches consumers to it: a new
// incarnation that starts from nothing acknowledged.
func (s *sim) recreate() bool {
	c := s.pick()
	if act := s.active(); len(act) > 0 {
		c = act[s.rng.IntN(len(act))]
	} else if o := s.ownerNow(nil); o >= 0 {
		c = s.cl[o]
	}
	// Like a rewind (to nothing), only while the application is on c
	// alone.
	if !s.alone(c) {
		return false
	}
	c.sub = s.newSub()
	c.sub.lastFlow = s.now
	c.consumers = true
	c.dirtyConsumer = true
	s.record(record{kind: evRecreate, c: c.idx})
	step := len(s.trace) - 1
	s.dels = append(s.dels, deletion{owner: c.idx, step: step, recreated: step})
	s.ownerDeleted = false
	s.removeFromTruth(s.w, c, false)
	return true
}

// deliver hands message i of l to its receiver, which keeps the newest
// report per sender and drops older ones and duplicates.
func (s *sim) deliver(l *link, i int) {
	m := l.q[i]
	l.q = append(l.q[:i], l.q[i+1:]...)
	d := &s.cl[m.to].d
	r := record{kind: evDeliver, c: m.from, d: m.to, n: int(m.seq), what: "stale, dropped"}
	if h := d.held[m.from]; h == nil || m.seq > h.seq {
		d.held[m.from] = m
		d.reports[s.name(m.from)] = owner.Report{Presence: m.exp.Presence, Exists: m.exp.Exists, Acked: m.exp.Acked, Received: s.now}
		r.what, r.msg = "", m
	}
	s.record(r)
}

// daemonStep is one pass of c's daemon: read the subscription, decide,
// persist Memory, publish the export, perform the step.
func (s *sim) daemonStep(c *cluster) {
	d := &c.d
	local := owner.Local{Exists: c.sub.exists}
	if c.sub.exists {
		if c.consumers {
			local.AppConsumers = 1
		}
		local.LastFlow = c.sub.lastFlow
		local.Acked = c.sub.cursor
	}
	s.observe(c)
	// The daemon finds an operator's deletion here: what it takes it for
	// depends on who it believes owns the subscription (see doc.go).
	ownerDel, mirrorDel := false, false
	if od := c.opDel; od != nil && !od.noticed && !c.sub.exists {
		od.noticed = true
		ownerDel = s.viewOwner(c) == c.idx
	}
	if od := c.opDel; od != nil && !c.sub.exists {
		if v := s.viewOwner(c); v >= 0 && v != c.idx && c.d.held[v] != nil && !c.d.held[v].exp.Exists {
			od.ownerGone = true
		}
	}
	if od := c.ownerDel; od != nil && !c.sub.exists {
		c.ownerDel = nil
		if s.viewOwner(c) != c.idx {
			od.noticed, mirrorDel = true, true
			c.opDel = od
		}
	}
	st := s.cfg.Decide(owner.Config{Self: c.name, Silence: s.cfg.Silence, Linger: s.cfg.Linger}, s.now, local, d.reports, d.mem)
	d.mem = st.Memory
	view := s.viewOwner(c)
	r := record{kind: evStep, c: c.idx, step: &st}
	if s.cfg.Verbose {
		mem := st.Memory
		r.mem = &mem
	}
	s.record(r)
	step := len(s.trace) - 1
	if ownerDel {
		// As far as this daemon has heard, its cluster owns the
		// subscription: to the protocol the deletion is the owner's, and
		// the live incarnation elsewhere a recreation (see doc.go).
		del := deletion{owner: c.idx, step: c.opDel.step, recreated: -1}
		for _, o := range s.others(c) {
			if s.activeNow(o) {
				del.recreated = step // the application lives on there
			}
		}
		s.dels = append(s.dels, del)
		c.opDel = nil
		s.note("deleted here by an operator; this daemon knows of no other owner: the owner's deletion to it")
	}
	if mirrorDel {
		s.note("deleted here by its owner's operator; this daemon has heard of another owner since: a mirror's deletion to it")
	}

	if st.Export.Send {
		s.checkExport(c, st.Export)
		d.seq++
		var lagged ackset.Set
		if s.activeNow(c) || s.ownerNow(nil) == c.idx || view == c.idx {
			// Its state as the owner (in truth, or by the design's rule
			// on what its daemon knows) or an active cluster.
			lagged = c.lagged.Intersect(st.Export.Acked)
		}
		for _, o := range s.others(c) {
			l := s.links[c.idx][o.idx]
			m := &message{from: c.idx, to: o.idx, seq: d.seq, sendStep: step, exp: st.Export,
				w: s.w, tombs: len(s.tombs), knows: append([]int(nil), d.knowsPrev...), view: d.viewPrev, epoch: len(s.dels), lagged: lagged}
			l.q = append(l.q, m)
			if len(l.q) > 8 { // the oldest is superseded anyway
				l.q = l.q[1:]
			}
		}
	}
	if st.Create && !c.sub.exists {
		s.checkCreate(c)
		c.sub = s.newSub()
		c.sub.known = true
		c.readExists = true
		c.opDel = nil
	}
	if st.Delete && c.sub.exists {
		c.sub = subscription{}
		c.readExists = false
	}
	c.want = ackset.Set{}
	switch st.Apply {
	case owner.ApplyExact:
		if !c.sub.exists || c.consumers {
			s.note("exact skipped: consumers attached or no subscription")
			break
		}
		c.amb = c.amb.Difference(st.Want)
		next := st.Want.Intersect(c.has)
		s.checkApplied(c, st.Want.Difference(c.sub.cons).Difference(c.sub.subs))
		c.want, c.wantUnion = st.Want, false
		cons := c.sub.cons.Intersect(next)
		c.sub.cursor, c.sub.cons, c.sub.subs, c.sub.loc = next, cons, next.Difference(cons), ackset.Set{}
	case owner.ApplyUnion:
		if !c.sub.exists {
			break
		}
		c.amb = c.amb.Difference(st.Want)
		add := st.Want.Intersect(c.has)
		s.checkApplied(c, st.Want.Difference(c.sub.cons).Difference(c.sub.subs))
		c.want, c.wantUnion = st.Want, true
		c.sub.cursor = c.sub.cursor.Union(add)
		c.sub.subs = c.sub.subs.Union(add.Difference(c.sub.cons))
		c.sub.loc = c.sub.loc.Difference(add)
		if s.activeNow(c) {
			// An active cluster's cursor is the application's state (its
			// consumers skip these now): it stands behind them (they
			// passed checkApplied).
			s.w = s.w.Union(add)
		}
	}
	if !c.lagged.IsEmpty() {
		c.lagged = c.lagged.Intersect(c.sub.cursor.Union(c.want))
	}
	if s.cfg.Verbose {
		s.checkModel(c)
	}
	copy(d.heldPrev, d.held)
	d.viewPrev = view
	for i, m := range d.held {
		d.knowsPrev[i] = -1
		if m != nil {
			d.knowsPrev[i] = m.sendStep
		}
	}
}

// observe is what a daemon read shows of consumers: the truth's "seen".
func (s *sim) observe(c *cluster) {
	// This read sees the removals from the truth made here since the last
	// (a rewind, a recreation: the cursor shrank; a deletion: it is gone),
	// unless the subscription they were made on is gone since.
	for _, i := range c.unseenTombs {
		if s.tombs[i].deletion || (c.sub.exists && c.sub.inc == s.tombs[i].inc) {
			s.tombs[i].seen = len(s.trace) // the index of this step's record
		}
	}
	c.unseenTombs = c.unseenTombs[:0]
	c.sub.known = c.sub.known || c.sub.exists
	c.readExists = c.sub.exists
	if c.sub.exists {
		// The daemon sees it exist again: an operator's deletion here is
		// behind it. (An incarnation no read saw changes nothing.)
		c.opDel, c.ownerDel = nil, nil
	}
	c.amb = c.amb.Intersect(c.sub.cursor).Union(c.sub.loc)
	if c.sub.exists && c.consumers {
		c.seen = max(c.seen, s.now)
	}
	if c.sub.exists && c.sub.lastFlow > c.seen {
		c.seen = min(c.sub.lastFlow, s.now)
	}
	c.dirtyConsumer, c.dirtyLocal = false, false
}

// settle restarts every daemon and lets them exchange everything for a
// few rounds with no other event, then checks liveness.
func (s *sim) settle() {
	s.record(record{kind: evSettle, what: "begin"})
	s.now += s.cfg.Linger + 1 // no consumer that left still counts
	if s.rng.IntN(4) == 0 {
		s.now += s.cfg.Silence
	}
	for _, c := range s.cl {
		if !c.d.up {
			c.d.up = true
			s.record(record{kind: evRestart, c: c.idx})
		}
	}
	for range 4 {
		for _, c := range s.cl {
			s.now += 1 + s.rng.Int64N(200)
			s.daemonStep(c)
			if s.fail != nil {
				return
			}
		}
		for _, row := range s.links {
			for _, l := range row {
				for len(l.q) > 0 {
					s.deliver(l, 0)
				}
			}
		}
	}
	s.checkModel(s.cl...)
	s.checkLiveness()
}
