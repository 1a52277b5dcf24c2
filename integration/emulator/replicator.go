package emulator

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/subsync/subsync/integration/ledger"
	"github.com/subsync/subsync/integration/wire"
)

// SourcePositionProperty is the property Pulsar 3.0.11+/3.3.5+/4.0.3+
// replicators add to every copy: the entry's position in the source topic.
const SourcePositionProperty = "__MSG_PROP_REPL_SOURCE_POSITION"

// replicatorCursorPrefix names replicator cursors, "pulsar.repl.<remote>".
const replicatorCursorPrefix = "pulsar.repl."

// replicator copies one topic's entries to one remote cluster, in order,
// one entry to one entry, as GeoPersistentReplicator does.
type replicator struct {
	topic  *Topic
	remote string
	cursor *ledger.Cursor
	stopCh chan struct{}
	done   chan struct{}
	// lastPersisted is GeoReplicationProducerImpl's last persisted source
	// position, which its send-receipt check compares against.
	lastPersisted ledger.Position
}

func newReplicator(t *Topic, remote string) *replicator {
	// Pulsar opens the replicator cursor at the latest position when the
	// replicator starts.
	cur, _ := t.ml.OpenCursor(replicatorCursorPrefix+remote, t.ml.LatestMarkDelete(), ledger.CursorOptions{Durable: true})
	return &replicator{topic: t, remote: remote, cursor: cur, stopCh: make(chan struct{}), done: make(chan struct{}),
		lastPersisted: ledger.Position{Ledger: -1, Entry: -1}}
}

func (r *replicator) stop() {
	select {
	case <-r.stopCh:
	default:
		close(r.stopCh)
	}
	<-r.done
}

// retryInterval is how often a stalled replicator looks again (link paused,
// remote down, remote namespace missing).
const retryInterval = 20 * time.Millisecond

func (r *replicator) run() {
	defer close(r.done)
	for {
		wait := r.topic.ml.WaitCh()
		progressed, stalled := r.replicateSome()
		if progressed {
			continue
		}
		var retry <-chan time.Time
		if stalled {
			retry = time.After(retryInterval)
		}
		select {
		case <-r.stopCh:
			return
		case <-r.topic.stopCh:
			return
		case <-wait:
		case <-retry:
		}
	}
}

// replicateSome ships what is readable now. It reports progress, and
// whether it stopped because the link cannot take entries yet.
func (r *replicator) replicateSome() (progressed, stalled bool) {
	sim := r.topic.cluster.sim
	if !sim.linkUp(r.topic.cluster.name, r.remote) {
		return false, r.cursor.HasMoreEntries()
	}
	dst, err := r.remoteTopic()
	if err != nil {
		return false, true
	}
	latency := sim.linkLatency(r.topic.cluster.name, r.remote)
	r.cursor.Rewind()
	entries := r.cursor.ReadNext(dispatchBatch)
	for _, e := range entries {
		if wait := time.Until(time.UnixMilli(e.PublishTime).Add(latency)); latency > 0 && wait > 0 {
			select {
			case <-time.After(wait):
			case <-r.stopCh:
				return progressed, false
			}
		}
		if err := r.replicateEntry(dst, e, time.Now()); err != nil {
			r.topic.cluster.log.Warn("replication stalled", "topic", r.topic.name.full, "remote", r.remote, "err", err)
			if errors.Is(err, errReceiptMismatch) {
				// The real producer closes its connection, reconnects and
				// re-sends: another copy about every reconnection.
				select {
				case <-time.After(resendDelay):
				case <-r.stopCh:
				}
			}
			return progressed, true
		}
		r.cursor.Delete(e.Pos)
		progressed = true
	}
	return progressed, false
}

func (r *replicator) remoteTopic() (*Topic, error) {
	rc := r.topic.cluster.sim.cluster(r.remote)
	if rc == nil || !rc.Running() {
		return nil, fmt.Errorf("remote cluster %s is not reachable", r.remote)
	}
	return rc.topic(r.topic.name.full, true)
}

// replicateEntry copies one entry unless GeoPersistentReplicator would
// skip it: already replicated, replicate_to excluding the remote, or
// expired by the namespace TTL.
func (r *replicator) replicateEntry(dst *Topic, e ledger.Entry, now time.Time) error {
	pe, err := wire.ParseEntry(e.Data)
	if err != nil {
		return nil // an unreadable entry is acknowledged and dropped, like Pulsar's
	}
	if r.skip(pe.Meta, e, now) {
		return nil
	}
	meta := proto.Clone(pe.Meta).(*wire.Metadata)
	meta.ReplicatedFrom = proto.String(r.topic.cluster.name)
	stamping := !r.topic.cluster.opts.NoSourcePositionStamp
	if stamping {
		// Appended, as Pulsar does: a key of the same name already in the
		// entry's metadata stays first.
		meta.Properties = append(meta.Properties, &wire.Pair{
			Key: proto.String(SourcePositionProperty), Value: proto.String(e.Pos.String())})
	}
	raw, err := wire.BuildEntry(meta, pe.Payload)
	if err != nil {
		return err
	}
	dst.publish(raw, meta, now)
	if stamping {
		return r.checkReceipt(meta, e.Pos)
	}
	return nil
}

// errReceiptMismatch is a send receipt GeoReplicationProducerImpl cannot
// match to its pending message.
var errReceiptMismatch = errors.New("send receipt does not match the pending message's source position")

// resendDelay is about how long the real replicator's producer takes to
// reconnect and re-send (4.0.7 on the test bed: 35 copies in 4 s).
const resendDelay = 100 * time.Millisecond

// checkReceipt is GeoReplicationProducerImpl#ackReceivedReplicatedMsg for a
// persisted copy of the entry at src: it reads the pending message's source
// position from the FIRST property named like the stamp. An application
// property of that name (pulsar-client-go puts a batch's first message
// properties into the entry's metadata) yields no position, or another
// one, and the producer closes its connection and re-sends the entry, which
// the remote stores again, forever. A position at or below the last
// persisted one is taken as a repeated send and accepted.
func (r *replicator) checkReceipt(meta *wire.Metadata, src ledger.Position) error {
	var pending *ledger.Position
	for _, kv := range meta.GetProperties() {
		if kv.GetKey() == SourcePositionProperty {
			pending = parseStampPosition(kv.GetValue())
			break
		}
	}
	switch {
	case pending != nil && pending.Compare(r.lastPersisted) <= 0:
		return nil
	case pending != nil && *pending == src:
		r.lastPersisted = src
		return nil
	default:
		return fmt.Errorf("copy of %s: %w", src, errReceiptMismatch)
	}
}

// parseStampPosition parses "ledger:entry" as the replicator's producer
// does (two runs of digits), or returns nil.
func parseStampPosition(v string) *ledger.Position {
	l, e, ok := strings.Cut(v, ":")
	if !ok || !digits(l) || !digits(e) || strings.Contains(e, ":") {
		return nil
	}
	li, err1 := strconv.ParseInt(l, 10, 64)
	ei, err2 := strconv.ParseInt(e, 10, 64)
	if err1 != nil || err2 != nil {
		return nil
	}
	return &ledger.Position{Ledger: li, Entry: ei}
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (r *replicator) skip(meta *wire.Metadata, e ledger.Entry, now time.Time) bool {
	if meta.GetReplicatedFrom() != "" {
		return true
	}
	if to := meta.GetReplicateTo(); len(to) > 0 && !slices.Contains(to, r.remote) {
		return true
	}
	if meta.MarkerType != nil && !r.topic.cluster.opts.replicatedSubscriptions() {
		return true
	}
	ttl := r.topic.cluster.meta.MessageTTL(r.topic.name.namespace)
	return ttl > 0 && e.PublishTime > 0 && now.Sub(time.UnixMilli(e.PublishTime)) > ttl
}
