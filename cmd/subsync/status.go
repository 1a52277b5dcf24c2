package main

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/subsync/subsync/replicator"
)

// column is one column of a table the CLI prints, with what --help says
// of it: the help is generated from the same list the table is, so the
// two cannot drift apart.
type column struct{ name, doc string }

func statusTailColumns() []column {
	return []column{
		{"TOPIC", "the topic partition"},
		{"LAST-CONFIRMED", "the local topic's last confirmed entry"},
		{"TAIL", "how far the tail index has read"},
		{"TAIL-LAG", "entries between TAIL and LAST-CONFIRMED (within one ledger)"},
		{"RUNS", "the tail index's size in runs"},
	}
}

func statusRemoteColumns() []column {
	return []column{
		{"TOPIC", "the topic partition"},
		{"REMOTE", "a remote cluster the namespace replicates to"},
		{"LAST-SNAPSHOT", "when the remote last answered a snapshot request"},
		{"REPL-LAG-ENTRIES", "this cluster's entries the remote has not received yet"},
		{"ROUND-TRIP", "the last snapshot request's round trip"},
	}
}

func statusSubscriptionColumns() []column {
	return []column{
		{"TOPIC", "the topic partition"},
		{"SUBSCRIPTION", "a subscription in scope"},
		{"MARK-DELETE", "the local mark-delete position"},
		{"ACKED-RANGES", "ranges acknowledged individually above it, here"},
		{"REMOTE", "the remote cluster compared with"},
		{"REMOTE-ACKED-NOT-APPLIED", "entries the remote acknowledged, present here, not yet acknowledged here"},
		{"LOCAL-ACKED-NOT-ACKED-THERE", "entries acknowledged here that the remote does not show acknowledged yet"},
		{"LAST-UPDATE", "when the remote's last update arrived"},
		{"LAG", "the sync lag towards a remote this subscription follows (its owner): 0 in sync, else how long it has been behind; - for a remote it does not follow"},
		{"DEFERRED", "yes (and why) while the remote's acks cannot be applied, e.g. an Exclusive consumer holds the subscription"},
	}
}

func statusLong() string {
	var b strings.Builder
	b.WriteString("Show what a running daemon knows, per topic partition in scope, in three\ntables.\n")
	for _, t := range []struct {
		title string
		cols  []column
	}{
		{"Tail, per topic partition:", statusTailColumns()},
		{"Remotes, per topic partition and remote cluster (from the snapshot protocol):", statusRemoteColumns()},
		{"Sync, per subscription and remote cluster:", statusSubscriptionColumns()},
	} {
		fmt.Fprintf(&b, "\n%s\n", t.title)
		for _, c := range t.cols {
			fmt.Fprintf(&b, "  %-28s %s\n", c.name, c.doc)
		}
	}
	b.WriteString("\nTOPIC, when given, keeps the topics whose name contains it.")
	return b.String()
}

func columnNames(cols []column) []any {
	out := make([]any, len(cols))
	for i, c := range cols {
		out[i] = c.name
	}
	return out
}

func (a *app) statusCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status [TOPIC]",
		Short: "Per subscription and remote: local mark-delete, acks not yet synced either way, lag",
		Long:  statusLong(),
		Example: `  subsync status
  subsync status orders --daemon http://east-subsync:9479
  subsync status persistent://shop/eu/orders -o json`,
		Args: maxArgs(1, "one TOPIC filter"),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(cmd)
			if err != nil {
				return err
			}
			client, err := a.daemonClient(cmd)
			if err != nil {
				return err
			}
			q := url.Values{}
			if len(args) == 1 {
				q.Set("topic", args[0])
			}
			var rep replicator.StatusReport
			if err := client.get(cmd.Context(), "/api/v1/status", q, &rep); err != nil {
				return err
			}
			if format != outputTable {
				return writeStructured(a.stdout, format, rep)
			}
			return writeStatusTable(a.stdout, rep)
		},
	}
	addDaemonFlags(cmd)
	addOutputFlag(cmd)
	return cmd
}

func writeStatusTable(w io.Writer, rep replicator.StatusReport) error {
	fmt.Fprintf(w, "cluster %s, %d topic(s), at %s\n", rep.Cluster, len(rep.Topics), rep.GeneratedAt.Format(time.RFC3339))
	if len(rep.Topics) == 0 {
		fmt.Fprintln(w, "no topic in scope (yet); check namespaces and topicPatterns, or wait for discovery")
		return nil
	}
	fmt.Fprintln(w)
	tail := newTable(w, columnNames(statusTailColumns())...)
	for _, t := range rep.Topics {
		tail.row(t.Topic, dash(t.LastConfirmed), dash(t.TailPosition), t.TailLagEntries, t.IndexRuns)
	}
	if err := tail.flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	remotes := newTable(w, columnNames(statusRemoteColumns())...)
	for _, t := range rep.Topics {
		for _, r := range t.Remotes {
			remotes.row(t.Topic, r.Remote, ago(r.LastSnapshot, rep.GeneratedAt), r.ReplicationLagEntries, seconds(r.RoundTripSeconds))
		}
	}
	if err := remotes.flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	subs := newTable(w, columnNames(statusSubscriptionColumns())...)
	for _, t := range rep.Topics {
		for _, s := range t.Subscriptions {
			if len(s.Remotes) == 0 {
				subs.row(t.Topic, s.Subscription, dash(s.MarkDeletePosition), s.DeletedRanges, "-", "-", "-", "-", "-", "-")
			}
			for _, r := range s.Remotes {
				subs.row(t.Topic, s.Subscription, dash(s.MarkDeletePosition), s.DeletedRanges, r.Remote,
					r.RemoteAckedNotAppliedHere, r.LocalAckedNotAckedThere, ago(r.LastUpdate, rep.GeneratedAt),
					lag(r), deferred(r))
			}
		}
	}
	return subs.flush()
}

func deferred(r replicator.SubscriptionRemoteStatus) string {
	if !r.Deferred {
		return "no"
	}
	if r.DeferReason == "" {
		return "yes"
	}
	return "yes: " + r.DeferReason
}

func lag(r replicator.SubscriptionRemoteStatus) string {
	if !r.Following {
		return "-"
	}
	return seconds(r.LagSeconds)
}
