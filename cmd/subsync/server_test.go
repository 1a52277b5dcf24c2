package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestProbes(t *testing.T) {
	e := &fakeEngine{}
	d := startFakeDaemon(t, e)
	if code, body := get(t, d.srv.URL+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("healthz %d %q", code, body)
	}
	if code, _ := get(t, d.srv.URL+"/readyz"); code != 200 {
		t.Errorf("readyz %d", code)
	}
	e.setProbes(errors.New("tail loop stuck"), errors.New("discovery pending"))
	if code, body := get(t, d.srv.URL+"/healthz"); code != 503 || !strings.Contains(body, "tail loop stuck") {
		t.Errorf("unhealthy: %d %q", code, body)
	}
	if code, body := get(t, d.srv.URL+"/readyz"); code != 503 || !strings.Contains(body, "discovery pending") {
		t.Errorf("not ready: %d %q", code, body)
	}
	e.setProbes(nil, nil)
	d.stopping.Store(true)
	if code, body := get(t, d.srv.URL+"/readyz"); code != 503 || !strings.Contains(body, "shutting down") {
		t.Errorf("stopping: %d %q", code, body)
	}
}

func TestMetricsEndpointServesTheRegistry(t *testing.T) {
	d := startFakeDaemon(t, &fakeEngine{})
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "pulsar_subsync_test_total", Help: "test"})
	d.registry.MustRegister(c)
	c.Add(3)
	code, body := get(t, d.srv.URL+"/metrics")
	if code != 200 || !strings.Contains(body, "pulsar_subsync_test_total 3") {
		t.Errorf("metrics %d:\n%s", code, body)
	}
}

func TestAPIErrors(t *testing.T) {
	d := startFakeDaemon(t, &fakeEngine{mappingsErr: errFake})
	cases := []struct {
		path string
		code int
		want string
	}{
		{"/api/v1/mappings", 400, "query parameter topic is required"},
		{"/api/v1/mappings?topic=persistent://a/b/c", 500, "mappings of persistent://a/b/c: fake failure"},
		{"/api/v1/failover-check?maxNotAcked=-1", 400, `maxNotAcked="-1": expected a whole number >= 0`},
		{"/api/v1/failover-check?maxNotAcked=x&maxLagEntries=1.5", 400, "maxLagEntries"},
		{"/api/v1/nothing", 404, "no API endpoint GET /api/v1/nothing"},
	}
	for _, tc := range cases {
		code, body := get(t, d.srv.URL+tc.path)
		var e apiError
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			t.Errorf("%s: body %q is not a JSON error: %v", tc.path, body, err)
		}
		if code != tc.code || !strings.Contains(e.Error, tc.want) {
			t.Errorf("%s: %d %q, want %d with %q", tc.path, code, e.Error, tc.code, tc.want)
		}
	}
	resp, err := http.Post(d.srv.URL+"/healthz", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz: %d", resp.StatusCode)
	}
}

func TestFailoverOptionsParsed(t *testing.T) {
	e := &fakeEngine{failover: sampleFailover(true)}
	d := startFakeDaemon(t, e)
	if code, _ := get(t, d.srv.URL+"/api/v1/failover-check?maxNotAcked=12&maxLagEntries=34"); code != 200 {
		t.Fatalf("code %d", code)
	}
	if code, _ := get(t, d.srv.URL+"/api/v1/failover-check"); code != 200 {
		t.Fatalf("code %d", code)
	}
	if len(failoverOpts(e)) != 2 || failoverOpts(e)[0].MaxNotAcked != 12 || failoverOpts(e)[0].MaxLagEntries != 34 ||
		failoverOpts(e)[1].MaxNotAcked != 0 || failoverOpts(e)[1].MaxLagEntries != 0 {
		t.Errorf("options %+v", failoverOpts(e))
	}
}
