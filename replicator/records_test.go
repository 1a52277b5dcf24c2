package replicator

import (
	"testing"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/owner"
)

func TestExportRecordKeepsTheWholeMemory(t *testing.T) {
	var applied, local ackset.Set
	if err := applied.AddRange("east", 3, 0, 9); err != nil {
		t.Fatal(err)
	}
	if err := local.AddRange("west", 1, 4, 4); err != nil {
		t.Fatal(err)
	}
	for _, mem := range []owner.Memory{
		{LastActive: 1_700_000_000_000, Known: true, Idle: true, Mirroring: true, Applied: applied, LocalOnly: local},
		{Deleted: true, OwnerDeleted: true, DeletedOwning: true},
	} {
		b, err := encodeExport(exportRecord{epoch: 42, set: applied, mem: mem})
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeExport(b)
		if err != nil {
			t.Fatal(err)
		}
		if got.epoch != 42 || !got.set.Equal(applied) || !sameMemory(got.mem, mem) || got.mem.LastActive != mem.LastActive {
			t.Fatalf("decoded %+v; want epoch 42 and memory %+v", got, mem)
		}
	}
}

func TestRecordDecodersRejectTruncation(t *testing.T) {
	b, err := encodeImport(importRecord{epoch: 7, active: true, lastActive: 9})
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n < len(b); n++ {
		if _, err := decodeImport(b[:n]); err == nil {
			t.Fatalf("a record cut to %d of %d bytes decoded", n, len(b))
		}
	}
}

// The store's bytes may be damaged: decoding never panics, and what
// decodes encodes back to a record that decodes the same.
func FuzzDecodeRecords(f *testing.F) {
	ex, _ := encodeExport(exportRecord{epoch: 3, mem: owner.Memory{Known: true, LastActive: 5}})
	im, _ := encodeImport(importRecord{epoch: 3, active: true})
	f.Add(ex)
	f.Add(im)
	f.Add([]byte{recordVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := decodeExport(b); err == nil {
			again, err := encodeExport(r)
			if err != nil {
				t.Fatal(err)
			}
			r2, err := decodeExport(again)
			if err != nil || r2.epoch != r.epoch || !sameMemory(r2.mem, r.mem) || !r2.set.Equal(r.set) {
				t.Fatalf("export record does not round-trip: %+v vs %+v (%v)", r, r2, err)
			}
		}
		if r, err := decodeImport(b); err == nil {
			again, err := encodeImport(r)
			if err != nil {
				t.Fatal(err)
			}
			r2, err := decodeImport(again)
			if err != nil || r2.epoch != r.epoch || !r2.set.Equal(r.set) || r2.active != r.active || r2.deleted != r.deleted || r2.lastActive != r.lastActive {
				t.Fatalf("import record does not round-trip: %+v vs %+v (%v)", r, r2, err)
			}
		}
	})
}
