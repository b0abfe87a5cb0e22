// Package service holds Custos's use cases. Every surface — web, API, CLI,
// importer, jobs — calls these methods with an actor; each call checks the
// function permission, narrows reads to the actor's scope inside SQL,
// validates input, writes all-or-nothing and appends its audit event in the
// same transaction (DESIGN.md §1–2). No surface imports the store: what
// they show of stored things are crm types.
package service

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"custos/internal/access"
	"custos/internal/audit"
	"custos/internal/crm"
	"custos/internal/quality"
	"custos/internal/store"
	"custos/internal/vault"
)

// Options configure a Service.
type Options struct {
	// PhoneRegion is the default region for phone numbers without a country
	// code ("CN" when empty).
	PhoneRegion string
	// Now is the clock (time.Now when nil); tests may fix it.
	Now func() time.Time
	// Argon2 sets the password hashing cost; zero means the production default.
	Argon2 Argon2Params
	// Logger receives operational messages, never secrets or customer data.
	Logger *slog.Logger
	// TimeZone is the organisation's default time zone for users who chose
	// none (the server's own zone when nil); see LoadTimeZone.
	TimeZone *time.Location
	// AuditKeys stamp every audit event for the tamper-evident log
	// (internal/audit); nil leaves events unstamped, which the sealer
	// refuses — only tests of other concerns run without keys.
	AuditKeys *audit.Keys
	// PublicURL is the address people open Custos at (scheme://host[:port]);
	// passkeys are bound to its host name and origin (see RelyingParty).
	// Empty or invalid: passkeys are unavailable and TOTP alone is offered.
	PublicURL string
	// SensitiveSearchesPerHour limits an actor's searches by phone,
	// e-mail or credit code (DefaultSensitiveSearchesPerHour when zero).
	SensitiveSearchesPerHour int
	// PrivacyDeadlineDays is how many days a privacy request has from its
	// receipt (DefaultPrivacyDeadlineDays, GDPR's month, when zero).
	PrivacyDeadlineDays int
	// Vault seals personal data and blinds index terms (internal/vault).
	// Required: a Service without one refuses to start.
	Vault *vault.Vault
	// RecycleRetention is how long deleted records stay restorable before
	// PurgeRecycleBin removes them (DefaultRecycleRetention when zero).
	RecycleRetention time.Duration
	// AlertDelivery sends anomaly alerts by webhook and e-mail besides the
	// security page (zero: the page alone).
	AlertDelivery AlertDelivery
}

// Service is the one service layer.
type Service struct {
	db    *store.DB
	keys  *audit.Keys
	vault *vault.Vault
	// searchLimit is the hourly allowance of sensitive searches per actor.
	searchLimit int
	norm        *quality.Normalizer
	now         func() time.Time
	argon       Argon2Params
	logger      *slog.Logger
	zone        *time.Location     // the organisation default
	rp          *webauthn.WebAuthn // the WebAuthn relying party; nil: passkeys unavailable
	zones       sync.Map           // IANA name → *time.Location, loaded once
	// delivery sends alerts beyond the security page; publicURL links them.
	delivery  AlertDelivery
	publicURL string
	// deadlineDays is a privacy request's default time to answer.
	deadlineDays int
	// dummyHash is checked against for unknown user names, so a sign-in
	// takes as long whether or not the name exists.
	dummyHash string
	// recycleRetention is how long a deleted record stays restorable.
	recycleRetention time.Duration
}

// New returns a Service over an open database.
func New(db *store.DB, opt Options) *Service {
	if opt.Vault == nil {
		panic("service: New without a vault: personal data would be stored in plaintext")
	}
	s := &Service{db: db, keys: opt.AuditKeys, vault: opt.Vault, norm: quality.NewNormalizer(opt.PhoneRegion), now: opt.Now, argon: opt.Argon2, logger: opt.Logger,
		delivery: opt.AlertDelivery, publicURL: opt.PublicURL}
	if s.now == nil {
		s.now = time.Now
	}
	if s.searchLimit = opt.SensitiveSearchesPerHour; s.searchLimit <= 0 {
		s.searchLimit = DefaultSensitiveSearchesPerHour
	}
	if s.recycleRetention = opt.RecycleRetention; s.recycleRetention <= 0 {
		s.recycleRetention = DefaultRecycleRetention
	}
	if s.deadlineDays = opt.PrivacyDeadlineDays; s.deadlineDays <= 0 {
		s.deadlineDays = DefaultPrivacyDeadlineDays
	}
	if s.argon == (Argon2Params{}) {
		s.argon = DefaultArgon2
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.zone = opt.TimeZone; s.zone == nil {
		s.zone = time.Local
	}
	if opt.PublicURL != "" {
		var err error
		if s.rp, err = newRelyingParty(opt.PublicURL); err != nil {
			s.logger.Error("passkeys unavailable", "err", err)
		}
	}
	s.dummyHash, _ = hashPassword(randomToken(16), s.argon)
	return s
}

// Dialect reports the database dialect, for status pages.
func (s *Service) Dialect() store.Dialect { return s.db.Dialect() }

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// event builds an audit event for the actor.
func (s *Service) event(a *access.Actor, action string, object crm.Object, id int64) *crm.AuditEvent {
	e := &crm.AuditEvent{At: s.clock(), Action: action, Object: string(object), RecordID: id, Outcome: "ok"}
	if a != nil {
		e.ActorKind, e.ActorID, e.ActorName, e.TokenID = string(a.Kind), a.UserID, a.Name, a.TokenID
		e.IP, e.UserAgent, e.RequestID = a.IP, a.UserAgent, a.RequestID
	}
	return e
}

// audit appends an event inside tx, with optional field changes.
func (s *Service) audit(ctx context.Context, tx *store.Tx, a *access.Actor, action string, object crm.Object, id int64, fields any) error {
	e := s.event(a, action, object, id)
	if fields != nil {
		b, err := json.Marshal(fields)
		if err != nil {
			return err
		}
		e.Fields = b
	}
	return s.insertEvent(ctx, tx, e)
}

// insertEvent stamps an event for the tamper-evident log and appends it
// inside tx. Every audit event the service writes goes through here.
func (s *Service) insertEvent(ctx context.Context, tx *store.Tx, e *crm.AuditEvent) error {
	if s.keys != nil {
		s.keys.Stamp(e)
	}
	return tx.InsertAuditEvent(ctx, e)
}

// auditRead records a read before its data is returned; when the event
// cannot be stored the read is refused (fail closed, DESIGN.md §2).
func (s *Service) auditRead(ctx context.Context, a *access.Actor, action string, object crm.Object, id int64, ids []int64) error {
	e := s.event(a, action, object, id)
	e.RecordIDs = ids
	return s.recordRead(ctx, e)
}

// recordRead stores a read's event in its own transaction (see auditRead).
func (s *Service) recordRead(ctx context.Context, e *crm.AuditEvent) error {
	return s.db.WriteTx(ctx, func(tx *store.Tx) error { return s.insertEvent(ctx, tx, e) })
}

// auditDenied records a refused attempt in its own transaction; the caller
// returns the original error whatever happens here.
func (s *Service) auditDenied(ctx context.Context, a *access.Actor, action string, object crm.Object, id int64) {
	e := s.event(a, action, object, id)
	e.Outcome = "denied"
	if err := s.db.WriteTx(ctx, func(tx *store.Tx) error { return s.insertEvent(ctx, tx, e) }); err != nil {
		s.logger.Error("audit denied attempt", "action", action, "err", err)
	}
}

// require checks a function permission and records a denial.
func (s *Service) require(ctx context.Context, a *access.Actor, o crm.Object, act crm.Action) error {
	if a.Can(o, act) {
		return nil
	}
	s.auditDenied(ctx, a, string(o)+"."+string(act), o, 0)
	return crm.ErrForbidden()
}

// requireAdmin checks the administration permission.
func (s *Service) requireAdmin(ctx context.Context, a *access.Actor, action string) error {
	if a.IsAdmin() {
		return nil
	}
	s.auditDenied(ctx, a, action, "", 0)
	return crm.ErrForbidden()
}

// byReference names, per object, the fields the audit trail records by
// reference only ({"changed": true}), never their values: the personal and
// sensitive fields (a customer's phone, e-mail, address and credit code;
// the personal fields of contacts and leads) and every custom value, since
// a custom field may hold anything personal. The trail is read by
// administrators and auditors, and auditors may see no record at all.
//
// Derived from the registry: the fields marked Sensitive, and "custom" for
// objects with custom fields.
var byReference = func() map[crm.Object][]string {
	out := map[crm.Object][]string{}
	for _, s := range crm.Specs() {
		names := crm.FieldNames(s.Name, func(f crm.FieldSpec) bool { return f.Sensitive })
		if s.Custom {
			names = append(names, "custom")
		}
		if len(names) > 0 {
			out[s.Name] = names
		}
	}
	return out
}()

// auditDiff is diff for a record's audit event: the fields of byReference
// by reference only.
func auditDiff(o crm.Object, before, after any) map[string]change {
	return diff(before, after, byReference[o]...)
}

// change is one field's before and after in an audit event. Sensitive
// values are recorded by reference only: Changed without the values.
type change struct {
	From    any  `json:"from,omitempty"`
	To      any  `json:"to,omitempty"`
	Changed bool `json:"changed,omitempty"`
}

// diff compares two values field by field through their JSON form and
// returns the changed fields; names in sensitive get no values.
func diff(before, after any, sensitive ...string) map[string]change {
	var b, a map[string]any
	bj, _ := json.Marshal(before)
	aj, _ := json.Marshal(after)
	json.Unmarshal(bj, &b)
	json.Unmarshal(aj, &a)
	out := map[string]change{}
	for k, av := range a {
		bv := b[k]
		if string(mustJSON(av)) == string(mustJSON(bv)) {
			continue
		}
		if contains(sensitive, k) {
			out[k] = change{Changed: true}
		} else {
			out[k] = change{From: bv, To: av}
		}
	}
	return out
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Health reports whether the database answers, for /healthz.
//
// It also fails while the database does not take writes (a full disk, a
// read-only database; store.Writable probes now and then), so a load
// balancer takes an instance out that could only answer 503.
func (s *Service) Health(ctx context.Context) error {
	if err := s.db.Ping(ctx); err != nil {
		return err
	}
	return s.db.Writable(ctx)
}
