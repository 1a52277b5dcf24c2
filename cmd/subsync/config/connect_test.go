package config

import (
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func loadWith(t *testing.T, f *fixture, changes map[string]any, env ...string) *Config {
	t.Helper()
	path, _ := f.yamlFile(with(f.base(), changes))
	c, err := Load(Sources{File: path, Environ: env})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func TestReplicatorConfig(t *testing.T) {
	f := newFixture(t)
	c := loadWith(t, f, map[string]any{
		"namespaces":            []string{"shop/eu", "shop/us"},
		"topicPatterns":         []string{"^persistent://shop/eu/orders"},
		"subscriptions.include": []string{"^billing-"},
		"subscriptions.exclude": []string{"-test$"},
		"controlTopic":          "ctl",
		"exportInterval":        "250ms",
		"fullStateEvery":        7,
		"snapshotInterval":      "3s",
		"snapshotTimeout":       "9s",
		"discoveryInterval":     "4s",
		"resetThreshold":        -1,
	})
	rc := c.ReplicatorConfig()
	if err := rc.Validate(); err != nil {
		t.Fatal(err)
	}
	if rc.Cluster != "east" || len(rc.Namespaces) != 2 || rc.ControlTopic != "ctl" ||
		rc.ExportInterval != 250*time.Millisecond || rc.FullStateEvery != 7 || rc.SnapshotInterval != 3*time.Second ||
		rc.SnapshotTimeout != 9*time.Second || rc.DiscoveryInterval != 4*time.Second || rc.ResetThreshold != -1 {
		t.Errorf("converted config %+v", rc)
	}
	if rc.Keys == nil || rc.Keys.Current().ID != 7 {
		t.Errorf("keys not loaded: %v", rc.Keys)
	}
	matches := func(res []*regexp.Regexp, s string) bool {
		for _, re := range res {
			if re.MatchString(s) {
				return true
			}
		}
		return false
	}
	if !matches(rc.TopicPatterns, "persistent://shop/eu/orders") || matches(rc.TopicPatterns, "persistent://shop/us/orders") {
		t.Error("topic patterns not compiled from the config")
	}
	if !matches(rc.IncludeSubscriptions, "billing-1") || !matches(rc.ExcludeSubscriptions, "x-test") {
		t.Error("subscription patterns not compiled from the config")
	}
}

func TestClientOptions(t *testing.T) {
	f := newFixture(t)
	tokenFile := f.write("token", "abc", 0o600)
	reg := prometheus.NewRegistry()
	t.Run("none", func(t *testing.T) {
		o, err := loadWith(t, f, nil).ClientOptions(slog.New(slog.DiscardHandler), reg)
		if err != nil || o.Authentication != nil || o.URL != "pulsar://broker:6650" || !o.TLSValidateHostname || o.MetricsRegisterer != reg || o.Logger == nil {
			t.Errorf("options %+v, %v", o, err)
		}
	})
	for name, changes := range map[string]map[string]any{
		"token":      {"auth.method": "token", "auth.tokenFile": tokenFile},
		"token text": {"auth.method": "token", "auth.token": "abc"},
		"oauth2":     {"auth.method": "oauth2", "auth.oauth2.issuerUrl": "https://auth.example", "auth.oauth2.privateKey": tokenFile},
	} {
		t.Run(name, func(t *testing.T) {
			o, err := loadWith(t, f, changes).ClientOptions(slog.New(slog.DiscardHandler), reg)
			if err != nil || o.Authentication == nil {
				t.Errorf("authentication not set: %v", err)
			}
		})
	}
	t.Run("tls", func(t *testing.T) {
		c := loadWith(t, f, map[string]any{"serviceUrl": "pulsar+ssl://b:6651", "auth.method": "tls", "auth.certFile": tokenFile,
			"auth.keyFile": tokenFile, "tls.allowInsecure": true, "tls.validateHostname": false, "admin.auth.method": "none"})
		o, err := c.ClientOptions(slog.New(slog.DiscardHandler), reg)
		if err != nil || o.Authentication == nil || !o.TLSAllowInsecureConnection || o.TLSValidateHostname {
			t.Errorf("options %+v, %v", o, err)
		}
	})
}

// fakeAdmin records the Authorization header of each request.
type fakeAdmin struct {
	mu    sync.Mutex
	auths []string
}

func (a *fakeAdmin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.auths = append(a.auths, r.Header.Get("Authorization"))
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`["east","west"]`))
}

func (a *fakeAdmin) lastAuth() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.auths[len(a.auths)-1]
}

func TestAdminClientAuth(t *testing.T) {
	fa := &fakeAdmin{}
	srv := httptest.NewServer(fa)
	defer srv.Close()
	f := newFixture(t)
	tokenFile := f.write("token", "from-file\n", 0o600)
	cases := []struct {
		name    string
		changes map[string]any
		env     []string
		want    string
	}{
		{"none", nil, nil, ""},
		{"token", map[string]any{"auth.method": "token"}, []string{"SUBSYNC_AUTH_TOKEN=t0k"}, "Bearer t0k"},
		{"token file", map[string]any{"auth.method": "token", "auth.tokenFile": tokenFile}, nil, "Bearer from-file"},
		{"admin's own token", map[string]any{"auth.method": "token", "auth.token": "client", "admin.auth.method": "token"},
			[]string{"SUBSYNC_ADMIN_AUTH_TOKEN=admin"}, "Bearer admin"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := loadWith(t, f, with(tc.changes, map[string]any{"webServiceUrl": srv.URL}), tc.env...)
			adm, err := c.AdminClient()
			if err != nil {
				t.Fatal(err)
			}
			clusters, err := adm.Clusters().List()
			if err != nil || len(clusters) != 2 {
				t.Fatalf("List = %v, %v", clusters, err)
			}
			if got := fa.lastAuth(); got != tc.want {
				t.Errorf("Authorization = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAdminClientTLSVerification(t *testing.T) {
	srv := httptest.NewTLSServer(&fakeAdmin{})
	defer srv.Close()
	f := newFixture(t)
	ca := f.write("ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})), 0o600)
	u, _ := url.Parse(srv.URL)
	byIP := srv.URL                           // the test certificate names 127.0.0.1
	byName := "https://localhost:" + u.Port() // ... but not localhost
	cases := []struct {
		name    string
		url     string
		changes map[string]any
		wantErr string
	}{
		{"trusted, host checked", byIP, map[string]any{"tls.trustCertsFile": ca}, ""},
		{"trusted, wrong host", byName, map[string]any{"tls.trustCertsFile": ca}, "certificate is valid for"},
		{"trusted, host not checked", byName, map[string]any{"tls.trustCertsFile": ca, "tls.validateHostname": false}, ""},
		{"untrusted, host not checked", byName, map[string]any{"tls.validateHostname": false}, "certificate signed by unknown authority"},
		{"untrusted", byIP, nil, "certificate signed by unknown authority"},
		{"insecure", byName, map[string]any{"tls.allowInsecure": true}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := loadWith(t, f, with(tc.changes, map[string]any{"webServiceUrl": tc.url}))
			adm, err := c.AdminClient()
			if err != nil {
				t.Fatal(err)
			}
			_, err = adm.Clusters().List()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestAdminClientBadTLSCert(t *testing.T) {
	f := newFixture(t)
	notCert := f.write("cert.pem", "not a cert", 0o600)
	c := loadWith(t, f, map[string]any{"webServiceUrl": "https://b:8443", "auth.method": "none",
		"admin.auth.method": "tls", "admin.auth.certFile": notCert, "admin.auth.keyFile": notCert})
	if _, err := c.AdminClient(); err == nil || !strings.Contains(err.Error(), "admin.auth (tls)") {
		t.Errorf("error %v, want one naming admin.auth (tls)", err)
	}
}
