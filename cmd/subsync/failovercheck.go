package main

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/subsync/subsync/replicator"
)

const failoverCheckLong = `Report whether consumers can move from this cluster to its standby now.

Ask the daemon of the cluster the consumers are LEAVING (the primary). Per
subscription and standby cluster it shows:

  NOT-ACKED-ON-STANDBY  entries acknowledged here that the standby has not
                        acknowledged yet: each would be delivered again
                        after the switch;
  REPL-LAG-ENTRIES      this cluster's entries the standby has not received
                        yet (from the snapshot protocol).

A pair is ready when both are within --max-not-acked and --max-lag-entries
(default 0: nothing pending). The exit code is the verdict, for scripts:

  0  ready: every subscription is within the thresholds
  1  NOT ready (or the daemon is not ready itself: still starting, stopping)
  2  usage error (bad flag)
  3  the daemon could not be reached

Run it after stopping producers and consumers on the primary, until it
exits 0, then switch.`

func (a *app) failoverCheckCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "failover-check",
		Short: "Is the standby ready? Exit 0 if so, 1 if not (with the report)",
		Long:  failoverCheckLong,
		Example: `  # wait until the standby caught up, then switch
  until subsync failover-check --daemon http://east-subsync:9479; do sleep 5; done

  # tolerate up to 100 redeliveries per subscription
  subsync failover-check --max-not-acked 100 -o json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := outputFormat(cmd)
			if err != nil {
				return err
			}
			q, err := failoverQuery(cmd)
			if err != nil {
				return err
			}
			client, err := a.daemonClient(cmd)
			if err != nil {
				return err
			}
			var rep replicator.FailoverReport
			if err := client.get(cmd.Context(), "/api/v1/failover-check", q, &rep); err != nil {
				return err
			}
			ready := reportReady(rep)
			if format != outputTable {
				rep.Ready = ready
				err = writeStructured(a.stdout, format, rep)
			} else {
				err = writeFailoverTable(a.stdout, rep, ready, q)
			}
			if err != nil {
				return failed(err)
			}
			if !ready {
				return errNotReady
			}
			return nil
		},
	}
	cmd.Flags().Int64("max-not-acked", 0, "entries acknowledged here but not on the standby tolerated per subscription")
	cmd.Flags().Int64("max-lag-entries", 0, "replication lag in entries tolerated per subscription")
	addDaemonFlags(cmd)
	addOutputFlag(cmd)
	return cmd
}

func failoverQuery(cmd *cobra.Command) (url.Values, error) {
	q := url.Values{}
	for _, f := range []struct{ flag, param string }{{"max-not-acked", "maxNotAcked"}, {"max-lag-entries", "maxLagEntries"}} {
		n, _ := cmd.Flags().GetInt64(f.flag)
		if n < 0 {
			return nil, usagef("--%s %d: expected a number >= 0", f.flag, n)
		}
		q.Set(f.param, strconv.FormatInt(n, 10))
	}
	return q, nil
}

// reportReady trusts no single bit: the report and every pair must say
// ready.
func reportReady(rep replicator.FailoverReport) bool {
	for _, s := range rep.Subscriptions {
		if !s.Ready {
			return false
		}
	}
	return rep.Ready
}

func writeFailoverTable(w io.Writer, rep replicator.FailoverReport, ready bool, q url.Values) error {
	fmt.Fprintf(w, "cluster %s, at %s\n\n", rep.Cluster, rep.GeneratedAt.Format(time.RFC3339))
	notReady := 0
	if len(rep.Subscriptions) > 0 {
		t := newTable(w, "TOPIC", "SUBSCRIPTION", "STANDBY", "NOT-ACKED-ON-STANDBY", "REPL-LAG-ENTRIES", "READY", "REASON")
		for _, s := range rep.Subscriptions {
			if !s.Ready {
				notReady++
			}
			t.row(s.Topic, s.Subscription, s.Standby, s.NotAckedOnStandby, s.ReplicationLagEntries, yesNo(s.Ready), dash(s.Reason))
		}
		if err := t.flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	thresholds := fmt.Sprintf("maxNotAcked=%s, maxLagEntries=%s", q.Get("maxNotAcked"), q.Get("maxLagEntries"))
	switch {
	case ready && len(rep.Subscriptions) == 0:
		fmt.Fprintf(w, "READY: no subscription in scope (%s)\n", thresholds)
	case ready:
		fmt.Fprintf(w, "READY: all %d subscription/standby pair(s) within %s\n", len(rep.Subscriptions), thresholds)
	case notReady > 0:
		fmt.Fprintf(w, "NOT READY: %d of %d subscription/standby pair(s) beyond %s\n", notReady, len(rep.Subscriptions), thresholds)
	default:
		fmt.Fprintf(w, "NOT READY: the daemon reports the cluster not ready (%s)\n", thresholds)
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}
