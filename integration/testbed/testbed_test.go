package testbed

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func TestOptionsRejectBadClusterLists(t *testing.T) {
	for _, clusters := range [][]string{{"east"}, {"a", "b", "c", "d"}, {"east", "east"}, {"East", "west"}, {"east", ""}} {
		o := Options{Clusters: clusters, CacheDir: t.TempDir()}
		if err := o.fill(); err == nil {
			t.Errorf("clusters %q accepted", clusters)
		}
	}
	bad := Options{Clusters: []string{"east", "west"}, CacheDir: t.TempDir(), LedgerMaxEntries: -5}
	if err := bad.fill(); err == nil || !strings.Contains(err.Error(), "positive") {
		t.Errorf("ledger max entries -5: %v", err)
	}
	o := Options{Clusters: []string{"east", "west"}, CacheDir: t.TempDir()}
	if err := o.fill(); err != nil {
		t.Fatal(err)
	}
	if o.Version != DefaultVersion || o.LedgerMaxEntries != 10 || o.Java != "java" {
		t.Errorf("defaults not filled: %+v", o)
	}
}

func TestClassPathRejectsAMalformedVersion(t *testing.T) {
	for _, v := range []string{"", "4.0", "4.0.7; rm -rf /", "latest", "4.0.7-SNAPSHOT"} {
		if _, err := ClassPath(context.Background(), v, t.TempDir()); err == nil || !strings.Contains(err.Error(), "MAJOR.MINOR.PATCH") {
			t.Errorf("version %q: err %v, want one naming the expected form", v, err)
		}
	}
}

func TestBrokerConfig(t *testing.T) {
	c := &Cluster{Name: "east", brokerPort: 21001, webPort: 21002}
	conf := brokerConfig(c, Options{LedgerMaxEntries: 25, BrokerSettings: map[string]string{
		"acknowledgmentAtBatchIndexLevelEnabled": "true", "brokerDeleteInactiveTopicsEnabled": "true"}})
	for _, want := range []string{"clusterName=east\n", "brokerServicePort=21001\n", "webServicePort=21002\n",
		"bindAddress=127.0.0.1\n", "enableReplicatedSubscriptions=true\n", "managedLedgerMaxEntriesPerLedger=25\n",
		"managedLedgerMinLedgerRolloverTimeMinutes=0\n", "managedLedgerDefaultEnsembleSize=1\n",
		// Overrides win over the bed's own settings.
		"acknowledgmentAtBatchIndexLevelEnabled=true\n", "brokerDeleteInactiveTopicsEnabled=true\n"} {
		if !strings.Contains(conf, want) {
			t.Errorf("configuration lacks %q:\n%s", want, conf)
		}
	}
	if strings.Count(conf, "brokerDeleteInactiveTopicsEnabled=") != 1 {
		t.Errorf("a key is written twice:\n%s", conf)
	}
}

func TestEnvNamesTheClustersInOrder(t *testing.T) {
	b := &Bed{opts: Options{Version: "4.0.7"}, clusters: []*Cluster{
		{Name: "east", brokerPort: 1, webPort: 2}, {Name: "west", brokerPort: 3, webPort: 4}}}
	got := strings.Join(b.Env("http://127.0.0.1:9"), " ")
	for _, want := range []string{"PULSAR_A_SERVICE_URL=pulsar://127.0.0.1:1", "PULSAR_A_WEB_URL=http://127.0.0.1:2",
		"PULSAR_A_CLUSTER=east", "PULSAR_B_SERVICE_URL=pulsar://127.0.0.1:3", "PULSAR_B_CLUSTER=west",
		EnvVersion + "=4.0.7", EnvControlURL + "=http://127.0.0.1:9"} {
		if !strings.Contains(got, want) {
			t.Errorf("environment lacks %s: %s", want, got)
		}
	}
}

func TestFaultAPI(t *testing.T) {
	b := &Bed{clusters: []*Cluster{{Name: "east"}}}
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()
	r := &Remote{URL: srv.URL, http: srv.Client()}
	ctx := context.Background()
	infos, err := r.Clusters(ctx)
	if err != nil || len(infos) != 1 || infos[0].Name != "east" || infos[0].State != "killed" {
		t.Fatalf("clusters: %+v, %v", infos, err)
	}
	// Killing a cluster that is not running is a no-op; pausing it is an error.
	if err := r.Kill(ctx, "east"); err != nil {
		t.Errorf("kill: %v", err)
	}
	if err := r.Pause(ctx, "east"); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("pause of a killed cluster: %v", err)
	}
	if err := r.Kill(ctx, "north"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("kill of an unknown cluster: %v", err)
	}
	resp, err := http.Post(srv.URL+"/clusters/east/explode", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown fault: %s", resp.Status)
	}
}

func TestRocksdbJarIsFoundOnTheClassPath(t *testing.T) {
	cp := strings.Join([]string{"/m2/org/apache/pulsar/pulsar-broker-4.0.7.jar",
		"/m2/org/rocksdb/rocksdbjni/7.10.2/rocksdbjni-7.10.2.jar", "/m2/x/y.jar"}, string(os.PathListSeparator))
	jar, err := rocksdbJar(cp)
	if err != nil || jar != "/m2/org/rocksdb/rocksdbjni/7.10.2/rocksdbjni-7.10.2.jar" {
		t.Errorf("rocksdbJar = %q, %v", jar, err)
	}
	if _, err := rocksdbJar("/m2/a.jar:/m2/b.jar"); err == nil {
		t.Error("a class path without rocksdbjni accepted")
	}
}

func TestNothingToExpireBeforeTheFirstStart(t *testing.T) {
	// No metadata store yet: no java is run (this one does not exist).
	c := &Cluster{Name: "east", dir: t.TempDir(), opts: Options{Java: "/nonexistent/java"}}
	if err := c.expireSessions(context.Background()); err != nil {
		t.Fatal(err)
	}
}
