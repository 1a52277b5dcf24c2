package demo

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Result is a demo run's outcome; its JSON form is what `subsync demo
// -o json` (and the deprecated --json) prints.
type Result struct {
	// Brokers says what the clusters were: "emulator", or the version of
	// the real Apache Pulsar brokers.
	Brokers          string  `json:"brokers"`
	Seed             int64   `json:"seed"`
	Messages         int     `json:"messages"`
	Consumers        int     `json:"consumers"`
	SubscriptionType string  `json:"subscriptionType"`
	Partitions       int     `json:"partitions"`
	Batching         bool    `json:"batching"`
	FailoverAt       float64 `json:"failoverAt"`
	HoldFraction     float64 `json:"holdFraction"`
	// Held is how many messages were held unacknowledged on east.
	Held    int     `json:"held"`
	PIP33   Outcome `json:"pip33"`
	Subsync Outcome `json:"subsync"`
	// ElapsedSeconds is the whole run's wall time, Phases its parts.
	ElapsedSeconds float64 `json:"elapsedSeconds"`
	Phases         Phases  `json:"phases"`
}

// Phases are the wall times, in seconds, of a run's phases.
type Phases struct {
	// Primary: producing and consuming on east.
	Primary float64 `json:"primary"`
	// Sync: waiting for both mechanisms before the failover.
	Sync float64 `json:"sync"`
	// Standby: draining both subscriptions on west.
	Standby float64 `json:"standby"`
	// Shutdown: stopping daemons, clients and clusters.
	Shutdown float64 `json:"shutdown"`
}

// Outcome is one subscription's failover cost.
type Outcome struct {
	Subscription string `json:"subscription"`
	// AckedOnPrimary: acknowledgements east confirmed.
	AckedOnPrimary int `json:"ackedOnPrimary"`
	// ReceivedOnStandby: deliveries on west (repeats included);
	// UniqueOnStandby: distinct messages.
	ReceivedOnStandby int `json:"receivedOnStandby"`
	UniqueOnStandby   int `json:"uniqueOnStandby"`
	// Duplicates: messages delivered on west although acknowledged on east.
	Duplicates int `json:"duplicates"`
	// Lost: messages neither acknowledged on east nor delivered on west.
	Lost int `json:"lost"`
	// AckedInPartialBatches: acknowledged messages of batches never
	// acknowledged whole (the broker keeps such entries: duplicates no
	// sync can avoid).
	AckedInPartialBatches int `json:"ackedInPartialBatches"`
	// AckErrors: acknowledgements east did not confirm.
	AckErrors int `json:"ackErrors"`
	// Synced: the mechanism reported itself caught up before east was
	// stopped (false: the failover happened at the SyncTimeout bound).
	Synced      bool    `json:"syncedBeforeFailover"`
	SyncSeconds float64 `json:"syncSeconds"`
}

// WriteTable prints the two outcomes side by side.
func (r Result) WriteTable(w io.Writer) error {
	keys := ""
	if r.Batching {
		keys = ", batching"
	}
	if r.Partitions > 0 {
		keys += fmt.Sprintf(", %d partitions", r.Partitions)
	}
	plural := "s"
	if r.Consumers == 1 {
		plural = ""
	}
	if _, err := fmt.Fprintf(w, "failover demo on %s: %d messages, %d %s consumer%s, failover after %s of them, %s of those held (seed %d%s)\n\n",
		r.brokersName(), r.Messages, r.Consumers, r.SubscriptionType, plural, percent(r.FailoverAt), percent(r.HoldFraction), r.Seed, keys); err != nil {
		return err
	}
	rows := [][3]string{{"", "PIP-33", "subsync"}}
	add := func(label string, v func(Outcome) string) {
		rows = append(rows, [3]string{label, v(r.PIP33), v(r.Subsync)})
	}
	add("acknowledged on east", func(o Outcome) string { return strconv.Itoa(o.AckedOnPrimary) })
	add("delivered on west", func(o Outcome) string { return strconv.Itoa(o.ReceivedOnStandby) })
	add("  distinct", func(o Outcome) string { return strconv.Itoa(o.UniqueOnStandby) })
	add("duplicates", func(o Outcome) string { return strconv.Itoa(o.Duplicates) })
	if r.Batching {
		add("  in partial batches", func(o Outcome) string { return strconv.Itoa(o.AckedInPartialBatches) })
	}
	add("lost", func(o Outcome) string { return strconv.Itoa(o.Lost) })
	add("synced before failover", syncText)
	if err := writeAligned(w, rows); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nrun took %.1fs (east %.1fs, sync wait %.1fs, west %.1fs, shutdown %.1fs)\n",
		r.ElapsedSeconds, r.Phases.Primary, r.Phases.Sync, r.Phases.Standby, r.Phases.Shutdown)
	return err
}

// writeAligned prints rows with the first column left-aligned and the
// others right-aligned, each as wide as its widest cell.
func writeAligned(w io.Writer, rows [][3]string) error {
	var width [3]int
	for _, row := range rows {
		for i, cell := range row {
			width[i] = max(width[i], len(cell))
		}
	}
	for _, row := range rows {
		line := fmt.Sprintf("%-*s   %*s   %*s", width[0], row[0], width[1], row[1], width[2], row[2])
		if _, err := fmt.Fprintln(w, strings.TrimRight(line, " ")); err != nil {
			return err
		}
	}
	return nil
}

func percent(f float64) string { return strconv.FormatFloat(f*100, 'f', -1, 64) + "%" }

func syncText(o Outcome) string {
	if !o.Synced {
		return fmt.Sprintf("no (gave up after %.1fs)", o.SyncSeconds)
	}
	return fmt.Sprintf("yes (%.1fs)", o.SyncSeconds)
}

func (r Result) brokersName() string {
	if r.Brokers == "" || r.Brokers == "emulator" {
		return "the emulator"
	}
	return "Apache Pulsar " + r.Brokers
}
