package testbed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"
)

// Environment variables through which `testbed exec` hands a running bed
// to the command it runs.
const (
	EnvControlURL = "SUBSYNC_TESTBED_URL"
	EnvVersion    = "SUBSYNC_TESTBED_VERSION"
	// EnvSettings lists the --set broker settings, KEY=VALUE joined by
	// ",", sorted, so that a suite can tell which behaviour to expect.
	EnvSettings = "SUBSYNC_TESTBED_SETTINGS"
)

// SettingsFromEnv returns the broker settings `testbed exec` announced.
func SettingsFromEnv() map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(os.Getenv(EnvSettings), ",") {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			out[k] = v
		}
	}
	return out
}

// ClusterInfo describes one cluster of a running bed.
type ClusterInfo struct {
	Name       string `json:"name"`
	ServiceURL string `json:"serviceUrl"`
	WebURL     string `json:"webServiceUrl"`
	State      string `json:"state"`
	// Pid is the broker JVM's process id (0 while killed), for measuring
	// what the broker spends.
	Pid int `json:"pid"`
}

// Info describes every cluster of the bed.
func (b *Bed) Info() []ClusterInfo {
	out := make([]ClusterInfo, len(b.clusters))
	for i, c := range b.clusters {
		out[i] = ClusterInfo{Name: c.Name, ServiceURL: c.ServiceURL(), WebURL: c.WebURL(), State: c.State(), Pid: c.Pid()}
	}
	return out
}

// Env is the environment a command run against the bed gets: the
// contract suite's PULSAR_A_*, PULSAR_B_* (and PULSAR_C_*) variables in
// the order of Options.Clusters, the bed's version, and controlURL.
func (b *Bed) Env(controlURL string) []string {
	var env []string
	for i, c := range b.clusters {
		p := "PULSAR_" + string(rune('A'+i)) + "_"
		env = append(env, p+"SERVICE_URL="+c.ServiceURL(), p+"WEB_URL="+c.WebURL(), p+"CLUSTER="+c.Name)
	}
	settings := make([]string, 0, len(b.opts.BrokerSettings))
	for k, v := range b.opts.BrokerSettings {
		settings = append(settings, k+"="+v)
	}
	sort.Strings(settings)
	return append(env, EnvVersion+"="+b.opts.Version, EnvSettings+"="+strings.Join(settings, ","),
		EnvControlURL+"="+controlURL)
}

// Handler serves the bed's faults over HTTP:
//
//	GET  /clusters                      the clusters and their state
//	POST /clusters/{name}/kill          SIGKILL the broker's JVM
//	POST /clusters/{name}/restart       start it again on its data
//	POST /clusters/{name}/pause         SIGSTOP
//	POST /clusters/{name}/resume        SIGCONT
func (b *Bed) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /clusters", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(b.Info())
	})
	mux.HandleFunc("POST /clusters/{name}/{fault}", func(w http.ResponseWriter, r *http.Request) {
		name, fault := r.PathValue("name"), r.PathValue("fault")
		var err error
		switch fault {
		case "kill":
			err = b.Kill(name)
		case "restart":
			err = b.Restart(r.Context(), name)
		case "pause":
			err = b.Pause(name)
		case "resume":
			err = b.Resume(name)
		default:
			http.Error(w, fmt.Sprintf("unknown fault %q: want kill, restart, pause or resume", fault), http.StatusNotFound)
			return
		}
		switch {
		case errors.Is(err, errUnknownCluster):
			http.Error(w, err.Error(), http.StatusNotFound)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	return mux
}

// Remote drives the faults of a bed run by another process.
type Remote struct {
	URL     string
	Version string
	http    *http.Client
}

// RemoteFromEnv returns the bed that `testbed exec` announced, or nil
// when the process does not run under one.
func RemoteFromEnv() *Remote {
	u := os.Getenv(EnvControlURL)
	if u == "" {
		return nil
	}
	// Restart waits for a healthy broker, which can take a minute.
	return &Remote{URL: strings.TrimRight(u, "/"), Version: os.Getenv(EnvVersion), http: &http.Client{Timeout: 3 * time.Minute}}
}

// Kill SIGKILLs the named cluster's broker.
func (r *Remote) Kill(ctx context.Context, name string) error { return r.fault(ctx, name, "kill") }

// Restart starts the named cluster again on its data, waiting until it is healthy.
func (r *Remote) Restart(ctx context.Context, name string) error {
	return r.fault(ctx, name, "restart")
}

// Pause SIGSTOPs the named cluster's broker.
func (r *Remote) Pause(ctx context.Context, name string) error { return r.fault(ctx, name, "pause") }

// Resume SIGCONTs the named cluster's broker.
func (r *Remote) Resume(ctx context.Context, name string) error { return r.fault(ctx, name, "resume") }

// Clusters lists the bed's clusters and their state.
func (r *Remote) Clusters(ctx context.Context) ([]ClusterInfo, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL+"/clusters", nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("test bed: %w", err)
	}
	defer resp.Body.Close()
	var out []ClusterInfo
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("test bed clusters: %w", err)
	}
	return out, nil
}

func (r *Remote) fault(ctx context.Context, name, fault string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL+"/clusters/"+name+"/"+fault, nil)
	if err != nil {
		return err
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return fmt.Errorf("test bed %s %s: %w", fault, name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("test bed %s %s: %s: %s", fault, name, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}
