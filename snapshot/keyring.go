package snapshot

import (
	"fmt"
	"slices"
)

// MinKeySize is the shortest accepted HMAC secret, in bytes.
const MinKeySize = 16

// Key is one shared HMAC secret with the id that names it on the wire.
type Key struct {
	ID     uint32
	Secret []byte
}

func (k Key) validate() error {
	if len(k.Secret) < MinKeySize {
		return fmt.Errorf("key id %d: secret is %d bytes, expected at least %d", k.ID, len(k.Secret), MinKeySize)
	}
	return nil
}

// Keyring holds the keys a daemon accepts and the one it signs with. It is
// immutable: rotation builds a new Keyring and swaps it in. A rotation that
// loses no message runs in three steps, each rolled out to every daemon
// before the next: add the new key (accepted, not yet current); make it
// current; drop the old key once no message signed with it can still be in
// flight on the control topic.
type Keyring struct {
	current Key
	keys    map[uint32][]byte
}

// NewKeyring builds a keyring from keys, signing with the one whose id is
// currentID. Ids must be unique and secrets at least MinKeySize bytes.
// Secrets are copied.
func NewKeyring(currentID uint32, keys ...Key) (*Keyring, error) {
	r := &Keyring{keys: make(map[uint32][]byte, len(keys))}
	for _, k := range keys {
		if err := k.validate(); err != nil {
			return nil, fmt.Errorf("keyring: %w", err)
		}
		if _, dup := r.keys[k.ID]; dup {
			return nil, fmt.Errorf("keyring: key id %d appears twice", k.ID)
		}
		r.keys[k.ID] = slices.Clone(k.Secret)
	}
	secret, ok := r.keys[currentID]
	if !ok {
		return nil, fmt.Errorf("keyring: current key id %d is not among the %d keys given", currentID, len(keys))
	}
	r.current = Key{ID: currentID, Secret: secret}
	return r, nil
}

// Current returns the key to sign with. Its Secret must not be modified.
func (r *Keyring) Current() Key { return r.current }

// IDs returns the accepted key ids in increasing order.
func (r *Keyring) IDs() []uint32 {
	ids := make([]uint32, 0, len(r.keys))
	for id := range r.keys {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (r *Keyring) lookup(id uint32) ([]byte, bool) {
	if r == nil {
		return nil, false
	}
	s, ok := r.keys[id]
	return s, ok
}
