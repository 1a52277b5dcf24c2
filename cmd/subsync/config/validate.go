package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/subsync/subsync/snapshot"
)

// derived holds what validation computed: parsed forms the conversions
// need, and where each value came from.
type derived struct {
	origins       map[string]string
	unparsed      map[string]bool // keys whose value did not parse: already reported
	keys          *snapshot.Keyring
	topics        []*regexp.Regexp
	include       []*regexp.Regexp
	exclude       []*regexp.Regexp
	serviceTLS    bool // pulsar+ssl://
	webServiceTLS bool // https://
}

// problems collects validation errors, each prefixed with its key and the
// value's origin.
type problems struct {
	c    *Config
	errs []error
}

func (p *problems) add(key, format string, args ...any) {
	if p.c.derived.unparsed[key] {
		return
	}
	p.errs = append(p.errs, fmt.Errorf("%s (%s): %s", key, p.c.origin(key), fmt.Sprintf(format, args...)))
}

// required reports a missing value with every way to set it.
func (p *problems) required(key, what string) {
	if p.c.derived.unparsed[key] {
		return
	}
	p.errs = append(p.errs, fmt.Errorf("%s: required: %s; set %q in the file, $%s or --%s",
		key, what, key, EnvName(key), FlagName(key)))
}

func (c *Config) validate() []error {
	p := &problems{c: c}
	c.validateCluster(p)
	c.validateURLs(p)
	c.validateConnection(p, "", c.Client, c.derived.serviceTLS, "serviceUrl pulsar+ssl://")
	c.validateConnection(p, "admin.", c.Admin, c.derived.webServiceTLS, "webServiceUrl https://")
	if c.Admin.Auth.Method == AuthOAuth2 && c.Admin.Auth.OAuth2.Scope != "" {
		c.Warnings = append(c.Warnings, "admin.auth.oauth2.scope: the admin client (pulsaradmin) sends no scope; only the Pulsar client uses it")
	}
	c.validateScope(p)
	c.validateKeys(p)
	c.validateStore(p)
	c.validateTimings(p)
	c.validateListener(p)
	c.validateLogging(p)
	return p.errs
}

var clusterName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func (c *Config) validateCluster(p *problems) {
	switch {
	case c.Cluster == "":
		p.required("cluster", "the local cluster's name as Pulsar knows it")
	case !clusterName.MatchString(c.Cluster):
		p.add("cluster", "%q is not a cluster name; expected letters, digits, '.', '_' or '-'", c.Cluster)
	}
}

func (c *Config) validateURLs(p *problems) {
	c.derived.serviceTLS = checkURL(p, "serviceUrl", c.ServiceURL, "pulsar", "pulsar+ssl")
	c.derived.webServiceTLS = checkURL(p, "webServiceUrl", c.WebServiceURL, "http", "https")
}

// checkURL reports whether the URL uses the TLS scheme (the second one).
func checkURL(p *problems, key, raw, plain, secure string) bool {
	if raw == "" {
		p.required(key, fmt.Sprintf("a %s:// or %s:// URL", plain, secure))
		return false
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != plain && u.Scheme != secure) || u.Host == "" {
		p.add(key, "%q is not a URL like %s://host:port or %s://host:port", raw, plain, secure)
		return false
	}
	return u.Scheme == secure
}

// validateConnection checks one client's auth and TLS blocks. A block the
// admin client inherited was checked as the client's already: only what
// depends on the admin URL is checked again.
func (c *Config) validateConnection(p *problems, prefix string, conn Connection, tlsURL bool, tlsURLText string) {
	if c.inherited(prefix + "auth.method") {
		if conn.Auth.Method == AuthTLS && !tlsURL {
			p.add(prefix+"auth.method", "method tls authenticates through the TLS handshake and needs a %s URL; give the admin client its own admin.auth block", tlsURLText)
		}
	} else {
		c.validateAuth(p, prefix, conn.Auth, tlsURL, tlsURLText)
	}
	key := prefix + "tls.trustCertsFile"
	if conn.TLS.TrustCertsFile == "" || c.inherited(key) {
		return
	}
	checkPEMCerts(p, key, conn.TLS.TrustCertsFile)
	if !tlsURL {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s is set but only a %s URL uses TLS; it has no effect", key, tlsURLText))
	}
}

func (c *Config) inherited(key string) bool {
	return strings.Contains(c.origin(key), ", inherited from ")
}

func (c *Config) validateAuth(p *problems, prefix string, a Auth, tlsURL bool, tlsURLText string) {
	k := func(name string) string { return prefix + "auth." + name }
	set := map[string]bool{
		"token": a.Token != "", "tokenFile": a.TokenFile != "",
		"certFile": a.CertFile != "", "keyFile": a.KeyFile != "",
		"oauth2.issuerUrl": a.OAuth2.IssuerURL != "", "oauth2.clientId": a.OAuth2.ClientID != "",
		"oauth2.audience": a.OAuth2.Audience != "", "oauth2.privateKey": a.OAuth2.PrivateKey != "",
		"oauth2.scope": a.OAuth2.Scope != "",
	}
	var uses []string
	switch a.Method {
	case AuthNone, "":
	case AuthToken:
		uses = []string{"token", "tokenFile"}
		switch {
		case a.Token != "" && a.TokenFile != "":
			p.add(k("token"), "both token and tokenFile are set; keep one")
		case a.Token == "" && a.TokenFile == "":
			p.add(k("method"), "method token needs %s or %s", k("token"), k("tokenFile"))
		case a.TokenFile != "":
			checkReadable(p, k("tokenFile"), a.TokenFile)
		}
	case AuthTLS:
		uses = []string{"certFile", "keyFile"}
		for _, f := range []struct{ name, path string }{{"certFile", a.CertFile}, {"keyFile", a.KeyFile}} {
			if f.path == "" {
				p.add(k("method"), "method tls needs %s", k(f.name))
			} else {
				checkReadable(p, k(f.name), f.path)
			}
		}
		if !tlsURL {
			p.add(k("method"), "method tls authenticates through the TLS handshake and needs a %s URL", tlsURLText)
		}
	case AuthOAuth2:
		uses = []string{"oauth2.issuerUrl", "oauth2.clientId", "oauth2.audience", "oauth2.privateKey", "oauth2.scope"}
		if u, err := url.Parse(a.OAuth2.IssuerURL); a.OAuth2.IssuerURL == "" || err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			p.add(k("oauth2.issuerUrl"), "method oauth2 needs the issuer's http(s) URL, got %q", a.OAuth2.IssuerURL)
		}
		switch key := a.OAuth2.PrivateKey; {
		case key == "":
			p.add(k("method"), "method oauth2 needs %s, the client-credentials JSON file", k("oauth2.privateKey"))
		case strings.HasPrefix(key, "data:"):
			// inline credentials, as pulsar-client-go accepts them
		default:
			checkReadable(p, k("oauth2.privateKey"), strings.TrimPrefix(key, "file://"))
		}
	default:
		p.add(k("method"), "%q is not an auth method; expected none, token, tls or oauth2", a.Method)
		return
	}
	for _, name := range slices.Sorted(maps.Keys(set)) {
		if set[name] && !slices.Contains(uses, name) {
			p.add(k(name), "is set but %s is %q, which does not use it; remove it or change the method", k("method"), orNone(a.Method))
		}
	}
}

func orNone(method string) string {
	if method == "" {
		return AuthNone
	}
	return method
}

func checkReadable(p *problems, key, path string) {
	f, err := os.Open(path)
	if err != nil {
		p.add(key, "cannot read %s: %v", path, unwrapPathError(err))
		return
	}
	f.Close()
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func checkPEMCerts(p *problems, key, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		p.add(key, "cannot read %s: %v", path, unwrapPathError(err))
		return
	}
	if !x509.NewCertPool().AppendCertsFromPEM(data) {
		p.add(key, "%s holds no PEM certificate", path)
	}
}

var namespacePart = regexp.MustCompile(`^[A-Za-z0-9._=-]+$`)

func (c *Config) validateScope(p *problems) {
	if len(c.Namespaces) == 0 {
		p.required("namespaces", `at least one "tenant/namespace"`)
	}
	seen := map[string]bool{}
	for _, ns := range c.Namespaces {
		tenant, name, ok := strings.Cut(ns, "/")
		switch {
		case !ok || !namespacePart.MatchString(tenant) || !namespacePart.MatchString(name):
			p.add("namespaces", "%q is not \"tenant/namespace\" (letters, digits, '.', '_', '-', '=')", ns)
		case seen[ns]:
			p.add("namespaces", "%q is listed twice", ns)
		}
		seen[ns] = true
	}
	c.derived.topics = compileAll(p, "topicPatterns", c.TopicPatterns)
	c.derived.include = compileAll(p, "subscriptions.include", c.IncludeSubscriptions)
	c.derived.exclude = compileAll(p, "subscriptions.exclude", c.ExcludeSubscriptions)
	switch {
	case c.ControlTopic == "":
		p.add("controlTopic", "must not be empty")
	case strings.ContainsAny(c.ControlTopic, "/:"):
		p.add("controlTopic", "%q must be a local topic name without '/' or ':'", c.ControlTopic)
	}
}

func compileAll(p *problems, key string, patterns []string) []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, pat := range patterns {
		re, err := regexp.Compile(pat)
		if err != nil {
			p.add(key, "%q is not a regular expression (Go RE2 syntax): %v", pat, err)
			continue
		}
		out = append(out, re)
	}
	return out
}

func (c *Config) validateKeys(p *problems) {
	if c.HMACKeyFile == "" {
		p.required("hmacKeyFile", "the file of shared HMAC keys, lines \"<id>:<hex secret>\" ('subsync keygen' writes one)")
		return
	}
	ring, warning, err := LoadKeyFile(c.HMACKeyFile)
	if err != nil {
		p.add("hmacKeyFile", "%v", unwrapPathError(err))
		return
	}
	if warning != "" {
		c.Warnings = append(c.Warnings, warning)
	}
	c.derived.keys = ring
}

func (c *Config) validateStore(p *problems) {
	if c.StoreDir == "" {
		p.add("storeDir", "must not be empty")
		return
	}
	info, err := os.Stat(c.StoreDir)
	if err == nil && !info.IsDir() {
		p.add("storeDir", "%s exists and is not a directory", c.StoreDir)
	}
}

func (c *Config) validateTimings(p *problems) {
	positive := []struct {
		key string
		d   time.Duration
		min time.Duration
	}{
		{"exportInterval", c.ExportInterval, 10 * time.Millisecond},
		{"snapshotInterval", c.SnapshotInterval, 10 * time.Millisecond},
		{"snapshotTimeout", c.SnapshotTimeout, 10 * time.Millisecond},
		{"discoveryInterval", c.DiscoveryInterval, 10 * time.Millisecond},
		{"shutdownTimeout", c.ShutdownTimeout, time.Second},
		{"adminTimeout", c.AdminTimeout, 100 * time.Millisecond},
	}
	for _, t := range positive {
		if t.d < t.min {
			p.add(t.key, "%s is too short; expected at least %s", t.d, t.min)
		}
	}
	if c.FullStateEvery < 1 {
		p.add("fullStateEvery", "%d; expected at least 1 (1 = always a full state)", c.FullStateEvery)
	}
	if c.AdminMaxResponseBytes < 1<<20 {
		p.add("adminMaxResponseBytes", "%d; expected at least 1048576 (1 MiB): internalStats of a busy topic is large", c.AdminMaxResponseBytes)
	}
	if c.AdminRate < 0 || c.AdminRate > 1_000_000 {
		p.add("adminRate", "%d; expected requests per second between 0 (no limit) and 1000000", c.AdminRate)
	}
	if c.AdminConcurrency < 1 || c.AdminConcurrency > 1024 {
		p.add("adminConcurrency", "%d; expected between 1 and 1024", c.AdminConcurrency)
	}
	if c.ResetThreshold == 0 {
		p.add("resetThreshold", "0 is ambiguous; expected a positive number of entries, or a negative one to never reset")
	}
}

func (c *Config) validateListener(p *problems) {
	validateAddress(p, "metricsAddress", c.MetricsAddress)
	validateAddress(p, "apiAddress", c.APIAddress)
}

func validateAddress(p *problems, key, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		p.add(key, "%q is not \"host:port\" (e.g. :9479 or 127.0.0.1:9479)", addr)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		p.add(key, "port %q of %q is not a number from 0 to 65535", port, addr)
	}
	if strings.ContainsAny(host, " /") {
		p.add(key, "host %q of %q is not a host name or IP address", host, addr)
	}
}

func (c *Config) validateLogging(p *problems) {
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		p.add("log.level", "%q; expected debug, info, warn or error", c.LogLevel)
	}
	if !slices.Contains([]string{"text", "json"}, c.LogFormat) {
		p.add("log.format", "%q; expected text or json", c.LogFormat)
	}
}
