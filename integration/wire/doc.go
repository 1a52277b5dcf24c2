// Package wire is the emulator's side of Pulsar's binary protocol: the
// protobuf messages (generated from simwire.proto, our own definition of
// the published field numbers) and the framing around them.
//
// It owns byte layout only: reading and writing frames, the CRC32-C
// checksum over message metadata and payload, broker entry metadata, and
// the batch payload format. It must not know about topics, cursors or
// clusters; those live in package emulator.
package wire
