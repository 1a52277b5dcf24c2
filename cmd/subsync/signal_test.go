package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"regexp"
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
			cmd := exec.Command(os.Args[0], "run", "--metrics-address", "127.0.0.1:0")
			cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
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
