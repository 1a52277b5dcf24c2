// Package admin is the emulator's admin REST server: Pulsar's /admin/v2 paths
// and JSON, faithful enough that the unmodified pulsaradmin client (and curl)
// work against an emulated cluster.
//
// It owns two things:
//   - Metadata, one cluster's metadata store (clusters, tenants, namespaces and
//     their policies), with Pulsar's validation rules and status codes, and a
//     change notification the broker watches;
//   - Server, the http.Handler that routes /admin/v2/... and /sim/... requests,
//     validates their input and delegates topic work to a Backend.
//
// Backend (topics, subscriptions, cursors, stats) and SimController (the /sim
// fault API) are interfaces defined here and implemented by package emulator.
// This package must not know how topics are stored or dispatched: it never
// touches the binary protocol, never decodes message metadata, and reads the
// managed ledger only through the ledger package's public API.
package admin
