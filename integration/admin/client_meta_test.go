package admin

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/rest"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"
)

// wantAdminError checks that pulsaradmin surfaced Pulsar's status and reason.
func wantAdminError(t *testing.T, err error, code int, reason string) {
	t.Helper()
	var re rest.Error
	if !errors.As(err, &re) {
		t.Fatalf("want rest.Error %d %q, got %v", code, reason, err)
	}
	if re.Code != code || re.Reason != reason {
		t.Fatalf("want %d %q, got %d %q", code, reason, re.Code, re.Reason)
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestClustersWithPulsaradmin(t *testing.T) {
	e := newEnv(t)
	c := e.client.Clusters()

	names, err := c.List()
	mustOK(t, err)
	if !reflect.DeepEqual(names, []string{"a", "b"}) {
		t.Fatalf("clusters = %v, want [a b]", names)
	}
	cd, err := c.Get("b")
	mustOK(t, err)
	if cd.ServiceURL != "http://127.0.0.1:3" || cd.BrokerServiceURL != "pulsar://127.0.0.1:4" {
		t.Fatalf("cluster b = %+v", cd)
	}
	_, err = c.Get("zz")
	wantAdminError(t, err, 404, "Cluster does not exist")

	mustOK(t, c.Create(utils.ClusterData{Name: "c", ServiceURL: "http://c:8080", BrokerServiceURL: "pulsar://c:6650"}))
	wantAdminError(t, c.Create(utils.ClusterData{Name: "c"}), 409, "Cluster already exists")
	wantAdminError(t, c.Create(utils.ClusterData{Name: "bad name"}), 412, `Cluster name is not valid: "bad name"`)

	mustOK(t, c.Update(utils.ClusterData{Name: "c", ServiceURL: "http://c2:8080", PeerClusterNames: []string{"a"}}))
	cd, err = c.Get("c")
	mustOK(t, err)
	if cd.ServiceURL != "http://c2:8080" {
		t.Fatalf("updated serviceUrl = %q", cd.ServiceURL)
	}
	peers, err := c.GetPeerClusters("c")
	mustOK(t, err)
	if !reflect.DeepEqual(peers, []string{"a"}) {
		t.Fatalf("peers = %v", peers)
	}
	wantAdminError(t, c.Update(utils.ClusterData{Name: "zz"}), 404, "Cluster does not exist")

	// "a" replicates public/default: it cannot go.
	err = c.Delete("a")
	wantAdminError(t, err, 412, "Cluster not empty: used by namespace public/default")
	mustOK(t, c.Delete("c"))
	wantAdminError(t, c.Delete("c"), 404, "Cluster does not exist")
}

func TestTenantsWithPulsaradmin(t *testing.T) {
	e := newEnv(t)
	tn := e.client.Tenants()

	list, err := tn.List()
	mustOK(t, err)
	if !reflect.DeepEqual(list, []string{"public"}) {
		t.Fatalf("tenants = %v", list)
	}
	pub, err := tn.Get("public")
	mustOK(t, err)
	if !reflect.DeepEqual(pub.AllowedClusters, []string{"a", "b"}) {
		t.Fatalf("public allowed clusters = %v", pub.AllowedClusters)
	}
	_, err = tn.Get("nope")
	wantAdminError(t, err, 404, "Tenant does not exist")

	mustOK(t, tn.Create(utils.TenantData{Name: "acme", AdminRoles: []string{"ops"}, AllowedClusters: []string{"a"}}))
	wantAdminError(t, tn.Create(utils.TenantData{Name: "acme"}), 409, "Tenant already exists")
	wantAdminError(t, tn.Create(utils.TenantData{Name: "x", AllowedClusters: []string{"mars"}}), 412, "Clusters do not exist")
	wantAdminError(t, tn.Create(utils.TenantData{Name: "a b"}), 412, "Tenant name is not valid")

	got, err := tn.Get("acme")
	mustOK(t, err)
	if !reflect.DeepEqual(got.AdminRoles, []string{"ops"}) || !reflect.DeepEqual(got.AllowedClusters, []string{"a"}) {
		t.Fatalf("acme = %+v", got)
	}
	mustOK(t, tn.Update(utils.TenantData{Name: "acme", AllowedClusters: []string{"a", "b"}}))
	got, _ = tn.Get("acme")
	if !reflect.DeepEqual(got.AllowedClusters, []string{"a", "b"}) || len(got.AdminRoles) != 0 {
		t.Fatalf("acme after update = %+v", got)
	}

	mustOK(t, e.client.Namespaces().CreateNamespace("acme/orders"))
	wantAdminError(t, tn.Delete("acme"), 409, "The tenant still has active namespaces")
	mustOK(t, e.client.Namespaces().DeleteNamespace("acme/orders"))
	mustOK(t, tn.Delete("acme"))
	wantAdminError(t, tn.Delete("acme"), 404, "Tenant does not exist")
}

func TestNamespacesWithPulsaradmin(t *testing.T) {
	e := newEnv(t)
	ns := e.client.Namespaces()

	list, err := ns.GetNamespaces("public")
	mustOK(t, err)
	if !reflect.DeepEqual(list, []string{"public/default"}) {
		t.Fatalf("namespaces = %v", list)
	}
	_, err = ns.GetNamespaces("nope")
	wantAdminError(t, err, 404, "Tenant not found")

	pol, err := ns.GetPolicies("public/default")
	mustOK(t, err)
	if !reflect.DeepEqual(pol.ReplicationClusters, []string{"a"}) || pol.MessageTTLInSeconds != nil {
		t.Fatalf("public/default policies: replication %v ttl %v", pol.ReplicationClusters, pol.MessageTTLInSeconds)
	}
	if pol.Bundles == nil || pol.Bundles.NumBundles != 1 {
		t.Fatalf("bundles = %+v", pol.Bundles)
	}

	mustOK(t, ns.CreateNamespace("public/geo"))
	wantAdminError(t, ns.CreateNamespace("public/geo"), 409, "Namespace already exists")
	wantAdminError(t, ns.CreateNamespace("nope/x"), 404, "Tenant does not exist")
	_, err = ns.GetPolicies("public/missing")
	wantAdminError(t, err, 404, "Namespace does not exist")

	ttl := 30
	mustOK(t, ns.CreateNsWithPolices("public/withttl", utils.Policies{
		ReplicationClusters: []string{"a", "b"}, MessageTTLInSeconds: &ttl,
	}))
	pol, err = ns.GetPolicies("public/withttl")
	mustOK(t, err)
	if !reflect.DeepEqual(pol.ReplicationClusters, []string{"a", "b"}) || pol.MessageTTLInSeconds == nil || *pol.MessageTTLInSeconds != 30 {
		t.Fatalf("withttl policies: %v %v", pol.ReplicationClusters, pol.MessageTTLInSeconds)
	}

	// Replication.
	repl, err := ns.GetNamespaceReplicationClusters("public/geo")
	mustOK(t, err)
	if !reflect.DeepEqual(repl, []string{"a"}) {
		t.Fatalf("default replication = %v, want local only", repl)
	}
	v := e.md.Version()
	watch := e.md.Watch()
	mustOK(t, ns.SetNamespaceReplicationClusters("public/geo", []string{"a", "b"}))
	select {
	case <-watch:
	default:
		t.Fatal("SetNamespaceReplicationClusters did not notify watchers")
	}
	if e.md.Version() != v+1 {
		t.Fatalf("version %d -> %d, want +1", v, e.md.Version())
	}
	repl, _ = ns.GetNamespaceReplicationClusters("public/geo")
	if !reflect.DeepEqual(repl, []string{"a", "b"}) {
		t.Fatalf("replication = %v", repl)
	}
	wantAdminError(t, ns.SetNamespaceReplicationClusters("public/geo", []string{"a", "mars"}), 403, "Invalid cluster id: mars")
	wantAdminError(t, ns.SetNamespaceReplicationClusters("public/geo", []string{}), 412, "ClusterIds should not be null or empty")
	wantAdminError(t, ns.SetNamespaceReplicationClusters("public/geo", []string{"global"}), 412,
		"Cannot specify global in the list of replication clusters")
	wantAdminError(t, ns.SetNamespaceReplicationClusters("public/missing", []string{"a"}), 404, "Namespace does not exist")
	mustOK(t, e.client.Tenants().Create(utils.TenantData{Name: "solo", AllowedClusters: []string{"a"}}))
	mustOK(t, ns.CreateNamespace("solo/ns"))
	wantAdminError(t, ns.SetNamespaceReplicationClusters("solo/ns", []string{"a", "b"}), 403,
		"Cluster b is not in the list of allowed clusters list for tenant [solo]")

	// Message TTL.
	got, err := ns.GetNamespaceMessageTTL("public/geo")
	mustOK(t, err)
	if got != -1 { // pulsaradmin's marker for 204 No Content (unset)
		t.Fatalf("unset TTL = %d, want -1", got)
	}
	mustOK(t, ns.SetNamespaceMessageTTL("public/geo", 120))
	got, err = ns.GetNamespaceMessageTTL("public/geo")
	mustOK(t, err)
	if got != 120 {
		t.Fatalf("TTL = %d, want 120", got)
	}
	if p, _ := e.md.MessageTTL("public/geo"); p == nil || *p != 120 {
		t.Fatalf("metadata TTL = %v", p)
	}
	wantAdminError(t, ns.SetNamespaceMessageTTL("public/geo", -1), 412, "Invalid value for message TTL, message TTL must >= 0")
	mustOK(t, ns.RemoveNamespaceMessageTTL("public/geo"))
	if p, _ := e.md.MessageTTL("public/geo"); p != nil {
		t.Fatalf("TTL after remove = %v, want unset", *p)
	}

	// Delete: refused while topics exist.
	mustOK(t, e.backend.CreateTopic("persistent://public/geo/t1"))
	wantAdminError(t, ns.DeleteNamespace("public/geo"), 409, "Cannot delete non empty namespace")
	topics, err := ns.GetTopics("public/geo")
	mustOK(t, err)
	if !reflect.DeepEqual(topics, []string{"persistent://public/geo/t1"}) {
		t.Fatalf("namespace topics = %v", topics)
	}
	mustOK(t, e.backend.DeleteTopic("persistent://public/geo/t1", true))
	mustOK(t, ns.DeleteNamespace("public/geo"))
	wantAdminError(t, ns.DeleteNamespace("public/geo"), 404, "Namespace does not exist")
	list, _ = ns.GetNamespaces("public")
	if slices.Contains(list, "public/geo") {
		t.Fatalf("deleted namespace still listed: %v", list)
	}
}
