package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/subsync/subsync/replicator"
)

// -o yaml says what -o json says, with the same field names: decoded
// generically, both outputs are equal, for every command that takes -o.
func TestYAMLOutputMatchesJSON(t *testing.T) {
	e := &fakeEngine{status: sampleStatus(), failover: sampleFailover(true),
		mappings: replicator.MappingsReport{Topic: "persistent://shop/eu/orders", Runs: []replicator.RunView{{Local: "1:0", Origin: "east", OriginStart: "7:0", Count: 3}}}}
	d := startFakeDaemon(t, e)
	for _, args := range [][]string{
		{"status"}, {"failover-check"}, {"mappings", "persistent://shop/eu/orders"},
	} {
		t.Run(args[0], func(t *testing.T) {
			asJSON := cli(t, nil, append(args, "-o", "json", "--daemon", d.srv.URL)...)
			asYAML := cli(t, nil, append(args, "-o", "yaml", "--daemon", d.srv.URL)...)
			if asJSON.code != exitOK || asYAML.code != exitOK {
				t.Fatalf("exit %d / %d: %s %s", asJSON.code, asYAML.code, asJSON.stderr, asYAML.stderr)
			}
			var fromJSON, fromYAML any
			if err := json.Unmarshal([]byte(asJSON.stdout), &fromJSON); err != nil {
				t.Fatal(err)
			}
			if err := yaml.Unmarshal([]byte(asYAML.stdout), &fromYAML); err != nil {
				t.Fatalf("not YAML: %v\n%s", err, asYAML.stdout)
			}
			if !reflect.DeepEqual(normalise(fromJSON), normalise(fromYAML)) {
				t.Errorf("YAML differs from JSON:\n%s\nvs\n%s", asYAML.stdout, asJSON.stdout)
			}
			if strings.Contains(asYAML.stdout, "{") {
				t.Errorf("YAML output uses flow style:\n%s", asYAML.stdout)
			}
		})
	}
}

// normalise makes JSON's float64 numbers and YAML's ints comparable.
func normalise(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalise(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalise(e)
		}
		return x
	case int:
		return float64(x)
	}
	return v
}

func TestOutputFormatRejectsUnknown(t *testing.T) {
	r := cli(t, nil, "status", "-o", "xml", "--daemon", "http://127.0.0.1:1")
	if r.code != exitUsage || !strings.Contains(r.stderr, "expected table, json or yaml") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}
