package ackset

import (
	"math/rand"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

func TestBitmapBuilderMatchesAddRange(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for i := range 300 {
		want := roaring.New()
		got := roaring.New()
		b := newBitmapBuilder(got)
		base := []int64{0, 3 << 16, MaxEntry - 5<<16}[r.Intn(3)]
		pos := base
		ascending := r.Intn(3) > 0
		for range r.Intn(400) {
			var first int64
			if ascending {
				first = pos + int64(r.Intn(300))
			} else {
				first = base + int64(r.Intn(4<<16))
			}
			length := int64(1 + r.Intn(50))
			switch r.Intn(30) {
			case 0:
				length = int64(r.Intn(3 << 16)) // spans whole containers
			case 1:
				first = first&^containerMask + int64(r.Intn(2)) // container aligned
				length = 1<<16 + int64(r.Intn(1<<17))
			}
			last := min(first+length-1, MaxEntry)
			if first > MaxEntry {
				continue
			}
			want.AddRange(uint64(first), uint64(last)+1)
			b.add(first, last)
			pos = last + 1
		}
		b.finish()
		if !bitmapsEqual(want, got) || want.GetCardinality() != got.GetCardinality() {
			t.Fatalf("case %d (ascending=%v): builder gave %d entries, AddRange %d; differ: %v",
				i, ascending, got.GetCardinality(), want.GetCardinality(), roaring.Xor(want, got).String())
		}
	}
}

func TestSetBits(t *testing.T) {
	words := make([]uint64, 4)
	setBits(words, 3, 3)
	setBits(words, 60, 130)
	setBits(words, 192, 255)
	for bit := range int64(256) {
		want := bit == 3 || (bit >= 60 && bit <= 130) || bit >= 192
		if got := words[bit/64]&(1<<(bit%64)) != 0; got != want {
			t.Fatalf("bit %d = %v, want %v", bit, got, want)
		}
	}
}
