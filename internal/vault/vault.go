package vault

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrErased is returned for data of a person whose key was destroyed by an
// erasure: the data is gone for good, whatever backup it came from.
var ErrErased = errors.New("vault: this person's data was erased")

// ErrKeyMissing is returned when a record names a data key the key store
// does not hold and never erased: the data was restored without its key
// store, or into the wrong one.
var ErrKeyMissing = errors.New("vault: data key not found in the key store")

// ErrMasterMismatch is returned when the master key does not open the key
// store's keys: one of the two belongs to another database.
var ErrMasterMismatch = errors.New("vault: the master key is not the key store's")

// masterSource names where the master key came from, for messages.
func (v *Vault) masterSource() string {
	if p := v.Master().Path(); p != "" {
		return "the master key file " + p
	}
	return "CUSTOS_MASTER_KEY"
}

// sealedPrefix marks a sealed field value (format version 1).
const sealedPrefix = "ev1:"

// Options configure Open.
type Options struct {
	// MasterKeyFile is the master key file (created when missing, unless
	// MasterKeyEnv is set or MustExist).
	MasterKeyFile string
	// MustExist forbids making key material: the database already holds
	// data sealed under its keys, so a missing master key file or key store
	// is a *MissingError, never replaced by a new, empty one.
	MustExist bool
	// MasterKeyEnv is the value of CUSTOS_MASTER_KEY, if any; it wins.
	MasterKeyEnv string
	// KeyStore is the key store: a SQLite file path or a postgres:// URL.
	KeyStore string
	// SnapshotDir holds key-store snapshots, which erasure rewrites.
	SnapshotDir string
	// CacheTTL bounds how long an unwrapped data key stays in memory; an
	// erasure on another instance takes effect here within it. Zero: 30 s.
	CacheTTL time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Created reports what Open made new, so start-up can say what to back up.
type Created struct {
	MasterKey bool
	KeyStore  bool
}

// Vault seals and opens personal data. It is safe for concurrent use.
type Vault struct {
	master   atomic.Pointer[MasterKeys] // replaced whole by a rotation or a reload
	ks       *keyStore
	snapDir  string
	ttl      time.Duration
	now      func() time.Time
	mu       sync.Mutex
	cache    map[string]cachedKey
	blindMu  sync.RWMutex
	blind    []blindKey // every non-retired version, oldest first
	masterMu sync.Mutex // serialises master key file changes and reloads
	// systemKeys remembers the system key ids known to exist (they are never
	// erased), so using one costs no key-store query.
	systemKeys sync.Map
	poolMu     sync.Mutex
	pool       []pooledKey // person keys made ahead (see NewPersonKey)
}

type cachedKey struct {
	key     []byte
	expires time.Time
}

// Open loads the master key and opens the key store, creating either when
// new, and makes sure a blind-index key exists.
func Open(ctx context.Context, opt Options) (*Vault, Created, error) {
	var c Created
	// The key store is looked for first: a missing key store must not leave
	// a stray new master key file behind.
	ks, createdKS, err := openKeyStore(ctx, opt.KeyStore, !opt.MustExist)
	if err != nil {
		return nil, c, err
	}
	m, created, err := loadMasterKeys(opt.MasterKeyFile, opt.MasterKeyEnv, !opt.MustExist)
	if err != nil {
		ks.close()
		return nil, c, err
	}
	c.MasterKey, c.KeyStore = created, createdKS
	v := &Vault{ks: ks, snapDir: opt.SnapshotDir, ttl: opt.CacheTTL, now: opt.Now, cache: map[string]cachedKey{}}
	v.master.Store(m)
	if v.ttl <= 0 {
		v.ttl = 30 * time.Second
	}
	if v.now == nil {
		v.now = time.Now
	}
	if err := v.loadBlindKeys(ctx); err != nil {
		ks.close()
		return nil, c, err
	}
	return v, c, nil
}

// Close closes the key store.
func (v *Vault) Close() error { return v.ks.close() }

// Master returns the master key versions loaded now.
func (v *Vault) Master() *MasterKeys { return v.master.Load() }

// KeyStoreLocation names the key store (a file, or a URL without password).
func (v *Vault) KeyStoreLocation() string { return v.ks.where }

// KeyStoreID is the key store's identity, which the database records.
func (v *Vault) KeyStoreID() string { return v.ks.id }

// BindDatabase records in the key store the id of the database whose keys
// it holds, unless one is recorded already, and returns the one recorded:
// a different one means this key store belongs to another database.
func (v *Vault) BindDatabase(ctx context.Context, databaseID string) (string, error) {
	return v.ks.bindDatabase(ctx, databaseID)
}

// KeyStoreIsFile reports a SQLite file key store.
func (v *Vault) KeyStoreIsFile() bool { return !v.ks.postgres }

// NewPersonKey creates a data key for one person, stores it wrapped and
// returns its id, which the person's records carry.
//
// Keys are made and stored ahead, personKeyBatch at a time in one key-store
// transaction, so creating people costs one key-store commit per batch, not
// one each (an import of thousands of people waits on no fsync per row). A
// key taken from the batch is already durable; keys left unused when the
// process stops stay in the key store, wrapped and referenced by nothing.
func (v *Vault) NewPersonKey(ctx context.Context) (string, error) {
	v.poolMu.Lock()
	defer v.poolMu.Unlock()
	if err := v.fillPool(ctx, 1); err != nil {
		return "", err
	}
	k := v.pool[len(v.pool)-1]
	v.pool = v.pool[:len(v.pool)-1]
	v.remember(k.id, k.key)
	return k.id, nil
}

// ReservePersonKeys makes sure the next n NewPersonKey calls take keys made
// ahead, making what is missing in one key-store commit: an import batch
// calls it before its write transaction, so no row waits inside it on the
// key store's fsync.
func (v *Vault) ReservePersonKeys(ctx context.Context, n int) error {
	v.poolMu.Lock()
	defer v.poolMu.Unlock()
	return v.fillPool(ctx, n)
}

// fillPool makes keys ahead until the pool holds at least n, in batches of
// at least personKeyBatch. poolMu is held.
func (v *Vault) fillPool(ctx context.Context, n int) error {
	if len(v.pool) >= n {
		return nil
	}
	m, err := v.wrapMaster()
	if err != nil {
		return err
	}
	count := max(personKeyBatch, n-len(v.pool))
	batch := make([]wrappedKey, count)
	plain := make([][]byte, count)
	for i := range batch {
		b := make([]byte, 16)
		rand.Read(b)
		id := "pk_" + hex.EncodeToString(b)
		plain[i] = randomKey()
		version, wrapped, err := m.wrap(plain[i], dataKeyPurpose(id))
		if err != nil {
			return err
		}
		batch[i] = wrappedKey{id: id, version: version, wrapped: wrapped}
	}
	if err := v.ks.putDataKeys(ctx, batch, v.now().UnixMilli()); err != nil {
		return err
	}
	for i, k := range batch {
		v.pool = append(v.pool, pooledKey{id: k.id, key: plain[i]})
	}
	return nil
}

// DropKeyPool forgets the keys made ahead, so every key handed out from now
// on is created from now on (a re-encryption tells its own keys by age).
func (v *Vault) DropKeyPool() {
	v.poolMu.Lock()
	v.pool = nil
	v.poolMu.Unlock()
}

// personKeyBatch is how many person keys one key-store commit makes.
const personKeyBatch = 64

type pooledKey struct {
	id  string
	key []byte
}

// SystemKey returns the id of a named data key for Custos's own secrets
// (such as users' TOTP secrets), creating it on first use; concurrent first
// uses by several instances agree on one key.
func (v *Vault) SystemKey(ctx context.Context, name string) (string, error) {
	id := "sys_" + name
	if _, known := v.systemKeys.Load(id); known {
		return id, nil
	}
	stored, _, err := v.ks.dataKeys(ctx, []string{id})
	if err == nil && len(stored) == 1 {
		v.systemKeys.Store(id, true)
	}
	if err != nil || len(stored) == 1 {
		return id, err
	}
	version, wrapped, err := v.wrap(randomKey(), dataKeyPurpose(id))
	if err != nil {
		return "", err
	}
	if err := v.ks.putDataKeyIfAbsent(ctx, wrappedKey{id: id, version: version, wrapped: wrapped}, v.now().UnixMilli()); err != nil {
		return "", err
	}
	return id, nil
}

func dataKeyPurpose(id string) string { return "custos data key " + id }

// IsSealed reports whether a stored value is a sealed one.
func IsSealed(s string) bool { return strings.HasPrefix(s, sealedPrefix) }

// Seal encrypts one field's value under the person's key. The field name
// and key id are authenticated with it, so a value moved to another field
// or person fails to open. The empty value stays empty.
func (v *Vault) Seal(ctx context.Context, keyID, field, plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	keys, err := v.DataKeys(ctx, []string{keyID})
	if err != nil {
		return "", err
	}
	return keys.Seal(keyID, field, plain)
}

// Open decrypts one sealed field value.
func (v *Vault) Open(ctx context.Context, keyID, field, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	keys, err := v.DataKeys(ctx, []string{keyID})
	if err != nil {
		return "", err
	}
	return keys.Open(keyID, field, sealed)
}

// KeyRing is a set of unwrapped data keys, loaded in one trip to the key
// store for a page of records.
type KeyRing struct {
	keys   map[string][]byte
	erased map[string]bool
}

// Seal encrypts a field value under the key of keyID.
func (r KeyRing) Seal(keyID, field, plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	key, err := r.key(keyID)
	if err != nil {
		return "", err
	}
	sealed, err := sealBytes(key, []byte(plain), fieldAAD(keyID, field))
	if err != nil {
		return "", err
	}
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(sealed), nil
}

// Open decrypts a field value sealed under keyID. A value that is not
// sealed at all is an integrity error too: sensitive columns hold only
// sealed values.
func (r KeyRing) Open(keyID, field, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	key, err := r.key(keyID)
	if err != nil {
		return "", err
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(sealed, sealedPrefix))
	if !IsSealed(sealed) || err != nil {
		return "", ErrIntegrity
	}
	plain, err := openBytes(key, raw, fieldAAD(keyID, field))
	if err != nil {
		return "", err
	}
	return string(plain), nil
}

// Erased reports whether the person of keyID was erased.
func (r KeyRing) Erased(keyID string) bool { return r.erased[keyID] }

func (r KeyRing) key(id string) ([]byte, error) {
	if r.erased[id] {
		return nil, ErrErased
	}
	k, ok := r.keys[id]
	if !ok {
		return nil, fmt.Errorf("%w (%s)", ErrKeyMissing, id)
	}
	return k, nil
}

func fieldAAD(keyID, field string) []byte { return []byte("custos field v1|" + keyID + "|" + field) }

// DataKeys unwraps the keys of ids (empty ids are skipped), from memory
// where recently used and otherwise in one key-store query. The tombstone
// check comes first: an erased key is never unwrapped, even from a key
// store restored from before the erasure once its tombstone is back.
func (v *Vault) DataKeys(ctx context.Context, ids []string) (KeyRing, error) {
	r := KeyRing{keys: map[string][]byte{}, erased: map[string]bool{}}
	var missing []string
	now := v.now()
	v.mu.Lock()
	for _, id := range ids {
		if id == "" {
			continue
		}
		if c, ok := v.cache[id]; ok && now.Before(c.expires) {
			r.keys[id] = c.key
		} else if _, dup := r.keys[id]; !dup {
			missing = append(missing, id)
		}
	}
	v.mu.Unlock()
	if len(missing) == 0 {
		return r, nil
	}
	stored, erased, err := v.ks.dataKeys(ctx, dedupe(missing))
	if err != nil {
		return r, err
	}
	for id := range erased {
		r.erased[id] = true
		v.forget(id)
	}
	for id, w := range stored {
		key, err := v.unwrap(w.version, w.wrapped, dataKeyPurpose(id))
		if err != nil {
			return r, err
		}
		r.keys[id] = key
		v.remember(id, key)
	}
	return r, nil
}

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func (v *Vault) remember(id string, key []byte) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.cache) > 100_000 { // bound memory; a cold page costs one query
		clear(v.cache)
	}
	v.cache[id] = cachedKey{key: key, expires: v.now().Add(v.ttl)}
}

func (v *Vault) forget(id string) {
	v.mu.Lock()
	delete(v.cache, id)
	v.mu.Unlock()
}

// Erase destroys a person's data key in the key store and in every
// key-store snapshot, leaving a tombstone: every copy of their sealed data,
// in the database or any backup of it, is unreadable from now on.
func (v *Vault) Erase(ctx context.Context, keyID string) error {
	return v.EraseKeys(ctx, []string{keyID})
}

// EraseKeys is Erase for many keys at once (the recycle-bin purge's
// batch): each snapshot is rewritten once for all of them.
func (v *Vault) EraseKeys(ctx context.Context, ids []string) error {
	var erased []string
	for _, id := range ids {
		if id == "" {
			continue
		}
		if err := v.ks.erase(ctx, id, v.now().UnixMilli()); err != nil {
			return err
		}
		v.forget(id)
		erased = append(erased, id)
	}
	if len(erased) == 0 {
		return nil
	}
	return v.eraseFromSnapshots(erased)
}

// CreatedBefore reports which of the data keys ids were created before t:
// a re-encryption started at t leaves the keys it made itself alone, so it
// can resume after a crash without starting over.
func (v *Vault) CreatedBefore(ctx context.Context, ids []string, t time.Time) (map[string]bool, error) {
	return v.ks.createdBefore(ctx, ids, t.UnixMilli())
}

// Supersede marks a data key as replaced (by a re-encryption): it stays
// usable for reads in flight until DestroySuperseded, and the mark lives in
// the key store, so a re-encryption that crashes still destroys it later.
func (v *Vault) Supersede(ctx context.Context, id string) error {
	return v.ks.supersede(ctx, id, v.now().UnixMilli())
}

// DestroySuperseded erases, in batches, every key marked superseded for
// which stillUsed reports no record (a record still under one is moved by
// the caller first and the key retried on the next call). It returns how
// many keys it destroyed.
func (v *Vault) DestroySuperseded(ctx context.Context, stillUsed func(id string) (bool, error)) (int, error) {
	n := 0
	for {
		ids, err := v.ks.superseded(ctx, 500)
		if err != nil || len(ids) == 0 {
			return n, err
		}
		progress := false
		for _, id := range ids {
			used, err := stillUsed(id)
			if err != nil {
				return n, err
			}
			if used {
				continue
			}
			if err := v.Erase(ctx, id); err != nil {
				return n, err
			}
			if err := v.ks.dropSuperseded(ctx, id); err != nil {
				return n, err
			}
			n, progress = n+1, true
		}
		if !progress {
			return n, nil
		}
	}
}

// Erased reports which of ids were erased.
func (v *Vault) Erased(ctx context.Context, ids []string) (map[string]bool, error) {
	_, erased, err := v.ks.dataKeys(ctx, dedupe(ids))
	return erased, err
}

// Tombstones pages through erased key ids in order, for reconciling a
// restored data backup with the key store.
func (v *Vault) Tombstones(ctx context.Context, afterID string, limit int) ([]string, error) {
	return v.ks.tombstones(ctx, afterID, limit)
}
