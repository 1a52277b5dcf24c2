package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/owner"
)

// Config sets the size of a run. The zero Config is a run of 300 events
// over 2 or 3 clusters (by seed) with a silence of 30 s.
type Config struct {
	// Clusters is 2 or 3; 0 picks one by seed (odd seeds 3).
	Clusters int
	// Events is the number of random events of a run; 0 means 300.
	Events int
	// Silence is owner.Config.Silence in ms; 0 means 30,000.
	Silence int64
	// Linger is owner.Config.Linger in ms; 0 means 30,000 (the daemon's).
	Linger int64
	// Verbose adds each daemon's Memory to the trace.
	Verbose bool
	// Decide replaces owner.Decide (to test the simulation itself).
	Decide func(owner.Config, int64, owner.Local, map[string]owner.Report, owner.Memory) owner.Step
}

func (c Config) withDefaults(seed uint64) Config {
	if c.Clusters == 0 {
		c.Clusters = 2 + int(seed%2)
	}
	if c.Events == 0 {
		c.Events = 300
	}
	if c.Silence == 0 {
		c.Silence = 30_000
	}
	if c.Linger == 0 {
		c.Linger = 30_000
	}
	if c.Decide == nil {
		c.Decide = owner.Decide
	}
	return c
}

// Failure is an invariant violation: the seed that found it, the step of
// the trace where it was checked, and the trace up to there.
type Failure struct {
	Seed      uint64
	Clusters  int
	Step      int
	Invariant string
	Detail    string
	Trace     []string
}

func (f *Failure) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d (%d clusters): step %d: %s: %s\ntrace:\n", f.Seed, f.Clusters, f.Step, f.Invariant, f.Detail)
	for _, l := range f.Trace {
		b.WriteString("  ")
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// Run runs one seeded simulation and returns the first invariant
// violation as a *Failure, or nil. Equal seeds and configs give equal runs.
func Run(seed uint64, cfg Config) error {
	_, err := run(seed, cfg)
	return err
}

// Trace runs a seed like Run and also returns its whole trace, one line per
// step (with cfg.Verbose, what each daemon step decided).
func Trace(seed uint64, cfg Config) ([]string, error) {
	s, err := run(seed, cfg)
	return s.lines(len(s.trace)), err
}

var clusterNames = [...]string{"a", "b", "c"}

// sim is the world of one run: the clusters, the control links, the truth
// and the trace.
type sim struct {
	seed  uint64
	cfg   Config
	rng   *rand.Rand
	now   int64 // ms, one clock for every cluster
	cl    []*cluster
	links [][]*link // links[from][to]

	// The truth.
	//
	// w is the set of entries whose acknowledgement the application
	// stands behind: acknowledged by an application consumer and not since
	// rewound, deleted or recreated away; a failover adopts what the new
	// cluster's cursor holds (see doc.go). Sets are never mutated in place,
	// so messages can keep w as it was when they were sent.
	w ackset.Set
	// tombs lists every removal from w, in order.
	tombs []tomb
	// dels lists the deletions of the subscription on its owner, in order;
	// ownerDeleted is set while the last one was not followed by a
	// recreation.
	dels         []deletion
	ownerDeleted bool

	incs  int // incarnations numbered so far
	trace []record
	fail  *Failure
}

type tomb struct {
	set ackset.Set
	x   int // the cluster where it happened
	// seen is the step of the first daemon read on x after it, from which
	// on x's reports reflect it; unseen (math.MaxInt) until then, and for
	// good if that read found another incarnation there.
	seen int
	// deletion: the subscription's deletion on x, which a read sees as
	// such; any other removal a read sees as the cursor shrinking, if the
	// subscription is still there.
	deletion bool
	inc      int // the incarnation of the subscription on x it was made on
}

const unseen = math.MaxInt

type deletion struct {
	owner     int
	step      int
	recreated int // step of the recreation; -1 while none
}

// cluster is one Pulsar cluster's topic and subscription, and its daemon.
type cluster struct {
	idx      int
	name     string
	order    []ackset.EntryID // entries of the local topic, in arrival order
	has      ackset.Set
	produced int64   // entries produced here (origin = this cluster)
	repl     []int64 // repl[dst]: own entries handled for dst so far
	sub      subscription

	consumers bool // application consumers attached
	// A daemon read cannot tell what happened since the previous one;
	// the schedule keeps consumer activity and local operator actions in
	// separate read intervals (see doc.go).
	dirtyConsumer, dirtyLocal bool
	// seen is the last time application consumers were observed here by
	// a daemon read (attached, or the subscription's last flow): the
	// design's "consumers attached, since when".
	seen int64
	// opDel is set while the subscription was deleted here by an operator
	// and not recreated since.
	opDel *opDeletion
	// readExists: the daemon's last read found the subscription (or the
	// daemon created it since). A deletion of one it never saw is
	// invisible to it.
	readExists bool
	// ownerDel is an operator's deletion here on the owner that no daemon
	// read has found yet.
	ownerDel *opDeletion
	// amb: entries a daemon read found acknowledged by a local act that
	// are still acknowledged, though maybe by consumers since: a reset (an
	// exact apply, a rewind, a deletion and recreation) removed them and
	// consumers acknowledged them again, all between two reads. The
	// daemon cannot tell these from a local act's, and keeps them local:
	// safe, at the cost of duplicates (see doc.go). Only a read that finds
	// the subscription gone clears it, as it clears Memory.LocalOnly.
	amb ackset.Set
	// want is what the daemon's last step had subsync apply here (exactly,
	// or as a union): entries that had not arrived yet are subsync's once
	// they do, whoever acknowledges them.
	want      ackset.Set
	wantUnion bool
	// lagged: what subsync applied here while the application did not
	// stand behind it (excused by lag, see checkApplied).
	lagged ackset.Set
	// unseenTombs: removals from the truth made here that no daemon read
	// here has seen yet.
	unseenTombs []int

	d daemon
}

type opDeletion struct {
	step    int
	knew    []bool // knew[k]: this daemon had heard the owner's deletion k
	noticed bool   // a daemon read has seen it gone
	// ownerGone: since, a read of this daemon found the subscription gone
	// on the cluster that (by the design's rule, on what the daemon had
	// heard) owned it: to the protocol its owner deleted it too.
	ownerGone bool
}

// subscription is the subscription on one cluster. cons, subs and loc
// partition cursor by who put each entry there: application consumers
// here, subsync, or a local operator action (TTL, skip, clear-backlog).
type subscription struct {
	exists          bool
	cursor          ackset.Set
	cons, subs, loc ackset.Set
	lastFlow        int64
	inc             int // a number of its own
	// known: this incarnation was seen by the daemon here (read existing,
	// or created by it). One that came and went between two reads is
	// invisible to it.
	known bool
}

// daemon is the subsync daemon of one cluster: Memory and the imported
// reports are persisted and survive a crash; outgoing messages do not.
type daemon struct {
	up      bool
	mem     owner.Memory
	reports map[string]owner.Report
	held    []*message // per sender, the message whose report is held
	seq     uint64
	// knowsPrev[x]: the send step of the report from x held at the end of
	// this daemon's previous step (-1: none). The cursor a step reads
	// reflects what the previous step knew.
	knowsPrev []int
	heldPrev  []*message // held at the end of the previous step
	// viewPrev: the owner by the design's rule on what this daemon knew at
	// its previous step (-1: none, or several active).
	viewPrev int
}

// message is one export on its way to one receiver, with what the sim
// knew when it was sent.
type message struct {
	from, to int
	seq      uint64
	sendStep int
	exp      owner.Export
	w        ackset.Set // the truth's w at send time
	tombs    int        // len(sim.tombs) at send time
	knows    []int      // the sender's knowsPrev at send time
	view     int        // the sender's viewPrev at send time
	epoch    int        // len(sim.dels) at send time
	// lagged: what the sender, as the owner (in truth, or by the design's
	// rule on what it knows) or an active cluster, holds that subsync
	// applied there while the application did not stand behind it.
	lagged ackset.Set
}

type link struct{ q []*message }

func newSim(seed uint64, cfg Config) *sim {
	cfg = cfg.withDefaults(seed)
	s := &sim{seed: seed, cfg: cfg, rng: rand.New(rand.NewPCG(seed, 0x5ab5_9c0d_e11e_d00d)), now: 1_000_000}
	n := cfg.Clusters
	s.links = make([][]*link, n)
	for i := range n {
		c := &cluster{idx: i, name: clusterNames[i], repl: make([]int64, n)}
		c.d = daemon{up: true, reports: map[string]owner.Report{}, held: make([]*message, n), knowsPrev: make([]int, n),
			heldPrev: make([]*message, n), viewPrev: -1}
		for j := range c.d.knowsPrev {
			c.d.knowsPrev[j] = -1
		}
		s.cl = append(s.cl, c)
		s.links[i] = make([]*link, n)
		for j := range n {
			s.links[i][j] = &link{}
		}
	}
	return s
}

func run(seed uint64, cfg Config) (s *sim, err error) {
	s = newSim(seed, cfg)
	s.start()
	for range s.cfg.Events {
		if s.fail != nil {
			break
		}
		s.event()
	}
	if s.fail == nil {
		s.settle()
	}
	if s.fail != nil {
		return s, s.fail
	}
	return s, nil
}

// start sets up the first state: some entries everywhere, and with half
// the seeds a subscription an operator created without consumers on some
// clusters (nobody owns it until consumers attach).
func (s *sim) start() {
	for _, c := range s.cl {
		s.produce(c, 1+s.rng.IntN(4))
	}
	if s.rng.IntN(2) == 0 {
		for _, c := range s.cl {
			if s.rng.IntN(2) == 0 {
				c.sub = s.newSub()
				s.record(record{kind: evCreate, c: c.idx})
			}
		}
	}
}

func (s *sim) failf(invariant, format string, args ...any) {
	if s.fail != nil {
		return
	}
	step := len(s.trace) - 1
	s.fail = &Failure{Seed: s.seed, Clusters: s.cfg.Clusters, Step: step, Invariant: invariant,
		Detail: fmt.Sprintf(format, args...), Trace: s.lines(step + 1)}
}

func (s *sim) others(c *cluster) []*cluster {
	out := make([]*cluster, 0, len(s.cl)-1)
	for _, o := range s.cl {
		if o != c {
			out = append(out, o)
		}
	}
	return out
}

// active lists the clusters with application consumers attached.
func (s *sim) active() []*cluster {
	var out []*cluster
	for _, c := range s.cl {
		if c.consumers {
			out = append(out, c)
		}
	}
	return out
}

// prefix is the set of the first k entries of c's topic.
func (c *cluster) prefix(k int) ackset.Set {
	var p ackset.Set
	for _, id := range c.order[:k] {
		_ = p.Add(id)
	}
	return p
}

// unacked lists c's entries not in its cursor, in topic order.
func (c *cluster) unacked() []ackset.EntryID {
	var out []ackset.EntryID
	for _, id := range c.order {
		if !c.sub.cursor.Contains(id) {
			out = append(out, id)
		}
	}
	return out
}

func setOf(ids []ackset.EntryID) ackset.Set {
	var s ackset.Set
	for _, id := range ids {
		_ = s.Add(id)
	}
	return s
}

// newSub is a new incarnation of the subscription, nothing acknowledged.
func (s *sim) newSub() subscription {
	s.incs++
	return subscription{exists: true, inc: s.incs}
}

// drop removes gone from c's cursor and its provenance.
func (c *cluster) drop(gone ackset.Set) {
	if gone.IsEmpty() {
		return
	}
	c.sub.cursor = c.sub.cursor.Difference(gone)
	c.sub.cons = c.sub.cons.Difference(gone)
	c.sub.subs = c.sub.subs.Difference(gone)
	c.sub.loc = c.sub.loc.Difference(gone)
}

func (s *sim) removeFromTruth(gone ackset.Set, x *cluster, deletion bool) {
	gone = gone.Intersect(s.w)
	if gone.IsEmpty() {
		return
	}
	s.w = s.w.Difference(gone)
	s.tombs = append(s.tombs, tomb{set: gone, x: x.idx, seen: unseen, deletion: deletion, inc: x.sub.inc})
	x.unseenTombs = append(x.unseenTombs, len(s.tombs)-1)
}

// lastTomb is the latest of the first n removals from the truth that
// removed id.
func (s *sim) lastTomb(id ackset.EntryID, n int) *tomb {
	for i := n - 1; i >= 0; i-- {
		if s.tombs[i].set.Contains(id) {
			return &s.tombs[i]
		}
	}
	return nil
}
