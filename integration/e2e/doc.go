// Package e2e holds subsync's end-to-end tests: two emulated Pulsar
// clusters (east and west, from package integration/emulator) with a
// geo-replicated namespace, one subsync daemon (package replicator) beside
// each with its own Pebble store, and real pulsar-client-go applications
// producing and consuming. Each test measures a failover the way an
// operator would: messages acknowledged on the primary and delivered again
// on the standby are duplicates, messages neither acknowledged on the
// primary nor delivered on the standby are lost. Every test asserts that
// nothing is lost and bounds the duplicates.
//
// The package owns only tests and their harness. It drives the daemon
// through its public API (New, Run, Status, FailoverCheck, Metrics) and the
// clusters through the emulator's fault controls; it must not reach into
// the engine's packages (replicator, cursor, mapping, ackset, snapshot) or
// change their behaviour. The workload (payload numbering, seeded plans of
// held messages, out-of-order acknowledging consumers, accounting) comes
// from package integration/workload.
//
// Set SUBSYNC_TEST_LOG=1 to route the daemons' logs to stderr, and
// SUBSYNC_TEST_EMULATOR_LOG=1 for the emulator's.
package e2e
