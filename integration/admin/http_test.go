package admin

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"
)

// do sends a raw request and decodes a JSON error reason when there is one.
func do(t *testing.T, e *env, method, path, body string) (int, string, http.Header) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), resp.Header
}

func reasonOf(t *testing.T, body string) string {
	t.Helper()
	var eb struct {
		Reason *string `json:"reason"`
	}
	if err := json.Unmarshal([]byte(body), &eb); err != nil || eb.Reason == nil {
		t.Fatalf("error body %q is not {\"reason\": ...}: %v", body, err)
	}
	return *eb.Reason
}

func TestRawErrorsAreJSON(t *testing.T) {
	e := newEnv(t)
	mustOK(t, e.backend.CreateTopic("persistent://public/default/t"))
	mustOK(t, e.backend.CreateSubscription("persistent://public/default/t", "s", Earliest, false))
	const topic = "/admin/v2/persistent/public/default/t"

	cases := []struct {
		method, path, body string
		code               int
		reason             string // substring
	}{
		{"GET", "/nothing/here", "", 404, "HTTP 404 Not Found"},
		{"GET", "/admin/v2/widgets", "", 404, "HTTP 404 Not Found"},
		{"GET", "/admin/v3/clusters", "", 404, "HTTP 404 Not Found"},
		{"GET", topic + "/unknownThing", "", 404, "HTTP 404 Not Found"},
		{"DELETE", "/admin/v2/clusters", "", 405, "HTTP 405 Method Not Allowed"},
		{"POST", topic + "/stats", "", 405, "HTTP 405 Method Not Allowed"},
		{"PUT", "/admin/v2/clusters/x", "{", 400, "Invalid request body: expected a JSON object"},
		{"PUT", "/admin/v2/clusters/x", "", 400, "Request body is empty"},
		{"POST", "/admin/v2/namespaces/public/default/replication", `"a"`, 400, "expected a JSON array of strings"},
		{"POST", "/admin/v2/namespaces/public/default/replication", `[""]`, 412, `Invalid cluster id: ""`},
		{"POST", "/admin/v2/namespaces/public/default/messageTTL", `"ten"`, 400, "expected a JSON integer"},
		{"PUT", "/admin/v2/persistent/public/default/p/partitions", `{}`, 400, `expected an integer or {"partitions": <integer>}`},
		{"PUT", "/admin/v2/persistent/public/default/p/partitions", `3.5`, 400, "expected an integer"},
		{"PUT", "/admin/v2/persistent/public/default/p/partitions", `0`, 406, "Number of partitions should be more than 0"},
		{"PUT", "/admin/v2/persistent/public/default/p/partitions", `99999999`, 406, "less than or equal to 10000"},
		{"PUT", "/admin/v2/persistent/public/default/q-partition-x/partitions", `2`, 412, "should not contain '-partition-'"},
		{"POST", "/admin/v2/persistent/public/default/p/partitions", `4`, 501, "Not supported by the emulator"},
		{"POST", topic + "/subscription/s/resetcursor", "", 400, "Request body is empty"},
		{"POST", topic + "/subscription/s/resetcursor", `{"entryId":3}`, 400, "both ledgerId and entryId are required"},
		{"POST", topic + "/subscription/s/resetcursor", `{"ledgerId":-5,"entryId":1}`, 412, "Invalid message id -5:1"},
		{"POST", topic + "/subscription/s/resetcursor/yesterday", "", 400, `Invalid timestamp "yesterday"`},
		{"POST", topic + "/subscription/s/skip/abc", "", 400, `Invalid number of messages "abc"`},
		{"POST", topic + "/subscription/s/skip/0", "", 412, "Invalid number of messages 0"},
		{"POST", topic + "/subscription/s/skip/-3", "", 412, "Invalid number of messages -3"},
		{"POST", topic + "/subscription/s/skip/99999999999", "", 400, "Invalid number of messages"},
		{"DELETE", topic + "/subscription/s?force=maybe", "", 400, `Invalid query parameter force="maybe"`},
		{"PUT", topic + "/subscription/s2?replicated=1", "", 400, `Invalid query parameter replicated="1"`},
		{"GET", topic + "/ledger/x/entry/1", "", 400, "Invalid message id x:1"},
		{"GET", topic + "/ledger/1/entry/-1", "", 400, "Invalid message id 1:-1"},
		{"GET", topic + "/ledger/1/entry/1", "", 404, "Message not found"},
		{"GET", topic + "/subscription/50%25off", "", 400, `Invalid subscription name "50%off"`},
		{"GET", "/admin/v2/persistent/public/nope/t/stats", "", 404, "Namespace does not exist"},
		{"PUT", "/admin/v2/non-persistent/public/default/t", "", 501, "Non-persistent topics are not supported"},
		{"GET", "/admin/v2/namespaces/public/default/nonsense", "", 404, "HTTP 404 Not Found"},
		{"PUT", "/admin/v2/tenants/t", strings.Repeat(" ", maxBodyBytes+1), 413, "Request body larger than"},
	}
	for _, c := range cases {
		code, body, h := do(t, e, c.method, c.path, c.body)
		if code != c.code {
			t.Errorf("%s %s: status %d (%s), want %d", c.method, c.path, code, body, c.code)
			continue
		}
		if ct := h.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: content type %q", c.method, c.path, ct)
		}
		if r := reasonOf(t, body); !strings.Contains(r, c.reason) {
			t.Errorf("%s %s: reason %q, want it to contain %q", c.method, c.path, r, c.reason)
		}
	}
}

func TestBackendFailureIs500WithContext(t *testing.T) {
	e := newEnv(t)
	e.backend.fail = errors.New("disk on fire")
	code, body, _ := do(t, e, "GET", "/admin/v2/persistent/public/default/t/stats", "")
	if code != 500 || reasonOf(t, body) != "stats persistent://public/default/t: disk on fire" {
		t.Fatalf("got %d %s", code, body)
	}
}

func TestNonPersistentListsAreEmpty(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/admin/v2/non-persistent/public/default", "/admin/v2/non-persistent/public/default/partitioned"} {
		code, body, _ := do(t, e, "GET", p, "")
		if code != 200 || body != "[]" {
			t.Fatalf("GET %s = %d %s, want 200 []", p, code, body)
		}
	}
	code, body, _ := do(t, e, "GET", "/admin/v2/non-persistent/public/nope", "")
	if code != 404 || reasonOf(t, body) != "Namespace does not exist" {
		t.Fatalf("missing namespace: %d %s", code, body)
	}
}

// Subscription names are decoded twice (JAX-RS, then Codec.decode) and topic
// names once, as in Pulsar; pulsaradmin escapes subscriptions twice.
func TestNamesAreDecodedLikePulsar(t *testing.T) {
	e := newEnv(t)
	weird := "persistent://public/default/we%ird"
	tn := topicName(t, weird)
	mustOK(t, e.client.Topics().Create(tn, 0))
	if _, ok := e.backend.topics[weird]; !ok {
		t.Fatalf("topic not created under its decoded name; have %v", keys(e.backend.topics))
	}
	sub := "team/a b%c"
	mustOK(t, e.client.Subscriptions().Create(tn, sub, utils.Earliest))
	subs, err := e.client.Subscriptions().List(tn)
	mustOK(t, err)
	if !reflect.DeepEqual(subs, []string{sub}) {
		t.Fatalf("subscriptions = %q, want [%q]", subs, sub)
	}
	// A curl user escapes once; that works for names without '%' or '+'.
	mustOK(t, e.client.Subscriptions().Create(tn, "team/x y", utils.Earliest))
	code, body, _ := do(t, e, "DELETE", "/admin/v2/persistent/public/default/we%25ird/subscription/"+url.PathEscape("team/x y"), "")
	if code != 204 {
		t.Fatalf("single-escaped delete: %d %s", code, body)
	}
	if subs, _ := e.backend.Subscriptions(weird); !reflect.DeepEqual(subs, []string{sub}) {
		t.Fatalf("subscriptions after delete = %q", subs)
	}
	// Like Pulsar's URLDecoder, the second decoding turns '+' into ' '.
	code, body, _ = do(t, e, "PUT", "/admin/v2/persistent/public/default/we%25ird/subscription/one+two", "")
	if code != 204 {
		t.Fatalf("create one+two: %d %s", code, body)
	}
	if _, ok := e.backend.topics[weird].ml.Cursor("one two"); !ok {
		t.Fatal(`"one+two" was not decoded to "one two"`)
	}
}

func keys[V any](m map[string]V) []string { return sortedKeys(m) }

func TestSimRoutes(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		method, path string
		code         int
		call         string
	}{
		{"POST", "/sim/links/a/b/pause", 204, "pause a>b"},
		{"POST", "/sim/links/b/a/resume", 204, "resume b>a"},
		{"POST", "/sim/links/a/b/latency?ms=250", 204, "latency a>b 250ms"},
		{"POST", "/sim/clusters/b/stop", 204, "stop b"},
		{"POST", "/sim/clusters/b/start", 204, "start b"},
	}
	for _, c := range cases {
		code, body, _ := do(t, e, c.method, c.path, "")
		if code != c.code {
			t.Fatalf("%s %s: %d %s", c.method, c.path, code, body)
		}
		if last := e.sim.calls[len(e.sim.calls)-1]; last != c.call {
			t.Fatalf("%s: controller saw %q, want %q", c.path, last, c.call)
		}
	}
	n := len(e.sim.calls)
	bad := []struct {
		method, path string
		code         int
		reason       string
	}{
		{"POST", "/sim/links/a/b/latency?ms=soon", 400, `Invalid query parameter ms="soon"`},
		{"POST", "/sim/links/a/b/latency", 400, `Invalid query parameter ms=""`},
		{"POST", "/sim/links/a/b/latency?ms=-1", 400, "expected 0..3600000"},
		{"GET", "/sim/links/a/b/pause", 405, "HTTP 405 Method Not Allowed"},
		{"POST", "/sim/links/a/b/explode", 404, "HTTP 404 Not Found"},
		{"POST", "/sim/clusters/nowhere/stop", 404, "Unknown cluster nowhere"},
	}
	for _, c := range bad {
		code, body, _ := do(t, e, c.method, c.path, "")
		if code != c.code || !strings.Contains(reasonOf(t, body), c.reason) {
			t.Fatalf("%s %s: %d %s, want %d %q", c.method, c.path, code, body, c.code, c.reason)
		}
	}
	if len(e.sim.calls) != n+1 { // only the "nowhere" call reached the controller
		t.Fatalf("invalid requests reached the controller: %v", e.sim.calls[n:])
	}
	code, body, _ := do(t, e, "GET", "/sim/status", "")
	if code != 200 || body != `{"clusters":["a","b"]}` {
		t.Fatalf("status: %d %s", code, body)
	}

	noSim := httptest.NewServer(NewServer(e.md, e.backend))
	defer noSim.Close()
	resp, err := http.Post(noSim.URL+"/sim/links/a/b/pause", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 501 {
		t.Fatalf("sim without controller: %d", resp.StatusCode)
	}
}

func TestResetCursorBodyVariants(t *testing.T) {
	e := newEnv(t)
	const topic = "persistent://public/default/t"
	mustOK(t, e.backend.CreateTopic(topic))
	pos := e.backend.append(t, topic, 5, 1000)
	mustOK(t, e.backend.CreateSubscription(topic, "s", Earliest, false))
	ml := e.backend.topics[topic].ml
	path := "/admin/v2/persistent/public/default/t/subscription/s/resetcursor"

	cases := []struct{ body, want string }{
		{`{"ledgerId":` + itoa(pos[2].Ledger) + `,"entryId":` + itoa(pos[2].Entry) + `,"partitionIndex":-1}`, pos[2].String()},
		{`{"ledgerId":` + itoa(pos[2].Ledger) + `,"entryId":` + itoa(pos[2].Entry) + `,"isExcluded":true}`,
			(pos[2].String()[:strings.Index(pos[2].String(), ":")+1]) + itoa(pos[2].Entry+1)},
		{`{"ledgerId":-1,"entryId":-1}`, ml.FirstPosition().String()},
		{`{"ledgerId":9223372036854775807,"entryId":9223372036854775807}`, ml.Next(ml.LastConfirmed()).String()},
	}
	for _, c := range cases {
		code, body, _ := do(t, e, "POST", path, c.body)
		if code != 204 {
			t.Fatalf("reset %s: %d %s", c.body, code, body)
		}
		got := e.backend.resets[len(e.backend.resets)-1]
		if want := topic + "|s|" + c.want; got != want {
			t.Fatalf("reset %s: backend got %q, want %q", c.body, got, want)
		}
	}
}

func itoa(v int64) string { b, _ := json.Marshal(v); return string(b) }

func TestCurlPartitionedCreateWithBareInteger(t *testing.T) {
	e := newEnv(t)
	code, body, _ := do(t, e, "PUT", "/admin/v2/persistent/public/default/p/partitions", "4")
	if code != 204 {
		t.Fatalf("create: %d %s", code, body)
	}
	code, body, _ = do(t, e, "GET", "/admin/v2/persistent/public/default/p/partitions", "")
	if code != 200 || body != `{"partitions":4}` {
		t.Fatalf("metadata: %d %s", code, body)
	}
}

// Message-by-id headers, as PersistentTopicsBase.generateResponseWithEntry
// writes them.
func TestMessageHeaders(t *testing.T) {
	rec := httptest.NewRecorder()
	writeMessage(rec, Message{
		Payload: []byte("batchbytes"), PublishTime: 1500, EventTime: 2000, NumMessagesInBatch: 3,
		Properties: map[string]string{"b": "2", "a": "x\"y"}, ProducerName: "p", SequenceID: 9,
		ReplicatedFrom: "b", PartitionKey: "k",
	}, false)
	h := rec.Header()
	want := map[string]string{
		"X-Pulsar-Num-Batch-Message": "3",
		"X-Pulsar-Batch-Size":        "10",
		"X-Pulsar-Publish-Time":      "1970-01-01T00:00:01.5Z",
		"X-Pulsar-Event-Time":        "1970-01-01T00:00:02Z",
		"X-Pulsar-Producer-Name":     "p",
		"X-Pulsar-Sequence-Id":       "9",
		"X-Pulsar-Replicated-From":   "b",
		"X-Pulsar-Partition-Key":     "k",
		"X-Pulsar-Is-Encrypted":      "false",
		"X-Pulsar-Property":          `{"a":"x\"y","b":"2"}`,
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if rec.Body.String() != "batchbytes" {
		t.Errorf("body = %q", rec.Body.String())
	}
}

// Pulsar 3.0.x's form: one X-Pulsar-PROPERTY-<key> header per property.
func TestMessageHeadersPerKey(t *testing.T) {
	rec := httptest.NewRecorder()
	writeMessage(rec, Message{Payload: []byte("x"), Properties: map[string]string{"__MSG_PROP_REPL_SOURCE_POSITION": "7:3"}}, true)
	h := rec.Header()
	if got := h.Get("X-Pulsar-PROPERTY-__MSG_PROP_REPL_SOURCE_POSITION"); got != "7:3" {
		t.Errorf("per-key property header = %q, want 7:3 (headers %v)", got, h)
	}
	if h.Get("X-Pulsar-PROPERTY") != "" {
		t.Errorf("per-key form also sent the JSON header")
	}
}
