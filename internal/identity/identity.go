// Package identity holds who is signing in and how: passwords, sign-in and
// its lockout, the second factor (TOTP, recovery codes, passkeys), step-up,
// sessions, API tokens and account preferences. It stands on the kernel
// (internal/kernel) like the records service does, writes its audit events
// through it and never touches customer records.
//
// service.Service embeds a *Service, so the surfaces call these use cases
// on the one service as before (see docs/architecture.md, "Layers").
package identity

import (
	"github.com/go-webauthn/webauthn/webauthn"

	"custos/internal/kernel"
)

// Options configure the identity service.
type Options struct {
	// Argon2 sets the password hashing cost; zero means DefaultArgon2.
	Argon2 Argon2Params
	// PublicURL is the address people open Custos at; passkeys are bound
	// to its host name and origin (see RelyingParty). Empty or invalid:
	// passkeys are unavailable and TOTP alone is offered.
	PublicURL string
}

// Service holds the identity use cases.
type Service struct {
	k     *kernel.Kernel
	argon Argon2Params
	rp    *webauthn.WebAuthn // the WebAuthn relying party; nil: passkeys unavailable
	// dummyHash is checked against for unknown user names, so a sign-in
	// takes as long whether or not the name exists.
	dummyHash string
}

// New returns the identity service over a kernel.
func New(k *kernel.Kernel, opt Options) *Service {
	s := &Service{k: k, argon: opt.Argon2}
	if s.argon == (Argon2Params{}) {
		s.argon = DefaultArgon2
	}
	if opt.PublicURL != "" {
		var err error
		if s.rp, err = newRelyingParty(opt.PublicURL); err != nil {
			k.Logger.Error("passkeys unavailable", "err", err)
		}
	}
	s.dummyHash, _ = HashPassword(RandomToken(16), s.argon)
	return s
}
