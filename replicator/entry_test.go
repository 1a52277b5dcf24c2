package replicator

import (
	"encoding/binary"
	"net/http"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// batchBody builds an uncompressed batch as the admin API serves it:
// per member [u32 size][SingleMessageMetadata][payload].
func batchBody(members ...map[string]string) []byte {
	var out []byte
	for i, props := range members {
		payload := []byte{byte('a' + i)}
		var md []byte
		for k, v := range props {
			var kv []byte
			kv = protowire.AppendTag(kv, 1, protowire.BytesType)
			kv = protowire.AppendString(kv, k)
			kv = protowire.AppendTag(kv, 2, protowire.BytesType)
			kv = protowire.AppendString(kv, v)
			md = protowire.AppendTag(md, 1, protowire.BytesType)
			md = protowire.AppendBytes(md, kv)
		}
		md = protowire.AppendTag(md, 8, protowire.VarintType) // sequence_id, skipped
		md = protowire.AppendVarint(md, uint64(i))
		md = protowire.AppendTag(md, 3, protowire.VarintType)
		md = protowire.AppendVarint(md, uint64(len(payload)))
		out = binary.BigEndian.AppendUint32(out, uint32(len(md)))
		out = append(out, md...)
		out = append(out, payload...)
	}
	return out
}

// Finding 6: a batched entry's stamp comes from the entry-level headers
// only, in either Pulsar's 3.1+ JSON form or 3.0.x's canonicalised per-key
// form; an entry whose members carry the stamp's key, an unreadable body,
// conflicting values and chunks are not mapped.
func TestBatchEntryStamp(t *testing.T) {
	clean := batchBody(map[string]string{"app": "1"}, nil)
	forged := batchBody(map[string]string{"app": "1"}, map[string]string{SourcePositionProperty: "1:1"})
	lower := batchBody(map[string]string{"__msg_prop_repl_source_position": "1:1"})
	header := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1]) // Add canonicalises, as Go's client does on receipt
		}
		return h
	}
	cases := []struct {
		name       string
		h          http.Header
		body       []byte
		stamp, why string
	}{
		{"3.1+ JSON header", header("X-Pulsar-num-batch-message", "2", "X-Pulsar-PROPERTY", `{"`+SourcePositionProperty+`":"7:3"}`), clean, "7:3", ""},
		{"3.0.x per-key header, canonicalised", header("X-Pulsar-num-batch-message", "2", "X-Pulsar-PROPERTY-"+SourcePositionProperty, "7:3"), clean, "7:3", ""},
		{"both forms agree", header("X-Pulsar-num-batch-message", "2", "X-Pulsar-PROPERTY", `{"`+SourcePositionProperty+`":"7:3"}`, "X-Pulsar-PROPERTY-"+SourcePositionProperty, "7:3"), clean, "7:3", ""},
		{"forms disagree", header("X-Pulsar-num-batch-message", "2", "X-Pulsar-PROPERTY", `{"`+SourcePositionProperty+`":"7:3"}`, "X-Pulsar-PROPERTY-"+SourcePositionProperty, "9:9"), clean, "", stampAmbiguous},
		{"key sent twice", header("X-Pulsar-num-batch-message", "2", "X-Pulsar-PROPERTY-"+SourcePositionProperty, "7:3", "X-Pulsar-PROPERTY-"+SourcePositionProperty, "9:9"), clean, "", stampAmbiguous},
		{"a member carries the key", header("X-Pulsar-num-batch-message", "2", "X-Pulsar-PROPERTY", `{"`+SourcePositionProperty+`":"7:3"}`), forged, "", stampInMember},
		{"a member carries it in lower case", header("X-Pulsar-num-batch-message", "1", "X-Pulsar-PROPERTY", `{"`+SourcePositionProperty+`":"7:3"}`), lower, "", stampInMember},
		{"no stamp", header("X-Pulsar-num-batch-message", "2", "X-Pulsar-PROPERTY", `{"app":"1"}`), clean, "", stampMissing},
		{"malformed JSON header", header("X-Pulsar-num-batch-message", "2", "X-Pulsar-PROPERTY", `{"`), clean, "", stampAmbiguous},
		{"fewer members than announced", header("X-Pulsar-num-batch-message", "3", "X-Pulsar-PROPERTY", `{"`+SourcePositionProperty+`":"7:3"}`), clean, "", stampBatchUnread},
		{"truncated body", header("X-Pulsar-num-batch-message", "2", "X-Pulsar-PROPERTY", `{"`+SourcePositionProperty+`":"7:3"}`), clean[:len(clean)-1], "", stampBatchUnread},
		{"trailing bytes", header("X-Pulsar-num-batch-message", "2", "X-Pulsar-PROPERTY", `{"`+SourcePositionProperty+`":"7:3"}`), append(clean[:len(clean):len(clean)], 0), "", stampBatchUnread},
		{"encrypted", header("X-Pulsar-num-batch-message", "2", "X-Pulsar-Is-Encrypted", "true", "X-Pulsar-PROPERTY", `{"`+SourcePositionProperty+`":"7:3"}`), clean, "", stampBatchUnread},
		{"chunk", header("X-Pulsar-num-chunks-from-msg", "3", "X-Pulsar-PROPERTY", `{"`+SourcePositionProperty+`":"7:3"}`), []byte("x"), "", stampChunked},
		{"not a batch", header("X-Pulsar-PROPERTY", `{"`+SourcePositionProperty+`":"7:3"}`), []byte("x"), "", stampNotBatch},
	}
	for _, c := range cases {
		stamp, why := batchEntryStamp(c.h, c.body)
		if stamp != c.stamp || why != c.why {
			t.Errorf("%s: (%q, %q), want (%q, %q)", c.name, stamp, why, c.stamp, c.why)
		}
	}
}

func FuzzBatchEntryStamp(f *testing.F) {
	f.Add(batchBody(map[string]string{"a": "b"}, nil), 2)
	f.Add([]byte{0, 0, 0, 1, 0x18}, 1)
	f.Fuzz(func(t *testing.T, body []byte, n int) {
		h := http.Header{}
		h.Set("X-Pulsar-num-batch-message", itoa(int64(n)))
		h.Set("X-Pulsar-PROPERTY", `{"`+SourcePositionProperty+`":"7:3"}`)
		if stamp, why := batchEntryStamp(h, body); (stamp == "") == (why == "") {
			t.Fatalf("stamp %q and reason %q", stamp, why)
		}
	})
}
