package cursor

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/subsync/subsync/ackset"
)

// topology is a naive per-entry model of a topic: ledger ids in order and
// the number of entries written to each; the last ledger is being written.
type topology struct {
	ids   []int64
	sizes []int64
}

func (tp topology) index(l int64) int { return slices.Index(tp.ids, l) }

func (tp topology) exists(p ackset.Position) bool {
	i := tp.index(p.Ledger)
	return i >= 0 && p.Entry >= 0 && p.Entry < tp.sizes[i]
}

// entries lists every existing position in order.
func (tp topology) entries() []ackset.Position {
	var out []ackset.Position
	for i, id := range tp.ids {
		for e := int64(0); e < tp.sizes[i]; e++ {
			out = append(out, pos(id, e))
		}
	}
	return out
}

// lac is the last entry written, or (first ledger, -1) when there is none.
func (tp topology) lac() ackset.Position {
	for i := len(tp.ids) - 1; i >= 0; i-- {
		if tp.sizes[i] > 0 {
			return pos(tp.ids[i], tp.sizes[i]-1)
		}
	}
	return pos(tp.ids[0], -1)
}

// valid, nextValid and previous follow ManagedLedgerImpl's
// isValidPosition, getNextValidPosition and getPreviousPosition, which
// decide where a reset-cursor really lands.
func (tp topology) valid(p ackset.Position) bool {
	lac := tp.lac()
	i := tp.index(p.Ledger)
	switch {
	case p.Entry < 0 || i < 0:
		return false
	case p.Ledger == lac.Ledger:
		return p.Entry <= lac.Entry+1
	case i == len(tp.ids)-1 && tp.sizes[i] == 0:
		return p.Entry == 0
	}
	return p.Entry < tp.sizes[i]
}

func (tp topology) nextValid(p ackset.Position) ackset.Position {
	n := pos(p.Ledger, p.Entry+1)
	for !tp.valid(n) {
		next := int64(-1)
		for _, id := range tp.ids {
			if id > n.Ledger {
				next = id
				break
			}
		}
		if next < 0 {
			lac := tp.lac()
			return pos(lac.Ledger, lac.Entry+1)
		}
		n = pos(next, 0)
	}
	return n
}

func (tp topology) previous(p ackset.Position) ackset.Position {
	if p.Entry > 0 {
		return pos(p.Ledger, p.Entry-1)
	}
	for i := len(tp.ids) - 1; i >= 0; i-- {
		if tp.ids[i] < p.Ledger && tp.sizes[i] > 0 {
			return pos(tp.ids[i], tp.sizes[i]-1)
		}
	}
	return pos(p.Ledger, -1)
}

// resetMarkDelete is the mark-delete position a reset-cursor to p leaves.
func (tp topology) resetMarkDelete(p ackset.Position) ackset.Position {
	if !tp.valid(p) {
		p = tp.nextValid(p)
	}
	return tp.previous(p)
}

type modelCase struct {
	tp        topology
	state     TopicState
	want      []ackset.Range
	opts      PlanOptions
	fullList  bool // state.Ledgers is the complete layout
	sizeKnown map[int64]bool
}

func randomCase(r *rand.Rand) modelCase {
	var tp topology
	id := int64(1 + r.Intn(4))
	for n := 1 + r.Intn(4); n > 0; n-- {
		tp.ids = append(tp.ids, id)
		tp.sizes = append(tp.sizes, int64(r.Intn(7)))
		id += int64(1 + r.Intn(3))
	}
	c := modelCase{tp: tp, sizeKnown: map[int64]bool{}}
	c.state = TopicState{Topic: "t", LastConfirmed: tp.lac(), Subscriptions: map[string]SubState{}}
	mode := r.Intn(4)
	if mode == 0 || mode == 3 {
		c.fullList = true
		for i, id := range tp.ids {
			l := Ledger{ID: id, Entries: tp.sizes[i]}
			if i == len(tp.ids)-1 {
				l.Entries = 0 // the broker reports 0 for the ledger being written
			}
			c.state.Ledgers = append(c.state.Ledgers, l)
		}
	}
	if mode >= 2 {
		for _, id := range tp.ids[:len(tp.ids)-1] {
			if r.Intn(2) == 0 {
				c.sizeKnown[id] = true
			}
		}
		c.opts.LedgerSize = func(l int64) (int64, bool) {
			if !c.sizeKnown[l] {
				return 0, false
			}
			return tp.sizes[tp.index(l)], true
		}
	}
	c.opts.ResetThreshold = []int64{-1, 0, 1, 2, 4, 8}[r.Intn(6)]
	if r.Intn(8) != 0 {
		c.state.Subscriptions["s"] = randomSub(r, tp)
	}
	c.want = randomWant(r, tp)
	if s, ok := c.state.Subscriptions["s"]; ok && r.Intn(3) == 0 {
		// A stretch right after the mark-delete position, maybe running
		// into the next ledger: the case a reset serves.
		m := s.MarkDelete
		c.want = append(c.want, ents(m.Ledger, m.Entry+1, m.Entry+1+int64(r.Intn(8))))
		if i := tp.index(m.Ledger); i >= 0 && i+1 < len(tp.ids) && r.Intn(2) == 0 {
			c.want = append(c.want, ents(tp.ids[i+1], 0, int64(r.Intn(6))))
		}
	}
	return c
}

func randomSub(r *rand.Rand, tp topology) SubState {
	all := tp.entries()
	mdp := pos(tp.ids[0], -1)
	if len(all) > 0 && r.Intn(3) != 0 {
		mdp = all[r.Intn(len(all))]
	}
	s := SubState{MarkDelete: mdp, Type: "Shared"}
	switch r.Intn(8) {
	case 0:
		s.Consumers = 1 + r.Intn(2)
	case 1:
		s.Type = []string{"Exclusive", "Failover", "Key_Shared", ""}[r.Intn(4)]
		s.Consumers = 1
	}
	// Individually deleted ranges above the mark-delete position, sorted
	// and disjoint, some crossing ledgers as the Guava range set prints.
	var above []ackset.Position
	for _, p := range all {
		if mdp.Less(p) {
			above = append(above, p)
		}
	}
	i := 0
	for i < len(above) {
		i += r.Intn(4)
		if i >= len(above)-1 {
			break
		}
		from := above[i]
		j := i + 1 + r.Intn(3)
		if j >= len(above) {
			j = len(above) - 1
		}
		to := above[j]
		if to.Ledger != from.Ledger && r.Intn(3) != 0 {
			to = pos(from.Ledger, from.Entry+1)
			for j > i+1 && above[j].Ledger != from.Ledger {
				j--
			}
			to = above[j]
		}
		if from.Less(to) {
			s.Deleted = append(s.Deleted, ackset.Range{From: from, To: to})
		}
		i = j + 1
	}
	return s
}

func randomWant(r *rand.Rand, tp topology) []ackset.Range {
	ledgers := append([]int64{tp.ids[0] - 1, tp.ids[len(tp.ids)-1] + 1, tp.ids[0] + 1}, tp.ids...)
	var want []ackset.Range
	for n := r.Intn(6); n > 0; n-- {
		l := ledgers[r.Intn(len(ledgers))]
		if l < 0 {
			continue
		}
		a := int64(r.Intn(8))
		b := a + int64(r.Intn(7))
		if r.Intn(10) == 0 {
			l2 := l + int64(1+r.Intn(3))
			want = append(want, rng(l, a-1, l2, b))
			continue
		}
		want = append(want, ents(l, a, b))
	}
	return want
}

// modelAcked is the model cursor: everything at or before mdp, the ranges
// (by position order) and the individually acknowledged positions.
type modelAcked struct {
	mdp    ackset.Position
	ranges []ackset.Range
	single map[ackset.Position]bool
}

func (m modelAcked) has(p ackset.Position) bool {
	if !m.mdp.Less(p) || m.single[p] {
		return true
	}
	for _, r := range m.ranges {
		if r.Contains(p) {
			return true
		}
	}
	return false
}

func inWant(want []ackset.Range, p ackset.Position, singleLedgerOnly bool) bool {
	for _, r := range want {
		if singleLedgerOnly && r.From.Ledger != r.To.Ledger {
			continue
		}
		if r.Contains(p) {
			return true
		}
	}
	return false
}

func TestPlanApplyModel(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var resets, exact, deferred, creates int
	for i := 0; i < 20000; i++ {
		c := randomCase(r)
		p := PlanApply(c.state, "s", c.want, c.opts)
		kind, err := checkPlan(c, p)
		if err != nil {
			t.Fatalf("case %d: %v\ntopology %+v\nstate %+v\nwant %v\nthreshold %d sizes %v\nplan %+v",
				i, err, c.tp, c.state, c.want, c.opts.ResetThreshold, c.sizeKnown, p)
		}
		if p.ResetTo != nil {
			resets++
		}
		if p.Deferred {
			deferred++
		}
		if p.Create {
			creates++
		}
		if kind == "exact" {
			exact++
		}
	}
	// The generator must reach every branch often enough to mean something.
	if resets < 500 || exact < 10000 || deferred < 500 || creates < 500 {
		t.Fatalf("weak coverage: resets=%d exact=%d deferred=%d creates=%d", resets, exact, deferred, creates)
	}
}

// checkPlan applies p to the model cursor and checks the safety invariant
// and, when every wanted range was resolved, exactness:
// acked(after) == acked(before) ∪ (want ∩ existing).
func checkPlan(c modelCase, p Plan) (string, error) {
	s, exists := c.state.Subscriptions["s"]
	blocked := exists && s.Consumers > 0 && s.Type != "Shared"
	if p.Deferred {
		if !blocked || p.Reason == "" || p.Acks != nil || p.ResetTo != nil || p.Create {
			return "", fmt.Errorf("unexpected deferral")
		}
		return "deferred", nil
	}
	if blocked {
		return "", fmt.Errorf("consumers of type %q attached but plan not deferred", s.Type)
	}
	if p.Create == exists {
		return "", fmt.Errorf("Create=%t with subscription existing=%t", p.Create, exists)
	}
	before := modelAcked{single: map[ackset.Position]bool{}}
	if exists {
		before.mdp, before.ranges = s.MarkDelete, s.Deleted
	} else {
		before.mdp = pos(-1, -1)
	}
	after := modelAcked{mdp: before.mdp, ranges: before.ranges, single: map[ackset.Position]bool{}}
	if p.ResetTo != nil {
		if exists && s.Consumers > 0 {
			return "", fmt.Errorf("reset with %d consumers attached", s.Consumers)
		}
		if p.ResetTo.Entry < 1 {
			return "", fmt.Errorf("reset to %s: entry must be >= 1", p.ResetTo)
		}
		after.mdp, after.ranges = c.tp.resetMarkDelete(*p.ResetTo), nil
		if c.fullList && after.mdp != pos(p.ResetTo.Ledger, p.ResetTo.Entry-1) {
			return "", fmt.Errorf("reset to %s lands the mark-delete position on %s", p.ResetTo, after.mdp)
		}
	}
	lac := c.tp.lac()
	for i, rg := range p.Acks {
		l, first, last, ok := rg.Entries()
		if !ok || first < 0 || first > last {
			return "", fmt.Errorf("ack range %s is not a non-empty range within one ledger", rg)
		}
		if i > 0 && !p.Acks[i-1].To.Less(rg.From) {
			return "", fmt.Errorf("ack ranges %s and %s overlap or are unsorted", p.Acks[i-1], rg)
		}
		for e := first; e <= last; e++ {
			q := pos(l, e)
			if lac.Less(q) {
				return "", fmt.Errorf("ack %s beyond LAC %s", q, lac)
			}
			if c.fullList && !c.tp.exists(q) {
				return "", fmt.Errorf("ack %s of an entry that does not exist", q)
			}
			if !inWant(c.want, q, false) && !before.has(q) {
				return "", fmt.Errorf("ack %s neither wanted nor acked before", q)
			}
			after.single[q] = true
		}
	}
	exact := p.Unresolved == 0
	for _, q := range c.tp.entries() {
		got := after.has(q)
		wantAll := before.has(q) || inWant(c.want, q, false)
		wantSure := before.has(q) || inWant(c.want, q, true)
		switch {
		case got && !wantAll:
			return "", fmt.Errorf("%s acked after the plan but neither wanted nor acked before", q)
		case exact && got != wantAll:
			return "", fmt.Errorf("%s: acked after = %t, want %t", q, got, wantAll)
		case !got && wantSure:
			return "", fmt.Errorf("%s wanted (single-ledger range) but not acked", q)
		}
	}
	if err := checkSkipped(c, p); err != nil {
		return "", err
	}
	if exact {
		return "exact", nil
	}
	return "safe", nil
}

// checkSkipped recounts Skipped when every wanted range lies in one ledger:
// wanted positions beyond the LAC or known not to exist.
func checkSkipped(c modelCase, p Plan) error {
	seen := map[ackset.Position]bool{}
	for _, r := range c.want {
		if r.From.Ledger != r.To.Ledger {
			return nil
		}
		for e := max(r.From.Entry+1, 0); e <= r.To.Entry; e++ {
			seen[pos(r.To.Ledger, e)] = true
		}
	}
	lac := c.tp.lac()
	var n int64
	for q := range seen {
		i := c.tp.index(q.Ledger)
		closed := i >= 0 && i < len(c.tp.ids)-1
		switch {
		case lac.Less(q):
			n++
		case c.fullList && !c.tp.exists(q):
			n++
		case closed && c.sizeKnown[q.Ledger] && q.Entry >= c.tp.sizes[i]:
			n++
		}
	}
	if n != p.Skipped {
		return fmt.Errorf("Skipped = %d, want %d", p.Skipped, n)
	}
	return nil
}
