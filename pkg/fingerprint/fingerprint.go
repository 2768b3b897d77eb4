package fingerprint

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// MinKeyBytes is the shortest key accepted.
const MinKeyBytes = 16

// EnvKey is the environment variable that gives the key itself (hex, or
// any string of at least MinKeyBytes bytes): shared by a team's CI jobs or
// by the shards of a sweep.
const EnvKey = "LAYERSCAN_FINGERPRINT_KEY"

// Key is the secret key of the fingerprints and secret ids.
type Key struct {
	mac []byte
	id  string
}

// NewKey makes a Key of material (at least MinKeyBytes bytes).
func NewKey(material []byte) (*Key, error) {
	if len(material) < MinKeyBytes {
		return nil, fmt.Errorf("fingerprint key: %d bytes, want at least %d", len(material), MinKeyBytes)
	}
	k := &Key{mac: bytes.Clone(material)}
	k.id = "k" + k.sum("layerscan key id v1")[:12]
	return k, nil
}

// ParseKey reads a key as EnvKey or a key file gives it: an even number of
// hex digits is decoded, anything else is used as bytes; surrounding
// white space is ignored.
func ParseKey(s string) (*Key, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) >= MinKeyBytes {
		return NewKey(b)
	}
	return NewKey([]byte(s))
}

// Random is a new random key: the default of a library caller that sets
// none (its values are stable only within the process).
func Random() *Key {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	k, _ := NewKey(b)
	return k
}

// DefaultPath is the installation's key file:
// $XDG_CONFIG_HOME/layerscan/fingerprint.key (~/.config/layerscan/… on
// Linux).
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("fingerprint key: no config directory: %w", err)
	}
	return filepath.Join(dir, "layerscan", "fingerprint.key"), nil
}

// LoadOrCreate reads the key file at path, or creates it (0600, in a 0700
// directory) with 32 random bytes when it does not exist. A key file that
// others can read, or that is not a regular file, is refused.
func LoadOrCreate(path string) (*Key, error) {
	k, err := Load(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("fingerprint key: %w", err)
	}
	b := make([]byte, 32)
	rand.Read(b)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return Load(path) // made by another process meanwhile
	}
	if err != nil {
		return nil, fmt.Errorf("fingerprint key: %w", err)
	}
	_, err = fmt.Fprintf(f, "%x\n", b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("fingerprint key: writing %s: %w", path, err)
	}
	return NewKey(b)
}

// Load reads the key file at path.
func Load(path string) (*Key, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("fingerprint key %s: a symbolic link; give the file itself", path)
		}
		return nil, fmt.Errorf("fingerprint key: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("fingerprint key: %w", err)
	}
	switch {
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("fingerprint key %s: not a regular file", path)
	case st.Mode().Perm()&0o077 != 0:
		return nil, fmt.Errorf("fingerprint key %s: mode %04o lets others read it; chmod 600 it", path, st.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return nil, fmt.Errorf("fingerprint key %s: %w", path, err)
	}
	k, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// ID names the key without revealing it: a keyed value of a constant. A
// store records the ID it was written with.
func (k *Key) ID() string { return k.id }

// Finding is a finding's fingerprint: rule, path (the place: a file path
// with archive members, "history", "config:FIELD") and secret, keyed.
// 32 hex digits.
func (k *Key) Finding(rule, path, secret string) string {
	return k.sum("finding\x00" + rule + "\x00" + path + "\x00" + secret)[:32]
}

// Secret is a secret's id: its value alone, keyed. 16 hex digits.
func (k *Key) Secret(value string) string {
	return k.sum("secret\x00" + value)[:16]
}

func (k *Key) sum(s string) string {
	h := hmac.New(sha256.New, k.mac)
	io.WriteString(h, s)
	return hex.EncodeToString(h.Sum(nil))
}

// Legacy is the unkeyed fingerprint layerscan printed before keyed ones
// (sha256 of "layerscan/v1", rule, path and secret): only to match old
// ignore files and baselines, never to print or store.
func Legacy(rule, path, secret string) string {
	h := sha256.New()
	fmt.Fprintf(h, "layerscan/v1\x00%s\x00%s\x00%s", rule, path, secret)
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Resolve is the key of a run: the key EnvKey gives when it is set (not
// empty), else the key file at file (which must exist) when file is not
// "", else the installation's key file (DefaultPath), created when
// missing. When that file can be neither read nor made (a read-only home
// in a container), the run gets a random key and a one-line warning on
// warn: its fingerprints are stable only within the run. A bad key or key
// file that was asked for is an error.
func Resolve(file string, warn io.Writer) (*Key, error) {
	if v := os.Getenv(EnvKey); v != "" {
		k, err := ParseKey(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvKey, err)
		}
		return k, nil
	}
	if file != "" {
		return Load(file)
	}
	p, err := DefaultPath()
	if err == nil {
		var k *Key
		if k, err = LoadOrCreate(p); err == nil {
			return k, nil
		}
		if _, serr := os.Stat(p); serr == nil {
			return nil, err // there, but unusable (mode, not a file): say so
		}
	}
	fmt.Fprintf(warn, "layerscan: no fingerprint key (%v): this run's fingerprints and secret ids are random; set %s to a shared key\n", err, EnvKey)
	return Random(), nil
}
