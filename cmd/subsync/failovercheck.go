package main

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/subsync/subsync/replicator"
)

const failoverCheckLong = `Report whether consumers can move from this cluster to its standby now.

Ask the daemon of the cluster the consumers are LEAVING (the primary). It
reads this cluster's cursors at the moment of the check (not the last
export's copy) and compares them with each standby's last report. Per
subscription and standby cluster it shows:

  ROLE                  this cluster's role for the subscription: owner
                        (the standby mirrors it exactly), mirror (it
                        follows another cluster), shared (consumers on
                        several clusters), unowned (never consumed: not
                        synced);
  NOT-ACKED-ON-STANDBY  entries acknowledged here that the standby has not
                        acknowledged yet: each would be delivered again
                        after the switch;
  ONLY-ON-STANDBY       while this cluster is the owner, entries the
                        standby acknowledged that are not acknowledged
                        here (it has not undone them yet): each would never
                        be delivered after the switch;
  REPL-LAG-ENTRIES      this cluster's entries Pulsar's replicator has not
                        sent to the standby yet.

A pair is ready when NOT-ACKED-ON-STANDBY is within --max-not-acked,
ONLY-ON-STANDBY is 0, REPL-LAG-ENTRIES is within --max-lag-entries
(default 0: nothing pending), and everything acknowledged here is in the
tail index. Acknowledgements that stay local under the owner semantics
(a TTL or clear-backlog on a cluster while it mirrored) are not counted.
Once ready, it stays ready while nothing more is acknowledged here. The
exit code is the verdict, for scripts:

  0  ready: every subscription is within the thresholds
  1  NOT ready, or the daemon is not ready itself (still starting,
     stopping)
  2  usage error (bad flag)
  3  the daemon could not be reached

It fails closed: it also says NOT ready when no subscription is in scope
(unless --allow-empty), when a namespace in scope replicates to no other
cluster, and when the view is stale: this cluster's cursors not read for
5 export intervals (at least 5s), or no update from the standby for
longer than its full-state interval plus that.

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
			allowEmpty, _ := cmd.Flags().GetBool("allow-empty")
			problems := judge(&rep, allowEmpty)
			ready := len(problems) == 0
			if format != outputTable {
				rep.Ready = ready
				err = writeStructured(a.stdout, format, rep)
			} else {
				err = writeFailoverTable(a.stdout, rep, problems, q)
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
	cmd.Flags().Bool("allow-empty", false, "exit 0 when no subscription is in scope (by default that is NOT ready: a wrong scope must not look safe)")
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

// judge decides the verdict and fails closed: it trusts no single bit
// (the report and every pair must say ready), and it also refuses an
// empty scope (unless allowEmpty), a namespace with no other cluster to
// fail over to, and a stale view. Stale pairs are marked not ready in
// rep, with the reason. The result lists why the cluster is not ready,
// beyond the pairs; empty means ready.
func judge(rep *replicator.FailoverReport, allowEmpty bool) (problems []string) {
	problems = append(problems, rep.Problems...)
	if !rep.Ready && len(rep.Problems) == 0 {
		problems = append(problems, "the daemon reports the cluster not ready")
	}
	for _, ns := range rep.Namespaces {
		if ns.Waiting {
			problems = append(problems, fmt.Sprintf("this daemon does not act for namespace %s: another daemon of cluster %s holds its lease (ask the one whose pulsar_subsync_lease_held is 1)", ns.Namespace, rep.Cluster))
		}
		if len(ns.Remotes) == 0 {
			problems = append(problems, fmt.Sprintf("namespace %s replicates to no other cluster: there is no standby", ns.Namespace))
		}
	}
	if len(rep.Subscriptions) == 0 && !allowEmpty {
		problems = append(problems, "no subscription in scope (pass --allow-empty if that is expected)")
	}
	markStale(rep)
	notReady := 0
	for _, s := range rep.Subscriptions {
		if !s.Ready {
			notReady++
		}
	}
	if notReady > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d subscription/standby pair(s) not ready", notReady, len(rep.Subscriptions)))
	}
	return problems
}

// markStale marks pairs whose data is too old to vouch for: this
// cluster's cursors not read for several export intervals (the daemon is
// stuck or cannot reach its brokers), or no update from the standby for
// longer than it sends full states (its daemon is down or the link is).
// The second rests on every daemon sending each subscription's full state
// at least every full-state interval, changed or not (replicator's
// export); should that stop, this check must follow it.
func markStale(rep *replicator.FailoverReport) {
	exportInterval := seconds2duration(rep.ExportIntervalSeconds)
	maxAge := max(5*exportInterval, 5*time.Second)
	maxStandbyAge := seconds2duration(rep.FullStateIntervalSeconds) + maxAge
	for i := range rep.Subscriptions {
		s := &rep.Subscriptions[i]
		var reasons []string
		switch age := rep.GeneratedAt.Sub(s.ReadAt); {
		case exportInterval <= 0:
			reasons = append(reasons, "the report does not say how fresh it is")
		case s.ReadAt.IsZero():
			reasons = append(reasons, "cursors not read yet")
		case age > maxAge:
			reasons = append(reasons, fmt.Sprintf("stale: cursors last read %s ago", age.Round(time.Millisecond)))
		}
		if age := rep.GeneratedAt.Sub(s.StandbyUpdateAt); !s.StandbyUpdateAt.IsZero() && age > maxStandbyAge {
			reasons = append(reasons, fmt.Sprintf("stale: no update from %s for %s", s.Standby, age.Round(time.Millisecond)))
		}
		if len(reasons) > 0 {
			s.Ready = false
			s.Reason = strings.Join(append(nonEmpty(s.Reason), reasons...), "; ")
		}
	}
}

func seconds2duration(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func writeFailoverTable(w io.Writer, rep replicator.FailoverReport, problems []string, q url.Values) error {
	fmt.Fprintf(w, "cluster %s, at %s\n\n", rep.Cluster, rep.GeneratedAt.Format(time.RFC3339))
	if len(rep.Subscriptions) > 0 {
		t := newTable(w, "TOPIC", "SUBSCRIPTION", "STANDBY", "ROLE", "NOT-ACKED-ON-STANDBY", "ONLY-ON-STANDBY", "REPL-LAG-ENTRIES", "READY", "REASON")
		for _, s := range rep.Subscriptions {
			t.row(s.Topic, s.Subscription, s.Standby, dash(s.Role), s.NotAckedOnStandby, s.AckedOnStandbyOnly, s.ReplicationLagEntries,
				yesNo(s.Ready), dash(s.Reason))
		}
		if err := t.flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	thresholds := fmt.Sprintf("maxNotAcked=%s, maxLagEntries=%s", q.Get("maxNotAcked"), q.Get("maxLagEntries"))
	switch {
	case len(problems) > 0:
		fmt.Fprintf(w, "NOT READY (%s):\n", thresholds)
		for _, p := range problems {
			fmt.Fprintf(w, "  - %s\n", p)
		}
	case len(rep.Subscriptions) == 0:
		fmt.Fprintf(w, "READY: no subscription in scope, allowed by --allow-empty (%s)\n", thresholds)
	default:
		fmt.Fprintf(w, "READY: all %d subscription/standby pair(s) within %s\n", len(rep.Subscriptions), thresholds)
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}
