package ledger

import (
	"encoding/json"
	"sync"
	"testing"
)

// Appends, reads, individual and cumulative acks, stats and resets run
// concurrently; run with -race. At the end every entry is acknowledged.
func TestConcurrentAppendsAndAcks(t *testing.T) {
	ml := newTestLedger(t, 7, 0)
	const writers, perWriter = 4, 300
	subs := []*Cursor{}
	for _, n := range []string{"a", "b"} {
		c, _ := ml.OpenCursor(n, ml.EarliestMarkDelete(), CursorOptions{Durable: true})
		subs = append(subs, c)
	}
	reader, _ := ml.OpenCursor("reader", Earliest, CursorOptions{})

	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perWriter {
				ml.Append(Entry{Data: []byte("payload")})
			}
		}()
	}
	done := make(chan struct{})
	var ackers sync.WaitGroup
	for _, c := range subs {
		ackers.Add(1)
		go func() {
			defer ackers.Done()
			acked := 0
			for acked < writers*perWriter {
				wait := ml.WaitCh()
				es := c.ReadNext(13)
				if len(es) == 0 {
					select {
					case <-wait:
					case <-done:
					}
					continue
				}
				// Ack out of order: odd indexes first, then the rest.
				for i := 1; i < len(es); i += 2 {
					c.Delete(es[i].Pos)
				}
				for i := 0; i < len(es); i += 2 {
					c.Delete(es[i].Pos)
				}
				acked += len(es)
			}
		}()
	}
	var observer sync.WaitGroup
	observer.Add(1)
	go func() { // stats and a reader competing for the lock
		defer observer.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := json.Marshal(ml.InternalStats()); err != nil {
				t.Error(err)
				return
			}
			for _, e := range reader.ReadNext(50) {
				_ = reader.MarkDelete(e.Pos)
			}
			_ = ml.FirstPosition()
		}
	}()
	wg.Wait()
	ackers.Wait() // each acker returns once it has read and acked every entry
	close(done)
	observer.Wait()
	lac := ml.LastConfirmed()
	if ml.EntriesAdded() != writers*perWriter {
		t.Fatalf("entries added %d", ml.EntriesAdded())
	}
	for _, c := range subs {
		if c.MarkDeletePosition() != lac || c.IndividuallyDeletedMessages() != "[]" || c.Backlog() != 0 {
			t.Errorf("%s: MDP %v (LAC %v) IDM %s backlog %d", c.Name(), c.MarkDeletePosition(), lac, c.IndividuallyDeletedMessages(), c.Backlog())
		}
	}
}
