// Package workload drives the failover experiment that measures what a
// subscription sync mechanism is worth: produce numbered messages on a
// geo-replicated topic, consume them on the primary cluster acknowledging
// out of order while a seeded fraction is held unacknowledged, kill the
// primary, consume what the standby delivers on the same subscription, and
// count duplicates (acknowledged on the primary, delivered again on the
// standby) and losses (neither acknowledged on the primary nor delivered on
// the standby).
//
// It owns the message numbering (payload format), the seeded plan of which
// messages are acknowledged and which are held, the pure accounting, the
// set-up helpers (replicated tenant, namespace, topic, subscriptions on
// every cluster) and the consumer and producer runs. It talks to Pulsar
// only through pulsar-client-go and pulsaradmin, so it runs against the
// emulator or a real pair alike. It must not depend on subsync's own
// packages: whatever has to happen between consuming on the primary and
// killing it (waiting for a sync mechanism to catch up) is a hook the caller
// passes in, and killing the primary is a function the caller passes in
// (the emulator's Sim.StopCluster, typically).
package workload
