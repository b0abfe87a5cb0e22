package identity

import (
	"context"
	"strconv"

	"custos/internal/store"
	"custos/internal/vault"
)

// totpKeyName names the system key TOTP secrets are sealed under: anyone
// reading the database could otherwise make a user's second factor.
const totpKeyName = "totp"

func totpField(userID int64) string { return "totp:" + strconv.FormatInt(userID, 10) }

// getTOTP reads a user's TOTP credential with its secret opened. A secret
// stored before encryption is used as it is (the start-up upgrade seals it).
func (s *Service) getTOTP(ctx context.Context, tx *store.Tx, userID int64) (store.TOTPCredential, error) {
	c, err := tx.GetTOTP(ctx, userID)
	if err != nil || !vault.IsSealed(c.Secret) {
		return c, err
	}
	key, err := s.k.Vault.SystemKey(ctx, totpKeyName)
	if err == nil {
		c.Secret, err = s.k.Vault.Open(ctx, key, totpField(userID), c.Secret)
	}
	if err != nil {
		return c, s.k.SealError(err, "user", userID, "totp_secret")
	}
	return c, nil
}

// putPendingTOTP stores a new TOTP secret sealed.
func (s *Service) putPendingTOTP(ctx context.Context, tx *store.Tx, userID int64, secret string) error {
	sealed, err := SealTOTP(ctx, s.k.Vault, userID, secret)
	if err != nil {
		return err
	}
	return tx.PutPendingTOTP(ctx, userID, sealed, s.k.Clock())
}

// SealTOTP seals a user's TOTP secret under the system TOTP key.
func SealTOTP(ctx context.Context, v *vault.Vault, userID int64, secret string) (string, error) {
	key, err := v.SystemKey(ctx, totpKeyName)
	if err != nil {
		return "", err
	}
	return v.Seal(ctx, key, totpField(userID), secret)
}
