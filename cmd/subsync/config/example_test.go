package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const exampleFile = "../subsync.example.yaml"

// The example file documents every key, each with a comment, and loads.
func TestExampleFileDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var leaves []string
	var walk func(n *yaml.Node, prefix string, commented bool)
	walk = func(n *yaml.Node, prefix string, commented bool) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			path := joinKey(prefix, k.Value)
			hasComment := commented || strings.TrimSpace(k.HeadComment) != ""
			if v.Kind == yaml.MappingNode {
				walk(v, path, hasComment)
				continue
			}
			if !hasComment {
				t.Errorf("example key %q (line %d) has no comment above it or its section", path, k.Line)
			}
			leaves = append(leaves, path)
		}
	}
	walk(doc.Content[0], "", false)
	slices.Sort(leaves)
	want := slices.Sorted(slices.Values(Keys()))
	if !slices.Equal(leaves, want) {
		t.Errorf("example keys differ from the settings:\nexample: %q\nsettings: %q", leaves, want)
	}
}

func TestExampleFileLoads(t *testing.T) {
	f := newFixture(t)
	store := filepath.Join(f.dir, "store")
	fs := newFlags(t, "--hmac-key-file", f.keyFile, "--store-dir", store)
	c, err := Load(Sources{File: exampleFile, Flags: fs})
	if err != nil {
		t.Fatalf("the example does not load: %v", err)
	}
	if c.Cluster != "east" || c.Admin != c.Client || c.StoreDir != store {
		t.Errorf("example loaded as %+v", c)
	}
}
