package config

import (
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestLoadValidBase(t *testing.T) {
	f := newFixture(t)
	path, _ := f.yamlFile(f.base())
	c, err := Load(Sources{File: path})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Cluster != "east" || c.ServiceURL != "pulsar://broker:6650" || !slices.Equal(c.Namespaces, []string{"public/default"}) {
		t.Errorf("file values not applied: %+v", c)
	}
	// Defaults.
	if c.ExportInterval != time.Second || c.SnapshotInterval != 10*time.Second || c.FullStateEvery != 30 ||
		c.ResetThreshold != 10000 || c.ControlTopic != "subsync-control" || c.MetricsAddress != DefaultMetricsAddress ||
		c.LogLevel != "info" || c.LogFormat != "text" || c.Client.Auth.Method != AuthNone || !c.Client.TLS.ValidateHostname {
		t.Errorf("defaults not applied: %+v", c)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("unexpected warnings %q", c.Warnings)
	}
}

// The JSON API names every topic and subscription: by default only this
// machine reaches it.
func TestAPIListensOnLoopbackByDefault(t *testing.T) {
	f := newFixture(t)
	path, _ := f.yamlFile(f.base())
	c, err := Load(Sources{File: path})
	if err != nil {
		t.Fatal(err)
	}
	host, _, err := net.SplitHostPort(c.APIAddress)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		t.Errorf("apiAddress defaults to %q, want a loopback address", c.APIAddress)
	}
	if c.APIAddress == c.MetricsAddress {
		t.Errorf("apiAddress and metricsAddress both default to %q: the API would share the scrape listener", c.APIAddress)
	}
}

// Each bad value is reported with its key, where it came from and what
// was expected.
func TestLoadReportsEachBadField(t *testing.T) {
	f := newFixture(t)
	notPEM := f.write("notpem.crt", "hello", 0o600)
	badKeys := f.write("bad.keys", "7:abc\n", 0o600)
	plainFile := f.write("plain", "x", 0o600)
	cases := []struct {
		name    string
		changes map[string]any
		want    []string // substrings of the one expected problem
		line    string   // when set, the problem names the file line holding this text
	}{
		{"missing cluster", map[string]any{"cluster": nil}, []string{"cluster: required", "$SUBSYNC_CLUSTER", "--cluster"}, ""},
		{"bad cluster name", map[string]any{"cluster": "east west"}, []string{`cluster (`, `"east west" is not a cluster name`}, "cluster:"},
		{"service url scheme", map[string]any{"serviceUrl": "http://broker:6650"}, []string{"serviceUrl (", "pulsar://host:port"}, "serviceUrl:"},
		{"web url scheme", map[string]any{"webServiceUrl": "pulsar://broker:8080"}, []string{"webServiceUrl (", "http://host:port"}, "webServiceUrl:"},
		{"unknown auth method", map[string]any{"auth.method": "kerberos"}, []string{"auth.method (", `"kerberos" is not an auth method; expected none, token, tls or oauth2`}, "method:"},
		{"token method without token", map[string]any{"auth.method": "token"}, []string{"method token needs auth.token or auth.tokenFile"}, ""},
		{"token and token file", map[string]any{"auth.method": "token", "auth.token": "abc", "auth.tokenFile": plainFile}, []string{"auth.token (", "both token and tokenFile"}, ""},
		{"unreadable token file", map[string]any{"auth.method": "token", "auth.tokenFile": "/nonexistent/token"}, []string{"auth.tokenFile (", "cannot read /nonexistent/token"}, "tokenFile:"},
		{"tls auth on plain url", map[string]any{"auth.method": "tls", "auth.certFile": plainFile, "auth.keyFile": plainFile, "admin.auth.method": "none"}, []string{"auth.method (", "needs a serviceUrl pulsar+ssl:// URL"}, ""},
		{"tls auth without key", map[string]any{"serviceUrl": "pulsar+ssl://b:6651", "auth.method": "tls", "auth.certFile": plainFile, "admin.auth.method": "none"}, []string{"method tls needs auth.keyFile"}, ""},
		{"oauth2 without issuer", map[string]any{"auth.method": "oauth2", "auth.oauth2.privateKey": plainFile}, []string{"auth.oauth2.issuerUrl", "issuer's http(s) URL"}, ""},
		{"oauth2 without key", map[string]any{"auth.method": "oauth2", "auth.oauth2.issuerUrl": "https://auth.example"}, []string{"method oauth2 needs auth.oauth2.privateKey"}, ""},
		{"stray token", map[string]any{"auth.token": "abc"}, []string{"auth.token (", `is set but auth.method is "none"`}, ""},
		{"admin stray cert", map[string]any{"admin.auth.method": "token", "admin.auth.token": "t", "admin.auth.certFile": plainFile}, []string{"admin.auth.certFile (", `admin.auth.method is "token"`}, ""},
		{"trust certs not pem", map[string]any{"tls.trustCertsFile": notPEM}, []string{"tls.trustCertsFile (", "holds no PEM certificate"}, ""},
		{"no namespaces", map[string]any{"namespaces": []string{}}, []string{"namespaces: required"}, ""},
		{"bad namespace", map[string]any{"namespaces": []string{"nons"}}, []string{"namespaces (", `"nons" is not "tenant/namespace"`}, ""},
		{"duplicate namespace", map[string]any{"namespaces": []string{"a/b", "a/b"}}, []string{`"a/b" is listed twice`}, ""},
		{"bad topic pattern", map[string]any{"topicPatterns": []string{"orders("}}, []string{"topicPatterns (", `"orders(" is not a regular expression`}, ""},
		{"bad include", map[string]any{"subscriptions.include": []string{"[z-a]"}}, []string{"subscriptions.include (", "is not a regular expression"}, ""},
		{"bad exclude", map[string]any{"subscriptions.exclude": []string{"*x"}}, []string{"subscriptions.exclude (", "is not a regular expression"}, ""},
		{"control topic with slash", map[string]any{"controlTopic": "a/b"}, []string{"controlTopic (", "without '/' or ':'"}, ""},
		{"missing key file", map[string]any{"hmacKeyFile": "/nonexistent/keys"}, []string{"hmacKeyFile (", "no such file"}, ""},
		{"bad key file", map[string]any{"hmacKeyFile": badKeys}, []string{"hmacKeyFile (", "bad.keys:1", "not hex"}, ""},
		{"store dir is a file", map[string]any{"storeDir": plainFile}, []string{"storeDir (", "is not a directory"}, ""},
		{"interval not a duration", map[string]any{"exportInterval": "fast"}, []string{"exportInterval (", `"fast" is not a duration`}, "exportInterval:"},
		{"interval without unit", map[string]any{"snapshotInterval": 5}, []string{"snapshotInterval (", `"5" is not a duration`}, ""},
		{"interval too short", map[string]any{"exportInterval": "1ms"}, []string{"exportInterval (", "1ms is too short; expected at least 10ms"}, ""},
		{"negative timeout", map[string]any{"snapshotTimeout": "-1s"}, []string{"snapshotTimeout (", "too short"}, ""},
		{"full state every zero", map[string]any{"fullStateEvery": 0}, []string{"fullStateEvery (", "expected at least 1"}, ""},
		{"full state not a number", map[string]any{"fullStateEvery": "often"}, []string{"fullStateEvery (", `"often" is not a whole number`}, ""},
		{"reset threshold zero", map[string]any{"resetThreshold": 0}, []string{"resetThreshold (", "0 is ambiguous"}, ""},
		{"metrics address", map[string]any{"metricsAddress": "9479"}, []string{"metricsAddress (", `"9479" is not "host:port"`}, ""},
		{"metrics port", map[string]any{"metricsAddress": ":99999"}, []string{"metricsAddress (", "not a number from 0 to 65535"}, ""},
		{"log level", map[string]any{"log.level": "loud"}, []string{"log.level (", `"loud"; expected debug, info, warn or error`}, ""},
		{"log format", map[string]any{"log.format": "xml"}, []string{"log.format (", "expected text or json"}, ""},
		{"bool not bool", map[string]any{"tls.allowInsecure": "maybe"}, []string{"tls.allowInsecure (", `"maybe" is not true or false`}, ""},
		{"unknown top key", map[string]any{"clustr": "x"}, []string{`unknown key "clustr"`, "expected at the top level one of:", "cluster"}, "clustr:"},
		{"unknown nested key", map[string]any{"auth.tokn": "x"}, []string{`unknown key "auth.tokn"`, `under "auth"`, "tokenFile"}, "tokn:"},
		{"list as scalar", map[string]any{"namespaces": "public/default"}, []string{"namespaces: expected a list"}, "namespaces:"},
		{"scalar as list", map[string]any{"cluster": []string{"a"}}, []string{"cluster: expected a string, found a list"}, ""},
		{"section as scalar", map[string]any{"log": "debug"}, []string{"log: expected a mapping of level, format"}, "log:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path, text := f.yamlFile(with(f.base(), tc.changes))
			_, err := Load(Sources{File: path})
			problems := problemsOf(err)
			if len(problems) != 1 {
				t.Fatalf("want exactly one problem, got %d:\n%s\nfile:\n%s", len(problems), strings.Join(problems, "\n"), text)
			}
			for _, w := range tc.want {
				if !strings.Contains(problems[0], w) {
					t.Errorf("problem %q lacks %q", problems[0], w)
				}
			}
			if tc.line != "" {
				want := fmt.Sprintf("%s:%d", path, lineOf(t, text, tc.line))
				if !strings.Contains(problems[0], want) {
					t.Errorf("problem %q does not name %s", problems[0], want)
				}
			}
		})
	}
}

func TestLoadListsEveryProblem(t *testing.T) {
	f := newFixture(t)
	path, _ := f.yamlFile(with(f.base(), map[string]any{
		"cluster":        nil,
		"serviceUrl":     "ftp://x",
		"exportInterval": "soon",
		"namespaces":     []string{"x"},
		"log.level":      "chatty",
		"bogus":          1,
	}))
	_, err := Load(Sources{File: path, Environ: []string{"SUBSYNC_FULL_STATE_EVERY=-3"}})
	problems := problemsOf(err)
	for _, key := range []string{`unknown key "bogus"`, "cluster: required", "serviceUrl (", "exportInterval (", "namespaces (", "log.level (", "fullStateEvery ($SUBSYNC_FULL_STATE_EVERY)"} {
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, key) }) {
			t.Errorf("no problem mentions %q in:\n%s", key, strings.Join(problems, "\n"))
		}
	}
	if len(problems) != 7 {
		t.Errorf("want 7 problems, got %d:\n%s", len(problems), strings.Join(problems, "\n"))
	}
}

func TestLoadFileProblemsStopEarly(t *testing.T) {
	f := newFixture(t)
	cases := map[string]struct {
		content string
		want    string
	}{
		"invalid yaml":   {"cluster: [east\n", "not valid YAML"},
		"two documents":  {"cluster: a\n---\ncluster: b\n", "expected one YAML document"},
		"top level list": {"- a\n- b\n", "expected a mapping of settings"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := f.write("c.yaml", tc.content, 0o600)
			problems := problemsOf(loadErr(Sources{File: p}))
			if len(problems) != 1 || !strings.Contains(problems[0], tc.want) {
				t.Errorf("want one problem containing %q, got %q", tc.want, problems)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		problems := problemsOf(loadErr(Sources{File: filepath.Join(f.dir, "none.yaml")}))
		if len(problems) != 1 || !strings.Contains(problems[0], "none.yaml") {
			t.Errorf("want one problem naming the file, got %q", problems)
		}
	})
}

func loadErr(src Sources) error {
	_, err := Load(src)
	return err
}

func TestLoadRejectsDuplicateKeysAndAliases(t *testing.T) {
	f := newFixture(t)
	base := fmt.Sprintf("cluster: east\nnamespaces: [a/b]\nhmacKeyFile: %s\nstoreDir: %s\n", f.keyFile, filepath.Join(f.dir, "s"))
	cases := map[string]struct {
		extra string
		want  string
	}{
		"duplicate":        {"exportInterval: 1s\nexportInterval: 2s\n", `.yaml:6: key "exportInterval" appears twice (first at line 5)`},
		"nested duplicate": {"log:\n  level: info\n  level: debug\n", `.yaml:7: key "log.level" appears twice (first at line 6)`},
		"alias":            {"x: &a 1s\n", `unknown key "x"`},
		"alias value":      {"log:\n  level: &l info\n  format: *l\n", "aliases (*name) are not supported"},
		"merge key":        {"log:\n  <<: {level: info}\n", "only plain keys"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := f.write("c.yaml", base+tc.extra, 0o600)
			problems := problemsOf(loadErr(Sources{File: p}))
			if len(problems) != 1 || !strings.Contains(problems[0], tc.want) {
				t.Errorf("want one problem containing %q, got %q", tc.want, problems)
			}
		})
	}
}

func TestEmptyValuesLeaveDefaults(t *testing.T) {
	f := newFixture(t)
	path, _ := f.yamlFile(with(f.base(), map[string]any{"controlTopic": "", "exportInterval": "", "auth.token": ""}))
	c, err := Load(Sources{File: path, Environ: []string{"SUBSYNC_LOG_LEVEL="}})
	if err != nil {
		t.Fatal(err)
	}
	if c.ControlTopic != "subsync-control" || c.ExportInterval != time.Second || c.LogLevel != "info" {
		t.Errorf("empty values should leave defaults: %q %s %q", c.ControlTopic, c.ExportInterval, c.LogLevel)
	}
}

func newFlags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestPrecedenceFlagsEnvFileDefaults(t *testing.T) {
	f := newFixture(t)
	path, text := f.yamlFile(with(f.base(), map[string]any{"exportInterval": "2s", "snapshotInterval": "20s", "fullStateEvery": 5}))
	env := []string{"SUBSYNC_EXPORT_INTERVAL=3s", "SUBSYNC_SNAPSHOT_INTERVAL=30s", "PATH=/bin"}
	flags := newFlags(t, "--export-interval", "4s")
	c, err := Load(Sources{File: path, Environ: env, Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		key    string
		got    time.Duration
		want   time.Duration
		origin string
	}{
		{"exportInterval", c.ExportInterval, 4 * time.Second, "--export-interval"},
		{"snapshotInterval", c.SnapshotInterval, 30 * time.Second, "$SUBSYNC_SNAPSHOT_INTERVAL"},
		{"discoveryInterval", c.DiscoveryInterval, 10 * time.Second, "default"},
	}
	for _, ch := range checks {
		if ch.got != ch.want || c.origin(ch.key) != ch.origin {
			t.Errorf("%s = %s from %q, want %s from %q", ch.key, ch.got, c.origin(ch.key), ch.want, ch.origin)
		}
	}
	if want := fmt.Sprintf("%s:%d", path, lineOf(t, text, "fullStateEvery")); c.FullStateEvery != 5 || c.origin("fullStateEvery") != want {
		t.Errorf("fullStateEvery = %d from %q, want 5 from %q", c.FullStateEvery, c.origin("fullStateEvery"), want)
	}
}

func TestFlagsNotSetDoNotOverride(t *testing.T) {
	f := newFixture(t)
	path, _ := f.yamlFile(with(f.base(), map[string]any{"exportInterval": "2s", "tls.validateHostname": false}))
	c, err := Load(Sources{File: path, Flags: newFlags(t)})
	if err != nil {
		t.Fatal(err)
	}
	if c.ExportInterval != 2*time.Second || c.Client.TLS.ValidateHostname {
		t.Errorf("unset flags overrode the file: %s, validateHostname %v", c.ExportInterval, c.Client.TLS.ValidateHostname)
	}
}

func TestListSources(t *testing.T) {
	f := newFixture(t)
	path, _ := f.yamlFile(with(f.base(), map[string]any{"namespaces": []string{"file/ns"}}))
	cases := []struct {
		name  string
		env   []string
		flags []string
		want  []string
	}{
		{"file", nil, nil, []string{"file/ns"}},
		{"env commas", []string{"SUBSYNC_NAMESPACES=a/b, c/d,"}, nil, []string{"a/b", "c/d"}},
		{"env flow list", []string{"SUBSYNC_NAMESPACES=[a/b, 'c/d']"}, nil, []string{"a/b", "c/d"}},
		{"flags replace", []string{"SUBSYNC_NAMESPACES=a/b"}, []string{"--namespaces", "x/y", "--namespaces", "z/w"}, []string{"x/y", "z/w"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(Sources{File: path, Environ: tc.env, Flags: newFlags(t, tc.flags...)})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.Namespaces, tc.want) {
				t.Errorf("namespaces = %q, want %q", c.Namespaces, tc.want)
			}
		})
	}
	t.Run("flow list keeps commas inside items", func(t *testing.T) {
		c, err := Load(Sources{File: path, Environ: []string{`SUBSYNC_TOPIC_PATTERNS=["a{1,3}", b]`}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(c.TopicPatterns, []string{"a{1,3}", "b"}) {
			t.Errorf("topicPatterns = %q", c.TopicPatterns)
		}
	})
	t.Run("bad flow list", func(t *testing.T) {
		problems := problemsOf(loadErr(Sources{File: path, Environ: []string{"SUBSYNC_NAMESPACES=[a/b"}}))
		if len(problems) != 1 || !strings.Contains(problems[0], "namespaces ($SUBSYNC_NAMESPACES)") {
			t.Errorf("got %q", problems)
		}
	})
}

func TestUnknownEnvIsAWarning(t *testing.T) {
	f := newFixture(t)
	path, _ := f.yamlFile(f.base())
	c, err := Load(Sources{File: path, Environ: []string{"SUBSYNC_EXPORT_INTERVALL=1s", "SUBSYNC_CONFIG=/x", "OTHER=1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "SUBSYNC_EXPORT_INTERVALL") {
		t.Errorf("warnings = %q, want one about SUBSYNC_EXPORT_INTERVALL", c.Warnings)
	}
}

func TestSecretsHaveNoFlag(t *testing.T) {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	RegisterFlags(fs)
	for _, name := range []string{"auth-token", "admin-auth-token"} {
		if fs.Lookup(name) != nil {
			t.Errorf("secret flag --%s registered", name)
		}
	}
	if fs.Lookup("auth-token-file") == nil || fs.Lookup("export-interval") == nil {
		t.Error("ordinary flags missing")
	}
	f := newFixture(t)
	path, _ := f.yamlFile(f.base())
	c, err := Load(Sources{File: path, Environ: []string{"SUBSYNC_AUTH_METHOD=token", "SUBSYNC_AUTH_TOKEN=s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Client.Auth.Token != "s3cret" {
		t.Errorf("token from env = %q", c.Client.Auth.Token)
	}
	var out strings.Builder
	if err := c.Describe(&out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "s3cret") || !strings.Contains(out.String(), "(redacted)") {
		t.Errorf("Describe leaks or does not redact the token:\n%s", out.String())
	}
}

func TestAdminInheritsWholeBlocks(t *testing.T) {
	f := newFixture(t)
	tokenFile := f.write("token", "abc", 0o600)
	path, _ := f.yamlFile(with(f.base(), map[string]any{
		"auth.method": "token", "auth.tokenFile": tokenFile,
		"tls.allowInsecure": true, "tls.validateHostname": false,
	}))
	t.Run("inherited", func(t *testing.T) {
		c, err := Load(Sources{File: path})
		if err != nil {
			t.Fatal(err)
		}
		if c.Admin != c.Client {
			t.Errorf("admin %+v, want a copy of client %+v", c.Admin, c.Client)
		}
		if !strings.Contains(c.origin("admin.auth.tokenFile"), "inherited from auth.tokenFile") {
			t.Errorf("origin = %q", c.origin("admin.auth.tokenFile"))
		}
	})
	t.Run("own blocks", func(t *testing.T) {
		c, err := Load(Sources{File: path, Environ: []string{"SUBSYNC_ADMIN_AUTH_METHOD=none", "SUBSYNC_ADMIN_TLS_TRUST_CERTS_FILE="}})
		if err != nil {
			t.Fatal(err)
		}
		if c.Admin.Auth != (Auth{Method: AuthNone}) {
			t.Errorf("admin auth %+v, want its own (none)", c.Admin.Auth)
		}
		// The empty variable sets nothing: TLS is still inherited.
		if c.Admin.TLS != c.Client.TLS {
			t.Errorf("admin tls %+v, want inherited %+v", c.Admin.TLS, c.Client.TLS)
		}
	})
	t.Run("own tls block takes defaults", func(t *testing.T) {
		c, err := Load(Sources{File: path, Flags: newFlags(t, "--admin-tls-allow-insecure=false")})
		if err != nil {
			t.Fatal(err)
		}
		if c.Admin.TLS != (TLS{ValidateHostname: true}) {
			t.Errorf("admin tls %+v, want defaults with allowInsecure false", c.Admin.TLS)
		}
	})
}

func TestWarnings(t *testing.T) {
	f := newFixture(t)
	open := f.write("open.keys", testKeyLine+"\n", 0o644)
	path, _ := f.yamlFile(with(f.base(), map[string]any{"hmacKeyFile": open}))
	c, err := Load(Sources{File: path})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "mode 0644") || !strings.Contains(c.Warnings[0], "chmod 600") {
		t.Errorf("warnings = %q, want one about the key file's mode", c.Warnings)
	}
}

func TestEnvAndFlagNames(t *testing.T) {
	cases := map[string][2]string{
		"cluster":                  {"SUBSYNC_CLUSTER", "cluster"},
		"webServiceUrl":            {"SUBSYNC_WEB_SERVICE_URL", "web-service-url"},
		"auth.tokenFile":           {"SUBSYNC_AUTH_TOKEN_FILE", "auth-token-file"},
		"auth.oauth2.issuerUrl":    {"SUBSYNC_AUTH_OAUTH2_ISSUER_URL", "auth-oauth2-issuer-url"},
		"hmacKeyFile":              {"SUBSYNC_HMAC_KEY_FILE", "hmac-key-file"},
		"admin.tls.trustCertsFile": {"SUBSYNC_ADMIN_TLS_TRUST_CERTS_FILE", "admin-tls-trust-certs-file"},
	}
	for key, want := range cases {
		if got := EnvName(key); got != want[0] {
			t.Errorf("EnvName(%q) = %q, want %q", key, got, want[0])
		}
		if got := FlagName(key); got != want[1] {
			t.Errorf("FlagName(%q) = %q, want %q", key, got, want[1])
		}
	}
	seenEnv, seenFlag := map[string]string{}, map[string]string{}
	for _, k := range Keys() {
		if other, dup := seenEnv[EnvName(k)]; dup {
			t.Errorf("keys %q and %q share %s", k, other, EnvName(k))
		}
		if other, dup := seenFlag[FlagName(k)]; dup {
			t.Errorf("keys %q and %q share --%s", k, other, FlagName(k))
		}
		seenEnv[EnvName(k)], seenFlag[FlagName(k)] = k, k
	}
}

func TestPeek(t *testing.T) {
	f := newFixture(t)
	path, _ := f.yamlFile(with(f.base(), map[string]any{"metricsAddress": "127.0.0.1:7000", "hmacKeyFile": "/unreadable"}))
	got, origin, err := Peek(Sources{File: path}, "metricsAddress")
	if err != nil || got != "127.0.0.1:7000" || !strings.HasPrefix(origin, path+":") {
		t.Errorf("Peek = %q, %q, %v", got, origin, err)
	}
	got, origin, err = Peek(Sources{Environ: []string{"SUBSYNC_METRICS_ADDRESS=:1"}}, "metricsAddress")
	if err != nil || got != ":1" || origin != "$SUBSYNC_METRICS_ADDRESS" {
		t.Errorf("Peek env = %q, %q, %v", got, origin, err)
	}
	if got, _, _ := Peek(Sources{}, "metricsAddress"); got != DefaultMetricsAddress {
		t.Errorf("Peek default = %q", got)
	}
	if _, _, err := Peek(Sources{}, "nope"); err == nil {
		t.Error("Peek of an unknown key: no error")
	}
}
