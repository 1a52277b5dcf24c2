package replicator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/subsync/subsync/snapshot"
)

// controlChannel is one namespace's control topic: a producer for what
// this daemon says and a consumer for what every daemon said (the topic is
// geo-replicated, so remote daemons' messages arrive here too).
type controlChannel struct {
	d         *Daemon
	namespace string
	topic     string
	producer  pulsar.Producer
	consumer  pulsar.Consumer
	log       *slog.Logger
}

// controlSubscription is the daemon's durable subscription on a control
// topic. Failover lets a second daemon instance stand by.
func (d *Daemon) controlSubscription() string { return "subsync-" + d.cfg.Cluster }

func (d *Daemon) openControl(ctx context.Context, ns string) (*controlChannel, error) {
	topic := "persistent://" + ns + "/" + d.cfg.ControlTopic
	p, err := d.deps.Client.CreateProducer(pulsar.ProducerOptions{Topic: topic, DisableBatching: true})
	if err != nil {
		return nil, fmt.Errorf("control topic %s: producer: %w", topic, err)
	}
	c, err := d.deps.Client.Subscribe(pulsar.ConsumerOptions{
		Topic: topic, SubscriptionName: d.controlSubscription(), Type: pulsar.Failover,
		SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest,
	})
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("control topic %s: consumer: %w", topic, err)
	}
	return &controlChannel{d: d, namespace: ns, topic: topic, producer: p, consumer: c,
		log: d.log.With("namespace", ns, "topic", topic)}, nil
}

func (cc *controlChannel) close() {
	cc.consumer.Close()
	cc.producer.Close()
}

// publish signs and sends one message.
func (cc *controlChannel) publish(ctx context.Context, msg snapshot.Message) error {
	b, err := snapshot.Encode(msg, cc.d.keys.Load().Current())
	if err != nil {
		return fmt.Errorf("encoding %v: %w", msg.Type(), err)
	}
	if _, err := cc.producer.Send(ctx, &pulsar.ProducerMessage{Payload: b}); err != nil {
		if ctx.Err() == nil {
			cc.d.health.failed(cc.namespace, opControlPublish)
		}
		return fmt.Errorf("publishing %v to %s: %w", msg.Type(), cc.topic, err)
	}
	cc.d.health.succeeded(cc.namespace, opControlPublish)
	return nil
}

// receiveLoop hands every authentic message from another cluster to its
// topic's worker. Rejected messages are counted and acknowledged: they
// would never verify later either.
func (cc *controlChannel) receiveLoop(ctx context.Context) {
	for {
		m, err := cc.consumer.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			cc.d.health.failed(cc.namespace, opControlReceive)
			cc.log.Warn("control topic receive failed", "err", err)
			continue
		}
		cc.d.health.succeeded(cc.namespace, opControlReceive)
		cc.handle(ctx, m.Payload())
		_ = cc.consumer.Ack(m)
	}
}

func (cc *controlChannel) handle(ctx context.Context, payload []byte) {
	msg, err := snapshot.Decode(payload, cc.d.keys.Load())
	if err != nil {
		cc.reject(snapshot.ReasonOf(err).String(), "err", err)
		return
	}
	sender, topic := senderAndTopic(msg)
	if sender == cc.d.cfg.Cluster {
		return // our own message, back through the shared topic
	}
	if !slices.Contains(cc.d.remotesOf(cc.namespace), sender) {
		// Signed, but from no cluster this namespace replicates with: a
		// misconfigured daemon (a misspelt cluster name) or a replay
		// from elsewhere. Applying it could ack what nobody consumed.
		cc.reject("unknown_sender", "sender", sender, "msgTopic", topic)
		return
	}
	cc.d.metrics.UpdatesReceived.WithLabelValues(cc.d.cfg.Cluster, cc.namespace, sender, msg.Type().String()).Inc()
	w, err := cc.d.workerFor(topic)
	if err != nil {
		cc.reject("out_of_scope", "msgTopic", topic, "err", err)
		return
	}
	w.deliver(msg)
}

// reject counts a dropped message and logs it at a bounded rate.
func (cc *controlChannel) reject(reason string, args ...any) {
	cc.d.metrics.UpdatesRejected.WithLabelValues(cc.d.cfg.Cluster, cc.namespace, reason).Inc()
	cc.d.rateLog.warn(cc.log, cc.d.now(), reason, "control message rejected", args...)
}

// senderAndTopic reads who sent a message and which topic it is about.
func senderAndTopic(msg snapshot.Message) (sender, topic string) {
	switch m := msg.(type) {
	case *snapshot.Update:
		return m.Sender, m.Topic
	case *snapshot.SnapshotRequest:
		return m.Requester, m.Topic
	case *snapshot.SnapshotResponse:
		return m.Responder, m.Topic
	}
	return "", ""
}

// namespaceOf returns "tenant/ns" of a full persistent topic name.
func namespaceOf(topic string) (string, error) {
	rest, ok := strings.CutPrefix(topic, "persistent://")
	if !ok {
		return "", fmt.Errorf("topic %q: expected persistent://tenant/namespace/topic", topic)
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", fmt.Errorf("topic %q: expected persistent://tenant/namespace/topic", topic)
	}
	return parts[0] + "/" + parts[1], nil
}

// ErrNotInScope: the topic is not one the daemon syncs.
var ErrNotInScope = errors.New("topic is not in scope")
