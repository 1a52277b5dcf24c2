package replicator

import (
	"testing"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/snapshot"
)

// Finding 5: system cursors are never in scope, whatever the include
// patterns say, and a remote update naming one is dropped and counted.
func TestSystemCursorsAreNeverSynced(t *testing.T) {
	w := newUnitWorker(t, Config{IncludeSubscriptions: matchAll})
	for _, sub := range []string{"__compaction", "pulsar.dedup", "pulsar.repl.east", "pulsar.anything", "__future"} {
		if w.subscriptionInScope(sub) {
			t.Errorf("system cursor %q in scope", sub)
		}
	}
	if !w.subscriptionInScope("billing") {
		t.Fatal("an ordinary subscription is out of scope")
	}
	var set ackset.Set
	if err := set.AddRange("east", 3, 0, 49); err != nil {
		t.Fatal(err)
	}
	enc, err := ackset.Encode(set)
	if err != nil {
		t.Fatal(err)
	}
	w.importUpdate(&snapshot.Update{Topic: w.topic, Subscription: "__compaction", Sender: "east",
		Epoch: 1, Sequence: 1, Full: true, AckSet: enc})
	if got := rejected(w, "system_cursor"); got != 1 {
		t.Fatalf("system_cursor rejections = %v, want 1", got)
	}
	if _, found, err := w.d.deps.Store.Imported(w.topic, "__compaction", "east"); err != nil || found {
		t.Fatalf("import of __compaction stored: found %t, err %v", found, err)
	}
	if len(w.imported) != 0 || len(w.dirty) != 0 {
		t.Fatalf("import of __compaction kept for apply: %v %v", w.imported, w.dirty)
	}
}
