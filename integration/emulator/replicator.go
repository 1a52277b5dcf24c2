package emulator

import (
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/subsync/subsync/integration/ledger"
	"github.com/subsync/subsync/integration/wire"
)

// SourcePositionProperty is the property Pulsar 3.0.11+/3.3.6+/4.0.4+
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
}

func newReplicator(t *Topic, remote string) *replicator {
	// Pulsar opens the replicator cursor at the latest position when the
	// replicator starts.
	cur, _ := t.ml.OpenCursor(replicatorCursorPrefix+remote, t.ml.LatestMarkDelete(), ledger.CursorOptions{Durable: true})
	return &replicator{topic: t, remote: remote, cursor: cur, stopCh: make(chan struct{}), done: make(chan struct{})}
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
	if !r.topic.cluster.opts.NoSourcePositionStamp {
		meta.Properties = append(meta.Properties, &wire.Pair{
			Key: proto.String(SourcePositionProperty), Value: proto.String(e.Pos.String())})
	}
	raw, err := wire.BuildEntry(meta, pe.Payload)
	if err != nil {
		return err
	}
	dst.publish(raw, meta, now)
	return nil
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
