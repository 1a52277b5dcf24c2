package mapping

import (
	"fmt"
	"slices"
)

// SnapshotRemotes lists the remote clusters that have snapshot mappings
// for topic, sorted.
func (s *Store) SnapshotRemotes(topic string) ([]string, error) {
	if err := checkName("topic", topic); err != nil {
		return nil, fmt.Errorf("list snapshot remotes: %w", err)
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.leave()
	prefix := topicKindPrefix(topic, kindSnapshot)
	var out []string
	lower := prefix
	for {
		var remote string
		err := scan(s.db, lower, prefixEnd(prefix), func(k, _ []byte) (bool, error) {
			r := keyReader{b: k[len(prefix):]}
			remote = r.name()
			return false, r.err
		})
		if err != nil {
			return nil, fmt.Errorf("list snapshot remotes of %q: %w", topic, err)
		}
		if remote == "" {
			// Keys order names by length first; callers expect name order.
			slices.Sort(out)
			return out, nil
		}
		out = append(out, remote)
		// Skip every mapping of this remote in one seek.
		if lower = prefixEnd(snapshotRemotePrefix(topic, remote)); lower == nil {
			return nil, fmt.Errorf("list snapshot remotes of %q: no key follows remote %q", topic, remote)
		}
	}
}
