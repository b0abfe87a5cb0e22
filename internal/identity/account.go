package identity

import (
	"context"
	"errors"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/kernel"
	"custos/internal/store"
)

// Me returns the actor's own user record.
func (s *Service) Me(ctx context.Context, a *access.Actor) (crm.User, error) {
	var u crm.User
	err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) error {
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
	return s.setPreference(ctx, a, "user.set_language", func(u *crm.User) { u.Lang = lang })
}

// SetTimeZone stores the time zone the actor's pages show and read times
// in: an IANA name such as "Asia/Shanghai", or "" for the organisation's
// default.
func (s *Service) SetTimeZone(ctx context.Context, a *access.Actor, name string) error {
	name = strings.TrimSpace(name)
	if name != "" {
		if _, err := LoadZone(name); err != nil {
			return &crm.Error{Code: crm.Invalid, Message: "unknown time zone", Fields: []crm.FieldError{{Field: "time_zone", Rule: "time_zone"}}}
		}
	}
	return s.setPreference(ctx, a, "user.set_time_zone", func(u *crm.User) { u.TimeZone = name })
}

// setPreference changes one of the actor's own settings, with its audit event.
func (s *Service) setPreference(ctx context.Context, a *access.Actor, action string, set func(*crm.User)) error {
	return s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		u, err := tx.GetUser(ctx, a.UserID)
		if err != nil {
			return err
		}
		before := u
		set(&u)
		u.UpdatedAt = s.k.Clock()
		if err := tx.UpdateUser(ctx, &u); err != nil {
			return err
		}
		return s.k.Audit(ctx, tx, a, action, "", u.ID, kernel.Diff(before, u))
	})
}

// LoadZone loads a zone a user or the configuration names. "Local" and ""
// are refused: they name the server's zone, not a place.
func LoadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" || len(name) > 64 {
		return nil, errors.New("time zone: not an IANA zone name")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, errors.New("time zone: unknown zone " + name)
	}
	return loc, nil
}
