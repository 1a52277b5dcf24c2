package replicator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"

	"github.com/subsync/subsync/ackset"
)

// BenchmarkSyncLag measures the time from an acknowledgement on the
// primary to the same entry being acknowledged on the standby's cursor,
// with a 1 s export interval and acknowledgements paced at 2,000/s. Run
// it once: go test -run '^$' -bench SyncLag -benchtime 1x ./replicator/
// (on real brokers: go run ./cmd/testbed exec -- go test ... ).
func BenchmarkSyncLag(b *testing.B) {
	const (
		rate     = 2000
		duration = 10 * time.Second
		n        = rate * int(duration/time.Second)
	)
	p := newBenchPair(b)
	topic := "persistent://" + p.ns + "/lag"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	east := p.clients["east"]
	const ackers = 8 // one acknowledging consumer cannot do 2,000 confirmed acks/s on 2 cores
	var consumers []pulsar.Consumer
	for i := 0; i < ackers; i++ {
		cons, err := east.Subscribe(pulsar.ConsumerOptions{Topic: topic, SubscriptionName: "lag", Type: pulsar.Shared,
			SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest, AckWithResponse: true, ReceiverQueueSize: 1000})
		if err != nil {
			b.Fatal(err)
		}
		defer cons.Close()
		consumers = append(consumers, cons)
	}
	prod, err := east.CreateProducer(pulsar.ProducerOptions{Topic: topic, DisableBatching: true})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i++ {
		prod.SendAsync(ctx, &pulsar.ProducerMessage{Payload: []byte(strconv.Itoa(i))}, nil)
	}
	if err := prod.FlushWithCtx(context.Background()); err != nil {
		b.Fatal(err)
	}
	westPos := westPositions(b, p, topic, n)
	p.startDaemonTB(b, "east", time.Second)
	p.startDaemonTB(b, "west", time.Second)
	time.Sleep(2 * time.Second) // let both daemons tail the topic and subscribe

	var mu sync.Mutex
	ackedAt := make(map[ackset.Position]time.Time, n)
	stop := make(chan struct{})
	var lags []time.Duration
	var pollErr error
	pollDone := make(chan struct{})
	go func() {
		// Fatal must not be called here (it would end this goroutine
		// only): the error is reported once the acknowledgements are done.
		defer close(pollDone)
		lags, pollErr = pollStandby(p, topic, "lag", westPos, &mu, ackedAt, stop, n)
	}()
	b.ResetTimer()
	ackStart := time.Now()
	type received struct {
		cons pulsar.Consumer
		msg  pulsar.Message
	}
	inbox := make(chan received, n)
	for _, cons := range consumers {
		go func() {
			for {
				m, err := cons.Receive(ctx)
				if err != nil {
					return // ctx ends the benchmark
				}
				inbox <- received{cons, m}
			}
		}()
	}
	var wg sync.WaitGroup
	var next atomic.Int64
	var ackCount sync.WaitGroup
	ackCount.Add(n)
	for range ackers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				// Ack number i is due at ackStart + i/rate, whichever acker takes it.
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				time.Sleep(time.Until(ackStart.Add(time.Duration(i) * time.Second / rate)))
				var r received
				select {
				case r = <-inbox:
				case <-ctx.Done():
					return
				}
				if err := r.cons.Ack(r.msg); err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				ackedAt[westPos[string(r.msg.Payload())]] = time.Now()
				mu.Unlock()
				ackCount.Done()
			}
		}()
	}
	ackCount.Wait()
	acksDone := time.Since(ackStart)
	b.ReportMetric(float64(n)/acksDone.Seconds(), "acks/s")
	select {
	case <-pollDone:
	case <-time.After(30 * time.Second):
		close(stop)
		<-pollDone
	}
	b.StopTimer()
	cancel() // releases the ackers blocked in Receive
	wg.Wait()
	if pollErr != nil {
		b.Fatal(pollErr)
	}
	if len(lags) < n {
		b.Fatalf("only %d of %d acknowledgements reached the standby", len(lags), n)
	}
	slices.Sort(lags)
	b.ReportMetric(lags[len(lags)/2].Seconds(), "p50-lag-s")
	b.ReportMetric(lags[len(lags)*99/100].Seconds(), "p99-lag-s")
	b.ReportMetric(lags[len(lags)-1].Seconds(), "max-lag-s")
}

// westPositions reads the standby's copy and maps payload -> position.
func westPositions(b *testing.B, p *pair, topic string, n int) map[string]ackset.Position {
	r, err := p.clients["west"].CreateReader(pulsar.ReaderOptions{Topic: topic, StartMessageID: pulsar.EarliestMessageID()})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	out := make(map[string]ackset.Position, n)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for len(out) < n {
		m, err := r.Next(ctx)
		if err != nil {
			b.Fatalf("reading the standby copy: %d of %d: %v", len(out), n, err)
		}
		out[string(m.Payload())] = ackset.Position{Ledger: m.ID().LedgerID(), Entry: m.ID().EntryID()}
	}
	return out
}

// pollStandby reads the standby cursor every 10 ms and records, for each
// newly acknowledged position, the time since its acknowledgement on the
// primary. A position acknowledged on the standby before the primary is an
// error: it would be lost at a failover.
func pollStandby(p *pair, topic, sub string, westPos map[string]ackset.Position,
	mu *sync.Mutex, ackedAt map[ackset.Position]time.Time, stop chan struct{}, n int) ([]time.Duration, error) {
	tn, _ := utils.GetTopicName(topic)
	seen := map[ackset.Position]bool{}
	var lags []time.Duration
	all := make([]ackset.Position, 0, len(westPos))
	for _, pos := range westPos {
		all = append(all, pos)
	}
	for len(lags) < n {
		select {
		case <-stop:
			return lags, nil
		case <-time.After(10 * time.Millisecond):
		}
		st, err := p.admins["west"].Topics().GetInternalStats(*tn)
		if err != nil {
			continue
		}
		cs, ok := st.Cursors[sub]
		if !ok {
			continue
		}
		now := time.Now()
		mdp, err1 := ackset.ParsePosition(cs.MarkDeletePosition)
		idm, err2 := ackset.ParseIDM(cs.IndividuallyDeletedMessages)
		if err := errors.Join(err1, err2); err != nil {
			return lags, fmt.Errorf("standby cursor unreadable: %w", err)
		}
		mu.Lock()
		for _, pos := range all {
			if seen[pos] || !isAcked(pos, mdp, idm) {
				continue
			}
			at, ok := ackedAt[pos]
			if !ok {
				mu.Unlock()
				return lags, fmt.Errorf("standby acknowledged %s before the primary did (standby cursor: markDeletePosition %s, individuallyDeletedMessages %.200s)",
					pos, cs.MarkDeletePosition, cs.IndividuallyDeletedMessages)
			}
			seen[pos] = true
			lags = append(lags, now.Sub(at))
		}
		mu.Unlock()
	}
	return lags, nil
}

func isAcked(p, mdp ackset.Position, idm []ackset.Range) bool {
	if !mdp.Less(p) {
		return true
	}
	for _, r := range idm {
		if r.Contains(p) {
			return true
		}
	}
	return false
}
