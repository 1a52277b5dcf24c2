package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"

	"github.com/spf13/cobra"

	"github.com/subsync/subsync/cmd/subsync/config"
	"github.com/subsync/subsync/snapshot"
)

const keygenLong = `Generate a random HMAC key line for the key file (hmacKeyFile).

The key file authenticates control-topic messages between the daemons; every
daemon of a replication group needs the same keys. Format, one key a line:

  # comments and blank lines are ignored
  <id>:<secret as hex digits>

The id (0 to 4294967295) names the key on the wire; the secret is at least
16 bytes. The FIRST key line is the current key (it signs); later lines are
accepted only. To rotate without losing a message: add the new key as a
second line on every daemon; then move it to the first line on every
daemon; then, once no message signed with the old key can be in flight,
delete the old line.

The file must be readable by the daemon only (chmod 600); the daemon warns
otherwise.`

func (a *app) keygenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Generate an HMAC key line for the key file",
		Long:  keygenLong,
		Example: `  subsync keygen --id 1 --out /etc/subsync/hmac.keys
  subsync keygen --id 2 >> /etc/subsync/hmac.keys   # a second, accepted key`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, _ := cmd.Flags().GetInt64("id")
			size, _ := cmd.Flags().GetInt("bytes")
			out, _ := cmd.Flags().GetString("out")
			line, err := newKeyLine(id, size)
			if err != nil {
				return err
			}
			if out == "" {
				fmt.Fprintln(a.stdout, line)
				return nil
			}
			return writeNewKeyFile(out, line)
		},
	}
	cmd.Flags().Int64("id", 1, "key id, 0 to 4294967295")
	cmd.Flags().Int("bytes", 32, fmt.Sprintf("secret size in bytes, at least %d", snapshot.MinKeySize))
	cmd.Flags().String("out", "", "write a new key file (mode 0600) instead of printing; refuses to overwrite")
	return cmd
}

func newKeyLine(id int64, size int) (string, error) {
	if id < 0 || id > math.MaxUint32 {
		return "", usagef("--id %d: expected 0 to %d", id, uint32(math.MaxUint32))
	}
	if size < snapshot.MinKeySize || size > 1024 {
		return "", usagef("--bytes %d: expected %d to 1024", size, snapshot.MinKeySize)
	}
	secret := make([]byte, size)
	if _, err := rand.Read(secret); err != nil {
		return "", failed(fmt.Errorf("random secret: %w", err))
	}
	return config.FormatKeyLine(snapshot.Key{ID: uint32(id), Secret: secret}), nil
}

func writeNewKeyFile(path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return usagef("--out %s exists; keygen never overwrites a key file (append with >> instead)", path)
	}
	if err != nil {
		return failed(err)
	}
	content := "# subsync HMAC keys: <id>:<hex secret>; the first key signs.\n" + line + "\n"
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return failed(fmt.Errorf("write %s: %w", path, err))
	}
	if err := f.Close(); err != nil {
		return failed(fmt.Errorf("write %s: %w", path, err))
	}
	return nil
}
