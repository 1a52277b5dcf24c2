package ackset

import "github.com/RoaringBitmap/roaring/v2"

const (
	containerBits = 16 // a roaring container holds 1<<16 consecutive values
	containerMask = 1<<containerBits - 1
	// directAddLimit is how many intervals of one container are still added
	// with AddRange; beyond it the container is built from a dense bitset.
	directAddLimit = 32
)

// bitmapBuilder fills a roaring bitmap from many intervals. Each AddRange
// into a run container costs time proportional to its runs, so adding tens
// of thousands of small intervals one by one is quadratic. The builder
// collects the intervals that fall into one container and adds them in one
// step. Intervals should come in ascending order for speed; any order gives
// the right result.
type bitmapBuilder struct {
	out     *roaring.Bitmap
	key     int64 // container whose intervals are pending; -1 if none
	pending []interval
}

func newBitmapBuilder(out *roaring.Bitmap) *bitmapBuilder {
	return &bitmapBuilder{out: out, key: -1}
}

// add adds entries first..last, which must lie in [0, MaxEntry].
func (b *bitmapBuilder) add(first, last int64) {
	for first <= last {
		key := first >> containerBits
		if key != b.key {
			b.flush()
			b.key = key
		}
		if first&containerMask == 0 && last-first >= containerMask && len(b.pending) == 0 {
			first = b.addWholeContainers(first, last)
			continue
		}
		end := min(last, key<<containerBits|containerMask)
		if n := len(b.pending); n > 0 && first < b.pending[n-1].first {
			// Out of order: keep pending sorted by adding this one directly.
			b.out.AddRange(uint64(first), uint64(end)+1)
		} else {
			b.pending = appendMerged(b.pending, interval{first, end})
		}
		first = end + 1
	}
}

// addWholeContainers adds the containers that first..last covers entirely,
// starting at container-aligned first, and returns the first entry left.
func (b *bitmapBuilder) addWholeContainers(first, last int64) int64 {
	end := last
	if last&containerMask != containerMask {
		end = last&^containerMask - 1
	}
	b.out.AddRange(uint64(first), uint64(end)+1)
	b.key = -1
	return end + 1
}

// finish adds whatever is pending. Call it before using the bitmap.
func (b *bitmapBuilder) finish() {
	b.flush()
	b.key = -1
}

func (b *bitmapBuilder) flush() {
	if len(b.pending) <= directAddLimit {
		for _, iv := range b.pending {
			b.out.AddRange(uint64(iv.first), uint64(iv.last)+1)
		}
	} else {
		b.out.Or(b.denseContainer())
	}
	b.pending = b.pending[:0]
}

// denseContainer returns a bitmap holding the pending intervals, built as
// one dense bitset container.
func (b *bitmapBuilder) denseContainer() *roaring.Bitmap {
	words := make([]uint64, 1<<containerBits/64)
	base := b.key << containerBits
	for _, iv := range b.pending {
		setBits(words, iv.first-base, iv.last-base)
	}
	chunk := roaring.New()
	chunk.FromDense(words, false)
	if base == 0 {
		return chunk
	}
	return roaring.AddOffset64(chunk, base)
}

// setBits sets bits first..last (inclusive) of words.
func setBits(words []uint64, first, last int64) {
	for first <= last {
		bit := first & 63
		n := min(64-bit, last-first+1)
		words[first>>6] |= (^uint64(0) >> (64 - n)) << bit
		first += n
	}
}
