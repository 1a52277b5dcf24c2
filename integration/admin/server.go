package admin

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// maxBodyBytes bounds request bodies: admin bodies are tiny JSON documents.
const maxBodyBytes = 1 << 20

// Server is the admin REST server of one emulated cluster: an http.Handler
// for /admin/v2/... (over Metadata and Backend) and /sim/... (over a
// SimController). It holds no state of its own.
type Server struct {
	md      *Metadata
	backend Backend
	sim     SimController
	log     *slog.Logger
	// perKeyProperties serves message properties as Pulsar 3.0.x did.
	perKeyProperties bool
}

// Option configures a Server.
type Option func(*Server)

// WithSim serves the /sim fault API through sim (without it, /sim answers 501).
func WithSim(sim SimController) Option { return func(s *Server) { s.sim = sim } }

// WithPerKeyPropertyHeaders serves a message's properties as Pulsar 3.0.x
// did, one X-Pulsar-PROPERTY-<key> header each, instead of 3.1+'s single
// JSON X-Pulsar-PROPERTY header (PIP-279).
func WithPerKeyPropertyHeaders() Option { return func(s *Server) { s.perKeyProperties = true } }

// WithLogger logs failed requests (500s) to l.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// NewServer returns the admin handler of the cluster owning md.
func NewServer(md *Metadata, backend Backend, opts ...Option) *Server {
	s := &Server{md: md, backend: backend, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(s)
	}
	return s
}

// request is one call being served: the decoded path segments and helpers
// to read input and write Pulsar-shaped answers.
type request struct {
	w    http.ResponseWriter
	r    *http.Request
	raw  []string // path segments, still escaped
	segs []string // path segments, path-decoded once
}

// errNoRoute and errBadMethod are routing outcomes, not backend failures.
var (
	errNoRoute   = &Error{http.StatusNotFound, "HTTP 404 Not Found"}
	errBadMethod = &Error{http.StatusMethodNotAllowed, "HTTP 405 Method Not Allowed"}
)

// ServeHTTP routes the request; every failure becomes a JSON {"reason"}.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("admin handler panic", "method", r.Method, "path", r.URL.Path, "panic", p)
			writeJSON(w, http.StatusInternalServerError, errorBody{Reason: fmt.Sprint(p)})
		}
	}()
	req, err := newRequest(w, r)
	if err == nil {
		err = s.route(req)
	}
	if err != nil {
		code, reason := statusOf(err)
		if code >= 500 && code != http.StatusNotImplemented {
			s.log.Error("admin request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		writeJSON(w, code, errorBody{Reason: reason})
	}
}

func newRequest(w http.ResponseWriter, r *http.Request) (*request, error) {
	raw := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		d, err := url.PathUnescape(s)
		if err != nil {
			return nil, Errorf(http.StatusBadRequest, "Invalid path segment %q: %v", s, err)
		}
		segs[i] = d
	}
	return &request{w: w, r: r, raw: raw, segs: segs}, nil
}

func (s *Server) route(q *request) error {
	switch {
	case len(q.segs) >= 2 && q.segs[0] == "admin" && q.segs[1] == "v2":
		return s.routeAdmin(q, 2)
	case len(q.segs) >= 1 && q.segs[0] == "sim":
		return s.routeSim(q, q.segs[1:])
	}
	return errNoRoute
}

func (s *Server) routeAdmin(q *request, at int) error {
	if len(q.segs) <= at {
		return errNoRoute
	}
	rest := q.segs[at+1:]
	switch q.segs[at] {
	case "clusters":
		return s.routeClusters(q, rest)
	case "tenants":
		return s.routeTenants(q, rest)
	case "namespaces":
		return s.routeNamespaces(q, rest)
	case "persistent":
		return s.routePersistent(q, at+1)
	case "non-persistent":
		return s.routeNonPersistent(q, rest)
	}
	return errNoRoute
}

// method picks the handler for the request's HTTP method (405 otherwise).
func (q *request) method(handlers map[string]func() error) error {
	if h, ok := handlers[q.r.Method]; ok {
		return h()
	}
	return errBadMethod
}

// ---- input helpers ----

// readJSON decodes the body into v. An empty body leaves v untouched when
// optional, and is a 400 otherwise.
func (q *request) readJSON(v any, optional bool) error {
	body, err := io.ReadAll(io.LimitReader(q.r.Body, maxBodyBytes+1))
	if err != nil {
		return Errorf(http.StatusBadRequest, "Cannot read request body: %v", err)
	}
	if len(body) > maxBodyBytes {
		return Errorf(http.StatusRequestEntityTooLarge, "Request body larger than %d bytes", maxBodyBytes)
	}
	if trimmed := strings.TrimSpace(string(body)); trimmed == "" || trimmed == "null" {
		if optional {
			return nil
		}
		return Errorf(http.StatusBadRequest, "Request body is empty: expected %s", jsonKind(v))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return Errorf(http.StatusBadRequest, "Invalid request body: expected %s: %v", jsonKind(v), err)
	}
	return nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case *int, *int64:
		return "a JSON integer"
	case *[]string:
		return "a JSON array of strings"
	case *map[string]string:
		return "a JSON object of strings"
	case *json.RawMessage:
		return "a JSON value"
	}
	return "a JSON object"
}

// boolQuery parses an optional boolean query parameter.
func (q *request) boolQuery(name string) (bool, error) {
	v := q.r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, Errorf(http.StatusBadRequest, "Invalid query parameter %s=%q: expected true or false", name, v)
}

// ---- output helpers ----

type errorBody struct {
	Reason string `json:"reason"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		body, _ = json.Marshal(errorBody{Reason: "encode response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

func (q *request) ok(v any) error {
	writeJSON(q.w, http.StatusOK, v)
	return nil
}

func (q *request) noContent() error {
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}
