package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestBadFlagsExitTwoWithClearError(t *testing.T) {
	cases := map[string][]string{
		"empty name":     {"--clusters", "east,,west"},
		"duplicate":      {"--clusters", "east,east"},
		"bad ledger":     {"--ledger-max-entries", "0"},
		"unknown flag":   {"--nope"},
		"positional arg": {"east"},
	}
	for name, args := range cases {
		var out, errb bytes.Buffer
		code := run(args, &out, &errb, func() { t.Fatalf("%s: must not start", name) })
		if code != 2 {
			t.Errorf("%s: exit code %d, want 2", name, code)
		}
		if errb.Len() == 0 || out.Len() != 0 {
			t.Errorf("%s: stderr %q stdout %q", name, errb.String(), out.String())
		}
	}
}

func TestPrintsOneJSONLinePerServingCluster(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"--clusters", "east,west"}, &out, &errb, func() {
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 2 {
			t.Fatalf("got %d lines: %q", len(lines), out.String())
		}
		for i, want := range []string{"east", "west"} {
			var l map[string]string
			if err := json.Unmarshal([]byte(lines[i]), &l); err != nil {
				t.Fatal(err)
			}
			if l["cluster"] != want || !strings.HasPrefix(l["serviceUrl"], "pulsar://127.0.0.1:") {
				t.Fatalf("line %d: %v", i, l)
			}
			resp, err := http.Get(l["webServiceUrl"] + "/admin/v2/clusters")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("%s admin answered %d", want, resp.StatusCode)
			}
		}
	})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}
