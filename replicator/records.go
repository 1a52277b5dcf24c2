package replicator

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/subsync/subsync/ackset"
	"github.com/subsync/subsync/owner"
)

// The stored forms of an exported and an imported state (opaque to the
// store). The current form starts with recordVersion; a first byte of
// anything else is the first form (the sender's epoch as a varint, then
// the ack set), which a real epoch (unix ms) never starts with a 2.
const recordVersion = 2

// exportRecord is what this cluster keeps per subscription: the stream it
// exports on and what it last sent, and the owner decision's memory.
type exportRecord struct {
	epoch int64
	set   ackset.Set
	mem   owner.Memory
}

// importRecord is a remote cluster's last word on a subscription.
type importRecord struct {
	epoch      int64
	set        ackset.Set
	active     bool
	lastActive int64
	deleted    bool
}

const (
	flagKnown = 1 << iota
	flagDeleted
	flagOwnerDeleted
	flagMirroring
	flagActive
	flagDeletedOwning
	flagIdle
)

func encodeExport(r exportRecord) ([]byte, error) {
	out := []byte{recordVersion}
	out = binary.AppendVarint(out, r.epoch)
	out = binary.AppendVarint(out, r.mem.LastActive)
	out = append(out, flags(r.mem.Known, flagKnown)|flags(r.mem.Deleted, flagDeleted)|
		flags(r.mem.OwnerDeleted, flagOwnerDeleted)|flags(r.mem.Mirroring, flagMirroring)|
		flags(r.mem.DeletedOwning, flagDeletedOwning)|flags(r.mem.Idle, flagIdle))
	return appendSets(out, r.set, r.mem.Applied, r.mem.LocalOnly)
}

func decodeExport(b []byte) (exportRecord, error) {
	if len(b) == 0 || b[0] != recordVersion {
		epoch, set, err := decodeFirstForm(b)
		// A first-form record predates ownership: the subscription was
		// seen here, nothing more is known.
		return exportRecord{epoch: epoch, set: set, mem: owner.Memory{Known: err == nil}}, err
	}
	d := recordDecoder{b: b[1:]}
	r := exportRecord{epoch: d.varint(), mem: owner.Memory{LastActive: d.varint()}}
	f := d.byte()
	r.mem.Known, r.mem.Deleted = f&flagKnown != 0, f&flagDeleted != 0
	r.mem.OwnerDeleted, r.mem.Mirroring = f&flagOwnerDeleted != 0, f&flagMirroring != 0
	r.mem.DeletedOwning, r.mem.Idle = f&flagDeletedOwning != 0, f&flagIdle != 0
	r.set, r.mem.Applied, r.mem.LocalOnly = d.set(), d.set(), d.set()
	return r, d.finish()
}

func encodeImport(r importRecord) ([]byte, error) {
	out := []byte{recordVersion}
	out = binary.AppendVarint(out, r.epoch)
	out = binary.AppendVarint(out, r.lastActive)
	out = append(out, flags(r.active, flagActive)|flags(r.deleted, flagDeleted))
	return appendSets(out, r.set)
}

func decodeImport(b []byte) (importRecord, error) {
	if len(b) == 0 || b[0] != recordVersion {
		epoch, set, err := decodeFirstForm(b)
		return importRecord{epoch: epoch, set: set}, err
	}
	d := recordDecoder{b: b[1:]}
	r := importRecord{epoch: d.varint(), lastActive: d.varint()}
	f := d.byte()
	r.active, r.deleted = f&flagActive != 0, f&flagDeleted != 0
	r.set = d.set()
	return r, d.finish()
}

func flags(on bool, bit byte) byte {
	if on {
		return bit
	}
	return 0
}

func appendSets(out []byte, sets ...ackset.Set) ([]byte, error) {
	for _, s := range sets {
		enc, err := ackset.Encode(s)
		if err != nil {
			return nil, fmt.Errorf("encoding ack set: %w", err)
		}
		out = binary.AppendUvarint(out, uint64(len(enc)))
		out = append(out, enc...)
	}
	return out, nil
}

func decodeFirstForm(b []byte) (int64, ackset.Set, error) {
	epoch, n := binary.Varint(b)
	if n <= 0 {
		return 0, ackset.Set{}, errors.New("stored state: bad epoch")
	}
	set, err := ackset.Decode(b[n:])
	if err != nil {
		return 0, ackset.Set{}, fmt.Errorf("stored state: %w", err)
	}
	return epoch, set, nil
}

// recordDecoder reads a stored record, keeping the first error.
type recordDecoder struct {
	b   []byte
	err error
}

func (d *recordDecoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("stored state: bad %s", what)
	}
}

func (d *recordDecoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("integer")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *recordDecoder) byte() byte {
	if len(d.b) == 0 {
		d.fail("flags")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *recordDecoder) set() ackset.Set {
	n, k := binary.Uvarint(d.b)
	if k <= 0 || n > uint64(len(d.b)-k) {
		d.fail("set length")
		return ackset.Set{}
	}
	s, err := ackset.Decode(d.b[k : k+int(n)])
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("stored state: %w", err)
	}
	d.b = d.b[k+int(n):]
	return s
}

func (d *recordDecoder) finish() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	return d.err
}
