// Package config owns the subsync daemon's configuration: the YAML file,
// the SUBSYNC_* environment overrides and the command-line flags, merged
// with the precedence flags > environment > file > defaults; the
// validation that lists every problem at once; the HMAC key file; and the
// conversion into replicator.Config and the Pulsar client and admin
// connection settings.
//
// Every setting is declared once, in the table in settings.go: its YAML
// path ("auth.tokenFile"), from which its environment variable
// (SUBSYNC_AUTH_TOKEN_FILE) and flag (--auth-token-file) are derived, its
// kind, default and documentation. subsync.example.yaml in the parent
// folder documents every key; a test keeps the two in step.
//
// It must not start anything: it opens no connection, store or listener.
// ClientOptions and AdminClient only construct the clients' settings and
// the admin client; nothing is contacted.
package config
