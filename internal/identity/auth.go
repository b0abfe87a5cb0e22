package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/kernel"
	"custos/internal/store"
)

// Sign-in limits. Failures are counted in the database, so every instance
// sees the same count and a restart does not reset it.
const (
	SessionIdle        = 12 * time.Hour
	sessionTouchEvery  = time.Minute
	lockAfterFailures  = 5
	lockFor            = 15 * time.Minute
	ipFailuresPerQuart = 30 // failed sign-ins per IP address per 15 minutes
	tokenPrefix        = "cst_"
	// pendingLoginFor is how long a password-only session waits for its
	// second factor.
	pendingLoginFor = 10 * time.Minute
)

// hashToken is how sessions and API tokens are stored: SHA-256 of a
// 32-byte random secret (a slow hash adds nothing to a random secret).
func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// Client describes where a request came from, for sessions and audit.
type Client struct {
	IP        string
	UserAgent string
	RequestID string
}

// LoginResult is a new session: Token goes into the cookie and is never
// stored; CSRFToken goes into forms. MFARequired says the session is
// pending: it opens nothing until CompleteLogin verifies the second factor.
type LoginResult struct {
	Token       string
	CSRFToken   string
	User        crm.User
	ExpiresAt   time.Time
	MFARequired bool
}

var errBadLogin = &crm.Error{Code: crm.Unauthenticated, Key: "bad_login", Message: "wrong user name or password"}

// Login checks a password and opens a session. A wrong user name and a wrong
// password give the same answer; repeated failures lock the account for a
// while and throttle the IP address. For a user with a second factor the
// session is pending (see CompleteLogin), and the failure count is kept
// until the second factor succeeds too, so wrong codes count towards the
// same lockout as wrong passwords.
func (s *Service) Login(ctx context.Context, username, password string, c Client) (LoginResult, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	now := s.k.Clock()
	var res LoginResult
	var ua store.UserAuth
	var failures int
	err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if failures, err = tx.CountFailedLogins(ctx, c.IP, now.Add(-lockFor)); err != nil {
			return err
		}
		ua, err = tx.GetUserAuth(ctx, username)
		if crm.IsCode(err, crm.NotFound) {
			// A name without an account locks like one with: the
			// answer must not say which names exist.
			ua = store.UserAuth{}
			var lockErr error
			if ua.LockedUntil, lockErr = tx.NameLockedUntil(ctx, username); lockErr != nil {
				return lockErr
			}
		}
		return err
	})
	if err != nil && !crm.IsCode(err, crm.NotFound) {
		return res, err
	}
	found := err == nil
	actor := clientActor(ua.ID, username, c)
	if failures >= ipFailuresPerQuart {
		s.k.AuditDenied(ctx, actor, "login.throttled", "", 0)
		return res, errTooManyLogins
	}
	if now.Before(ua.LockedUntil) {
		s.recordLogin(ctx, actor, username, "login.locked", 0, nil, nil)
		return res, errAccountLocked
	}
	// Hash even for an unknown user so timing does not reveal which names exist.
	hash := ua.PasswordHash
	if !found {
		hash = s.dummyHash
	}
	ok := checkPassword(password, hash) && found && !ua.Disabled
	if !ok {
		s.recordLogin(ctx, actor, username, "login.failed", ua.ID, nil, nil)
		return res, errBadLogin
	}
	res = LoginResult{Token: RandomToken(32), CSRFToken: RandomToken(32), User: ua.User, ExpiresAt: now.Add(SessionIdle),
		MFARequired: ua.MFAEnrolled}
	if res.MFARequired {
		res.ExpiresAt = now.Add(pendingLoginFor)
	}
	err = s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		sess := &store.Session{TokenHash: hashToken(res.Token), CSRFToken: res.CSRFToken, UserID: ua.ID, CreatedAt: now,
			ExpiresAt: res.ExpiresAt, IP: c.IP, UserAgent: truncate(c.UserAgent, 300), MFAPending: res.MFARequired}
		if err := tx.InsertSession(ctx, sess); err != nil {
			return err
		}
		actor.Name = ua.DisplayName
		if res.MFARequired {
			return s.k.Audit(ctx, tx, actor, "login.password", "", 0, nil)
		}
		if err := tx.ResetLoginFailures(ctx, ua.ID); err != nil {
			return err
		}
		if err := tx.InsertLoginAttempt(ctx, username, c.IP, true, now); err != nil {
			return err
		}
		if err := tx.InsertSignIn(ctx, ua.ID, now); err != nil {
			return err
		}
		return s.k.Audit(ctx, tx, actor, "login", "", 0, nil)
	})
	if err != nil {
		return LoginResult{}, err
	}
	return res, nil
}

var (
	errTooManyLogins = &crm.Error{Code: crm.RateLimited, Key: "too_many_logins", Message: "too many failed sign-ins; try again later"}
	errAccountLocked = &crm.Error{Code: crm.RateLimited, Key: "account_locked", Message: "too many failed sign-ins; the account is locked for a while"}
)

// clientActor is the actor of a sign-in attempt, before there is a session.
func clientActor(userID int64, name string, c Client) *access.Actor {
	return &access.Actor{Kind: access.KindUser, UserID: userID, Name: name, IP: c.IP, UserAgent: c.UserAgent, RequestID: c.RequestID}
}

// recordLogin stores a failed attempt, counts it against the account (a
// wrong password or a refused second factor) and audits it with fields,
// all in one transaction with also (when not nil).
func (s *Service) recordLogin(ctx context.Context, a *access.Actor, username string, action string, userID int64, fields map[string]any, also func(tx *store.Tx) error) {
	now := s.k.Clock()
	err := s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertLoginAttempt(ctx, username, a.IP, false, now); err != nil {
			return err
		}
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		if strings.HasSuffix(action, ".failed") {
			if userID != 0 {
				if _, err := tx.RecordLoginFailure(ctx, userID, lockAfterFailures, now.Add(lockFor)); err != nil {
					return err
				}
			} else if username != "" {
				if err := tx.RecordNameFailure(ctx, username, lockAfterFailures, now.Add(lockFor)); err != nil {
					return err
				}
			}
		}
		e := s.k.Event(a, action, "", 0)
		e.Outcome = "denied"
		if fields != nil {
			e.Fields = kernel.MustJSON(fields)
		}
		return s.k.InsertEvent(ctx, tx, e)
	})
	if err != nil {
		s.k.Logger.Error("record sign-in attempt", "err", err)
	}
}

// Authenticate turns a session token from a cookie into an actor. A disabled
// user's sessions stop working on the very next request. A session waiting
// for its second factor gives an actor with MFAPending and no permissions.
func (s *Service) Authenticate(ctx context.Context, token string, c Client) (*access.Actor, error) {
	if token == "" {
		return nil, crm.Errorf(crm.Unauthenticated, "not signed in")
	}
	now := s.k.Clock()
	var sess store.Session
	var actor *access.Actor
	err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) error {
		var p store.Principal
		var err error
		if sess, p, err = tx.SessionPrincipal(ctx, hashToken(token), now); err != nil {
			return err
		}
		if actor, err = kernel.PrincipalActor(p); err != nil {
			return err
		}
		return kernel.WithShares(ctx, tx, actor, now)
	})
	if err != nil {
		return nil, unauthenticated(err)
	}
	actor.Kind, actor.SessionID, actor.CSRFToken = access.KindUser, sess.ID, sess.CSRFToken
	actor.IP, actor.UserAgent, actor.RequestID = c.IP, c.UserAgent, c.RequestID
	actor.SecondFactorAt = sess.SecondFactorAt
	if sess.MFAPending {
		// The password alone grants nothing: no role, so every service
		// call is refused even if a surface forgot its gate. The pending
		// session is not extended either.
		actor.MFAPending, actor.Role = true, crm.Role{}
		return actor, nil
	}
	// Sliding expiry, written at most once a minute per session (DESIGN.md §2).
	if now.Sub(sess.LastSeenAt) >= sessionTouchEvery {
		if err := s.k.DB.WriteTx(ctx, func(tx *store.Tx) error { return tx.TouchSession(ctx, sess.ID, now, now.Add(SessionIdle), c.IP) }); err != nil {
			s.k.Logger.Warn("touch session", "err", err)
		}
	}
	return actor, nil
}

// AuthenticateToken turns an API bearer token into an actor whose role is
// narrowed to the token's scopes. A revoked or expired token, a token used
// from outside its IP allow-list and a disabled user's token are refused
// (and, being known tokens, the refusal is audited).
func (s *Service) AuthenticateToken(ctx context.Context, token string, c Client) (*access.Actor, error) {
	if !strings.HasPrefix(token, tokenPrefix) {
		return nil, crm.Errorf(crm.Unauthenticated, "invalid API token")
	}
	now := s.k.Clock()
	var t crm.APIToken
	var p store.Principal
	var shared []crm.Object
	err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if t, p, err = tx.TokenPrincipal(ctx, hashToken(token)); err != nil {
			return err
		}
		shared, err = tx.SharedObjects(ctx, p.User.ID, p.Department.ID, now)
		return err
	})
	if err != nil {
		return nil, unauthenticated(err)
	}
	var refused *crm.Error
	switch {
	case p.User.Disabled:
		// Named, as docs/api.md promises: whoever holds the token was given
		// it by its owner, and "disabled" tells an integration to stop
		// retrying and call an administrator; it tells a stranger, who has
		// no valid token, nothing.
		refused = &crm.Error{Code: crm.Unauthenticated, Key: "token_user_disabled", Message: "the API token's user is disabled"}
	case !t.RevokedAt.IsZero():
		refused = &crm.Error{Code: crm.Unauthenticated, Key: "token_revoked", Message: "the API token was revoked"}
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		refused = &crm.Error{Code: crm.Unauthenticated, Key: "token_expired", Message: "the API token has expired"}
	case !crm.IPAllowed(t.AllowedIPs, c.IP):
		refused = &crm.Error{Code: crm.Unauthenticated, Key: "token_ip", Message: "the API token is not accepted from this address"}
	}
	if refused != nil {
		a := clientActor(p.User.ID, p.User.DisplayName, c)
		a.Kind, a.TokenID = access.KindToken, t.ID
		s.k.AuditFields(ctx, a, "api_token.refused", t.ID, map[string]string{"reason": refused.Key}, "denied")
		return nil, refused
	}
	actor, err := kernel.PrincipalActor(p)
	if err != nil {
		return nil, unauthenticated(err)
	}
	actor.Kind, actor.TokenID, actor.TokenScopes = access.KindToken, t.ID, t.Scopes
	actor.Shared, actor.SharedAt = shared, now
	actor.Role = actor.Role.LimitedTo(t.Scopes)
	actor.IP, actor.UserAgent, actor.RequestID = c.IP, c.UserAgent, c.RequestID
	if now.Sub(t.LastUsedAt) >= sessionTouchEvery {
		if err := s.k.DB.WriteTx(ctx, func(tx *store.Tx) error { return tx.TouchAPIToken(ctx, t.ID, now, c.IP) }); err != nil {
			s.k.Logger.Warn("touch api token", "err", err)
		}
	}
	return actor, nil
}

func unauthenticated(err error) error {
	if crm.IsCode(err, crm.NotFound) || crm.IsCode(err, crm.Unauthenticated) {
		return crm.Errorf(crm.Unauthenticated, "not signed in")
	}
	return err
}

// Logout ends the actor's session.
func (s *Service) Logout(ctx context.Context, a *access.Actor) error {
	if a.SessionID == 0 {
		return nil
	}
	return s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteSession(ctx, a.SessionID); err != nil {
			return err
		}
		return s.k.Audit(ctx, tx, a, "logout", "", 0, nil)
	})
}

// ChangePassword checks the current password, stores the new one and ends
// every other session of the user.
func (s *Service) ChangePassword(ctx context.Context, a *access.Actor, current, next string) error {
	if err := signedIn(a); err != nil {
		return err
	}
	if err := crm.ValidatePassword("new_password", next); err != nil {
		return err
	}
	var hash string
	err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		hash, err = tx.PasswordHash(ctx, a.UserID)
		return err
	})
	if err != nil {
		return err
	}
	if !checkPassword(current, hash) {
		s.k.AuditDenied(ctx, a, "password.change", "", 0)
		return &crm.Error{Code: crm.Invalid, Message: "the current password is wrong", Fields: []crm.FieldError{{Field: "current_password", Rule: "wrong"}}}
	}
	newHash, err := HashPassword(next, s.argon)
	if err != nil {
		return err
	}
	return s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetPassword(ctx, a.UserID, newHash, false, s.k.Clock()); err != nil {
			return err
		}
		if _, err := tx.DeleteUserSessions(ctx, a.UserID, a.SessionID); err != nil {
			return err
		}
		return s.k.Audit(ctx, tx, a, "password.change", "", 0, nil)
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// UserActor returns an actor for a named user, for the CLI and for jobs that
// act on someone's behalf. It fails for a disabled user.
func (s *Service) UserActor(ctx context.Context, userID int64) (*access.Actor, error) {
	var a *access.Actor
	err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		a, err = s.k.LoadActor(ctx, tx, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	a.Kind = access.KindUser
	return a, nil
}
