package main

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/subsync/subsync/mapping"
	"github.com/subsync/subsync/replicator"
)

const mappingsLong = `Show a topic partition's tail index and snapshot mappings.

The tail index maps this cluster's positions to cluster-independent entry
ids, as runs: LOCAL is the first local position of a run, ORIGIN the
cluster that produced its entries, ORIGIN-START their first position there,
COUNT the run's length. Snapshot mappings record, for each remote, the
local last confirmed entry at request time, the remote's last confirmed
entry and the watermark of this cluster's entries it had received.

TOPIC is a full name (persistent://tenant/ns/topic, a partition as
...-partition-N); "tenant/ns/topic" and a bare "topic" (in public/default)
are expanded like Pulsar's tools do.

Read from a running daemon (--daemon, the default) or straight from a
store directory (--store, opened read-only; the daemon using it must be
stopped, since Pebble locks its directory).`

func (a *app) mappingsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mappings TOPIC",
		Short: "Show a topic's tail-index runs and snapshot mappings",
		Long:  mappingsLong,
		Example: `  subsync mappings persistent://shop/eu/orders-partition-0
  subsync mappings shop/eu/orders --daemon http://east-subsync:9479 -o json
  subsync mappings shop/eu/orders --store /var/lib/subsync`,
		Args: exactArgs(1, "one TOPIC"),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := outputFormat(cmd)
			if err != nil {
				return err
			}
			topic, err := fullTopicName(args[0])
			if err != nil {
				return usageError(err)
			}
			rep, err := a.fetchMappings(cmd, topic)
			if err != nil {
				return err
			}
			if format != outputTable {
				return writeStructured(a.stdout, format, rep)
			}
			return writeMappingsTable(a.stdout, rep)
		},
	}
	cmd.Flags().String("store", "", "read the Pebble store in this directory instead of asking the daemon")
	addDaemonFlags(cmd)
	cmd.MarkFlagsMutuallyExclusive("store", "daemon")
	addOutputFlag(cmd)
	return cmd
}

// fetchMappings asks the store or the daemon. A topic that neither
// knows is an error saying what they do know.
func (a *app) fetchMappings(cmd *cobra.Command, topic string) (rep replicator.MappingsReport, err error) {
	dir, _ := cmd.Flags().GetString("store")
	if dir != "" {
		return mappingsFromStore(dir, topic)
	}
	client, err := a.daemonClient(cmd)
	if err != nil {
		return rep, err
	}
	err = client.get(cmd.Context(), "/api/v1/mappings", url.Values{"topic": {topic}}, &rep)
	return rep, err
}

func mappingsFromStore(dir, topic string) (rep replicator.MappingsReport, err error) {
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		return rep, usagef("--store %s: not a directory holding a subsync store", dir)
	}
	store, err := mapping.Open(dir, mapping.ReadOnly())
	if err != nil {
		return rep, failed(storeOpenError(dir, err))
	}
	defer store.Close()
	if rep, err = replicator.MappingsFromStore(store, topic); err != nil {
		return rep, failed(err)
	}
	if len(rep.Runs) > 0 || len(rep.Snapshots) > 0 {
		return rep, nil
	}
	known, err := store.Topics()
	if err != nil {
		return rep, failed(fmt.Errorf("list the store's topics: %w", err))
	}
	if !slices.Contains(known, topic) {
		return rep, failed(fmt.Errorf("topic %s is not in the store; %s", topic, knownTopics(known)))
	}
	return rep, nil
}

// knownTopics says which topics the store holds (the first 20).
func knownTopics(known []string) string {
	const show = 20
	switch {
	case len(known) == 0:
		return "it holds no topic yet"
	case len(known) <= show:
		return fmt.Sprintf("it holds %d topic(s): %s", len(known), strings.Join(known, ", "))
	}
	return fmt.Sprintf("it holds %d topics: %s, ... and %d more", len(known), strings.Join(known[:show], ", "), len(known)-show)
}

// fullTopicName expands names the way Pulsar's tools do.
func fullTopicName(name string) (string, error) {
	rest, full := strings.CutPrefix(name, "persistent://")
	parts := strings.Split(rest, "/")
	valid := !strings.Contains(rest, "://") && !slices.Contains(parts, "")
	switch {
	case valid && full && len(parts) == 3:
		return name, nil
	case valid && !full && len(parts) == 3:
		return "persistent://" + name, nil
	case valid && !full && len(parts) == 1:
		return "persistent://public/default/" + name, nil
	}
	return "", fmt.Errorf("topic %q: expected persistent://tenant/ns/topic, tenant/ns/topic or topic (subsync syncs persistent topics only)", name)
}

func writeMappingsTable(w io.Writer, rep replicator.MappingsReport) error {
	fmt.Fprintf(w, "topic %s: %d run(s), %d snapshot mapping(s)\n", rep.Topic, len(rep.Runs), len(rep.Snapshots))
	if len(rep.Runs) > 0 {
		fmt.Fprintln(w)
		runs := newTable(w, "LOCAL", "ORIGIN", "ORIGIN-START", "COUNT")
		for _, r := range rep.Runs {
			runs.row(r.Local, r.Origin, r.OriginStart, r.Count)
		}
		if err := runs.flush(); err != nil {
			return err
		}
	}
	if len(rep.Snapshots) > 0 {
		fmt.Fprintln(w)
		snaps := newTable(w, "REMOTE", "LOCAL-LAC", "REMOTE-LAC", "WATERMARK", "AT")
		for _, s := range rep.Snapshots {
			snaps.row(s.Remote, s.Local, s.RemoteLAC, dash(s.Watermark), s.At.Format(time.RFC3339))
		}
		return snaps.flush()
	}
	return nil
}
