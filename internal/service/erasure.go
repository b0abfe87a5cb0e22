package service

import (
	"context"
	"fmt"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// Erasure (PIPL Art. 47, GDPR Art. 17). Erasing a person destroys their
// data key in the key store and in every key-store snapshot, leaving a
// tombstone there, and removes what is left of them from the live database
// (their sealed fields, index rows and versions). The records stay, with
// no one in them, so follow-ups, opportunities and the audit trail keep
// their links; the audit trail never held their values, so it still
// verifies. Every data backup still holds their ciphertext, which no key
// opens any more: a restored backup is reconciled at start-up
// (ReconcileErasures) before anything is served.

// ErasePerson erases the person behind a contact or lead — and every record
// sealed under the same key (the lead and the contact it became). It is
// for privacy officers and administrators with a fresh second factor,
// refused while the person is under a legal hold, audited, and returns the
// records erased.
func (s *Service) ErasePerson(ctx context.Context, a *access.Actor, o crm.Object, id int64) ([]crm.PersonRef, error) {
	if o != crm.ObjContact && o != crm.ObjLead {
		return nil, crm.ErrNotFound(string(o))
	}
	if err := s.requirePrivacy(ctx, a, "privacy.erase"); err != nil {
		return nil, err
	}
	if err := s.requireStepUp(ctx, a, "privacy.erase"); err != nil {
		return nil, err
	}
	var erased []crm.PersonRef
	var key string
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		var err error
		erased, key, err = s.erasePersonTx(ctx, tx, a, o, id)
		return err
	})
	if err != nil {
		s.auditHeld(ctx, a, "privacy.erase", o, id, err)
		return nil, err
	}
	return erased, s.destroyKey(ctx, key)
}

// erasePersonTx removes a person's remains from the database inside tx and
// withdraws their consents; the caller destroys the key (destroyKey) once
// tx has committed. A legal hold refuses it.
func (s *Service) erasePersonTx(ctx context.Context, tx *store.Tx, a *access.Actor, o crm.Object, id int64) ([]crm.PersonRef, string, error) {
	key, err := tx.PersonKey(ctx, o, id)
	if err != nil {
		return nil, "", err
	}
	if key == "" {
		return nil, "", crm.ErrNotFound(string(o))
	}
	if err := refuseHeld(ctx, tx, key); err != nil {
		return nil, "", err
	}
	erased, err := tx.PeopleWithKeys(ctx, []string{key})
	if err != nil {
		return nil, "", err
	}
	for _, p := range erased {
		if _, err := tx.ErasePersonRemains(ctx, p.Object, p.ID); err != nil {
			return nil, "", err
		}
	}
	// What was written about them in follow-ups goes with them.
	followUps, err := tx.EraseFollowUpsUnder(ctx, key)
	if err != nil {
		return nil, "", err
	}
	// Nobody may be contacted on a consent given by a person who is gone.
	if _, err := tx.WithdrawConsents(ctx, key, "", "", s.clock(), a.UserID); err != nil {
		return nil, "", err
	}
	return erased, key, s.audit(ctx, tx, a, "privacy.erase", o, id, map[string]any{"records": refsOf(erased), "follow_ups": followUps})
}

// destroyKey destroys an erased person's data key, and the keys of the
// people merged into them (their data was re-sealed under this key, but
// copies of it in backups made before the merge are under their own). It
// runs after the data commits: should it fail, the person is already gone
// from the live database and running the erasure again destroys the keys
// (it is idempotent).
func (s *Service) destroyKey(ctx context.Context, key string) error {
	keys := []string{key}
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		merged, err := tx.MergedKeysInto(ctx, keys)
		keys = append(keys, merged...)
		return err
	})
	for _, k := range keys {
		if err == nil {
			err = s.vault.Erase(ctx, k)
		}
	}
	if err != nil {
		return fmt.Errorf("service: destroy the data key (run the erasure again): %w", err)
	}
	return nil
}

func refsOf(ps []crm.PersonRef) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = fmt.Sprintf("%s:%d", p.Object, p.ID)
	}
	return out
}

// ReconcileErasures applies every erasure recorded in the key store to the
// database — which matters after a data backup from before an erasure was
// restored: the erased people's remains (sealed fields no key opens, and
// blind index rows that search would still match) are removed before
// anything is served. It returns the records cleaned, and audits them.
func (s *Service) ReconcileErasures(ctx context.Context) (int, error) {
	cleaned, after := 0, ""
	for {
		keys, err := s.vault.Tombstones(ctx, after, 500)
		if err != nil || len(keys) == 0 {
			return cleaned, err
		}
		after = keys[len(keys)-1]
		err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
			people, err := tx.PeopleWithKeys(ctx, keys)
			if err != nil {
				return err
			}
			var done []crm.PersonRef
			followUps := 0
			for _, k := range keys {
				n, err := tx.EraseFollowUpsUnder(ctx, k)
				if err != nil {
					return err
				}
				followUps += n
			}
			for _, p := range people {
				changed, err := tx.ErasePersonRemains(ctx, p.Object, p.ID)
				if err != nil {
					return err
				}
				if changed {
					done = append(done, p)
					// The backup still had the person's consents live.
					if _, err := tx.WithdrawConsents(ctx, p.Key, "", "", s.clock(), 0); err != nil {
						return err
					}
				}
			}
			if len(done) == 0 && followUps == 0 {
				return nil
			}
			cleaned += len(done) + followUps
			return s.audit(ctx, tx, access.System("erasure reconciliation"), "privacy.erase_reconciled", "", 0,
				map[string]any{"records": refsOf(done), "follow_ups": followUps})
		})
		if err != nil {
			return cleaned, err
		}
	}
}
