// Package replicator is the per-cluster sync engine: for every topic
// partition in scope it tails the local topic into the tail index, exports
// each subscription's acknowledged set to the control topic, imports the
// remote clusters' sets and applies them to the local cursors, and runs
// the snapshot protocol that measures replication lag.
//
// It owns the daemon's loops, its metrics and its reports. Ack-set
// arithmetic lives in package ackset, message formats and the snapshot
// state machine in package snapshot, storage in package mapping and cursor
// reading and writing in package cursor; this package wires them to
// Pulsar and must not re-implement any of them.
package replicator
