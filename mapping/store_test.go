package mapping

import (
	"errors"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble"
)

func TestStorePersistsAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := mkRun(5, 0, "east", 9, 0, 10)
	mustAppendTail(t, s, topicA, pos(5, 9), r)
	if err := s.PutExported(topicA, "sub", State{Seq: 3, Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	assertRuns(t, s, topicA, r)
	if st, ok, err := s.Exported(topicA, "sub"); err != nil || !ok || st.Seq != 3 || string(st.Data) != "x" {
		t.Fatalf("Exported after reopen = %+v, %t, %v", st, ok, err)
	}
	mustCheck(t, s, topicA)
}

func TestStoreRejectsUnknownSchema(t *testing.T) {
	dir := t.TempDir()
	db, err := pebble.Open(dir, &pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set(schemaKey, []byte{99}, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(dir); err == nil || !strings.Contains(err.Error(), "schema version") {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open of a store with schema 99: err = %v", err)
	}
}

func TestStoreAfterClose(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	calls := map[string]error{
		"Close":       s.Close(),
		"AppendTail":  s.AppendTail(topicA, nil, pos(1, 1)),
		"Prune":       s.Prune(topicA, pos(1, 1)),
		"PutSnapshot": s.PutSnapshot(topicA, "west", SnapshotMapping{}),
		"PutExported": s.PutExported(topicA, "sub", State{}),
	}
	_, calls["Topics"] = s.Topics()
	_, _, calls["LookupEntry"] = s.LookupEntry(topicA, pos(1, 1))
	_, calls["LocalPositions"] = s.LocalPositions(topicA, eid("east", 1, 1))
	_, calls["Stats"] = s.Stats()
	for name, err := range calls {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: err = %v, want ErrClosed", name, err)
		}
	}
}

func TestReadOnlyStore(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	mustAppendTail(t, s, topicA, pos(5, 9), mkRun(5, 0, "east", 9, 0, 10))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(dir, ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	assertRuns(t, ro, topicA, mkRun(5, 0, "east", 9, 0, 10))
	if err := ro.AppendTail(topicA, nil, pos(6, 0)); err == nil {
		t.Fatalf("AppendTail on a read-only store succeeded")
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	if s, err := Open(t.TempDir(), WithCacheSize(0)); err == nil {
		s.Close()
		t.Fatalf("cache size 0 accepted")
	}
}
