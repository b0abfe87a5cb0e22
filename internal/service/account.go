package service

import (
	"context"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// Me returns the actor's own user record.
func (s *Service) Me(ctx context.Context, a *access.Actor) (crm.User, error) {
	var u crm.User
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		u, err = tx.GetUser(ctx, a.UserID)
		return err
	})
	return u, err
}

// SetLanguage stores the actor's interface language ("" follows the browser).
func (s *Service) SetLanguage(ctx context.Context, a *access.Actor, lang string) error {
	if err := signedIn(a); err != nil {
		return err
	}
	var p crm.Problems
	lang = p.Enum("lang", lang, false, crm.Languages)
	if err := p.Err(); err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		u, err := tx.GetUser(ctx, a.UserID)
		if err != nil {
			return err
		}
		before := u
		u.Lang, u.UpdatedAt = lang, s.clock()
		if err := tx.UpdateUser(ctx, &u); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "user.set_language", "", u.ID, diff(before, u))
	})
}
