package vault

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
)

// Blind indexes: a searchable value (a normalised phone or e-mail, a name's
// word or Chinese bigram) is stored in the index tables only as a keyed
// HMAC, prefixed with the blind-index key version ("b1:…"). Equal inputs give
// equal terms, so exact search and duplicate checks work; the index holds no
// plaintext and, without the key, cannot be reversed by guessing.
//
// Versions let the key change online: a new version starts "building" —
// writes index under every live version while a rebuild re-indexes old
// records — and search keeps using the newest "active" version until the
// rebuild completes, so no record drops out of search meanwhile.

// Blind-index key states.
const (
	blindBuilding = "building"
	blindActive   = "active"
	blindRetired  = "retired"
)

// blindTagBytes is how much of the HMAC a term keeps: 128 bits make a
// collision between two different values practically impossible.
const blindTagBytes = 16

type blindKey struct {
	version uint32
	key     []byte
	state   string
}

func blindPurpose(version uint32) string {
	return "custos blind-index key v" + strconv.Itoa(int(version))
}

// loadBlindKeys reads the live blind-index keys, creating version 1 on a
// new key store.
func (v *Vault) loadBlindKeys(ctx context.Context) error {
	stored, err := v.ks.blindKeys(ctx)
	if err != nil {
		return err
	}
	if len(stored) == 0 {
		if err := v.addBlindKey(ctx, 1, blindActive); err != nil {
			return err
		}
		if stored, err = v.ks.blindKeys(ctx); err != nil {
			return err
		}
	}
	var live []blindKey
	for _, s := range stored {
		if s.state == blindRetired {
			continue
		}
		key, err := v.unwrap(s.wrapped.version, s.wrapped.wrapped, blindPurpose(s.version))
		if errors.Is(err, ErrIntegrity) {
			// The one key every key store holds does not open: the master
			// key and the key store are not each other's.
			return fmt.Errorf("%w: %s does not open the key store %s (%v)", ErrMasterMismatch, v.masterSource(), v.ks.where, err)
		}
		if err != nil {
			return err
		}
		live = append(live, blindKey{version: s.version, key: key, state: s.state})
	}
	if len(live) == 0 {
		return fmt.Errorf("vault: no live blind-index key in the key store")
	}
	v.blindMu.Lock()
	v.blind = live
	v.blindMu.Unlock()
	return nil
}

func (v *Vault) addBlindKey(ctx context.Context, version uint32, state string) error {
	mv, wrapped, err := v.wrap(randomKey(), blindPurpose(version))
	if err != nil {
		return err
	}
	return v.ks.putBlindKey(ctx, storedBlindKey{version: version, wrapped: wrappedKey{version: mv, wrapped: wrapped}, state: state},
		v.now().UnixMilli())
}

// ReloadBlindKeys picks up blind-index key changes made by another process
// (custos keys on the command line, or another instance).
func (v *Vault) ReloadBlindKeys(ctx context.Context) error { return v.loadBlindKeys(ctx) }

// searchKey is the newest active version: what searches look terms up by.
func (v *Vault) searchKey() blindKey {
	v.blindMu.RLock()
	defer v.blindMu.RUnlock()
	var k blindKey
	for _, b := range v.blind {
		if b.state == blindActive {
			k = b
		}
	}
	return k
}

// SearchTerm blinds a value for looking it up. domain separates kinds of
// values that must never match each other ("k" for exact keys, "t" for
// name terms).
func (v *Vault) SearchTerm(domain, value string) string {
	return blindTerm(v.searchKey(), domain, value)
}

// IndexTerms blinds a value for storing in an index: one term per live
// version, so a record stays findable while a new version is built.
func (v *Vault) IndexTerms(domain, value string) []string {
	v.blindMu.RLock()
	defer v.blindMu.RUnlock()
	out := make([]string, 0, len(v.blind))
	for _, b := range v.blind {
		out = append(out, blindTerm(b, domain, value))
	}
	return out
}

// BlindVersions returns the live blind-index versions and their states.
func (v *Vault) BlindVersions() map[uint32]string {
	v.blindMu.RLock()
	defer v.blindMu.RUnlock()
	out := map[uint32]string{}
	for _, b := range v.blind {
		out[b.version] = b.state
	}
	return out
}

func blindTerm(k blindKey, domain, value string) string {
	mac := hmac.New(sha256.New, k.key)
	mac.Write([]byte(domain))
	mac.Write([]byte{0})
	mac.Write([]byte(value))
	return "b" + strconv.Itoa(int(k.version)) + ":" + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:blindTagBytes])
}

// TermPrefix is the prefix of every term of a blind-index version, for
// dropping a retired version's rows.
func TermPrefix(version uint32) string { return "b" + strconv.Itoa(int(version)) + ":" }

// StartBlindRotation adds a new blind-index version in the building state
// and returns it. Writes index under it from now on (after every instance
// reloads its keys); a rebuild then re-indexes every record and
// FinishBlindRotation makes it the one searches use.
func (v *Vault) StartBlindRotation(ctx context.Context) (uint32, error) {
	stored, err := v.ks.blindKeys(ctx)
	if err != nil {
		return 0, err
	}
	var next uint32 = 1
	for _, s := range stored {
		if s.state == blindBuilding {
			return s.version, v.loadBlindKeys(ctx) // resume the unfinished one
		}
		next = max(next, s.version+1)
	}
	if err := v.addBlindKey(ctx, next, blindBuilding); err != nil {
		return 0, err
	}
	return next, v.loadBlindKeys(ctx)
}

// FinishBlindRotation activates the building version and retires every
// older one; the caller has re-indexed every record and then drops the
// retired versions' index rows (TermPrefix).
func (v *Vault) FinishBlindRotation(ctx context.Context, version uint32) ([]uint32, error) {
	stored, err := v.ks.blindKeys(ctx)
	if err != nil {
		return nil, err
	}
	var retired []uint32
	for _, s := range stored {
		switch {
		case s.version == version:
			if err := v.ks.setBlindState(ctx, s.version, blindActive); err != nil {
				return nil, err
			}
		case s.version < version && s.state != blindRetired:
			if err := v.ks.setBlindState(ctx, s.version, blindRetired); err != nil {
				return nil, err
			}
			retired = append(retired, s.version)
		}
	}
	return retired, v.loadBlindKeys(ctx)
}
