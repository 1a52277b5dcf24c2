package testbed

import (
	"bytes"
	"context"
	"io"
	"os"
	"strconv"
	"testing"
	"time"
)

// EnvRestarts, a number, runs TestRestartsKeepTheBookie with that many
// kills and restarts (JVMs, minutes; skipped when unset).
const EnvRestarts = "SUBSYNC_TESTBED_RESTARTS"

// TestRestartsKeepTheBookie kills and restarts one cluster again and
// again, and after each restart watches it for a while: every new topic
// must open a ledger, and the in-process bookie's registration must stay
// put. Before the bed expired the killed JVM's ephemeral nodes, the
// restarted bookie's registration lock (ResourceLockImpl on
// /ledgers/available/<bookie>) now and then fell into deleting and
// re-creating itself without end, and new ledgers failed with "Not enough
// non-faulty bookies available" while it did.
func TestRestartsKeepTheBookie(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv(EnvRestarts))
	if n <= 0 {
		t.Skipf("set %s to a number of restarts to run it (starts real brokers)", EnvRestarts)
	}
	ctx := context.Background()
	// The brokers' logs stay when the test fails.
	dir, err := os.MkdirTemp("", "subsync-testbed-restarts-")
	if err != nil {
		t.Fatal(err)
	}
	bed, err := Start(ctx, Options{Clusters: []string{"east", "west"}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		bed.Close()
		if !t.Failed() {
			os.RemoveAll(dir)
		}
	}()
	west := bed.Cluster("west")
	var loops, refused int
	for i := 1; i <= n; i++ {
		from := logSize(t, west.LogFile())
		t0 := time.Now()
		if err := bed.Kill("west"); err != nil {
			t.Fatal(err)
		}
		if err := bed.Restart(ctx, "west"); err != nil {
			t.Fatalf("restart %d: %v", i, err)
		}
		ready := time.Since(t0)
		// Watch for 6 s: a topic every 300 ms.
		fails := 0
		var last error
		for end := time.Now().Add(6 * time.Second); time.Now().Before(end); time.Sleep(300 * time.Millisecond) {
			if err := TakesWrites(ctx, west.WebURL()); err != nil {
				fails, last = fails+1, err
			}
		}
		churn := bookieLockChurn(t, west.LogFile(), from)
		t.Logf("restart %d: ready in %v; %d topics refused; bookie registration invalidated %d times", i,
			ready.Round(100*time.Millisecond), fails, churn)
		if fails > 0 {
			refused++
			t.Logf("restart %d: last refusal: %.200s", i, last)
		}
		// One invalidation can follow the clean-up of a stale node; a
		// loop makes thousands.
		if churn > 2 {
			loops++
		}
	}
	if loops > 0 || refused > 0 {
		t.Errorf("of %d restarts, %d left the bookie's registration looping and %d refused new topics; see %s",
			n, loops, refused, west.LogFile())
	}
}

func logSize(t *testing.T, file string) int64 {
	t.Helper()
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// bookieLockChurn counts the broker log's reports, from offset on, of the
// bookie's registration lock being invalidated (its node deleted under it).
func bookieLockChurn(t *testing.T, file string, offset int64) int {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range bytes.Split(b, []byte("\n")) {
		if bytes.Contains(line, []byte("Lock on resource /ledgers/available/")) && bytes.Contains(line, []byte("was invalidated")) {
			n++
		}
	}
	return n
}
