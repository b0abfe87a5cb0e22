// Package vault keeps the keys of personal data apart from the data
// (DESIGN.md §4–5): a versioned master key from a file or the environment,
// per-person data keys wrapped by it in a key store that is not part of the
// data, authenticated encryption of sensitive fields under those keys,
// versioned blind indexes for searching them, and erasure that destroys a
// person's key and leaves a tombstone checked before any key is unwrapped.
//
// The cryptography is Go's standard library: AES-256-GCM (crypto/cipher)
// with random nonces for data and for key wrapping, HMAC-SHA-256 for blind
// indexes, crypto/rand for keys. Nothing here invents a mode or a
// construction; the package only decides which key seals what.
package vault

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// MissingError reports key material that does not exist where it is
// configured; Custos makes new key material only for an empty database, so
// the caller says how to restore it.
type MissingError struct {
	What  string // "master key file", "key store"
	Where string // the file, or the key store's redacted URL
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("vault: the %s %s does not exist", e.What, e.Where)
}

// keySize is the size of every key in the vault: AES-256 and HMAC-SHA-256.
const keySize = 32

// masterHeader starts every master key file and marks what it is.
const masterHeader = "# Custos master key. Keep it secret, keep it OUT of the data directory and its backups,\n" +
	"# and back it up separately: without it no personal data can be read.\n" +
	"# One line per version: <version> <base64 key>. New wraps use the highest version.\n"

// MasterKeys are the versions of the master key. The highest version wraps
// new keys; every version unwraps what it wrapped, until it is retired.
//
// A MasterKeys value is never changed once a Vault uses it: a rotation or a
// reload makes a new one, so readers need no lock.
type MasterKeys struct {
	keys    map[uint32][]byte
	primary uint32
	path    string    // the file they came from; empty when from the environment
	stamp   fileStamp // the file as read, to notice another process's change
}

// fileStamp identifies a version of the master key file cheaply (a stat).
type fileStamp struct {
	mod  int64 // modification time, ns
	size int64
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{mod: fi.ModTime().UnixNano(), size: fi.Size()}
}

// clone copies the versions, so a change makes a new value.
func (m *MasterKeys) clone() *MasterKeys {
	c := *m
	c.keys = make(map[uint32][]byte, len(m.keys))
	for v, k := range m.keys {
		c.keys[v] = k
	}
	return &c
}

// Fingerprint identifies version v without revealing it: an HMAC of a fixed
// label under the key. The database records it (never the key), so
// start-up can tell its own master key from a foreign or a new one. Empty
// when v is not loaded.
func (m *MasterKeys) Fingerprint(v uint32) string {
	k, ok := m.keys[v]
	if !ok {
		return ""
	}
	h := hmac.New(sha256.New, k)
	h.Write([]byte("custos master key fingerprint v1"))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Primary returns the version that wraps new keys.
func (m *MasterKeys) Primary() uint32 { return m.primary }

// Versions returns every version, oldest first.
func (m *MasterKeys) Versions() []uint32 {
	vs := make([]uint32, 0, len(m.keys))
	for v := range m.keys {
		vs = append(vs, v)
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i] < vs[j] })
	return vs
}

// Path returns the file the keys came from, empty for the environment.
func (m *MasterKeys) Path() string { return m.path }

// LoadMasterKeys reads the master key from env (the value of
// CUSTOS_MASTER_KEY: the file's content, or one base64 key taken as version
// 1) or else from the file at path, creating the file with a new random key
// when it does not exist. created reports a new file.
func LoadMasterKeys(path, env string) (m *MasterKeys, created bool, err error) {
	return loadMasterKeys(path, env, true)
}

// loadMasterKeys is LoadMasterKeys; without create a missing file is a
// *MissingError, never replaced by a new key.
func loadMasterKeys(path, env string, create bool) (m *MasterKeys, created bool, err error) {
	if strings.TrimSpace(env) != "" {
		m, err := parseMasterKeys([]byte(env))
		if err != nil {
			return nil, false, fmt.Errorf("vault: CUSTOS_MASTER_KEY: %w", err)
		}
		return m, false, nil
	}
	if path == "" {
		return nil, false, errors.New("vault: no master key file or CUSTOS_MASTER_KEY")
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !create {
		return nil, false, &MissingError{What: "master key file", Where: path}
	}
	if errors.Is(err, os.ErrNotExist) {
		if b, err = newMasterKeyFile(path); err != nil {
			return nil, false, err
		}
		created = true
	} else if err != nil {
		return nil, false, fmt.Errorf("vault: read master key: %w", err)
	}
	if m, err = parseMasterKeys(b); err != nil {
		return nil, false, fmt.Errorf("vault: master key file %s: %w", path, err)
	}
	m.path, m.stamp = path, stampOf(path)
	return m, created, nil
}

func parseMasterKeys(b []byte) (*MasterKeys, error) {
	m := &MasterKeys{keys: map[uint32][]byte{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		version, encoded := uint64(1), line
		if f := strings.Fields(line); len(f) == 2 {
			v, err := strconv.ParseUint(f[0], 10, 32)
			if err != nil || v == 0 {
				return nil, fmt.Errorf("bad version %q", f[0])
			}
			version, encoded = v, f[1]
		} else if len(m.keys) > 0 || len(f) != 1 {
			return nil, errors.New("want lines of <version> <base64 key>")
		}
		key, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil || len(key) != keySize {
			return nil, fmt.Errorf("version %d is not a base64 %d-byte key", version, keySize)
		}
		if _, dup := m.keys[uint32(version)]; dup {
			return nil, fmt.Errorf("version %d appears twice", version)
		}
		m.keys[uint32(version)] = key
		m.primary = max(m.primary, uint32(version))
	}
	if len(m.keys) == 0 {
		return nil, errors.New("no key")
	}
	return m, sc.Err()
}

func (m *MasterKeys) encode() []byte {
	var b bytes.Buffer
	b.WriteString(masterHeader)
	for _, v := range m.Versions() {
		fmt.Fprintf(&b, "%d %s\n", v, base64.StdEncoding.EncodeToString(m.keys[v]))
	}
	return b.Bytes()
}

func newMasterKeyFile(path string) ([]byte, error) {
	m := &MasterKeys{keys: map[uint32][]byte{1: randomKey()}, primary: 1}
	b := m.encode()
	return b, writeSecretFile(path, b, true)
}

// AddVersion appends a new random master key version to the key file and
// makes it primary (custos keys rotate). Keys wrapped by older versions stay
// readable until re-wrapped; a master key from the environment cannot be
// rotated here.
func (m *MasterKeys) AddVersion() (uint32, error) {
	if m.path == "" {
		return 0, errors.New("vault: the master key comes from CUSTOS_MASTER_KEY; rotate it in the file it came from")
	}
	next := m.primary + 1
	m.keys[next] = randomKey()
	m.primary = next
	if err := writeSecretFile(m.path, m.encode(), false); err != nil {
		return 0, err
	}
	m.stamp = stampOf(m.path)
	return next, nil
}

// RemoveVersion drops a version from the key file (custos keys retire); the
// caller has checked that nothing is wrapped by it any more.
func (m *MasterKeys) RemoveVersion(v uint32) error {
	if m.path == "" {
		return errors.New("vault: the master key comes from CUSTOS_MASTER_KEY; retire versions in the file it came from")
	}
	if v == m.primary {
		return fmt.Errorf("vault: version %d is the primary master key", v)
	}
	if _, ok := m.keys[v]; !ok {
		return fmt.Errorf("vault: no master key version %d", v)
	}
	delete(m.keys, v)
	if err := writeSecretFile(m.path, m.encode(), false); err != nil {
		return err
	}
	m.stamp = stampOf(m.path)
	return nil
}

// wrap seals a key under the primary master key, bound to what it is for.
func (m *MasterKeys) wrap(key []byte, purpose string) (uint32, []byte, error) {
	sealed, err := sealBytes(m.keys[m.primary], key, []byte(purpose))
	return m.primary, sealed, err
}

// errNotLoaded marks an unwrap by a version this process has not loaded:
// another process may have added it (custos keys rotate), so the file is
// read again before the miss is an error.
var errNotLoaded = errors.New("is not loaded")

// unwrap opens a key wrapped by version v for purpose.
func (m *MasterKeys) unwrap(v uint32, wrapped []byte, purpose string) ([]byte, error) {
	k, ok := m.keys[v]
	if !ok {
		return nil, fmt.Errorf("vault: master key version %d %w", v, errNotLoaded)
	}
	key, err := openBytes(k, wrapped, []byte(purpose))
	if err != nil {
		return nil, fmt.Errorf("vault: unwrap %s with master key version %d: %w", purpose, v, err)
	}
	return key, nil
}

func randomKey() []byte {
	k := make([]byte, keySize)
	rand.Read(k) // crypto/rand.Read never fails (Go 1.24+)
	return k
}

// writeSecretFile writes a key file readable only by its owner, atomically
// (a crash leaves the old file or the new one, never half of one). With
// exclusive it refuses to replace an existing file.
func writeSecretFile(path string, b []byte, exclusive bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("vault: create key directory: %w", err)
	}
	if exclusive {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("vault: create key file: %w", err)
		}
		if _, err := f.Write(b); err != nil {
			f.Close()
			return fmt.Errorf("vault: write key file: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("vault: sync key file: %w", err)
		}
		return f.Close()
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("vault: write key file: %w", err)
	}
	if f, err := os.Open(tmp); err == nil {
		f.Sync()
		f.Close()
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("vault: replace key file: %w", err)
	}
	return nil
}
