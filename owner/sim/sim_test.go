package sim

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/owner"
)

var (
	seedsFlag = flag.Int("seeds", 0, "TestSimulationMany: how many seeds to run (0: skip)")
	firstFlag = flag.Uint64("first", 1, "TestSimulationMany: the first seed")
)

// runSeeds runs seeds first..first+n-1 and fails t on the first failure,
// with its trace and how to replay it.
func runSeeds(t *testing.T, first uint64, n int, cfg Config) {
	t.Helper()
	for seed := first; seed < first+uint64(n); seed++ {
		if err := Run(seed, cfg); err != nil {
			t.Fatalf("%v\nreplay: go run ./owner/sim/cmd/simrun -seed %d -v", err, seed)
		}
	}
}

// TestSimulationSeeds runs 1,200 seeds, 2 clusters for even seeds and 3
// for odd ones, in two halves side by side.
func TestSimulationSeeds(t *testing.T) {
	const n = 1200
	for half := range 2 {
		t.Run(fmt.Sprintf("seeds%d-%d", 1+half*n/2, (half+1)*n/2), func(t *testing.T) {
			t.Parallel()
			runSeeds(t, uint64(1+half*n/2), n/2, Config{})
		})
	}
}

// TestSimulationMany runs -seeds seeds from -first and reports seeds/s:
//
//	go test ./owner/sim -run TestSimulationMany -seeds=100000
func TestSimulationMany(t *testing.T) {
	if *seedsFlag == 0 {
		t.Skip("-seeds not given")
	}
	start := time.Now()
	failures := 0
	for seed := *firstFlag; seed < *firstFlag+uint64(*seedsFlag); seed++ {
		var f *Failure
		if err := Run(seed, Config{}); errors.As(err, &f) {
			failures++
			t.Errorf("seed %d (%d clusters) at step %d: %s: %s\nreplay: go run ./owner/sim/cmd/simrun -seed %d -v",
				f.Seed, f.Clusters, f.Step, f.Invariant, f.Detail, f.Seed)
		}
	}
	el := time.Since(start)
	t.Logf("seeds run: %d, failures: %d, %.1fs, %.0f seeds/s", *seedsFlag, failures, el.Seconds(), float64(*seedsFlag)/el.Seconds())
}

// A seed replays exactly: the same trace, line by line, twice.
func TestReplayIsExact(t *testing.T) {
	for _, seed := range []uint64{7, 8, 1558} {
		cfg := Config{Verbose: true}
		a, errA := Trace(seed, cfg)
		b, errB := Trace(seed, cfg)
		if len(a) < 100 {
			t.Fatalf("seed %d: a trace of %d lines; want a run worth replaying", seed, len(a))
		}
		if !slices.Equal(a, b) || fmt.Sprint(errA) != fmt.Sprint(errB) {
			t.Fatalf("seed %d: two runs differ (%d and %d lines; %v / %v)", seed, len(a), len(b), errA, errB)
		}
		if c, _ := Trace(seed+1, cfg); slices.Equal(a, c) {
			t.Fatalf("seeds %d and %d give the same trace", seed, seed+1)
		}
	}
}

// The trace shows what happened, in order, and the failure names the
// seed, the step and the trace up to it.
func TestFailureNamesSeedStepAndTrace(t *testing.T) {
	cfg := Config{Decide: mutants["exports local acts"]}
	for seed := uint64(1); seed < 200; seed++ {
		var f *Failure
		if err := Run(seed, cfg); errors.As(err, &f) {
			msg := f.Error()
			if f.Seed != seed || len(f.Trace) != f.Step+1 || !strings.Contains(msg, fmt.Sprintf("seed %d", seed)) ||
				!strings.Contains(msg, fmt.Sprintf("step %d", f.Step)) || !strings.Contains(msg, f.Trace[f.Step]) {
				t.Fatalf("failure %+v does not name its seed, step and trace:\n%s", f, msg)
			}
			return
		}
	}
	t.Fatal("no seed failed")
}

// mutants are owner.Decide with one rule of the design broken: the
// simulation must catch each.
var mutants = map[string]func(owner.Config, int64, owner.Local, map[string]owner.Report, owner.Memory) owner.Step{
	// The export ignores LocalOnly: TTL and clear-backlog propagate.
	"exports local acts": func(cfg owner.Config, now int64, l owner.Local, r map[string]owner.Report, m owner.Memory) owner.Step {
		st := owner.Decide(cfg, now, l, r, m)
		if l.Exists {
			st.Export.Acked = l.Acked
		}
		return st
	},
	// The owner takes in what the others report (the echo that undoes
	// a rewind).
	"owner takes the union": func(cfg owner.Config, now int64, l owner.Local, r map[string]owner.Report, m owner.Memory) owner.Step {
		st := owner.Decide(cfg, now, l, r, m)
		if st.Role == owner.Owns && l.Exists {
			var want ackset.Set
			for _, rep := range r {
				want = want.Union(rep.Acked)
			}
			st.Apply, st.Want = owner.ApplyUnion, want
		}
		return st
	},
	// A mirror forgets that the subscription was deleted there.
	"mirror recreates": func(cfg owner.Config, now int64, l owner.Local, r map[string]owner.Report, m owner.Memory) owner.Step {
		st := owner.Decide(cfg, now, l, r, m)
		if st.Role == owner.Mirrors && !l.Exists && r[st.Owner].Exists && !st.Create {
			st.Create, st.Apply, st.Want = true, owner.ApplyExact, r[st.Owner].Acked
		}
		return st
	},
	// A mirror keeps what it has and adds the owner's (never resets back).
	"mirror never un-acknowledges": func(cfg owner.Config, now int64, l owner.Local, r map[string]owner.Report, m owner.Memory) owner.Step {
		st := owner.Decide(cfg, now, l, r, m)
		if st.Apply == owner.ApplyExact {
			st.Apply = owner.ApplyUnion
		}
		return st
	},
	// A mirror ignores the owner's deletion.
	"deletion does not propagate": func(cfg owner.Config, now int64, l owner.Local, r map[string]owner.Report, m owner.Memory) owner.Step {
		st := owner.Decide(cfg, now, l, r, m)
		st.Delete = false
		return st
	},
}

// The simulation catches each mutant within a few hundred seeds.
func TestSimulationCatchesMutants(t *testing.T) {
	for name, decide := range mutants {
		t.Run(name, func(t *testing.T) {
			for seed := uint64(1); seed <= 400; seed++ {
				if err := Run(seed, Config{Decide: decide}); err != nil {
					var f *Failure
					errors.As(err, &f)
					t.Logf("caught by seed %d: %s", seed, f.Invariant)
					return
				}
			}
			t.Fatal("400 seeds did not catch it")
		})
	}
}
