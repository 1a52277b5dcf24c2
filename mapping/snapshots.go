package mapping

import (
	"fmt"

	"github.com/cockroachdb/pebble"

	"github.com/subsync/subsync/ackset"
)

// SnapshotMapping is what one snapshot round taught the requester about a
// remote cluster.
type SnapshotMapping struct {
	// Local is the requester's last confirmed entry when it sent the request.
	Local ackset.Position
	// RemoteLAC is the remote's last confirmed entry when it answered.
	RemoteLAC ackset.Position
	// RemoteWatermark is the highest requester-origin entry (a position in
	// the requester's topic) the remote's tail had seen.
	RemoteWatermark ackset.Position
	// TimeUnixMs is when the response arrived, in Unix milliseconds.
	TimeUnixMs int64
}

func checkPulsarPosition(what string, p ackset.Position) error {
	if p.Ledger < -1 || p.Entry < -1 {
		return fmt.Errorf("%s %s: expected ledger and entry >= -1", what, p)
	}
	return nil
}

func checkSnapshotArgs(topic, remote string) error {
	if err := checkName("topic", topic); err != nil {
		return err
	}
	return checkName("remote cluster", remote)
}

// PutSnapshot stores m for (topic, remote), replacing any mapping at the
// same local position.
func (s *Store) PutSnapshot(topic, remote string, m SnapshotMapping) error {
	err := checkSnapshotArgs(topic, remote)
	for _, c := range []struct {
		what string
		p    ackset.Position
	}{{"local position", m.Local}, {"remote LAC", m.RemoteLAC}, {"remote watermark", m.RemoteWatermark}} {
		if err == nil {
			err = checkPulsarPosition(c.what, c.p)
		}
	}
	if err != nil {
		return fmt.Errorf("put snapshot mapping: %w", err)
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	return s.guard.guarded(fmt.Sprintf("put snapshot mapping of %q from %q at %s", topic, remote, m.Local), func() error {
		return s.db.Set(snapshotKey(topic, remote, m.Local), encodeSnapshotValue(m), pebble.Sync)
	})
}

// SnapshotAtOrBelow returns the latest mapping of (topic, remote) whose
// local position is at or below local.
func (s *Store) SnapshotAtOrBelow(topic, remote string, local ackset.Position) (SnapshotMapping, bool, error) {
	if err := checkSnapshotArgs(topic, remote); err != nil {
		return SnapshotMapping{}, false, fmt.Errorf("snapshot mapping lookup: %w", err)
	}
	if err := s.enter(); err != nil {
		return SnapshotMapping{}, false, err
	}
	defer s.leave()
	prefix := snapshotRemotePrefix(topic, remote)
	k, v, found, err := last(s.db, prefix, prefixEnd(snapshotKey(topic, remote, local)))
	if err == nil && found {
		var m SnapshotMapping
		if m, err = decodeSnapshot(prefix, k, v); err == nil {
			return m, true, nil
		}
	}
	if err != nil {
		return SnapshotMapping{}, false, fmt.Errorf("snapshot mapping of %q from %q at or below %s: %w", topic, remote, local, err)
	}
	return SnapshotMapping{}, false, nil
}

func decodeSnapshot(prefix, key, value []byte) (SnapshotMapping, error) {
	local, err := decodeSnapshotKey(prefix, key)
	if err != nil {
		return SnapshotMapping{}, err
	}
	return decodeSnapshotValue(local, value)
}

// Snapshots lists the mappings of (topic, remote) in local order.
func (s *Store) Snapshots(topic, remote string) ([]SnapshotMapping, error) {
	if err := checkSnapshotArgs(topic, remote); err != nil {
		return nil, fmt.Errorf("list snapshot mappings: %w", err)
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	prefix := snapshotRemotePrefix(topic, remote)
	var out []SnapshotMapping
	err := scan(s.db, prefix, prefixEnd(prefix), func(k, v []byte) (bool, error) {
		m, err := decodeSnapshot(prefix, k, v)
		out = append(out, m)
		return err == nil, err
	})
	if err != nil {
		return nil, fmt.Errorf("list snapshot mappings of %q from %q: %w", topic, remote, err)
	}
	return out, nil
}

// PruneSnapshots deletes the mappings of (topic, remote) whose local
// position is below below.
func (s *Store) PruneSnapshots(topic, remote string, below ackset.Position) error {
	if err := checkSnapshotArgs(topic, remote); err != nil {
		return fmt.Errorf("prune snapshot mappings: %w", err)
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	prefix := snapshotRemotePrefix(topic, remote)
	return s.guard.guarded(fmt.Sprintf("prune snapshot mappings of %q from %q below %s", topic, remote, below), func() error {
		return s.db.DeleteRange(prefix, snapshotKey(topic, remote, below), pebble.Sync)
	})
}
