package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestVersionFlagPrintsBuild(t *testing.T) {
	r := cli(t, nil, "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "subsync ") || !strings.Contains(r.stdout, runtime.Version()) {
		t.Fatalf("--version: code %d, stdout %q, stderr %q; want 'subsync VERSION (revision R, %s)'", r.code, r.stdout, r.stderr, runtime.Version())
	}
}

// Release builds stamp the version with -ldflags -X; the stamp must win
// over what Go recorded.
func TestVersionFromLinkerFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := filepath.Join(t.TempDir(), "subsync")
	build := exec.Command("go", "build", "-o", bin,
		"-ldflags", "-X main.version=9.8.7-test -X main.revision=cafe0123", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "subsync 9.8.7-test (revision cafe0123, " + runtime.Version() + ")\n"
	if string(out) != want {
		t.Errorf("--version = %q, want %q", out, want)
	}
}
