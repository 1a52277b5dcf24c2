// Package contract holds the emulator's contract tests: black-box checks,
// written only against pulsar-client-go, pulsaradmin, the documented /sim
// fault API and the test bed's fault API, that the Pulsar emulator behaves
// like Apache Pulsar.
//
// The same tests run against a real pair of Pulsar clusters when
// PULSAR_A_SERVICE_URL, PULSAR_A_WEB_URL, PULSAR_B_SERVICE_URL and
// PULSAR_B_WEB_URL are set (cluster names from PULSAR_A_CLUSTER and
// PULSAR_B_CLUSTER, default "cluster-a" and "cluster-b"); otherwise they start
// the emulator in-process. Under `testbed exec` (SUBSYNC_TESTBED_URL set) the
// tests that need a fault kill and restart a real cluster through the test
// bed, and read the broker version and --set settings it announces; tests
// that need what the pair lacks (batch-index acks switched on, a version
// without the source-position stamp) skip and say why.
//
// The package owns nothing but its tests. It must not reach into the emulator's
// internals: anything it asserts has to be observable through a Pulsar client
// or the admin REST API, so that a failure here is either an emulator bug or a
// wrong belief about Pulsar, and the real pair can tell which.
package contract
