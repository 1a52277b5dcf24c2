// Command testbed runs real Apache Pulsar clusters, geo-replicated, from
// Maven Central, for subsync's suites and demo:
//
//	testbed up   --clusters east,west            # until Ctrl-C
//	testbed exec --version 4.0.7 -- go test ./integration/contract/
//
// exec starts the clusters, runs the command with PULSAR_A_*/PULSAR_B_*
// and SUBSYNC_TESTBED_URL set, stops the clusters and exits with the
// command's status. SUBSYNC_TESTBED_URL serves the clusters' faults (kill,
// restart, pause, resume) over HTTP.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/subsync/subsync/integration/testbed"
)

func main() {
	if err := newRoot(os.Stdout, os.Stderr).Execute(); err != nil {
		var exit exitCode
		if errors.As(err, &exit) {
			os.Exit(int(exit))
		}
		fmt.Fprintln(os.Stderr, "testbed:", err)
		os.Exit(2)
	}
}

// exitCode carries the status of the command exec ran.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

type flags struct {
	version  string
	clusters string
	dir      string
	ledger   int
	settings []string
	control  string
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "testbed",
		Short: "Real Apache Pulsar clusters, geo-replicated, for subsync's tests",
		Long: `testbed starts two or three standalone Apache Pulsar brokers on loopback
(jars resolved by Maven from Maven Central; Java 17 and mvn on PATH), each
with its own ports, data directory, RocksDB metadata store and in-process
bookie, registers every cluster on every other one and creates namespace
subsync/geo replicated to all, with PIP-33 replicated subscriptions on.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newUp(stdout), newExec(stdout, stderr))
	return root
}

func addFlags(cmd *cobra.Command, f *flags) {
	cmd.Flags().StringVar(&f.version, "version", testbed.DefaultVersion, "org.apache.pulsar:pulsar-broker version")
	cmd.Flags().StringVar(&f.clusters, "clusters", "east,west", "comma-separated cluster names, two or three")
	cmd.Flags().StringVar(&f.dir, "dir", "", "data directory (a temporary one, removed at the end, if empty)")
	cmd.Flags().IntVar(&f.ledger, "ledger-max-entries", 10, "managedLedgerMaxEntriesPerLedger: small, so that tests cross ledgers")
	cmd.Flags().StringArrayVar(&f.settings, "set", nil, "extra broker setting KEY=VALUE (repeatable)")
	cmd.Flags().StringVar(&f.control, "control-addr", "127.0.0.1:0", "address of the fault API (SUBSYNC_TESTBED_URL)")
}

func (f flags) options() (testbed.Options, error) {
	o := testbed.Options{Version: f.version, Clusters: strings.Split(f.clusters, ","), Dir: f.dir,
		LedgerMaxEntries: f.ledger, BrokerSettings: map[string]string{}}
	for _, s := range f.settings {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return o, fmt.Errorf("--set %q: want KEY=VALUE", s)
		}
		o.BrokerSettings[k] = v
	}
	return o, nil
}

// started is a running bed with its fault API.
type started struct {
	bed     *testbed.Bed
	control string
	srv     *http.Server
}

func (s *started) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	s.bed.Close()
}

func start(ctx context.Context, f flags, stderr io.Writer) (*started, error) {
	o, err := f.options()
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	fmt.Fprintf(stderr, "testbed: starting Pulsar %s clusters %s\n", o.Version, strings.Join(o.Clusters, ", "))
	bed, err := testbed.Start(ctx, o)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", f.control)
	if err != nil {
		bed.Close()
		return nil, fmt.Errorf("fault API on %s: %w", f.control, err)
	}
	srv := &http.Server{Handler: bed.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Fprintf(stderr, "testbed: ready in %v\n", time.Since(t0).Round(100*time.Millisecond))
	return &started{bed: bed, control: "http://" + ln.Addr().String(), srv: srv}, nil
}

func newUp(stdout io.Writer) *cobra.Command {
	var f flags
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the clusters and keep them until Ctrl-C or SIGTERM",
		Long: `up starts the clusters, prints one JSON line per cluster, then the
environment a test run needs (export lines), and keeps them running until
SIGINT or SIGTERM.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			s, err := start(ctx, f, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer s.close()
			enc := json.NewEncoder(stdout)
			for _, c := range s.bed.Info() {
				_ = enc.Encode(c)
			}
			for _, kv := range s.bed.Env(s.control) {
				fmt.Fprintf(stdout, "export %s\n", kv)
			}
			<-ctx.Done()
			return nil
		},
	}
	addFlags(cmd, &f)
	return cmd
}

func newExec(stdout, stderr io.Writer) *cobra.Command {
	var f flags
	cmd := &cobra.Command{
		Use:   "exec [flags] -- COMMAND [ARG...]",
		Short: "Start the clusters, run a command against them, stop them",
		Long: `exec starts the clusters, runs COMMAND with PULSAR_A_SERVICE_URL,
PULSAR_A_WEB_URL, PULSAR_A_CLUSTER (B, C likewise), SUBSYNC_TESTBED_VERSION and
SUBSYNC_TESTBED_URL (the fault API) in its environment, then stops the
clusters and exits with COMMAND's status.`,
		Example: `  testbed exec -- go test -count=1 ./integration/contract/
  testbed exec --version 3.3.5 --clusters a,b,c -- env`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			s, err := start(ctx, f, stderr)
			if err != nil {
				return err
			}
			defer s.close()
			run := exec.CommandContext(ctx, args[0], args[1:]...)
			run.Env = append(os.Environ(), s.bed.Env(s.control)...)
			run.Stdin, run.Stdout, run.Stderr = os.Stdin, stdout, stderr
			err = run.Run()
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return exitCode(max(1, ee.ExitCode()))
			}
			return err
		},
	}
	addFlags(cmd, &f)
	return cmd
}
