// Package contract holds the emulator's contract tests: black-box checks, written
// only against pulsar-client-go, pulsaradmin and the documented /sim fault API,
// that the Pulsar emulator behaves like Apache Pulsar.
//
// The same tests run against a real pair of Pulsar clusters when
// PULSAR_A_SERVICE_URL, PULSAR_A_WEB_URL, PULSAR_B_SERVICE_URL and
// PULSAR_B_WEB_URL are set (cluster names from PULSAR_A_CLUSTER and
// PULSAR_B_CLUSTER, default "cluster-a" and "cluster-b"); otherwise they start
// the emulator in-process. Tests that need a facility only the emulator has
// (the fault API, a broker with batch-index acks, no source-position stamp)
// skip on a real pair and say why.
//
// The package owns nothing but its tests. It must not reach into the emulator's
// internals: anything it asserts has to be observable through a Pulsar client
// or the admin REST API, so that a failure here is either an emulator bug or a
// wrong belief about Pulsar, and the real pair can tell which.
package contract
