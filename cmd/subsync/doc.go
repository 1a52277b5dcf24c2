// Command subsync keeps Apache Pulsar durable subscriptions in sync across
// geo-replicated clusters (mark-delete position and individual acks), so
// consumers that fail over to the standby cluster are not handed again
// what they acknowledged on the primary.
//
//	subsync run --config subsync.yaml       the daemon, one beside each cluster
//	subsync status [TOPIC]                  per subscription and remote: sync state and lag
//	subsync mappings TOPIC                  tail-index runs and snapshot mappings
//	subsync failover-check                  is the standby ready? non-zero exit if not
//	subsync keygen                          a new HMAC key line for the key file
//	subsync demo                            PIP-33 vs subsync on emulated clusters
//
// Exit codes (every command):
//
//	0  success; for failover-check: ready to switch
//	1  failover-check: NOT ready; other commands: the operation failed
//	2  usage or configuration error (bad flag, argument or config value)
//	3  the daemon could not be reached (or did not answer like a subsync daemon)
//
// The package owns the command line only: flag parsing, the daemon's
// process lifecycle (signals, HTTP listener, store and client setup) and
// report rendering. Configuration lives in the config sub-package; the
// sync engine in package replicator, which this command must not
// re-implement.
package main
