package identity

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/kernel"
	"custos/internal/store"
)

// Passkeys (WebAuthn) are a second factor beside TOTP: wherever a code is
// accepted after the password or for step-up, an assertion of one of the
// user's passkeys is too. Each ceremony's challenge is kept in the
// database, bound to the browser session that began it, for
// passkeyCeremonyFor at most, and answered at most once.
const (
	passkeyCeremonyFor = 5 * time.Minute
	passkeyTimeout     = 3 * time.Minute // what the browser is told to allow
	maxPasskeyResponse = 64 << 10        // a response is a few hundred bytes to a few KB
	maxPasskeyName     = 60
	// MaxPasskeys is how many passkeys a user may register.
	MaxPasskeys = 20

	ceremonyRegister = "register"
	ceremonyLogin    = "login"
	ceremonyStepUp   = "step_up"
)

// Passkey is a registered passkey as its owner sees it: never its key.
// Usable is false for a blocked passkey and for one registered for another
// relying party (before the public URL changed).
type Passkey struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	AAGUID     string    `json:"aaguid"`
	Transports []string  `json:"transports"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	BlockedAt  time.Time `json:"blocked_at"`
	Usable     bool      `json:"usable"`
}

// PasskeyRegistration is a newly registered passkey; RecoveryCodes are
// set (shown once) when it is the user's first second factor.
type PasskeyRegistration struct {
	Passkey       Passkey
	RecoveryCodes []string
}

var (
	errPasskeysOff = &crm.Error{Code: crm.Conflict, Key: "passkeys_off", Message: "passkeys are not available: the server has no valid public URL"}
	errNoPasskey   = &crm.Error{Code: crm.Conflict, Key: "no_passkey", Message: "you have no passkey for this server"}
	// errPasskeyRefused answers every refused assertion alike; the
	// reason goes only to the audit trail.
	errPasskeyRefused = &crm.Error{Code: crm.Invalid, Key: "passkey_refused", Message: "the passkey was not accepted; try again",
		Fields: []crm.FieldError{{Field: "passkey", Rule: "refused"}}}
)

// RelyingParty checks a public URL (the address people open Custos at) and
// returns the WebAuthn relying party id and origin it gives: its host name
// and scheme://host[:port]. Browsers accept passkeys only on https:// or
// on localhost, and never for an IP address.
func RelyingParty(publicURL string) (rpID, origin string, err error) {
	u, err := url.Parse(publicURL)
	switch {
	case err != nil:
		return "", "", fmt.Errorf("public URL %q: %w", publicURL, err)
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "", u.User != nil, u.RawQuery != "", u.Fragment != "",
		u.Path != "" && u.Path != "/":
		return "", "", fmt.Errorf("public URL %q: want scheme://host[:port], e.g. https://crm.example.com", publicURL)
	}
	host := u.Hostname()
	if net.ParseIP(host) != nil {
		return "", "", fmt.Errorf("public URL %q: passkeys need a host name, not an IP address (use localhost for local use)", publicURL)
	}
	if err := protocol.ValidateRPID(host); err != nil {
		return "", "", fmt.Errorf("public URL %q: %w", publicURL, err)
	}
	return strings.ToLower(host), u.Scheme + "://" + strings.ToLower(u.Host), nil
}

// newRelyingParty configures WebAuthn for a public URL: attestation
// "none" (Custos does not restrict authenticator models, and asking for
// attestation only leaks them), user verification preferred but not
// required (the passkey is the second factor, after the password).
func newRelyingParty(publicURL string) (*webauthn.WebAuthn, error) {
	rpID, origin, err := RelyingParty(publicURL)
	if err != nil {
		return nil, err
	}
	return webauthn.New(&webauthn.Config{
		RPID: rpID, RPDisplayName: "Custos", RPOrigins: []string{origin},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{ResidentKey: protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationPreferred},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: passkeyTimeout, TimeoutUVD: passkeyTimeout},
			Registration: webauthn.TimeoutConfig{Timeout: passkeyTimeout, TimeoutUVD: passkeyTimeout},
		},
	})
}

// PasskeysAvailable reports whether the server can use passkeys at all
// (it has a valid public URL).
func (s *Service) PasskeysAvailable() bool { return s.rp != nil }

// passkeyUser is a user as the WebAuthn library sees it.
type passkeyUser struct {
	handle      []byte
	name, title string
	creds       []webauthn.Credential
}

func (u passkeyUser) WebAuthnID() []byte                         { return u.handle }
func (u passkeyUser) WebAuthnName() string                       { return u.name }
func (u passkeyUser) WebAuthnDisplayName() string                { return u.title }
func (u passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func libraryCredential(p store.Passkey) webauthn.Credential {
	ts := make([]protocol.AuthenticatorTransport, len(p.Transports))
	for i, t := range p.Transports {
		ts[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{ID: p.CredentialID, PublicKey: p.PublicKey, AttestationFormat: p.AttestationFormat, Transport: ts,
		Flags:         webauthn.NewCredentialFlags(protocol.AuthenticatorFlags(p.Flags)),
		Authenticator: webauthn.Authenticator{AAGUID: p.AAGUID, SignCount: p.SignCount}}
}

func (s *Service) passkeyView(p store.Passkey) Passkey {
	return Passkey{ID: p.ID, Name: p.Name, AAGUID: aaguidString(p.AAGUID), Transports: p.Transports, CreatedAt: p.CreatedAt,
		LastUsedAt: p.LastUsedAt, BlockedAt: p.BlockedAt, Usable: s.rp != nil && p.BlockedAt.IsZero() && p.RPID == s.rp.Config.RPID}
}

// aaguidString formats an authenticator model id as a UUID ("" for none).
func aaguidString(b []byte) string {
	if len(b) != 16 || bytes.Equal(b, make([]byte, 16)) {
		return ""
	}
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ceremonySession refuses a passkey ceremony outside a browser session:
// its challenge is bound to one.
func (s *Service) ceremonySession(a *access.Actor) error {
	if a == nil || a.Kind != access.KindUser {
		return errNeedsSession
	}
	if a.SessionID == 0 {
		return errNeedsSession
	}
	if s.rp == nil {
		return errPasskeysOff
	}
	return nil
}

// ListPasskeys returns the actor's passkeys, oldest first.
func (s *Service) ListPasskeys(ctx context.Context, a *access.Actor) ([]Passkey, error) {
	if err := accountSession(a); err != nil {
		return nil, err
	}
	var out []Passkey
	err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) error {
		list, err := tx.ListPasskeys(ctx, a.UserID)
		for _, p := range list {
			out = append(out, s.passkeyView(p))
		}
		return err
	})
	return out, err
}

// BeginPasskeyRegistration starts registering a passkey in the actor's
// session: it returns the options for navigator.credentials.create (JSON)
// and keeps the challenge for FinishPasskeyRegistration.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, a *access.Actor) (json.RawMessage, error) {
	if err := accountSession(a); err != nil {
		return nil, err
	}
	if err := s.ceremonySession(a); err != nil {
		return nil, err
	}
	now := s.k.Clock()
	var out json.RawMessage
	err := s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		u, existing, err := s.loadPasskeyUser(ctx, tx, a.UserID, now, true)
		if err != nil {
			return err
		}
		if len(existing) >= MaxPasskeys {
			return tooManyPasskeys()
		}
		// The same authenticator is not registered twice.
		exclude := make([]protocol.CredentialDescriptor, 0, len(existing))
		for _, p := range existing {
			c := libraryCredential(p)
			exclude = append(exclude, c.Descriptor())
		}
		creation, sd, err := s.rp.BeginRegistration(u, webauthn.WithExclusions(exclude))
		if err != nil {
			return fmt.Errorf("begin passkey registration: %w", err)
		}
		if out, err = json.Marshal(creation); err != nil {
			return err
		}
		return putCeremony(ctx, tx, a.SessionID, ceremonyRegister, sd, now)
	})
	return out, err
}

func tooManyPasskeys() error {
	return &crm.Error{Code: crm.Invalid, Key: "invalid", Message: "too many passkeys",
		Fields: []crm.FieldError{{Field: "passkey", Rule: "too_many", Param: strconv.Itoa(MaxPasskeys)}}}
}

// loadPasskeyUser reads the user and their passkeys as the library wants
// them; create makes the user's WebAuthn handle when they have none yet
// (registration), else a missing one means no passkeys.
func (s *Service) loadPasskeyUser(ctx context.Context, tx *store.Tx, userID int64, now time.Time, create bool) (passkeyUser, []store.Passkey, error) {
	usr, err := tx.GetUser(ctx, userID)
	if err != nil {
		return passkeyUser{}, nil, err
	}
	var handle []byte
	if create {
		fresh := make([]byte, 32)
		rand.Read(fresh)
		handle, err = tx.WebAuthnHandle(ctx, userID, fresh, now)
	} else {
		handle, err = tx.GetWebAuthnHandle(ctx, userID)
	}
	if err != nil {
		return passkeyUser{}, nil, err
	}
	list, err := tx.ListPasskeys(ctx, userID)
	if err != nil {
		return passkeyUser{}, nil, err
	}
	u := passkeyUser{handle: handle, name: usr.Username, title: usr.DisplayName}
	var mine []store.Passkey
	for _, p := range list {
		if p.RPID == s.rp.Config.RPID {
			mine = append(mine, p)
		}
	}
	return u, mine, nil
}

func putCeremony(ctx context.Context, tx *store.Tx, sessionID int64, purpose string, sd *webauthn.SessionData, now time.Time) error {
	data, err := json.Marshal(sd)
	if err != nil {
		return err
	}
	return tx.PutWebAuthnChallenge(ctx, sessionID, purpose, string(data), now, now.Add(passkeyCeremonyFor))
}

// takeCeremony removes the session's ceremony of a purpose and returns it,
// in its own transaction, so a challenge is spent even when the answer is
// then refused. No ceremony (never begun, already answered, expired) is
// errPasskeyRefused with the reason "challenge".
func (s *Service) takeCeremony(ctx context.Context, sessionID int64, purpose string, now time.Time) (webauthn.SessionData, error) {
	var data string
	err := s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		var err error
		data, err = tx.TakeWebAuthnChallenge(ctx, sessionID, purpose, now)
		return err
	})
	var sd webauthn.SessionData
	if crm.IsCode(err, crm.NotFound) {
		return sd, &passkeyRefusal{reason: "challenge"}
	} else if err != nil {
		return sd, err
	}
	return sd, json.Unmarshal([]byte(data), &sd)
}

// FinishPasskeyRegistration checks the browser's answer to the
// registration challenge and stores the passkey under name. Adding a
// passkey to an account that already has a second factor needs step-up
// (so a stolen session cannot add the thief's passkey); the first one
// turns the second factor on, issues recovery codes and counts as a fresh
// second factor, as confirming an authenticator app does.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, a *access.Actor, name string, response []byte) (PasskeyRegistration, error) {
	var reg PasskeyRegistration
	if err := accountSession(a); err != nil {
		return reg, err
	}
	if err := s.ceremonySession(a); err != nil {
		return reg, err
	}
	name = strings.TrimSpace(name)
	var p crm.Problems
	if err := passkeyName(name); err != "" {
		p.Add("name", err, strconv.Itoa(maxPasskeyName))
	}
	if len(response) == 0 {
		p.Add("passkey", "needs_browser")
	} else if len(response) > maxPasskeyResponse {
		p.Add("passkey", "refused")
	}
	if err := p.Err(); err != nil {
		return reg, err
	}
	if a.MFAEnrolled {
		if err := s.k.RequireStepUp(ctx, a, "passkey.register"); err != nil {
			return reg, err
		}
	}
	now := s.k.Clock()
	sd, err := s.takeCeremony(ctx, a.SessionID, ceremonyRegister, now)
	var cred *webauthn.Credential
	if err == nil {
		cred, err = s.verifyRegistration(ctx, a, sd, response, now)
	}
	var refusal *passkeyRefusal
	if errors.As(err, &refusal) {
		s.k.AuditFields(ctx, a, "passkey.register", 0, map[string]any{"reason": refusal.reason, "detail": refusal.detail}, "denied")
		return reg, err
	} else if err != nil {
		return reg, err
	}
	codes, hashes := newRecoveryCodes()
	err = s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		first, err := hasNoFactor(ctx, tx, a.UserID)
		if err != nil {
			return err
		}
		n, err := tx.CountPasskeys(ctx, a.UserID)
		if err != nil {
			return err
		}
		if n >= MaxPasskeys {
			return tooManyPasskeys()
		}
		pk := store.Passkey{UserID: a.UserID, RPID: s.rp.Config.RPID, CredentialID: cred.ID, Name: name, PublicKey: cred.PublicKey,
			SignCount: cred.Authenticator.SignCount, AAGUID: cred.Authenticator.AAGUID, Flags: byte(cred.Flags.ProtocolValue()),
			AttestationFormat: cred.AttestationFormat, CreatedAt: now}
		for _, t := range cred.Transport {
			pk.Transports = append(pk.Transports, string(t))
		}
		if err := tx.InsertPasskey(ctx, &pk); err != nil {
			if crm.IsCode(err, crm.Duplicate) || crm.IsCode(err, crm.Conflict) {
				return &crm.Error{Code: crm.Invalid, Key: "invalid", Message: "this passkey is already registered",
					Fields: []crm.FieldError{{Field: "passkey", Rule: "taken"}}}
			}
			return err
		}
		reg.Passkey = s.passkeyView(pk)
		if first {
			if err := tx.ReplaceRecoveryCodes(ctx, a.UserID, hashes, now); err != nil {
				return err
			}
			if err := tx.MarkSecondFactor(ctx, a.SessionID, now); err != nil {
				return err
			}
			reg.RecoveryCodes = codes
		}
		return s.k.Audit(ctx, tx, a, "passkey.register", "", a.UserID, map[string]any{"passkey": pk.ID, "name": pk.Name,
			"aaguid": reg.Passkey.AAGUID, "transports": pk.Transports, "first_factor": first})
	})
	if err != nil {
		return PasskeyRegistration{}, err
	}
	if reg.RecoveryCodes != nil {
		a.SecondFactorAt = now
	}
	a.MFAEnrolled = true
	return reg, nil
}

// verifyRegistration checks an attestation response against its ceremony.
func (s *Service) verifyRegistration(ctx context.Context, a *access.Actor, sd webauthn.SessionData, response []byte, now time.Time) (*webauthn.Credential, error) {
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, refusalOf("unreadable", err)
	}
	var u passkeyUser
	err = s.k.DB.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		u, _, err = s.loadPasskeyUser(ctx, tx, a.UserID, now, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	cred, err := s.rp.CreateCredential(u, sd, parsed)
	if err != nil {
		return nil, refusalOf("verification", err)
	}
	return cred, nil
}

// passkeyName returns the rule a passkey name breaks, or "".
func passkeyName(name string) string {
	switch {
	case name == "":
		return "required"
	case utf8.RuneCountInString(name) > maxPasskeyName:
		return "too_long"
	}
	return ""
}

// hasNoFactor reports whether a user has no second factor at all.
func hasNoFactor(ctx context.Context, tx *store.Tx, userID int64) (bool, error) {
	n, err := tx.CountPasskeys(ctx, userID)
	if err != nil || n > 0 {
		return false, err
	}
	c, err := tx.GetTOTP(ctx, userID)
	if crm.IsCode(err, crm.NotFound) {
		return true, nil
	}
	return c.ConfirmedAt.IsZero(), err
}

// RenamePasskey changes the name of one of the actor's passkeys.
func (s *Service) RenamePasskey(ctx context.Context, a *access.Actor, id int64, name string) error {
	if err := accountSession(a); err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	if rule := passkeyName(name); rule != "" {
		var p crm.Problems
		p.Add("name", rule, strconv.Itoa(maxPasskeyName))
		return p.Err()
	}
	return s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		old, err := tx.GetPasskey(ctx, a.UserID, id)
		if err != nil {
			return err
		}
		if err := tx.RenamePasskey(ctx, a.UserID, id, name); err != nil {
			return err
		}
		return s.k.Audit(ctx, tx, a, "passkey.rename", "", a.UserID, map[string]any{"passkey": id, "name": kernel.Change{From: old.Name, To: name}})
	})
}

// RemovePasskey removes one of the actor's passkeys (step-up). A role that
// requires MFA keeps at least one second factor; removing the last one
// turns the second factor off and drops the recovery codes.
func (s *Service) RemovePasskey(ctx context.Context, a *access.Actor, id int64) error {
	if err := accountSession(a); err != nil {
		return err
	}
	if err := s.k.RequireStepUp(ctx, a, "passkey.remove"); err != nil {
		return err
	}
	enrolled := true
	err := s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		p, err := tx.GetPasskey(ctx, a.UserID, id)
		if err != nil {
			return err
		}
		if err := tx.DeletePasskey(ctx, a.UserID, id); err != nil {
			return err
		}
		if enrolled, err = factorRemoved(ctx, tx, a); err != nil {
			return err
		}
		return s.k.Audit(ctx, tx, a, "passkey.remove", "", a.UserID, map[string]any{"passkey": id, "name": p.Name, "last_factor": !enrolled})
	})
	if err == nil {
		a.MFAEnrolled = enrolled
	}
	return err
}

// factorRemoved runs after one of the actor's second factors was deleted
// in tx: when none is left the recovery codes go too, unless the role
// requires MFA, which refuses (rolling the deletion back). It reports
// whether a factor is left.
func factorRemoved(ctx context.Context, tx *store.Tx, a *access.Actor) (bool, error) {
	none, err := hasNoFactor(ctx, tx, a.UserID)
	switch {
	case err != nil:
		return false, err
	case none && a.Role.RequireMFA:
		return false, errMFARequiredByRole
	case none:
		return false, tx.DeleteRecoveryCodes(ctx, a.UserID)
	}
	return true, nil
}

var errMFARequiredByRole = &crm.Error{Code: crm.Forbidden, Key: "mfa_required_by_role", Message: "your role requires a second factor"}

// BeginPasskeyCheck starts a passkey assertion in the actor's session: the
// second step of a sign-in for a session waiting for its second factor, a
// step-up for a signed-in one. It returns the options for
// navigator.credentials.get (JSON) listing the user's usable passkeys.
func (s *Service) BeginPasskeyCheck(ctx context.Context, a *access.Actor) (json.RawMessage, error) {
	if err := s.ceremonySession(a); err != nil {
		return nil, err
	}
	purpose := ceremonyStepUp
	if a.MFAPending {
		purpose = ceremonyLogin
	}
	now := s.k.Clock()
	var out json.RawMessage
	err := s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		u, list, err := s.loadPasskeyUser(ctx, tx, a.UserID, now, false)
		if crm.IsCode(err, crm.NotFound) {
			return errNoPasskey
		} else if err != nil {
			return err
		}
		for _, p := range list {
			if p.BlockedAt.IsZero() {
				u.creds = append(u.creds, libraryCredential(p))
			}
		}
		if len(u.creds) == 0 {
			return errNoPasskey
		}
		assertion, sd, err := s.rp.BeginLogin(u)
		if err != nil {
			return fmt.Errorf("begin passkey assertion: %w", err)
		}
		if out, err = json.Marshal(assertion); err != nil {
			return err
		}
		return putCeremony(ctx, tx, a.SessionID, purpose, sd, now)
	})
	return out, err
}

// passkeyRefusal is a refused passkey answer: the user sees
// errPasskeyRefused, the audit trail the reason (challenge, unreadable,
// unknown_credential, blocked, verification, sign_count) and, for a
// verification failure, the library's short description. block marks the
// passkey as a possible clone.
type passkeyRefusal struct {
	reason, detail string
	passkeyID      int64
	block          bool
}

func (r *passkeyRefusal) Error() string { return "passkey refused: " + r.reason + " " + r.detail }
func (r *passkeyRefusal) Unwrap() error { return errPasskeyRefused }

func refusalOf(reason string, err error) *passkeyRefusal {
	detail := err.Error()
	var pe *protocol.Error
	if errors.As(err, &pe) {
		detail = pe.Details
	}
	return &passkeyRefusal{reason: reason, detail: truncate(detail, 200)}
}

// passkeyFactor is a passkey's answer to the challenge of a ceremony of
// purpose: before the transaction the challenge is spent and the signature
// checked; inside it the signature counter moves forward (refused if
// another answer moved it first).
func (s *Service) passkeyFactor(purpose string, response []byte) factor {
	return func(ctx context.Context, a *access.Actor, now time.Time) (factorUse, error) {
		if err := s.ceremonySession(a); err != nil {
			return nil, err
		}
		if len(response) == 0 || len(response) > maxPasskeyResponse {
			return nil, &passkeyRefusal{reason: "unreadable"}
		}
		sd, err := s.takeCeremony(ctx, a.SessionID, purpose, now)
		if err != nil {
			return nil, err
		}
		parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
		if err != nil {
			return nil, refusalOf("unreadable", err)
		}
		var u passkeyUser
		var used store.Passkey
		err = s.k.DB.ReadTx(ctx, func(tx *store.Tx) error {
			var list []store.Passkey
			var err error
			if u, list, err = s.loadPasskeyUser(ctx, tx, a.UserID, now, false); err != nil {
				return err
			}
			for _, p := range list {
				if p.BlockedAt.IsZero() {
					u.creds = append(u.creds, libraryCredential(p))
				}
				if bytes.Equal(p.CredentialID, parsed.RawID) {
					used = p
				}
			}
			return nil
		})
		switch {
		case crm.IsCode(err, crm.NotFound):
			return nil, &passkeyRefusal{reason: "unknown_credential"}
		case err != nil:
			return nil, err
		case used.ID == 0:
			return nil, &passkeyRefusal{reason: "unknown_credential"}
		case !used.BlockedAt.IsZero():
			return nil, &passkeyRefusal{reason: "blocked", passkeyID: used.ID}
		}
		cred, err := s.rp.ValidateLogin(u, sd, parsed)
		if err != nil {
			r := refusalOf("verification", err)
			r.passkeyID = used.ID
			return nil, r
		}
		if cred.Authenticator.CloneWarning {
			// The counter did not move forward: two copies of the key may
			// exist. Refuse, and block the passkey until it is removed.
			return nil, &passkeyRefusal{reason: "sign_count", passkeyID: used.ID, block: true,
				detail: fmt.Sprintf("stored %d, presented %d", used.SignCount, parsed.Response.AuthenticatorData.Counter)}
		}
		return func(ctx context.Context, tx *store.Tx, now time.Time) (map[string]any, error) {
			err := tx.UsePasskey(ctx, used.ID, used.SignCount, cred.Authenticator.SignCount, byte(cred.Flags.ProtocolValue()), now)
			if crm.IsCode(err, crm.NotFound) {
				return nil, &passkeyRefusal{reason: "sign_count", passkeyID: used.ID, detail: "changed by a concurrent sign-in, or blocked"}
			} else if err != nil {
				return nil, err
			}
			return map[string]any{"method": "passkey", "passkey": used.ID}, nil
		}, nil
	}
}

// CompleteLoginPasskey is CompleteLogin with a passkey's answer to the
// challenge of BeginPasskeyCheck instead of a code.
func (s *Service) CompleteLoginPasskey(ctx context.Context, a *access.Actor, response []byte) (LoginResult, error) {
	return s.completeLogin(ctx, a, s.passkeyFactor(ceremonyLogin, response))
}

// StepUpPasskey is StepUp with a passkey's answer to the challenge of
// BeginPasskeyCheck instead of a code.
func (s *Service) StepUpPasskey(ctx context.Context, a *access.Actor, response []byte) error {
	return s.stepUp(ctx, a, s.passkeyFactor(ceremonyStepUp, response))
}
