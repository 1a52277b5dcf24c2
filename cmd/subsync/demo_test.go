package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/subsync/subsync/integration/demo"
)

// -o json, and the deprecated --json that scripts still use, print one
// JSON result on stdout.
func TestDemoJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("starts emulated clusters")
	}
	for _, flag := range [][]string{{"-o", "json"}, {"--json"}} {
		t.Run(flag[0], func(t *testing.T) { checkDemoJSON(t, flag...) })
	}
}

func checkDemoJSON(t *testing.T, flag ...string) {
	r := cli(t, nil, append([]string{"demo", "--messages", "200", "--consumers", "2", "--seed", "3"}, flag...)...)
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var res demo.Result
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("stdout is not a JSON result: %v\n%s", err, r.stdout)
	}
	if dec.More() {
		t.Errorf("stdout holds more than one JSON object:\n%s", r.stdout)
	}
	if res.Messages != 200 || res.Consumers != 2 || res.Seed != 3 {
		t.Errorf("options not passed: %+v", res)
	}
	if res.Subsync.Lost != 0 || res.PIP33.Lost != 0 {
		t.Errorf("lost messages: subsync %d, PIP-33 %d", res.Subsync.Lost, res.PIP33.Lost)
	}
	if res.Subsync.AckedOnPrimary == 0 || res.Subsync.Duplicates > res.PIP33.Duplicates {
		t.Errorf("subsync outcome %+v vs PIP-33 %+v", res.Subsync, res.PIP33)
	}
	if deprecated := strings.Contains(r.stderr, "--json is deprecated"); deprecated != (flag[0] == "--json") {
		t.Errorf("deprecation notice on stderr: %v with %q", deprecated, flag)
	}
	if !strings.Contains(r.stderr, "failover") {
		t.Errorf("progress should go to stderr with --json, got %q", r.stderr)
	}
}

func TestDemoFormatFlagsMustAgree(t *testing.T) {
	r := cli(t, nil, "demo", "--json", "-o", "yaml")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--json and -o yaml disagree") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestDemoBadOptions(t *testing.T) {
	r := cli(t, nil, "demo", "--failover-at", "1.5", "--consumers", "0")
	if r.code != exitUsage {
		t.Fatalf("exit %d, want %d: %s", r.code, exitUsage, r.stderr)
	}
	for _, want := range []string{"demo options (2 problems)", "--failover-at: 1.5", "--consumers: 0"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if r := cli(t, nil, "demo", "--timeout", "0s"); r.code != exitUsage {
		t.Errorf("--timeout 0s: exit %d", r.code)
	}
}
