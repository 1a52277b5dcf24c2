package replicator

import (
	"log/slog"
	"testing"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/mapping"
)

func TestSnapshotMappingsKeepTheNewest(t *testing.T) {
	store, err := mapping.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	const topic = "persistent://public/geo/x"
	w := &worker{d: &Daemon{deps: Deps{Store: store}}, topic: topic, log: slog.New(slog.DiscardHandler)}
	const written = keptSnapshots + 30
	for i := 0; i < written; i++ {
		m := mapping.SnapshotMapping{Local: ackset.Position{Ledger: 7, Entry: int64(i)},
			RemoteLAC: ackset.Position{Ledger: 9, Entry: int64(i)}, RemoteWatermark: ackset.Position{Ledger: 7, Entry: int64(i)},
			TimeUnixMs: int64(1000 + i)}
		if err := store.PutSnapshot(topic, "west", m); err != nil {
			t.Fatal(err)
		}
		w.pruneSnapshots("west")
	}
	ms, err := store.Snapshots(topic, "west")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != keptSnapshots {
		t.Fatalf("%d mappings kept, want %d", len(ms), keptSnapshots)
	}
	if first, last := ms[0].Local.Entry, ms[len(ms)-1].Local.Entry; first != written-keptSnapshots || last != written-1 {
		t.Fatalf("kept mappings %d..%d, want the newest %d..%d", first, last, written-keptSnapshots, written-1)
	}
}

func TestLocalEntriesAfterCountsOnlyOwnEntriesInTheWindow(t *testing.T) {
	runs := []ackset.Run{
		{Local: ackset.Position{Ledger: 5, Entry: 0}, Origin: "east", OriginLedger: 5, OriginEntry: 0, Count: 10},
		{Local: ackset.Position{Ledger: 5, Entry: 10}, Origin: "west", OriginLedger: 2, OriginEntry: 0, Count: 5},
		{Local: ackset.Position{Ledger: 6, Entry: 0}, Origin: "east", OriginLedger: 6, OriginEntry: 0, Count: 10},
	}
	wm := ackset.Position{Ledger: 5, Entry: 6}
	lac := ackset.Position{Ledger: 6, Entry: 3}
	// East's own entries after 5:6 and up to 6:3: 5:7..5:9 and 6:0..6:3.
	if got := localEntriesAfter(runs, "east", &wm, lac).Cardinality(); got != 7 {
		t.Fatalf("%d entries, want 7", got)
	}
	if got := localEntriesAfter(runs, "east", nil, lac).Cardinality(); got != 14 {
		t.Fatalf("without a watermark: %d entries, want 14", got)
	}
}
