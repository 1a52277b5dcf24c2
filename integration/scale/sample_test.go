package scale

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestSampleReadsAProcess checks the /proc reader the footprint figures
// rest on: this process uses memory, and CPU time only grows.
func TestSampleReadsAProcess(t *testing.T) {
	before := sample(t, os.Getpid())
	if before.rssBytes <= 0 {
		t.Fatalf("resident set of this process read as %d bytes", before.rssBytes)
	}
	deadline := time.Now().Add(200 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	after := sample(t, os.Getpid())
	if after.cpuSeconds < before.cpuSeconds || after.cpuSeconds == 0 {
		t.Fatalf("CPU time went from %v to %v s after 200 ms of spinning (%d loops)", before.cpuSeconds, after.cpuSeconds, x)
	}
}

func TestEnvIntRejectsJunk(t *testing.T) {
	t.Setenv("SCALE_TEST_INT", "12")
	if got, err := envInt("SCALE_TEST_INT", 5); err != nil || got != 12 {
		t.Fatalf("envInt = %d, %v; want 12", got, err)
	}
	t.Setenv("SCALE_TEST_INT", "")
	if got, err := envInt("SCALE_TEST_INT", 5); err != nil || got != 5 {
		t.Fatalf("empty: envInt = %d, %v; want the default 5", got, err)
	}
	for _, junk := range []string{"-3", "0", "many"} {
		t.Setenv("SCALE_TEST_INT", junk)
		if _, err := envInt("SCALE_TEST_INT", 5); err == nil || !strings.Contains(err.Error(), "SCALE_TEST_INT") {
			t.Fatalf("envInt(%q): error %v, want one naming the variable", junk, err)
		}
	}
}
