package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/subsync/subsync/integration/emulator"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestFixedPorts(t *testing.T) {
	ports := []int{freePort(t), freePort(t), freePort(t), freePort(t)}
	flag := fmt.Sprintf("east=%d:%d,west=%d:%d", ports[0], ports[1], ports[2], ports[3])
	var out, errb bytes.Buffer
	code := run([]string{"--clusters", "east,west", "--ports", flag}, &out, &errb, func() {
		want := []map[string]string{
			{"cluster": "east", "serviceUrl": fmt.Sprintf("pulsar://127.0.0.1:%d", ports[0]), "webServiceUrl": fmt.Sprintf("http://127.0.0.1:%d", ports[1])},
			{"cluster": "west", "serviceUrl": fmt.Sprintf("pulsar://127.0.0.1:%d", ports[2]), "webServiceUrl": fmt.Sprintf("http://127.0.0.1:%d", ports[3])},
		}
		dec := json.NewDecoder(&out)
		for _, w := range want {
			var got map[string]string
			if err := dec.Decode(&got); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(w) {
				t.Errorf("got %v, want %v", got, w)
			}
		}
	})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}

func TestBadPortsExitTwo(t *testing.T) {
	for name, ports := range map[string]string{
		"no admin port":   "east=6650",
		"unknown cluster": "north=1:2",
		"not a number":    "east=x:8080",
		"twice":           "east=1:2,east=3:4",
		"out of range":    "east=70000:8080",
	} {
		var out, errb bytes.Buffer
		code := run([]string{"--clusters", "east,west", "--ports", ports}, &out, &errb, func() { t.Fatalf("%s: must not start", name) })
		if code != 2 || !strings.Contains(errb.String(), "--ports") {
			t.Errorf("%s: exit %d, stderr %q", name, code, errb.String())
		}
	}
}

// The helper commands do the operations guide's walkthrough: a
// geo-replicated namespace, messages produced, some held unacknowledged,
// and the backlog that shows them.
func TestHelperCommands(t *testing.T) {
	sim, err := emulator.Start(emulator.Options{Clusters: []emulator.ClusterOptions{{Name: "east"}, {Name: "west"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	east, west := sim.Cluster("east"), sim.Cluster("west")
	tool := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := tools()[args[0]](args[1:], &out, &errb); code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, errb.String())
		}
		return out.String()
	}
	tool("admin", "--web-url", east.WebURL()+","+west.WebURL(), "--clusters", "east,west", "create-namespace", "shop/eu")
	const topic = "persistent://shop/eu/orders"
	tool("produce", "--service-url", east.ServiceURL(), "--topic", topic, "--count", "20")
	out := tool("consume", "--service-url", east.ServiceURL(), "--topic", topic, "--subscription", "billing",
		"--hold-every", "5", "--wait", "500ms")
	if !strings.Contains(out, "received 20: 16 acknowledged, 4 held") || !strings.Contains(out, "msg-4 held") {
		t.Errorf("consume printed:\n%s", out)
	}
	if got := strings.TrimSpace(tool("admin", "--web-url", east.WebURL(), "backlog", topic, "billing")); got != "4" {
		t.Errorf("backlog %q, want 4", got)
	}
}

func TestHelperCommandUsage(t *testing.T) {
	for _, args := range [][]string{
		{"produce"}, {"consume", "--topic", "t"}, {"admin", "frobnicate"}, {"admin", "create-namespace", "a/b"},
	} {
		var out, errb bytes.Buffer
		if code := tools()[args[0]](args[1:], &out, &errb); code != 2 || errb.Len() == 0 {
			t.Errorf("%q: exit %d, stderr %q", args, code, errb.String())
		}
	}
}
