package service

import (
	"context"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
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
			versions, err := tx.ListVersions(ctx, o, p.ID)
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
