package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/kernel"
	"custos/internal/store"
)

// Second factor: TOTP (RFC 6238, the parameters every authenticator app
// understands) with single-use recovery codes.
const (
	totpPeriod = 30 // seconds per time step
	totpSkew   = 1  // steps accepted either side of now, for clock drift
	// RecoveryCodeCount is how many recovery codes a user gets at a time.
	RecoveryCodeCount = 10
	// StepUpWindow is how long a verified second factor counts as fresh
	// (the kernel checks it; RequireStepUp).
	StepUpWindow = kernel.StepUpWindow
	totpIssuer   = "Custos"
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// MFAStatus is what the account page shows about the second factor.
// Enrolled is true with an authenticator app (TOTP), a passkey, or both.
type MFAStatus struct {
	Enrolled          bool `json:"enrolled"`
	TOTP              bool `json:"totp"`
	Pending           bool `json:"pending"` // authenticator app enrolment started, not confirmed
	Passkeys          int  `json:"passkeys"`
	UsablePasskeys    int  `json:"usable_passkeys"` // not blocked, registered for this server's public URL
	PasskeysAvailable bool `json:"passkeys_available"`
	RecoveryCodesLeft int  `json:"recovery_codes_left"`
	RequiredByRole    bool `json:"required_by_role"`
}

// TOTPEnrolment is a secret being enrolled: shown to its user (as text,
// as an otpauth:// URI and as a QR code of that URI) until confirmed.
type TOTPEnrolment struct {
	Secret string `json:"secret"`
	URI    string `json:"otpauth_uri"`
}

var (
	errWrongCode = &crm.Error{Code: crm.Invalid, Key: "wrong_code", Message: "the code is wrong or was already used",
		Fields: []crm.FieldError{{Field: "code", Rule: "wrong"}}}
	errNotEnrolled  = &crm.Error{Code: crm.Conflict, Key: "mfa_not_enrolled", Message: "no second factor is set up"}
	errNeedsSession = &crm.Error{Code: crm.Forbidden, Key: "session_required", Message: "this needs a browser session, not an API token"}
)

// accountSession refuses API tokens and incomplete sign-ins for second
// factor management: a stolen token must not be able to change it.
func accountSession(a *access.Actor) error {
	if err := signedIn(a); err != nil {
		return err
	}
	if a.Kind != access.KindUser {
		return errNeedsSession
	}
	return nil
}

// MFA returns the actor's second-factor status. A session still waiting
// for its second factor may ask too, to be offered the methods it has.
func (s *Service) MFA(ctx context.Context, a *access.Actor) (MFAStatus, error) {
	if a == nil || a.UserID == 0 {
		return MFAStatus{}, crm.Errorf(crm.Unauthenticated, "not signed in")
	}
	if a.Kind != access.KindUser {
		s.k.AuditDenied(ctx, a, "mfa.status", "", 0)
		return MFAStatus{}, errNeedsSession
	}
	st := MFAStatus{RequiredByRole: a.Role.RequireMFA, PasskeysAvailable: s.rp != nil}
	err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) error {
		keys, err := tx.ListPasskeys(ctx, a.UserID)
		if err != nil {
			return err
		}
		for _, p := range keys {
			st.Passkeys++
			if s.passkeyView(p).Usable {
				st.UsablePasskeys++
			}
		}
		c, err := s.getTOTP(ctx, tx, a.UserID)
		if err == nil {
			st.TOTP, st.Pending = !c.ConfirmedAt.IsZero(), c.ConfirmedAt.IsZero()
		} else if !crm.IsCode(err, crm.NotFound) {
			return err
		}
		st.Enrolled = st.TOTP || st.Passkeys > 0
		st.RecoveryCodesLeft, err = tx.CountRecoveryCodes(ctx, a.UserID)
		return err
	})
	return st, err
}

// BeginTOTP starts enrolling an authenticator app: a new secret, kept
// unconfirmed until ConfirmTOTP sees a code made from it. Starting again
// replaces an unconfirmed secret; a confirmed one must be disabled first.
func (s *Service) BeginTOTP(ctx context.Context, a *access.Actor) (TOTPEnrolment, error) {
	if err := accountSession(a); err != nil {
		return TOTPEnrolment{}, err
	}
	var en TOTPEnrolment
	err := s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		if c, err := s.getTOTP(ctx, tx, a.UserID); err == nil && !c.ConfirmedAt.IsZero() {
			return &crm.Error{Code: crm.Conflict, Key: "mfa_enrolled", Message: "a second factor is already set up; disable it first"}
		} else if err != nil && !crm.IsCode(err, crm.NotFound) {
			return err
		}
		u, err := tx.GetUser(ctx, a.UserID)
		if err != nil {
			return err
		}
		key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: u.Username, Period: totpPeriod,
			Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return err
		}
		en = TOTPEnrolment{Secret: key.Secret(), URI: key.URL()}
		if err := s.putPendingTOTP(ctx, tx, a.UserID, key.Secret()); err != nil {
			return err
		}
		return s.k.Audit(ctx, tx, a, "mfa.totp_begin", "", a.UserID, nil)
	})
	return en, err
}

// PendingTOTP returns the enrolment started by BeginTOTP and not yet
// confirmed (NotFound when there is none), to show it again.
func (s *Service) PendingTOTP(ctx context.Context, a *access.Actor) (TOTPEnrolment, error) {
	if err := accountSession(a); err != nil {
		return TOTPEnrolment{}, err
	}
	var en TOTPEnrolment
	err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) error {
		c, err := s.getTOTP(ctx, tx, a.UserID)
		if err != nil {
			return err
		}
		if !c.ConfirmedAt.IsZero() {
			return crm.ErrNotFound("pending second factor")
		}
		u, err := tx.GetUser(ctx, a.UserID)
		if err != nil {
			return err
		}
		en = TOTPEnrolment{Secret: c.Secret, URI: totpURI(c.Secret, u.Username)}
		return nil
	})
	return en, err
}

// totpURI is the otpauth:// URI of a secret, as totp.Generate makes it.
func totpURI(secret, account string) string {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: account, Period: totpPeriod, Digits: otp.DigitsSix,
		Algorithm: otp.AlgorithmSHA1, Secret: mustBase32(secret)})
	if err != nil {
		return ""
	}
	return k.URL()
}

func mustBase32(s string) []byte {
	b, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(s))
	return b
}

// ConfirmTOTP finishes enrolment with a code from the app. When it is the
// user's first second factor it returns their recovery codes: shown once,
// stored only as hashes (a user who has passkeys keeps theirs and gets
// none). The session counts as freshly verified, since the user just
// proved the factor. Adding the app beside a passkey needs step-up.
func (s *Service) ConfirmTOTP(ctx context.Context, a *access.Actor, code string) ([]string, error) {
	if err := accountSession(a); err != nil {
		return nil, err
	}
	// Beside a passkey, a stolen session must not add the thief's app.
	if a.MFAEnrolled {
		if err := s.k.RequireStepUp(ctx, a, "mfa.enrol"); err != nil {
			return nil, err
		}
	}
	now := s.k.Clock()
	codes, hashes := newRecoveryCodes()
	err := s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		c, err := s.getTOTP(ctx, tx, a.UserID)
		if crm.IsCode(err, crm.NotFound) || err == nil && !c.ConfirmedAt.IsZero() {
			return &crm.Error{Code: crm.Conflict, Key: "mfa_not_pending", Message: "start setting up the authenticator app first"}
		} else if err != nil {
			return err
		}
		if err := useTOTP(ctx, tx, c, code, now); err != nil {
			return err
		}
		// A user who already has passkeys keeps their recovery codes.
		first, err := hasNoFactor(ctx, tx, a.UserID)
		if err != nil {
			return err
		}
		if err := tx.ConfirmTOTP(ctx, a.UserID, now); err != nil {
			return err
		}
		if !first {
			codes = nil
		} else if err := tx.ReplaceRecoveryCodes(ctx, a.UserID, hashes, now); err != nil {
			return err
		}
		if a.SessionID != 0 {
			if err := tx.MarkSecondFactor(ctx, a.SessionID, now); err != nil {
				return err
			}
		}
		return s.k.Audit(ctx, tx, a, "mfa.enrol", "", a.UserID, map[string]string{"method": "totp"})
	})
	if err != nil {
		return nil, err
	}
	a.MFAEnrolled, a.SecondFactorAt = true, now
	return codes, nil
}

// DisableTOTP removes the actor's authenticator app after checking a code
// (an app code or a recovery code). When no passkey remains the second
// factor is off and the recovery codes go too; a role that requires MFA
// does not allow that.
func (s *Service) DisableTOTP(ctx context.Context, a *access.Actor, code string) error {
	if err := accountSession(a); err != nil {
		return err
	}
	if !a.MFAEnrolled {
		return errNotEnrolled
	}
	enrolled := true
	_, err := s.withSecondFactor(ctx, a, s.codeFactor(code), "mfa.disable", func(tx *store.Tx, _ time.Time) error {
		if c, err := s.getTOTP(ctx, tx, a.UserID); crm.IsCode(err, crm.NotFound) || err == nil && c.ConfirmedAt.IsZero() {
			return errNotEnrolled
		} else if err != nil {
			return err
		}
		if err := tx.DeleteTOTP(ctx, a.UserID); err != nil {
			return err
		}
		var err error
		enrolled, err = factorRemoved(ctx, tx, a)
		return err
	})
	if err == nil {
		a.MFAEnrolled = enrolled
	}
	return err
}

// RegenerateRecoveryCodes replaces the actor's recovery codes, used or
// not, after checking a code; the new ones are shown once.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, a *access.Actor, code string) ([]string, error) {
	if err := accountSession(a); err != nil {
		return nil, err
	}
	if !a.MFAEnrolled {
		return nil, errNotEnrolled
	}
	codes, hashes := newRecoveryCodes()
	_, err := s.withSecondFactor(ctx, a, s.codeFactor(code), "mfa.recovery_codes", func(tx *store.Tx, now time.Time) error {
		return tx.ReplaceRecoveryCodes(ctx, a.UserID, hashes, now)
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// StepUp verifies a second factor within a session, so that operations
// guarded by requireStepUp are allowed for StepUpWindow. API tokens cannot
// step up. Wrong codes count towards the account's sign-in lockout.
func (s *Service) StepUp(ctx context.Context, a *access.Actor, code string) error {
	return s.stepUp(ctx, a, s.codeFactor(code))
}

func (s *Service) stepUp(ctx context.Context, a *access.Actor, f factor) error {
	if err := signedIn(a); err != nil {
		return err
	}
	if a.Kind != access.KindUser {
		return kernel.ErrStepUpToken
	}
	if !a.MFAEnrolled {
		return kernel.ErrStepUpEnrol
	}
	now, err := s.withSecondFactor(ctx, a, f, "step_up", func(tx *store.Tx, now time.Time) error {
		if a.SessionID == 0 {
			return nil
		}
		return tx.MarkSecondFactor(ctx, a.SessionID, now)
	})
	if err != nil {
		return err
	}
	a.SecondFactorAt = now
	return nil
}

// CompleteLogin verifies the second factor of a pending session (see
// Login). On success the session gets a new token (returned; the one
// issued after the password stops working) and counts as freshly verified.
// Wrong codes are throttled exactly like wrong passwords.
func (s *Service) CompleteLogin(ctx context.Context, a *access.Actor, code string) (LoginResult, error) {
	return s.completeLogin(ctx, a, s.codeFactor(code))
}

func (s *Service) completeLogin(ctx context.Context, a *access.Actor, f factor) (LoginResult, error) {
	if a == nil || !a.MFAPending {
		return LoginResult{}, &crm.Error{Code: crm.Conflict, Key: "not_pending", Message: "this session is not waiting for a second factor"}
	}
	res := LoginResult{Token: RandomToken(32), CSRFToken: RandomToken(32)}
	now, err := s.withSecondFactor(ctx, a, f, "login", func(tx *store.Tx, now time.Time) error {
		res.ExpiresAt = now.Add(SessionIdle)
		if err := tx.CompleteSecondFactor(ctx, a.SessionID, hashToken(res.Token), res.CSRFToken, now, res.ExpiresAt); err != nil {
			return err
		}
		if err := tx.ResetLoginFailures(ctx, a.UserID); err != nil {
			return err
		}
		if err := tx.InsertSignIn(ctx, a.UserID, now); err != nil {
			return err
		}
		var err error
		res.User, err = tx.GetUser(ctx, a.UserID)
		return err
	})
	if err != nil {
		return LoginResult{}, err
	}
	a.SecondFactorAt = now
	return res, nil
}

// factor is a second factor a user offers: a code, or a passkey's answer
// to a challenge. It checks what needs no transaction (a passkey's
// challenge and signature) and returns the use that consumes it inside the
// transaction of what it unlocks, describing it for the audit event.
type factor func(ctx context.Context, a *access.Actor, now time.Time) (factorUse, error)

type factorUse func(ctx context.Context, tx *store.Tx, now time.Time) (audit map[string]any, err error)

// codeFactor is a TOTP code or a recovery code.
func (s *Service) codeFactor(code string) factor {
	return func(_ context.Context, a *access.Actor, _ time.Time) (factorUse, error) {
		return func(ctx context.Context, tx *store.Tx, now time.Time) (map[string]any, error) {
			method, err := s.useSecondFactor(ctx, tx, a.UserID, code, now)
			return map[string]any{"method": method}, err
		}, nil
	}
}

// withSecondFactor checks the account is not locked, consumes the offered
// second factor and runs then, auditing action with the method used, all
// in one transaction. A wrong code or a refused passkey is recorded as a
// failed sign-in (counted towards the lockout and the address throttle)
// and audited as action+".failed"; a passkey whose counter went backwards
// is blocked in the same transaction.
func (s *Service) withSecondFactor(ctx context.Context, a *access.Actor, offered factor, action string, then func(tx *store.Tx, now time.Time) error) (time.Time, error) {
	now := s.k.Clock()
	var failures int
	var locked time.Time
	err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if failures, err = tx.CountFailedLogins(ctx, a.IP, now.Add(-lockFor)); err != nil {
			return err
		}
		locked, err = tx.LockedUntil(ctx, a.UserID)
		return err
	})
	if err != nil {
		return now, err
	}
	if failures >= ipFailuresPerQuart {
		s.k.AuditDenied(ctx, a, action+".throttled", "", a.UserID)
		return now, errTooManyLogins
	}
	if now.Before(locked) {
		s.k.AuditDenied(ctx, a, action+".locked", "", a.UserID)
		return now, errAccountLocked
	}
	use, err := offered(ctx, a, now)
	if err == nil {
		err = s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
			fields, err := use(ctx, tx, now)
			if err != nil {
				return err
			}
			if err := then(tx, now); err != nil {
				return err
			}
			return s.k.Audit(ctx, tx, a, action, "", a.UserID, fields)
		})
	}
	var refused *passkeyRefusal
	switch {
	case errors.Is(err, errWrongCode):
		s.recordLogin(ctx, a, "", action+".failed", a.UserID, nil, nil)
	case errors.As(err, &refused):
		fields := map[string]any{"method": "passkey", "reason": refused.reason}
		if refused.detail != "" {
			fields["detail"] = refused.detail
		}
		var block func(tx *store.Tx) error
		if refused.passkeyID != 0 {
			fields["passkey"] = refused.passkeyID
		}
		if refused.block {
			fields["blocked"] = true
			block = func(tx *store.Tx) error { return tx.BlockPasskey(ctx, refused.passkeyID, now) }
		}
		s.recordLogin(ctx, a, "", action+".failed", a.UserID, fields, block)
	}
	return now, err
}

// useSecondFactor accepts a TOTP code of a step after the last accepted
// one, or an unused recovery code, and consumes it. It returns the method
// ("totp" or "recovery_code") or errWrongCode. Recovery codes exist only
// while the user has a second factor (an authenticator app or a passkey).
func (s *Service) useSecondFactor(ctx context.Context, tx *store.Tx, userID int64, code string, now time.Time) (string, error) {
	norm := normaliseCode(code)
	if len(norm) == 6 && isDigits(norm) {
		c, err := s.getTOTP(ctx, tx, userID)
		if crm.IsCode(err, crm.NotFound) || err == nil && c.ConfirmedAt.IsZero() {
			return "", errWrongCode
		} else if err != nil {
			return "", err
		}
		return "totp", useTOTP(ctx, tx, c, norm, now)
	}
	if len(norm) != recoveryCodeChars {
		return "", errWrongCode
	}
	if err := tx.UseRecoveryCode(ctx, userID, hashToken(norm), now); crm.IsCode(err, crm.NotFound) {
		return "", errWrongCode
	} else if err != nil {
		return "", err
	}
	return "recovery_code", nil
}

// useTOTP checks a code against the steps around now (constant-time) and
// records its step; a code of the last accepted step or an earlier one is
// refused, so an observed code cannot be replayed.
func useTOTP(ctx context.Context, tx *store.Tx, c store.TOTPCredential, code string, now time.Time) error {
	code = normaliseCode(code)
	cur := now.Unix() / totpPeriod
	var matched int64 = -1
	for step := cur - totpSkew; step <= cur+totpSkew; step++ {
		want, err := totp.GenerateCodeCustom(c.Secret, time.Unix(step*totpPeriod, 0), totpOpts)
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			matched = step
		}
	}
	if matched < 0 || matched <= c.LastStep {
		return errWrongCode
	}
	if err := tx.UseTOTPStep(ctx, c.UserID, matched); crm.IsCode(err, crm.NotFound) {
		return errWrongCode
	} else if err != nil {
		return err
	}
	return nil
}

// recoveryCodeChars is the length of a recovery code without separators:
// 16 base32 characters, 80 random bits, so SHA-256 suffices as its hash.
const recoveryCodeChars = 16

var recoveryEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newRecoveryCodes returns fresh codes as shown ("abcd-efgh-ijkl-mnop")
// and their hashes as stored.
func newRecoveryCodes() (codes, hashes []string) {
	for range RecoveryCodeCount {
		b := make([]byte, 10)
		rand.Read(b)
		raw := recoveryEncoding.EncodeToString(b)
		codes = append(codes, raw[0:4]+"-"+raw[4:8]+"-"+raw[8:12]+"-"+raw[12:16])
		hashes = append(hashes, hashToken(raw))
	}
	return codes, hashes
}

// normaliseCode drops spaces and dashes and folds case, as people type
// codes read from a phone or a sheet of paper.
func normaliseCode(code string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			return -1
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return r
	}, strings.TrimSpace(code))
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// ResetUserMFA removes another user's second factor and recovery codes and
// ends their sessions (administrators with a fresh second factor). An
// administrator's password reset never does this; it is its own audited
// action. If the user's role requires MFA they must enrol again at their
// next sign-in.
func (s *Service) ResetUserMFA(ctx context.Context, a *access.Actor, userID int64) error {
	if err := s.k.RequireAdmin(ctx, a, "user.reset_mfa"); err != nil {
		return err
	}
	if userID == a.UserID {
		return &crm.Error{Code: crm.Invalid, Key: "invalid", Message: "use your account page for your own second factor",
			Fields: []crm.FieldError{{Field: "id", Rule: "self"}}}
	}
	if err := s.k.RequireStepUp(ctx, a, "user.reset_mfa"); err != nil {
		return err
	}
	return s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.GetUser(ctx, userID); err != nil {
			return err
		}
		if err := tx.DeleteMFA(ctx, userID); err != nil {
			return err
		}
		if _, err := tx.DeleteUserSessions(ctx, userID, 0); err != nil {
			return err
		}
		return s.k.Audit(ctx, tx, a, "user.reset_mfa", "", userID, nil)
	})
}

// UserMFA reports whether a user has a confirmed second factor, for the
// administration pages (administrators only).
func (s *Service) UserMFA(ctx context.Context, a *access.Actor, userID int64) (bool, error) {
	if err := s.k.RequireAdmin(ctx, a, "user.mfa_status"); err != nil {
		return false, err
	}
	var enrolled bool
	err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) error {
		p, err := tx.UserPrincipal(ctx, userID)
		enrolled = p.MFAEnrolled
		return err
	})
	return enrolled, err
}
