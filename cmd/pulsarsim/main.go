// Command pulsarsim runs the subsync Pulsar emulator: several named
// clusters with geo-replication, each serving Pulsar's binary protocol and
// admin REST API on loopback.
//
//	pulsarsim --clusters east,west [--ports east=6650:8080,west=6651:8081]
//
// Once serving it prints one JSON line per cluster
// ({"cluster":..,"serviceUrl":..,"webServiceUrl":..}) and runs until
// SIGINT or SIGTERM.
//
// Its helper commands drive any Pulsar (the emulator or a real one) for
// the walkthrough in docs/operations.md:
//
//	pulsarsim admin ...      create a geo-replicated namespace, show a backlog
//	pulsarsim produce ...    send numbered messages
//	pulsarsim consume ...    receive and acknowledge, holding some back
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/subsync/subsync/integration/emulator"
)

func main() {
	if len(os.Args) > 1 {
		if tool, ok := tools()[os.Args[1]]; ok {
			os.Exit(tool(os.Args[2:], os.Stdout, os.Stderr))
		}
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, waitForSignal))
}

func waitForSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	<-ch
}

// config is what the flags say.
type config struct {
	clusters          []string
	ports             map[string]clusterPorts
	ledgerMaxEntries  int
	batchIndexAck     bool
	noStamp           bool
	snapshotFrequency time.Duration
	ttlCheck          time.Duration
	verbose           bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("pulsarsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	clusters := fs.String("clusters", "east,west", "comma-separated cluster names (letters, digits, '-', '_', '.')")
	ports := fs.String("ports", "", "fixed ports per cluster, name=binary:admin, comma-separated, e.g. east=6650:8080,west=6651:8081 (default: free ports)")
	fs.IntVar(&c.ledgerMaxEntries, "ledger-max-entries", 100, "entries per ledger before rollover (managedLedgerMaxEntriesPerLedger)")
	fs.BoolVar(&c.batchIndexAck, "batch-index-ack", false, "apply batch-index acks (acknowledgmentAtBatchIndexLevelEnabled=true)")
	fs.BoolVar(&c.noStamp, "no-source-position-stamp", false, "emulate Pulsar before 3.0.11: no __MSG_PROP_REPL_SOURCE_POSITION on replicated copies")
	fs.DurationVar(&c.snapshotFrequency, "snapshot-frequency", time.Second, "PIP-33 snapshot frequency (replicatedSubscriptionsSnapshotFrequencyMillis)")
	fs.DurationVar(&c.ttlCheck, "ttl-check-interval", time.Second, "how often namespace message TTL is applied")
	fs.BoolVar(&c.verbose, "v", false, "log the emulator's warnings to stderr")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: pulsarsim [flags]\n       pulsarsim admin|produce|consume --help\n\nRuns emulated Pulsar clusters with geo-replication on 127.0.0.1 and prints\none JSON line per cluster once serving. Stop with Ctrl-C or SIGTERM.\n\nThe fault API is served on every admin port:\n  POST /sim/links/{from}/{to}/pause|resume, POST /sim/links/{from}/{to}/latency?ms=N\n  POST /sim/clusters/{name}/stop|start, GET /sim/status\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q: pulsarsim takes flags only", fs.Arg(0))
	}
	seen := map[string]bool{}
	for _, n := range strings.Split(*clusters, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			return c, fmt.Errorf("--clusters %q: empty cluster name", *clusters)
		}
		if seen[n] {
			return c, fmt.Errorf("--clusters %q: cluster %q named twice", *clusters, n)
		}
		seen[n] = true
		c.clusters = append(c.clusters, n)
	}
	var err error
	if c.ports, err = parsePorts(*ports, seen); err != nil {
		return c, err
	}
	if c.ledgerMaxEntries < 1 {
		return c, fmt.Errorf("--ledger-max-entries %d: expected at least 1", c.ledgerMaxEntries)
	}
	if c.snapshotFrequency <= 0 || c.ttlCheck <= 0 {
		return c, errors.New("--snapshot-frequency and --ttl-check-interval must be positive durations, e.g. 1s")
	}
	return c, nil
}

func run(args []string, stdout, stderr io.Writer, wait func()) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "pulsarsim:", err)
		return 2
	}
	opts := emulator.Options{}
	if cfg.verbose {
		opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	for _, n := range cfg.clusters {
		opts.Clusters = append(opts.Clusters, emulator.ClusterOptions{
			Name: n, LedgerMaxEntries: cfg.ledgerMaxEntries, BatchIndexAck: cfg.batchIndexAck,
			NoSourcePositionStamp: cfg.noStamp, SnapshotFrequency: cfg.snapshotFrequency,
			TTLCheckInterval: cfg.ttlCheck,
			ServiceAddr:      cfg.ports[n].service, WebAddr: cfg.ports[n].web,
		})
	}
	sim, err := emulator.Start(opts)
	if err != nil {
		fmt.Fprintln(stderr, "pulsarsim:", err)
		return 1
	}
	defer sim.Close()
	enc := json.NewEncoder(stdout)
	for _, c := range sim.Clusters() {
		_ = enc.Encode(map[string]string{"cluster": c.Name(), "serviceUrl": c.ServiceURL(), "webServiceUrl": c.WebURL()})
	}
	wait()
	return 0
}

// clusterPorts are one cluster's fixed listen addresses.
type clusterPorts struct{ service, web string }

// parsePorts reads --ports: name=binary:admin per known cluster.
func parsePorts(text string, known map[string]bool) (map[string]clusterPorts, error) {
	out := map[string]clusterPorts{}
	if text == "" {
		return out, nil
	}
	for _, item := range strings.Split(text, ",") {
		name, pair, ok := strings.Cut(strings.TrimSpace(item), "=")
		service, web, ok2 := strings.Cut(pair, ":")
		if !ok || !ok2 {
			return nil, fmt.Errorf("--ports %q: expected name=binaryPort:adminPort, e.g. east=6650:8080", item)
		}
		if !known[name] {
			return nil, fmt.Errorf("--ports %q: %q is not one of --clusters", item, name)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("--ports: cluster %q given twice", name)
		}
		for _, p := range []string{service, web} {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("--ports %q: port %q is not a number from 1 to 65535", item, p)
			}
		}
		out[name] = clusterPorts{service: "127.0.0.1:" + service, web: "127.0.0.1:" + web}
	}
	return out, nil
}
