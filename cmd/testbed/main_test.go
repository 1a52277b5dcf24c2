package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestSetFlagsBecomeBrokerSettings(t *testing.T) {
	o, err := flags{version: "4.0.7", clusters: "east,west", ledger: 10,
		settings: []string{"acknowledgmentAtBatchIndexLevelEnabled=true", "a=b=c"}}.options()
	if err != nil {
		t.Fatal(err)
	}
	if o.BrokerSettings["acknowledgmentAtBatchIndexLevelEnabled"] != "true" || o.BrokerSettings["a"] != "b=c" {
		t.Errorf("settings: %v", o.BrokerSettings)
	}
	if len(o.Clusters) != 2 || o.Clusters[1] != "west" {
		t.Errorf("clusters: %v", o.Clusters)
	}
	for _, bad := range []string{"novalue", "=x"} {
		if _, err := (flags{settings: []string{bad}}).options(); err == nil || !strings.Contains(err.Error(), "KEY=VALUE") {
			t.Errorf("--set %q: %v", bad, err)
		}
	}
}

func TestExecNeedsACommand(t *testing.T) {
	var out, errs bytes.Buffer
	root := newRoot(&out, &errs)
	root.SetArgs([]string{"exec"})
	if err := root.Execute(); err == nil {
		t.Error("exec without a command ran")
	}
}
