// Package demo is the product's proof, runnable on a laptop: two emulated
// Pulsar clusters, east (primary) and west (standby), one geo-replicated
// topic and two subscriptions given the same failover workload. One is
// synced by Pulsar's own replicated subscriptions (PIP-33), the other by
// two subsync daemons, one beside each cluster, running in-process. After
// east is stopped, both subscriptions are drained on west and the result
// says, for each, how many messages acknowledged on east came back
// (duplicates) and how many were never delivered anywhere (lost).
//
// It owns the demo's options, orchestration and report. The workload and
// its accounting live in package integration/workload, the clusters in
// integration/emulator and the daemon in replicator; this package wires
// them together and must not re-implement any of them.
package demo
