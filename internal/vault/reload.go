package vault

import (
	"bytes"
	"errors"
	"fmt"
)

// ReloadMaster reads the master key file again, so versions another process
// added (custos keys rotate) or retired take effect here without a restart.
// It reports whether the versions changed. A master key from the
// environment never changes while Custos runs.
func (v *Vault) ReloadMaster() (bool, error) {
	v.masterMu.Lock()
	defer v.masterMu.Unlock()
	return v.reloadMasterLocked()
}

func (v *Vault) reloadMasterLocked() (bool, error) {
	m := v.Master()
	if m.path == "" {
		return false, nil
	}
	fresh, _, err := loadMasterKeys(m.path, "", false)
	if err != nil {
		return false, fmt.Errorf("vault: reload master key: %w", err)
	}
	// A version never changes its key: a file that says otherwise is not
	// this database's master key (replaced by mistake), and keeping what is
	// loaded is safer than wrapping new keys with a stranger's.
	changed := len(fresh.keys) != len(m.keys) || fresh.primary != m.primary
	for ver, k := range fresh.keys {
		old, ok := m.keys[ver]
		if ok && !bytes.Equal(old, k) {
			return false, fmt.Errorf("vault: master key file %s now holds a different version %d: it is not this server's master key; restore it from the key backup", m.path, ver)
		}
		changed = changed || !ok
	}
	if !changed {
		if fresh.stamp != m.stamp {
			m = m.clone()
			m.stamp = fresh.stamp
			v.master.Store(m)
		}
		return false, nil
	}
	v.master.Store(fresh)
	return true, nil
}

// wrapMaster returns the master key versions to wrap a new key with,
// reading the file again first when it changed since it was read (one stat):
// a key wrapped by a version a rotation has since superseded would escape
// the re-wrap running now and keep the old version from being retired.
func (v *Vault) wrapMaster() (*MasterKeys, error) {
	m := v.Master()
	if m.path == "" || stampOf(m.path) == m.stamp {
		return m, nil
	}
	if _, err := v.ReloadMaster(); err != nil {
		return nil, err
	}
	return v.Master(), nil
}

// wrap seals a new key under the current primary master key version.
func (v *Vault) wrap(key []byte, purpose string) (uint32, []byte, error) {
	m, err := v.wrapMaster()
	if err != nil {
		return 0, nil, err
	}
	return m.wrap(key, purpose)
}

// unwrap opens a wrapped key; a version not loaded here makes it read the
// master key file once more (another process may have rotated and
// re-wrapped) before the miss is an error.
func (v *Vault) unwrap(version uint32, wrapped []byte, purpose string) ([]byte, error) {
	key, err := v.Master().unwrap(version, wrapped, purpose)
	if !errors.Is(err, errNotLoaded) {
		return key, err
	}
	if changed, rerr := v.ReloadMaster(); rerr != nil || !changed {
		return nil, errors.Join(err, rerr)
	}
	return v.Master().unwrap(version, wrapped, purpose)
}
