package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/apache/pulsar-client-go/pulsaradmin"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/admin"
	adminauth "github.com/apache/pulsar-client-go/pulsaradmin/pkg/admin/auth"
	adminconfig "github.com/apache/pulsar-client-go/pulsaradmin/pkg/admin/config"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/subsync/subsync/replicator"
)

// ReplicatorConfig is the engine's configuration. Only meaningful on a
// Config that Load returned.
func (c *Config) ReplicatorConfig() replicator.Config {
	return replicator.Config{
		Cluster:              c.Cluster,
		Namespaces:           slices.Clone(c.Namespaces),
		TopicPatterns:        slices.Clone(c.derived.topics),
		IncludeSubscriptions: slices.Clone(c.derived.include),
		// System cursors (pulsar.*, __*) are excluded by the engine itself.
		ExcludeSubscriptions: slices.Clone(c.derived.exclude),
		ControlTopic:         c.ControlTopic,
		Keys:                 c.derived.keys,
		ExportInterval:       c.ExportInterval,
		FullStateEvery:       c.FullStateEvery,
		SnapshotInterval:     c.SnapshotInterval,
		SnapshotTimeout:      c.SnapshotTimeout,
		DiscoveryInterval:    c.DiscoveryInterval,
		ResetThreshold:       int64(c.ResetThreshold),
		AdminTimeout:         c.AdminTimeout,
		AdminConcurrency:     c.AdminConcurrency,
	}
}

// ClientOptions are the Pulsar client's options: URL, authentication and
// TLS. The client logs to logger and registers its metrics with reg.
func (c *Config) ClientOptions(logger *slog.Logger, reg prometheus.Registerer) (pulsar.ClientOptions, error) {
	authn, err := clientAuth(c.Client.Auth)
	if err != nil {
		return pulsar.ClientOptions{}, err
	}
	return pulsar.ClientOptions{
		URL:                        c.ServiceURL,
		Authentication:             authn,
		TLSTrustCertsFilePath:      c.Client.TLS.TrustCertsFile,
		TLSAllowInsecureConnection: c.Client.TLS.AllowInsecure,
		TLSValidateHostname:        c.Client.TLS.ValidateHostname,
		Logger:                     newClientLogger(logger),
		MetricsRegisterer:          reg,
	}, nil
}

func clientAuth(a Auth) (pulsar.Authentication, error) {
	switch a.Method {
	case AuthToken:
		if a.TokenFile != "" {
			return pulsar.NewAuthenticationTokenFromFile(a.TokenFile), nil
		}
		return pulsar.NewAuthenticationToken(a.Token), nil
	case AuthTLS:
		return pulsar.NewAuthenticationTLS(a.CertFile, a.KeyFile), nil
	case AuthOAuth2:
		params := map[string]string{
			"type":       "client_credentials",
			"issuerUrl":  a.OAuth2.IssuerURL,
			"clientId":   a.OAuth2.ClientID,
			"audience":   a.OAuth2.Audience,
			"privateKey": a.OAuth2.PrivateKey,
			"scope":      a.OAuth2.Scope,
		}
		// The client's constructor drops its error and returns nil.
		if authn := pulsar.NewAuthenticationOAuth2(params); authn != nil {
			return authn, nil
		}
		return nil, fmt.Errorf("auth.oauth2: the client-credentials flow could not be set up from %s (is it a JSON file with client_id and client_secret?)", a.OAuth2.PrivateKey)
	}
	return nil, nil
}

// AdminClient builds the admin REST client with its own authentication
// and TLS settings. It does not contact the server.
func (c *Config) AdminClient() (pulsaradmin.Client, error) {
	bounded, err := c.boundedAdminTransport()
	if err != nil {
		return nil, err
	}
	cfg := &adminconfig.Config{
		WebServiceURL:                 c.WebServiceURL,
		TLSTrustCertsFilePath:         c.Admin.TLS.TrustCertsFile,
		TLSAllowInsecureConnection:    c.Admin.TLS.AllowInsecure,
		TLSEnableHostnameVerification: c.Admin.TLS.ValidateHostname,
	}
	return admin.NewPulsarClientWithAuthProvider(cfg, bounded)
}

// AdminHTTPClient is a plain HTTP client for the admin REST API with the
// admin client's authentication, TLS, deadline and size cap, for calls
// whose raw answer matters (an entry's headers).
func (c *Config) AdminHTTPClient() (*http.Client, error) {
	bounded, err := c.boundedAdminTransport()
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: bounded}, nil
}

func (c *Config) boundedAdminTransport() (boundedProvider, error) {
	transport, err := adminTransport(c.Admin.TLS)
	if err != nil {
		return boundedProvider{}, fmt.Errorf("admin.tls: %w", err)
	}
	provider, err := adminProvider(c.Admin.Auth, transport)
	if err != nil {
		return boundedProvider{}, fmt.Errorf("admin.auth (%s): %w", c.Admin.Auth.Method, err)
	}
	return boundedProvider{Provider: provider, timeout: c.AdminTimeout, maxBytes: int64(c.AdminMaxResponseBytes),
		limiter: adminLimiter(c.AdminRate)}, nil
}

func adminProvider(a Auth, transport *http.Transport) (adminauth.Provider, error) {
	switch a.Method {
	case AuthToken:
		if a.TokenFile != "" {
			return adminauth.NewAuthenticationTokenFromFile(a.TokenFile, transport)
		}
		return adminauth.NewAuthenticationToken(a.Token, transport)
	case AuthTLS:
		return adminauth.NewAuthenticationTLS(a.CertFile, a.KeyFile, transport)
	case AuthOAuth2:
		return adminauth.NewAuthenticationOAuth2WithParams(a.OAuth2.IssuerURL, a.OAuth2.ClientID,
			a.OAuth2.Audience, a.OAuth2.PrivateKey, transport)
	}
	return adminauth.NewDefaultProvider(transport), nil
}

// adminTransport checks the server's certificate like the Pulsar client
// does: against trustCertsFile (or the system roots), with or without the
// host name check, or not at all when allowInsecure.
func adminTransport(t TLS) (*http.Transport, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 10
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.AllowInsecure}
	if t.TrustCertsFile != "" {
		pem, err := os.ReadFile(t.TrustCertsFile)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", t.TrustCertsFile)
		}
	}
	if !t.AllowInsecure && !t.ValidateHostname {
		// Go checks the host name whenever it verifies; to verify the
		// chain only, take verification over.
		tc.InsecureSkipVerify = true
		tc.VerifyConnection = verifyChainOnly(tc.RootCAs)
	}
	tr.TLSClientConfig = tc
	return tr, nil
}

func verifyChainOnly(roots *x509.CertPool) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("server presented no certificate")
		}
		intermediates := x509.NewCertPool()
		for _, cert := range cs.PeerCertificates[1:] {
			intermediates.AddCert(cert)
		}
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: intermediates})
		return err
	}
}
