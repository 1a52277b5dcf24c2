package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/subsync/subsync/integration/demo"
	"github.com/subsync/subsync/integration/testbed"
)

const demoLong = `Show, on this machine, what subsync changes at a failover.

The demo starts two emulated Pulsar clusters, east (primary) and west
(standby), with a geo-replicated topic and two subscriptions that get the
same workload: several consumers acknowledge out of order, and a few
messages stay unacknowledged ("stuck"), as happens in production. One
subscription is synced by Pulsar's own replicated subscriptions (PIP-33,
mark-delete position only), the other by two subsync daemons. After
--failover-at of the messages were processed, east is stopped and both
subscriptions are drained on west.

The report counts, for each: DUPLICATES, messages delivered on west although
acknowledged on east, and LOST, messages delivered nowhere. PIP-33 loses
nothing but redelivers everything acknowledged after the first stuck
message; subsync redelivers only what it had no time to sync.

The run is deterministic for a given --seed (up to timing). It exits 1 if
the demo fails or if subsync lost a message.`

func (a *app) demoCmd() *cobra.Command {
	def := demo.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "PIP-33 vs subsync at a failover, on emulated clusters",
		Long:  demoLong,
		Example: `  subsync demo
  subsync demo --messages 20000 --consumers 8 --failover-at 0.5 --seed 7
  subsync demo -o json 2>/dev/null | jq .subsync
  subsync demo --real --pulsar-version 4.0.7`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := demoFormat(cmd, a.stderr)
			if err != nil {
				return err
			}
			o, err := demoOptions(cmd, format, a.stdout, a.stderr)
			if err != nil {
				return err
			}
			return a.runDemo(cmd, o, format)
		},
	}
	f := cmd.Flags()
	f.Int64("seed", def.Seed, "seed of the workload (which messages are held, ack order)")
	f.Int("messages", def.Messages, "messages produced on east")
	f.Int("consumers", def.Consumers, "consumers per subscription")
	f.Float64("failover-at", def.FailoverAt, "fraction of the messages processed on east before it is stopped")
	f.Float64("hold-fraction", def.HoldFraction, "fraction of the processed messages held unacknowledged (stuck)")
	f.String("subscription-type", def.SubscriptionType, "shared, key_shared, failover or exclusive")
	f.Duration("timeout", def.Timeout, "bound of the whole run")
	addOutputFlag(cmd)
	// Not cobra's MarkDeprecated: its notice goes to stdout, into the JSON
	// that scripts read.
	f.Bool("json", false, "deprecated: same as -o json")
	f.Bool("real", false, "run on real Apache Pulsar brokers (standalone, from Maven Central; needs Java 17 and mvn) instead of the emulator;\n"+
		"the table is followed by the result as one JSON line")
	f.String("pulsar-version", testbed.DefaultVersion, "Pulsar version for --real")
	f.BoolP("verbose", "v", false, "log the clusters', daemons' and clients' warnings to stderr")
	return cmd
}

// demoFormat is -o, or json for the deprecated --json (scripts rely on
// it; a notice goes to stderr); both at once must agree.
func demoFormat(cmd *cobra.Command, stderr io.Writer) (string, error) {
	format, err := outputFormat(cmd)
	if err != nil {
		return "", err
	}
	if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
		if cmd.Flags().Changed("output") && format != outputJSON {
			return "", usagef("--json and -o %s disagree; use -o alone", format)
		}
		fmt.Fprintln(stderr, "subsync: --json is deprecated; use -o json")
		return outputJSON, nil
	}
	return format, nil
}

// demoOptions reads the flags. With a structured format the report alone
// goes to stdout; progress goes to stderr.
func demoOptions(cmd *cobra.Command, format string, stdout, stderr io.Writer) (demo.Options, error) {
	o := demo.DefaultOptions()
	f := cmd.Flags()
	o.Seed, _ = f.GetInt64("seed")
	o.Messages, _ = f.GetInt("messages")
	o.Consumers, _ = f.GetInt("consumers")
	o.FailoverAt, _ = f.GetFloat64("failover-at")
	o.HoldFraction, _ = f.GetFloat64("hold-fraction")
	o.SubscriptionType, _ = f.GetString("subscription-type")
	o.Timeout, _ = f.GetDuration("timeout")
	if o.Timeout <= 0 {
		return o, usagef("--timeout %s: expected a positive duration such as 5m", o.Timeout)
	}
	if realBrokers, _ := f.GetBool("real"); realBrokers {
		o.Pulsar, _ = f.GetString("pulsar-version")
	}
	o.Progress = stdout
	if format != outputTable {
		o.Progress = stderr
	}
	if verbose, _ := f.GetBool("verbose"); verbose {
		o.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return o, nil
}

func (a *app) runDemo(cmd *cobra.Command, o demo.Options, format string) error {
	res, err := demo.Run(cmd.Context(), o)
	if err != nil {
		// The demo checks its options first; those are usage errors.
		if inner := errors.Unwrap(err); inner != nil && strings.HasPrefix(err.Error(), "demo options:") {
			return usageError(&prefixedError{prefix: "demo options", err: withFlagNames(inner)})
		}
		return failed(fmt.Errorf("demo: %w", err))
	}
	switch format {
	case outputJSON:
		err = json.NewEncoder(a.stdout).Encode(res) // one line: `jq` and scripts read it
	case outputYAML:
		err = writeYAML(a.stdout, res)
	default:
		fmt.Fprintln(a.stdout)
		err = res.WriteTable(a.stdout)
		if err == nil && o.Pulsar != "" {
			// A run on real brokers is a record worth keeping whole.
			err = json.NewEncoder(a.stdout).Encode(res)
		}
	}
	if err != nil {
		return failed(err)
	}
	if res.Subsync.Lost > 0 {
		return failed(fmt.Errorf("subsync lost %d message(s): the safety invariant is broken; please report this run (seed %d)", res.Subsync.Lost, res.Seed))
	}
	return nil
}

// withFlagNames renames the demo's option names, at the start of each
// joined problem, to this command's flags.
func withFlagNames(err error) error {
	names := [][2]string{
		{"seed:", "--seed:"}, {"messages:", "--messages:"}, {"consumers:", "--consumers:"},
		{"failoverAt:", "--failover-at:"}, {"holdFraction:", "--hold-fraction:"},
		{"subscriptionType:", "--subscription-type:"}, {"timeout:", "--timeout:"},
	}
	var out []error
	for _, e := range flatten(err) {
		msg := e.Error()
		for _, n := range names {
			if rest, ok := strings.CutPrefix(msg, n[0]); ok {
				msg = n[1] + rest
				break
			}
		}
		out = append(out, errors.New(msg))
	}
	return errors.Join(out...)
}
