package snapshot

import (
	"fmt"
	"testing"
	"time"
)

func benchMessages() map[string]Message {
	big := sampleUpdate()
	big.AckSet = make([]byte, 64<<10)
	return map[string]Message{
		"request":      sampleRequest(),
		"response":     sampleResponse(),
		"update":       sampleUpdate(),
		"update-64KiB": big,
	}
}

func BenchmarkEncode(b *testing.B) {
	for name, msg := range benchMessages() {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Encode(msg, testKey); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for name, msg := range benchMessages() {
		data := mustEncode(b, msg, testKey)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Decode(data, testRing); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeForged measures the cost of rejecting a forged message,
// the work an attacker with write access to the control topic can cause.
func BenchmarkDecodeForged(b *testing.B) {
	data := mustEncode(b, sampleUpdate(), testKey)
	data[len(data)-1] ^= 1
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data, testRing); err == nil {
			b.Fatal("forgery accepted")
		}
	}
}

// BenchmarkTrackerRound runs one full round: Begin, one answer per remote,
// with the tracker holding DefaultMaxPending other requests.
func BenchmarkTrackerRound(b *testing.B) {
	tr, err := NewTracker(TrackerConfig{Cluster: "east", IDPrefix: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	remotes := []string{"west", "north", "south"}
	now := t0
	for i := range DefaultMaxPending - 1 {
		if _, _, err := tr.Begin(now, fmt.Sprintf("idle-%d", i), pos(1, 1), remotes); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Microsecond)
		req, _, err := tr.Begin(now, "topic", pos(1, 1), remotes)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range remotes {
			tr.OnResponse(now, answer(req, r, 1))
		}
	}
}

func BenchmarkSequencerClassifyApply(b *testing.B) {
	s := NewSequencer()
	u := upd(1, 1, true)
	s.Applied(u)
	b.ReportAllocs()
	for b.Loop() {
		u.Sequence++
		u.Full = false
		if s.Classify(u) != Apply || !s.Applied(u) {
			b.Fatal("delta in order not applied")
		}
	}
}
