package contract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/rest"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"
)

// Contract tests for the facts subsync relies on that pulsar-facts.md lists
// under "Corrections and additions".

// lastPos is the topic's last confirmed entry on c.
func lastPos(t *testing.T, c *cluster, topic string) pos {
	t.Helper()
	st := mustInternalStats(t, c, topic)
	p, err := parsePos(st.LastConfirmedEntry)
	if err != nil {
		t.Fatalf("lastConfirmedEntry of %s on %s: %v", topic, c.name, err)
	}
	return p
}

// TestLedgerIDsOverlapBetweenClusters: every cluster's BookKeeper hands out
// its own ledger ids from low numbers, so the same ledger:entry names
// different data on two clusters. Each side writes to a local topic one
// message at a time, the one behind catching up, until both hold an entry
// at the same position. Not parallel: other tests allocating ledgers
// meanwhile could make a side skip the other's position every time.
func TestLedgerIDsOverlapBetweenClusters(t *testing.T) {
	a, b := env.main.a, env.main.b
	// Local to each cluster: no copies, each side's own ledgers only.
	ns := env.main.namespace(t, false)
	if err := b.admin.Namespaces().CreateNamespace(ns); err != nil {
		t.Fatalf("create namespace %s on %s: %v", ns, b.name, err)
	}
	if err := b.admin.Namespaces().SetNamespaceReplicationClusters(ns, []string{b.name}); err != nil {
		t.Fatalf("set replication clusters of %s on %s: %v", ns, b.name, err)
	}
	topic := topicIn(ns, "overlap")
	prods := map[*cluster]pulsar.Producer{a: newProducer(t, a, topic), b: newProducer(t, b, topic)}
	held := map[*cluster]map[pos]string{a: {}, b: {}}
	last := map[*cluster]pos{}
	write := func(c *cluster) {
		pl := fmt.Sprintf("%s-%d", c.name, len(held[c]))
		p := posOf(send(t, prods[c], &pulsar.ProducerMessage{Payload: []byte(pl)}))
		held[c][p] = pl
		last[c] = p
	}
	holdEntries(t, a, topic)
	holdEntries(t, b, topic)
	write(a)
	write(b)
	// Ledgers of 10 entries on both the bed and the emulator: a few hundred
	// writes cover a gap of dozens of ledger ids.
	const maxWrites = 1500
	for n := 0; last[a] != last[b]; n++ {
		if n == maxWrites {
			t.Fatalf("no common position after %d writes: %s at %v, %s at %v", maxWrites, a.name, last[a], b.name, last[b])
		}
		if last[a].less(last[b]) {
			write(a)
		} else {
			write(b)
		}
	}
	same := last[a]
	t.Logf("%s and %s both hold entry %v (%q and %q)", a.name, b.name, same, held[a][same], held[b][same])
	for _, c := range []*cluster{a, b} {
		got, err := c.admin.Subscriptions().GetMessagesByID(topicName(t, topic), same.L, same.E)
		if err != nil {
			t.Fatalf("get message %v on %s: %v", same, c.name, err)
		}
		if len(got) != 1 || string(got[0].Payload) != held[c][same] {
			t.Errorf("entry %v on %s holds %v, want %q", same, c.name, got, held[c][same])
		}
	}
}

// entryHeaders fetches GET .../ledger/{l}/entry/{e} on c and returns the
// response headers and body.
func entryHeaders(t *testing.T, c *cluster, topic string, p pos) (http.Header, []byte) {
	t.Helper()
	url := fmt.Sprintf("%s%s/ledger/%d/entry/%d", c.webURL, restPath(topic), p.L, p.E)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, %v: %s", url, resp.StatusCode, err, body)
	}
	return resp.Header, body
}

// entryProperty reads one entry-level property from the admin headers:
// Pulsar 3.1+ (PIP-279) sends them all as one JSON object in
// X-Pulsar-PROPERTY, 3.0.x one X-Pulsar-PROPERTY-<key> header each (which
// Go canonicalises, hence the case-insensitive match).
func entryProperty(t *testing.T, h http.Header, key string) (string, bool) {
	t.Helper()
	if raw := h.Get("X-Pulsar-PROPERTY"); raw != "" {
		props := map[string]string{}
		if err := json.Unmarshal([]byte(raw), &props); err != nil {
			t.Fatalf("X-Pulsar-PROPERTY %q is not a JSON object of strings: %v", raw, err)
		}
		v, ok := props[key]
		return v, ok
	}
	for name, vs := range h {
		if strings.EqualFold(name, "X-Pulsar-PROPERTY-"+key) && len(vs) > 0 {
			return vs[0], true
		}
	}
	return "", false
}

// sendPropertiesBatch sends one batch from a batching producer on c, message
// i carrying props(i), and returns the batch's entry.
func sendPropertiesBatch(t *testing.T, c *cluster, topic string, payloads []string, props func(i int) map[string]string) pos {
	t.Helper()
	prod := newBatchingProducer(t, c, topic, len(payloads))
	ids := make([]pulsar.MessageID, len(payloads))
	done := make(chan error, len(payloads))
	for i, pl := range payloads {
		prod.SendAsync(t.Context(), &pulsar.ProducerMessage{Payload: []byte(pl), Properties: props(i)},
			func(id pulsar.MessageID, _ *pulsar.ProducerMessage, err error) {
				ids[i] = id
				done <- err
			})
	}
	if err := prod.FlushWithCtx(context.Background()); err != nil {
		t.Fatalf("flush: %v", err)
	}
	for range payloads {
		if err := <-done; err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	src := entriesOf(ids)
	if len(src) != 1 {
		t.Fatalf("batch is %v, want one entry", src)
	}
	return src[0]
}

// checkHeaderStamp checks the entry-level stamp in the admin headers of the
// copy at dst: the source position, or none from a broker without it.
func checkHeaderStamp(t *testing.T, c *cluster, topic string, dst, src pos, members int) {
	t.Helper()
	h, body := entryHeaders(t, c, topic, dst)
	if got := h.Get("X-Pulsar-num-batch-message"); got != strconv.Itoa(members) {
		t.Errorf("X-Pulsar-num-batch-message %q, want %d", got, members)
	}
	if len(body) == 0 {
		t.Error("empty body: want the raw batch")
	}
	stamp, ok := entryProperty(t, h, stampProperty)
	switch {
	case stampExpected() && (!ok || stamp != src.String()):
		t.Errorf("entry-level %s in the admin headers = %q (present %v), want %s (the source entry); headers %v", stampProperty, stamp, ok, src, h)
	case !stampExpected() && ok:
		t.Errorf("a broker without the stamp put %s=%q in the headers", stampProperty, stamp)
	}
}

// TestBatchedCopyStampOnlyInAdminHeaders: the replicator stamps the entry's
// metadata; a consumer of a batched copy sees only each message's own
// properties, so the stamp is readable only from the admin get-message
// headers (X-Pulsar-PROPERTY, one JSON object, on 3.1+).
func TestBatchedCopyStampOnlyInAdminHeaders(t *testing.T) {
	t.Parallel()
	a, b := env.main.a, env.main.b
	topic := topicIn(env.main.namespace(t, true), "batch-stamp")
	payloads := numbered("b", 3)
	src := sendPropertiesBatch(t, a, topic, payloads, func(i int) map[string]string { return map[string]string{"n": strconv.Itoa(i)} })
	copies := readExactly(t, b, topic, len(payloads))
	for i, m := range copies {
		if got := m.Properties(); len(got) != 1 || got["n"] != strconv.Itoa(i) {
			t.Errorf("copy %d through the consumer: properties %v, want only n=%d", i, got, i)
		}
	}
	checkHeaderStamp(t, b, topic, posOf(copies[0].ID()), src, len(payloads))
}

// TestApplicationPropertyNamedLikeTheStamp: pulsar-client-go copies the
// first message's properties of a batch into the entry's metadata, where
// the replicator appends its own stamp; the admin header shows the
// broker's value (the later key wins), the consumer each message's own,
// and pulsaradmin, which merges the members' properties over the entry's,
// the application's.
//
// And the copy is then sent again and again: the replicator's producer
// (GeoReplicationProducerImpl#ackReceivedReplicatedMsg) reads the first
// key, finds no position, closes its connection and re-sends, and the
// remote stores every send (4.0.7: 35 copies in 4 s). The test deletes the
// source topic to stop it.
func TestApplicationPropertyNamedLikeTheStamp(t *testing.T) {
	t.Parallel()
	a, b := env.main.a, env.main.b
	topic := topicIn(env.main.namespace(t, true), "app-stamp")
	t.Cleanup(func() {
		if err := a.admin.Topics().Delete(topicName(t, topic), true, true); err != nil {
			t.Logf("delete %s on %s: %v", topic, a.name, err)
		}
	})
	holdEntries(t, b, topic)
	const appValue = "set-by-the-application"
	payloads := numbered("b", 3)
	src := sendPropertiesBatch(t, a, topic, payloads, func(i int) map[string]string {
		return map[string]string{stampProperty: appValue, "n": strconv.Itoa(i)}
	})
	r := newReader(t, b, pulsar.ReaderOptions{Topic: topic, StartMessageID: pulsar.EarliestMessageID()})
	copies := nextN(t, r, len(payloads))
	for i, m := range copies {
		if got := m.Properties()[stampProperty]; got != appValue || m.Properties()["n"] != strconv.Itoa(i) {
			t.Errorf("copy %d through the consumer: properties %v, want its own (%s=%q, n=%d)", i, m.Properties(), stampProperty, appValue, i)
		}
	}
	dst := posOf(copies[0].ID())
	checkHeaderStamp(t, b, topic, dst, src, len(payloads))
	viaAdmin, err := b.admin.Subscriptions().GetMessagesByID(topicName(t, topic), dst.L, dst.E)
	if err != nil {
		t.Fatalf("get message %v by id on %s: %v", dst, b.name, err)
	}
	for i, m := range viaAdmin {
		if got := foldedProperty(m.Properties, stampProperty); got != appValue {
			t.Errorf("pulsaradmin message %d: %s = %q; want the application's %q (members overwrite the entry's)", i, stampProperty, got, appValue)
		}
	}
	if !stampExpected() {
		return // no stamp, no receipt check, no loop
	}
	eventually(t, waitTimeout, func() error {
		if n := mustInternalStats(t, b, topic).EntriesAddedCounter; n < 3 {
			return fmt.Errorf("%s added %d copies of the one batch; want it re-sent again and again", b.name, n)
		}
		return nil
	})
	if again := nextN(t, r, len(payloads)); posOf(again[0].ID()) == dst || string(again[0].Payload()) != payloads[0] {
		t.Errorf("second copy at %v with %q; want another entry holding the same batch", posOf(again[0].ID()), again[0].Payload())
	}
}

// TestAckPastLastEntryGetsReceiptButIsDropped: the broker answers an ack
// receipt once the ack is queued, even when the cursor then rejects a
// position beyond the last entry; only internalStats tells.
func TestAckPastLastEntryGetsReceiptButIsDropped(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "ack-past-end")
	cons := subscribe(t, c, pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s", Type: pulsar.Shared,
		AckWithResponse: true})
	ids := sendPayloads(t, newProducer(t, c, topic), numbered("m", 3)...)
	receiveN(t, cons, 3)
	entries := entriesOf(ids)
	lac := lastPos(t, c, topic)
	beyond := pos{lac.L, lac.E + 5}
	if err := cons.AckID(pulsar.NewMessageID(beyond.L, beyond.E, -1, 0)); err != nil {
		t.Fatalf("ack of %v past the last entry %v: %v, want a success receipt", beyond, lac, err)
	}
	// A real ack of m-0 afterwards shows the earlier one was processed.
	if err := cons.AckID(ids[0]); err != nil {
		t.Fatalf("ack m-0: %v", err)
	}
	checkCursor(t, c, topic, "s", expectCursor(entries, ackedSet(entries, 0)))
	consistently(t, quietPeriod, func() error {
		cs, err := cursorStats(t, c, topic, "s")
		if err != nil {
			return err
		}
		if cs.MarkDeletePosition != entries[0].String() || cs.IndividuallyDeletedMessages != "[]" {
			return fmt.Errorf("cursor at %s %s after an ack past the end; want %s []", cs.MarkDeletePosition, cs.IndividuallyDeletedMessages, entries[0])
		}
		return nil
	})
}

// TestSharedConsumerLocksTheSubscriptionType: while a Shared consumer is
// attached, a consumer of any other type is refused; once it leaves, the
// subscription takes the new type.
func TestSharedConsumerLocksTheSubscriptionType(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "type-lock")
	shared := subscribe(t, c, pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s", Type: pulsar.Shared})
	for _, typ := range []pulsar.SubscriptionType{pulsar.Exclusive, pulsar.Failover, pulsar.KeyShared} {
		other, err := c.client.Subscribe(pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s", Type: typ})
		if err == nil {
			other.Close()
			t.Errorf("a %v consumer joined while a Shared one was attached", typ)
		}
	}
	shared.Close()
	subscribe(t, c, pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s", Type: pulsar.Exclusive})
}

// TestResetCursorOnPartitionedParentIs405: reset cursor to a position is
// refused on a partitioned topic (which partition's position?) and works on
// each partition.
func TestResetCursorOnPartitionedParentIs405(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "reset-parted")
	tn := topicName(t, topic)
	if err := c.admin.Topics().Create(tn, 2); err != nil {
		t.Fatalf("create partitioned topic: %v", err)
	}
	if err := c.admin.Subscriptions().Create(tn, "s", utils.Earliest); err != nil {
		t.Fatalf("create subscription: %v", err)
	}
	part := topic + "-partition-0"
	ids := sendPayloads(t, newProducer(t, c, part), numbered("m", 3)...)
	at := utils.MessageID{LedgerID: ids[1].LedgerID(), EntryID: ids[1].EntryID(), PartitionIndex: -1}
	err := c.admin.Subscriptions().ResetCursorToMessageID(tn, "s", at)
	var re rest.Error
	if !errors.As(err, &re) || re.Code != http.StatusMethodNotAllowed {
		t.Fatalf("reset cursor on the partitioned parent: %v, want a 405", err)
	}
	if err := c.admin.Subscriptions().ResetCursorToMessageID(topicName(t, part), "s", at); err != nil {
		t.Fatalf("reset cursor on %s: %v", part, err)
	}
	entries := entriesOf(ids)
	checkCursor(t, c, part, "s", expectCursor(entries, ackedSet(entries, 0)))
}

// TestCreateExistingSubscriptionIs409: creating a subscription that exists
// fails with 409 and leaves it where it was.
func TestCreateExistingSubscriptionIs409(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "create-twice")
	tn := topicName(t, topic)
	ids := sendPayloads(t, newProducer(t, c, topic), numbered("m", 3)...)
	if err := c.admin.Subscriptions().Create(tn, "s", utils.Latest); err != nil {
		t.Fatalf("create subscription: %v", err)
	}
	err := c.admin.Subscriptions().Create(tn, "s", utils.Earliest)
	var re rest.Error
	if !errors.As(err, &re) || re.Code != http.StatusConflict {
		t.Fatalf("create an existing subscription: %v, want a 409", err)
	}
	entries := entriesOf(ids)
	checkCursor(t, c, topic, "s", expectCursor(entries, ackedSet(entries, 0, 1, 2)))
}

// TestReplicatorCursorsAreInInternalStats: each side's geo-replicator reads
// with a durable cursor pulsar.repl.<remote>, listed in internalStats but
// not among the subscriptions.
func TestReplicatorCursorsAreInInternalStats(t *testing.T) {
	t.Parallel()
	a, b := env.main.a, env.main.b
	topic := topicIn(env.main.namespace(t, true), "repl-cursor")
	sendPayloads(t, newProducer(t, a, topic), "m-0")
	readExactly(t, b, topic, 1)
	for _, pr := range [][2]*cluster{{a, b}, {b, a}} {
		c, remote := pr[0], pr[1]
		waitReplicatorCaughtUp(t, c, topic, remote.name)
		cs, err := cursorStats(t, c, topic, replicatorCursorPrefix+remote.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parsePos(cs.MarkDeletePosition); err != nil {
			t.Errorf("replicator cursor on %s: %v", c.name, err)
		}
		subs, err := c.admin.Subscriptions().List(topicName(t, topic))
		if err != nil {
			t.Fatalf("list subscriptions on %s: %v", c.name, err)
		}
		for _, s := range subs {
			if strings.HasPrefix(s, replicatorCursorPrefix) {
				t.Errorf("%s lists the system cursor %s as a subscription", c.name, s)
			}
		}
	}
}

// TestConsumedLedgersAreTrimmedWithoutRetention: with no durable
// subscription and the default zero retention, closed ledgers go (the
// latest closed one at once or at the next trigger, depending on a race in
// the broker), so a reader from earliest misses the first ledgers; a
// durable subscription made before the writes keeps them.
func TestConsumedLedgersAreTrimmedWithoutRetention(t *testing.T) {
	t.Parallel()
	c := env.main.a
	ns := env.main.namespace(t, false)
	bare, held := topicIn(ns, "bare"), topicIn(ns, "held")
	holdEntries(t, c, held)
	const n = 3 * emulatedLedgerMaxEntries
	payloads := numbered("m", n)
	bareIDs := sendPayloads(t, newProducer(t, c, bare), payloads...)
	sendPayloads(t, newProducer(t, c, held), payloads...)
	first, second := bareIDs[0].LedgerID(), bareIDs[emulatedLedgerMaxEntries].LedgerID()
	if first == second {
		t.Fatalf("%d entries stayed in ledger %d: the broker does not roll ledgers every %d entries", n, first, emulatedLedgerMaxEntries)
	}
	eventually(t, waitTimeout, func() error {
		st := mustInternalStats(t, c, bare)
		for _, l := range st.Ledgers {
			if l.LedgerID == first || l.LedgerID == second {
				return fmt.Errorf("ledger %d still listed (ledgers %+v)", l.LedgerID, st.Ledgers)
			}
		}
		if st.NumberOfEntries > emulatedLedgerMaxEntries {
			return fmt.Errorf("numberOfEntries %d, want at most %d", st.NumberOfEntries, emulatedLedgerMaxEntries)
		}
		return nil
	})
	// HasNext is no guide here: the last message id may name an entry of a
	// deleted ledger. Read until nothing comes.
	r := newReader(t, c, pulsar.ReaderOptions{Topic: bare, StartMessageID: pulsar.EarliestMessageID()})
	for {
		ctx, cancel := context.WithTimeout(t.Context(), quietPeriod)
		m, err := r.Next(ctx)
		cancel()
		if err != nil {
			break
		}
		if i, _ := strconv.Atoi(strings.TrimPrefix(string(m.Payload()), "m-")); i < 2*emulatedLedgerMaxEntries {
			t.Errorf("reader from earliest read %q from a trimmed ledger", m.Payload())
		}
	}
	if got := payloadsOf(readExactly(t, c, held, n)); !equalStrings(got, payloads) {
		t.Errorf("held topic read %v, want %v", got, payloads)
	}

	// A namespace retention policy keeps them without any subscription.
	kept := env.main.namespace(t, false)
	if err := c.admin.Namespaces().SetRetention(kept, utils.RetentionPolicies{RetentionTimeInMinutes: -1, RetentionSizeInMB: -1}); err != nil {
		t.Fatalf("set retention of %s: %v", kept, err)
	}
	retained := topicIn(kept, "retained")
	sendPayloads(t, newProducer(t, c, retained), payloads...)
	if got := payloadsOf(readExactly(t, c, retained, n)); !equalStrings(got, payloads) {
		t.Errorf("topic under unlimited retention read %v, want %v", got, payloads)
	}
}
