package emulator

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
)

func startSim(t *testing.T, names ...string) *Sim {
	t.Helper()
	var cos []ClusterOptions
	for _, n := range names {
		cos = append(cos, ClusterOptions{Name: n, LedgerMaxEntries: 10, SnapshotFrequency: 100 * time.Millisecond})
	}
	s, err := Start(Options{Clusters: cos})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func newClient(t *testing.T, url string) pulsar.Client {
	t.Helper()
	c, err := pulsar.NewClient(pulsar.ClientOptions{URL: url, Logger: nil})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestProduceConsumeRoundTrip(t *testing.T) {
	s := startSim(t, "east")
	cl := newClient(t, s.Cluster("east").ServiceURL())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cons, err := cl.Subscribe(pulsar.ConsumerOptions{Topic: "smoke", SubscriptionName: "s", Type: pulsar.Shared})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	prod, err := cl.CreateProducer(pulsar.ProducerOptions{Topic: "smoke"})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	const n = 25
	for i := 0; i < n; i++ {
		if _, err := prod.Send(ctx, &pulsar.ProducerMessage{Payload: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		m, err := cons.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Payload()) != fmt.Sprint(i) {
			t.Fatalf("message %d: got %q", i, m.Payload())
		}
		if err := cons.Ack(m); err != nil {
			t.Fatal(err)
		}
	}
}
