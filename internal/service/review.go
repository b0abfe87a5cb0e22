package service

import (
	"context"
	"slices"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// Access review (issue 3): each manager periodically reviews who in their
// subtree can see what — roles and their scopes, records shared with them,
// API tokens — revokes what is no longer needed in the same place, and
// confirms the review. Viewing and confirming are audited.

// ReviewEvery is how often a manager is asked to review their subtree.
const ReviewEvery = 90 * 24 * time.Hour

// ReviewEntry is one person in an access review.
type ReviewEntry struct {
	User     crm.User                 `json:"user"`
	Role     string                   `json:"role"`
	Admin    bool                     `json:"admin"`
	Scopes   map[crm.Object]crm.Scope `json:"scopes"` // read scope per object the role may read
	Tokens   []crm.APIToken           `json:"tokens"` // live tokens
	Shares   []crm.RecordShare        `json:"shares"` // records shared with the user or their department
	Sessions int                      `json:"sessions"`
}

// AccessReview is a reviewer's subtree as it stands.
type AccessReview struct {
	Departments   []crm.Department `json:"departments"`
	Entries       []ReviewEntry    `json:"entries"`
	LastConfirmed *time.Time       `json:"last_confirmed,omitempty"`
	Due           bool             `json:"due"`
}

// reviewPaths returns the department paths a reviewer answers for: the
// whole organisation for administrators, else the departments they manage.
func reviewPaths(ctx context.Context, tx *store.Tx, a *access.Actor) ([]crm.Department, error) {
	depts, err := tx.ListDepartments(ctx)
	if err != nil {
		return nil, err
	}
	if a.IsAdmin() {
		return depts, nil
	}
	var roots []string
	for _, d := range depts {
		if d.ManagerID == a.UserID {
			roots = append(roots, d.Path)
		}
	}
	return slices.DeleteFunc(depts, func(d crm.Department) bool {
		return !slices.ContainsFunc(roots, func(p string) bool { return strings.HasPrefix(d.Path, p) })
	}), nil
}

// AccessReview returns the reviewer's subtree: everyone in it with their
// role, scopes, live tokens, shares received and open sessions.
func (s *Service) AccessReview(ctx context.Context, a *access.Actor) (AccessReview, error) {
	var rev AccessReview
	now := s.clock()
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if rev.Departments, err = reviewPaths(ctx, tx, a); err != nil || len(rev.Departments) == 0 {
			return err
		}
		users, err := tx.ListUsers(ctx)
		if err != nil {
			return err
		}
		for _, u := range users {
			if u.Disabled || !slices.ContainsFunc(rev.Departments, func(d crm.Department) bool { return d.ID == u.DepartmentID }) {
				continue
			}
			e, err := reviewEntry(ctx, tx, u, now)
			if err != nil {
				return err
			}
			rev.Entries = append(rev.Entries, e)
		}
		last, err := tx.ListAuditEvents(ctx, store.AuditFilter{ActorID: a.UserID, Action: "access_review.confirm", Limit: 1})
		if err == nil && len(last) == 1 {
			rev.LastConfirmed = &last[0].At
		}
		return err
	})
	if err != nil {
		return AccessReview{}, err
	}
	if len(rev.Departments) == 0 {
		s.auditDenied(ctx, a, "access_review.view", "", 0)
		return AccessReview{}, crm.ErrForbidden()
	}
	rev.Due = rev.LastConfirmed == nil || now.Sub(*rev.LastConfirmed) > ReviewEvery
	return rev, s.auditRead(ctx, a, "access_review.view", "", 0, ids(rev.Entries, func(e ReviewEntry) int64 { return e.User.ID }))
}

func reviewEntry(ctx context.Context, tx *store.Tx, u crm.User, now time.Time) (ReviewEntry, error) {
	e := ReviewEntry{User: u, Scopes: map[crm.Object]crm.Scope{}}
	role, err := tx.GetRole(ctx, u.RoleID)
	if err != nil {
		return e, err
	}
	e.Role, e.Admin = role.Name, role.Admin
	for _, o := range crm.Objects {
		if g := role.Grant(o); g.Read {
			e.Scopes[o] = g.Scope
		}
	}
	tokens, err := tx.ListAPITokens(ctx, u.ID)
	if err != nil {
		return e, err
	}
	e.Tokens = slices.DeleteFunc(tokens, func(t crm.APIToken) bool {
		return !t.RevokedAt.IsZero() || !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
	})
	if e.Shares, err = tx.ListShares(ctx, store.ShareFilter{GranteeUser: u.ID, GranteeDept: u.DepartmentID, LiveAt: now}); err != nil {
		return e, err
	}
	sessions, err := tx.ListUserSessions(ctx, u.ID, now)
	e.Sessions = len(sessions)
	return e, err
}

// reviewWrite refuses confirming a review or revoking someone's token
// through an API token without the admin scope: reading customers must not
// let a script manage colleagues' access.
func (s *Service) reviewWrite(ctx context.Context, a *access.Actor, action string) error {
	if a.Kind == access.KindToken && !slices.Contains(a.TokenScopes, "admin") {
		s.auditDenied(ctx, a, action, "", 0)
		return crm.ErrForbidden()
	}
	return nil
}

// ConfirmAccessReview records that the reviewer checked their subtree as it
// stands now (the audit event carries what was confirmed).
func (s *Service) ConfirmAccessReview(ctx context.Context, a *access.Actor) error {
	if err := s.reviewWrite(ctx, a, "access_review.confirm"); err != nil {
		return err
	}
	rev, err := s.AccessReview(ctx, a)
	if err != nil {
		return err
	}
	tokens, shares := 0, 0
	for _, e := range rev.Entries {
		tokens, shares = tokens+len(e.Tokens), shares+len(e.Shares)
	}
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		e := s.event(a, "access_review.confirm", "", 0)
		e.RecordIDs = ids(rev.Entries, func(e ReviewEntry) int64 { return e.User.ID })
		e.Fields = mustJSON(map[string]int{"users": len(rev.Entries), "tokens": tokens, "shares": shares})
		return s.insertEvent(ctx, tx, e)
	})
}

// RevokeUserToken retires someone's API token from an access review: the
// token's owner must be in the reviewer's subtree (administrators: anyone).
func (s *Service) RevokeUserToken(ctx context.Context, a *access.Actor, userID, tokenID int64) error {
	if err := s.reviewWrite(ctx, a, "api_token.revoke"); err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		depts, err := reviewPaths(ctx, tx, a)
		if err != nil {
			return err
		}
		u, err := tx.GetUser(ctx, userID)
		if err != nil || !slices.ContainsFunc(depts, func(d crm.Department) bool { return d.ID == u.DepartmentID }) {
			return crm.ErrNotFound("token")
		}
		if err := tx.RevokeAPIToken(ctx, userID, tokenID, s.clock()); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "api_token.revoke", "", tokenID, map[string]int64{"user_id": userID})
	})
}
