package mapping

import (
	"math/rand/v2"
	"testing"

	"github.com/subsync/subsync/ackset"
)

// go test -run '^$' -bench RunBuilder ./mapping
func BenchmarkRunBuilderAppend(b *testing.B) {
	cases := []struct {
		name string
		// id returns the EntryID of local entry i.
		id func(i int64) ackset.EntryID
	}{
		// Replication in order: runs break only at origin ledger ends.
		{"in-order", func(i int64) ackset.EntryID { return eid("east", i/50_000, i%50_000) }},
		// Two clusters' entries alternate: every entry is its own run.
		{"interleaved", func(i int64) ackset.EntryID {
			if i%2 == 0 {
				return eid("east", 7, i/2)
			}
			return eid("west", 9, i/2)
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var rb RunBuilder
			runs := 0
			b.ReportAllocs()
			for i := range int64(b.N) {
				if err := rb.Append(pos(1+i/100_000, i%100_000), c.id(i)); err != nil {
					b.Fatal(err)
				}
				if i%1024 == 1023 {
					runs += len(rb.Drain())
				}
			}
			runs += len(rb.Flush())
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
			b.ReportMetric(float64(runs), "runs")
		})
	}
}

const benchTopic = "persistent://tenant/namespace/orders-partition-3"

// benchRuns makes n runs shaped like a busy topic: local writes interleaved
// with copies from two remote clusters, 1..64 entries per run, local
// ledgers of 50,000 entries.
func benchRuns(n int) []Run {
	rng := rand.New(rand.NewPCG(1, 1))
	origins := []string{"us-east-1", "eu-west-1", "ap-south-1"}
	next := map[string]int64{}
	out := make([]Run, 0, n)
	local := pos(100, 0)
	for i := range n {
		origin := origins[i%len(origins)]
		count := 1 + rng.Int64N(64)
		if local.Entry+count > 50_000 {
			local = pos(local.Ledger+1, 0)
		}
		oe := next[origin]
		oLedger := 1000 + oe/50_000
		if oe%50_000+count > 50_000 {
			oe = (oe/50_000 + 1) * 50_000
			oLedger = 1000 + oe/50_000
		}
		out = append(out, Run{Local: local, Origin: origin, OriginLedger: oLedger, OriginEntry: oe % 50_000, Count: count})
		next[origin] = oe + count
		local.Entry += count
	}
	return out
}

func fillStore(b *testing.B, s *Store, runs []Run) {
	b.Helper()
	for len(runs) > 0 {
		n := min(1000, len(runs))
		if err := s.AppendTail(benchTopic, runs[:n], runs[n-1].Last()); err != nil {
			b.Fatal(err)
		}
		runs = runs[n:]
	}
}

// go test -run '^$' -bench BytesPerRun -benchtime 1x ./mapping
func BenchmarkStoreBytesPerRun(b *testing.B) {
	const n = 100_000
	runs := benchRuns(n)
	for range b.N {
		s := openTestStore(b)
		fillStore(b, s, runs)
		if err := s.db.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := s.db.Compact([]byte{0}, []byte{0xff}, false); err != nil {
			b.Fatal(err)
		}
		m := s.db.Metrics()
		b.ReportMetric(float64(m.Total().Size)/n, "sst-bytes/run")
		b.ReportMetric(float64(m.DiskSpaceUsage())/n, "disk-bytes/run")
	}
}

func lookupStore(b *testing.B) (*Store, []Run) {
	b.Helper()
	runs := benchRuns(100_000)
	s := openTestStore(b)
	fillStore(b, s, runs)
	return s, runs
}

// go test -run '^$' -bench Lookup ./mapping
func BenchmarkLookupEntry(b *testing.B) {
	s, runs := lookupStore(b)
	rng := rand.New(rand.NewPCG(2, 2))
	b.ResetTimer()
	for range b.N {
		r := runs[rng.IntN(len(runs))]
		p := pos(r.Local.Ledger, r.Local.Entry+rng.Int64N(r.Count))
		if _, ok, err := s.LookupEntry(benchTopic, p); err != nil || !ok {
			b.Fatalf("LookupEntry(%s): %t, %v", p, ok, err)
		}
	}
}

func BenchmarkLookupLocalPositions(b *testing.B) {
	s, runs := lookupStore(b)
	rng := rand.New(rand.NewPCG(3, 3))
	b.ResetTimer()
	for range b.N {
		r := runs[rng.IntN(len(runs))]
		id := eid(r.Origin, r.OriginLedger, r.OriginEntry+rng.Int64N(r.Count))
		if got, err := s.LocalPositions(benchTopic, id); err != nil || len(got) != 1 {
			b.Fatalf("LocalPositions(%s): %v, %v", id, got, err)
		}
	}
}

// go test -run '^$' -bench AppendTail ./mapping
func BenchmarkAppendTail(b *testing.B) {
	runs := benchRuns(b.N * 10)
	s := openTestStore(b)
	b.ResetTimer()
	for i := range b.N {
		batch := runs[i*10 : i*10+10]
		if err := s.AppendTail(benchTopic, batch, batch[9].Last()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*10)/b.Elapsed().Seconds(), "runs/s")
}
