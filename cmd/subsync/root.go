package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/spf13/cobra"

	"github.com/subsync/subsync/cmd/subsync/config"
)

// app is one invocation's world: where output goes and what the
// environment says. Tests build their own.
type app struct {
	ctx     context.Context
	environ []string
	stdout  io.Writer
	stderr  io.Writer
	// onListening, when set, learns the daemon's HTTP addresses once it
	// listens (tests bind port 0).
	onListening func(metrics, api string)
}

// execute runs the command line and returns the process exit code.
func execute(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	return (&app{ctx: ctx, environ: environ, stdout: stdout, stderr: stderr}).execute(args)
}

func (a *app) execute(args []string) int {
	root := a.rootCmd()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(a.ctx)
	if err != nil {
		printError(a.stderr, err, cmd.CommandPath())
	}
	return exitCode(err)
}

const rootLong = `subsync keeps Apache Pulsar durable subscriptions in sync across
geo-replicated clusters: the mark-delete position AND every individually
acknowledged message. When consumers fail over to the standby cluster, the
standby already skips what was acknowledged on the primary.

Run one daemon beside each cluster ('subsync run'); inspect it with
'status', 'mappings' and 'failover-check', which talk to the daemon's HTTP
API listener (--daemon, default taken from the config's apiAddress).

Exit codes:
  0  success; failover-check: ready to switch
  1  failover-check: NOT ready; other commands: the operation failed
  2  usage or configuration error
  3  the daemon could not be reached`

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "subsync",
		Short:         "Sync Pulsar subscriptions (mark-delete and individual acks) across geo-replicated clusters",
		Long:          rootLong,
		SilenceErrors: true,
		SilenceUsage:  true,
		Example: `  subsync run --config /etc/subsync/subsync.yaml
  subsync status --daemon http://east-subsync:9479
  subsync failover-check --config /etc/subsync/subsync.yaml && echo "safe to switch"`,
	}
	b := readBuildInfo()
	root.Version = b.Version
	root.SetVersionTemplate(b.String() + "\n")
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.PersistentFlags().String("config", "", "YAML config file (default $"+config.ConfigFileEnv+"; see subsync.example.yaml)")
	root.AddCommand(a.runCmd(), a.statusCmd(), a.mappingsCmd(), a.failoverCheckCmd(), a.keygenCmd(), a.demoCmd())
	return root
}

// configPath is --config, else $SUBSYNC_CONFIG, else none.
func (a *app) configPath(cmd *cobra.Command) string {
	if p, _ := cmd.Flags().GetString("config"); p != "" {
		return p
	}
	return a.getenv(config.ConfigFileEnv)
}

func (a *app) getenv(name string) string {
	for _, kv := range a.environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}

// exactArgs is cobra.ExactArgs with an error that names what is expected.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %s, got %d argument(s)", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}

func maxArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usagef("%s takes at most %s, got %d arguments: %q", cmd.CommandPath(), what, len(args), args)
		}
		return nil
	}
}

// daemonURLFromAddress turns a listen address into a URL to reach it: a
// wildcard or empty host means this machine.
func daemonURLFromAddress(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("apiAddress %q is not host:port", addr)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}
