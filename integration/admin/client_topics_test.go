package admin

import (
	"encoding/binary"
	"reflect"
	"testing"

	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"
	"github.com/subsync/subsync/integration/ledger"
	"google.golang.org/protobuf/encoding/protowire"
)

func topicName(t *testing.T, s string) utils.TopicName {
	t.Helper()
	tn, err := utils.GetTopicName(s)
	if err != nil {
		t.Fatal(err)
	}
	return *tn
}

func nsName(t *testing.T, s string) utils.NameSpaceName {
	t.Helper()
	n, err := utils.GetNamespaceName(s)
	if err != nil {
		t.Fatal(err)
	}
	return *n
}

func TestTopicLifecycleWithPulsaradmin(t *testing.T) {
	e := newEnv(t)
	tp := e.client.Topics()
	plain := topicName(t, "persistent://public/default/plain")
	parted := topicName(t, "persistent://public/default/parted")

	mustOK(t, tp.Create(plain, 0))
	wantAdminError(t, tp.Create(plain, 0), 409, "This topic already exists")
	mustOK(t, tp.Create(parted, 3))
	wantAdminError(t, tp.Create(parted, 2), 409, "Partitioned topic already exists")
	wantAdminError(t, tp.Create(topicName(t, "persistent://public/default/zero"), -2), 406,
		"Number of partitions should be more than 0")
	wantAdminError(t, tp.Create(topicName(t, "persistent://public/nope/x"), 0), 404, "Namespace does not exist")
	wantAdminError(t, tp.Create(topicName(t, "persistent://public/default/orphan-partition-1"), 0), 412,
		`Can't create topic orphan-partition-1 with "-partition-" followed by numeric value if there isn't a partitioned topic orphan created.`)
	wantAdminError(t, tp.Create(topicName(t, "persistent://public/default/parted-partition-7"), 0), 412,
		`Can't create topic parted-partition-7 with "-partition-" followed by a number smaller then number of partition of partitioned topic parted`)

	meta, err := tp.GetMetadata(parted)
	mustOK(t, err)
	if meta.Partitions != 3 {
		t.Fatalf("partitions = %d, want 3", meta.Partitions)
	}
	meta, err = tp.GetMetadata(plain)
	mustOK(t, err)
	if meta.Partitions != 0 {
		t.Fatalf("non-partitioned metadata = %d, want 0", meta.Partitions)
	}
	_, err = tp.GetMetadata(topicName(t, "persistent://public/default/unknown"))
	wantAdminError(t, err, 404, "Topic persistent://public/default/unknown not found")

	partitionedList, nonPartitioned, err := tp.List(nsName(t, "public/default"))
	mustOK(t, err)
	if !reflect.DeepEqual(partitionedList, []string{"persistent://public/default/parted"}) {
		t.Fatalf("partitioned list = %v", partitionedList)
	}
	wantTopics := []string{
		"persistent://public/default/parted-partition-0", "persistent://public/default/parted-partition-1",
		"persistent://public/default/parted-partition-2", "persistent://public/default/plain",
	}
	if !reflect.DeepEqual(nonPartitioned, wantTopics) {
		t.Fatalf("topic list = %v", nonPartitioned)
	}

	// Busy topics need force.
	mustOK(t, e.client.Subscriptions().Create(plain, "s", utils.Latest))
	e.backend.setConsumers(plain.String(), "s", 1)
	wantAdminError(t, tp.Delete(plain, false, true), 412, "Topic has active producers/subscriptions")
	mustOK(t, tp.Delete(plain, true, true))
	wantAdminError(t, tp.Delete(plain, false, true), 404, "Topic persistent://public/default/plain not found")

	mustOK(t, tp.Delete(parted, false, false))
	wantAdminError(t, tp.Delete(parted, false, false), 404, "Partitioned Topic persistent://public/default/parted not found")
	partitionedList, nonPartitioned, err = tp.List(nsName(t, "public/default"))
	mustOK(t, err)
	if len(partitionedList)+len(nonPartitioned) != 0 {
		t.Fatalf("after deletes: %v %v", partitionedList, nonPartitioned)
	}
}

func TestStatsWithPulsaradmin(t *testing.T) {
	e := newEnv(t)
	tp := e.client.Topics()
	plain := topicName(t, "persistent://public/default/plain")
	mustOK(t, tp.Create(plain, 0))
	mustOK(t, e.client.Subscriptions().Create(plain, "sub", utils.Earliest))
	pos := e.backend.append(t, plain.String(), 5, 1000)

	st, err := tp.GetStats(plain)
	mustOK(t, err)
	if st.MsgCounterIn != 5 || st.Subscriptions["sub"].MsgBacklog != 5 || st.Subscriptions["sub"].SubType != "Shared" {
		t.Fatalf("stats = in %d, subs %+v", st.MsgCounterIn, st.Subscriptions)
	}
	if st.Publishers == nil || st.Replication == nil || st.DeDuplicationStatus != "Disabled" {
		t.Fatalf("stats defaults: publishers %v replication %v dedup %q", st.Publishers, st.Replication, st.DeDuplicationStatus)
	}
	_, err = tp.GetStats(topicName(t, "persistent://public/default/nope"))
	wantAdminError(t, err, 404, "Topic persistent://public/default/nope not found")

	// Internal stats carry the cursor state as Pulsar prints it.
	_, c, _ := e.backend.cursor(plain.String(), "sub")
	c.Delete(pos[1], pos[3])
	is, err := tp.GetInternalStats(plain)
	mustOK(t, err)
	if is.LastConfirmedEntry != pos[4].String() || is.EntriesAddedCounter != 5 || len(is.Ledgers) < 3 {
		t.Fatalf("internal stats: lac %s added %d ledgers %d", is.LastConfirmedEntry, is.EntriesAddedCounter, len(is.Ledgers))
	}
	cs := is.Cursors["sub"]
	wantIDM := c.IndividuallyDeletedMessages()
	if cs.IndividuallyDeletedMessages != wantIDM || cs.MarkDeletePosition != c.MarkDeletePosition().String() {
		t.Fatalf("cursor stats = %+v, want IDM %s", cs, wantIDM)
	}
	if cs.TotalNonContiguousDeletedMessagesRange != 2 {
		t.Fatalf("non-contiguous ranges = %d, want 2", cs.TotalNonContiguousDeletedMessagesRange)
	}

	// Last message id: the LAC, partition -1 on a non-partitioned topic.
	id, err := tp.GetLastMessageID(plain)
	mustOK(t, err)
	if id.LedgerID != pos[4].Ledger || id.EntryID != pos[4].Entry || id.PartitionIndex != -1 {
		t.Fatalf("last message id = %+v, want %s partition -1", id, pos[4])
	}
}

func TestPartitionedStatsAggregate(t *testing.T) {
	e := newEnv(t)
	tp := e.client.Topics()
	parted := topicName(t, "persistent://public/default/p")
	mustOK(t, tp.Create(parted, 2))
	mustOK(t, e.client.Subscriptions().Create(parted, "sub", utils.Earliest))
	e.backend.append(t, parted.String()+"-partition-0", 3, 1000)
	e.backend.append(t, parted.String()+"-partition-1", 4, 1000)
	e.backend.topics[parted.String()+"-partition-0"].stats.Replication = map[string]ReplicatorStats{
		"b": {ReplicationBacklog: 2, Connected: true},
	}
	e.backend.topics[parted.String()+"-partition-1"].stats.Replication = map[string]ReplicatorStats{
		"b": {ReplicationBacklog: 5, Connected: false},
	}

	ps, err := tp.GetPartitionedStats(parted, true)
	mustOK(t, err)
	if ps.Metadata.Partitions != 2 || len(ps.Partitions) != 2 {
		t.Fatalf("metadata %d, partitions %d", ps.Metadata.Partitions, len(ps.Partitions))
	}
	if ps.Subscriptions["sub"].MsgBacklog != 7 {
		t.Fatalf("summed backlog = %d, want 7", ps.Subscriptions["sub"].MsgBacklog)
	}
	if r := ps.Replication["b"]; r.ReplicationBacklog != 7 || r.Connected {
		t.Fatalf("summed replication = %+v, want backlog 7 and not connected", r)
	}
	if p1 := ps.Partitions[parted.String()+"-partition-1"]; p1.Subscriptions["sub"].MsgBacklog != 4 {
		t.Fatalf("partition-1 backlog = %d, want 4", p1.Subscriptions["sub"].MsgBacklog)
	}
	ps, err = tp.GetPartitionedStats(parted, false)
	mustOK(t, err)
	if len(ps.Partitions) != 0 {
		t.Fatalf("perPartition=false still lists %d partitions", len(ps.Partitions))
	}
	_, err = tp.GetPartitionedStats(topicName(t, "persistent://public/default/flat"), true)
	wantAdminError(t, err, 404, "Partitioned Topic persistent://public/default/flat not found")

	// Pulsar's quirk: a partition whose subscription set differs in size from
	// the running total replaces the total's entries instead of adding.
	mustOK(t, e.backend.CreateSubscription(parted.String()+"-partition-1", "extra", Earliest, false))
	ps, err = tp.GetPartitionedStats(parted, false)
	mustOK(t, err)
	if ps.Subscriptions["sub"].MsgBacklog != 4 || ps.Subscriptions["extra"].MsgBacklog != 4 {
		t.Fatalf("mismatched subscription sets: sub %d extra %d, want 4 and 4 (partition-1 replaces)",
			ps.Subscriptions["sub"].MsgBacklog, ps.Subscriptions["extra"].MsgBacklog)
	}

	// A partition's last message id carries its partition index.
	id, err := tp.GetLastMessageID(topicName(t, parted.String()+"-partition-1"))
	mustOK(t, err)
	if id.PartitionIndex != 1 {
		t.Fatalf("partition index = %d, want 1", id.PartitionIndex)
	}
}

func TestSubscriptionsWithPulsaradmin(t *testing.T) {
	e := newEnv(t)
	sb := e.client.Subscriptions()
	plain := topicName(t, "persistent://public/default/plain")
	mustOK(t, e.client.Topics().Create(plain, 0))
	pos := e.backend.append(t, plain.String(), 6, 1000)
	ml := e.backend.topics[plain.String()].ml

	mustOK(t, sb.Create(plain, "earliest", utils.Earliest))
	mustOK(t, sb.Create(plain, "latest", utils.Latest))
	mustOK(t, sb.Create(plain, "at3", utils.MessageID{LedgerID: pos[3].Ledger, EntryID: pos[3].Entry, PartitionIndex: -1}))
	wantAdminError(t, sb.Create(plain, "latest", utils.Latest), 409, "Subscription already exists for topic")

	cursor := func(name string) *ledger.Cursor {
		c, ok := ml.Cursor(name)
		if !ok {
			t.Fatalf("no cursor %s", name)
		}
		return c
	}
	if got := cursor("earliest").Backlog(); got != 6 {
		t.Fatalf("earliest backlog = %d, want 6", got)
	}
	if got := cursor("latest").Backlog(); got != 0 {
		t.Fatalf("latest backlog = %d, want 0", got)
	}
	if got := cursor("at3").MarkDeletePosition(); got != ml.Prev(pos[3]) {
		t.Fatalf("at3 mark-delete = %s, want %s", got, ml.Prev(pos[3]))
	}

	subs, err := sb.List(plain)
	mustOK(t, err)
	if !reflect.DeepEqual(subs, []string{"at3", "earliest", "latest"}) {
		t.Fatalf("subscriptions = %v", subs)
	}

	// Reset to a message id and to a time.
	cursor("earliest").Delete(pos[4])
	mustOK(t, sb.ResetCursorToMessageID(plain, "earliest", utils.MessageID{LedgerID: pos[2].Ledger, EntryID: pos[2].Entry, PartitionIndex: -1}))
	c := cursor("earliest")
	if c.ReadPosition() != pos[2] || c.MarkDeletePosition() != ml.Prev(pos[2]) || c.IndividuallyDeletedMessages() != "[]" {
		t.Fatalf("after reset: read %s md %s idm %s", c.ReadPosition(), c.MarkDeletePosition(), c.IndividuallyDeletedMessages())
	}
	mustOK(t, sb.ResetCursorToTimestamp(plain, "latest", 1001))
	if got := cursor("latest").ReadPosition(); got != pos[1] {
		t.Fatalf("reset by time read position = %s, want %s", got, pos[1])
	}
	wantAdminError(t, sb.ResetCursorToTimestamp(plain, "ghost", 1), 404,
		"Subscription ghost not found for topic persistent://public/default/plain")

	// Skip and clear backlog.
	before := cursor("earliest").Backlog()
	mustOK(t, sb.SkipMessages(plain, "earliest", 2))
	if got := cursor("earliest").Backlog(); got != before-2 {
		t.Fatalf("backlog after skip 2 = %d, want %d", got, before-2)
	}
	mustOK(t, sb.ClearBacklog(plain, "earliest"))
	if got := cursor("earliest").Backlog(); got != 0 {
		t.Fatalf("backlog after skip_all = %d", got)
	}

	// Delete: busy without force.
	e.backend.setConsumers(plain.String(), "at3", 2)
	wantAdminError(t, sb.Delete(plain, "at3"), 412, "Subscription has active connected consumers")
	mustOK(t, sb.ForceDelete(plain, "at3"))
	mustOK(t, sb.Delete(plain, "latest"))
	wantAdminError(t, sb.Delete(plain, "latest"), 404, "Subscription latest not found for topic persistent://public/default/plain")
	subs, _ = sb.List(plain)
	if !reflect.DeepEqual(subs, []string{"earliest"}) {
		t.Fatalf("subscriptions after deletes = %v", subs)
	}
}

func TestSubscriptionsOnPartitionedTopic(t *testing.T) {
	e := newEnv(t)
	sb := e.client.Subscriptions()
	parted := topicName(t, "persistent://public/default/p")
	mustOK(t, e.client.Topics().Create(parted, 2))
	p0, p1 := parted.String()+"-partition-0", parted.String()+"-partition-1"
	e.backend.append(t, p0, 2, 1000)
	e.backend.append(t, p1, 2, 1000)

	// Created on every partition; 409 only when it exists everywhere.
	mustOK(t, e.backend.CreateSubscription(p1, "s", Latest, false))
	mustOK(t, sb.Create(parted, "s", utils.Earliest))
	if _, ok := e.backend.topics[p0].ml.Cursor("s"); !ok {
		t.Fatal("subscription not created on partition-0")
	}
	wantAdminError(t, sb.Create(parted, "s", utils.Earliest), 409, "Subscription already exists for topic")

	subs, err := sb.List(parted)
	mustOK(t, err)
	if !reflect.DeepEqual(subs, []string{"s"}) {
		t.Fatalf("union of partition subscriptions = %v", subs)
	}

	// Reset by position is refused on the parent; by time it fans out.
	err = sb.ResetCursorToMessageID(parted, "s", utils.MessageID{LedgerID: 1, EntryID: 0, PartitionIndex: 0})
	wantAdminError(t, err, 405, "Reset-cursor at position is not allowed for partitioned-topic")
	mustOK(t, sb.ResetCursorToTimestamp(parted, "s", 1000))
	if len(e.backend.resets) != 2 {
		t.Fatalf("resets = %v, want one per partition", e.backend.resets)
	}
	wantAdminError(t, sb.SkipMessages(parted, "s", 1), 405, "Skip messages on a partitioned topic is not allowed")
	mustOK(t, sb.ClearBacklog(parted, "s"))
	for _, p := range []string{p0, p1} {
		if c, _ := e.backend.topics[p].ml.Cursor("s"); c.Backlog() != 0 {
			t.Fatalf("%s backlog after skip_all = %d", p, c.Backlog())
		}
	}
	mustOK(t, sb.Delete(parted, "s"))
	wantAdminError(t, sb.Delete(parted, "s"), 404, "Subscription s not found for topic persistent://public/default/p")
}

func TestGetMessageByIDWithPulsaradmin(t *testing.T) {
	e := newEnv(t)
	plain := topicName(t, "persistent://public/default/plain")
	mustOK(t, e.client.Topics().Create(plain, 0))
	pos := e.backend.append(t, plain.String(), 3, 1_700_000_000_000)

	ms, err := e.client.Subscriptions().GetMessagesByID(plain, pos[1].Ledger, pos[1].Entry)
	mustOK(t, err)
	if len(ms) != 1 {
		t.Fatalf("%d messages at %s, want 1", len(ms), pos[1])
	}
	m := ms[0]
	if string(m.Payload) != "payload-1" {
		t.Fatalf("payload = %q", m.Payload)
	}
	if m.MessageID.LedgerID != pos[1].Ledger || m.MessageID.EntryID != pos[1].Entry {
		t.Fatalf("message id = %+v, want %s", m.MessageID, pos[1])
	}
	if m.Properties["k"] != "v1" {
		t.Fatalf("properties = %v, want k=v1", m.Properties)
	}
	if got := m.Properties["publish-time"]; got != "2023-11-14T22:13:20.001Z" {
		t.Fatalf("publish-time = %q", got)
	}
	_, err = e.client.Subscriptions().GetMessagesByID(plain, pos[2].Ledger, pos[2].Entry+5)
	wantAdminError(t, err, 404, "Message not found")
}

// A batch entry is served whole with X-Pulsar-num-batch-message, and
// pulsaradmin splits it into its messages.
func TestGetBatchMessageByIDWithPulsaradmin(t *testing.T) {
	e := newEnv(t)
	plain := topicName(t, "persistent://public/default/batched")
	mustOK(t, e.client.Topics().Create(plain, 0))
	var batch []byte
	for _, m := range []struct{ key, payload string }{{"x", "first"}, {"y", "second!"}} {
		kv := protowire.AppendTag(nil, 1, protowire.BytesType)
		kv = protowire.AppendString(kv, "who")
		kv = protowire.AppendTag(kv, 2, protowire.BytesType)
		kv = protowire.AppendString(kv, m.key)
		var smm []byte
		smm = protowire.AppendTag(smm, 1, protowire.BytesType)
		smm = protowire.AppendBytes(smm, kv)
		smm = protowire.AppendTag(smm, 3, protowire.VarintType)
		smm = protowire.AppendVarint(smm, uint64(len(m.payload)))
		batch = binary.BigEndian.AppendUint32(batch, uint32(len(smm)))
		batch = append(batch, smm...)
		batch = append(batch, m.payload...)
	}
	ml := e.backend.topics[plain.String()].ml
	p := ml.Append(ledger.Entry{Data: append([]byte("|"), batch...), NumMessages: 2, PublishTime: 5, BrokerTime: 5})

	msgs, err := e.client.Subscriptions().GetMessagesByID(plain, p.Ledger, p.Entry)
	mustOK(t, err)
	if len(msgs) != 2 {
		t.Fatalf("got %d messages, want 2", len(msgs))
	}
	for i, want := range []string{"first", "second!"} {
		if string(msgs[i].Payload) != want || msgs[i].MessageID.BatchIndex != i || msgs[i].MessageID.EntryID != p.Entry {
			t.Fatalf("message %d = %q id %+v", i, msgs[i].Payload, msgs[i].MessageID)
		}
	}
}
