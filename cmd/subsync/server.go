package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/subsync/subsync/replicator"
)

// engine is what the HTTP listener needs of the daemon.
type engine interface {
	Healthy() error
	Ready() error
	Status(topicFilter string) replicator.StatusReport
	Mappings(topic string) (replicator.MappingsReport, error)
	FailoverCheck(ctx context.Context, o replicator.FailoverOptions) replicator.FailoverReport
}

// apiError is the body of every non-200 /api/v1 answer.
type apiError struct {
	Error string `json:"error"`
}

// newHandler serves /metrics, /healthz, /readyz and the /api/v1 JSON API
// on one listener. stopping turns readiness off during shutdown.
func newHandler(e engine, gatherer prometheus.Gatherer, stopping *atomic.Bool, logger *slog.Logger) http.Handler {
	probes, api := newHandlers(e, gatherer, stopping, logger)
	probes.Handle("/api/", api)
	return probes
}

// newHandlers returns the two listeners' handlers: probes serves
// /metrics, /healthz and /readyz; api serves /api/v1, which names every
// topic and subscription in scope and so listens on loopback by default.
func newHandlers(e engine, gatherer prometheus.Gatherer, stopping *atomic.Bool, logger *slog.Logger) (probes, api *http.ServeMux) {
	h := &handler{e: e, stopping: stopping, log: logger}
	probes = http.NewServeMux()
	probes.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}))
	probes.HandleFunc("GET /healthz", h.healthz)
	probes.HandleFunc("GET /readyz", h.readyz)
	api = http.NewServeMux()
	api.HandleFunc("GET /api/v1/status", h.status)
	api.HandleFunc("GET /api/v1/mappings", h.mappings)
	api.HandleFunc("GET /api/v1/failover-check", h.failoverCheck)
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.writeJSON(w, http.StatusNotFound, apiError{Error: fmt.Sprintf("no API endpoint %s %s; expected GET /api/v1/status, /api/v1/mappings or /api/v1/failover-check", r.Method, r.URL.Path)})
	})
	return probes, api
}

type handler struct {
	e        engine
	stopping *atomic.Bool
	log      *slog.Logger
}

func (h *handler) healthz(w http.ResponseWriter, _ *http.Request) {
	writeProbe(w, h.e.Healthy())
}

func (h *handler) readyz(w http.ResponseWriter, _ *http.Request) {
	writeProbe(w, h.ready())
}

func (h *handler) ready() error {
	if h.stopping.Load() {
		return errors.New("shutting down")
	}
	return h.e.Ready()
}

func writeProbe(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ok: %v\n", err)
		return
	}
	fmt.Fprintln(w, "ok")
}

func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	h.writeJSON(w, http.StatusOK, h.e.Status(r.URL.Query().Get("topic")))
}

func (h *handler) mappings(w http.ResponseWriter, r *http.Request) {
	topic := r.URL.Query().Get("topic")
	if topic == "" {
		h.writeJSON(w, http.StatusBadRequest, apiError{Error: "query parameter topic is required (a full topic name such as persistent://tenant/ns/topic)"})
		return
	}
	rep, err := h.e.Mappings(topic)
	if errors.Is(err, replicator.ErrNotInScope) {
		h.writeJSON(w, http.StatusNotFound, apiError{Error: err.Error()})
		return
	}
	if err != nil {
		h.writeJSON(w, http.StatusInternalServerError, apiError{Error: fmt.Sprintf("mappings of %s: %v", topic, err)})
		return
	}
	h.writeJSON(w, http.StatusOK, rep)
}

// failoverCheck answers 503 while the daemon is not ready: a report made
// before the first discovery would call an empty scope "ready".
func (h *handler) failoverCheck(w http.ResponseWriter, r *http.Request) {
	opts, err := failoverOptions(r.URL.Query())
	if err != nil {
		h.writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	if err := h.ready(); err != nil {
		h.writeJSON(w, http.StatusServiceUnavailable, apiError{Error: fmt.Sprintf("daemon not ready: %v", err)})
		return
	}
	h.writeJSON(w, http.StatusOK, h.e.FailoverCheck(r.Context(), opts))
}

func failoverOptions(q url.Values) (replicator.FailoverOptions, error) {
	var o replicator.FailoverOptions
	var errs []error
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"maxNotAcked", &o.MaxNotAcked}, {"maxLagEntries", &o.MaxLagEntries}} {
		text := q.Get(p.name)
		if text == "" {
			continue
		}
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("query parameter %s=%q: expected a whole number >= 0", p.name, text))
			continue
		}
		*p.dst = n
	}
	return o, errors.Join(errs...)
}

func (h *handler) writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		h.log.Error("encode API response", "error", err)
		code, body = http.StatusInternalServerError, []byte(`{"error":"could not encode the response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(body, '\n'))
}
