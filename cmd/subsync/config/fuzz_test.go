package config

import (
	"os"
	"strings"
	"testing"
)

// FuzzParseYAML: any file content is either settings of known keys or
// errors, never a panic; build never panics on what the parser accepted.
func FuzzParseYAML(f *testing.F) {
	if example, err := os.ReadFile(exampleFile); err == nil {
		f.Add(example)
	}
	for _, seed := range []string{
		"", "cluster: east\n", "auth:\n  method: token\n  oauth2: {issuerUrl: x}\n", "namespaces: [a/b, c/d]\n",
		"x: &a [1]\ny: *a\n", "log:\n  <<: {level: info}\n", "- a\n", "cluster: [1\n", "a: b\n---\nc: d\n",
		"exportInterval: 1s\nexportInterval: 2s\n", "topicPatterns: [{a: b}]\n", "? [a]\n: b\n", "!!binary aGk=\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		vals, errs := parseYAML("fuzz.yaml", data)
		for key, v := range vals {
			if _, ok := lookupSetting(key); !ok {
				t.Fatalf("parser accepted unknown key %q", key)
			}
			if !v.invalid && !strings.HasPrefix(v.origin, "fuzz.yaml:") {
				t.Fatalf("value of %q has origin %q", key, v.origin)
			}
		}
		if vals == nil && len(errs) == 0 {
			t.Fatal("no settings and no error")
		}
		for _, err := range errs {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
		}
		c, _ := build(vals)
		_ = c.validate()
	})
}

// FuzzParseKeyFile: any key file content is a keyring or an error.
func FuzzParseKeyFile(f *testing.F) {
	for _, seed := range []string{
		testKeyLine, "# c\n" + testKeyLine + "\n8:" + strings.Repeat("ab", 32), "1:zz", "x", "", "1:" + strings.Repeat("0", 31),
		"4294967295:" + strings.Repeat("f", 32), "1:" + strings.Repeat("aa", 16) + "\n1:" + strings.Repeat("bb", 16),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ring, err := ParseKeyFile("fuzz", data)
		if (ring == nil) == (err == nil) {
			t.Fatalf("ring %v and error %v: want exactly one", ring, err)
		}
		if ring != nil && len(ring.Current().Secret) < 16 {
			t.Fatal("accepted a short secret")
		}
	})
}
