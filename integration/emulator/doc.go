// Package emulator is an in-process Apache Pulsar emulator for tests and
// the demo: several named clusters, each with a binary-protocol listener
// and an admin REST listener on loopback, geo-replication between them and
// Pulsar's own replicated subscriptions (PIP-33).
//
// It owns brokers' behaviour: topics, subscriptions and dispatch, the
// binary protocol's command handling, replicators, markers, TTL and the
// fault controls. Storage and cursor rules live in package ledger, byte
// layout in package wire, REST routing and JSON in package admin. It must
// never import subsync's own packages: it is the yardstick they are
// measured against.
package emulator
