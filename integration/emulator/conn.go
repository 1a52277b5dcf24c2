package emulator

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/subsync/subsync/integration/ledger"
	"github.com/subsync/subsync/integration/wire"
)

// serverVersion is what CONNECTED announces.
const serverVersion = "subsync-pulsar-emulator"

// maxProtocolVersion is the newest protocol version the emulator speaks.
const maxProtocolVersion = 21

// conn is one client connection to a cluster's binary listener.
type conn struct {
	cluster *Cluster
	nc      net.Conn
	log     *slog.Logger

	wmu     sync.Mutex
	wcond   *sync.Cond
	queue   [][]byte
	closed  bool
	closeCh chan struct{}

	mu        sync.Mutex
	producers map[uint64]*producer
	consumers map[uint64]*consumer
}

func newConn(c *Cluster, nc net.Conn) *conn {
	cn := &conn{
		cluster:   c,
		nc:        nc,
		log:       c.log.With("remote", nc.RemoteAddr().String()),
		closeCh:   make(chan struct{}),
		producers: map[uint64]*producer{},
		consumers: map[uint64]*consumer{},
	}
	cn.wcond = sync.NewCond(&cn.wmu)
	return cn
}

// serve reads frames until the connection ends.
func (cn *conn) serve() {
	go cn.writeLoop()
	defer cn.close()
	r := bufio.NewReaderSize(cn.nc, 64*1024)
	for {
		f, err := wire.ReadFrame(r)
		if err != nil {
			return
		}
		if err := cn.handle(f); err != nil {
			cn.log.Warn("closing connection", "err", err)
			return
		}
	}
}

// writeLoop drains the unbounded send queue so dispatchers never block on
// a slow client.
func (cn *conn) writeLoop() {
	w := bufio.NewWriterSize(cn.nc, 64*1024)
	for {
		cn.wmu.Lock()
		for len(cn.queue) == 0 && !cn.closed {
			cn.wcond.Wait()
		}
		if cn.closed {
			cn.wmu.Unlock()
			return
		}
		batch := cn.queue
		cn.queue = nil
		cn.wmu.Unlock()
		for _, b := range batch {
			if _, err := w.Write(b); err != nil {
				cn.close()
				return
			}
		}
		if err := w.Flush(); err != nil {
			cn.close()
			return
		}
	}
}

func (cn *conn) sendFrame(b []byte) {
	cn.wmu.Lock()
	defer cn.wmu.Unlock()
	if cn.closed {
		return
	}
	cn.queue = append(cn.queue, b)
	cn.wcond.Signal()
}

func (cn *conn) send(cmd *wire.Command) {
	b, err := wire.EncodeCommand(cmd)
	if err != nil {
		cn.log.Error("encoding command", "kind", cmd.GetKind(), "err", err)
		return
	}
	cn.sendFrame(b)
}

// close ends the connection and detaches its producers and consumers, as
// a broker does when a client goes away.
func (cn *conn) close() {
	cn.wmu.Lock()
	if cn.closed {
		cn.wmu.Unlock()
		return
	}
	cn.closed = true
	close(cn.closeCh)
	cn.wcond.Broadcast()
	cn.wmu.Unlock()
	cn.nc.Close()
	cn.cluster.removeConn(cn)
	cn.mu.Lock()
	ps, cs := cn.producers, cn.consumers
	cn.producers, cn.consumers = map[uint64]*producer{}, map[uint64]*consumer{}
	cn.mu.Unlock()
	for _, p := range ps {
		p.topic.removeProducer(p)
	}
	for _, c := range cs {
		c.sub.removeConsumer(c)
	}
}

func (cn *conn) handle(f wire.Frame) error {
	cmd := f.Cmd
	switch cmd.GetKind() {
	case wire.Kind_CONNECT:
		cn.handleConnect(cmd.GetConnect())
	case wire.Kind_PING:
		cn.send(&wire.Command{Kind: wire.Kind_PONG.Enum(), Pong: &wire.Pong{}})
	case wire.Kind_PONG:
	case wire.Kind_PARTITIONED_METADATA:
		cn.handlePartitionedMetadata(cmd.GetPartitionedMetadata())
	case wire.Kind_LOOKUP:
		cn.handleLookup(cmd.GetLookup())
	case wire.Kind_PRODUCER:
		cn.handleProducer(cmd.GetProducer())
	case wire.Kind_SEND:
		return cn.handleSend(cmd.GetSend(), f.Payload)
	case wire.Kind_CLOSE_PRODUCER:
		cn.handleCloseProducer(cmd.GetCloseProducer())
	case wire.Kind_SUBSCRIBE:
		cn.handleSubscribe(cmd.GetSubscribe())
	case wire.Kind_FLOW:
		if c := cn.consumer(cmd.GetFlow().GetConsumerId()); c != nil {
			c.sub.flow(c, cmd.GetFlow().GetPermits())
		}
	case wire.Kind_ACK:
		cn.handleAck(cmd.GetAck())
	case wire.Kind_REDELIVER_UNACKNOWLEDGED_MESSAGES:
		r := cmd.GetRedeliverUnacked()
		if c := cn.consumer(r.GetConsumerId()); c != nil {
			c.sub.redeliverUnacked(c, r.GetMessageIds())
		}
	case wire.Kind_CLOSE_CONSUMER:
		cn.handleCloseConsumer(cmd.GetCloseConsumer())
	case wire.Kind_UNSUBSCRIBE:
		cn.handleUnsubscribe(cmd.GetUnsubscribe())
	case wire.Kind_SEEK:
		cn.handleSeek(cmd.GetSeek())
	case wire.Kind_GET_LAST_MESSAGE_ID:
		cn.handleGetLastMessageID(cmd.GetGetLastMessageId())
	case wire.Kind_CONSUMER_STATS:
		cn.handleConsumerStats(cmd.GetConsumerStats())
	case wire.Kind_GET_TOPICS_OF_NAMESPACE:
		cn.handleTopicsOfNamespace(cmd.GetGetTopicsOfNamespace())
	case wire.Kind_GET_SCHEMA:
		g := cmd.GetGetSchema()
		cn.send(&wire.Command{Kind: wire.Kind_GET_SCHEMA_RESPONSE.Enum(), GetSchemaResponse: &wire.GetSchemaResponse{
			RequestId: proto.Uint64(g.GetRequestId()), ErrorCode: wire.ServerError_TopicNotFound.Enum(),
			ErrorMessage: proto.String("schemas are not emulated")}})
	case wire.Kind_GET_OR_CREATE_SCHEMA:
		g := cmd.GetGetOrCreateSchema()
		cn.send(&wire.Command{Kind: wire.Kind_GET_OR_CREATE_SCHEMA_RESPONSE.Enum(), GetOrCreateSchemaResponse: &wire.GetOrCreateSchemaResponse{
			RequestId: proto.Uint64(g.GetRequestId()), SchemaVersion: make([]byte, 8)}})
	default:
		cn.log.Warn("unsupported command ignored", "kind", cmd.GetKind())
	}
	return nil
}

func (cn *conn) handleConnect(c *wire.Connect) {
	v := c.GetProtocolVersion()
	if v > maxProtocolVersion {
		v = maxProtocolVersion
	}
	cn.send(&wire.Command{Kind: wire.Kind_CONNECTED.Enum(), Connected: &wire.Connected{
		ServerVersion:   proto.String(serverVersion),
		ProtocolVersion: proto.Int32(v),
		MaxMessageSize:  proto.Int32(5 * 1024 * 1024),
		FeatureFlags:    &wire.Features{SupportsTopicWatchers: proto.Bool(false)},
	}})
}

func (cn *conn) sendError(requestID uint64, code wire.ServerError, err error) {
	cn.send(&wire.Command{Kind: wire.Kind_ERROR.Enum(), Error: &wire.Error{
		RequestId: proto.Uint64(requestID), Error: code.Enum(), Message: proto.String(err.Error())}})
}

func (cn *conn) sendSuccess(requestID uint64) {
	cn.send(&wire.Command{Kind: wire.Kind_SUCCESS.Enum(), Success: &wire.Success{RequestId: proto.Uint64(requestID)}})
}

// errorCode maps the emulator's errors to the codes a Pulsar broker sends.
func errorCode(err error) wire.ServerError {
	switch {
	case errors.Is(err, errTopicNotFound), errors.Is(err, errNamespaceNotFound):
		return wire.ServerError_TopicNotFound
	case errors.Is(err, errSubscriptionNotFound):
		return wire.ServerError_SubscriptionNotFound
	case errors.Is(err, errConsumerBusy), errors.Is(err, errHasConsumers):
		return wire.ServerError_ConsumerBusy
	case errors.Is(err, errProducerBusy):
		return wire.ServerError_ProducerBusy
	}
	return wire.ServerError_UnknownError
}

func (cn *conn) handlePartitionedMetadata(m *wire.PartitionedMetadata) {
	resp := &wire.PartitionedMetadataResponse{RequestId: proto.Uint64(m.GetRequestId())}
	if _, err := parseTopic(m.GetTopic()); err != nil {
		resp.Response = wire.PartitionedMetadataResult_MetadataFailed.Enum()
		resp.Error = wire.ServerError_InvalidTopicName.Enum()
		resp.Message = proto.String(err.Error())
	} else {
		resp.Response = wire.PartitionedMetadataResult_MetadataSuccess.Enum()
		resp.Partitions = proto.Uint32(uint32(cn.cluster.partitions(m.GetTopic())))
	}
	cn.send(&wire.Command{Kind: wire.Kind_PARTITIONED_METADATA_RESPONSE.Enum(), PartitionedMetadataResponse: resp})
}

func (cn *conn) handleLookup(l *wire.Lookup) {
	resp := &wire.LookupResponse{RequestId: proto.Uint64(l.GetRequestId())}
	if _, err := parseTopic(l.GetTopic()); err != nil {
		resp.Response = wire.LookupResult_LookupFailed.Enum()
		resp.Error = wire.ServerError_InvalidTopicName.Enum()
		resp.Message = proto.String(err.Error())
	} else {
		resp.Response = wire.LookupResult_LookupConnect.Enum()
		resp.BrokerServiceUrl = proto.String(cn.cluster.ServiceURL())
		resp.Authoritative = proto.Bool(true)
	}
	cn.send(&wire.Command{Kind: wire.Kind_LOOKUP_RESPONSE.Enum(), LookupResponse: resp})
}

// producer is one producer attached over a connection.
type producer struct {
	id    uint64
	name  string
	topic *Topic
}

func (cn *conn) handleProducer(p *wire.Producer) {
	t, err := cn.cluster.topic(p.GetTopic(), true)
	if err != nil {
		cn.sendError(p.GetRequestId(), errorCode(err), err)
		return
	}
	name := p.GetProducerName()
	if name == "" {
		name = fmt.Sprintf("%s-%d", cn.cluster.name, cn.cluster.nextProducer.Add(1))
	}
	pr := &producer{id: p.GetProducerId(), name: name, topic: t}
	if err := t.addProducer(pr); err != nil {
		cn.sendError(p.GetRequestId(), errorCode(err), err)
		return
	}
	cn.mu.Lock()
	cn.producers[pr.id] = pr
	cn.mu.Unlock()
	cn.send(&wire.Command{Kind: wire.Kind_PRODUCER_SUCCESS.Enum(), ProducerSuccess: &wire.ProducerSuccess{
		RequestId: proto.Uint64(p.GetRequestId()), ProducerName: proto.String(name),
		LastSequenceId: proto.Int64(-1), ProducerReady: proto.Bool(true)}})
}

func (cn *conn) handleSend(s *wire.Send, payload []byte) error {
	cn.mu.Lock()
	pr := cn.producers[s.GetProducerId()]
	cn.mu.Unlock()
	sendErr := func(code wire.ServerError, err error) {
		cn.send(&wire.Command{Kind: wire.Kind_SEND_ERROR.Enum(), SendError: &wire.SendError{
			ProducerId: proto.Uint64(s.GetProducerId()), SequenceId: proto.Uint64(s.GetSequenceId()),
			Error: code.Enum(), Message: proto.String(err.Error())}})
	}
	if pr == nil {
		sendErr(wire.ServerError_UnknownError, fmt.Errorf("producer %d is not connected", s.GetProducerId()))
		return nil
	}
	e, err := wire.ParseSendPayload(payload)
	if err != nil {
		sendErr(wire.ServerError_ChecksumError, err)
		return nil
	}
	pos := pr.topic.publish(e.Raw, e.Meta, time.Now())
	cn.send(&wire.Command{Kind: wire.Kind_SEND_RECEIPT.Enum(), SendReceipt: &wire.SendReceipt{
		ProducerId: proto.Uint64(s.GetProducerId()), SequenceId: proto.Uint64(s.GetSequenceId()),
		HighestSequenceId: proto.Uint64(s.GetHighestSequenceId()),
		MessageId:         &wire.MsgID{Ledger: proto.Uint64(uint64(pos.Ledger)), Entry: proto.Uint64(uint64(pos.Entry))}}})
	return nil
}

func (cn *conn) handleCloseProducer(c *wire.CloseProducer) {
	cn.mu.Lock()
	pr := cn.producers[c.GetProducerId()]
	delete(cn.producers, c.GetProducerId())
	cn.mu.Unlock()
	if pr != nil {
		pr.topic.removeProducer(pr)
	}
	cn.sendSuccess(c.GetRequestId())
}

func (cn *conn) consumer(id uint64) *consumer {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.consumers[id]
}

func (cn *conn) handleSubscribe(s *wire.Subscribe) {
	t, err := cn.cluster.topic(s.GetTopic(), true)
	if err != nil {
		cn.sendError(s.GetRequestId(), errorCode(err), err)
		return
	}
	o := subscribeOptions{durable: s.GetDurable(), initial: s.GetInitialPosition(), replicated: s.GetReplicateSubscriptionState()}
	if !o.durable {
		o.start = nonDurableStart(s.GetStartMessageId())
	}
	sub, _, err := t.getOrCreateSubscription(s.GetSubscription(), o)
	if err != nil {
		cn.sendError(s.GetRequestId(), errorCode(err), err)
		return
	}
	c := &consumer{id: s.GetConsumerId(), conn: cn, sub: sub, name: s.GetConsumerName(),
		subType: s.GetSubType(), priority: s.GetPriorityLevel()}
	cn.mu.Lock()
	if _, dup := cn.consumers[c.id]; dup {
		cn.mu.Unlock()
		cn.sendError(s.GetRequestId(), wire.ServerError_ConsumerBusy, fmt.Errorf("consumer id %d already in use on this connection", c.id))
		return
	}
	cn.consumers[c.id] = c
	cn.mu.Unlock()
	if err := sub.addConsumer(c); err != nil {
		cn.mu.Lock()
		delete(cn.consumers, c.id)
		cn.mu.Unlock()
		cn.sendError(s.GetRequestId(), errorCode(err), err)
		return
	}
	cn.sendSuccess(s.GetRequestId())
}

// nonDurableStart follows PersistentTopic.getNonDurableSubscription: a
// valid start id steps back one entry, so the start entry itself is
// delivered and the client discards what it must.
func nonDurableStart(id *wire.MsgID) *ledger.Position {
	if id == nil {
		p := ledger.Position{Ledger: maxInt64, Entry: maxInt64}
		return &p
	}
	p := ledger.Position{Ledger: int64(id.GetLedger()), Entry: int64(id.GetEntry())}
	if p.Ledger >= 0 && p.Entry >= 0 && p.Ledger != maxInt64 {
		p.Entry--
	}
	return &p
}

func (cn *conn) handleAck(a *wire.Ack) {
	c := cn.consumer(a.GetConsumerId())
	var err error
	if c == nil {
		err = fmt.Errorf("consumer %d is not connected", a.GetConsumerId())
	} else {
		err = c.sub.ack(c, a)
	}
	if a.RequestId == nil {
		return
	}
	resp := &wire.AckResponse{ConsumerId: proto.Uint64(a.GetConsumerId()), RequestId: proto.Uint64(a.GetRequestId())}
	if err != nil {
		resp.Error = wire.ServerError_NotAllowedError.Enum()
		resp.Message = proto.String(err.Error())
	}
	cn.send(&wire.Command{Kind: wire.Kind_ACK_RESPONSE.Enum(), AckResponse: resp})
}

func (cn *conn) handleCloseConsumer(c *wire.CloseConsumer) {
	cn.mu.Lock()
	co := cn.consumers[c.GetConsumerId()]
	delete(cn.consumers, c.GetConsumerId())
	cn.mu.Unlock()
	if co != nil {
		co.sub.removeConsumer(co)
	}
	cn.sendSuccess(c.GetRequestId())
}

func (cn *conn) handleUnsubscribe(u *wire.Unsubscribe) {
	c := cn.consumer(u.GetConsumerId())
	if c == nil {
		cn.sendError(u.GetRequestId(), wire.ServerError_ConsumerNotFound, fmt.Errorf("consumer %d is not connected", u.GetConsumerId()))
		return
	}
	if err := c.sub.topic.unsubscribe(c.sub.name, c, u.GetForce()); err != nil {
		cn.sendError(u.GetRequestId(), errorCode(err), err)
		return
	}
	cn.mu.Lock()
	delete(cn.consumers, c.id)
	cn.mu.Unlock()
	c.sub.removeConsumer(c)
	cn.sendSuccess(u.GetRequestId())
}

func (cn *conn) handleSeek(s *wire.Seek) {
	c := cn.consumer(s.GetConsumerId())
	if c == nil {
		cn.sendError(s.GetRequestId(), wire.ServerError_ConsumerNotFound, fmt.Errorf("consumer %d is not connected", s.GetConsumerId()))
		return
	}
	var p ledger.Position
	switch {
	case s.MessageId != nil:
		p = ledger.Position{Ledger: int64(s.GetMessageId().GetLedger()), Entry: int64(s.GetMessageId().GetEntry())}
		if p.Ledger < 0 || p.Entry < 0 {
			p = c.sub.topic.ml.FirstPosition()
		}
	case s.MessagePublishTime != nil:
		p = c.sub.topic.ml.FindByPublishTime(int64(s.GetMessagePublishTime()))
	default:
		cn.sendError(s.GetRequestId(), wire.ServerError_MetadataError, errors.New("seek needs a message id or a publish time"))
		return
	}
	c.sub.resetCursor(p)
	cn.sendSuccess(s.GetRequestId())
}

func (cn *conn) handleGetLastMessageID(g *wire.GetLastMessageID) {
	c := cn.consumer(g.GetConsumerId())
	if c == nil {
		cn.sendError(g.GetRequestId(), wire.ServerError_ConsumerNotFound, fmt.Errorf("consumer %d is not connected", g.GetConsumerId()))
		return
	}
	t := c.sub.topic
	lac := t.ml.LastConfirmed()
	last := &wire.MsgID{Ledger: proto.Uint64(uint64(lac.Ledger)), Entry: proto.Uint64(uint64(lac.Entry)),
		Partition: proto.Int32(int32(max(t.name.partition, -1)))}
	if e, ok := t.ml.Get(lac); ok {
		if pe, err := wire.ParseEntry(e.Data); err == nil && pe.Meta.NumMessagesInBatch != nil {
			last.BatchIndex = proto.Int32(pe.Meta.GetNumMessagesInBatch() - 1)
		}
	}
	md := c.sub.cursor.MarkDeletePosition()
	cn.send(&wire.Command{Kind: wire.Kind_GET_LAST_MESSAGE_ID_RESPONSE.Enum(), GetLastMessageIdResponse: &wire.GetLastMessageIDResponse{
		RequestId:                  proto.Uint64(g.GetRequestId()),
		LastMessageId:              last,
		ConsumerMarkDeletePosition: &wire.MsgID{Ledger: proto.Uint64(uint64(md.Ledger)), Entry: proto.Uint64(uint64(md.Entry))},
	}})
}

func (cn *conn) handleConsumerStats(s *wire.ConsumerStats) {
	resp := &wire.ConsumerStatsResponse{RequestId: proto.Uint64(s.GetRequestId())}
	if c := cn.consumer(s.GetConsumerId()); c != nil {
		c.sub.mu.Lock()
		resp.ConsumerName = proto.String(c.name)
		resp.AvailablePermits = proto.Uint64(uint64(max(c.permits, 0)))
		resp.Type = proto.String(c.subType.String())
		c.sub.mu.Unlock()
		resp.MsgBacklog = proto.Uint64(uint64(c.sub.cursor.Backlog()))
		resp.UnackedMessages = proto.Uint64(uint64(c.sub.pendingCount(c)))
	} else {
		resp.ErrorCode = wire.ServerError_ConsumerNotFound.Enum()
		resp.ErrorMessage = proto.String(fmt.Sprintf("consumer %d is not connected", s.GetConsumerId()))
	}
	cn.send(&wire.Command{Kind: wire.Kind_CONSUMER_STATS_RESPONSE.Enum(), ConsumerStatsResponse: resp})
}

func (cn *conn) handleTopicsOfNamespace(g *wire.GetTopicsOfNamespace) {
	var topics []string
	for _, t := range cn.cluster.allTopics() {
		if t.name.namespace == g.GetNamespace() {
			topics = append(topics, t.name.full)
		}
	}
	cn.send(&wire.Command{Kind: wire.Kind_GET_TOPICS_OF_NAMESPACE_RESPONSE.Enum(), GetTopicsOfNamespaceResponse: &wire.GetTopicsOfNamespaceResponse{
		RequestId: proto.Uint64(g.GetRequestId()), Topics: topics}})
}

// consumer is one consumer attached over a connection. Its permits are
// guarded by its subscription's lock.
type consumer struct {
	id       uint64
	conn     *conn
	sub      *Subscription
	name     string
	subType  wire.SubType
	priority int32
	permits  int64
}

func (c *consumer) sendMessage(e ledger.Entry, redeliveries uint32, ackSet []int64) {
	cmd := &wire.Command{Kind: wire.Kind_MESSAGE.Enum(), Message: &wire.Message{
		ConsumerId:      proto.Uint64(c.id),
		MessageId:       &wire.MsgID{Ledger: proto.Uint64(uint64(e.Pos.Ledger)), Entry: proto.Uint64(uint64(e.Pos.Entry))},
		RedeliveryCount: proto.Uint32(redeliveries),
		AckSet:          ackSet,
	}}
	b, err := wire.EncodePayloadCommand(cmd, nil, e.Data)
	if err != nil {
		c.conn.log.Error("encoding message", "err", err)
		return
	}
	c.conn.sendFrame(b)
}

func (c *consumer) notifyActive(active bool) {
	c.conn.send(&wire.Command{Kind: wire.Kind_ACTIVE_CONSUMER_CHANGE.Enum(), ActiveConsumerChange: &wire.ActiveConsumerChange{
		ConsumerId: proto.Uint64(c.id), IsActive: proto.Bool(active)}})
}

// brokerClose closes the consumer from the broker side
// (CommandCloseConsumer); the client reconnects.
func (c *consumer) brokerClose() {
	c.conn.mu.Lock()
	delete(c.conn.consumers, c.id)
	c.conn.mu.Unlock()
	c.conn.send(&wire.Command{Kind: wire.Kind_CLOSE_CONSUMER.Enum(), CloseConsumer: &wire.CloseConsumer{
		ConsumerId: proto.Uint64(c.id), RequestId: proto.Uint64(0)}})
	c.sub.removeConsumer(c)
}
