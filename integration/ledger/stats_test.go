package ledger

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"
)

// The scenario of Pulsar's documented internalStats example: 20 entries in
// ledger 13 and a subscription created at latest.
func TestInternalStatsMatchesPulsarExample(t *testing.T) {
	clk := &fakeClock{ms: 1624416527127}
	next := int64(12)
	ml := New("public/default/persistent/my-topic", Config{MaxEntriesPerLedger: 50000, Now: clk.now,
		NextLedgerID: func() int64 { next++; return next }})
	for range 20 {
		ml.Append(Entry{Data: make([]byte, 54)})
	}
	ml.OpenCursor("sub", ml.LatestMarkDelete(), CursorOptions{Durable: true})
	raw, err := json.Marshal(ml.InternalStats())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"entriesAddedCounter":        20.0,
		"numberOfEntries":            20.0,
		"totalSize":                  1080.0,
		"currentLedgerEntries":       20.0,
		"currentLedgerSize":          1080.0,
		"lastLedgerCreatedTimestamp": "2021-06-23T02:48:47.127Z",
		"waitingCursorsCount":        0.0,
		"pendingAddEntriesCount":     0.0,
		"lastConfirmedEntry":         "13:19",
		"state":                      "LedgerOpened",
		"ledgers": []any{map[string]any{
			"ledgerId": 13.0, "entries": 0.0, "size": 0.0, "offloaded": false, "underReplicated": false,
		}},
		"cursors": map[string]any{"sub": map[string]any{
			"markDeletePosition":          "13:19",
			"readPosition":                "13:20",
			"waitingReadOp":               false,
			"pendingReadOps":              0.0,
			"messagesConsumedCounter":     20.0,
			"cursorLedger":                -1.0,
			"cursorLedgerLastEntry":       -1.0,
			"individuallyDeletedMessages": "[]",
			"lastLedgerSwitchTimestamp":   "2021-06-23T02:48:47.127Z",
			"state":                       "NoLedger",
			"active":                      false,
			"numberOfEntriesSinceFirstNotAckedMessage": 1.0,
			"totalNonContiguousDeletedMessagesRange":   0.0,
			"subscriptionHavePendingRead":              false,
			"subscriptionHavePendingReplayRead":        false,
			"properties":                               map[string]any{},
		}},
		"schemaLedgers": []any{},
		"compactedLedger": map[string]any{
			"ledgerId": -1.0, "entries": -1.0, "size": -1.0, "offloaded": false, "underReplicated": false,
		},
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		g, _ := json.Marshal(got[k])
		w, _ := json.Marshal(want[k])
		if string(g) != string(w) {
			t.Errorf("%s = %s, want %s", k, g, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected field %q", k)
		}
	}

	// pulsaradmin decodes it.
	var admin utils.PersistentTopicInternalStats
	if err := json.Unmarshal(raw, &admin); err != nil {
		t.Fatal(err)
	}
	cs := admin.Cursors["sub"]
	if admin.LastConfirmedEntry != "13:19" || admin.EntriesAddedCounter != 20 || len(admin.Ledgers) != 1 ||
		cs.MarkDeletePosition != "13:19" || cs.IndividuallyDeletedMessages != "[]" || cs.MessagesConsumedCounter != 20 {
		t.Errorf("pulsaradmin view: %+v", admin)
	}
}

func TestFormatTimestamp(t *testing.T) {
	for ms, want := range map[int64]string{
		1624416527127: "2021-06-23T02:48:47.127Z",
		1624416527120: "2021-06-23T02:48:47.12Z",
		1624416527000: "2021-06-23T02:48:47Z",
		0:             "1970-01-01T00:00:00Z",
	} {
		if got := formatTimestamp(ms); got != want {
			t.Errorf("formatTimestamp(%d) = %s, want %s", ms, got, want)
		}
	}
}

func TestCursorStatsAfterAcks(t *testing.T) {
	ml, c := threeLedgers(t)
	reader, _ := ml.OpenCursor("reader", Earliest, CursorOptions{})
	c.ReadNext(3)
	c.Delete(pos(1, 0), pos(1, 2), pos(2, 1), pos(2, 2))
	st := c.Stats()
	if st.State != CursorStateOpen || st.CursorLedger <= 3 || st.CursorLedgerLastEntry != 1 {
		t.Errorf("after the first persisted ack: state %s cursorLedger %d lastEntry %d", st.State, st.CursorLedger, st.CursorLedgerLastEntry)
	}
	if st.MarkDeletePosition != "1:0" || st.ReadPosition != "1:3" || st.IndividuallyDeletedMessages != "[(1:1..1:2],(2:0..2:2]]" {
		t.Errorf("positions: %+v", st)
	}
	if st.TotalNonContiguousDeletedMessagesRange != 2 || st.MessagesConsumedCounter != 4 {
		t.Errorf("ranges %d consumed %d", st.TotalNonContiguousDeletedMessagesRange, st.MessagesConsumedCounter)
	}
	// (1:0, 1:3] counts 3 entries (Pulsar does not discount deleted ones).
	if st.NumberOfEntriesSinceFirstNotAckedMessage != 3 {
		t.Errorf("numberOfEntriesSinceFirstNotAckedMessage = %d, want 3", st.NumberOfEntriesSinceFirstNotAckedMessage)
	}
	_ = c.MarkDelete(pos(1, 1))
	if st2 := c.Stats(); st2.CursorLedger != st.CursorLedger || st2.CursorLedgerLastEntry != 2 || st2.MarkDeletePosition != "1:2" {
		t.Errorf("second persist: %+v", st2)
	}
	c.SetActive(true)
	c.SetWaitingReadOp(true)
	is := ml.InternalStats()
	if is.WaitingCursorsCount != 1 || !is.Cursors["sub"].Active || !is.Cursors["sub"].WaitingReadOp || !is.Cursors["sub"].SubscriptionHavePendingRead {
		t.Errorf("active/waiting not reflected: %+v", is.Cursors["sub"])
	}
	rs := is.Cursors["reader"]
	if rs.State != CursorStateOpen || rs.CursorLedger != -1 || rs.MarkDeletePosition != "1:-1" {
		t.Errorf("reader stats: %+v", rs)
	}
	_ = reader
}
