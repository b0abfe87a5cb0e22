package identity

import (
	"context"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// SessionInfo is one live session as its user or an administrator sees it;
// Current marks the session the request came with.
type SessionInfo struct {
	store.Session
	Current bool `json:"current"`
}

// signedIn refuses an actor whose sign-in is not complete (a session still
// waiting for its second factor), for the account functions that do not go
// through role permissions.
func signedIn(a *access.Actor) error {
	if a == nil || a.MFAPending {
		return crm.Errorf(crm.Unauthenticated, "not signed in")
	}
	return nil
}

// accountManagement refuses what only the person at the keyboard may do
// with their account — list or end sessions, list or revoke tokens, see
// or change the second factor — to anything but a complete browser
// session: a leaked token, whatever its scopes, must not be able to
// sign its owner out or revoke the owner's other tokens. The attempt is
// audited.
func (s *Service) accountManagement(ctx context.Context, a *access.Actor, action string) error {
	if err := signedIn(a); err != nil {
		return err
	}
	if a.Kind != access.KindUser {
		s.k.AuditDenied(ctx, a, action, "", 0)
		return errNeedsSession
	}
	return nil
}

// ListSessions returns the live sessions of a user: the actor's own
// (userID 0 or the actor), or anyone's for an administrator (audited).
func (s *Service) ListSessions(ctx context.Context, a *access.Actor, userID int64) ([]SessionInfo, error) {
	if err := s.accountManagement(ctx, a, "session.list"); err != nil {
		return nil, err
	}
	if userID == 0 {
		userID = a.UserID
	}
	other := userID != a.UserID
	if other {
		if err := s.k.RequireAdmin(ctx, a, "session.list"); err != nil {
			return nil, err
		}
	}
	var list []store.Session
	err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) error {
		if other {
			if _, err := tx.GetUser(ctx, userID); err != nil {
				return err
			}
		}
		var err error
		list, err = tx.ListUserSessions(ctx, userID, s.k.Clock())
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]SessionInfo, len(list))
	for i, ss := range list {
		out[i] = SessionInfo{Session: ss, Current: a.SessionID != 0 && ss.ID == a.SessionID}
	}
	if other {
		if err := s.k.AuditRead(ctx, a, "session.list", "", userID, sessionIDs(list)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// EndSession ends one session: any of the actor's own, or (administrators,
// with a fresh second factor) anyone's. Someone else's session looks like
// no session at all to a non-administrator.
func (s *Service) EndSession(ctx context.Context, a *access.Actor, id int64) error {
	if err := s.accountManagement(ctx, a, "session.end"); err != nil {
		return err
	}
	var sess store.Session
	err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		sess, err = tx.GetSession(ctx, id, s.k.Clock())
		return err
	})
	if err != nil {
		return err
	}
	if sess.UserID != a.UserID {
		if !a.IsAdmin() {
			s.k.AuditDenied(ctx, a, "session.end", "", id)
			return crm.ErrNotFound("session")
		}
		if err := s.k.RequireStepUp(ctx, a, "session.end"); err != nil {
			return err
		}
	}
	return s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteSession(ctx, id); err != nil {
			return err
		}
		return s.k.Audit(ctx, tx, a, "session.end", "", id, map[string]int64{"user_id": sess.UserID})
	})
}

// EndUserSessions ends a user's sessions. For the actor's own account it
// ends every session but the current one ("sign out everywhere else");
// for someone else it ends them all and needs an administrator with a
// fresh second factor. It returns how many sessions ended.
func (s *Service) EndUserSessions(ctx context.Context, a *access.Actor, userID int64) (int64, error) {
	if err := s.accountManagement(ctx, a, "session.end_all"); err != nil {
		return 0, err
	}
	keep := int64(0)
	if userID == a.UserID {
		keep = a.SessionID
	} else {
		if err := s.k.RequireAdmin(ctx, a, "session.end_all"); err != nil {
			return 0, err
		}
		if err := s.k.RequireStepUp(ctx, a, "session.end_all"); err != nil {
			return 0, err
		}
	}
	var n int64
	err := s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.GetUser(ctx, userID); err != nil {
			return err
		}
		var err error
		if n, err = tx.DeleteUserSessions(ctx, userID, keep); err != nil {
			return err
		}
		return s.k.Audit(ctx, tx, a, "session.end_all", "", userID, map[string]int64{"ended": n})
	})
	return n, err
}

// sessionIDs are the ids of listed sessions, for the list's audit event.
func sessionIDs(list []store.Session) []int64 {
	out := make([]int64, len(list))
	for i, x := range list {
		out[i] = x.ID
	}
	return out
}
