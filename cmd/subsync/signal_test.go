package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv makes the test binary run main() instead of the tests: the
// signal tests start the real command as a child process.
const childEnv = "SUBSYNC_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

var listenLine = regexp.MustCompile(`msg="subsync started".* listen=(\S+)`)

// TestSignalsStopTheDaemonGracefully runs `subsync run` as a process and
// stops it with SIGTERM and SIGINT.
func TestSignalsStopTheDaemonGracefully(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			env, _ := runEnv(t)
			cmd, stderr := startRunChild(t, env)
			defer cmd.Process.Kill()
			lines := bufio.NewScanner(stderr)
			var addr string
			var log strings.Builder
			for addr == "" && lines.Scan() {
				log.WriteString(lines.Text() + "\n")
				if m := listenLine.FindStringSubmatch(lines.Text()); m != nil {
					addr = m[1]
				}
			}
			if addr == "" {
				t.Fatalf("the daemon never said where it listens:\n%s", log.String())
			}
			waitHealthy(t, "http://"+addr)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			// Wait only after the pipe is drained (os/exec's rule).
			rest := make(chan []byte, 1)
			waited := make(chan error, 1)
			go func() {
				b, _ := io.ReadAll(stderr)
				rest <- b
				waited <- cmd.Wait()
			}()
			select {
			case err := <-waited:
				log.Write(<-rest)
				if err != nil {
					t.Fatalf("exit after %s: %v\n%s", sig, err, log.String())
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("still running 20s after %s:\n%s", sig, log.String())
			}
			if !strings.Contains(log.String(), "engine stopped cleanly") {
				t.Errorf("no clean engine stop logged:\n%s", log.String())
			}
		})
	}
}

// TestHangupReloadsTheKeyFile: SIGHUP loads a rotated key file; a broken
// one is logged and the daemon keeps running with the keys it had.
func TestHangupReloadsTheKeyFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	env, _ := runEnv(t)
	keyFile := strings.TrimPrefix(env[slices.IndexFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "SUBSYNC_HMAC_KEY_FILE=") })], "SUBSYNC_HMAC_KEY_FILE=")
	cmd, stderr := startRunChild(t, env)
	defer cmd.Process.Kill()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	addr := waitLine(t, lines, listenLine)[1]
	waitHealthy(t, "http://"+addr)

	// A rotation step: a second key, accepted but not yet used.
	if r := cli(t, nil, "keygen", "--id", "2"); r.code != exitOK {
		t.Fatalf("keygen: %s", r.stderr)
	} else if err := os.WriteFile(keyFile, append(mustRead(t, keyFile), r.stdout...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLine(t, lines, regexp.MustCompile(`HMAC key file reloaded.* current=1 accepted="?\[1 2\]`))

	if err := os.WriteFile(keyFile, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLine(t, lines, regexp.MustCompile(`level=ERROR.*did not load; keeping the previous keys`))
	waitHealthy(t, "http://"+addr)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitLine(t, lines, regexp.MustCompile(`engine stopped cleanly`))
}

// waitLine reads log lines until one matches re, and returns the match.
func waitLine(t *testing.T, lines <-chan string, re *regexp.Regexp) []string {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("the daemon exited before logging %s", re)
			}
			if m := re.FindStringSubmatch(line); m != nil {
				return m
			}
		case <-timeout:
			t.Fatalf("no log line matching %s within 15s", re)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// startRunChild starts this test binary as `subsync run` with env, its
// standard error piped back.
func startRunChild(t *testing.T, env []string) (*exec.Cmd, io.ReadCloser) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "run", "--metrics-address", "127.0.0.1:0")
	cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, stderr
}
