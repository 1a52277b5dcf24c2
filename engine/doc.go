// Package engine is subsync's functional core for one subscription of one
// topic partition: given a read of the topic, what the remote clusters
// last said and what this cluster remembers, it decides everything a sync
// round does — the owner decision (package owner), the update to publish
// and the stream state that follows it, the plan that makes the local
// cursor follow the owner (package cursor's planner), the deletion to
// mirror — and returns it as a Ready, in the manner of etcd raft's Ready:
// the caller (the replicator's worker) performs it in order and, once each
// part succeeded, keeps Ready.Next. Merging a received update is Receive.
//
// Everything here is pure and deterministic: time is an argument, and the
// same inputs give the same Ready, so every scenario is a unit test. The
// package must not touch the network, Pulsar, the store, clocks or logs;
// it does not sequence streams (package snapshot's Sequencer does) and
// does not translate positions itself (package ackset does).
package engine
