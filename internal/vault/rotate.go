package vault

import (
	"context"
	"fmt"
)

// RotateMaster adds a master key version that wraps every new key from now
// on (custos keys rotate). Existing keys stay wrapped by their version
// until Rewrap. Running servers on the same key file load the new version
// when they next wrap a key, when they meet a key wrapped by it, and every
// MasterReload (see ReloadMaster).
func (v *Vault) RotateMaster() (uint32, error) {
	v.masterMu.Lock()
	defer v.masterMu.Unlock()
	// Start from the file, not from memory: another process may have
	// rotated since this one loaded it.
	if _, err := v.reloadMasterLocked(); err != nil {
		return 0, err
	}
	m := v.Master().clone()
	next, err := m.AddVersion()
	if err != nil {
		return 0, err
	}
	v.master.Store(m)
	return next, nil
}

// RewrapProgress reports a re-wrap's progress: keys done so far.
type RewrapProgress func(done int)

// Rewrap re-wraps every data key and blind-index key not wrapped by the
// primary master key version, in batches of batch keys, calling progress
// after each. It works online (readers keep unwrapping either wrapping; each
// key is replaced only if still wrapped as read) and is resumable: after a
// crash, running it again continues with what is left.
func (v *Vault) Rewrap(ctx context.Context, batch int, progress RewrapProgress) (int, error) {
	if batch <= 0 {
		batch = 500
	}
	m, err := v.wrapMaster()
	if err != nil {
		return 0, err
	}
	primary := m.Primary()
	done, after := 0, ""
	for {
		keys, err := v.ks.keysNotWrappedBy(ctx, primary, after, batch)
		if err != nil {
			return done, err
		}
		if len(keys) == 0 {
			break
		}
		for _, k := range keys {
			plain, err := v.unwrap(k.version, k.wrapped, dataKeyPurpose(k.id))
			if err != nil {
				return done, err
			}
			nv, wrapped, err := m.wrap(plain, dataKeyPurpose(k.id))
			if err != nil {
				return done, err
			}
			if err := v.ks.rewrapKey(ctx, wrappedKey{id: k.id, version: nv, wrapped: wrapped}, k.version); err != nil {
				return done, err
			}
			after = k.id
		}
		done += len(keys)
		if progress != nil {
			progress(done)
		}
		if err := ctx.Err(); err != nil {
			return done, err
		}
	}
	n, err := v.rewrapBlindKeys(ctx, m)
	return done + n, err
}

func (v *Vault) rewrapBlindKeys(ctx context.Context, m *MasterKeys) (int, error) {
	primary := m.Primary()
	stored, err := v.ks.blindKeys(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range stored {
		if s.wrapped.version == primary || s.state == blindRetired {
			continue
		}
		plain, err := v.unwrap(s.wrapped.version, s.wrapped.wrapped, blindPurpose(s.version))
		if err != nil {
			return n, err
		}
		nv, wrapped, err := m.wrap(plain, blindPurpose(s.version))
		if err != nil {
			return n, err
		}
		if err := v.ks.rewrapBlindKey(ctx, s.version, wrappedKey{version: nv, wrapped: wrapped}, s.wrapped.version); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// MasterUse counts the keys wrapped by each master key version.
func (v *Vault) MasterUse(ctx context.Context) (map[uint32]int64, error) { return v.ks.versionUse(ctx) }

// RetireMaster removes a master key version from the key file, only when no
// key is wrapped by it any more (custos keys retire).
func (v *Vault) RetireMaster(ctx context.Context, version uint32) error {
	v.masterMu.Lock()
	defer v.masterMu.Unlock()
	if _, err := v.reloadMasterLocked(); err != nil {
		return err
	}
	use, err := v.ks.versionUse(ctx)
	if err != nil {
		return err
	}
	if n := use[version]; n > 0 {
		return fmt.Errorf("vault: master key version %d still wraps %d keys; run custos keys rewrap first", version, n)
	}
	m := v.Master().clone()
	if err := m.RemoveVersion(version); err != nil {
		return err
	}
	v.master.Store(m)
	return nil
}
