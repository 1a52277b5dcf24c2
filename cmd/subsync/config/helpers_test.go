package config

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// testKeyLine is a valid key file line (id 7, 16-byte secret).
const testKeyLine = "7:00112233445566778899aabbccddeeff"

// fixture is a temporary directory with a key file and a valid base
// configuration that cases modify.
type fixture struct {
	t       *testing.T
	dir     string
	keyFile string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{t: t, dir: dir, keyFile: filepath.Join(dir, "hmac.keys")}
	f.write("hmac.keys", testKeyLine+"\n", 0o600)
	return f
}

func (f *fixture) write(name, content string, mode os.FileMode) string {
	f.t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// base is a valid configuration as dotted keys.
func (f *fixture) base() map[string]any {
	return map[string]any{
		"cluster":       "east",
		"serviceUrl":    "pulsar://broker:6650",
		"webServiceUrl": "http://broker:8080",
		"namespaces":    []string{"public/default"},
		"hmacKeyFile":   f.keyFile,
		"storeDir":      filepath.Join(f.dir, "store"),
	}
}

// yamlFile writes settings (dotted keys; nil deletes) as nested YAML and
// returns the path and the text.
func (f *fixture) yamlFile(settings map[string]any) (string, string) {
	f.t.Helper()
	tree := map[string]any{}
	for _, key := range slices.Sorted(maps.Keys(settings)) {
		v := settings[key]
		if v == nil {
			continue
		}
		parts := strings.Split(key, ".")
		node := tree
		for _, p := range parts[:len(parts)-1] {
			child, ok := node[p].(map[string]any)
			if !ok {
				child = map[string]any{}
				node[p] = child
			}
			node = child
		}
		node[parts[len(parts)-1]] = v
	}
	out, err := yaml.Marshal(tree)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.write("subsync.yaml", string(out), 0o600), string(out)
}

// with returns base plus changes.
func with(base map[string]any, changes map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range changes {
		out[k] = v
	}
	return out
}

// lineOf is the 1-based line of the first line of text containing s.
func lineOf(t *testing.T, text, s string) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("%q not in\n%s", s, text)
	return 0
}

// problemsOf splits Load's joined error into its problems.
func problemsOf(err error) []string {
	if err == nil {
		return nil
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []string{err.Error()}
	}
	var out []string
	for _, e := range joined.Unwrap() {
		out = append(out, problemsOf(e)...)
	}
	return out
}

func mustChmod(t *testing.T, path string, mode uint32) {
	t.Helper()
	if err := os.Chmod(path, os.FileMode(mode)); err != nil {
		t.Fatal(err)
	}
}
