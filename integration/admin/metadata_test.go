package admin

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"
)

func seeded(t *testing.T) *Metadata {
	t.Helper()
	md := NewMetadata("east")
	if err := md.SeedStandalone(map[string]ClusterData{"east": {}, "west": {}}); err != nil {
		t.Fatal(err)
	}
	return md
}

func wantCode(t *testing.T, err error, code int) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("want *Error %d, got %v", code, err)
	}
}

func TestSeedStandaloneIsLocalOnly(t *testing.T) {
	md := seeded(t)
	if md.LocalCluster() != "east" {
		t.Fatalf("local = %q", md.LocalCluster())
	}
	if got := md.Clusters(); !reflect.DeepEqual(got, []string{"east", "west"}) {
		t.Fatalf("clusters = %v", got)
	}
	repl, err := md.ReplicationClusters("public/default")
	if err != nil || !reflect.DeepEqual(repl, []string{"east"}) {
		t.Fatalf("public/default replication = %v, %v; want [east]", repl, err)
	}
	if !md.HasNamespace("public/default") || md.HasNamespace("public/other") {
		t.Fatal("HasNamespace wrong")
	}
	if err := md.SeedStandalone(map[string]ClusterData{"east": {}}); err == nil {
		t.Fatal("seeding twice succeeded")
	}
}

func TestMetadataReturnsCopies(t *testing.T) {
	md := seeded(t)
	repl, _ := md.ReplicationClusters("public/default")
	repl[0] = "mutated"
	p, _ := md.Policies("public/default")
	p.ReplicationClusters[0] = "mutated"
	p.Properties["x"] = "y"
	ti, _ := md.Tenant("public")
	ti.AllowedClusters[0] = "mutated"
	again, _ := md.Policies("public/default")
	if again.ReplicationClusters[0] != "east" || len(again.Properties) != 0 {
		t.Fatalf("store was mutated through a returned value: %+v", again)
	}
	if ti2, _ := md.Tenant("public"); ti2.AllowedClusters[0] != "east" {
		t.Fatalf("tenant mutated: %v", ti2.AllowedClusters)
	}
}

func TestNamespaceRules(t *testing.T) {
	md := seeded(t)
	wantCode(t, md.CreateNamespace("ghost/ns", Policies{}), http.StatusNotFound)
	wantCode(t, md.CreateNamespace("public", Policies{}), http.StatusPreconditionFailed)
	wantCode(t, md.CreateNamespace("public/a/b", Policies{}), http.StatusPreconditionFailed)
	wantCode(t, md.CreateNamespace("public/bad name", Policies{}), http.StatusPreconditionFailed)
	wantCode(t, md.CreateNamespace("public/x", Policies{ReplicationClusters: []string{"mars"}}), http.StatusForbidden)
	neg := -5
	wantCode(t, md.CreateNamespace("public/x", Policies{MessageTTLSeconds: &neg}), http.StatusPreconditionFailed)
	if md.HasNamespace("public/x") {
		t.Fatal("failed create left a namespace behind")
	}
	if err := md.CreateNamespace("public/x", Policies{ReplicationClusters: []string{"west", "east", "west"}}); err != nil {
		t.Fatal(err)
	}
	repl, _ := md.ReplicationClusters("public/x")
	if !reflect.DeepEqual(repl, []string{"west", "east"}) {
		t.Fatalf("duplicates not removed: %v", repl)
	}
	// The tenant may not drop a cluster its namespaces replicate to.
	wantCode(t, md.UpdateTenant("public", TenantInfo{AllowedClusters: []string{"east"}}), http.StatusConflict)
	if err := md.SetReplicationClusters("public/x", []string{"east"}); err != nil {
		t.Fatal(err)
	}
	if err := md.UpdateTenant("public", TenantInfo{AllowedClusters: []string{"east"}}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, md.SetReplicationClusters("public/x", []string{"west"}), http.StatusForbidden)
	wantCode(t, md.DeleteCluster("east"), http.StatusPreconditionFailed)
	if err := md.DeleteCluster("west"); err != nil {
		t.Fatal(err)
	}
}

func TestWatchBroadcastsEveryChange(t *testing.T) {
	md := seeded(t)
	const watchers = 5
	var wg sync.WaitGroup
	ch := md.Watch()
	woken := make(chan int, watchers)
	for i := range watchers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-ch
			woken <- i
		}()
	}
	before := md.Version()
	if err := md.SetMessageTTL("public/default", 60); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if len(woken) != watchers {
		t.Fatalf("%d of %d watchers woke", len(woken), watchers)
	}
	if md.Version() != before+1 {
		t.Fatalf("version %d, want %d", md.Version(), before+1)
	}
	next := md.Watch()
	select {
	case <-next:
		t.Fatal("new watch channel closed without a change")
	default:
	}
	// A failed change notifies nobody.
	_ = md.SetMessageTTL("public/nope", 1)
	select {
	case <-next:
		t.Fatal("failed change notified")
	case <-time.After(10 * time.Millisecond):
	}
}

func TestMetadataConcurrentUse(t *testing.T) {
	md := seeded(t)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				ns := fmt.Sprintf("public/w%d-%d", w, i)
				if err := md.CreateNamespace(ns, Policies{}); err != nil {
					t.Error(err)
					return
				}
				_ = md.SetReplicationClusters(ns, []string{"east", "west"})
				_, _ = md.Policies(ns)
				_ = md.Watch()
				if i%2 == 0 {
					_ = md.DeleteNamespace(ns)
				}
			}
		}()
	}
	wg.Wait()
	list, _ := md.Namespaces("public")
	if len(list) != 1+8*25 {
		t.Fatalf("namespaces = %d, want %d", len(list), 1+8*25)
	}
}
