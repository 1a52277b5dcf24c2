package cursor

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"

	"github.com/subsync/subsync/ackset"
)

// fakeAdmin serves canned admin answers and records what it is asked to do.
type fakeAdmin struct {
	stats       utils.TopicStats
	internal    utils.PersistentTopicInternalStats
	statsErr    error
	internalErr error
	resetErr    error
	resets      []ackset.Position
	deleted     []string
}

func (f *fakeAdmin) DeleteSubscription(_ context.Context, _, sub string) error {
	f.deleted = append(f.deleted, sub)
	return nil
}

func (f *fakeAdmin) InternalStats(context.Context, string) (utils.PersistentTopicInternalStats, error) {
	return f.internal, f.internalErr
}

func (f *fakeAdmin) Stats(context.Context, string) (utils.TopicStats, error) {
	return f.stats, f.statsErr
}

func (f *fakeAdmin) ResetCursor(_ context.Context, _, _ string, p ackset.Position) error {
	f.resets = append(f.resets, p)
	return f.resetErr
}

func goodAdmin() *fakeAdmin {
	return &fakeAdmin{
		stats: utils.TopicStats{Subscriptions: map[string]utils.SubscriptionStats{
			"app":      {SubType: "Shared", IsDurable: true, IsReplicated: true, Consumers: make([]utils.ConsumerStats, 2)},
			"idle":     {SubType: "None", IsDurable: true},
			"reader-1": {SubType: "Exclusive", IsDurable: false, Consumers: make([]utils.ConsumerStats, 1)},
			"gone":     {SubType: "Exclusive", IsDurable: true},
		}},
		internal: utils.PersistentTopicInternalStats{
			LastConfirmedEntry: "12:4",
			Ledgers:            []utils.LedgerInfo{{LedgerID: 10, Entries: 50}, {LedgerID: 12}},
			Cursors: map[string]utils.CursorStats{
				"app":               {MarkDeletePosition: "10:7", IndividuallyDeletedMessages: "[(10:8..10:9],(12:-1..12:2]]"},
				"idle":              {MarkDeletePosition: "10:-1", IndividuallyDeletedMessages: "[]"},
				"reader-1":          {MarkDeletePosition: "12:0", IndividuallyDeletedMessages: "[]"},
				"pulsar.repl.west":  {MarkDeletePosition: "12:4", IndividuallyDeletedMessages: "[]"},
				"created-meanwhile": {MarkDeletePosition: "12:4", IndividuallyDeletedMessages: "[]"},
			},
		},
	}
}

func TestReadTopic(t *testing.T) {
	got, err := ReadTopic(context.Background(), goodAdmin(), "persistent://public/default/t")
	if err != nil {
		t.Fatal(err)
	}
	want := TopicState{
		Topic:         "persistent://public/default/t",
		LastConfirmed: pos(12, 4),
		Ledgers:       []Ledger{{ID: 10, Entries: 50}, {ID: 12}},
		Subscriptions: map[string]SubState{
			"app": {MarkDelete: pos(10, 7), Deleted: []ackset.Range{ents(10, 9, 9), ents(12, 0, 2)},
				Type: "Shared", Consumers: 2, Replicated: true, ConsumerNames: []string{"", ""}},
			"idle": {MarkDelete: pos(10, -1), Deleted: []ackset.Range{}, Type: ""},
		},
		// The geo-replicator's cursor is kept apart, by remote cluster.
		Replicators: map[string]SubState{"west": {MarkDelete: pos(12, 4), Deleted: []ackset.Range{}}},
	}
	normalizeEmpty(&got)
	normalizeEmpty(&want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ReadTopic:\n got %+v\nwant %+v", got, want)
	}
}

// normalizeEmpty makes nil and empty IDM slices compare equal.
func normalizeEmpty(t *TopicState) {
	for _, m := range []map[string]SubState{t.Subscriptions, t.Replicators} {
		for k, s := range m {
			if len(s.Deleted) == 0 {
				s.Deleted = nil
			}
			m[k] = s
		}
	}
}

func TestReadTopicErrors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name   string
		mutate func(*fakeAdmin)
		want   []string
	}{
		{"stats error", func(f *fakeAdmin) { f.statsErr = boom }, []string{"topic T", "stats", "boom"}},
		{"internal stats error", func(f *fakeAdmin) { f.internalErr = boom }, []string{"topic T", "internal stats", "boom"}},
		{"bad LAC", func(f *fakeAdmin) { f.internal.LastConfirmedEntry = "12-4" }, []string{"topic T", "lastConfirmedEntry", `"12-4"`}},
		{"empty LAC", func(f *fakeAdmin) { f.internal.LastConfirmedEntry = "" }, []string{"topic T", "lastConfirmedEntry", `""`}},
		{"bad mark-delete", func(f *fakeAdmin) {
			c := f.internal.Cursors["app"]
			c.MarkDeletePosition = "10:x"
			f.internal.Cursors["app"] = c
		}, []string{"topic T", `subscription "app"`, "markDeletePosition", `"10:x"`}},
		{"bad IDM", func(f *fakeAdmin) {
			c := f.internal.Cursors["idle"]
			c.IndividuallyDeletedMessages = "[(10:8..10:3]]"
			f.internal.Cursors["idle"] = c
		}, []string{"topic T", `subscription "idle"`, "individuallyDeletedMessages", `"[(10:8..10:3]]"`}},
		{"IDM missing", func(f *fakeAdmin) {
			c := f.internal.Cursors["idle"]
			c.IndividuallyDeletedMessages = ""
			f.internal.Cursors["idle"] = c
		}, []string{`subscription "idle"`, "individuallyDeletedMessages"}},
		{"ledgers out of order", func(f *fakeAdmin) {
			f.internal.Ledgers = []utils.LedgerInfo{{LedgerID: 12}, {LedgerID: 10}}
		}, []string{"topic T", "ledgers[1]", "ascending"}},
		{"negative ledger size", func(f *fakeAdmin) {
			f.internal.Ledgers = []utils.LedgerInfo{{LedgerID: 10, Entries: -3}, {LedgerID: 12}}
		}, []string{"topic T", "ledger 10", "entries -3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := goodAdmin()
			tc.mutate(f)
			_, err := ReadTopic(context.Background(), f, "T")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	f := goodAdmin()
	f.statsErr = boom
	if _, err := ReadTopic(context.Background(), f, "T"); !errors.Is(err, boom) {
		t.Errorf("error %v does not wrap the admin error", err)
	}
}

func TestReadTopicClipsHugeInputInErrors(t *testing.T) {
	f := goodAdmin()
	c := f.internal.Cursors["app"]
	c.IndividuallyDeletedMessages = "[" + strings.Repeat("(1:1..1:2],", 10000)
	f.internal.Cursors["app"] = c
	_, err := ReadTopic(context.Background(), f, "T")
	if err == nil || len(err.Error()) > 1000 {
		t.Fatalf("want a short error, got %d bytes: %.200v", len(err.Error()), err)
	}
}

// FuzzTopicState feeds arbitrary admin JSON through the parsing of
// ReadTopic and plans on whatever it accepts: nothing may panic, and an
// accepted state must be internally consistent.
func FuzzTopicState(f *testing.F) {
	seed := goodAdmin()
	in, _ := json.Marshal(seed.internal)
	st, _ := json.Marshal(seed.stats)
	f.Add(in, st)
	f.Add([]byte(`{"lastConfirmedEntry":"3:-1","ledgers":[{"ledgerId":3}],"cursors":{"s":{"markDeletePosition":"3:-1","individuallyDeletedMessages":"[]"}}}`), []byte(`{}`))
	f.Add([]byte(`{"lastConfirmedEntry":"3:9","cursors":{"s":{"markDeletePosition":"2:5","individuallyDeletedMessages":"[(1687807:6060..1687807:6998], (3:49999..4:10]]"}}}`),
		[]byte(`{"subscriptions":{"s":{"type":"Failover","isDurable":true,"consumers":[{}]}}}`))
	f.Add([]byte(`{"lastConfirmedEntry":"9223372036854775807:9223372036854775807","cursors":{"s":{"markDeletePosition":"-1:-1","individuallyDeletedMessages":"[(0:-1..9223372036854775807:9223372036854775807]]"}}}`), []byte(`null`))
	f.Fuzz(func(t *testing.T, internalJSON, statsJSON []byte) {
		var internal utils.PersistentTopicInternalStats
		var stats utils.TopicStats
		if json.Unmarshal(internalJSON, &internal) != nil || json.Unmarshal(statsJSON, &stats) != nil {
			return
		}
		ts, err := topicState("T", stats, internal)
		if err != nil {
			if !strings.Contains(err.Error(), "topic T") {
				t.Fatalf("error %q does not name the topic", err)
			}
			return
		}
		for name, s := range ts.Subscriptions {
			if strings.HasPrefix(name, replCursorPrefix) {
				t.Fatalf("replicator cursor %q reported", name)
			}
			for i := 1; i < len(s.Deleted); i++ {
				if !s.Deleted[i-1].To.Less(s.Deleted[i].From) && s.Deleted[i-1].To != s.Deleted[i].From {
					t.Fatalf("IDM ranges unsorted: %v", s.Deleted)
				}
			}
			want := append([]ackset.Range{ents(ts.LastConfirmed.Ledger, 0, 3)}, s.Deleted...)
			p := PlanApply(ts, name, want, PlanOptions{ResetThreshold: 0})
			for _, r := range p.Acks {
				if ts.LastConfirmed.Less(r.To) {
					t.Fatalf("plan acks %s beyond LAC %s", r, ts.LastConfirmed)
				}
			}
			_ = p.String()
		}
	})
}

// countingAdmin counts stats calls.
type countingAdmin struct {
	Admin
	stats int
}

func (c *countingAdmin) Stats(ctx context.Context, topic string) (utils.TopicStats, error) {
	c.stats++
	return c.Admin.Stats(ctx, topic)
}

func TestReadTopicCachedRefreshesStatsWhenOldOrIncomplete(t *testing.T) {
	consistent := goodAdmin()
	// goodAdmin has a cursor created between its two answers; here the
	// stats know every cursor, so only age triggers a refresh.
	delete(consistent.internal.Cursors, "created-meanwhile")
	adm := &countingAdmin{Admin: consistent}
	cache := &StatsCache{MaxAge: 10 * time.Second}
	now := time.Unix(1000, 0)
	first, err := ReadTopicCached(context.Background(), adm, "persistent://public/default/t", cache, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTopicCached(context.Background(), adm, "persistent://public/default/t", cache, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if adm.stats != 1 {
		t.Fatalf("stats called %d times within MaxAge, want 1", adm.stats)
	}
	if _, err := ReadTopicCached(context.Background(), adm, "persistent://public/default/t", cache, now.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if adm.stats != 2 {
		t.Fatalf("stats called %d times after MaxAge, want 2", adm.stats)
	}
	want, _ := ReadTopic(context.Background(), consistent, "persistent://public/default/t")
	normalizeEmpty(&first)
	normalizeEmpty(&want)
	if !reflect.DeepEqual(first, want) {
		t.Fatalf("cached read differs:\n got %+v\nwant %+v", first, want)
	}
	// A cursor the cached stats do not know forces a refresh at once.
	cache.stats.Subscriptions = map[string]utils.SubscriptionStats{}
	if _, err := ReadTopicCached(context.Background(), adm, "persistent://public/default/t", cache, now.Add(11*time.Second)); err != nil {
		t.Fatal(err)
	}
	if adm.stats != 3 {
		t.Fatalf("stats called %d times with an unknown cursor, want 3", adm.stats)
	}
}
