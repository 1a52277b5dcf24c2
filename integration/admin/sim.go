package admin

import (
	"net/http"
	"strconv"
	"time"
)

// routeSim serves the sim-wide fault API (emulator-arch.md):
//
//	POST /sim/links/{from}/{to}/pause | resume | latency?ms=N
//	POST /sim/clusters/{name}/stop | start
//	GET  /sim/status
func (s *Server) routeSim(q *request, rest []string) error {
	if s.sim == nil {
		return Errorf(http.StatusNotImplemented, "The /sim fault API is not enabled on this server")
	}
	post := func(h func() error) error {
		return q.method(map[string]func() error{
			http.MethodPost: func() error { return noContentOr(q, h()) },
		})
	}
	switch {
	case len(rest) == 1 && rest[0] == "status":
		return q.method(map[string]func() error{
			http.MethodGet: func() error { return q.ok(s.sim.Status()) },
		})
	case len(rest) == 4 && rest[0] == "links":
		from, to := rest[1], rest[2]
		switch rest[3] {
		case "pause":
			return post(func() error { return s.sim.PauseLink(from, to) })
		case "resume":
			return post(func() error { return s.sim.ResumeLink(from, to) })
		case "latency":
			return post(func() error {
				d, err := latencyParam(q)
				if err != nil {
					return err
				}
				return s.sim.SetLinkLatency(from, to, d)
			})
		}
	case len(rest) == 3 && rest[0] == "clusters":
		name := rest[1]
		switch rest[2] {
		case "stop":
			return post(func() error { return s.sim.StopCluster(name) })
		case "start":
			return post(func() error { return s.sim.StartCluster(name) })
		}
	}
	return errNoRoute
}

// maxLatencyMs caps injected latency at one hour: larger values are typos.
const maxLatencyMs = 3_600_000

func latencyParam(q *request) (time.Duration, error) {
	raw := q.r.URL.Query().Get("ms")
	ms, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return 0, Errorf(http.StatusBadRequest, "Invalid query parameter ms=%q: expected an integer number of milliseconds", raw)
	}
	if ms < 0 || ms > maxLatencyMs {
		return 0, Errorf(http.StatusBadRequest, "Invalid query parameter ms=%d: expected 0..%d", ms, maxLatencyMs)
	}
	return time.Duration(ms) * time.Millisecond, nil
}
