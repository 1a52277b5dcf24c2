package workload

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
)

// ProduceOptions describe a producer run.
type ProduceOptions struct {
	Topic    string
	Messages int
	// Batching lets the producer group messages into batch entries (a
	// batch counts as acknowledged only when all its messages are).
	Batching bool
	// BatchMaxMessages caps a batch (0: the client's default, 1000).
	BatchMaxMessages int
	// Keys, when positive, gives message i the key "k-<i mod Keys>".
	Keys int
	// PayloadSize pads payloads to this many bytes.
	PayloadSize int
	// Rate, when positive, paces sends to this many messages per second
	// (0: as fast as the producer's queue allows).
	Rate int
	// SendTimeout bounds each send (default 30s).
	SendTimeout time.Duration
	Progress    io.Writer
}

// Produced is the outcome of a producer run.
type Produced struct {
	// IDs lists the ids whose send the broker confirmed, increasing.
	IDs []int
	// Failed counts sends that reported an error: those messages may or
	// may not be stored, so they are not counted as produced.
	Failed int
	// FirstError is the first send error, if any.
	FirstError error
}

// Key returns the key of message id, "" without keys.
func (o ProduceOptions) Key(id int) string {
	if o.Keys <= 0 {
		return ""
	}
	return "k-" + strconv.Itoa(id%o.Keys)
}

// Produce sends messages 0..Messages-1 in order and waits for every
// confirmation. A failed send is counted, not retried: a retry could store
// the message twice.
func Produce(ctx context.Context, client pulsar.Client, o ProduceOptions) (Produced, error) {
	if o.Messages < 1 || o.Messages > MaxMessages {
		return Produced{}, fmt.Errorf("produce: messages %d, expected 1 to %d", o.Messages, MaxMessages)
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 30 * time.Second
	}
	prod, err := client.CreateProducer(pulsar.ProducerOptions{
		Topic:               o.Topic,
		DisableBatching:     !o.Batching,
		BatchingMaxMessages: uint(max(0, o.BatchMaxMessages)),
		SendTimeout:         o.SendTimeout,
	})
	if err != nil {
		return Produced{}, fmt.Errorf("produce: create producer on %s: %w", o.Topic, err)
	}
	defer prod.Close()
	rec := newSendRecorder(o.Messages, o.Progress)
	start := time.Now()
	for id := 0; id < o.Messages; id++ {
		if !pace(ctx, start, id, o.Rate) {
			break
		}
		rec.wg.Add(1)
		msg := &pulsar.ProducerMessage{Payload: Payload(id, o.PayloadSize), Key: o.Key(id)}
		prod.SendAsync(ctx, msg, rec.callback(id))
	}
	if err := prod.FlushWithCtx(ctx); err != nil && ctx.Err() == nil {
		rec.fail(fmt.Errorf("flush: %w", err))
	}
	rec.wg.Wait()
	out := rec.result()
	if ctx.Err() != nil {
		return out, fmt.Errorf("produce: %d of %d confirmed: %w", len(out.IDs), o.Messages, ctx.Err())
	}
	return out, nil
}

// pace waits until message id is due at rate messages per second and
// reports whether ctx still allows sending.
func pace(ctx context.Context, start time.Time, id, rate int) bool {
	if rate <= 0 {
		return ctx.Err() == nil
	}
	due := start.Add(time.Duration(id) * time.Second / time.Duration(rate))
	wait := time.Until(due)
	if wait <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// sendRecorder collects SendAsync confirmations.
type sendRecorder struct {
	wg       sync.WaitGroup
	mu       sync.Mutex
	out      Produced
	total    int
	done     int
	progress *progress
}

func newSendRecorder(total int, w io.Writer) *sendRecorder {
	return &sendRecorder{total: total, progress: newProgress(w, "produce", total)}
}

func (r *sendRecorder) callback(id int) func(pulsar.MessageID, *pulsar.ProducerMessage, error) {
	return func(_ pulsar.MessageID, _ *pulsar.ProducerMessage, err error) {
		defer r.wg.Done()
		r.mu.Lock()
		defer r.mu.Unlock()
		r.done++
		if err != nil {
			r.out.Failed++
			if r.out.FirstError == nil {
				r.out.FirstError = fmt.Errorf("message %d: %w", id, err)
			}
		} else {
			r.out.IDs = append(r.out.IDs, id)
		}
		r.progress.update(r.done, "sent")
	}
}

func (r *sendRecorder) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.out.FirstError == nil {
		r.out.FirstError = err
	}
}

func (r *sendRecorder) result() Produced {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.out
	out.IDs = slices.Clone(out.IDs)
	slices.Sort(out.IDs)
	return out
}
