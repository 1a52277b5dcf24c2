package cursor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"

	"github.com/subsync/subsync/ackset"
)

// The admin-only paths of Apply, against a fake Admin (no acks, so no
// client is needed).

func TestApplyDeferredPlanDoesNothing(t *testing.T) {
	f := goodAdmin()
	a := NewApplier(nil, f, ApplierOptions{})
	res, err := a.Apply(context.Background(), "T", "s", Plan{Deferred: true, Reason: "why", Create: true})
	if err != nil || res != (Result{Deferred: true, Reason: "why"}) {
		t.Fatalf("Apply = %+v, %v", res, err)
	}
	if len(f.resets) != 0 {
		t.Fatalf("admin called: resets %v", f.resets)
	}
}

func TestApplyCreateExisting(t *testing.T) {
	// Topic stats list "idle": nothing to create, nothing subscribes (the
	// Applier has no client here).
	f := goodAdmin()
	res, err := NewApplier(nil, f, ApplierOptions{}).Apply(context.Background(), "T", "idle", Plan{Create: true})
	if err != nil || res != (Result{}) {
		t.Fatalf("existing subscription: Apply = %+v, %v", res, err)
	}
}

func TestApplyStaleCreateWithResetDefers(t *testing.T) {
	f := goodAdmin()
	to := pos(10, 3)
	res, err := NewApplier(nil, f, ApplierOptions{}).Apply(context.Background(), "T", "idle",
		Plan{Create: true, ResetTo: &to, Acks: []ackset.Range{ents(12, 0, 0)}})
	if err != nil || !res.Deferred || res.Reset || res.Reason == "" || len(f.resets) != 0 {
		t.Fatalf("Apply = %+v, %v; resets %v", res, err, f.resets)
	}
}

func TestApplyAdminErrors(t *testing.T) {
	boom := errors.New("boom")
	to := pos(3, 7)
	tests := []struct {
		name   string
		mutate func(*fakeAdmin)
		plan   Plan
		want   []string
	}{
		{"stats before create", func(f *fakeAdmin) { f.statsErr = boom }, Plan{Create: true}, []string{"topic T", `subscription "s"`, "stats before create"}},
		{"stats before reset", func(f *fakeAdmin) { f.statsErr = boom }, Plan{ResetTo: &to}, []string{"topic T", `subscription "s"`, "stats before reset"}},
		{"reset", func(f *fakeAdmin) { f.resetErr = boom }, Plan{ResetTo: &to}, []string{"topic T", `subscription "s"`, "reset cursor to 3:7"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := goodAdmin()
			tc.mutate(f)
			_, err := NewApplier(nil, f, ApplierOptions{}).Apply(context.Background(), "T", "s", tc.plan)
			if !errors.Is(err, boom) {
				t.Fatalf("error %v does not wrap the admin error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestApplyResetChecksConsumersFirst(t *testing.T) {
	f := goodAdmin()
	to := pos(10, 3)
	res, err := NewApplier(nil, f, ApplierOptions{}).Apply(context.Background(), "T", "app",
		Plan{ResetTo: &to, Acks: []ackset.Range{ents(12, 0, 0)}})
	if err != nil || !res.Deferred || res.Reset || res.Reason != "2 consumer(s) attached before reset" {
		t.Fatalf("Apply = %+v, %v", res, err)
	}
	if len(f.resets) != 0 {
		t.Fatalf("reset despite consumers: %v", f.resets)
	}
	res, err = NewApplier(nil, f, ApplierOptions{}).Apply(context.Background(), "T", "idle", Plan{ResetTo: &to})
	if err != nil || res != (Result{Reset: true}) || len(f.resets) != 1 || f.resets[0] != to {
		t.Fatalf("Apply = %+v, %v; resets %v", res, err, f.resets)
	}
}

func TestPartitionIndex(t *testing.T) {
	tests := []struct {
		topic string
		want  int32
		err   bool
	}{
		{"persistent://public/default/t", -1, false},
		{"t", -1, false},
		{"persistent://public/default/t-partition-0", 0, false},
		{"persistent://public/default/t-partition-17", 17, false},
		{"my-partition-topic-partition-3", 3, false},
		{"persistent://public/default/t-partition-x", 0, true},
		{"persistent://public/default/t-partition-99999999999", 0, true},
	}
	for _, tc := range tests {
		got, err := partitionIndex(tc.topic)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("partitionIndex(%q) = %d, %v; want %d, error %t", tc.topic, got, err, tc.want, tc.err)
		}
	}
}

func TestIsConsumerBusy(t *testing.T) {
	busy := []error{
		errors.New("server error: ConsumerBusy: Exclusive consumer is already connected"),
		fmt.Errorf("subscribe: %w", errors.New("server error: ConsumerBusy: subscription is of a different type")),
	}
	for _, err := range busy {
		if !isConsumerBusy(err) {
			t.Errorf("isConsumerBusy(%q) = false", err)
		}
	}
	for _, err := range []error{errors.New("server error: TopicNotFound: x"), errors.New("connection refused")} {
		if isConsumerBusy(err) {
			t.Errorf("isConsumerBusy(%q) = true", err)
		}
	}
}

func TestNewApplierDefaults(t *testing.T) {
	a := NewApplier(nil, goodAdmin(), ApplierOptions{AckChunk: -5})
	if a.opts.AckChunk != defaultAckChunk || a.opts.ConsumerName != defaultConsumerName {
		t.Fatalf("defaults not applied: %+v", a.opts)
	}
}

// Compile-time checks that the fake and the adapter satisfy Admin.
var (
	_ Admin = (*fakeAdmin)(nil)
	_ Admin = pulsarAdmin{}
	_       = utils.Earliest
	_       = pulsar.Shared
)
