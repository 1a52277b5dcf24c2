package ackset

import (
	"math"
	"strings"
	"testing"
)

func TestRunHelpers(t *testing.T) {
	r := Run{Local: pos(10, 100), Origin: "east", OriginLedger: 7, OriginEntry: 40, Count: 5}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if r.Last() != pos(10, 104) {
		t.Fatalf("Last = %s", r.Last())
	}
	for _, tc := range []struct {
		p      Position
		in     bool
		origin int64
	}{
		{pos(10, 99), false, 0},
		{pos(10, 100), true, 40},
		{pos(10, 102), true, 42},
		{pos(10, 104), true, 44},
		{pos(10, 105), false, 0},
		{pos(11, 100), false, 0},
	} {
		if got := r.Contains(tc.p); got != tc.in {
			t.Errorf("Contains(%s) = %v", tc.p, got)
		}
		id, ok := r.EntryIDAt(tc.p)
		if ok != tc.in || (ok && id != (EntryID{"east", 7, tc.origin})) {
			t.Errorf("EntryIDAt(%s) = %s %v", tc.p, id, ok)
		}
		if ok {
			back, ok := r.LocalFor(id)
			if !ok || back != tc.p {
				t.Errorf("LocalFor(%s) = %s %v, want %s", id, back, ok, tc.p)
			}
		}
	}
	for _, id := range []EntryID{{"east", 7, 39}, {"east", 7, 45}, {"west", 7, 40}, {"east", 8, 40}} {
		if p, ok := r.LocalFor(id); ok {
			t.Errorf("LocalFor(%s) = %s, want none", id, p)
		}
	}
}

func TestRunValidate(t *testing.T) {
	good := Run{Local: pos(1, 0), Origin: "east", OriginLedger: 2, OriginEntry: 0, Count: 1}
	bad := map[string]func(r *Run){
		"zero count":              func(r *Run) { r.Count = 0 },
		"negative local ledger":   func(r *Run) { r.Local.Ledger = -1 },
		"negative local entry":    func(r *Run) { r.Local.Entry = -1 },
		"empty origin":            func(r *Run) { r.Origin = "" },
		"negative origin ledger":  func(r *Run) { r.OriginLedger = -1 },
		"negative origin entry":   func(r *Run) { r.OriginEntry = -1 },
		"origin past MaxEntry":    func(r *Run) { r.OriginEntry = MaxEntry; r.Count = 2 },
		"huge count":              func(r *Run) { r.Count = math.MaxInt64 },
		"local overflow":          func(r *Run) { r.Local.Entry = math.MaxInt64 - 1; r.Count = 3 },
		"origin entry past limit": func(r *Run) { r.OriginEntry = MaxEntry + 1 },
	}
	for name, mutate := range bad {
		r := good
		mutate(&r)
		if err := r.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %s", name, r)
		}
		if err := ValidateRuns([]Run{good, r}); err == nil {
			t.Errorf("%s: ValidateRuns accepted it", name)
		}
	}
	edge := good
	edge.OriginEntry, edge.Count = MaxEntry-9, 10
	if err := edge.Validate(); err != nil {
		t.Errorf("run ending at MaxEntry rejected: %v", err)
	}
}

func TestValidateRunsOrder(t *testing.T) {
	a := Run{Local: pos(5, 0), Origin: "east", OriginLedger: 1, OriginEntry: 0, Count: 10}
	next := func(l, e int64) Run {
		return Run{Local: pos(l, e), Origin: "west", OriginLedger: 1, OriginEntry: 0, Count: 3}
	}
	if err := ValidateRuns([]Run{a, next(5, 10), next(6, 0)}); err != nil {
		t.Fatalf("sorted runs rejected: %v", err)
	}
	// The same EntryIDs under two local runs (replicator duplicates) is fine.
	dup := a
	dup.Local = pos(7, 0)
	if err := ValidateRuns([]Run{a, dup}); err != nil {
		t.Fatalf("duplicate EntryIDs rejected: %v", err)
	}
	for _, b := range []Run{next(5, 9), next(5, 0), next(4, 100)} {
		err := ValidateRuns([]Run{a, b})
		if err == nil || !strings.Contains(err.Error(), "sorted") {
			t.Errorf("ValidateRuns(%s, %s) = %v, want an ordering error", a, b, err)
		}
	}
}
