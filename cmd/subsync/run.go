package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/apache/pulsar-client-go/pulsaradmin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/subsync/subsync/cmd/subsync/config"
	"github.com/subsync/subsync/mapping"
	"github.com/subsync/subsync/replicator"
)

const runLong = `Run the sync daemon for one cluster. Run one beside each cluster of the
replication group, all sharing the same HMAC key file.

Settings come from, highest precedence first:
  1. flags                 --export-interval 500ms
  2. environment           SUBSYNC_EXPORT_INTERVAL=500ms
  3. the YAML config file  exportInterval: 500ms   (--config or $SUBSYNC_CONFIG)
  4. defaults
Every key of subsync.example.yaml has a flag and a SUBSYNC_* variable named
after it (auth.tokenFile -> --auth-token-file, SUBSYNC_AUTH_TOKEN_FILE);
auth.token has no flag (it would show in ps). Lists from the environment
are comma separated, or a YAML flow list when an item has a comma:
SUBSYNC_TOPIC_PATTERNS='[a, "b{1,3}"]'. A list flag repeats and replaces
the file's list.

An invalid configuration stops the daemon before it connects, with every
problem listed (exit code 2); --check validates, prints the effective
settings and where each came from, and exits.

The daemon serves on metricsAddress (default :9479, every interface):
  /metrics                  Prometheus metrics
  /healthz, /readyz         liveness and readiness (503 when not)
and on apiAddress (default 127.0.0.1:9480, this machine only; the same
value as metricsAddress: one listener for all):
  /api/v1/status?topic=     what 'subsync status' prints, as JSON
  /api/v1/mappings?topic=   what 'subsync mappings' prints
  /api/v1/failover-check?maxNotAcked=N&maxLagEntries=N

SIGHUP re-reads the HMAC key file (hmacKeyFile), for key rotation; a file
that does not load is logged and the previous keys stay in use.

SIGTERM or SIGINT stops it gracefully: the engine flushes and checkpoints
(up to shutdownTimeout), then the store and clients are closed.`

func (a *app) runCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the sync daemon for one cluster",
		Long:  runLong,
		Example: `  # the usual way
  subsync run --config /etc/subsync/subsync.yaml

  # validate a config and show the effective settings, then exit
  subsync run --config subsync.yaml --check

  # everything from the environment, e.g. in a container
  SUBSYNC_CLUSTER=east SUBSYNC_SERVICE_URL=pulsar://broker:6650 \
  SUBSYNC_WEB_SERVICE_URL=http://broker:8080 SUBSYNC_NAMESPACES=tenant/ns \
  SUBSYNC_HMAC_KEY_FILE=/run/secrets/subsync-keys subsync run`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			check, _ := cmd.Flags().GetBool("check")
			return a.run(cmd, check)
		},
	}
	cmd.Flags().Bool("check", false, "validate the configuration, print the effective settings and exit")
	config.RegisterFlags(cmd.Flags())
	return cmd
}

func (a *app) run(cmd *cobra.Command, check bool) error {
	cfg, err := config.Load(config.Sources{File: a.configPath(cmd), Environ: a.environ, Flags: cmd.Flags()})
	if err != nil {
		return usageError(&prefixedError{prefix: "invalid configuration", err: err})
	}
	logs := newLoggers(a.stderr, cfg.LogLevel, cfg.LogFormat)
	for _, w := range cfg.Warnings {
		logs.daemon.Warn("configuration", "warning", w)
	}
	if check {
		if err := cfg.Describe(a.stdout); err != nil {
			return failed(err)
		}
		fmt.Fprintln(a.stdout, "\nconfiguration OK")
		return nil
	}
	if err := a.serve(cmd.Context(), cfg, logs); err != nil {
		return failed(err)
	}
	return nil
}

// loggers: the daemon's own, and a quieter one for the libraries (the
// Pulsar client and Pebble log routine events at info level).
type loggers struct {
	daemon, libraries *slog.Logger
}

func newLoggers(w io.Writer, level, format string) loggers {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(level)) // validated by config
	libLevel := max(lvl, slog.LevelWarn)
	if lvl == slog.LevelDebug {
		libLevel = lvl
	}
	return loggers{daemon: newLogger(w, lvl, format), libraries: newLogger(w, libLevel, format)}
}

func newLogger(w io.Writer, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serve runs the daemon until ctx ends (the signal), then shuts down in
// order: readiness off, engine flushed and stopped, listener, store,
// client.
func (a *app) serve(ctx context.Context, cfg *config.Config, logs loggers) (err error) {
	res, err := openResources(cfg, logs)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, res.close()) }()

	metrics := replicator.NewMetrics(res.registry)
	registerProcessCollectors(res.registry)
	registerBuildInfo(res.registry, readBuildInfo())
	daemon, err := replicator.New(cfg.ReplicatorConfig(), replicator.Deps{
		Client: res.client, Admin: res.admin, Store: res.store, Metrics: metrics, Logger: logs.daemon,
		Entries: replicator.HTTPEntries{WebServiceURL: cfg.WebServiceURL, Client: res.adminHTTP},
	})
	if err != nil {
		return fmt.Errorf("start engine: %w", err)
	}
	defer reloadKeysOnHangup(ctx, cfg.HMACKeyFile, daemon, logs.daemon.With("cluster", cfg.Cluster))()
	var stopping atomic.Bool
	var gatherer prometheus.Gatherer = metrics.Registry
	if !cfg.ExposeTopicLevelMetrics {
		gatherer = replicator.NamespaceAggregates(metrics.Registry)
	}
	addrs, stopHTTP, err := a.startListeners(cfg, daemon, gatherer, &stopping, logs.daemon)
	if err != nil {
		return err
	}
	logs.daemon.Info("subsync started", "cluster", cfg.Cluster, "listen", addrs.metrics, "api", addrs.api, "store", cfg.StoreDir)
	runErr := runUntilDone(ctx, daemon, cfg.ShutdownTimeout, &stopping, logs.daemon)
	return errors.Join(runErr, stopHTTP())
}

// reloadKeysOnHangup re-reads the HMAC key file on each SIGHUP (a key
// rotation step) until ctx ends or stop is called. A file that does not
// load leaves the keys in use unchanged: a typo must not cut the daemon
// off from its peers.
func reloadKeysOnHangup(ctx context.Context, path string, daemon *replicator.Daemon, logger *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				reloadKeys(path, daemon, logger)
			case <-ctx.Done():
				return
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
	}
}

func reloadKeys(path string, daemon *replicator.Daemon, logger *slog.Logger) {
	keys, warning, err := config.LoadKeyFile(path)
	if err == nil {
		err = daemon.SetKeys(keys)
	}
	if err != nil {
		logger.Error("SIGHUP: the HMAC key file did not load; keeping the previous keys", "hmacKeyFile", path, "error", err)
		return
	}
	if warning != "" {
		logger.Warn("SIGHUP: HMAC key file", "warning", warning)
	}
	logger.Info("SIGHUP: HMAC key file reloaded", "hmacKeyFile", path, "current", keys.Current().ID, "accepted", keys.IDs())
}

// listenAddrs are where the daemon's listeners are bound.
type listenAddrs struct{ metrics, api string }

// startListeners serves probes and metrics on metricsAddress and the JSON
// API on apiAddress, or everything on one listener when both are the same.
func (a *app) startListeners(cfg *config.Config, e engine, reg prometheus.Gatherer, stopping *atomic.Bool, logger *slog.Logger) (listenAddrs, func() error, error) {
	if cfg.APIAddress == cfg.MetricsAddress {
		addr, stop, err := startHTTP("metricsAddress", cfg.MetricsAddress, newHandler(e, reg, stopping, logger))
		if err != nil {
			return listenAddrs{}, nil, err
		}
		a.listening(addr, addr)
		return listenAddrs{addr, addr}, stop, nil
	}
	probes, api := newHandlers(e, reg, stopping, logger)
	metricsAddr, stopMetrics, err := startHTTP("metricsAddress", cfg.MetricsAddress, probes)
	if err != nil {
		return listenAddrs{}, nil, err
	}
	apiAddr, stopAPI, err := startHTTP("apiAddress", cfg.APIAddress, api)
	if err != nil {
		return listenAddrs{}, nil, errors.Join(err, stopMetrics())
	}
	a.listening(metricsAddr, apiAddr)
	return listenAddrs{metricsAddr, apiAddr}, func() error { return errors.Join(stopAPI(), stopMetrics()) }, nil
}

func (a *app) listening(metrics, api string) {
	if a.onListening != nil {
		a.onListening(metrics, api)
	}
}

// startHTTP listens on addr (the value of config key key) and serves h
// until stop is called; bound is the address it listens on.
func startHTTP(key, addr string, h http.Handler) (bound string, stop func() error, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("%s %s: %w", key, addr, err)
	}
	bound = ln.Addr().String()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	return bound, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := srv.Shutdown(ctx)
		if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) {
			err = errors.Join(err, serveErr)
		}
		if err != nil {
			return fmt.Errorf("http listener %s: %w", bound, err)
		}
		return nil
	}, nil
}

// runUntilDone runs the engine until ctx ends or the engine stops on its
// own, then gives it shutdownTimeout to flush and checkpoint.
func runUntilDone(ctx context.Context, daemon *replicator.Daemon, shutdownTimeout time.Duration, stopping *atomic.Bool, logger *slog.Logger) error {
	runCtx, cancelRun := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRun()
	done := make(chan error, 1)
	go func() { done <- daemon.Run(runCtx) }()
	select {
	case err := <-done:
		stopping.Store(true)
		if err == nil {
			err = errors.New("engine stopped unexpectedly")
		}
		return fmt.Errorf("engine: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: flushing and checkpointing", "timeout", shutdownTimeout)
	stopping.Store(true)
	cancelRun()
	timer := time.NewTimer(shutdownTimeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("engine shutdown: %w", err)
		}
		logger.Info("engine stopped cleanly")
		return nil
	case <-timer.C:
		return fmt.Errorf("engine did not stop within shutdownTimeout %s; the last changes may not be checkpointed", shutdownTimeout)
	}
}

// resources are what the daemon opens before the engine starts.
type resources struct {
	store  *mapping.Store
	client pulsar.Client
	admin  pulsaradmin.Client
	// adminHTTP reads raw admin answers (an entry's headers).
	adminHTTP *http.Client
	registry  *prometheus.Registry
}

// storeBallast is the room the store keeps in reserve: when the disk
// fills, the write that hit it still lands and writes then pause, instead
// of Pebble's commit pipeline failing for good.
const storeBallast = 64 << 20

func openResources(cfg *config.Config, logs loggers) (*resources, error) {
	if err := os.MkdirAll(cfg.StoreDir, 0o700); err != nil {
		return nil, fmt.Errorf("storeDir: %w", err)
	}
	store, err := mapping.Open(cfg.StoreDir, mapping.WithLogger(logs.libraries.With("component", "pebble")),
		mapping.WithBallast(storeBallast))
	if err != nil {
		return nil, storeOpenError(cfg.StoreDir, err)
	}
	res := &resources{store: store, registry: prometheus.NewRegistry()}
	opts, err := cfg.ClientOptions(logs.libraries.With("component", "pulsar-client"), res.registry)
	if err != nil {
		return nil, errors.Join(err, res.close())
	}
	if res.client, err = pulsar.NewClient(opts); err != nil {
		return nil, errors.Join(fmt.Errorf("pulsar client for %s: %w", cfg.ServiceURL, err), res.close())
	}
	if res.admin, err = cfg.AdminClient(); err != nil {
		return nil, errors.Join(fmt.Errorf("admin client for %s: %w", cfg.WebServiceURL, err), res.close())
	}
	if res.adminHTTP, err = cfg.AdminHTTPClient(); err != nil {
		return nil, errors.Join(fmt.Errorf("admin client for %s: %w", cfg.WebServiceURL, err), res.close())
	}
	return res, nil
}

func storeOpenError(dir string, err error) error {
	if strings.Contains(err.Error(), "lock") {
		return fmt.Errorf("storeDir %s is in use by another process (another subsync daemon?): %w", dir, err)
	}
	return fmt.Errorf("storeDir: %w", err)
}

func registerProcessCollectors(reg *prometheus.Registry) {
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		_ = reg.Register(c) // fails only when the engine registered it already
	}
}

// close releases the store, then the client.
func (r *resources) close() error {
	var errs []error
	if r.store != nil {
		if err := r.store.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if r.client != nil {
		r.client.Close()
	}
	return errors.Join(errs...)
}
