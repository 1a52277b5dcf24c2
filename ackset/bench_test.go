package ackset

import (
	"fmt"
	"math/rand"
	"testing"
)

const (
	windowEntries   = 1_000_000
	firstLedgerID   = 1687807 // a realistic 7-digit ledger id
	pulsarRollover  = 50_000  // managedLedgerMaxEntriesPerLedger default
	benchOrigin     = "us-east-1"
	benchRandomSeed = 2024
)

// windowState is one subscription over a window of 1,000,000 locally
// produced entries: a fraction of them are holes (never acknowledged), all
// others are acknowledged. The cursor is what Pulsar would hold: the
// mark-delete position right before the first hole and one IDM range per
// acknowledged stretch after it, split at ledger boundaries as the default
// broker range set does.
type windowState struct {
	mdp   Position
	idm   []Range
	runs  []Run
	holes int
}

func newWindowState(perLedger int, holeFraction float64) windowState {
	r := rand.New(rand.NewSource(benchRandomSeed))
	var w windowState
	ledger := int64(firstLedgerID)
	firstHoleSeen := false
	for start := 0; start < windowEntries; start += perLedger {
		n := min(perLedger, windowEntries-start)
		w.runs = append(w.runs, Run{Local: pos(ledger, 0), Origin: benchOrigin,
			OriginLedger: ledger, OriginEntry: 0, Count: int64(n)})
		stretch := int64(-1) // first entry of the current acknowledged stretch
		for e := range int64(n) {
			if r.Float64() >= holeFraction {
				if stretch < 0 {
					stretch = e
				}
				continue
			}
			w.holes++
			if !firstHoleSeen {
				firstHoleSeen = true
				w.mdp = pos(ledger, e-1)
			} else if stretch >= 0 {
				w.idm = append(w.idm, rng(ledger, stretch-1, ledger, e-1))
			}
			stretch = -1
		}
		if stretch >= 0 && firstHoleSeen {
			w.idm = append(w.idm, rng(ledger, stretch-1, ledger, int64(n)-1))
		}
		ledger += 1 + int64(r.Intn(40)) // other topics' ledgers in between
	}
	return w
}

func (w windowState) set(b *testing.B) Set {
	s, err := FromCursor(w.mdp, w.idm, w.runs)
	if err != nil {
		b.Fatal(err)
	}
	if got, want := s.Cardinality(), uint64(windowEntries-w.holes); got != want {
		b.Fatalf("acked set has %d entries, want %d", got, want)
	}
	return s
}

type windowCase struct {
	name         string
	perLedger    int
	holeFraction float64
}

var windowCases = []windowCase{
	{"single-ledger/holes=1%", windowEntries, 0.01},
	{"single-ledger/holes=10%", windowEntries, 0.10},
	{"50k-per-ledger/holes=1%", pulsarRollover, 0.01},
	{"50k-per-ledger/holes=10%", pulsarRollover, 0.10},
}

// BenchmarkEncodedSize reports the size of one subscription's full state
// against the IDM string the broker prints for the same cursor.
func BenchmarkEncodedSize(b *testing.B) {
	for _, c := range windowCases {
		b.Run(c.name, func(b *testing.B) {
			w := newWindowState(c.perLedger, c.holeFraction)
			s := w.set(b)
			idmLen := len(FormatIDM(w.idm))
			var enc []byte
			for b.Loop() {
				var err error
				if enc, err = Encode(s); err != nil {
					b.Fatal(err)
				}
			}
			ratio := float64(idmLen) / float64(len(enc))
			b.ReportMetric(float64(len(enc)), "encoded-bytes")
			b.ReportMetric(float64(idmLen), "idm-bytes")
			b.ReportMetric(float64(len(w.idm)), "idm-ranges")
			b.ReportMetric(ratio, "idm/encoded")
			if ratio < 10 {
				b.Errorf("encoding is only %.1fx smaller than the IDM string, target 10x", ratio)
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, c := range windowCases {
		b.Run(c.name, func(b *testing.B) {
			s := newWindowState(c.perLedger, c.holeFraction).set(b)
			enc, err := Encode(s)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(enc)))
			for b.Loop() {
				got, err := Decode(enc)
				if err != nil {
					b.Fatal(err)
				}
				if got.Cardinality() != s.Cardinality() {
					b.Fatal("decoded set differs")
				}
			}
		})
	}
}

func BenchmarkParseIDM(b *testing.B) {
	for _, c := range windowCases[2:] {
		b.Run(c.name, func(b *testing.B) {
			w := newWindowState(c.perLedger, c.holeFraction)
			text := FormatIDM(w.idm)
			b.SetBytes(int64(len(text)))
			ranges := 0
			for b.Loop() {
				got, err := ParseIDM(text)
				if err != nil {
					b.Fatal(err)
				}
				ranges += len(got)
			}
			b.ReportMetric(float64(ranges)/b.Elapsed().Seconds(), "ranges/s")
		})
	}
}

func BenchmarkFormatIDM(b *testing.B) {
	w := newWindowState(pulsarRollover, 0.10)
	for b.Loop() {
		_ = FormatIDM(w.idm)
	}
	b.ReportMetric(float64(len(w.idm))*float64(b.N)/b.Elapsed().Seconds(), "ranges/s")
}

func BenchmarkFromCursor(b *testing.B) {
	for _, c := range windowCases {
		b.Run(c.name, func(b *testing.B) {
			w := newWindowState(c.perLedger, c.holeFraction)
			for b.Loop() {
				if _, err := FromCursor(w.mdp, w.idm, w.runs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(windowEntries*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// BenchmarkToLocal maps the window's acked set back through an index where
// replicated entries interleave with local writes every 100 entries.
func BenchmarkToLocal(b *testing.B) {
	for _, c := range windowCases[2:] {
		b.Run(c.name, func(b *testing.B) {
			w := newWindowState(c.perLedger, c.holeFraction)
			s := w.set(b)
			runs := interleavedRuns(w.runs, 100)
			for b.Loop() {
				if _, err := ToLocal(s, runs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(runs)), "runs")
			b.ReportMetric(windowEntries*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// interleavedRuns re-lays runs as a receiving cluster would see them: every
// chunk entries the origin's stretch is interrupted by one local write.
func interleavedRuns(runs []Run, chunk int64) []Run {
	var out []Run
	local := int64(0)
	ledger := int64(9_000_000)
	for _, r := range runs {
		for off := int64(0); off < r.Count; off += chunk {
			n := min(chunk, r.Count-off)
			out = append(out, Run{Local: pos(ledger, local), Origin: r.Origin,
				OriginLedger: r.OriginLedger, OriginEntry: r.OriginEntry + off, Count: n})
			local += n
			out = append(out, Run{Local: pos(ledger, local), Origin: "receiver",
				OriginLedger: ledger, OriginEntry: local, Count: 1})
			local++
			if local > pulsarRollover {
				ledger, local = ledger+1, 0
			}
		}
	}
	return out
}

func ExampleFormatIDM() {
	ranges, err := ParseIDM("[(1687807:6060..1687807:6998],(1687808:-1..1687808:4]]")
	if err != nil {
		panic(err)
	}
	fmt.Println(len(ranges), ranges[1].From, FormatIDM(ranges))
	// Output: 2 1687808:-1 [(1687807:6060..1687807:6998],(1687808:-1..1687808:4]]
}
