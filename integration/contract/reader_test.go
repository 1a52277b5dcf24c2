package contract

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
)

// TestReaderStartPositions: earliest reads everything, latest only what comes
// after, and a start id is exclusive unless StartMessageIDInclusive.
func TestReaderStartPositions(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "reader-start")
	holdEntries(t, c, topic)
	prod := newProducer(t, c, topic)
	payloads := numbered("m", 11)
	ids := sendPayloads(t, prod, payloads[:10]...)

	earliest := newReader(t, c, pulsar.ReaderOptions{Topic: topic, StartMessageID: pulsar.EarliestMessageID()})
	if got := payloadsOf(nextN(t, earliest, 10)); !equalStrings(got, payloads[:10]) {
		t.Errorf("earliest reader got %v, want %v", got, payloads[:10])
	}
	latest := newReader(t, c, pulsar.ReaderOptions{Topic: topic, StartMessageID: pulsar.LatestMessageID()})
	if latest.HasNext() {
		t.Error("latest reader HasNext before anything new was written")
	}
	exclusive := newReader(t, c, pulsar.ReaderOptions{Topic: topic, StartMessageID: ids[3]})
	inclusive := newReader(t, c, pulsar.ReaderOptions{Topic: topic, StartMessageID: ids[3], StartMessageIDInclusive: true})

	sendPayloads(t, prod, payloads[10])
	if got := payloadsOf(nextN(t, latest, 1)); got[0] != payloads[10] {
		t.Errorf("latest reader got %v, want %s", got, payloads[10])
	}
	expectNoNext(t, latest)
	if got := payloadsOf(nextN(t, exclusive, 7)); !equalStrings(got, payloads[4:]) {
		t.Errorf("reader starting after m-3 got %v, want %v", got, payloads[4:])
	}
	if got := payloadsOf(nextN(t, inclusive, 8)); !equalStrings(got, payloads[3:]) {
		t.Errorf("inclusive reader at m-3 got %v, want %v", got, payloads[3:])
	}
}

// TestReaderHasNextOnEmptyTopic: HasNext is false on a topic with no entries
// (GET_LAST_MESSAGE_ID answers entry -1), true once there is one, false after
// reading it.
func TestReaderHasNextOnEmptyTopic(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "empty")
	r := newReader(t, c, pulsar.ReaderOptions{Topic: topic, StartMessageID: pulsar.EarliestMessageID()})
	if r.HasNext() {
		t.Fatal("HasNext on an empty topic")
	}
	sendPayloads(t, newProducer(t, c, topic), "only")
	eventually(t, waitTimeout, func() error {
		if !r.HasNext() {
			return fmt.Errorf("HasNext still false after a write")
		}
		return nil
	})
	if got := payloadsOf(nextN(t, r, 1)); got[0] != "only" {
		t.Errorf("read %v, want only", got)
	}
	if r.HasNext() {
		t.Error("HasNext after reading the only message")
	}
}

// TestReaderSeekByMessageID: after Seek(id) an inclusive reader reads id
// first; a non-inclusive one reads the message after it.
func TestReaderSeekByMessageID(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "seek-id")
	holdEntries(t, c, topic)
	payloads := numbered("m", 10)
	ids := sendPayloads(t, newProducer(t, c, topic), payloads...)
	for _, inclusive := range []bool{true, false} {
		r := newReader(t, c, pulsar.ReaderOptions{Topic: topic, StartMessageID: pulsar.EarliestMessageID(),
			StartMessageIDInclusive: inclusive})
		nextN(t, r, 10)
		if err := r.Seek(ids[5]); err != nil {
			t.Fatalf("seek to m-5: %v", err)
		}
		from := 6
		if inclusive {
			from = 5
		}
		if got := payloadsOf(nextN(t, r, 10-from)); !equalStrings(got, payloads[from:]) {
			t.Errorf("inclusive=%v: after seeking to m-5 read %v, want %v", inclusive, got, payloads[from:])
		}
		expectNoNext(t, r)
	}
}

// TestReaderSeekByTime: SeekByTime(ts) resumes at the first message published
// after ts (PersistentMessageFinder finds the newest entry at or before ts).
func TestReaderSeekByTime(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "seek-time")
	holdEntries(t, c, topic)
	prod := newProducer(t, c, topic)
	payloads := numbered("m", 10)
	sendPayloads(t, prod, payloads[:5]...)
	time.Sleep(50 * time.Millisecond) // publish times are client clock milliseconds; make a clear gap
	sendPayloads(t, prod, payloads[5:]...)

	r := newReader(t, c, pulsar.ReaderOptions{Topic: topic, StartMessageID: pulsar.EarliestMessageID()})
	msgs := nextN(t, r, 10)
	gapStart, gapEnd := msgs[4].PublishTime(), msgs[5].PublishTime()
	if !gapEnd.After(gapStart.Add(2 * time.Millisecond)) {
		t.Fatalf("publish times %v and %v leave no gap", gapStart, gapEnd)
	}
	if err := r.SeekByTime(gapStart.Add(time.Millisecond)); err != nil {
		t.Fatalf("seek by time: %v", err)
	}
	if got := payloadsOf(nextN(t, r, 5)); !equalStrings(got, payloads[5:]) {
		t.Errorf("after seeking into the gap read %v, want %v", got, payloads[5:])
	}
	if err := r.SeekByTime(msgs[0].PublishTime().Add(-time.Second)); err != nil {
		t.Fatalf("seek by time: %v", err)
	}
	if got := payloadsOf(nextN(t, r, 10)); !equalStrings(got, payloads) {
		t.Errorf("after seeking before the first message read %v, want %v", got, payloads)
	}
}

// TestConsumerGetLastMessageIDs: the consumer reports the topic's last entry.
func TestConsumerGetLastMessageIDs(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "last-id")
	cons := subscribe(t, c, pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s", Type: pulsar.Shared})
	ids := sendPayloads(t, newProducer(t, c, topic), numbered("m", 3)...)
	last, err := cons.GetLastMessageIDs()
	if err != nil {
		t.Fatalf("GetLastMessageIDs: %v", err)
	}
	if len(last) != 1 || posOf(last[0]) != posOf(ids[2]) {
		t.Fatalf("GetLastMessageIDs = %v, want one id at %v", last, posOf(ids[2]))
	}
}

// TestPartitionedTopic: a partitioned topic has metadata, -partition-N topics,
// messages spread by key, consumers reading all partitions, one last id each.
func TestPartitionedTopic(t *testing.T) {
	t.Parallel()
	c := env.main.a
	ns := env.main.namespace(t, false)
	topic := topicIn(ns, "parted")
	tn := topicName(t, topic)
	const partitions = 3
	if err := c.admin.Topics().Create(tn, partitions); err != nil {
		t.Fatalf("create partitioned topic: %v", err)
	}
	md, err := c.admin.Topics().GetMetadata(tn)
	if err != nil || md.Partitions != partitions {
		t.Fatalf("metadata %+v, %v; want %d partitions", md, err, partitions)
	}
	partitioned, _, err := c.admin.Topics().List(namespaceName(t, ns))
	if err != nil || !slices.Contains(partitioned, topic) {
		t.Errorf("partitioned topics of %s: %v, %v; want %s listed", ns, partitioned, err, topic)
	}

	cons := subscribe(t, c, pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "s", Type: pulsar.Shared})
	prod := newProducer(t, c, topic)
	const n = 30
	partitionOf := map[string]int32{}
	used := map[int32]bool{}
	for i := range n {
		pl := fmt.Sprintf("m-%d", i)
		id := send(t, prod, &pulsar.ProducerMessage{Payload: []byte(pl), Key: fmt.Sprintf("key-%d", i)})
		partitionOf[pl] = id.PartitionIdx()
		used[id.PartitionIdx()] = true
	}
	if len(used) < 2 {
		t.Fatalf("30 keys all went to partitions %v", used)
	}
	for _, m := range receiveN(t, cons, n) {
		p := partitionOf[string(m.Payload())]
		wantTopic := topic + "-partition-" + strconv.Itoa(int(p))
		if m.Topic() != wantTopic || m.ID().PartitionIdx() != p {
			t.Errorf("%q read from %s partition %d, written to %s", m.Payload(), m.Topic(), m.ID().PartitionIdx(), wantTopic)
		}
	}
	expectNoMessage(t, cons)

	last, err := cons.GetLastMessageIDs()
	if err != nil || len(last) != partitions {
		t.Fatalf("GetLastMessageIDs = %v, %v; want one per partition", last, err)
	}
	var added int64
	for p := range partitions {
		st := mustInternalStats(t, c, topic+"-partition-"+strconv.Itoa(p))
		added += st.EntriesAddedCounter
	}
	if added != n {
		t.Errorf("partitions added %d entries in all, want %d", added, n)
	}
	for _, l := range last {
		if !strings.HasPrefix(l.Topic(), topic+"-partition-") {
			t.Errorf("last id %v names topic %s", l, l.Topic())
		}
	}
}

// TestPartitionByNameIsNonPartitioned: a -partition-N topic has partitioned
// metadata 0, so a zero-queue consumer (which refuses partitioned topics) can
// subscribe to it by name and receive that partition's messages.
func TestPartitionByNameIsNonPartitioned(t *testing.T) {
	t.Parallel()
	c := env.main.a
	topic := topicIn(env.main.namespace(t, false), "by-name")
	if err := c.admin.Topics().Create(topicName(t, topic), 2); err != nil {
		t.Fatalf("create partitioned topic: %v", err)
	}
	part := topic + "-partition-1"
	md, err := c.admin.Topics().GetMetadata(topicName(t, part))
	if err != nil || md.Partitions != 0 {
		t.Fatalf("metadata of %s: %+v, %v; want 0 partitions", part, md, err)
	}
	zq := subscribe(t, c, pulsar.ConsumerOptions{Topic: part, SubscriptionName: "s", Type: pulsar.Shared,
		EnableZeroQueueConsumer: true, SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest})
	sendPayloads(t, newProducer(t, c, part), "p1")
	m := receiveN(t, zq, 1)[0]
	if string(m.Payload()) != "p1" || m.Topic() != part {
		t.Errorf("zero-queue consumer got %q from %s, want p1 from %s", m.Payload(), m.Topic(), part)
	}
}
