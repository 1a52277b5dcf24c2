package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/subsync/subsync/cmd/subsync/config"
)

// daemonEnv names the daemon's URL when --daemon is not given.
const daemonEnv = "SUBSYNC_DAEMON"

// maxAPIResponse bounds what the CLI reads from the daemon.
const maxAPIResponse = 64 << 20

// addDaemonFlags adds the flags of every command that asks the daemon.
func addDaemonFlags(cmd *cobra.Command) {
	cmd.Flags().String("daemon", "", "the daemon's HTTP address, e.g. http://host:9479 (default $"+daemonEnv+", else the config's apiAddress)")
	cmd.Flags().Duration("timeout", 10*time.Second, "how long to wait for the daemon's answer")
}

// daemonClient asks a running daemon over its /api/v1 JSON API.
type daemonClient struct {
	base    *url.URL
	http    *http.Client
	timeout time.Duration
}

// daemonClient finds the daemon: --daemon, $SUBSYNC_DAEMON, then the
// apiAddress of the config file and environment (default 127.0.0.1:9480).
func (a *app) daemonClient(cmd *cobra.Command) (*daemonClient, error) {
	raw, _ := cmd.Flags().GetString("daemon")
	if raw == "" {
		raw = a.getenv(daemonEnv)
	}
	if raw == "" {
		addr, origin, err := config.Peek(config.Sources{File: a.configPath(cmd), Environ: a.environ}, "apiAddress")
		if err != nil {
			return nil, usageError(&prefixedError{prefix: "finding the daemon's address in the configuration (or pass --daemon)", err: err})
		}
		if raw, err = daemonURLFromAddress(addr); err != nil {
			return nil, usagef("%v (from %s); pass --daemon http://host:port", err, origin)
		}
	}
	base, err := parseDaemonURL(raw)
	if err != nil {
		return nil, usageError(err)
	}
	timeout, _ := cmd.Flags().GetDuration("timeout")
	if timeout <= 0 {
		return nil, usagef("--timeout %s: expected a positive duration such as 10s", timeout)
	}
	return &daemonClient{base: base, http: &http.Client{}, timeout: timeout}, nil
}

func parseDaemonURL(raw string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("daemon address %q is not a URL like http://host:9479", raw)
	}
	return u, nil
}

// get fetches path?query into out. Errors carry the exit code: 3 when the
// daemon cannot be reached or answers unlike a subsync daemon, 2 for a
// request it rejected as bad, 1 for any other failure it reported.
func (c *daemonClient) get(ctx context.Context, path string, query url.Values, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := c.base.JoinPath(path)
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return usageError(fmt.Errorf("daemon request %s: %w", u, err))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return unreachable(fmt.Errorf("cannot reach the daemon at %s: %w (is 'subsync run' listening there? set --daemon)", c.base, innerError(err)))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIResponse))
	if err != nil {
		return unreachable(fmt.Errorf("reading the daemon's answer from %s: %w", u, err))
	}
	if resp.StatusCode != http.StatusOK {
		return apiFailure(u, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return unreachable(fmt.Errorf("%s did not answer like a subsync daemon (%s: %v)", u, resp.Header.Get("Content-Type"), err))
	}
	return nil
}

// innerError drops url.Error's repetition of the method and URL.
func innerError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

func apiFailure(u *url.URL, code int, body []byte) error {
	var e apiError
	if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
		return unreachable(fmt.Errorf("%s answered %d %s, not like a subsync daemon", u, code, http.StatusText(code)))
	}
	err := fmt.Errorf("daemon: %s", e.Error)
	if code == http.StatusBadRequest {
		return usageError(err)
	}
	return failed(err)
}
