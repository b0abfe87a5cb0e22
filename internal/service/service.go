// Package service holds Custos's use cases. Every surface — web, API, CLI,
// importer, jobs — calls these methods with an actor; each call checks the
// function permission, narrows reads to the actor's scope inside SQL,
// validates input, writes all-or-nothing and appends its audit event in the
// same transaction (DESIGN.md §1–2). No surface imports the store: what
// they show of stored things are crm types.
package service

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"custos/internal/access"
	"custos/internal/audit"
	"custos/internal/compliance"
	"custos/internal/crm"
	"custos/internal/identity"
	"custos/internal/kernel"
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
	Argon2 identity.Argon2Params
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
	// ExportsPerHour limits each user's exports of lists
	// (DefaultExportsPerHour when zero); ExportDownloadTime is how long an
	// approved export's file waits (DefaultExportDownloadTime when zero).
	ExportsPerHour     int
	ExportDownloadTime time.Duration
	// Notify sets up the e-mail and group-bot channels of notifications
	// (zero: in the app only).
	Notify NotifyOptions
}

// Service is the one service layer. It holds the records use cases (and
// privacy rights, which act on person records) and embeds identity, whose
// methods — sign-in, MFA, passkeys, sessions, API tokens, account
// preferences — are promoted, and compliance, whose methods — anomaly
// alerts and their delivery, exposure reports, incidents — are too, so
// every surface calls them on a Service as before.
type Service struct {
	// exactReports makes reports count the records even where the report
	// counts could answer (tests compare the two; export_test.go).
	exactReports bool
	*identity.Service
	*complianceService
	// k is the kernel shared with identity: store, vault, clock, audit
	// helpers and permission checks.
	k     *kernel.Kernel
	db    *store.DB
	keys  *audit.Keys
	vault *vault.Vault
	// searchLimit is the hourly allowance of sensitive searches per actor.
	searchLimit int
	norm        *quality.Normalizer
	now         func() time.Time
	argon       Argon2Params
	logger      *slog.Logger
	zone        *time.Location // the organisation default
	zones       sync.Map       // IANA name → *time.Location, loaded once
	// deadlineDays is a privacy request's default time to answer.
	deadlineDays int
	// recycleRetention is how long a deleted record stays restorable.
	recycleRetention time.Duration
	// exportLimit and exportTTL: exports per user and hour, and how long
	// an approved export's file waits.
	exportLimit int
	exportTTL   time.Duration
	// notifyOpt are the external channels of notifications; publicURL
	// links messages back to Custos.
	notifyOpt NotifyOptions
	publicURL string
}

// New returns a Service over an open database.
func New(db *store.DB, opt Options) *Service {
	if opt.Vault == nil {
		panic("service: New without a vault: personal data would be stored in plaintext")
	}
	k := kernel.New(db, kernel.Options{Now: opt.Now, Logger: opt.Logger, AuditKeys: opt.AuditKeys, Vault: opt.Vault})
	s := &Service{k: k, db: db, keys: k.Keys, vault: k.Vault, norm: quality.NewNormalizer(opt.PhoneRegion), now: k.Now, argon: opt.Argon2, logger: k.Logger}
	if s.searchLimit = opt.SensitiveSearchesPerHour; s.searchLimit <= 0 {
		s.searchLimit = DefaultSensitiveSearchesPerHour
	}
	if s.recycleRetention = opt.RecycleRetention; s.recycleRetention <= 0 {
		s.recycleRetention = DefaultRecycleRetention
	}
	if s.exportLimit = opt.ExportsPerHour; s.exportLimit <= 0 {
		s.exportLimit = DefaultExportsPerHour
	}
	if s.exportTTL = opt.ExportDownloadTime; s.exportTTL <= 0 {
		s.exportTTL = DefaultExportDownloadTime
	}
	if s.deadlineDays = opt.PrivacyDeadlineDays; s.deadlineDays <= 0 {
		s.deadlineDays = DefaultPrivacyDeadlineDays
	}
	s.notifyOpt, s.publicURL = opt.Notify, opt.PublicURL
	if s.argon == (Argon2Params{}) {
		s.argon = DefaultArgon2
	}
	if s.zone = opt.TimeZone; s.zone == nil {
		s.zone = time.Local
	}
	s.Service = identity.New(k, identity.Options{Argon2: s.argon, PublicURL: opt.PublicURL})
	s.complianceService = compliance.New(k, compliance.Options{Zone: s.zone, Delivery: opt.AlertDelivery, PublicURL: opt.PublicURL,
		RecordNames: s.recordNames})
	return s
}

// Dialect reports the database dialect, for status pages.
func (s *Service) Dialect() store.Dialect { return s.db.Dialect() }

// The kernel's helpers under the names this package has always used; the
// records and compliance use cases call these, identity calls the kernel.

func (s *Service) clock() time.Time { return s.k.Clock() }

func (s *Service) event(a *access.Actor, action string, object crm.Object, id int64) *crm.AuditEvent {
	return s.k.Event(a, action, object, id)
}

func (s *Service) audit(ctx context.Context, tx *store.Tx, a *access.Actor, action string, object crm.Object, id int64, fields any) error {
	return s.k.Audit(ctx, tx, a, action, object, id, fields)
}

func (s *Service) insertEvent(ctx context.Context, tx *store.Tx, e *crm.AuditEvent) error {
	return s.k.InsertEvent(ctx, tx, e)
}

func (s *Service) auditRead(ctx context.Context, a *access.Actor, action string, object crm.Object, id int64, ids []int64) error {
	return s.k.AuditRead(ctx, a, action, object, id, ids)
}

func (s *Service) recordRead(ctx context.Context, e *crm.AuditEvent) error {
	return s.k.RecordRead(ctx, e)
}

func (s *Service) auditDenied(ctx context.Context, a *access.Actor, action string, object crm.Object, id int64) {
	s.k.AuditDenied(ctx, a, action, object, id)
}

func (s *Service) require(ctx context.Context, a *access.Actor, o crm.Object, act crm.Action) error {
	return s.k.Require(ctx, a, o, act)
}

func (s *Service) requireAdmin(ctx context.Context, a *access.Actor, action string) error {
	return s.k.RequireAdmin(ctx, a, action)
}

func (s *Service) requireStepUp(ctx context.Context, a *access.Actor, action string) error {
	return s.k.RequireStepUp(ctx, a, action)
}

func (s *Service) loadActor(ctx context.Context, tx *store.Tx, userID int64) (*access.Actor, error) {
	return s.k.LoadActor(ctx, tx, userID)
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

// change is one field's before and after in an audit event (kernel.Change).
type change = kernel.Change

// diff is kernel.Diff: the changed fields, names in sensitive by reference.
func diff(before, after any, sensitive ...string) map[string]change {
	return kernel.Diff(before, after, sensitive...)
}

func mustJSON(v any) []byte { return kernel.MustJSON(v) }

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
