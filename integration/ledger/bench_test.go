package ledger

import "testing"

// BenchmarkAppendReadDelete measures the dispatch loop of one subscription:
// append an entry, read it through the cursor, acknowledge it.
func BenchmarkAppendReadDelete(b *testing.B) {
	ml := New("bench", Config{MaxEntriesPerLedger: 50000})
	c, _ := ml.OpenCursor("s", ml.LatestMarkDelete(), CursorOptions{Durable: true})
	data := make([]byte, 100)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		ml.Append(Entry{Data: data, NumMessages: 1})
		for _, e := range c.ReadNext(1) {
			c.Delete(e.Pos)
		}
	}
	b.StopTimer()
	if c.Backlog() != 0 {
		b.Fatalf("backlog %d", c.Backlog())
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkOutOfOrderAcks acknowledges batches of 64 entries in reverse
// order, so every ack but the last goes through the individually deleted
// set before collapsing.
func BenchmarkOutOfOrderAcks(b *testing.B) {
	ml := New("bench", Config{MaxEntriesPerLedger: 50000})
	c, _ := ml.OpenCursor("s", ml.LatestMarkDelete(), CursorOptions{Durable: true})
	data := make([]byte, 100)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += 64 {
		for range 64 {
			ml.Append(Entry{Data: data})
		}
		es := c.ReadNext(64)
		for j := len(es) - 1; j >= 0; j-- {
			c.Delete(es[j].Pos)
		}
	}
	b.StopTimer()
	if c.Backlog() != 0 {
		b.Fatalf("backlog %d", c.Backlog())
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
