package service

import (
	"context"
	"strconv"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// Re-encryption (custos keys reencrypt) is for the day the key store and
// the database leaked together: re-wrapping would not help, since the old
// data keys are known. Every person's data — record, custom values,
// versions, pending approval changes — is re-sealed under a new data key
// and the old key destroyed (from the key store and its snapshots). It runs
// online, person by person, each in its own transaction, and resumes after
// a crash: keys it made itself (newer than its start, kept in a setting)
// are left alone. The old keys are marked superseded in the key store and
// destroyed by DestroySupersededKeys afterwards, so a read that fetched a
// row just before it moved still finds its key.

const reencryptSetting = "keys.reencrypt_started_at"

// ReencryptPeople re-seals every person under a new data key and returns
// how many keys it replaced.
func (s *Service) ReencryptPeople(ctx context.Context, a *access.Actor, batch int, progress func(done int)) (int, error) {
	if err := s.requireAdmin(ctx, a, "keys.reencrypt"); err != nil {
		return 0, err
	}
	if batch <= 0 {
		batch = 200
	}
	started, err := s.reencryptStart(ctx)
	if err != nil {
		return 0, err
	}
	s.vault.DropKeyPool() // keys made before the start would pass for old ones
	done, after := 0, ""
	for {
		var keys []string
		err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
			var err error
			keys, err = tx.PersonKeysAfter(ctx, after, batch)
			return err
		})
		if err != nil || len(keys) == 0 {
			if err == nil {
				err = s.db.WriteTx(ctx, func(tx *store.Tx) error { return tx.PutSetting(ctx, reencryptSetting, "") })
			}
			return done, s.keyEvent(ctx, a, "keys.reencrypt", map[string]any{"people": done,
				"next": "custos keys destroy-superseded, once reads in flight are done"}, err)
		}
		after = keys[len(keys)-1]
		old, err := s.vault.CreatedBefore(ctx, keys, started)
		if err != nil {
			return done, err
		}
		for _, k := range keys {
			if !old[k] {
				continue
			}
			fresh, err := s.newPersonKey(ctx)
			if err == nil {
				err = s.vault.Supersede(ctx, k)
			}
			if err == nil {
				err = s.moveKey(ctx, k, fresh)
			}
			if err != nil {
				return done, s.keyEvent(ctx, a, "keys.reencrypt", map[string]any{"people": done}, err)
			}
			done++
		}
		if progress != nil {
			progress(done)
		}
	}
}

// reencryptStart returns when the running re-encryption began, recording
// now if none is running.
func (s *Service) reencryptStart(ctx context.Context) (time.Time, error) {
	var started time.Time
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		v, err := tx.GetSetting(ctx, reencryptSetting)
		if err != nil {
			return err
		}
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms > 0 {
			started = time.UnixMilli(ms)
			return nil
		}
		started = s.clock()
		return tx.PutSetting(ctx, reencryptSetting, strconv.FormatInt(started.UnixMilli(), 10))
	})
	return started, err
}

// moveKey re-seals everything under the old key with the fresh one, in
// one transaction.
func (s *Service) moveKey(ctx context.Context, old, fresh string) error {
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		refs, err := tx.KeyHolders(ctx, []string{old})
		if err != nil {
			return err
		}
		for _, r := range refs {
			if r.Object == crm.ObjCustomer { // holds no sealed value: its follow-ups do
				err = tx.SetCustomerDataKey(ctx, r.ID, fresh)
			} else {
				err = s.reseal(ctx, tx, r, old, fresh)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// DestroySupersededKeys destroys the data keys a re-encryption replaced
// (custos keys destroy-superseded, run after it once reads in flight are
// done). A record an edit wrote back under an
// old key meanwhile — on PostgreSQL an edit may read before the move and
// commit after — is moved to a fresh key first.
func (s *Service) DestroySupersededKeys(ctx context.Context, a *access.Actor) (int, error) {
	if err := s.requireAdmin(ctx, a, "keys.destroy_superseded"); err != nil {
		return 0, err
	}
	n, err := s.vault.DestroySuperseded(ctx, func(old string) (bool, error) {
		var refs []crm.PersonRef
		err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
			var err error
			refs, err = tx.KeyHolders(ctx, []string{old})
			return err
		})
		if err != nil || len(refs) == 0 {
			return false, err
		}
		fresh, err := s.newPersonKey(ctx)
		if err == nil {
			err = s.moveKey(ctx, old, fresh)
		}
		return false, err // moved now: nothing is under the old key any more
	})
	if n == 0 && err == nil {
		return 0, nil
	}
	return n, s.keyEvent(ctx, a, "keys.destroy_superseded", map[string]any{"keys": n}, err)
}

// reseal re-seals one record, its versions and its pending approval
// changes from the old key to the fresh one.
func (s *Service) reseal(ctx context.Context, tx *store.Tx, r crm.PersonRef, old, fresh string) error {
	p, err := tx.AnyRecord(ctx, r.Object, r.ID)
	if err != nil {
		return err
	}
	if err := s.openRecord(ctx, p); err != nil {
		return err
	}
	rec, _, _ := sealedOf(p)
	rec.DataKey = fresh
	if err := s.sealRecord(ctx, tx, p); err != nil {
		return err
	}
	if err := tx.RewriteSealedPerson(ctx, p); err != nil {
		return err
	}
	versions, err := tx.AllVersions(ctx, r.Object, r.ID)
	if err != nil {
		return err
	}
	for _, v := range versions {
		fields, err := s.openJSON(ctx, r.Object, old, v.Fields)
		if err == nil {
			fields, err = s.sealJSON(ctx, tx, r.Object, fresh, fields)
		}
		if err == nil {
			err = tx.SetVersionFields(ctx, r.Object, r.ID, v.Version, fields)
		}
		if err != nil {
			return err
		}
	}
	pending, err := tx.ListApprovalRequests(ctx, store.ApprovalFilter{Status: crm.ApprovalPending, Limit: 500})
	if err != nil {
		return err
	}
	for _, req := range pending {
		if req.Object != r.Object || req.RecordID != r.ID || len(req.Payload) == 0 {
			continue
		}
		payload, err := s.openJSON(ctx, r.Object, old, req.Payload)
		if err == nil {
			payload, err = s.sealJSON(ctx, tx, r.Object, fresh, payload)
		}
		if err == nil {
			err = tx.SetApprovalPayload(ctx, req.ID, payload)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
