package config

import (
	"strings"
	"time"
	"unicode"
)

// Config is the daemon's complete, merged configuration. Load fills and
// validates it; the zero value is not useful.
type Config struct {
	// Cluster is the local cluster's name as Pulsar knows it.
	Cluster string
	// ServiceURL is the broker's binary protocol URL (pulsar:// or
	// pulsar+ssl://); WebServiceURL its admin REST URL (http:// or https://).
	ServiceURL    string
	WebServiceURL string
	// Client is how the Pulsar client authenticates and checks TLS; Admin
	// the same for the admin REST client (a copy of Client's blocks unless
	// the admin.* keys set their own).
	Client Connection
	Admin  Connection

	Namespaces           []string
	TopicPatterns        []string
	IncludeSubscriptions []string
	ExcludeSubscriptions []string
	ControlTopic         string
	HMACKeyFile          string
	StoreDir             string

	ExportInterval    time.Duration
	FullStateEvery    int
	SnapshotInterval  time.Duration
	SnapshotTimeout   time.Duration
	DiscoveryInterval time.Duration
	ResetThreshold    int

	// AdminTimeout bounds every admin REST call; AdminMaxResponseBytes
	// caps every admin response body.
	AdminTimeout time.Duration
	// AdminRate paces admin requests (per second, 0: no limit);
	// AdminConcurrency bounds the cursor reads in flight at once.
	AdminRate             int
	AdminConcurrency      int
	AdminMaxResponseBytes int

	// MetricsAddress is the HTTP listener for /metrics, /healthz and
	// /readyz ("host:port").
	MetricsAddress string
	// ExposeTopicLevelMetrics keeps one series per topic partition and
	// subscription; false folds them into namespace aggregates (like
	// Pulsar's exposeTopicLevelMetricsInPrometheus).
	ExposeTopicLevelMetrics bool
	// APIAddress is the HTTP listener for the /api/v1 JSON API; the same
	// address as MetricsAddress means one listener serves both.
	APIAddress      string
	ShutdownTimeout time.Duration

	LogLevel  string
	LogFormat string

	// Warnings are problems that do not stop the daemon (a key file
	// readable by others, an unknown SUBSYNC_* variable).
	Warnings []string

	derived derived
}

// Connection is one client's authentication and TLS settings.
type Connection struct {
	Auth Auth
	TLS  TLS
}

// Auth methods.
const (
	AuthNone   = "none"
	AuthToken  = "token"
	AuthTLS    = "tls"
	AuthOAuth2 = "oauth2"
)

// Auth selects one authentication method and its parameters.
type Auth struct {
	Method    string // none, token, tls or oauth2
	Token     string
	TokenFile string
	CertFile  string
	KeyFile   string
	OAuth2    OAuth2
}

// OAuth2 is the client-credentials flow pulsar-client-go supports.
type OAuth2 struct {
	IssuerURL  string
	ClientID   string
	Audience   string
	PrivateKey string // path of the JSON credentials file
	Scope      string
}

// TLS is how the server's certificate is checked.
type TLS struct {
	TrustCertsFile   string
	AllowInsecure    bool
	ValidateHostname bool
}

// setting is one configuration key.
type setting struct {
	key    string // YAML path, dots between levels
	def    string // default in the same text form as an env value
	secret bool   // never a flag (it would show in ps) and redacted when printed
	doc    string
	field  func(*Config) any // pointer to the field the value goes into
}

// EnvName is the environment variable of a key: "auth.tokenFile" ->
// "SUBSYNC_AUTH_TOKEN_FILE".
func EnvName(key string) string {
	return "SUBSYNC_" + strings.ToUpper(strings.ReplaceAll(splitWords(key, '_'), ".", "_"))
}

// FlagName is the flag of a key: "auth.tokenFile" -> "auth-token-file".
func FlagName(key string) string {
	return strings.ToLower(strings.ReplaceAll(splitWords(key, '-'), ".", "-"))
}

// splitWords inserts sep at each lower-to-upper camel-case boundary.
func splitWords(key string, sep rune) string {
	var b strings.Builder
	prev := rune(0)
	for _, r := range key {
		if unicode.IsUpper(r) && (unicode.IsLower(prev) || unicode.IsDigit(prev)) {
			b.WriteRune(sep)
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

func connectionSettings(prefix string, conn func(*Config) *Connection, who string) []setting {
	a := func(c *Config) *Auth { return &conn(c).Auth }
	t := func(c *Config) *TLS { return &conn(c).TLS }
	def := func(d string) string {
		if prefix != "" {
			return "" // admin blocks default to a copy of the client's
		}
		return d
	}
	p := prefix
	return []setting{
		{key: p + "auth.method", def: def(AuthNone), doc: who + ": authentication method: none, token, tls or oauth2",
			field: func(c *Config) any { return &a(c).Method }},
		{key: p + "auth.token", secret: true, doc: who + ": the token (method token); prefer tokenFile",
			field: func(c *Config) any { return &a(c).Token }},
		{key: p + "auth.tokenFile", doc: who + ": file holding the token (method token)",
			field: func(c *Config) any { return &a(c).TokenFile }},
		{key: p + "auth.certFile", doc: who + ": certificate PEM file (method tls)",
			field: func(c *Config) any { return &a(c).CertFile }},
		{key: p + "auth.keyFile", doc: who + ": private key PEM file (method tls)",
			field: func(c *Config) any { return &a(c).KeyFile }},
		{key: p + "auth.oauth2.issuerUrl", doc: who + ": OAuth2 issuer URL (method oauth2)",
			field: func(c *Config) any { return &a(c).OAuth2.IssuerURL }},
		{key: p + "auth.oauth2.clientId", doc: who + ": OAuth2 client id (method oauth2)",
			field: func(c *Config) any { return &a(c).OAuth2.ClientID }},
		{key: p + "auth.oauth2.audience", doc: who + ": OAuth2 audience (method oauth2)",
			field: func(c *Config) any { return &a(c).OAuth2.Audience }},
		{key: p + "auth.oauth2.privateKey", doc: who + ": OAuth2 credentials JSON file (path, file:///path or data: URL; method oauth2)",
			field: func(c *Config) any { return &a(c).OAuth2.PrivateKey }},
		{key: p + "auth.oauth2.scope", doc: who + ": OAuth2 scopes, space separated (method oauth2)",
			field: func(c *Config) any { return &a(c).OAuth2.Scope }},
		{key: p + "tls.trustCertsFile", doc: who + ": CA certificates PEM file to trust",
			field: func(c *Config) any { return &t(c).TrustCertsFile }},
		{key: p + "tls.allowInsecure", def: def("false"), doc: who + ": accept any server certificate (testing only)",
			field: func(c *Config) any { return &t(c).AllowInsecure }},
		{key: p + "tls.validateHostname", def: def("true"), doc: who + ": check that the certificate names the host",
			field: func(c *Config) any { return &t(c).ValidateHostname }},
	}
}

// DefaultMetricsAddress is where the daemon's HTTP listener binds unless
// metricsAddress says otherwise.
const DefaultMetricsAddress = ":9479"

// DefaultAPIAddress keeps the /api/v1 JSON API on this machine: it shows
// every topic and subscription in scope, which a scrape port reachable
// from the whole network should not.
const DefaultAPIAddress = "127.0.0.1:9480"

// settings returns every configuration key, in the order the example file
// documents them. It builds a fresh table each time: the table is data, not
// state.
func settings() []setting {
	s := []setting{
		{key: "cluster", doc: "the local cluster's name as Pulsar knows it (required)",
			field: func(c *Config) any { return &c.Cluster }},
		{key: "serviceUrl", def: "pulsar://localhost:6650", doc: "broker URL, pulsar:// or pulsar+ssl://",
			field: func(c *Config) any { return &c.ServiceURL }},
		{key: "webServiceUrl", def: "http://localhost:8080", doc: "admin REST URL, http:// or https://",
			field: func(c *Config) any { return &c.WebServiceURL }},
	}
	s = append(s, connectionSettings("", func(c *Config) *Connection { return &c.Client }, "Pulsar client")...)
	s = append(s, connectionSettings("admin.", func(c *Config) *Connection { return &c.Admin }, "admin client")...)
	return append(s, []setting{
		{key: "namespaces", doc: `namespaces in scope, "tenant/namespace" (required)`,
			field: func(c *Config) any { return &c.Namespaces }},
		{key: "topicPatterns", doc: "regular expressions; when set, only topics whose full name matches one are synced",
			field: func(c *Config) any { return &c.TopicPatterns }},
		{key: "subscriptions.include", doc: "regular expressions; when set, only matching subscriptions are synced",
			field: func(c *Config) any { return &c.IncludeSubscriptions }},
		{key: "subscriptions.exclude", doc: "regular expressions of subscriptions never synced (Pulsar's system cursors, pulsar.* and __*, always are)",
			field: func(c *Config) any { return &c.ExcludeSubscriptions }},
		{key: "controlTopic", def: "subsync-control", doc: "local name of the geo-replicated control topic in each namespace",
			field: func(c *Config) any { return &c.ControlTopic }},
		{key: "hmacKeyFile", doc: "file of shared HMAC keys authenticating control messages (required)",
			field: func(c *Config) any { return &c.HMACKeyFile }},
		{key: "storeDir", def: "subsync-data", doc: "directory of the Pebble store (tail index, mappings, checkpoints)",
			field: func(c *Config) any { return &c.StoreDir }},
		{key: "exportInterval", def: "1s", doc: "how often subscriptions are read and changes published",
			field: func(c *Config) any { return &c.ExportInterval }},
		{key: "fullStateEvery", def: "30", doc: "send a full state instead of a delta every so many exports",
			field: func(c *Config) any { return &c.FullStateEvery }},
		{key: "snapshotInterval", def: "10s", doc: "how often each topic runs the snapshot protocol",
			field: func(c *Config) any { return &c.SnapshotInterval }},
		{key: "snapshotTimeout", def: "30s", doc: "unanswered snapshot requests are abandoned after this",
			field: func(c *Config) any { return &c.SnapshotTimeout }},
		{key: "discoveryInterval", def: "10s", doc: "how often new topics and subscriptions are looked for",
			field: func(c *Config) any { return &c.DiscoveryInterval }},
		{key: "resetThreshold", def: "10000", doc: "mark-delete jumps of at least this many entries use reset-cursor when no consumer is attached; negative disables",
			field: func(c *Config) any { return &c.ResetThreshold }},
		{key: "adminTimeout", def: "10s", doc: "deadline of every admin REST call (a hung call would block its topic)",
			field: func(c *Config) any { return &c.AdminTimeout }},
		{key: "adminMaxResponseBytes", def: "67108864", doc: "largest admin REST response body accepted, in bytes",
			field: func(c *Config) any { return &c.AdminMaxResponseBytes }},
		{key: "adminRate", def: "0", doc: "admin requests per second this daemon sends at most (bursts of one second's worth); 0: no limit",
			field: func(c *Config) any { return &c.AdminRate }},
		{key: "adminConcurrency", def: "8", doc: "cursor reads in flight at once (pulsaradmin keeps 10 idle connections per host)",
			field: func(c *Config) any { return &c.AdminConcurrency }},
		{key: "metricsAddress", def: DefaultMetricsAddress, doc: "HTTP listener for /metrics, /healthz and /readyz",
			field: func(c *Config) any { return &c.MetricsAddress }},
		{key: "exposeTopicLevelMetrics", def: "true", doc: "one series per topic partition and subscription; false exports namespace aggregates only (for clusters with many topics)",
			field: func(c *Config) any { return &c.ExposeTopicLevelMetrics }},
		{key: "apiAddress", def: DefaultAPIAddress, doc: "HTTP listener for the /api/v1 JSON API the CLI uses (loopback by default; metricsAddress's value: one listener for both)",
			field: func(c *Config) any { return &c.APIAddress }},
		{key: "shutdownTimeout", def: "30s", doc: "how long a shutdown waits for the final flush and checkpoint",
			field: func(c *Config) any { return &c.ShutdownTimeout }},
		{key: "log.level", def: "info", doc: "debug, info, warn or error",
			field: func(c *Config) any { return &c.LogLevel }},
		{key: "log.format", def: "text", doc: "text or json",
			field: func(c *Config) any { return &c.LogFormat }},
	}...)
}

func lookupSetting(key string) (setting, bool) {
	for _, s := range settings() {
		if s.key == key {
			return s, true
		}
	}
	return setting{}, false
}

// Keys lists every configuration key in documentation order.
func Keys() []string {
	all := settings()
	out := make([]string, len(all))
	for i, s := range all {
		out[i] = s.key
	}
	return out
}
