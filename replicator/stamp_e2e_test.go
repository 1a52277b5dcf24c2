package replicator

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/integration/emulator"
)

// sendBatch publishes the messages as one batched entry.
func sendBatch(ctx context.Context, t *testing.T, prod pulsar.Producer, props ...map[string]string) {
	t.Helper()
	errs := make(chan error, len(props))
	for i, p := range props {
		prod.SendAsync(ctx, &pulsar.ProducerMessage{Payload: []byte(fmt.Sprint(i)), Properties: p},
			func(_ pulsar.MessageID, _ *pulsar.ProducerMessage, err error) { errs <- err })
	}
	if err := prod.FlushWithCtx(ctx); err != nil {
		t.Fatal(err)
	}
	for range props {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// Finding 6, through the emulator in both header styles and with a
// compressed batch (the broker answers with it decompressed): a batched copy
// whose stamp the broker sent is mapped (3.0.x per-key headers included);
// one whose member carries a property named like the stamp (here larger
// than any real one, so the per-origin growth check would let it through)
// is not, and is counted.
func TestBatchedCopiesAreMappedFromTheEntryHeadersOnly(t *testing.T) {
	cases := []struct {
		perKey      bool
		compression pulsar.CompressionType
	}{{false, pulsar.NoCompression}, {true, pulsar.NoCompression}, {false, pulsar.LZ4}, {false, pulsar.ZSTD}}
	for _, c := range cases {
		perKey := c.perKey
		t.Run(fmt.Sprintf("perKeyHeaders=%t,compression=%d", perKey, c.compression), func(t *testing.T) {
			p := newPairTB(t, func(o *emulator.ClusterOptions) { o.PerKeyPropertyHeaders = perKey })
			topic := "persistent://" + p.ns + "/batched"
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			prod, err := p.clients["east"].CreateProducer(pulsar.ProducerOptions{Topic: topic,
				BatchingMaxMessages: 3, BatchingMaxPublishDelay: time.Minute, CompressionType: c.compression})
			if err != nil {
				t.Fatal(err)
			}
			defer prod.Close()
			p.startDaemon(t, "west")
			sendBatch(ctx, t, prod, map[string]string{"a": "1"}, nil, map[string]string{"b": "2"})
			sendBatch(ctx, t, prod, nil, map[string]string{SourcePositionProperty: "9999999999:0"}, nil)
			d := p.daemons["west"]
			var runs []ackset.Run
			eventually(t, 30*time.Second, "west's tail read both batches", func() error {
				w, err := d.workerFor(topic)
				if err != nil {
					return err
				}
				w.mu.Lock()
				started := w.tail.started
				w.mu.Unlock()
				refused := testutil.ToFloat64(d.metrics.TailStampsRefused.WithLabelValues("west", p.ns, topic, stampInMember))
				if !started || refused < 1 {
					return fmt.Errorf("tail started %t, stamp_in_batch_member %v", started, refused)
				}
				runs, err = d.deps.Store.Runs(topic, minPosition, maxPosition)
				return err
			})
			if len(runs) != 1 || runs[0].Count != 1 || runs[0].Origin != "east" {
				t.Fatalf("west's index %v, want the clean batch only, from east", runs)
			}
		})
	}
}

// Findings 6 and 11: a chunked message is mapped whole or not at all; the
// tail sees it once, at its last chunk, so it is not mapped, and counted.
func TestChunkedMessagesAreNotMappedInPart(t *testing.T) {
	p := newPair(t)
	topic := "persistent://" + p.ns + "/chunked"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	prod, err := p.clients["east"].CreateProducer(pulsar.ProducerOptions{Topic: topic,
		DisableBatching: true, EnableChunking: true, ChunkMaxMessageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	p.startDaemon(t, "east")
	if _, err := prod.Send(ctx, &pulsar.ProducerMessage{Payload: make([]byte, 250)}); err != nil {
		t.Fatal(err)
	}
	if _, err := prod.Send(ctx, &pulsar.ProducerMessage{Payload: []byte("small")}); err != nil {
		t.Fatal(err)
	}
	d := p.daemons["east"]
	var runs []ackset.Run
	eventually(t, 30*time.Second, "east's tail read both messages", func() error {
		if got := testutil.ToFloat64(d.metrics.TailEntries.WithLabelValues("east", p.ns, topic)); got < 2 {
			return fmt.Errorf("%v messages tailed", got)
		}
		var err error
		runs, err = d.deps.Store.Runs(topic, minPosition, maxPosition)
		if err == nil && len(runs) == 0 {
			err = fmt.Errorf("nothing flushed yet")
		}
		return err
	})
	if len(runs) != 1 || runs[0].Count != 1 {
		t.Fatalf("east's index %v, want the small message alone", runs)
	}
	if got := testutil.ToFloat64(d.metrics.TailStampsRefused.WithLabelValues("east", p.ns, topic, stampChunked)); got != 1 {
		t.Fatalf("chunked = %v, want 1", got)
	}
}
