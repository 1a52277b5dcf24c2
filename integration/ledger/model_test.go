package ledger

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// model is the naive reference: every entry with a deleted flag. The
// mark-delete position is the end of the longest fully deleted prefix.
type model struct {
	all     []Position
	deleted map[Position]bool
	md      Position // initial: (first ledger, -1)
}

func (m *model) mdIndex() int { // index of the last position <= md, -1 if none
	i := -1
	for j, p := range m.all {
		if p.Compare(m.md) <= 0 {
			i = j
		}
	}
	return i
}

func (m *model) extend() {
	for i := m.mdIndex() + 1; i < len(m.all) && m.deleted[m.all[i]]; i++ {
		m.md = m.all[i]
	}
}

func (m *model) isDeleted(p Position) bool { return p.Compare(m.md) <= 0 || m.deleted[p] }

func (m *model) ack(p Position) {
	if p.Compare(m.md) > 0 {
		m.deleted[p] = true
	}
	m.extend()
}

func (m *model) markDelete(p Position) {
	for _, q := range m.all {
		if q.Compare(p) <= 0 {
			m.deleted[q] = true
		}
	}
	if p.Compare(m.md) > 0 {
		m.md = p
	}
	m.extend()
}

func (m *model) skip(n int64) {
	target := m.md
	for i := m.mdIndex() + 1; i < len(m.all) && n > 0; i++ {
		target = m.all[i]
		if !m.deleted[target] {
			n--
		}
	}
	m.markDelete(target)
}

func (m *model) backlog() int64 {
	var n int64
	for _, p := range m.all {
		if !m.isDeleted(p) {
			n++
		}
	}
	return n
}

// idm prints the deleted positions above md per ledger as Pulsar does.
func (m *model) idm() string {
	var parts []string
	for i := 0; i < len(m.all); i++ {
		p := m.all[i]
		if p.Compare(m.md) <= 0 || !m.deleted[p] {
			continue
		}
		j := i
		for j+1 < len(m.all) && m.deleted[m.all[j+1]] && m.all[j+1].Ledger == p.Ledger {
			j++
		}
		parts = append(parts, fmt.Sprintf("(%d:%d..%d:%d]", p.Ledger, p.Entry-1, p.Ledger, m.all[j].Entry))
		i = j
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func TestCursorAgainstModel(t *testing.T) {
	for seed := range uint64(80) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runModel(t, seed, false) })
	}
}

func TestCursorAgainstModelWithResets(t *testing.T) {
	for seed := range uint64(40) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runModel(t, 1000+seed, true) })
	}
}

func runModel(t *testing.T, seed uint64, resets bool) {
	r := rand.New(rand.NewPCG(seed, seed*7+1))
	ml := newTestLedger(t, 1+r.IntN(6), 0)
	appendN(ml, r.IntN(4))
	c, _ := ml.OpenCursor("s", ml.EarliestMarkDelete(), CursorOptions{Durable: true})
	m := &model{deleted: map[Position]bool{}, md: c.MarkDeletePosition()}
	for _, l := range ml.Ledgers() {
		for e := range l.Entries {
			m.all = append(m.all, pos(l.LedgerID, e))
		}
	}
	randomPos := func() Position { return m.all[r.IntN(len(m.all))] }
	var trace []string
	for step := range 80 {
		var op string
		switch k := r.IntN(10); {
		case k < 2 || len(m.all) == 0:
			n := 1 + r.IntN(5)
			m.all = append(m.all, appendN(ml, n)...)
			op = fmt.Sprintf("append %d", n)
		case k < 6:
			var ps []Position
			for range 1 + r.IntN(6) {
				ps = append(ps, randomPos())
			}
			c.Delete(ps...)
			for _, p := range ps {
				m.ack(p)
			}
			op = fmt.Sprintf("delete %v", ps)
		case k == 6:
			p := randomPos()
			if p.Compare(m.md) < 0 {
				if err := c.MarkDelete(p); err == nil {
					t.Fatalf("backwards mark-delete %v accepted", p)
				}
				op = fmt.Sprintf("markDelete %v (refused)", p)
				break
			}
			if err := c.MarkDelete(p); err != nil {
				t.Fatal(err)
			}
			m.markDelete(p)
			op = fmt.Sprintf("markDelete %v", p)
		case k == 7:
			n := int64(1 + r.IntN(4))
			c.SkipEntries(n)
			m.skip(n)
			op = fmt.Sprintf("skip %d", n)
		case k == 8:
			p := randomPos()
			c.AckBatchIndexes(p, []int64{0}, 1)
			m.ack(p)
			op = fmt.Sprintf("batch-ack whole %v", p)
		default:
			if resets {
				p := randomPos()
				c.ResetTo(p)
				m.md = ml.Prev(p)
				m.deleted = map[Position]bool{}
				op = fmt.Sprintf("reset %v", p)
			} else {
				ml.RollOver()
				op = "rollover"
			}
		}
		trace = append(trace, op)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("seed %d step %d: %s\ntrace: %s", seed, step, fmt.Sprintf(format, args...), strings.Join(trace, "; "))
		}
		if got := c.MarkDeletePosition(); got != m.md {
			fail("MDP %v, model %v", got, m.md)
		}
		for _, p := range m.all {
			if c.IsDeleted(p) != m.isDeleted(p) {
				fail("IsDeleted(%v) = %v, model %v", p, c.IsDeleted(p), m.isDeleted(p))
			}
		}
		if got, want := c.IndividuallyDeletedMessages(), m.idm(); got != want {
			fail("IDM %s, model %s", got, want)
		}
		if got, want := c.Backlog(), m.backlog(); got != want {
			fail("Backlog %d, model %d", got, want)
		}
		st := c.Stats()
		if want := int(strings.Count(m.idm(), "(")); st.TotalNonContiguousDeletedMessagesRange != want {
			fail("totalNonContiguousDeletedMessagesRange %d, want %d", st.TotalNonContiguousDeletedMessagesRange, want)
		}
		if !resets && ml.EntriesAdded()-st.MessagesConsumedCounter != m.backlog() {
			fail("entriesAdded %d - messagesConsumedCounter %d != backlog %d", ml.EntriesAdded(), st.MessagesConsumedCounter, m.backlog())
		}
		if c.ReadPosition().Compare(c.MarkDeletePosition()) <= 0 {
			fail("read position %v not after MDP %v", c.ReadPosition(), c.MarkDeletePosition())
		}
	}
	// Reading from the mark-delete position returns exactly the live entries.
	c.Rewind()
	var live []Position
	for _, p := range m.all {
		if !m.isDeleted(p) {
			live = append(live, p)
		}
	}
	if got := entryPositions(c.ReadNext(len(m.all) + 1)); !equalPositions(got, live) {
		t.Fatalf("seed %d: ReadNext after Rewind = %v, live %v", seed, got, live)
	}
}

// FuzzCursorAgainstModel explores more operation sequences than the fixed
// seeds: go test -fuzz FuzzCursorAgainstModel ./integration/ledger/
func FuzzCursorAgainstModel(f *testing.F) {
	for _, s := range []uint64{0, 1, 42, 1001} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, seed uint64, resets bool) { runModel(t, seed, resets) })
}
