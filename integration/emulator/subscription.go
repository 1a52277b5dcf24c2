package emulator

import (
	"fmt"
	"hash/crc32"
	"sort"
	"sync"
	"time"

	"github.com/subsync/subsync/integration/ledger"
	"github.com/subsync/subsync/integration/wire"
)

// dispatchBatch bounds how many entries one dispatch round reads, like
// Pulsar's dispatcherMaxReadBatchSize.
const dispatchBatch = 100

// Subscription is a cursor plus the consumers attached to it and the
// dispatcher that feeds them.
type Subscription struct {
	topic   *Topic
	name    string
	cursor  *ledger.Cursor
	durable bool

	mu         sync.Mutex
	replicated bool
	subType    wire.SubType
	dispatcher bool // a consumer has attached: the subscription has a type
	consumers  []*consumer
	active     *consumer // Exclusive/Failover: the one consumer fed
	rr         int
	redeliver  map[ledger.Position]bool
	pending    map[ledger.Position]*consumer
	redelivery map[ledger.Position]uint32
	snapshots  []snapshotRef // PIP-33 snapshots seen by this dispatcher
	msgOut     int64
	lastFlow   int64 // unix ms of the last flow command (lastConsumedFlowTimestamp)
	// resetting keeps a non-durable subscription alive while a reset
	// disconnects its consumers: Pulsar keeps the cursor, so the reader
	// resumes from the reset position when it subscribes again.
	resetting bool

	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

func newSubscription(t *Topic, name string, cur *ledger.Cursor, durable, replicated bool) *Subscription {
	return &Subscription{
		topic:      t,
		name:       name,
		cursor:     cur,
		durable:    durable,
		replicated: replicated,
		redeliver:  map[ledger.Position]bool{},
		pending:    map[ledger.Position]*consumer{},
		redelivery: map[ledger.Position]uint32{},
		kick:       make(chan struct{}, 1),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
}

func (s *Subscription) setReplicated(v bool) {
	s.mu.Lock()
	s.replicated = v
	s.mu.Unlock()
}

// Replicated reports whether PIP-33 replicates this subscription.
func (s *Subscription) isReplicated() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.replicated
}

func (s *Subscription) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Subscription) startDispatcher() { go s.dispatchLoop() }

func (s *Subscription) stopDispatcher() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}

func (s *Subscription) dispatchLoop() {
	defer close(s.done)
	for {
		wait := s.topic.ml.WaitCh()
		for s.dispatchRound() {
			select {
			case <-s.stop:
				return
			default:
			}
		}
		select {
		case <-s.stop:
			return
		case <-s.kick:
		case <-wait:
		}
	}
}

// addConsumer attaches c, enforcing the subscription type rules of
// Pulsar's dispatchers.
func (s *Subscription) addConsumer(c *consumer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.consumers) > 0 {
		if s.subType != c.subType {
			return fmt.Errorf("subscription %s is %v, consumer asked for %v: %w", s.name, s.subType, c.subType, errConsumerBusy)
		}
		if s.subType == wire.SubType_Exclusive {
			return fmt.Errorf("exclusive subscription %s already has a consumer: %w", s.name, errConsumerBusy)
		}
	}
	s.subType, s.dispatcher = c.subType, true
	s.consumers = append(s.consumers, c)
	s.pickActiveLocked()
	s.wake()
	return nil
}

// removeConsumer detaches c and hands its unacknowledged messages back.
// A non-durable subscription goes away with its last consumer.
func (s *Subscription) removeConsumer(c *consumer) {
	s.mu.Lock()
	idx := -1
	for i, x := range s.consumers {
		if x == c {
			idx = i
		}
	}
	if idx < 0 {
		s.mu.Unlock()
		return
	}
	s.consumers = append(s.consumers[:idx], s.consumers[idx+1:]...)
	if s.individualAckMode() {
		for p, owner := range s.pending {
			if owner == c {
				delete(s.pending, p)
				s.redeliver[p] = true
			}
		}
	}
	s.pickActiveLocked()
	empty := len(s.consumers) == 0
	resetting := s.resetting
	s.mu.Unlock()
	if empty && !s.durable && !resetting {
		s.topic.removeSubscription(s)
		return
	}
	s.wake()
}

func (s *Subscription) individualAckMode() bool {
	return s.subType == wire.SubType_Shared || s.subType == wire.SubType_Key_Shared
}

// pickActiveLocked chooses the fed consumer of an Exclusive or Failover
// subscription (consumers sorted by priority then name; a partition picks
// index partition % n) and rewinds when it changes, as
// PersistentDispatcherSingleActiveConsumer does.
func (s *Subscription) pickActiveLocked() {
	if s.individualAckMode() {
		s.active = nil
		return
	}
	var next *consumer
	if len(s.consumers) > 0 {
		sorted := append([]*consumer(nil), s.consumers...)
		sort.SliceStable(sorted, func(i, j int) bool {
			if sorted[i].priority != sorted[j].priority {
				return sorted[i].priority < sorted[j].priority
			}
			return sorted[i].name < sorted[j].name
		})
		idx := 0
		if s.subType == wire.SubType_Failover && s.topic.name.partition >= 0 {
			idx = s.topic.name.partition % len(sorted)
		}
		if s.subType == wire.SubType_Exclusive {
			sorted = s.consumers
		}
		next = sorted[idx]
	}
	if next == s.active {
		return
	}
	s.active = next
	s.pending = map[ledger.Position]*consumer{}
	s.redeliver = map[ledger.Position]bool{}
	s.cursor.Rewind()
	if s.subType == wire.SubType_Failover {
		for _, c := range s.consumers {
			c.notifyActive(c == next)
		}
	}
}

func (s *Subscription) consumersExcept(c *consumer) []*consumer {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*consumer
	for _, x := range s.consumers {
		if x != c {
			out = append(out, x)
		}
	}
	return out
}

func (s *Subscription) consumerList() []*consumer {
	return s.consumersExcept(nil)
}

// disconnectAll closes every consumer from the broker side; clients
// reconnect by themselves.
func (s *Subscription) disconnectAll() {
	for _, c := range s.consumerList() {
		c.brokerClose()
	}
}

// resetCursor is PersistentSubscription.resetCursor: disconnect the
// consumers, then move the cursor (clearing individual acks).
func (s *Subscription) resetCursor(p ledger.Position) {
	s.mu.Lock()
	s.resetting = true
	s.mu.Unlock()
	s.disconnectAll()
	s.mu.Lock()
	s.resetting = false
	s.pending = map[ledger.Position]*consumer{}
	s.redeliver = map[ledger.Position]bool{}
	s.cursor.ResetTo(p)
	s.mu.Unlock()
	s.wake()
}

// flow adds permits to c.
func (s *Subscription) flow(c *consumer, permits uint32) {
	s.mu.Lock()
	// PersistentSubscription#consumerFlow stamps every flow command.
	s.lastFlow = time.Now().UnixMilli()
	c.permits += int64(permits)
	s.mu.Unlock()
	s.wake()
}

// dispatchRound sends what permits allow; it reports whether it sent
// anything, so the loop goes on while there is progress.
func (s *Subscription) dispatchRound() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.consumers) == 0 {
		return false
	}
	if !s.individualAckMode() {
		return s.dispatchSingleLocked()
	}
	return s.dispatchSharedLocked()
}

func (s *Subscription) dispatchSingleLocked() bool {
	c := s.active
	if c == nil || c.permits <= 0 {
		return false
	}
	entries := s.cursor.ReadNext(int(min(c.permits, dispatchBatch)))
	sent := false
	for _, e := range entries {
		if s.consumeMarkerLocked(e) {
			sent = true
			continue
		}
		s.sendLocked(c, e)
		sent = true
	}
	return sent
}

func (s *Subscription) dispatchSharedLocked() bool {
	total := int64(0)
	for _, c := range s.consumers {
		if c.permits > 0 {
			total += c.permits
		}
	}
	if total <= 0 {
		return false
	}
	entries := s.nextEntriesLocked(int(min(total, dispatchBatch)))
	sent := false
	for _, e := range entries {
		if s.consumeMarkerLocked(e) {
			sent = true
			continue
		}
		c := s.chooseConsumerLocked(e)
		if c == nil {
			s.redeliver[e.Pos] = true
			continue
		}
		s.sendLocked(c, e)
		sent = true
	}
	return sent
}

// nextEntriesLocked takes messages to redeliver first, then new reads.
func (s *Subscription) nextEntriesLocked(n int) []ledger.Entry {
	var out []ledger.Entry
	if len(s.redeliver) > 0 {
		ps := make([]ledger.Position, 0, len(s.redeliver))
		for p := range s.redeliver {
			ps = append(ps, p)
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i].Compare(ps[j]) < 0 })
		for _, p := range ps {
			if len(out) >= n {
				break
			}
			delete(s.redeliver, p)
			if s.cursor.IsDeleted(p) {
				continue
			}
			if e, ok := s.topic.ml.Get(p); ok {
				out = append(out, e)
			}
		}
	}
	if len(out) < n {
		out = append(out, s.cursor.ReadNext(n-len(out))...)
	}
	return out
}

// chooseConsumerLocked is round robin over consumers with permits for
// Shared, and a hash of the key over the consumers for Key_Shared.
func (s *Subscription) chooseConsumerLocked(e ledger.Entry) *consumer {
	if s.subType == wire.SubType_Key_Shared {
		c := s.consumers[keySlot(e, len(s.consumers))]
		if c.permits <= 0 {
			return nil
		}
		return c
	}
	for i := 0; i < len(s.consumers); i++ {
		c := s.consumers[(s.rr+i)%len(s.consumers)]
		if c.permits > 0 {
			s.rr = (s.rr + i + 1) % len(s.consumers)
			return c
		}
	}
	return nil
}

// keySlot maps an entry's sticky key (ordering key, else partition key) to
// one of n consumers; entries without a key share one slot.
func keySlot(e ledger.Entry, n int) int {
	key := ""
	if pe, err := wire.ParseEntry(e.Data); err == nil {
		switch {
		case len(pe.Meta.GetOrderingKey()) > 0:
			key = string(pe.Meta.GetOrderingKey())
		default:
			key = pe.Meta.GetPartitionKey()
		}
	}
	return int(crc32.ChecksumIEEE([]byte(key)) % uint32(n))
}

// consumeMarkerLocked acknowledges a marker entry instead of dispatching
// it, and lets a replicated subscription remember snapshots it passes.
func (s *Subscription) consumeMarkerLocked(e ledger.Entry) bool {
	if !e.Marker {
		return false
	}
	s.cursor.Delete(e.Pos)
	if s.replicated {
		s.observeSnapshotLocked(e)
		go s.topic.pip33.subscriptionMoved(s)
	}
	return true
}

func (s *Subscription) sendLocked(c *consumer, e ledger.Entry) {
	var ackSet []int64
	if s.topic.cluster.opts.BatchIndexAck {
		ackSet = s.cursor.BatchAckSet(e.Pos)
	}
	count := s.redelivery[e.Pos]
	if s.individualAckMode() {
		s.pending[e.Pos] = c
	}
	c.permits -= int64(e.NumMessages)
	s.msgOut += int64(e.NumMessages)
	c.sendMessage(e, count, ackSet)
}

// ack applies a consumer's acknowledgement as Pulsar's Consumer and
// PersistentSubscription do.
func (s *Subscription) ack(c *consumer, a *wire.Ack) error {
	if a.GetAckType() == wire.AckType_Cumulative {
		return s.ackCumulative(a)
	}
	s.mu.Lock()
	var deleted []ledger.Position
	for _, id := range a.GetMessageId() {
		p := ledger.Position{Ledger: int64(id.GetLedger()), Entry: int64(id.GetEntry())}
		if len(id.GetAckSet()) > 0 {
			if s.topic.cluster.opts.BatchIndexAck {
				if s.cursor.AckBatchIndexes(p, id.GetAckSet(), id.GetBatchSize()) {
					s.forgetLocked(p)
				}
			}
			continue
		}
		deleted = append(deleted, p)
		s.forgetLocked(p)
	}
	s.cursor.Delete(deleted...)
	s.mu.Unlock()
	s.afterAck()
	return nil
}

func (s *Subscription) forgetLocked(p ledger.Position) {
	delete(s.pending, p)
	delete(s.redeliver, p)
	delete(s.redelivery, p)
}

func (s *Subscription) ackCumulative(a *wire.Ack) error {
	s.mu.Lock()
	if s.individualAckMode() {
		s.mu.Unlock()
		return fmt.Errorf("cumulative ack is not allowed on %v subscription %s", s.subType, s.name)
	}
	ids := a.GetMessageId()
	if len(ids) == 0 {
		s.mu.Unlock()
		return nil
	}
	p := ledger.Position{Ledger: int64(ids[0].GetLedger()), Entry: int64(ids[0].GetEntry())}
	err := s.cursor.MarkDelete(p)
	s.mu.Unlock()
	s.afterAck()
	return err
}

// afterAck lets PIP-33 react to a moved mark-delete position.
func (s *Subscription) afterAck() {
	if s.isReplicated() {
		s.topic.pip33.subscriptionMoved(s)
	}
}

// redeliverUnacked handles CommandRedeliverUnacknowledgedMessages.
func (s *Subscription) redeliverUnacked(c *consumer, ids []*wire.MsgID) {
	s.mu.Lock()
	if !s.individualAckMode() {
		if c == s.active {
			s.cursor.Rewind()
		}
		s.mu.Unlock()
		s.wake()
		return
	}
	move := func(p ledger.Position) {
		if s.pending[p] == c {
			delete(s.pending, p)
			s.redeliver[p] = true
			s.redelivery[p]++
		}
	}
	if len(ids) == 0 {
		for p := range s.pending {
			move(p)
		}
	}
	for _, id := range ids {
		move(ledger.Position{Ledger: int64(id.GetLedger()), Entry: int64(id.GetEntry())})
	}
	s.mu.Unlock()
	s.wake()
}

func (s *Subscription) pendingCount(c *consumer) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, owner := range s.pending {
		if owner == c {
			n++
		}
	}
	return n
}
