package main

import (
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/subsync/subsync/replicator"
)

const statusLong = `Show what a running daemon knows, per topic partition in scope:

  tail        the local topic's last confirmed entry, how far the tail index
              has read, and its size in runs;
  remotes     per remote cluster, the last snapshot answer and the
              replication lag (this cluster's entries the remote has not
              received yet);
  sync        per subscription and remote: the local mark-delete position,
              REMOTE-ACKED = entries the remote acknowledged that are not yet
              acknowledged here, LOCAL-ACKED = entries acknowledged here that
              the remote does not show acknowledged yet, and the sync lag
              (age of the remote's last update). DEFERRED means the remote's
              acks cannot be applied now (e.g. an Exclusive consumer holds
              the subscription) and says why.

TOPIC, when given, keeps the topics whose name contains it.`

func (a *app) statusCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status [TOPIC]",
		Short: "Per subscription and remote: local mark-delete, acks not yet synced either way, lag",
		Long:  statusLong,
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
	tail := newTable(w, "TOPIC", "LAST-CONFIRMED", "TAIL", "TAIL-LAG", "RUNS")
	for _, t := range rep.Topics {
		tail.row(t.Topic, dash(t.LastConfirmed), dash(t.TailPosition), t.TailLagEntries, t.IndexRuns)
	}
	if err := tail.flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	remotes := newTable(w, "TOPIC", "REMOTE", "LAST-SNAPSHOT", "REPL-LAG-ENTRIES", "ROUND-TRIP")
	for _, t := range rep.Topics {
		for _, r := range t.Remotes {
			remotes.row(t.Topic, r.Remote, ago(r.LastSnapshot, rep.GeneratedAt), r.ReplicationLagEntries, seconds(r.RoundTripSeconds))
		}
	}
	if err := remotes.flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	subs := newTable(w, "TOPIC", "SUBSCRIPTION", "MARK-DELETE", "ACKED-RANGES", "REMOTE", "REMOTE-ACKED-NOT-APPLIED", "LOCAL-ACKED-NOT-ACKED-THERE", "LAST-UPDATE", "LAG", "DEFERRED")
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
	if r.LastUpdate.IsZero() {
		return "-"
	}
	return seconds(r.LagSeconds)
}
