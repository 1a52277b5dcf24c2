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

// status --help lists exactly the columns, in order, of each table
// `status` prints.
func TestStatusHelpDocumentsTheColumns(t *testing.T) {
	help := cli(t, nil, "status", "--help")
	description, _, _ := strings.Cut(help.stdout, "\nUsage:")
	var documented [][]string
	for _, line := range strings.Split(description, "\n") {
		switch {
		case strings.HasSuffix(line, ":") && !strings.HasPrefix(line, " "):
			documented = append(documented, nil) // a table's title
		case len(documented) > 0 && strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   "):
			name := strings.Fields(line)[0]
			if name == strings.ToUpper(name) && !strings.HasPrefix(name, "-") {
				documented[len(documented)-1] = append(documented[len(documented)-1], name)
			}
		}
	}
	d := startFakeDaemon(t, &fakeEngine{status: sampleStatus()})
	r := cli(t, nil, "status", "--daemon", d.srv.URL)
	var printed [][]string
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "TOPIC ") {
			printed = append(printed, strings.Fields(line))
		}
	}
	if len(printed) != 3 || !reflect.DeepEqual(documented, printed) {
		t.Errorf("status --help documents the columns\n%q\nbut status prints\n%q", documented, printed)
	}
}
