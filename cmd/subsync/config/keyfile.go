package config

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/subsync/subsync/snapshot"
)

// The HMAC key file holds the secrets shared by every daemon of a
// replication group. Format, one key per line:
//
//	# comments and blank lines are ignored
//	<id>:<secret as hex digits>
//
// The id is a decimal number from 0 to 4294967295 naming the key on the
// wire; the secret is at least snapshot.MinKeySize (16) bytes, 32
// recommended (`subsync keygen` writes one). The FIRST key line is the
// current key, used to sign; the others are only accepted. Rotation: add
// the new key below the current one everywhere, then move it to the top
// everywhere, then delete the old key once no message signed with it can
// still be in flight.
const keyFileMaxSize = 64 << 10

// LoadKeyFile reads and parses a key file. The warning, when not empty,
// says the file is accessible to group or others.
func LoadKeyFile(path string) (*snapshot.Keyring, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, "", err
	}
	if !info.Mode().IsRegular() {
		return nil, "", fmt.Errorf("%s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, keyFileMaxSize+1))
	if err != nil {
		return nil, "", err
	}
	if len(data) > keyFileMaxSize {
		return nil, "", fmt.Errorf("%s is larger than %d bytes, expected a few key lines", path, keyFileMaxSize)
	}
	ring, err := ParseKeyFile(path, data)
	return ring, permissionWarning(path, info.Mode().Perm()), err
}

func permissionWarning(path string, perm os.FileMode) string {
	if perm&0o077 == 0 {
		return ""
	}
	return fmt.Sprintf("hmacKeyFile %s has mode %#o: group or others can access the shared secret; chmod 600 it", path, perm)
}

// ParseKeyFile parses key file text; the error lists every bad line.
// name only labels errors.
func ParseKeyFile(name string, data []byte) (*snapshot.Keyring, error) {
	var (
		keys    []snapshot.Key
		errs    []error
		firstAt = map[uint32]int{}
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), keyFileMaxSize+1)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		k, err := parseKeyLine(text)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", name, line, err))
			continue
		}
		if first, dup := firstAt[k.ID]; dup {
			errs = append(errs, fmt.Errorf("%s:%d: key id %d already defined at line %d", name, line, k.ID, first))
			continue
		}
		firstAt[k.ID] = line
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", name, err))
	}
	if len(errs) == 0 && len(keys) == 0 {
		errs = append(errs, fmt.Errorf("%s: no key found; expected lines \"<id>:<hex secret>\" (subsync keygen writes one)", name))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	ring, err := snapshot.NewKeyring(keys[0].ID, keys...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ring, nil
}

func parseKeyLine(text string) (snapshot.Key, error) {
	idText, secretText, ok := strings.Cut(text, ":")
	if !ok {
		return snapshot.Key{}, errors.New(`expected "<id>:<hex secret>"`)
	}
	id, err := strconv.ParseUint(strings.TrimSpace(idText), 10, 32)
	if err != nil {
		return snapshot.Key{}, fmt.Errorf("key id %q is not a decimal number from 0 to 4294967295", strings.TrimSpace(idText))
	}
	secret, err := hex.DecodeString(strings.TrimSpace(secretText))
	if err != nil {
		return snapshot.Key{}, fmt.Errorf("key id %d: secret is not hex digits (%v)", id, err)
	}
	if len(secret) < snapshot.MinKeySize {
		return snapshot.Key{}, fmt.Errorf("key id %d: secret is %d bytes, expected at least %d (%d hex digits)", id, len(secret), snapshot.MinKeySize, 2*snapshot.MinKeySize)
	}
	return snapshot.Key{ID: uint32(id), Secret: secret}, nil
}

// FormatKeyLine renders one key as a key file line.
func FormatKeyLine(k snapshot.Key) string {
	return fmt.Sprintf("%d:%s", k.ID, hex.EncodeToString(k.Secret))
}
