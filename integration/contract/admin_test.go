package contract

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/rest"
)

func restPath(topic string) string {
	return "/admin/v2/persistent/" + strings.TrimPrefix(topic, "persistent://")
}

func requireKeys(t *testing.T, what string, obj map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			t.Errorf("%s has no %q (keys: %v)", what, k, keysOf(obj))
		}
	}
}

func keysOf(obj map[string]any) []string {
	out := []string{}
	for k := range obj {
		out = append(out, k)
	}
	return sortedCopy(out)
}

// TestAdminInternalStatsFieldNames: internalStats uses Pulsar's JSON names
// (ManagedLedgerInternalStats, its LedgerInfo and CursorStats) and values.
// Pulsar's internalStats LedgerInfo has no "timestamp" (that is the
// internal-info endpoint's ledger record), so none is required here.
func TestAdminInternalStatsFieldNames(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "stats")
	cons := subscribe(t, c, pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s",
		Type: pulsar.Shared, AckWithResponse: true})
	payloads := numbered("m", 3)
	ids := sendPayloads(t, newProducer(t, c, topic), payloads...)
	msgs := inPayloadOrder(t, receiveN(t, cons, 3), payloads)
	ackIndexes(t, cons, msgs, 1)
	entries := entriesOf(ids)
	checkCursor(t, c, topic, "s", expectCursor(entries, ackedSet(entries, 1)))

	var raw map[string]any
	if err := c.rest.Get(restPath(topic)+"/internalStats", &raw); err != nil {
		t.Fatalf("GET internalStats: %v", err)
	}
	requireKeys(t, "internalStats", raw, "entriesAddedCounter", "numberOfEntries", "totalSize",
		"currentLedgerEntries", "currentLedgerSize", "lastConfirmedEntry", "state", "ledgers", "cursors")
	if raw["lastConfirmedEntry"] != entries[2].String() {
		t.Errorf("lastConfirmedEntry %v, want %s", raw["lastConfirmedEntry"], entries[2])
	}
	for _, k := range []string{"entriesAddedCounter", "numberOfEntries"} {
		if raw[k] != float64(3) {
			t.Errorf("%s = %v, want 3", k, raw[k])
		}
	}
	ledgers, ok := raw["ledgers"].([]any)
	if !ok || len(ledgers) == 0 {
		t.Fatalf("ledgers = %v, want a non-empty array", raw["ledgers"])
	}
	for _, l := range ledgers {
		lm, _ := l.(map[string]any)
		requireKeys(t, "ledger", lm, "ledgerId", "entries", "size", "offloaded")
	}
	cursors, _ := raw["cursors"].(map[string]any)
	cs, _ := cursors["s"].(map[string]any)
	requireKeys(t, "cursor s", cs, "markDeletePosition", "readPosition", "individuallyDeletedMessages",
		"messagesConsumedCounter", "numberOfEntriesSinceFirstNotAckedMessage",
		"totalNonContiguousDeletedMessagesRange", "state", "properties")
	if _, isString := cs["individuallyDeletedMessages"].(string); !isString {
		t.Errorf("individuallyDeletedMessages is %T, want a string", cs["individuallyDeletedMessages"])
	}
}

// TestAdminLastMessageID: lastMessageId is the topic's last entry.
func TestAdminLastMessageID(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "last")
	ids := sendPayloads(t, newProducer(t, c, topic), numbered("m", 4)...)
	got, err := c.admin.Topics().GetLastMessageID(topicName(t, topic))
	if err != nil {
		t.Fatalf("GetLastMessageID: %v", err)
	}
	if (pos{got.LedgerID, got.EntryID}) != posOf(ids[3]) {
		t.Errorf("lastMessageId %d:%d, want %v", got.LedgerID, got.EntryID, posOf(ids[3]))
	}
}

// TestAdminSubscriptionsList lists the topic's durable subscriptions.
func TestAdminSubscriptionsList(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "subs")
	for _, s := range []struct {
		name string
		typ  pulsar.SubscriptionType
	}{{"alpha", pulsar.Exclusive}, {"beta", pulsar.Shared}} {
		subscribe(t, c, pulsar.ConsumerOptions{Topic: topic, SubscriptionName: s.name, Type: s.typ})
	}
	got, err := c.admin.Subscriptions().List(topicName(t, topic))
	if err != nil {
		t.Fatalf("list subscriptions: %v", err)
	}
	if !equalStrings(sortedCopy(got), []string{"alpha", "beta"}) {
		t.Errorf("subscriptions %v, want [alpha beta]", got)
	}
}

// TestAdminMissingTopicIs404WithReason: a REST error carries {"reason": ...}
// (Pulsar's RestException), which pulsaradmin turns into rest.Error.Reason.
func TestAdminMissingTopicIs404WithReason(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "never-created")
	_, err := c.admin.Topics().GetInternalStats(topicName(t, topic))
	var re rest.Error
	if !errors.As(err, &re) || re.Code != http.StatusNotFound {
		t.Fatalf("internal stats of a missing topic: %v, want a 404", err)
	}
	if re.Reason == "" || strings.HasPrefix(re.Reason, "404") || strings.HasPrefix(re.Reason, "{") || strings.HasPrefix(re.Reason, "<") {
		t.Errorf("404 reason %q: want the text of a JSON {\"reason\": ...} body", re.Reason)
	}
}

// TestAdminUnknownPathIs404: an unknown admin path answers 404.
func TestAdminUnknownPathIs404(t *testing.T) {
	t.Parallel()
	c := env.main.a
	var out map[string]any
	err := c.rest.Get("/admin/v2/no-such-resource/at/all", &out)
	var re rest.Error
	if !errors.As(err, &re) || re.Code != http.StatusNotFound {
		t.Fatalf("GET an unknown path: %v, want a 404", err)
	}
}

// TestAdminUnknownPathReasonIsJSON: the emulator answers unknown paths with
// a JSON {"reason": ...} body. Pulsar leaves unmatched paths to Jetty's error
// page, so this is the emulator's own contract.
func TestAdminUnknownPathReasonIsJSON(t *testing.T) {
	t.Parallel()
	requireEmulator(t, "Pulsar serves Jetty's error page for unmatched paths")
	resp, err := http.Get(env.main.a.webURL + "/admin/v2/no-such-resource/at/all")
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	var body struct {
		Reason string `json:"reason"`
	}
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d, want 404", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Reason == "" {
		t.Errorf("body is not {\"reason\": ...}: %+v, %v", body, err)
	}
}
