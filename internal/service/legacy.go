package service

import (
	"context"
	"encoding/json"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/vault"
)

// SealLegacyData upgrades a database written before encryption (schema
// 19): it gives every contact and lead without a data key one, seals their
// personal fields and their stored versions, and replaces plaintext index
// rows by their blind forms. It runs at start-up before serving, in small
// transactions, and is idempotent: a crash midway resumes where it stopped.
// One audit event records what it did.
func (s *Service) SealLegacyData(ctx context.Context) (people, rows int, err error) {
	for _, o := range []crm.Object{crm.ObjLead, crm.ObjContact} {
		for {
			n, err := s.sealLegacyBatch(ctx, o, 200)
			if err != nil {
				return people, rows, err
			}
			if people += n; n == 0 {
				break
			}
		}
	}
	n, err := s.sealLegacyTOTP(ctx)
	if err != nil {
		return people, rows, err
	}
	rows += n
	if n, err = s.sealAddedFields(ctx); err != nil {
		return people, rows, err
	}
	rows += n
	for {
		n, err := s.sealLegacyFollowUps(ctx, 200)
		if err != nil {
			return people, rows, err
		}
		if rows += n; n == 0 {
			break
		}
	}
	for _, terms := range []bool{false, true} {
		for {
			n, err := s.blindLegacyBatch(ctx, terms, 500)
			if err != nil {
				return people, rows, err
			}
			if rows += n; n == 0 {
				break
			}
		}
	}
	if people+rows == 0 {
		return 0, 0, nil
	}
	a := access.System("upgrade")
	err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
		return s.audit(ctx, tx, a, "privacy.seal_legacy", "", 0, map[string]int{"people": people, "index_rows": rows})
	})
	return people, rows, err
}

func (s *Service) sealLegacyBatch(ctx context.Context, o crm.Object, limit int) (int, error) {
	n := 0
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		batch, err := tx.UnsealedPeople(ctx, o, limit)
		if err != nil {
			return err
		}
		for _, p := range batch {
			key, err := s.newPersonKey(ctx)
			if err != nil {
				return err
			}
			ring, err := s.vault.DataKeys(ctx, []string{key})
			if err != nil {
				return err
			}
			sealed := map[string]string{}
			for col, v := range p.Fields {
				if sealed[col], err = ring.Seal(key, col, v); err != nil {
					return err
				}
			}
			if err := tx.SetSealedPerson(ctx, o, p.ID, key, sealed); err != nil {
				return err
			}
			versions, err := tx.AllVersions(ctx, o, p.ID)
			if err != nil {
				return err
			}
			for _, v := range versions {
				fields, err := s.sealJSON(ctx, tx, o, key, v.Fields)
				if err != nil {
					return err
				}
				if err := tx.SetVersionFields(ctx, o, p.ID, v.Version, fields); err != nil {
					return err
				}
			}
		}
		n = len(batch)
		return nil
	})
	return n, err
}

func (s *Service) blindLegacyBatch(ctx context.Context, terms bool, limit int) (int, error) {
	domain := blindKeyDomain
	if terms {
		domain = blindTermDomain
	}
	n := 0
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		batch, err := tx.PlainIndexRows(ctx, terms, limit)
		if err != nil {
			return err
		}
		for _, r := range batch {
			if err := tx.ReplaceIndexRow(ctx, terms, r, s.vault.IndexTerms(domain, r.Value)); err != nil {
				return err
			}
		}
		n = len(batch)
		return nil
	})
	return n, err
}

// sealLegacyTOTP seals TOTP secrets stored before encryption.
func (s *Service) sealLegacyTOTP(ctx context.Context) (int, error) {
	n := 0
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		plain, err := tx.PlainTOTPUsers(ctx)
		if err != nil {
			return err
		}
		for _, c := range plain {
			sealed, err := s.sealTOTP(ctx, c.UserID, c.Secret)
			if err != nil {
				return err
			}
			if err := tx.SetTOTPSecret(ctx, c.UserID, sealed); err != nil {
				return err
			}
		}
		n = len(plain)
		return nil
	})
	return n, err
}

// sealLegacyFollowUps seals the content of up to limit follow-ups written
// before it was sealed, each under the key followUpKey would choose today,
// in one transaction. What was written about a person erased meanwhile is
// emptied, as the erasure would have done. It returns how many it sealed.
func (s *Service) sealLegacyFollowUps(ctx context.Context, limit int) (int, error) {
	n := 0
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		n = 0
		batch, err := tx.UnsealedFollowUps(ctx, limit)
		if err != nil || len(batch) == 0 {
			return err
		}
		for _, f := range batch {
			key, err := s.followUpKey(ctx, tx, f.PersonKey, f.CustomerID)
			if err != nil {
				return err
			}
			content := ""
			if key == f.PersonKey || f.PersonKey == "" {
				if content, err = s.vault.Seal(ctx, key, "content", f.Content); err != nil {
					return err
				}
			} else {
				key = "" // the person was erased: nothing written about them stays (as EraseFollowUpsUnder leaves it)
			}
			if err := tx.SetSealedFollowUp(ctx, f.ID, key, content); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// sealedFieldsSetting records the personal fields the stored data was
// last sealed for, so sealAddedFields walks the versions only once after
// a field joins the list.
const sealedFieldsSetting = "upgrade.sealed_fields"

// sealAddedFields seals what an earlier release kept in plaintext in a
// field sealed since (contact and lead notes): in the rows, in their
// stored versions and in pending approval changes. Each batch is its own
// transaction and re-running it seals only what is still plain.
func (s *Service) sealAddedFields(ctx context.Context) (int, error) {
	var sig []string
	for _, o := range personObjects() {
		sig = append(sig, string(o)+":"+strings.Join(store.SealedColumns(o), ","))
	}
	want := strings.Join(sig, ";")
	var done string
	if err := s.db.ReadTx(ctx, func(tx *store.Tx) (err error) { done, err = tx.GetSetting(ctx, sealedFieldsSetting); return err }); err != nil || done == want {
		return 0, err
	}
	total := 0
	for _, o := range personObjects() {
		for after := int64(0); ; {
			var n int
			err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
				var err error
				n, after, err = s.sealAddedBatch(ctx, tx, o, after, 200)
				return err
			})
			if err != nil {
				return total, err
			}
			if total += n; after == 0 {
				break
			}
		}
	}
	return total, s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := s.sealAddedInRequests(ctx, tx); err != nil {
			return err
		}
		return tx.PutSetting(ctx, sealedFieldsSetting, want)
	})
}

// personObjects lists the objects holding a person's fields in rows of
// their own, in a fixed order (the upgrade's setting names them in it).
// Follow-ups are sealed by sealLegacyFollowUps.
func personObjects() []crm.Object {
	return []crm.Object{crm.ObjContact, crm.ObjLead}
}

// sealAddedBatch seals the plaintext personal fields of up to limit
// records of o after the id after, with their versions. It returns how
// many values it sealed and the last id (0: no more records).
func (s *Service) sealAddedBatch(ctx context.Context, tx *store.Tx, o crm.Object, after int64, limit int) (int, int64, error) {
	people, err := tx.PeopleAfter(ctx, o, after, limit)
	if err != nil || len(people) == 0 {
		return 0, 0, err
	}
	keys := make([]string, len(people))
	for i, p := range people {
		keys[i] = p.Key
	}
	ring, err := s.vault.DataKeys(ctx, keys)
	if err != nil {
		return 0, 0, err
	}
	n := 0
	for _, p := range people {
		if ring.Erased(p.Key) {
			continue
		}
		row, err := tx.PersonColumns(ctx, o, p.ID)
		if err != nil {
			return n, 0, err
		}
		sealed := map[string]string{}
		for col, v := range row {
			if v != "" && !vault.IsSealed(v) {
				if sealed[col], err = ring.Seal(p.Key, col, v); err != nil {
					return n, 0, err
				}
			}
		}
		if err := tx.SetPersonColumns(ctx, o, p.ID, sealed); err != nil {
			return n, 0, err
		}
		n += len(sealed)
		versions, err := tx.AllVersions(ctx, o, p.ID)
		if err != nil {
			return n, 0, err
		}
		for _, v := range versions {
			fields, changed, err := sealPlainNames(ring, p.Key, o, v.Fields)
			if err == nil && changed {
				n++
				err = tx.SetVersionFields(ctx, o, p.ID, v.Version, fields)
			}
			if err != nil {
				return n, 0, err
			}
		}
	}
	return n, people[len(people)-1].ID, nil
}

// sealAddedInRequests seals the plaintext personal fields of the changes
// pending approval requests carry for contacts and leads.
func (s *Service) sealAddedInRequests(ctx context.Context, tx *store.Tx) error {
	pending, err := tx.ListApprovalRequests(ctx, store.ApprovalFilter{Status: crm.ApprovalPending, Limit: 500})
	if err != nil {
		return err
	}
	for _, r := range pending {
		if len(personalNames[r.Object]) == 0 || r.RecordID == 0 || len(r.Payload) == 0 {
			continue
		}
		key, err := tx.PersonKey(ctx, r.Object, r.RecordID)
		if err != nil || key == "" {
			return err
		}
		ring, err := s.vault.DataKeys(ctx, []string{key})
		if err != nil {
			return err
		}
		payload, changed, err := sealPlainNames(ring, key, r.Object, r.Payload)
		if err == nil && changed {
			err = tx.SetApprovalPayload(ctx, r.ID, payload)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// sealPlainNames seals the personal fields of a JSON object (a version, a
// pending change) that are still plaintext, leaving sealed ones as they
// are.
func sealPlainNames(ring vault.KeyRing, key string, o crm.Object, raw []byte) ([]byte, bool, error) {
	m, ok := jsonObject(raw)
	if !ok {
		return raw, false, nil
	}
	changed := false
	for _, name := range personalNames[o] {
		v, ok := m[name].(string)
		if !ok || v == "" || vault.IsSealed(v) {
			continue
		}
		sealed, err := ring.Seal(key, name, v)
		if err != nil {
			return nil, false, err
		}
		m[name], changed = sealed, true
	}
	if !changed {
		return raw, false, nil
	}
	out, err := json.Marshal(m)
	return out, true, err
}
