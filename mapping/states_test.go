package mapping

import (
	"bytes"
	"slices"
	"testing"
)

func TestExportedAndImportedStates(t *testing.T) {
	s := openTestStore(t)
	if _, ok, err := s.Exported(topicA, "sub"); ok || err != nil {
		t.Fatalf("Exported of nothing: %t, %v", ok, err)
	}
	put := []struct {
		sub, remote string
		st          State
	}{
		{"sub", "", State{Seq: 1, Data: []byte("exp-1")}},
		{"sub", "", State{Seq: 2, Data: []byte("exp-2")}}, // replaces
		{"sub", "west", State{Seq: 7, Data: []byte("imp-west")}},
		{"sub", "north", State{Seq: 8, Data: nil}},
		{"sub2", "west", State{Seq: 9, Data: []byte{0, 1, 2}}},
		{"su", "bwest", State{Seq: 10, Data: []byte("no confusion with sub/west")}},
	}
	for _, p := range put {
		var err error
		if p.remote == "" {
			err = s.PutExported(topicA, p.sub, p.st)
		} else {
			err = s.PutImported(topicA, p.sub, p.remote, p.st)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	check := func(sub, remote string, want State, wantOK bool) {
		t.Helper()
		var got State
		var ok bool
		var err error
		if remote == "" {
			got, ok, err = s.Exported(topicA, sub)
		} else {
			got, ok, err = s.Imported(topicA, sub, remote)
		}
		if err != nil || ok != wantOK || got.Seq != want.Seq || !bytes.Equal(got.Data, want.Data) {
			t.Errorf("state %q/%q = %+v, %t, %v; want %+v, %t", sub, remote, got, ok, err, want, wantOK)
		}
	}
	check("sub", "", State{Seq: 2, Data: []byte("exp-2")}, true)
	check("sub", "west", State{Seq: 7, Data: []byte("imp-west")}, true)
	check("sub", "north", State{Seq: 8}, true)
	check("sub", "south", State{}, false)
	check("sub2", "west", State{Seq: 9, Data: []byte{0, 1, 2}}, true)
	check("su", "bwest", State{Seq: 10, Data: []byte("no confusion with sub/west")}, true)

	if err := s.DeleteSubscription(topicA, "sub"); err != nil {
		t.Fatal(err)
	}
	check("sub", "", State{}, false)
	check("sub", "west", State{}, false)
	check("sub", "north", State{}, false)
	check("sub2", "west", State{Seq: 9, Data: []byte{0, 1, 2}}, true)
	check("su", "bwest", State{Seq: 10, Data: []byte("no confusion with sub/west")}, true)
}

func TestStatesRejectBadNames(t *testing.T) {
	s := openTestStore(t)
	if err := s.PutExported(topicA, "", State{}); err == nil {
		t.Errorf("empty subscription accepted")
	}
	if err := s.PutImported(topicA, "sub", "", State{}); err == nil {
		t.Errorf("empty remote accepted")
	}
	if err := s.PutImported("", "sub", "west", State{}); err == nil {
		t.Errorf("empty topic accepted")
	}
}

func TestImportedKeysListsEveryStoredImport(t *testing.T) {
	s := openTestStore(t)
	const topic = "persistent://t/ns/x"
	for _, k := range []SubRemote{{"billing", "east"}, {"billing", "south"}, {"audit", "east"}} {
		if err := s.PutImported(topic, k.Subscription, k.Remote, State{Seq: 1, Data: []byte{1}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutImported("persistent://t/ns/y", "other", "east", State{Seq: 1}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ImportedKeys(topic)
	if err != nil {
		t.Fatal(err)
	}
	want := []SubRemote{{"audit", "east"}, {"billing", "east"}, {"billing", "south"}}
	if !slices.Equal(got, want) {
		t.Fatalf("ImportedKeys = %v, want %v", got, want)
	}
}

func TestExportedKeysListsOneTopicsSubscriptions(t *testing.T) {
	s := openTestStore(t)
	for _, k := range []struct{ topic, sub string }{{"t", "b"}, {"t", "a"}, {"t2", "c"}} {
		if err := s.PutExported(k.topic, k.sub, State{Seq: 1, Data: []byte{1}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ExportedKeys("t")
	if err != nil || len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("ExportedKeys(t) = %v, %v; want [a b]", got, err)
	}
}
