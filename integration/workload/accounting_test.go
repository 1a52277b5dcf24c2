package workload

import (
	"reflect"
	"slices"
	"testing"
)

func TestAccount(t *testing.T) {
	seq := func(from, to int) []int {
		var out []int
		for i := from; i < to; i++ {
			out = append(out, i)
		}
		return out
	}
	for _, tc := range []struct {
		name               string
		produced, acked    []int
		received           []int
		want               Accounting
		wantDups, wantLost []int
	}{
		{name: "nothing", want: Accounting{}},
		{name: "perfect sync: standby delivers exactly the unacked",
			produced: seq(0, 10), acked: seq(0, 6), received: seq(6, 10),
			want: Accounting{Produced: 10, AckedOnPrimary: 6, ReceivedOnStandby: 4, UniqueOnStandby: 4}},
		{name: "no sync at all: every ack comes back",
			produced: seq(0, 10), acked: seq(0, 6), received: seq(0, 10),
			want:     Accounting{Produced: 10, AckedOnPrimary: 6, ReceivedOnStandby: 10, UniqueOnStandby: 10, Duplicates: 6},
			wantDups: seq(0, 6)},
		{name: "mark-delete only: acks past a held message come back",
			produced: seq(0, 10), acked: []int{0, 1, 3, 4, 5}, received: []int{2, 3, 4, 5, 6, 7, 8, 9},
			want:     Accounting{Produced: 10, AckedOnPrimary: 5, ReceivedOnStandby: 8, UniqueOnStandby: 8, Duplicates: 3},
			wantDups: []int{3, 4, 5}},
		{name: "an unacked message the standby skipped is lost",
			produced: seq(0, 10), acked: seq(0, 5), received: []int{5, 6, 8, 9},
			want:     Accounting{Produced: 10, AckedOnPrimary: 5, ReceivedOnStandby: 4, UniqueOnStandby: 4, Lost: 1},
			wantLost: []int{7}},
		{name: "repeats on the standby count once as unique and once as duplicate",
			produced: seq(0, 4), acked: []int{0, 1}, received: []int{1, 1, 2, 3, 3},
			want:     Accounting{Produced: 4, AckedOnPrimary: 2, ReceivedOnStandby: 5, UniqueOnStandby: 3, Duplicates: 1},
			wantDups: []int{1}},
		{name: "ids never produced are unexpected, not duplicates",
			produced: seq(0, 3), acked: []int{0, 7}, received: []int{1, 2, 7, 9},
			want: Accounting{Produced: 3, AckedOnPrimary: 1, ReceivedOnStandby: 4, UniqueOnStandby: 4, Unexpected: 2}},
		{name: "unsorted input with repeats",
			produced: []int{3, 1, 2, 0, 3}, acked: []int{2, 0, 2}, received: []int{3, 0},
			want:     Accounting{Produced: 4, AckedOnPrimary: 2, ReceivedOnStandby: 2, UniqueOnStandby: 2, Duplicates: 1, Lost: 1},
			wantDups: []int{0}, wantLost: []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := [][]int{slices.Clone(tc.produced), slices.Clone(tc.acked), slices.Clone(tc.received)}
			got := Account(tc.produced, tc.acked, tc.received)
			if !slices.Equal(got.DuplicateIDs, tc.wantDups) || !slices.Equal(got.LostIDs, tc.wantLost) {
				t.Errorf("duplicate ids %v, lost ids %v; want %v, %v", got.DuplicateIDs, got.LostIDs, tc.wantDups, tc.wantLost)
			}
			got.DuplicateIDs, got.LostIDs = nil, nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
			if !slices.Equal(in[0], tc.produced) || !slices.Equal(in[1], tc.acked) || !slices.Equal(in[2], tc.received) {
				t.Error("Account modified its inputs")
			}
		})
	}
}

// BenchmarkAccount accounts a 100,000-message failover: 80,000 acked, the
// standby delivering the last 25,000 (5,000 duplicates).
func BenchmarkAccount(b *testing.B) {
	const n = 100_000
	produced := make([]int, n)
	for i := range produced {
		produced[i] = i
	}
	acked, received := produced[:80_000], produced[75_000:]
	b.ReportAllocs()
	for b.Loop() {
		a := Account(produced, acked, received)
		if a.Duplicates != 5_000 || a.Lost != 0 {
			b.Fatalf("unexpected accounting %d duplicates, %d lost", a.Duplicates, a.Lost)
		}
	}
}
