package service

import (
	"custos/internal/identity"
)

// Identity lives in internal/identity; Service embeds it. These names keep
// the surfaces' service.X spelling of its types and constants.
type (
	// Client is identity.Client.
	Client = identity.Client
	// LoginResult is identity.LoginResult.
	LoginResult = identity.LoginResult
	// MFAStatus is identity.MFAStatus.
	MFAStatus = identity.MFAStatus
	// TOTPEnrolment is identity.TOTPEnrolment.
	TOTPEnrolment = identity.TOTPEnrolment
	// Passkey is identity.Passkey.
	Passkey = identity.Passkey
	// PasskeyRegistration is identity.PasskeyRegistration.
	PasskeyRegistration = identity.PasskeyRegistration
	// SessionInfo is identity.SessionInfo.
	SessionInfo = identity.SessionInfo
	// TokenInput is identity.TokenInput.
	TokenInput = identity.TokenInput
	// NewAPIToken is identity.NewAPIToken.
	NewAPIToken = identity.NewAPIToken
	// Argon2Params is identity.Argon2Params.
	Argon2Params = identity.Argon2Params
)

// Identity's limits, under their old names.
const (
	SessionIdle       = identity.SessionIdle
	RecoveryCodeCount = identity.RecoveryCodeCount
	StepUpWindow      = identity.StepUpWindow
	MaxPasskeys       = identity.MaxPasskeys
)

// DefaultArgon2 is identity.DefaultArgon2.
var DefaultArgon2 = identity.DefaultArgon2

// RelyingParty is identity.RelyingParty.
func RelyingParty(publicURL string) (rpID, origin string, err error) {
	return identity.RelyingParty(publicURL)
}

// hashPassword and randomToken serve user administration (org.go), which
// sets passwords for others.
func hashPassword(pw string, p Argon2Params) (string, error) { return identity.HashPassword(pw, p) }

func randomToken(n int) string { return identity.RandomToken(n) }
