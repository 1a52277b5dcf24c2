package emulator

import (
	"context"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/apache/pulsar-client-go/pulsar/log"
)

// BenchmarkProduceConsume measures the emulator end to end with the real
// client: 1 KiB messages, producer batching on, one Shared consumer
// acknowledging every message. It reports messages per second.
func BenchmarkProduceConsume(b *testing.B) {
	s, err := Start(Options{Clusters: []ClusterOptions{{Name: "east", LedgerMaxEntries: 50000}}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	cl, err := pulsar.NewClient(pulsar.ClientOptions{URL: s.Cluster("east").ServiceURL(), Logger: log.DefaultNopLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	topic := "bench-produce-consume"
	cons, err := cl.Subscribe(pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "bench", Type: pulsar.Shared,
		ReceiverQueueSize: 2000})
	if err != nil {
		b.Fatal(err)
	}
	defer cons.Close()
	prod, err := cl.CreateProducer(pulsar.ProducerOptions{Topic: topic, BatchingMaxPublishDelay: 5 * time.Millisecond,
		BatchingMaxMessages: 500})
	if err != nil {
		b.Fatal(err)
	}
	defer prod.Close()
	payload := make([]byte, 1024)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		for i := 0; i < b.N; i++ {
			m, err := cons.Receive(ctx)
			if err != nil {
				done <- err
				return
			}
			cons.Ack(m)
		}
		done <- nil
	}()
	for i := 0; i < b.N; i++ {
		prod.SendAsync(ctx, &pulsar.ProducerMessage{Payload: payload}, func(_ pulsar.MessageID, _ *pulsar.ProducerMessage, err error) {
			if err != nil {
				b.Error(err)
			}
		})
	}
	if err := prod.FlushWithCtx(context.Background()); err != nil {
		b.Fatal(err)
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
