package workload

import "slices"

// Accounting is what one subscription's failover cost, by message id.
type Accounting struct {
	// Produced counts the messages whose send the broker confirmed.
	Produced int `json:"produced"`
	// AckedOnPrimary counts produced messages whose acknowledgement the
	// primary confirmed.
	AckedOnPrimary int `json:"ackedOnPrimary"`
	// ReceivedOnStandby counts every delivery on the standby, repeats
	// included; UniqueOnStandby counts distinct ids.
	ReceivedOnStandby int `json:"receivedOnStandby"`
	UniqueOnStandby   int `json:"uniqueOnStandby"`
	// Duplicates counts distinct ids delivered on the standby although
	// acknowledged on the primary.
	Duplicates int `json:"duplicates"`
	// Lost counts produced ids neither acknowledged on the primary nor
	// delivered on the standby.
	Lost int `json:"lost"`
	// Unexpected counts distinct ids delivered on the standby that were
	// never confirmed as produced (a send that failed late, or a stray
	// publisher): not produced, so neither duplicate nor loss.
	Unexpected int `json:"unexpected"`
	// DuplicateIDs and LostIDs list the ids behind the counts, in
	// increasing order, for diagnosis.
	DuplicateIDs []int `json:"-"`
	LostIDs      []int `json:"-"`
}

// Account compares the three sets of a failover. Inputs may contain
// repeats and need not be sorted; they are not modified.
func Account(produced, ackedOnPrimary, receivedOnStandby []int) Accounting {
	prod := toSet(produced)
	acked := toSet(ackedOnPrimary)
	recv := toSet(receivedOnStandby)
	a := Accounting{Produced: len(prod), ReceivedOnStandby: len(receivedOnStandby), UniqueOnStandby: len(recv)}
	for id := range acked {
		if prod[id] {
			a.AckedOnPrimary++
		}
	}
	for id := range recv {
		switch {
		case !prod[id]:
			a.Unexpected++
		case acked[id]:
			a.DuplicateIDs = append(a.DuplicateIDs, id)
		}
	}
	for id := range prod {
		if !acked[id] && !recv[id] {
			a.LostIDs = append(a.LostIDs, id)
		}
	}
	slices.Sort(a.DuplicateIDs)
	slices.Sort(a.LostIDs)
	a.Duplicates, a.Lost = len(a.DuplicateIDs), len(a.LostIDs)
	return a
}

func toSet(ids []int) map[int]bool {
	s := make(map[int]bool, len(ids))
	for _, id := range ids {
		s[id] = true
	}
	return s
}
