package config

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/subsync/subsync/snapshot"
)

func TestParseKeyFile(t *testing.T) {
	const (
		k1 = "00112233445566778899aabbccddeeff"
		k2 = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
	)
	ring, err := ParseKeyFile("keys", []byte("# rotation in progress\n\n  9:"+k2+"  \n4:"+strings.ToUpper(k1)+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	cur := ring.Current()
	if cur.ID != 9 || !bytes.Equal(cur.Secret, mustHex(t, k2)) {
		t.Errorf("current key = %d %x, want the first line's (9)", cur.ID, cur.Secret)
	}
	if !slices.Equal(ring.IDs(), []uint32{4, 9}) {
		t.Errorf("ids = %v, want [4 9]", ring.IDs())
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	k, err := ParseKeyFile("x", []byte("1:"+s))
	if err != nil {
		t.Fatal(err)
	}
	return k.Current().Secret
}

func TestParseKeyFileErrors(t *testing.T) {
	const good = "00112233445566778899aabbccddeeff"
	cases := []struct {
		name, text string
		want       []string
	}{
		{"empty", "", []string{"keys: no key found"}},
		{"only comments", "# nothing\n\n", []string{"no key found"}},
		{"no colon", good + "\n", []string{"keys:1:", `expected "<id>:<hex secret>"`}},
		{"bad id", "x:" + good, []string{"keys:1:", `key id "x" is not a decimal number`}},
		{"id too big", "4294967296:" + good, []string{"key id \"4294967296\""}},
		{"negative id", "-1:" + good, []string{"key id \"-1\""}},
		{"not hex", "1:zz" + good, []string{"keys:1:", "key id 1: secret is not hex"}},
		{"odd hex", "1:" + good + "a", []string{"secret is not hex"}},
		{"short", "1:0011", []string{"key id 1: secret is 2 bytes, expected at least 16 (32 hex digits)"}},
		{"duplicate id", "1:" + good + "\n# c\n1:" + good, []string{"keys:3: key id 1 already defined at line 1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ring, err := ParseKeyFile("keys", []byte(tc.text))
			if err == nil || ring != nil {
				t.Fatalf("want an error, got ring %v", ring)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	t.Run("every bad line listed", func(t *testing.T) {
		_, err := ParseKeyFile("keys", []byte("x:"+good+"\n2:"+good+"\n3:zz\n4\n"))
		for _, w := range []string{"keys:1:", "keys:3:", "keys:4:"} {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("error %v lacks %q", err, w)
			}
		}
	})
}

func TestFormatKeyLineRoundTrips(t *testing.T) {
	k := snapshot.Key{ID: 4294967295, Secret: bytes.Repeat([]byte{0xab}, 32)}
	ring, err := ParseKeyFile("gen", []byte(FormatKeyLine(k)+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := ring.Current(); got.ID != k.ID || !bytes.Equal(got.Secret, k.Secret) {
		t.Errorf("round trip = %d %x", got.ID, got.Secret)
	}
}

func TestLoadKeyFilePermissionWarning(t *testing.T) {
	f := newFixture(t)
	for mode, warn := range map[uint32]bool{0o600: false, 0o400: false, 0o640: true, 0o604: true, 0o620: true} {
		p := f.write("k", testKeyLine, 0o600)
		mustChmod(t, p, mode)
		_, w, err := LoadKeyFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if (w != "") != warn {
			t.Errorf("mode %#o: warning %q, want warning=%v", mode, w, warn)
		}
	}
	if _, _, err := LoadKeyFile(f.dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory as key file: %v", err)
	}
}
