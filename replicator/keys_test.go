package replicator

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/subsync/subsync/snapshot"
)

// SetKeys takes effect on the next message: once east signs with a key
// west does not have, west rejects east's messages as unknown_key; once
// west accepts the new key too, it stops rejecting them.
func TestSetKeysSwapsTheSigningKey(t *testing.T) {
	p := newPair(t)
	topic := "persistent://" + p.ns + "/rotation"
	cons, err := p.clients["east"].Subscribe(pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	prod, err := p.clients["east"].CreateProducer(pulsar.ProducerOptions{Topic: topic})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	if _, err := prod.Send(context.Background(), &pulsar.ProducerMessage{Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	p.startDaemon(t, "east")
	p.startDaemon(t, "west")
	west := p.daemons["west"]
	unknownKey := func() float64 {
		return testutil.ToFloat64(west.metrics.UpdatesRejected.WithLabelValues("west", p.ns, "unknown_key"))
	}
	received := func() float64 {
		return testutil.ToFloat64(west.metrics.UpdatesReceived.WithLabelValues("west", p.ns, "east", snapshot.TypeSnapshotRequest.String()))
	}
	eventually(t, 10*time.Second, "west receives east's snapshot requests", func() error {
		if received() == 0 {
			return fmt.Errorf("none yet")
		}
		return nil
	})
	if n := unknownKey(); n != 0 {
		t.Fatalf("unknown_key %v before any rotation", n)
	}

	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	newKey := snapshot.Key{ID: 2, Secret: secret}
	onlyNew, err := snapshot.NewKeyring(2, newKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.daemons["east"].SetKeys(onlyNew); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "west rejects east's messages signed with a key it lacks", func() error {
		if unknownKey() == 0 {
			return fmt.Errorf("no unknown_key rejection yet")
		}
		return nil
	})

	both, err := snapshot.NewKeyring(2, p.keys.Current(), newKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := west.SetKeys(both); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // messages already in flight may still be rejected
	rejected, before := unknownKey(), received()
	eventually(t, 10*time.Second, "west accepts east's messages again", func() error {
		if received() <= before {
			return fmt.Errorf("no new snapshot request accepted")
		}
		return nil
	})
	if n := unknownKey(); n != rejected {
		t.Errorf("unknown_key went from %v to %v after west learned the new key", rejected, n)
	}
	if err := west.SetKeys(nil); err == nil {
		t.Error("SetKeys(nil) accepted")
	}
}
