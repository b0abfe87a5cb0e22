package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
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
// stored; CSRFToken goes into forms.
type LoginResult struct {
	Token     string
	CSRFToken string
	User      crm.User
	ExpiresAt time.Time
}

var errBadLogin = &crm.Error{Code: crm.Unauthenticated, Key: "bad_login", Message: "wrong user name or password"}

// Login checks a password and opens a session. A wrong user name and a wrong
// password give the same answer; repeated failures lock the account for a
// while and throttle the IP address.
func (s *Service) Login(ctx context.Context, username, password string, c Client) (LoginResult, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	now := s.clock()
	var res LoginResult
	var ua store.UserAuth
	var failures int
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if failures, err = tx.CountFailedLogins(ctx, c.IP, now.Add(-lockFor)); err != nil {
			return err
		}
		ua, err = tx.GetUserAuth(ctx, username)
		return err
	})
	if err != nil && !crm.IsCode(err, crm.NotFound) {
		return res, err
	}
	found := err == nil
	actor := &access.Actor{Kind: access.KindUser, UserID: ua.ID, Name: username, IP: c.IP, UserAgent: c.UserAgent, RequestID: c.RequestID}
	if failures >= ipFailuresPerQuart {
		s.auditDenied(ctx, actor, "login.throttled", "", 0)
		return res, &crm.Error{Code: crm.RateLimited, Key: "too_many_logins", Message: "too many failed sign-ins; try again later"}
	}
	if found && now.Before(ua.LockedUntil) {
		s.recordLogin(ctx, actor, username, false, "login.locked", 0)
		return res, &crm.Error{Code: crm.RateLimited, Key: "account_locked", Message: "too many failed sign-ins; the account is locked for a while"}
	}
	// Hash even for an unknown user so timing does not reveal which names exist.
	hash := ua.PasswordHash
	if !found {
		hash = s.dummyHash
	}
	ok := checkPassword(password, hash) && found && !ua.Disabled
	if !ok {
		s.recordLogin(ctx, actor, username, false, "login.failed", ua.ID)
		return res, errBadLogin
	}
	res = LoginResult{Token: randomToken(32), CSRFToken: randomToken(32), User: ua.User, ExpiresAt: now.Add(SessionIdle)}
	err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
		sess := &store.Session{TokenHash: hashToken(res.Token), CSRFToken: res.CSRFToken, UserID: ua.ID, CreatedAt: now,
			ExpiresAt: res.ExpiresAt, IP: c.IP, UserAgent: truncate(c.UserAgent, 300)}
		if err := tx.InsertSession(ctx, sess); err != nil {
			return err
		}
		if err := tx.ResetLoginFailures(ctx, ua.ID); err != nil {
			return err
		}
		if err := tx.InsertLoginAttempt(ctx, username, c.IP, true, now); err != nil {
			return err
		}
		actor.Name = ua.DisplayName
		return s.audit(ctx, tx, actor, "login", "", 0, nil)
	})
	if err != nil {
		return LoginResult{}, err
	}
	return res, nil
}

// recordLogin stores a failed attempt, counts it against the account and
// audits it, all in one transaction.
func (s *Service) recordLogin(ctx context.Context, a *access.Actor, username string, ok bool, action string, userID int64) {
	now := s.clock()
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertLoginAttempt(ctx, username, a.IP, ok, now); err != nil {
			return err
		}
		if userID != 0 && action == "login.failed" {
			if _, err := tx.RecordLoginFailure(ctx, userID, lockAfterFailures, now.Add(lockFor)); err != nil {
				return err
			}
		}
		e := s.event(a, action, "", 0)
		e.Outcome = "denied"
		return tx.InsertAuditEvent(ctx, e)
	})
	if err != nil {
		s.logger.Error("record sign-in attempt", "err", err)
	}
}

// Authenticate turns a session token from a cookie into an actor. A disabled
// user's sessions stop working on the very next request.
func (s *Service) Authenticate(ctx context.Context, token string, c Client) (*access.Actor, error) {
	if token == "" {
		return nil, crm.Errorf(crm.Unauthenticated, "not signed in")
	}
	now := s.clock()
	var sess store.Session
	var actor *access.Actor
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var p store.Principal
		var err error
		if sess, p, err = tx.SessionPrincipal(ctx, hashToken(token), now); err != nil {
			return err
		}
		actor, err = principalActor(p)
		return err
	})
	if err != nil {
		return nil, unauthenticated(err)
	}
	actor.Kind, actor.SessionID, actor.CSRFToken = access.KindUser, sess.ID, sess.CSRFToken
	actor.IP, actor.UserAgent, actor.RequestID = c.IP, c.UserAgent, c.RequestID
	// Sliding expiry, written at most once a minute per session (DESIGN.md §2).
	if now.Sub(sess.LastSeenAt) >= sessionTouchEvery {
		if err := s.db.WriteTx(ctx, func(tx *store.Tx) error { return tx.TouchSession(ctx, sess.ID, now, now.Add(SessionIdle)) }); err != nil {
			s.logger.Warn("touch session", "err", err)
		}
	}
	return actor, nil
}

// AuthenticateToken turns an API bearer token into an actor.
func (s *Service) AuthenticateToken(ctx context.Context, token string, c Client) (*access.Actor, error) {
	if !strings.HasPrefix(token, tokenPrefix) {
		return nil, crm.Errorf(crm.Unauthenticated, "invalid API token")
	}
	now := s.clock()
	var t store.APIToken
	var actor *access.Actor
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var p store.Principal
		var err error
		if t, p, err = tx.TokenPrincipal(ctx, hashToken(token), now); err != nil {
			return err
		}
		actor, err = principalActor(p)
		return err
	})
	if err != nil {
		return nil, unauthenticated(err)
	}
	actor.Kind, actor.TokenID = access.KindToken, t.ID
	actor.IP, actor.UserAgent, actor.RequestID = c.IP, c.UserAgent, c.RequestID
	if now.Sub(t.LastUsedAt) >= sessionTouchEvery {
		if err := s.db.WriteTx(ctx, func(tx *store.Tx) error { return tx.TouchAPIToken(ctx, t.ID, now) }); err != nil {
			s.logger.Warn("touch api token", "err", err)
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

// loadActor reads a live user with role and department.
func (s *Service) loadActor(ctx context.Context, tx *store.Tx, userID int64) (*access.Actor, error) {
	u, err := tx.GetUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	role, err := tx.GetRole(ctx, u.RoleID)
	if err != nil {
		return nil, err
	}
	dept, err := tx.GetDepartment(ctx, u.DepartmentID)
	if err != nil {
		return nil, err
	}
	return principalActor(store.Principal{User: u, Role: role, Department: dept})
}

// principalActor makes the actor of a live user; a disabled user is
// refused, so disabling takes effect on the very next request.
func principalActor(p store.Principal) (*access.Actor, error) {
	u := p.User
	if u.Disabled {
		return nil, crm.Errorf(crm.Unauthenticated, "user disabled")
	}
	return &access.Actor{UserID: u.ID, Name: u.DisplayName, DeptID: p.Department.ID, DeptPath: p.Department.Path, Role: p.Role,
		Lang: u.Lang, MustChangePassword: u.MustChangePW}, nil
}

// Logout ends the actor's session.
func (s *Service) Logout(ctx context.Context, a *access.Actor) error {
	if a.SessionID == 0 {
		return nil
	}
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteSession(ctx, a.SessionID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "logout", "", 0, nil)
	})
}

// ChangePassword checks the current password, stores the new one and ends
// every other session of the user.
func (s *Service) ChangePassword(ctx context.Context, a *access.Actor, current, next string) error {
	if err := crm.ValidatePassword("new_password", next); err != nil {
		return err
	}
	var hash string
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		hash, err = tx.PasswordHash(ctx, a.UserID)
		return err
	})
	if err != nil {
		return err
	}
	if !checkPassword(current, hash) {
		s.auditDenied(ctx, a, "password.change", "", 0)
		return &crm.Error{Code: crm.Invalid, Message: "the current password is wrong", Fields: []crm.FieldError{{Field: "current_password", Rule: "wrong"}}}
	}
	newHash, err := hashPassword(next, s.argon)
	if err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetPassword(ctx, a.UserID, newHash, false, s.clock()); err != nil {
			return err
		}
		if err := tx.DeleteUserSessions(ctx, a.UserID, a.SessionID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "password.change", "", 0, nil)
	})
}

// NewAPIToken is a token just created: Secret is shown once and never again.
type NewAPIToken struct {
	store.APIToken
	Secret string `json:"secret"`
}

// CreateAPIToken issues a personal API token for the actor.
func (s *Service) CreateAPIToken(ctx context.Context, a *access.Actor, name string, expires *time.Time) (NewAPIToken, error) {
	var p crm.Problems
	name = p.Text("name", name, true, 60)
	now := s.clock()
	if expires != nil && !expires.After(now) {
		p.Add("expires_at", "past")
	}
	if err := p.Err(); err != nil {
		return NewAPIToken{}, err
	}
	if a.Kind != access.KindUser {
		return NewAPIToken{}, crm.ErrForbidden() // a token cannot mint tokens
	}
	secret := tokenPrefix + randomToken(32)
	t := store.APIToken{UserID: a.UserID, Name: name, Prefix: secret[:len(tokenPrefix)+6], CreatedAt: now}
	if expires != nil {
		t.ExpiresAt = expires.UTC()
	}
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertAPIToken(ctx, &t, hashToken(secret)); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "api_token.create", "", t.ID, map[string]string{"name": name})
	})
	return NewAPIToken{APIToken: t, Secret: secret}, err
}

// ListAPITokens lists the actor's own tokens (never their secrets).
func (s *Service) ListAPITokens(ctx context.Context, a *access.Actor) ([]store.APIToken, error) {
	var out []store.APIToken
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.ListAPITokens(ctx, a.UserID)
		return err
	})
	return out, err
}

// RevokeAPIToken retires one of the actor's tokens.
func (s *Service) RevokeAPIToken(ctx context.Context, a *access.Actor, id int64) error {
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.RevokeAPIToken(ctx, a.UserID, id, s.clock()); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "api_token.revoke", "", id, nil)
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
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		a, err = s.loadActor(ctx, tx, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	a.Kind = access.KindUser
	return a, nil
}
