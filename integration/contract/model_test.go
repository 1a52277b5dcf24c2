package contract

import "testing"

// TestCursorModelPrintsPulsarFormat pins the test model itself to the strings
// Pulsar prints (pulsar-facts.md, from ManagedCursorImpl), so a wrong model
// cannot make a wrong emulator look right. It needs no cluster.
func TestCursorModelPrintsPulsarFormat(t *testing.T) {
	t.Parallel()
	entries := []pos{}
	for e := int64(0); e < 10; e++ {
		entries = append(entries, pos{3, e})
	}
	for e := int64(0); e < 5; e++ {
		entries = append(entries, pos{4, e})
	}
	cases := []struct {
		name   string
		acked  []pos
		mdp    string
		idm    string
		ranges int
	}{
		{"nothing acked", nil, "3:-1", "[]", 0},
		{"documented example", []pos{{3, 6}, {3, 7}}, "3:-1", "[(3:5..3:7]]", 1},
		{"from entry zero of a later ledger", []pos{{4, 0}, {4, 1}, {4, 2}, {4, 3}, {4, 4}}, "3:-1", "[(4:-1..4:4]]", 1},
		{"contiguous prefix becomes the mark-delete position", []pos{{3, 0}, {3, 1}, {3, 2}}, "3:2", "[]", 0},
		{"prefix crosses a ledger boundary",
			[]pos{{3, 0}, {3, 1}, {3, 2}, {3, 3}, {3, 4}, {3, 5}, {3, 6}, {3, 7}, {3, 8}, {3, 9}, {4, 0}}, "4:0", "[]", 0},
		{"a run across a ledger boundary splits per ledger",
			[]pos{{3, 8}, {3, 9}, {4, 0}, {4, 1}}, "3:-1", "[(3:7..3:9],(4:-1..4:1]]", 2},
		{"gaps split runs", []pos{{3, 1}, {3, 3}, {3, 4}}, "3:-1", "[(3:0..3:1],(3:2..3:4]]", 2},
		{"prefix and ranges", []pos{{3, 0}, {3, 2}, {4, 3}}, "3:0", "[(3:1..3:2],(4:2..4:3]]", 2},
	}
	for _, tc := range cases {
		acked := map[pos]bool{}
		for _, p := range tc.acked {
			acked[p] = true
		}
		w := expectCursor(entries, acked)
		if w.mdp.String() != tc.mdp || w.idm != tc.idm || w.ranges != tc.ranges {
			t.Errorf("%s: got mdp %s idm %s ranges %d; want %s %s %d",
				tc.name, w.mdp, w.idm, w.ranges, tc.mdp, tc.idm, tc.ranges)
		}
	}
}

func TestCursorModelAcceptsTrimmedSpellingOfLedgerEnd(t *testing.T) {
	t.Parallel()
	entries := []pos{{3, 0}, {3, 1}, {5, 0}, {5, 1}}
	w := expectCursor(entries, map[pos]bool{{3, 0}: true, {3, 1}: true})
	for _, ok := range []string{"3:1", "5:-1", "4:-1"} {
		if !w.mdpMatches(ok) {
			t.Errorf("mdpMatches(%s) = false, want true (mdp %s)", ok, w.mdp)
		}
	}
	for _, bad := range []string{"3:0", "3:2", "5:0", "6:-1", "3:-1", "garbage"} {
		if w.mdpMatches(bad) {
			t.Errorf("mdpMatches(%s) = true, want false (mdp %s)", bad, w.mdp)
		}
	}
	mid := expectCursor(entries, map[pos]bool{{3, 0}: true})
	if mid.mdpMatches("5:-1") {
		t.Error("an mdp inside a ledger must not match a later ledger's -1")
	}
}

func TestIDMContainsReadsBothSpellings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		idm  string
		p    pos
		want bool
	}{
		{"[]", pos{3, 0}, false},
		{"[(108:-1..108:1],(108:2..108:3]]", pos{108, 0}, true},
		{"[(108:-1..108:1],(108:2..108:3]]", pos{108, 2}, false},
		{"[(108:-1..108:1],(108:2..108:3]]", pos{108, 3}, true},
		{"[(615666239:15073..621807735:29501]]", pos{620000000, 5}, true},
		{"[(1:5..1:7], (2:0..2:3]]", pos{2, 3}, true},
		{"[(1:5..1:7], (2:0..2:3]]", pos{1, 5}, false},
	}
	for _, tc := range cases {
		got, err := idmContains(tc.idm, tc.p)
		if err != nil || got != tc.want {
			t.Errorf("idmContains(%s, %v) = %v, %v; want %v", tc.idm, tc.p, got, err, tc.want)
		}
	}
	if _, err := idmContains("[(garbage]]", pos{1, 1}); err == nil {
		t.Error("idmContains accepted a malformed range")
	}
}
