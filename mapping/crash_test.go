package mapping

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/subsync/subsync/ackset"
)

const (
	crashDirEnv  = "SUBSYNC_MAPPING_CRASH_DIR"
	crashTopic   = "persistent://t/ns/crash-partition-0"
	crashRounds  = 30
	childMaxLife = 20 * time.Second
)

// crashStream is a deterministic tail: entry g of the local topic and its
// EntryID depend on g only, so the parent can recompute what any prefix of
// it must have stored. Local ledgers hold 64 entries; odd ledgers skip
// every tenth entry id (hidden markers). EntryIDs come in segments of
// 1..40 consecutive origin entries, each in its own origin ledger, and
// every seventh segment re-sends part of an earlier one.
type crashStream struct {
	g, seg, segStart, segLen int64
}

func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

func segmentLen(k int64) int64 { return 1 + int64(mix(uint64(k))%40) }

func (c *crashStream) next() (ackset.Position, ackset.EntryID) {
	if c.segLen == 0 {
		c.segLen = segmentLen(0)
	}
	for c.g-c.segStart >= c.segLen {
		c.seg++
		c.segStart += c.segLen
		c.segLen = segmentLen(c.seg)
	}
	ledger, e := 1+c.g/64, c.g%64
	if ledger%2 == 1 {
		e += e / 9
	}
	src := c.seg
	if c.seg%7 == 6 {
		src = c.seg - 3
	}
	origins := []string{"east", "west", "north/odd name"}
	id := eid(origins[mix(uint64(src)+1)%3], 1000+src, int64(mix(uint64(src)+2)%1000)+c.g-c.segStart)
	c.g++
	return pos(ledger, e), id
}

// expectedCrashRuns is what the store must hold after the stream was
// written up to and including checkpoint.
func expectedCrashRuns(t *testing.T, checkpoint ackset.Position) []Run {
	var c crashStream
	var b RunBuilder
	for {
		p, id := c.next()
		if checkpoint.Less(p) {
			return b.Flush()
		}
		if err := b.Append(p, id); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHelperWriter is the child process of TestCrashConsistency: with the
// environment variable set it appends the crash stream forever, in
// batches of random size, printing each committed checkpoint. Without it,
// it returns at once.
func TestHelperWriter(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		return
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	cp, resumed, err := s.TailCheckpoint(crashTopic)
	if err != nil {
		t.Fatal(err)
	}
	var stream crashStream
	var b RunBuilder
	if resumed {
		if err := b.ResumeAfter(cp); err != nil {
			t.Fatal(err)
		}
		for {
			saved := stream
			if p, _ := stream.next(); cp.Less(p) {
				stream = saved
				break
			}
		}
	}
	for deadline := time.Now().Add(childMaxLife); time.Now().Before(deadline); {
		for range 1 + rand.IntN(120) {
			p, id := stream.next()
			if err := b.Append(p, id); err != nil {
				t.Fatal(err)
			}
		}
		last, _ := b.Last()
		if err := s.AppendTail(crashTopic, b.Flush(), last); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("committed %d %d\n", last.Ledger, last.Entry)
	}
	t.Fatalf("writer was not killed within %s", childMaxLife)
}

// TestCrashConsistency SIGKILLs a writer process at random moments and
// checks after every kill that the store reopens consistent and holds
// every write the writer reported as committed.
func TestCrashConsistency(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		return
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	var prev ackset.Position
	var commits int
	for round := range crashRounds {
		reported, n := runAndKillWriter(t, dir, rng)
		commits += n
		cp := verifyCrashStore(t, dir, round, reported, prev, rng)
		if cp.Less(prev) {
			t.Fatalf("round %d: checkpoint went back from %s to %s", round, prev, cp)
		}
		prev = cp
	}
	if commits == 0 {
		t.Fatalf("the writer never committed: the test exercised nothing")
	}
	t.Logf("%d rounds, %d reported commits, final checkpoint %s", crashRounds, commits, prev)
}

// runAndKillWriter starts the writer, kills it after a random delay
// (sometimes before it opened the store, mostly after some commits) and
// returns the last checkpoint it reported and how many commits it reported.
func runAndKillWriter(t *testing.T, dir string, rng *rand.Rand) (ackset.Position, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), childMaxLife)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		wg       sync.WaitGroup
		reported ackset.Position
		commits  int
		first    = make(chan struct{})
		exited   = make(chan struct{})
		lines    []string
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(exited)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if p, ok := parseCommitted(sc.Text()); ok {
				reported = p
				if commits++; commits == 1 {
					close(first)
				}
			}
		}
	}()
	if rng.IntN(5) == 0 {
		time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
	} else {
		select {
		case <-first:
		case <-exited:
		case <-ctx.Done():
		}
		time.Sleep(time.Duration(rng.IntN(25)) * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("kill writer: %v", err)
	}
	wg.Wait()
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("writer did not die by SIGKILL (%v)\nstdout:\n%s\nstderr:\n%s", err, strings.Join(lines, "\n"), stderr.String())
	}
	return reported, commits
}

func parseCommitted(line string) (ackset.Position, bool) {
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "committed" {
		return ackset.Position{}, false
	}
	l, err1 := strconv.ParseInt(f[1], 10, 64)
	e, err2 := strconv.ParseInt(f[2], 10, 64)
	return pos(l, e), err1 == nil && err2 == nil
}

// verifyCrashStore reopens the store and checks it; prev is the
// checkpoint verified in the previous round.
func verifyCrashStore(t *testing.T, dir string, round int, reported, prev ackset.Position, rng *rand.Rand) ackset.Position {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("round %d: reopen after kill: %v", round, err)
	}
	defer s.Close()
	if err := s.CheckTopic(crashTopic); err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
	cp, found, err := s.TailCheckpoint(crashTopic)
	if err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
	if !found {
		if reported != (ackset.Position{}) {
			t.Fatalf("round %d: no checkpoint though %s was reported committed", round, reported)
		}
		return cp
	}
	if cp.Less(reported) {
		t.Fatalf("round %d: checkpoint %s is before the reported commit %s", round, cp, reported)
	}
	runs := allRuns(t, s, crashTopic)
	if len(runs) == 0 || runs[len(runs)-1].Last() != cp {
		t.Fatalf("round %d: checkpoint %s is not the end of the last run (%d runs)", round, cp, len(runs))
	}
	if want := expectedCrashRuns(t, cp); !equalRuns(runs, want) {
		t.Fatalf("round %d: stored runs differ from the stream up to %s:\n got  %v\n want %v", round, cp, runs, want)
	}
	checkReverseAgrees(t, s, round, sampleRuns(runs, prev, rng))
	return cp
}

// sampleRuns keeps the runs this round wrote or extended and a few older
// ones, so verification time does not grow with every round.
func sampleRuns(runs []Run, prev ackset.Position, rng *rand.Rand) []Run {
	var fresh, old []Run
	for _, r := range runs {
		if !r.Last().Less(prev) {
			fresh = append(fresh, r)
		} else if rng.IntN(len(runs)) < 8 {
			old = append(old, r)
		}
	}
	if len(fresh) > 8 {
		fresh = fresh[len(fresh)-8:]
	}
	return append(fresh, old...)
}

// checkReverseAgrees looks the first and last entry of every run up in
// the reverse index (CheckTopic already matched the records one to one).
func checkReverseAgrees(t *testing.T, s *Store, round int, runs []Run) {
	t.Helper()
	for _, r := range runs {
		for _, i := range []int64{0, r.Count - 1} {
			p := pos(r.Local.Ledger, r.Local.Entry+i)
			id := eid(r.Origin, r.OriginLedger, r.OriginEntry+i)
			back, err := s.LocalPositions(crashTopic, id)
			if err != nil {
				t.Fatalf("round %d: LocalPositions(%s): %v", round, id, err)
			}
			found := false
			for _, b := range back {
				found = found || b == p
			}
			if !found {
				t.Fatalf("round %d: LocalPositions(%s) = %v, missing %s", round, id, back, p)
			}
		}
	}
}
