package replicator

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsaradmin"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/admin/config"

	"github.com/subsync/subsync/mapping"
)

// runOnce runs a daemon for cluster with namespaces and returns what Run
// returned, or nil if it was still running after a second.
func runOnce(t *testing.T, p *pair, cluster, admin string, namespaces ...string) error {
	t.Helper()
	store, err := mapping.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	d, err := New(Config{Cluster: cluster, Namespaces: namespaces, Keys: p.keys},
		Deps{Client: p.clients[admin], Admin: p.admins[admin], Store: store,
			Entries: HTTPEntries{WebServiceURL: p.webs[admin]}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err = d.Run(ctx)
	if ctx.Err() != nil && err == nil {
		return nil
	}
	return err
}

// Finding 8: a cluster name Pulsar does not know, or a namespace that does
// not replicate between this cluster and another, stops Run with an error
// naming the bad input.
func TestRunRefusesAnUnknownClusterOrAnUnreplicatedNamespace(t *testing.T) {
	p := newPair(t)
	if err := p.admins["east"].Namespaces().CreateNamespace("public/solo"); err != nil {
		t.Fatal(err)
	}
	if err := p.admins["east"].Namespaces().SetNamespaceReplicationClusters("public/solo", []string{"east"}); err != nil {
		t.Fatal(err)
	}
	if err := p.admins["east"].Namespaces().CreateNamespace("public/away"); err != nil {
		t.Fatal(err)
	}
	if err := p.admins["east"].Namespaces().SetNamespaceReplicationClusters("public/away", []string{"west"}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, cluster string
		namespaces    []string
		want          []string // substrings of the error; none: Run keeps running
	}{
		{"misspelt cluster", "eats", []string{p.ns}, []string{`"eats"`, "not a cluster Pulsar knows", `"east"`}},
		{"namespace without this cluster", "east", []string{p.ns, "public/away"}, []string{"public/away", `not to this cluster "east"`}},
		{"namespace replicating nowhere else", "east", []string{"public/solo"}, []string{"public/solo", "at least one other cluster"}},
		{"no such namespace", "east", []string{"public/nowhere"}, []string{"public/nowhere"}},
		{"correct", "east", []string{p.ns}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := runOnce(t, p, c.cluster, "east", c.namespaces...)
			if c.want == nil {
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Run accepted the configuration")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
}

// Finding 10: discovery's admin calls have a deadline too: a namespace
// whose admin API hangs fails discovery within AdminTimeout.
func TestDiscoveryCallsHaveADeadline(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	adm, err := pulsaradmin.NewClient(&config.Config{WebServiceURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	w := newUnitWorker(t, Config{AdminTimeout: 200 * time.Millisecond})
	w.d.deps.Admin = adm
	start := time.Now()
	if err := w.d.discoverNamespace(&nsWork{ctx: t.Context()}, "public/geo"); err == nil {
		t.Fatal("discovery against a hung admin API succeeded")
	}
	if err := w.d.checkIdentity(t.Context()); err == nil {
		t.Fatal("identity check against a hung admin API succeeded")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("hung discovery and identity calls took %s with AdminTimeout 200ms", took)
	}
}
