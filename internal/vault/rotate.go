package vault

import (
	"context"
	"fmt"
)

// RotateMaster adds a master key version that wraps every new key from now
// on (custos keys rotate). Existing keys stay wrapped by their version
// until Rewrap; other instances pick the new version up on restart, and
// until then keep unwrapping with the versions they have.
func (v *Vault) RotateMaster() (uint32, error) {
	v.masterMu.Lock()
	defer v.masterMu.Unlock()
	return v.master.AddVersion()
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
	primary := v.master.Primary()
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
			plain, err := v.master.unwrap(k.version, k.wrapped, dataKeyPurpose(k.id))
			if err != nil {
				return done, err
			}
			nv, wrapped, err := v.master.wrap(plain, dataKeyPurpose(k.id))
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
	n, err := v.rewrapBlindKeys(ctx, primary)
	return done + n, err
}

func (v *Vault) rewrapBlindKeys(ctx context.Context, primary uint32) (int, error) {
	stored, err := v.ks.blindKeys(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range stored {
		if s.wrapped.version == primary || s.state == blindRetired {
			continue
		}
		plain, err := v.master.unwrap(s.wrapped.version, s.wrapped.wrapped, blindPurpose(s.version))
		if err != nil {
			return n, err
		}
		nv, wrapped, err := v.master.wrap(plain, blindPurpose(s.version))
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
	use, err := v.ks.versionUse(ctx)
	if err != nil {
		return err
	}
	if n := use[version]; n > 0 {
		return fmt.Errorf("vault: master key version %d still wraps %d keys; run custos keys rewrap first", version, n)
	}
	return v.master.RemoveVersion(version)
}
