// Package access turns an actor's role into record scopes and permission
// answers. The service asks it; the store renders its scopes as SQL.
package access

import (
	"slices"
	"time"

	"custos/internal/crm"
)

// Kind says what kind of actor acts.
type Kind string

// The actor kinds recorded in the audit trail.
const (
	KindUser   Kind = "user"   // a person in a browser session
	KindToken  Kind = "token"  // a person through a personal API token
	KindSystem Kind = "system" // a named background job or CLI command
)

// Actor is who performs a service call, with where the call came from. Every
// service method takes one; the audit trail records it.
type Actor struct {
	Kind      Kind
	UserID    int64
	Name      string // display name, or the job name for system actors
	DeptID    int64
	DeptPath  string
	Role      crm.Role
	SessionID int64
	TokenID   int64
	CSRFToken string
	Lang      string
	TimeZone  string // the user's IANA time zone; "" follows the organisation default
	// MustChangePassword is set while the user signs in with a one-time or
	// administrator-set password; surfaces allow nothing but the change.
	MustChangePassword bool
	IP                 string
	UserAgent          string
	RequestID          string
	// MFAPending is set for a session opened by a password whose second
	// factor is not verified yet; such an actor has no permissions at all
	// and the surfaces allow nothing but the second factor.
	MFAPending bool
	// MFAEnrolled reports whether the user has a confirmed second factor.
	MFAEnrolled bool
	// SecondFactorAt is when a second factor was last verified in this
	// session (zero: never), the basis of step-up.
	SecondFactorAt time.Time
	// TokenScopes are the scopes of the API token acting (nil for other
	// kinds); Role is already narrowed to them.
	TokenScopes []string
	// Shared lists the objects with records shared with this user or their
	// department, read when the actor is made; SharedAt is that moment,
	// against which share expiry is checked.
	Shared   []crm.Object
	SharedAt time.Time
}

// MustEnrolMFA reports whether the user's role requires a second factor
// that the user does not have yet; surfaces allow nothing but enrolment.
func (a *Actor) MustEnrolMFA() bool {
	return a != nil && a.Kind != KindSystem && a.Role.RequireMFA && !a.MFAEnrolled
}

// System returns an actor for a named job or CLI command with full scope.
func System(name string) *Actor {
	grants := map[crm.Object]crm.ObjectGrant{}
	for _, o := range crm.Objects {
		grants[o] = crm.ObjectGrant{Read: true, Create: true, Edit: true, Delete: true, Scope: crm.ScopeAll}
	}
	return &Actor{Kind: KindSystem, Name: name, Role: crm.Role{Key: "system", Name: name, Admin: true, Grants: grants}}
}

// Can reports whether the actor's role allows the action on the object.
func (a *Actor) Can(o crm.Object, act crm.Action) bool {
	return a != nil && a.Role.Grant(o).Allows(act)
}

// IsAdmin reports whether the actor may use the administration pages.
func (a *Actor) IsAdmin() bool { return a != nil && a.Role.Admin }

// Scope returns the record scope of the actor for an object, for the store
// to render as SQL. An actor without read permission gets a scope that
// reaches nothing.
func (a *Actor) Scope(o crm.Object) crm.RecordScope {
	g := a.Role.Grant(o)
	if !g.Read {
		return crm.RecordScope{Kind: "none"}
	}
	return crm.RecordScope{Kind: g.Scope, UserID: a.UserID, DeptID: a.DeptID, DeptPath: a.DeptPath}
}

// Field returns the actor's access to a field of an object: the role's
// field rule, or hidden when the role may not read the object at all.
func (a *Actor) Field(o crm.Object, field string) crm.FieldAccess {
	g := a.Role.Grant(o)
	if !g.Read {
		return crm.FieldHidden
	}
	return g.Field(field)
}

// CanReveal reports whether the actor may reveal masked values of the object.
func (a *Actor) CanReveal(o crm.Object) bool {
	g := a.Role.Grant(o)
	return a != nil && g.Read && g.Reveal
}

// CanAudit reports whether the actor may read the audit trail.
func (a *Actor) CanAudit() bool { return a != nil && a.Role.Audit }

// CanPrivacy reports whether the actor may use the privacy register and
// carry out its requests: privacy officers and administrators.
func (a *Actor) CanPrivacy() bool { return a != nil && (a.Role.Privacy || a.Role.Admin) }

// SharedScope is Scope widened by the records shared with the actor: for
// reading (edit false) every live share counts, for editing only shares
// that allow it. Sharing never grants an action the role lacks, and never
// deleting, restoring, releasing or transferring — those use Scope.
func (a *Actor) SharedScope(o crm.Object, edit bool) crm.RecordScope {
	s := a.Scope(o)
	g := a.Role.Grant(o)
	if !slices.Contains(a.Shared, o) || !g.Read || edit && !g.Edit {
		return s
	}
	s.Share = &crm.ShareScope{Object: string(o), UserID: a.UserID, DeptID: a.DeptID, Now: a.SharedAt, Edit: edit}
	return s
}
