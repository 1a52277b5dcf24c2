// Package snapshot owns subsync's control-topic protocol: the message
// formats (SnapshotRequest, SnapshotResponse, Update), their signed wire
// envelope and keyring, the requester-side state machine of the snapshot
// protocol (Tracker), the responder's answer (Respond), and the receiver's
// ordering of Updates (Sequencer).
//
// Everything here is pure and deterministic: no network, no storage, no
// clock. Time always arrives as an argument (time.Time or unix
// milliseconds), so every schedule of arrivals, duplicates and timeouts can
// be replayed in tests.
//
// It must not touch ack-set semantics: an Update carries its ack set as
// opaque bytes produced and interpreted by package ackset. It must not
// decide what a mapping means for the tail index or a cursor either; it
// only reports which mappings a snapshot round produced.
package snapshot
