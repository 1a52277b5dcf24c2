package mapping

import (
	"slices"
	"testing"

	"github.com/subsync/subsync/ackset"
)

func snap(local, lac, wm ackset.Position, ms int64) SnapshotMapping {
	return SnapshotMapping{Local: local, RemoteLAC: lac, RemoteWatermark: wm, TimeUnixMs: ms}
}

func TestSnapshotMappings(t *testing.T) {
	s := openTestStore(t)
	m1 := snap(pos(5, 10), pos(70, 3), pos(5, 8), 1_700_000_000_000)
	m2 := snap(pos(5, 20), pos(70, 9), pos(5, 19), 1_700_000_001_000)
	m3 := snap(pos(6, 0), pos(71, 0), pos(-1, -1), 1_700_000_002_000) // remote has seen nothing yet
	other := snap(pos(5, 15), pos(9, 9), pos(5, 15), 1)
	for _, m := range []SnapshotMapping{m2, m1, m3} {
		if err := s.PutSnapshot(topicA, "west", m); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutSnapshot(topicA, "west2", other); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSnapshot(topicA+"x", "west", other); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		at   ackset.Position
		want SnapshotMapping
		ok   bool
	}{
		{pos(5, 9), SnapshotMapping{}, false},
		{pos(5, 10), m1, true},
		{pos(5, 19), m1, true},
		{pos(5, 20), m2, true},
		{pos(5, 99), m2, true},
		{pos(6, 0), m3, true},
		{maxPosition, m3, true},
	}
	for _, c := range cases {
		got, ok, err := s.SnapshotAtOrBelow(topicA, "west", c.at)
		if err != nil || ok != c.ok || got != c.want {
			t.Errorf("SnapshotAtOrBelow(%s) = %+v, %t, %v; want %+v, %t", c.at, got, ok, err, c.want, c.ok)
		}
	}
	list, err := s.Snapshots(topicA, "west")
	if err != nil || !slices.Equal(list, []SnapshotMapping{m1, m2, m3}) {
		t.Fatalf("Snapshots = %+v, %v", list, err)
	}
	if err := s.PruneSnapshots(topicA, "west", pos(5, 20)); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.Snapshots(topicA, "west"); !slices.Equal(list, []SnapshotMapping{m2, m3}) {
		t.Fatalf("Snapshots after prune = %+v", list)
	}
	for _, k := range []struct{ topic, remote string }{{topicA, "west2"}, {topicA + "x", "west"}} {
		if list, _ := s.Snapshots(k.topic, k.remote); !slices.Equal(list, []SnapshotMapping{other}) {
			t.Errorf("prune of %q/west touched %q/%q: %+v", topicA, k.topic, k.remote, list)
		}
	}
}

func TestSnapshotReplacesSameLocalPosition(t *testing.T) {
	s := openTestStore(t)
	for _, m := range []SnapshotMapping{snap(pos(5, 10), pos(1, 1), pos(5, 1), 1), snap(pos(5, 10), pos(1, 2), pos(5, 2), 2)} {
		if err := s.PutSnapshot(topicA, "west", m); err != nil {
			t.Fatal(err)
		}
	}
	if list, _ := s.Snapshots(topicA, "west"); len(list) != 1 || list[0].TimeUnixMs != 2 {
		t.Fatalf("Snapshots = %+v, want only the second mapping", list)
	}
}

func TestSnapshotRejectsBadInput(t *testing.T) {
	s := openTestStore(t)
	bad := []struct {
		topic, remote string
		m             SnapshotMapping
	}{
		{"", "west", snap(pos(1, 1), pos(1, 1), pos(1, 1), 0)},
		{topicA, "", snap(pos(1, 1), pos(1, 1), pos(1, 1), 0)},
		{topicA, "west", snap(pos(-2, 1), pos(1, 1), pos(1, 1), 0)},
		{topicA, "west", snap(pos(1, 1), pos(1, -2), pos(1, 1), 0)},
		{topicA, "west", snap(pos(1, 1), pos(1, 1), pos(-5, 1), 0)},
	}
	for _, b := range bad {
		if err := s.PutSnapshot(b.topic, b.remote, b.m); err == nil {
			t.Errorf("PutSnapshot(%q, %q, %+v) accepted", b.topic, b.remote, b.m)
		}
	}
	if list, _ := s.Snapshots(topicA, "west"); len(list) != 0 {
		t.Fatalf("rejected mappings stored: %+v", list)
	}
}

func TestSnapshotRemotes(t *testing.T) {
	s := openTestStore(t)
	if got, err := s.SnapshotRemotes(topicA); err != nil || len(got) != 0 {
		t.Fatalf("SnapshotRemotes of an empty topic = %q, %v", got, err)
	}
	// Several mappings per remote; names of different lengths, so key
	// order (length first) differs from name order.
	for _, remote := range []string{"west2", "zz", "west", "a b/c"} {
		for e := range int64(3) {
			if err := s.PutSnapshot(topicA, remote, snap(pos(1, e), pos(2, e), pos(1, e), e)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.PutSnapshot(topicA+"-other", "other", snap(pos(1, 1), pos(1, 1), pos(1, 1), 1)); err != nil {
		t.Fatal(err)
	}
	got, err := s.SnapshotRemotes(topicA)
	if want := []string{"a b/c", "west", "west2", "zz"}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("SnapshotRemotes = %q, %v; want %q", got, err, want)
	}
	if _, err := s.SnapshotRemotes(""); err == nil {
		t.Fatalf("empty topic accepted")
	}
}
