package snapshot

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"testing"
)

// Golden envelopes of format version 1, signed with testKey. If one of these
// tests fails, the wire format changed: daemons of different versions would
// no longer understand each other. Bump formatVersion or keep the format.
var goldens = []struct {
	name string
	msg  func() Message
	hex  string
}{
	{"request", func() Message { return sampleRequest() },
		"73736374010100000007000000e40a15656173742d313730303030303030303030302d3432122c70657273697374656e743a2f2f61636d652f6f72646572732f637265617465642d706172746974696f6e2d331a0465617374220708ff816710d63628fbd095ffbc3132410a0608ff816710641209656173742d372d313218a9462098c895ffbc31284032200102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2032440a060880826710001209656173742d372d313318ffffffffffffffffff01200028003220c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7912f9fa25a2d0112bca1942f72a9c0a4223129a16f67318145dea240a4de4c6b"},
	{"response", func() Message { return sampleResponse() },
		"73736374010200000007000000680a15656173742d313730303030303030303030302d3432122c70657273697374656e743a2f2f61636d652f6f72646572732f637265617465642d706172746974696f6e2d331a04656173742204776573742a0508d10f104d320708ff816710ce3638c8d395ffbc313a0a69b7424a11d3eadbd04a4fb35e6e8a251ce236a583b332eeeb0e725b102c"},
	{"update", func() Message { return sampleUpdate() },
		"73736374010300000007000000670a2c70657273697374656e743a2f2f61636d652f6f72646572732f637265617465642d706172746974696f6e2d33120762696c6c696e671a04656173742080a3b3fabc31280c30013a0f08ff816710ffffffffffffffffff014205010203feff4895d695ffbc31d6ccfe2152eeb1ed745aa805a718d81cc70a0d07c6f63a378c9c31f8fef0cb91"},
}

func TestGoldenEncode(t *testing.T) {
	for _, g := range goldens {
		want, err := hex.DecodeString(g.hex)
		if err != nil {
			t.Fatal(err)
		}
		got := mustEncode(t, g.msg(), testKey)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: encoding changed:\n got %x\nwant %x", g.name, got, want)
		}
	}
}

func TestGoldenDecode(t *testing.T) {
	for _, g := range goldens {
		data, _ := hex.DecodeString(g.hex)
		got, err := Decode(data, testRing)
		if err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		if want := g.msg(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decoded %#v, want %#v", g.name, got, want)
		}
	}
}

// The envelope header is readable by eye; check it independently of Encode.
func TestGoldenHeaderLayout(t *testing.T) {
	for i, g := range goldens {
		data, _ := hex.DecodeString(g.hex)
		wantType := byte(i + 1)
		if string(data[:4]) != "ssct" || data[4] != 1 || data[5] != wantType {
			t.Errorf("%s: header %x: want magic ssct, version 1, type %d", g.name, data[:6], wantType)
		}
		if data[6] != 0 || data[7] != 0 || data[8] != 0 || data[9] != byte(testKey.ID) {
			t.Errorf("%s: key id bytes %x, want %d", g.name, data[6:10], testKey.ID)
		}
		bodyLen := int(data[10])<<24 | int(data[11])<<16 | int(data[12])<<8 | int(data[13])
		if len(data) != 14+bodyLen+32 {
			t.Errorf("%s: %d bytes with body length %d", g.name, len(data), bodyLen)
		}
	}
}
