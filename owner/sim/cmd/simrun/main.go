// Command simrun runs many seeds of the owner simulation (package
// owner/sim) and prints how many ran, how many failed and seeds per
// second; -seed N -v replays one seed and prints its trace.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/subsync/subsync/owner/sim"
)

func main() {
	seeds := flag.Uint64("seeds", 10_000, "number of seeds to run, from -first")
	first := flag.Uint64("first", 1, "first seed")
	seed := flag.Uint64("seed", 0, "replay this one seed (with -v, print its trace)")
	verbose := flag.Bool("v", false, "with -seed: print the trace, with each daemon's memory")
	clusters := flag.Int("clusters", 0, "2 or 3 clusters; 0: 2 for even seeds, 3 for odd")
	events := flag.Int("events", 0, "events per seed; 0: the default (300)")
	maxFail := flag.Int("max-failures", 5, "stop after this many failures; 0: never")
	flag.Parse()
	cfg := sim.Config{Clusters: *clusters, Events: *events}

	if *seed != 0 {
		cfg.Verbose = *verbose
		lines, err := sim.Trace(*seed, cfg)
		if *verbose {
			for _, l := range lines {
				fmt.Println(l)
			}
		}
		var f *sim.Failure
		if errors.As(err, &f) {
			fmt.Printf("seed %d FAILS at step %d: %s: %s\n", f.Seed, f.Step, f.Invariant, f.Detail)
			os.Exit(1)
		}
		fmt.Printf("seed %d passes (%d trace lines)\n", *seed, len(lines))
		return
	}

	start := time.Now()
	failures := 0
	var n uint64
	for s := *first; s < *first+*seeds; s++ {
		n++
		err := sim.Run(s, cfg)
		var f *sim.Failure
		if errors.As(err, &f) {
			failures++
			fmt.Printf("FAIL seed %d (%d clusters) at step %d: %s: %s\n  replay: go run ./owner/sim/cmd/simrun -seed %d -v%s\n",
				f.Seed, f.Clusters, f.Step, f.Invariant, f.Detail, f.Seed, flagsOf(*clusters, *events))
			if *maxFail > 0 && failures >= *maxFail {
				break
			}
		}
	}
	el := time.Since(start)
	fmt.Printf("seeds run: %d, failures: %d, %.1fs, %.0f seeds/s\n", n, failures, el.Seconds(), float64(n)/el.Seconds())
	if failures > 0 {
		os.Exit(1)
	}
}

func flagsOf(clusters, events int) string {
	s := ""
	if clusters != 0 {
		s += fmt.Sprintf(" -clusters %d", clusters)
	}
	if events != 0 {
		s += fmt.Sprintf(" -events %d", events)
	}
	return s
}
