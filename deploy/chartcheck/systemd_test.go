package chartcheck

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"time"
)

const unitFile = "../systemd/subsync.service"

// unit reads a systemd unit's [Service] keys (the last value of each).
func unit(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys, section := map[string]string{}, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = line
		case section == "[Service]":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: not key=value: %q", unitFile, line)
			}
			keys[k] = v
		}
	}
	return keys
}

// The unit stops the daemon the way it flushes, reloads the key file the
// way the daemon expects, and runs it unprivileged.
func TestSystemdUnit(t *testing.T) {
	u := unit(t)
	if !strings.Contains(u["ExecStart"], "subsync run --config ") {
		t.Errorf("ExecStart %q", u["ExecStart"])
	}
	if !strings.Contains(u["ExecReload"], "kill -HUP $MAINPID") {
		t.Errorf("ExecReload %q: the daemon re-reads its key file on SIGHUP", u["ExecReload"])
	}
	if u["KillSignal"] != "SIGTERM" {
		t.Errorf("KillSignal %q: the daemon flushes on SIGTERM", u["KillSignal"])
	}
	stop, err := time.ParseDuration(u["TimeoutStopSec"])
	if err != nil || stop <= 30*time.Second {
		t.Errorf("TimeoutStopSec %q: must exceed the default shutdownTimeout (30s)", u["TimeoutStopSec"])
	}
	if u["RestartPreventExitStatus"] != "2" {
		t.Errorf("RestartPreventExitStatus %q: a configuration error (exit 2) must not loop", u["RestartPreventExitStatus"])
	}
	if user := u["User"]; user == "" || user == "root" {
		t.Errorf("User %q: want an unprivileged user", user)
	}
	if u["StateDirectory"] != "subsync" {
		t.Errorf("StateDirectory %q: the store lives in /var/lib/subsync", u["StateDirectory"])
	}
}
