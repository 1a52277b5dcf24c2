package replicator

import (
	"context"
	"testing"
	"time"
)

// testLease is the state machine with a 5 s grace and a 2 s TTL.
func testLease() leaseState {
	return leaseState{grace: 5 * time.Second, ttl: 2 * time.Second}
}

var t0 = time.Unix(1_700_000_000, 0)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// leaseStep is one input (or none) and the verdict expected after it.
type leaseStep struct {
	at    float64
	event string // "acquired", "confirm", "lost" or "" (time passes)
	act   bool
}

func runLease(t *testing.T, s *leaseState, steps []leaseStep) {
	t.Helper()
	for i, st := range steps {
		switch st.event {
		case "acquired":
			s.acquired(at(st.at))
		case "confirm":
			s.confirm(at(st.at))
		case "lost":
			s.lost()
		case "":
		default:
			t.Fatalf("step %d: unknown event %q", i, st.event)
		}
		if got := s.acting(at(st.at)); got != st.act {
			t.Fatalf("step %d (%q at %vs): acting %v, want %v", i, st.event, st.at, got, st.act)
		}
	}
}

// A daemon that takes the lease acts only once it has held it, confirmed,
// for the grace period, and keeps acting while confirmations come.
func TestLeaseActsAfterGrace(t *testing.T) {
	s := testLease()
	runLease(t, &s, []leaseStep{
		{0, "", false}, // never held
		{0, "confirm", false},
		{0, "acquired", false},
		{1, "confirm", false},
		{2, "confirm", false},
		{3, "confirm", false},
		{4, "confirm", false},
		{5, "confirm", true},
		{6, "confirm", true},
		{7.5, "", true}, // within the TTL of the last confirmation
	})
}

// A holder that cannot confirm its lease (its connection dropped and the
// broker may have given the lease away) stops acting after the TTL, and
// before a daemon that took the lease at the same moment starts: the old
// holder's last confirmation precedes the new one's acquisition.
func TestLeaseHolderStopsBeforeTakerStarts(t *testing.T) {
	// The daemon's own timing, at a 1 s interval.
	daemonLease := func() leaseState {
		return leaseState{grace: leaseGraceIntervals * time.Second, ttl: leaseTTLIntervals * time.Second}
	}
	old, taker := daemonLease(), daemonLease()
	old.acquired(at(0))
	for s := 1.0; s <= 10; s++ {
		old.confirm(at(s))
	}
	taker.acquired(at(10.1)) // the old holder's connection dropped at 10
	var oldStopped, takerStarted float64 = -1, -1
	for s := 10.1; s <= 30; s += 0.1 {
		taker.confirm(at(s))
		if oldStopped < 0 && !old.acting(at(s)) {
			oldStopped = s
		}
		if takerStarted < 0 && taker.acting(at(s)) {
			takerStarted = s
		}
	}
	if oldStopped < 0 || takerStarted < 0 {
		t.Fatalf("old holder stopped at %v, taker started at %v: want both", oldStopped, takerStarted)
	}
	// A check takes up to leaseCheckIntervals to answer, and the loop
	// looks once an interval: the old holder notices that much later.
	notice := float64(1 + leaseCheckIntervals)
	if oldStopped+notice >= takerStarted {
		t.Errorf("old holder stops at %.1fs (+%vs to notice), taker acts at %.1fs: both could act", oldStopped, notice, takerStarted)
	}
	if limit := 10.1 + leaseGraceIntervals + 1; takerStarted > limit {
		t.Errorf("taker acts at %.1fs, after %.1fs", takerStarted, limit)
	}
}

// Losing the lease stops acting at once; taking it again waits the grace
// period again.
func TestLeaseLostStopsAtOnce(t *testing.T) {
	s := testLease()
	runLease(t, &s, []leaseStep{
		{0, "acquired", false},
		{2, "confirm", false},
		{4, "confirm", false},
		{5, "confirm", true},
		{5.5, "lost", false},
		{6, "confirm", false}, // a late answer for a released lease
		{7, "acquired", false},
		{9, "confirm", false},
		{11, "confirm", false},
		{12, "confirm", true},
	})
}

// Confirmations that resume after a gap longer than the TTL (the client
// reconnected by itself; another daemon may have held and used the lease
// meanwhile) restart the grace period.
func TestLeaseGapRestartsGrace(t *testing.T) {
	s := testLease()
	runLease(t, &s, []leaseStep{
		{0, "acquired", false},
		{2, "confirm", false},
		{4, "confirm", false},
		{5, "confirm", true},
		{7, "", true},
		{7.1, "", false}, // TTL passed without a confirmation
		{9, "confirm", false},
		{11, "confirm", false},
		{13, "confirm", false},
		{14, "confirm", true},
	})
}

// A confirmation whose check started before a later one's (answers can
// arrive out of order) never moves the last confirmation back.
func TestLeaseConfirmNeverMovesBack(t *testing.T) {
	s := testLease()
	runLease(t, &s, []leaseStep{
		{0, "acquired", false},
		{2, "confirm", false},
		{4, "confirm", false},
		{5, "confirm", true},
		{3, "confirm", true},
		{6.9, "", true},
	})
}

// Finding 7: each period of acting takes an epoch newer than every earlier
// one and not older than its start, so a daemon that acts again after
// another held the lease (whose epoch is that daemon's own start, earlier)
// is never found stale, even when its clock stands still or steps back.
func TestEachPeriodOfActingTakesANewerEpoch(t *testing.T) {
	clock := at(100)
	d := &Daemon{acting: map[string]*nsWork{}, now: func() time.Time { return clock }}
	first := d.startNamespace(context.Background(), "public/geo")
	if first.epoch != clock.UnixMilli() {
		t.Fatalf("first period's epoch %d, want its start %d", first.epoch, clock.UnixMilli())
	}
	d.stopNamespace("public/geo")
	clock = at(99) // a clock stepped back
	second := d.startNamespace(context.Background(), "public/geo")
	if second.epoch <= first.epoch {
		t.Fatalf("second period's epoch %d, not after the first's %d", second.epoch, first.epoch)
	}
	d.stopNamespace("public/geo")
	clock = at(200) // another daemon acted from 150 on, with epoch 150 s
	third := d.startNamespace(context.Background(), "public/geo")
	if third.epoch != clock.UnixMilli() {
		t.Fatalf("third period's epoch %d, want its start %d", third.epoch, clock.UnixMilli())
	}
	if second.ctx.Err() == nil {
		t.Error("stopping a period left its context running")
	}
}

// A daemon waiting for every namespace's lease is ready (waiting is its
// job); one that acts for a namespace is ready once that namespace's
// discovery completed in this period of acting.
func TestReadyCountsOnlyNamespacesItActsFor(t *testing.T) {
	d := newUnitWorker(t, Config{}).d
	d.acting = map[string]*nsWork{}
	d.running.Store(true)
	d.ready.Store(true)
	if err := d.Ready(); err != nil {
		t.Fatalf("waiting for the lease: %v, want ready", err)
	}
	work := d.startNamespace(context.Background(), "public/geo")
	if err := d.Ready(); err == nil {
		t.Fatal("ready before the namespace it acts for was discovered")
	}
	work.discovered.Store(true)
	if err := d.Ready(); err != nil {
		t.Fatalf("after discovery: %v, want ready", err)
	}
}
