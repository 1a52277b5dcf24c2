package sim

import (
	"fmt"
	"strings"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/owner"
)

type kind uint8

const (
	evCreate kind = iota // an operator creates the subscription (no consumers)
	evProduce
	evReplicate
	evStep
	evDeliver
	evDup
	evLose
	evAck
	evNack
	evRewind
	evAttach
	evDetach
	evLocal
	evDelete
	evRecreate
	evCrash
	evRestart
	evTick
	evSettle
	evCheck
)

// record is one line of the trace, kept as data and formatted only when
// printed. Sets in a record are never mutated afterwards.
type record struct {
	at   int64
	kind kind
	c, d int
	n    int
	what string
	set  ackset.Set
	// daemon steps
	step *owner.Step
	msg  *message      // a delivery that was kept
	mem  *owner.Memory // with Config.Verbose
	note string
}

func (s *sim) record(r record) {
	r.at = s.now
	s.trace = append(s.trace, r)
}

func (s *sim) note(n string) {
	if len(s.trace) > 0 {
		s.trace[len(s.trace)-1].note = n
	}
}

// lines formats the first n records.
func (s *sim) lines(n int) []string {
	out := make([]string, 0, n)
	for i, r := range s.trace[:n] {
		out = append(out, fmt.Sprintf("#%d t=%d %s", i, r.at-1_000_000, s.format(r)))
	}
	return out
}

func (s *sim) name(i int) string { return clusterNames[i] }

func (s *sim) format(r record) string {
	c := s.name(r.c)
	var line string
	switch r.kind {
	case evCreate:
		line = fmt.Sprintf("%s: operator creates the subscription (no consumers)", c)
	case evProduce:
		line = fmt.Sprintf("%s: produce %d entries, now %s", c, r.n, r.set)
	case evReplicate:
		line = fmt.Sprintf("%s->%s: replicate %s", c, s.name(r.d), r.set)
		if r.what != "" {
			line += " (replicator skipped " + r.what + ")"
		}
	case evStep:
		line = c + ": daemon " + formatStep(r.step)
		if r.mem != nil {
			line += fmt.Sprintf(" | memory %+v", *r.mem)
		}
	case evDeliver:
		what := r.what
		if m := r.msg; m != nil {
			what = fmt.Sprintf("active=%v exists=%v %s", m.exp.Active, m.exp.Exists, m.exp.Acked)
		}
		line = fmt.Sprintf("%s->%s: deliver #%d %s", c, s.name(r.d), r.n, what)
	case evDup:
		line = fmt.Sprintf("%s->%s: duplicate #%d", c, s.name(r.d), r.n)
	case evLose:
		line = fmt.Sprintf("%s->%s: lose #%d", c, s.name(r.d), r.n)
	case evAck:
		line = fmt.Sprintf("%s: consumers ack %s", c, r.set)
	case evNack:
		line = fmt.Sprintf("%s: consumers nack (nothing changes)", c)
	case evRewind:
		line = fmt.Sprintf("%s: consumers rewind to %d entries, un-acking %s", c, r.n, r.set)
	case evAttach:
		line = fmt.Sprintf("%s: consumers attach%s", c, r.what)
	case evDetach:
		line = fmt.Sprintf("%s: consumers detach", c)
	case evLocal:
		line = fmt.Sprintf("%s: %s acks %s locally", c, r.what, r.set)
	case evDelete:
		line = fmt.Sprintf("%s: operator deletes the subscription (%s)", c, r.what)
	case evRecreate:
		line = fmt.Sprintf("%s: operator deletes and recreates the subscription, consumers attach to it", c)
	case evCrash:
		line = fmt.Sprintf("%s: daemon crashes, %d outgoing messages lost", c, r.n)
	case evRestart:
		line = fmt.Sprintf("%s: daemon restarts", c)
	case evTick:
		line = fmt.Sprintf("time passes: %d ms", r.n)
	case evSettle:
		line = "settle: " + r.what
	case evCheck:
		line = "check: " + r.what
	default:
		line = fmt.Sprintf("event %d", r.kind)
	}
	if r.note != "" {
		line += " [" + r.note + "]"
	}
	return line
}

func formatStep(st *owner.Step) string {
	if st == nil {
		return "down"
	}
	var b strings.Builder
	b.WriteString(st.Role.String())
	if st.Owner != "" {
		b.WriteString(" of " + st.Owner)
	}
	if st.Export.Send {
		fmt.Fprintf(&b, "; exports active=%v last=%d exists=%v %s", st.Export.Active, st.Export.LastActive-1_000_000, st.Export.Exists, st.Export.Acked)
	}
	if st.Create {
		b.WriteString("; CREATE")
	}
	if st.Delete {
		b.WriteString("; DELETE")
	}
	switch st.Apply {
	case owner.ApplyExact:
		fmt.Fprintf(&b, "; exact %s", st.Want)
	case owner.ApplyUnion:
		fmt.Fprintf(&b, "; union %s", st.Want)
	}
	return b.String()
}
