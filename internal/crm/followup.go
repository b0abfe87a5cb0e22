package crm

import "time"

// FollowUpKinds are the ways a salesperson follows a customer up.
var FollowUpKinds = []string{"call", "visit", "meeting", "message", "email", "note"}

// FollowUpSensitive lists a follow-up's sealed fields: what was written is
// sealed under the key of the person it is about (the contact's or lead's),
// else under its customer's.
var FollowUpSensitive = SealedFields(ObjFollowUp)

// FollowUp records one contact with a customer and, optionally, when to
// follow up next.
type FollowUp struct {
	Record
	Kind          string     `json:"kind"`
	Content       string     `json:"content"`
	OccurredAt    time.Time  `json:"occurred_at"`
	NextAt        *time.Time `json:"next_at,omitempty"`
	CustomerID    int64      `json:"customer_id,omitempty"`
	ContactID     int64      `json:"contact_id,omitempty"`
	OpportunityID int64      `json:"opportunity_id,omitempty"`
	LeadID        int64      `json:"lead_id,omitempty"`
}

// FollowUpInput creates a follow-up about a customer (directly, or through
// one of its contacts or opportunities) or about a lead. OccurredAt
// defaults to now.
type FollowUpInput struct {
	Kind          string     `json:"kind"`
	Content       string     `json:"content"`
	OccurredAt    *time.Time `json:"occurred_at,omitempty"`
	NextAt        *time.Time `json:"next_at,omitempty"`
	CustomerID    int64      `json:"customer_id,omitempty"`
	ContactID     int64      `json:"contact_id,omitempty"`
	OpportunityID int64      `json:"opportunity_id,omitempty"`
	LeadID        int64      `json:"lead_id,omitempty"`
}

// Validate checks the input against now and fills the default time.
func (in *FollowUpInput) Validate(now time.Time) error {
	var p Problems
	in.Kind = p.Enum("kind", in.Kind, true, FollowUpKinds)
	in.Content = p.Text("content", in.Content, true, 5000)
	switch {
	case in.LeadID != 0 && (in.CustomerID != 0 || in.ContactID != 0 || in.OpportunityID != 0):
		p.Add("lead_id", "lead_or_customer")
	case in.LeadID == 0 && in.CustomerID == 0 && in.ContactID == 0 && in.OpportunityID == 0:
		p.Add("customer_id", "required")
	}
	if in.OccurredAt == nil {
		in.OccurredAt = &now
	} else if in.OccurredAt.After(now.Add(24 * time.Hour)) {
		p.Add("occurred_at", "future")
	}
	if in.NextAt != nil && !in.NextAt.After(*in.OccurredAt) {
		p.Add("next_at", "after_occurred")
	}
	return p.Err()
}

// FollowUpUpdate corrects what a follow-up says. Its times stay: they drive
// the customer's follow-up dates.
type FollowUpUpdate struct {
	Version int64   `json:"version"`
	Kind    *string `json:"kind,omitempty"`
	Content *string `json:"content,omitempty"`
}
