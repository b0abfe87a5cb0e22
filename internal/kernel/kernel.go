// Package kernel is what every service package stands on: the store handle,
// the vault, the clock and the logger, the audit-event helpers that write
// each use case's event in its transaction, and the permission checks that
// record a denial. The records service (internal/service), identity
// (internal/identity) and compliance (internal/compliance) share one
// Kernel, so all write the same events with the same stamps and refuse
// with the same errors (DESIGN.md §1–2).
//
// The kernel is not a surface: service types hold it in an unexported field,
// so nothing here is promoted to the web, API or CLI.
package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"custos/internal/access"
	"custos/internal/audit"
	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/vault"
)

// Options configure a Kernel.
type Options struct {
	// Now is the clock (time.Now when nil); tests may fix it.
	Now func() time.Time
	// Logger receives operational messages (slog.Default when nil).
	Logger *slog.Logger
	// AuditKeys stamp every audit event for the tamper-evident log; nil
	// leaves events unstamped (see service.Options.AuditKeys).
	AuditKeys *audit.Keys
	// Vault seals personal data and blinds index terms.
	Vault *vault.Vault
}

// Kernel holds what the service packages share. Its fields are set once by
// New and read-only afterwards.
type Kernel struct {
	// DB is the store; only service packages hold it.
	DB *store.DB
	// Vault seals personal data and blinds index terms.
	Vault *vault.Vault
	// Keys stamp audit events; nil in tests of other concerns.
	Keys *audit.Keys
	// Now is the raw clock; use Clock for stored times.
	Now func() time.Time
	// Logger receives operational messages, never secrets or customer data.
	Logger *slog.Logger
}

// New returns a Kernel over an open database.
func New(db *store.DB, opt Options) *Kernel {
	k := &Kernel{DB: db, Vault: opt.Vault, Keys: opt.AuditKeys, Now: opt.Now, Logger: opt.Logger}
	if k.Now == nil {
		k.Now = time.Now
	}
	if k.Logger == nil {
		k.Logger = slog.Default()
	}
	return k
}

// Clock is the time stored with a change: UTC, to the millisecond.
func (k *Kernel) Clock() time.Time { return k.Now().UTC().Truncate(time.Millisecond) }

// Event builds an audit event for the actor.
func (k *Kernel) Event(a *access.Actor, action string, object crm.Object, id int64) *crm.AuditEvent {
	e := &crm.AuditEvent{At: k.Clock(), Action: action, Object: string(object), RecordID: id, Outcome: "ok"}
	if a != nil {
		e.ActorKind, e.ActorID, e.ActorName, e.TokenID = string(a.Kind), a.UserID, a.Name, a.TokenID
		e.IP, e.UserAgent, e.RequestID = a.IP, a.UserAgent, a.RequestID
	}
	return e
}

// Audit appends an event inside tx, with optional field changes.
func (k *Kernel) Audit(ctx context.Context, tx *store.Tx, a *access.Actor, action string, object crm.Object, id int64, fields any) error {
	e := k.Event(a, action, object, id)
	if fields != nil {
		b, err := json.Marshal(fields)
		if err != nil {
			return err
		}
		e.Fields = b
	}
	return k.InsertEvent(ctx, tx, e)
}

// InsertEvent stamps an event for the tamper-evident log and appends it
// inside tx. Every audit event the services write goes through here.
func (k *Kernel) InsertEvent(ctx context.Context, tx *store.Tx, e *crm.AuditEvent) error {
	if k.Keys != nil {
		k.Keys.Stamp(e)
	}
	return tx.InsertAuditEvent(ctx, e)
}

// AuditRead records a read before its data is returned; when the event
// cannot be stored the read is refused (fail closed, DESIGN.md §2).
func (k *Kernel) AuditRead(ctx context.Context, a *access.Actor, action string, object crm.Object, id int64, ids []int64) error {
	e := k.Event(a, action, object, id)
	e.RecordIDs = ids
	return k.RecordRead(ctx, e)
}

// RecordRead stores a read's event in its own transaction (see AuditRead).
func (k *Kernel) RecordRead(ctx context.Context, e *crm.AuditEvent) error {
	return k.DB.WriteTx(ctx, func(tx *store.Tx) error { return k.InsertEvent(ctx, tx, e) })
}

// AuditDenied records a refused attempt in its own transaction; the caller
// returns the original error whatever happens here.
func (k *Kernel) AuditDenied(ctx context.Context, a *access.Actor, action string, object crm.Object, id int64) {
	e := k.Event(a, action, object, id)
	e.Outcome = "denied"
	if err := k.DB.WriteTx(ctx, func(tx *store.Tx) error { return k.InsertEvent(ctx, tx, e) }); err != nil {
		k.Logger.Error("audit denied attempt", "action", action, "err", err)
	}
}

// AuditFields records an event with fields and an outcome in its own
// transaction; a failure is logged (the caller's answer does not change).
func (k *Kernel) AuditFields(ctx context.Context, a *access.Actor, action string, id int64, fields any, outcome string) {
	err := k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		e := k.Event(a, action, "", id)
		e.Outcome = outcome
		e.Fields = MustJSON(fields)
		return k.InsertEvent(ctx, tx, e)
	})
	if err != nil {
		k.Logger.Error("audit", "action", action, "err", err)
	}
}

// Require checks a function permission and records a denial.
func (k *Kernel) Require(ctx context.Context, a *access.Actor, o crm.Object, act crm.Action) error {
	if a.Can(o, act) {
		return nil
	}
	k.AuditDenied(ctx, a, string(o)+"."+string(act), o, 0)
	return crm.ErrForbidden()
}

// RequireAdmin checks the administration permission.
func (k *Kernel) RequireAdmin(ctx context.Context, a *access.Actor, action string) error {
	if a.IsAdmin() {
		return nil
	}
	k.AuditDenied(ctx, a, action, "", 0)
	return crm.ErrForbidden()
}

// StepUpWindow is how long a verified second factor counts as fresh.
const StepUpWindow = 5 * time.Minute

// The refusals of RequireStepUp; identity's StepUp gives the same ones.
var (
	// ErrStepUpToken: API tokens cannot confirm a second factor.
	ErrStepUpToken = &crm.Error{Code: crm.StepUpRequired, Key: "step_up_token",
		Message: "this needs a second factor confirmed in a browser session; API tokens cannot do it"}
	// ErrStepUpEnrol: the user has no second factor to confirm.
	ErrStepUpEnrol = &crm.Error{Code: crm.StepUpRequired, Key: "step_up_enrol",
		Message: "this needs a second factor; set one up on your account page first"}
	// ErrStepUp: the second factor is not fresh; confirm it again.
	ErrStepUp = &crm.Error{Code: crm.StepUpRequired, Key: "step_up_required",
		Message: "confirm with your second factor to continue"}
)

// RequireStepUp allows a risky operation only when a second factor was
// verified in this session within StepUpWindow. API tokens cannot step
// up; system actors (the CLI, jobs) run with the operator's access to the
// machine and are not asked. A refusal is audited as action denied.
// Identity verifies the factor; records and compliance ask for it here.
func (k *Kernel) RequireStepUp(ctx context.Context, a *access.Actor, action string) error {
	if a != nil && a.Kind == access.KindSystem {
		return nil
	}
	var err error
	switch {
	case a == nil || a.MFAPending:
		return crm.Errorf(crm.Unauthenticated, "not signed in")
	case a.Kind != access.KindUser:
		err = ErrStepUpToken
	case !a.MFAEnrolled:
		err = ErrStepUpEnrol
	case a.SecondFactorAt.IsZero() || k.Clock().Sub(a.SecondFactorAt) > StepUpWindow:
		err = ErrStepUp
	default:
		return nil
	}
	k.AuditDenied(ctx, a, action, "", 0)
	return err
}

// LoadActor reads a live user with role, department and second factor;
// sign-in, the CLI and jobs acting for a user all build the actor here.
func (k *Kernel) LoadActor(ctx context.Context, tx *store.Tx, userID int64) (*access.Actor, error) {
	p, err := tx.UserPrincipal(ctx, userID)
	if err != nil {
		return nil, err
	}
	a, err := PrincipalActor(p)
	if err != nil {
		return nil, err
	}
	return a, WithShares(ctx, tx, a, k.Clock())
}

// PrincipalActor makes the actor of a live user; a disabled user is
// refused, so disabling takes effect on the very next request.
func PrincipalActor(p store.Principal) (*access.Actor, error) {
	u := p.User
	if u.Disabled {
		return nil, crm.Errorf(crm.Unauthenticated, "user disabled")
	}
	return &access.Actor{UserID: u.ID, Name: u.DisplayName, DeptID: p.Department.ID, DeptPath: p.Department.Path, Role: p.Role,
		Lang: u.Lang, TimeZone: u.TimeZone, MustChangePassword: u.MustChangePW, MFAEnrolled: p.MFAEnrolled}, nil
}

// WithShares records on the actor which objects have records shared with
// them, so their scopes add the share condition only when it can matter.
func WithShares(ctx context.Context, tx *store.Tx, a *access.Actor, now time.Time) error {
	objs, err := tx.SharedObjects(ctx, a.UserID, a.DeptID, now)
	a.Shared, a.SharedAt = objs, now
	return err
}

// SealError reports a value that could not be opened: tampered with, or
// its key missing from the key store. The log says which record; the user
// gets a plain message and the request id.
func (k *Kernel) SealError(err error, o crm.Object, id int64, field string) error {
	k.Logger.Error("stored personal data cannot be opened", "object", o, "id", id, "field", field, "err", err)
	if errors.Is(err, vault.ErrIntegrity) {
		return &crm.Error{Code: crm.Internal, Key: "integrity", Message: fmt.Sprintf("%s %d: the stored %s failed its integrity check", o, id, field),
			Fields: []crm.FieldError{{Field: field, Rule: "integrity"}}}
	}
	return &crm.Error{Code: crm.Internal, Key: "key_missing", Message: fmt.Sprintf("%s %d: the data key of its %s is missing from the key store", o, id, field),
		Fields: []crm.FieldError{{Field: field, Rule: "key_missing"}}}
}

// Change is one field's before and after in an audit event. Sensitive
// values are recorded by reference only: Changed without the values.
type Change struct {
	From    any  `json:"from,omitempty"`
	To      any  `json:"to,omitempty"`
	Changed bool `json:"changed,omitempty"`
}

// Diff compares two values field by field through their JSON form and
// returns the changed fields; names in sensitive get no values.
func Diff(before, after any, sensitive ...string) map[string]Change {
	var b, a map[string]any
	bj, _ := json.Marshal(before)
	aj, _ := json.Marshal(after)
	json.Unmarshal(bj, &b)
	json.Unmarshal(aj, &a)
	out := map[string]Change{}
	for k, av := range a {
		bv := b[k]
		if string(MustJSON(av)) == string(MustJSON(bv)) {
			continue
		}
		if contains(sensitive, k) {
			out[k] = Change{Changed: true}
		} else {
			out[k] = Change{From: bv, To: av}
		}
	}
	return out
}

// MustJSON is the JSON form of a value the service built itself (so it
// cannot fail to marshal).
func MustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
