package mapping

import (
	"fmt"

	"github.com/cockroachdb/pebble"
)

// State is an opaque serialized subscription state with the sequence
// number it was published or received under.
type State struct {
	Seq  uint64
	Data []byte
}

// PutExported records the last state exported for (topic, sub).
func (s *Store) PutExported(topic, sub string, st State) error {
	if err := checkStateArgs(topic, sub, "-"); err != nil {
		return fmt.Errorf("put exported state: %w", err)
	}
	return s.putState(exportKey(topic, sub), st, fmt.Sprintf("put exported state of %q/%q", topic, sub))
}

// Exported returns the last state exported for (topic, sub).
func (s *Store) Exported(topic, sub string) (State, bool, error) {
	if err := checkStateArgs(topic, sub, "-"); err != nil {
		return State{}, false, fmt.Errorf("exported state: %w", err)
	}
	return s.state(exportKey(topic, sub), fmt.Sprintf("exported state of %q/%q", topic, sub))
}

// PutImported records the last state imported for (topic, sub) from
// cluster remote.
func (s *Store) PutImported(topic, sub, remote string, st State) error {
	if err := checkStateArgs(topic, sub, remote); err != nil {
		return fmt.Errorf("put imported state: %w", err)
	}
	return s.putState(importKey(topic, sub, remote), st, fmt.Sprintf("put imported state of %q/%q from %q", topic, sub, remote))
}

// Imported returns the last state imported for (topic, sub) from remote.
func (s *Store) Imported(topic, sub, remote string) (State, bool, error) {
	if err := checkStateArgs(topic, sub, remote); err != nil {
		return State{}, false, fmt.Errorf("imported state: %w", err)
	}
	return s.state(importKey(topic, sub, remote), fmt.Sprintf("imported state of %q/%q from %q", topic, sub, remote))
}

// DeleteSubscription forgets the exported state of (topic, sub) and its
// imported states from every remote, in one atomic write.
func (s *Store) DeleteSubscription(topic, sub string) error {
	if err := checkStateArgs(topic, sub, "-"); err != nil {
		return fmt.Errorf("delete subscription: %w", err)
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	b := s.db.NewBatch()
	defer b.Close()
	imports := importSubPrefix(topic, sub)
	if err := b.Delete(exportKey(topic, sub), nil); err != nil {
		return fmt.Errorf("delete subscription %q/%q: %w", topic, sub, err)
	}
	if err := b.DeleteRange(imports, prefixEnd(imports), nil); err != nil {
		return fmt.Errorf("delete subscription %q/%q: %w", topic, sub, err)
	}
	return s.commit(b, fmt.Sprintf("delete subscription %q/%q", topic, sub))
}

func checkStateArgs(topic, sub, remote string) error {
	if err := checkName("topic", topic); err != nil {
		return err
	}
	if err := checkName("subscription", sub); err != nil {
		return err
	}
	return checkName("remote cluster", remote)
}

func (s *Store) putState(key []byte, st State, what string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	return s.guard.guarded(what, func() error { return s.db.Set(key, encodeStateValue(st), pebble.Sync) })
}

func (s *Store) state(key []byte, what string) (State, bool, error) {
	if err := s.enter(); err != nil {
		return State{}, false, err
	}
	defer s.leave()
	v, found, err := s.get(s.db, key)
	if err == nil && found {
		var st State
		if st, err = decodeStateValue(what+" value", v); err == nil {
			return st, true, nil
		}
	}
	if err != nil {
		return State{}, false, fmt.Errorf("%s: %w", what, err)
	}
	return State{}, false, nil
}

// SubRemote names one stored imported state: a subscription and the
// remote cluster it came from.
type SubRemote struct {
	Subscription string
	Remote       string
}

// ImportedKeys lists every (subscription, remote) that has an imported
// state stored for topic, in key order.
func (s *Store) ImportedKeys(topic string) ([]SubRemote, error) {
	var out []SubRemote
	err := s.scanKeys(topic, kindImport, "imported states", func(r *keyReader) {
		out = append(out, SubRemote{Subscription: r.name(), Remote: r.name()})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ExportedKeys lists every subscription that has an exported state stored
// for topic, in key order.
func (s *Store) ExportedKeys(topic string) ([]string, error) {
	var out []string
	err := s.scanKeys(topic, kindExport, "exported states", func(r *keyReader) {
		out = append(out, r.name())
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scanKeys reads the key of every record of one kind stored for topic, in
// key order: each reads the names after the kind's prefix, and a key with
// anything left over is an error.
func (s *Store) scanKeys(topic string, kind byte, what string, each func(r *keyReader)) error {
	if err := checkName("topic", topic); err != nil {
		return fmt.Errorf("list %s: %w", what, err)
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	prefix := topicKindPrefix(topic, kind)
	err := scan(s.db, prefix, prefixEnd(prefix), func(k, _ []byte) (bool, error) {
		r := keyReader{b: k[len(prefix):]}
		each(&r)
		return true, r.end()
	})
	if err != nil {
		return fmt.Errorf("list %s of %q: %w", what, topic, err)
	}
	return nil
}
