//go:build race

package e2e

// daemonsRideOutages is false under the race detector: pulsar-client-go
// v0.19.0 has a data race of its own when a producer reconnects while it
// sends (partitionProducer.grabCnx, run by the reconnect goroutine, writes
// producerName, topicEpoch and encryptor while the events loop reads them
// in internalSingleSend). A daemon whose cluster comes back while it keeps
// publishing to its control topic hits it, so under -race a site failure
// takes the daemon down with its cluster and a recovery restarts it on its
// store. Without -race (outage_norace_test.go) the daemon stays up and
// rides the outage through.
const daemonsRideOutages = false
