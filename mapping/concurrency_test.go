package mapping

import (
	"fmt"
	"sync"
	"testing"
)

// Writers of several topics, with readers and state writers, under
// the race detector: every write lands and the topics stay consistent.
func TestConcurrentWritersAndReaders(t *testing.T) {
	s := openTestStore(t)
	const writers, batches = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*3)
	for w := range writers {
		topic := fmt.Sprintf("persistent://t/ns/c-partition-%d", w)
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range int64(batches) {
				// Each batch continues the previous one: all merge into one run.
				r := mkRun(1, i*4, "east", 1, i*4, 4)
				if err := s.AppendTail(topic, []Run{r}, r.Last()); err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := range int64(batches) {
				if _, _, err := s.LookupEntry(topic, pos(1, i)); err != nil {
					errs <- err
					return
				}
				if err := s.PutExported(topic, "sub", State{Seq: uint64(i)}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for w := range writers {
		topic := fmt.Sprintf("persistent://t/ns/c-partition-%d", w)
		assertRuns(t, s, topic, mkRun(1, 0, "east", 1, 0, 4*batches))
		mustCheck(t, s, topic)
	}
}
