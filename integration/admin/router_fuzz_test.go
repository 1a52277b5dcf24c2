package admin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// fuzzServer is a cluster whose handler reports panics instead of hiding
// them behind the recover in ServeHTTP.
func fuzzServer(t testing.TB) (*Server, *fakeBackend) {
	md := NewMetadata("a")
	if err := md.SeedStandalone(map[string]ClusterData{"a": {}, "b": {}}); err != nil {
		t.Fatal(err)
	}
	be := newFakeBackend(md)
	_ = be.CreateTopic("persistent://public/default/t")
	_ = be.CreateSubscription("persistent://public/default/t", "s", Earliest, false)
	_ = be.CreatePartitionedTopic("persistent://public/default/p", 2)
	return NewServer(md, be, WithSim(&fakeSim{})), be
}

// serveRaw runs one request through the handler and checks the invariants
// every answer must keep: no 500 (the fake backend only returns *Error, so
// a 500 is a panic), and a JSON {"reason"} on every error.
func serveRaw(t testing.TB, s *Server, method, target, body string) {
	u, err := url.ParseRequestURI(target)
	if err != nil || !validMethod(method) {
		return // net/http would refuse the request line before the handler
	}
	req := &http.Request{Method: method, URL: u, Header: http.Header{}, Body: http.NoBody, Host: "x"}
	if body != "" {
		req.Body = readCloser{strings.NewReader(body)}
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code == http.StatusInternalServerError {
		t.Fatalf("%s %s (%q): 500 %s", method, target, body, rec.Body.String())
	}
	if rec.Code >= 400 {
		var eb struct {
			Reason *string `json:"reason"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Reason == nil || *eb.Reason == "" {
			t.Fatalf("%s %s: %d with body %q, want a JSON reason", method, target, rec.Code, rec.Body.String())
		}
	}
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

func validMethod(m string) bool {
	switch m {
	case "GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS":
		return true
	}
	return false
}

var junkPaths = []string{
	"/", "//", "/admin", "/admin/", "/admin/v2", "/admin/v2/", "/admin//v2/clusters",
	"/admin/v2/clusters/", "/admin/v2/clusters//peers", "/admin/v2/clusters/a/peers/x",
	"/admin/v2/tenants/", "/admin/v2/tenants//", "/admin/v2/namespaces", "/admin/v2/namespaces/",
	"/admin/v2/namespaces//", "/admin/v2/namespaces/public//replication", "/admin/v2/namespaces/public/default/topics/x",
	"/admin/v2/persistent", "/admin/v2/persistent/", "/admin/v2/persistent/public", "/admin/v2/persistent//default",
	"/admin/v2/persistent/public/default/", "/admin/v2/persistent/public/default//stats",
	"/admin/v2/persistent/public/default/t/subscription", "/admin/v2/persistent/public/default/t/subscription/",
	"/admin/v2/persistent/public/default/t/subscription//skip/1", "/admin/v2/persistent/public/default/t/subscription/s/skip",
	"/admin/v2/persistent/public/default/t/subscription/s/skip/1/2", "/admin/v2/persistent/public/default/t/ledger/1/entry",
	"/admin/v2/persistent/public/default/t/ledger/1/block/2", "/admin/v2/persistent/public/default/t-partition-9/stats",
	"/admin/v2/persistent/public/default/t-partition-/stats", "/admin/v2/persistent/public/default/-partition-1/partitions",
	"/admin/v2/persistent/public/default/p/subscription/s/resetcursor/-9223372036854775808",
	"/admin/v2/persistent/public/default/%2F%2F/stats", "/admin/v2/persistent/public/default/%25/internalStats",
	"/admin/v2/persistent/public/default/a%2Fb/lastMessageId", "/admin/v2/persistent/%2e%2e/%2e%2e/t/stats",
	"/admin/v2/non-persistent", "/admin/v2/non-persistent/x", "/sim", "/sim/", "/sim/links", "/sim/links/a",
	"/sim/links/a/b", "/sim/clusters", "/sim/clusters/a", "/sim/status/x",
	"/admin/v2/persistent/public/default/t/subscription/s?force=true&force=false",
}

func TestJunkPathsNeverPanic(t *testing.T) {
	s, _ := fuzzServer(t)
	bodies := []string{"", "{", "null", "[]", `{"ledgerId":1}`, "-1", `{"partitions":-1}`, `"x"`}
	for _, p := range junkPaths {
		for _, m := range []string{"GET", "PUT", "POST", "DELETE"} {
			for _, b := range bodies {
				serveRaw(t, s, m, p, b)
			}
		}
	}
}

func FuzzRouter(f *testing.F) {
	for _, p := range junkPaths {
		f.Add("GET", p, "")
	}
	seeds := []struct{ m, p, b string }{
		{"PUT", "/admin/v2/persistent/public/default/x/partitions", `{"partitions":3}`},
		{"PUT", "/admin/v2/persistent/public/default/t/subscription/n", `{"ledgerId":-1,"entryId":-1}`},
		{"POST", "/admin/v2/persistent/public/default/t/subscription/s/resetcursor", `{"ledgerId":11,"entryId":0,"isExcluded":true}`},
		{"POST", "/admin/v2/persistent/public/default/t/subscription/s/skip/3", ""},
		{"POST", "/admin/v2/namespaces/public/default/replication", `["a","b"]`},
		{"PUT", "/admin/v2/namespaces/public/n2", `{"replication_clusters":["b"],"message_ttl_in_seconds":5}`},
		{"PUT", "/admin/v2/tenants/t2", `{"adminRoles":[],"allowedClusters":["a"]}`},
		{"PUT", "/admin/v2/clusters/c", `{"serviceUrl":"http://c"}`},
		{"GET", "/admin/v2/persistent/public/default/p/partitioned-stats?perPartition=false", ""},
		{"POST", "/sim/links/a/b/latency?ms=5", ""},
	}
	for _, s := range seeds {
		f.Add(s.m, s.p, s.b)
	}
	s, _ := fuzzServer(f)
	f.Fuzz(func(t *testing.T, method, path, body string) {
		serveRaw(t, s, method, path, body)
	})
}
