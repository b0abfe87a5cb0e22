package crm

import (
	"time"
)

// Privacy rights (PIPL, GDPR): the register of requests people make about
// their data, their consents, legal holds and retention policies. A
// "person" is a contact or a lead; a lead and the contact it became are one
// person (they share a data key), so everything here is kept per person.

// The kinds of privacy request.
const (
	RequestAccess     = "access"             // GDPR Art. 15/20: a copy of everything held
	RequestCorrection = "correction"         // PIPL Art. 46: correct what is wrong
	RequestErasure    = "erasure"            // PIPL Art. 47, GDPR Art. 17: be forgotten
	RequestWithdrawal = "consent_withdrawal" // withdraw consent
)

// RequestKinds lists the kinds of privacy request, in menu order.
var RequestKinds = []string{RequestAccess, RequestCorrection, RequestErasure, RequestWithdrawal}

// The states of a privacy request.
const (
	RequestOpen    = "open"
	RequestDone    = "done"
	RequestRefused = "refused"
)

// PrivacyRequest is one entry of the register: a person's request, when it
// was received, when it is due, and how it ended.
type PrivacyRequest struct {
	ID int64 `json:"id"`
	// Object and RecordID name the contact or lead the request is about;
	// the request covers every record of that person.
	Object   Object `json:"object"`
	RecordID int64  `json:"record_id"`
	// PersonName is the person's name as the register shows it (empty
	// once erased).
	PersonName string    `json:"person_name,omitempty"`
	Kind       string    `json:"kind"`
	ReceivedAt time.Time `json:"received_at"`
	DueAt      time.Time `json:"due_at"`
	Status     string    `json:"status"`
	// Reason says why a request was refused.
	Reason string `json:"reason,omitempty"`
	Notes  string `json:"notes,omitempty"`
	// Purpose and Channel narrow a consent withdrawal ("" for all).
	Purpose       string     `json:"purpose,omitempty"`
	Channel       string     `json:"channel,omitempty"`
	CompletedAt   *time.Time `json:"completed_at,omitempty"`
	HandledBy     int64      `json:"handled_by,omitempty"`
	HandledByName string     `json:"handled_by_name,omitempty"`
	CreatedBy     int64      `json:"created_by"`
	CreatedAt     time.Time  `json:"created_at"`
	// Overdue reports an open request past its deadline (computed when read).
	Overdue bool `json:"overdue"`
	// PersonKey is the person's data key; never shown.
	PersonKey string `json:"-"`
}

// PrivacyRequestInput files a request.
type PrivacyRequestInput struct {
	Object   Object `json:"object"`
	RecordID int64  `json:"record_id"`
	Kind     string `json:"kind"`
	// ReceivedAt is when the request reached the organisation (default:
	// now); the deadline counts from it.
	ReceivedAt *time.Time `json:"received_at,omitempty"`
	// DueAt overrides the deadline (default: received plus the configured
	// number of days).
	DueAt   *time.Time `json:"due_at,omitempty"`
	Notes   string     `json:"notes,omitempty"`
	Purpose string     `json:"purpose,omitempty"`
	Channel string     `json:"channel,omitempty"`
}

// Validate checks a request as filed.
func (in *PrivacyRequestInput) Validate() error {
	var p Problems
	in.Kind = p.Enum("kind", in.Kind, true, RequestKinds)
	if in.Object != ObjContact && in.Object != ObjLead {
		p.Add("object", "enum", "contact, lead")
	}
	if in.RecordID <= 0 {
		p.Add("record_id", "required")
	}
	in.Notes = p.Text("notes", in.Notes, false, 2000)
	in.Purpose = p.Enum("purpose", in.Purpose, false, ConsentPurposes)
	in.Channel = p.Enum("channel", in.Channel, false, ConsentChannels)
	if in.Kind != RequestWithdrawal && (in.Purpose != "" || in.Channel != "") {
		p.Add("purpose", "withdrawal_only")
	}
	if in.ReceivedAt != nil && in.DueAt != nil && in.DueAt.Before(*in.ReceivedAt) {
		p.Add("due_at", "before_received")
	}
	return p.Err()
}

// ConsentPurposes are what a person may consent to.
var ConsentPurposes = []string{"marketing", "newsletter", "profiling"}

// ConsentChannels are the ways a person may be reached under a consent.
var ConsentChannels = []string{"email", "sms", "phone", "wechat"}

// Consent is a person's consent to one purpose on one channel: given at a
// time from a source, live until withdrawn. A grant after a withdrawal is a
// new consent; the old one stays as evidence.
type Consent struct {
	ID       int64  `json:"id"`
	Object   Object `json:"object"` // the record it was recorded on
	RecordID int64  `json:"record_id"`
	Purpose  string `json:"purpose"`
	Channel  string `json:"channel"`
	// Source says where the consent was given ("web form", "signed
	// contract 2026-03", …).
	Source      string     `json:"source"`
	GrantedAt   time.Time  `json:"granted_at"`
	GrantedBy   int64      `json:"granted_by"`
	WithdrawnAt *time.Time `json:"withdrawn_at,omitempty"`
	WithdrawnBy int64      `json:"withdrawn_by,omitempty"`
}

// Live reports whether the consent has not been withdrawn.
func (c Consent) Live() bool { return c.WithdrawnAt == nil }

// ConsentInput grants a consent (Source optional) or names one to
// withdraw.
type ConsentInput struct {
	Purpose string `json:"purpose"`
	Channel string `json:"channel"`
	Source  string `json:"source,omitempty"`
}

// Validate checks a consent's purpose, channel and source.
func (in *ConsentInput) Validate() error {
	var p Problems
	in.Purpose = p.Enum("purpose", in.Purpose, true, ConsentPurposes)
	in.Channel = p.Enum("channel", in.Channel, true, ConsentChannels)
	in.Source = p.Text("source", in.Source, false, 200)
	return p.Err()
}

// LegalHold keeps a person's data from erasure and retention destruction
// (litigation, an authority's order) until lifted.
type LegalHold struct {
	Reason    string    `json:"reason"`
	SetBy     int64     `json:"set_by"`
	SetByName string    `json:"set_by_name,omitempty"`
	SetAt     time.Time `json:"set_at"`
}

// RetentionPolicy says when records of an object with no activity are
// archived (read-only) and when their people are destroyed (erased). Zero
// switches a step off.
type RetentionPolicy struct {
	Object        Object `json:"object"`
	ArchiveMonths int    `json:"archive_months"`
	DestroyYears  int    `json:"destroy_years"`
}

// RetentionObjects are the objects retention policies apply to: those
// holding a person's data.
var RetentionObjects = ObjectsWhere(func(s ObjectSpec) bool { return s.Personal })

// Validate checks a policy.
func (r *RetentionPolicy) Validate() error {
	var p Problems
	if r.Object != ObjContact && r.Object != ObjLead {
		p.Add("object", "enum", "contact, lead")
	}
	if r.ArchiveMonths < 0 || r.ArchiveMonths > 1200 {
		p.Add("archive_months", "range", "0-1200")
	}
	if r.DestroyYears < 0 || r.DestroyYears > 100 {
		p.Add("destroy_years", "range", "0-100")
	}
	if r.DestroyYears > 0 && r.ArchiveMonths > 12*r.DestroyYears {
		p.Add("archive_months", "after_destroy")
	}
	return p.Err()
}
