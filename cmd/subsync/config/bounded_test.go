package config

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Issue 8, finding 10: every admin call has a deadline far below the
// client's 5-minute default, and a response size cap.
func TestAdminCallsHaveADeadlineAndASizeCap(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/admin/v2/clusters": // hangs
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/admin/v2/tenants": // 2 MiB of a JSON string, no Content-Length
			w.(http.Flusher).Flush()
			_, _ = w.Write([]byte(`["` + strings.Repeat("x", 2<<20) + `"]`))
		case "/admin/v2/namespaces/public": // announced too large
			w.Header().Set("Content-Length", "3000000")
			_, _ = w.Write([]byte("[]"))
		default:
			_, _ = w.Write([]byte(`["public/default"]`))
		}
	}))
	defer srv.Close()
	defer close(release)
	f := newFixture(t)
	c := loadWith(t, f, map[string]any{"webServiceUrl": srv.URL, "adminTimeout": "300ms",
		"adminMaxResponseBytes": 1 << 20})
	adm, err := c.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := adm.Clusters().List(); err == nil {
		t.Fatal("a hung admin call returned no error")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("a hung admin call took %s with adminTimeout 300ms", took)
	}
	if _, err := adm.Tenants().List(); err == nil || !strings.Contains(err.Error(), ErrAdminResponseTooLarge.Error()) {
		t.Fatalf("a 2 MiB answer with a 1 MiB cap: %v", err)
	}
	if _, err := adm.Namespaces().GetNamespaces("public"); err == nil || !strings.Contains(err.Error(), ErrAdminResponseTooLarge.Error()) {
		t.Fatalf("an announced 3 MB answer with a 1 MiB cap: %v", err)
	}
	if got, err := adm.Namespaces().GetTopics("public/default"); err != nil || len(got) != 1 {
		t.Fatalf("a small answer: %v, %v", got, err)
	}
}

func TestAdminBoundsAreValidated(t *testing.T) {
	f := newFixture(t)
	path, _ := f.yamlFile(with(f.base(), map[string]any{"adminTimeout": "1ms", "adminMaxResponseBytes": 10}))
	_, err := Load(Sources{File: path})
	if err == nil || !strings.Contains(err.Error(), "adminTimeout") || !strings.Contains(err.Error(), "adminMaxResponseBytes") {
		t.Fatalf("Load: %v; want errors naming adminTimeout and adminMaxResponseBytes", err)
	}
}

// adminRate paces every admin request: with one request per second, the
// first goes out and the second cannot within its caller's shorter
// deadline.
func TestAdminRequestsArePaced(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		served.Add(1)
		_, _ = w.Write([]byte(`["public/default"]`))
	}))
	defer srv.Close()
	f := newFixture(t)
	c := loadWith(t, f, map[string]any{"webServiceUrl": srv.URL, "adminRate": 1})
	client, err := c.AdminHTTPClient()
	if err != nil {
		t.Fatal(err)
	}
	get := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/admin/v2/namespaces/public", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		return err
	}
	if err := get(); err != nil {
		t.Fatalf("first request: %v", err)
	}
	if err := get(); err == nil || !strings.Contains(err.Error(), "adminRate") {
		t.Fatalf("second request within the same second: %v; want it held back by adminRate", err)
	}
	if n := served.Load(); n != 1 {
		t.Fatalf("the server saw %d requests; want 1", n)
	}
}

func TestAdminRateAndConcurrencyAreValidated(t *testing.T) {
	f := newFixture(t)
	path, _ := f.yamlFile(with(f.base(), map[string]any{"adminRate": -1, "adminConcurrency": 0}))
	_, err := Load(Sources{File: path})
	if err == nil || !strings.Contains(err.Error(), "adminRate") || !strings.Contains(err.Error(), "adminConcurrency") {
		t.Fatalf("Load: %v; want errors naming adminRate and adminConcurrency", err)
	}
}
