package config

import (
	"net/http"
	"net/http/httptest"
	"strings"
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
