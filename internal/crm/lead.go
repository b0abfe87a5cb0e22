package crm

import "time"

// Lead statuses. "converted" is set only by the conversion use case.
var LeadStatuses = []string{"new", "contacted", "qualified", "converted", "disqualified"}

// Lead is a prospect not yet qualified into a customer and contact.
type Lead struct {
	Record
	LeadFields
	Status        string     `json:"status"`
	CustomerID    int64      `json:"customer_id,omitempty"`
	ContactID     int64      `json:"contact_id,omitempty"`
	OpportunityID int64      `json:"opportunity_id,omitempty"`
	ConvertedAt   *time.Time `json:"converted_at,omitempty"`
}

// LeadFields are the user-editable fields of a lead.
type LeadFields struct {
	Name    string         `json:"name"`
	Company string         `json:"company"`
	Title   string         `json:"title"`
	Mobile  string         `json:"mobile"`
	Email   string         `json:"email"`
	WeChat  string         `json:"wechat"`
	Source  string         `json:"source"`
	Notes   string         `json:"notes"`
	Custom  map[string]any `json:"custom,omitempty"`
}

// LeadSensitive lists a lead's personal fields (see ContactSensitive).
var LeadSensitive = SealedFields(ObjLead)

// Validate checks the fields that need no outside knowledge.
func (f *LeadFields) Validate() Problems {
	var p Problems
	f.Name = p.Text("name", f.Name, true, 100)
	f.Company = p.Text("company", f.Company, false, 200)
	f.Title = p.Text("title", f.Title, false, 100)
	f.Mobile = p.Text("mobile", f.Mobile, false, 40)
	f.Email = p.Text("email", f.Email, false, 200)
	f.WeChat = p.Text("wechat", f.WeChat, false, 60)
	f.Source = p.Enum("source", f.Source, false, CustomerSources)
	f.Notes = p.Text("notes", f.Notes, false, 2000)
	return p
}

// LeadUpdate is a partial update of a lead.
type LeadUpdate struct {
	Version int64   `json:"version"`
	Name    *string `json:"name,omitempty"`
	Company *string `json:"company,omitempty"`
	Title   *string `json:"title,omitempty"`
	Mobile  *string `json:"mobile,omitempty"`
	Email   *string `json:"email,omitempty"`
	WeChat  *string `json:"wechat,omitempty"`
	Source  *string `json:"source,omitempty"`
	Notes   *string `json:"notes,omitempty"`
	Status  *string `json:"status,omitempty"`
	// Custom sets the given custom fields; a JSON null removes one.
	Custom map[string]any `json:"custom,omitempty"`
}

// Apply returns f with the update's non-nil fields set.
func (u LeadUpdate) Apply(f LeadFields) LeadFields {
	for _, p := range []struct{ dst, src *string }{{&f.Name, u.Name}, {&f.Company, u.Company}, {&f.Title, u.Title},
		{&f.Mobile, u.Mobile}, {&f.Email, u.Email}, {&f.WeChat, u.WeChat}, {&f.Source, u.Source}, {&f.Notes, u.Notes}} {
		setPtr(p.dst, p.src)
	}
	f.Custom = MergeCustom(f.Custom, u.Custom)
	return f
}

// LeadConversion turns a lead into a customer (new, or an existing one the
// user may edit), a contact and optionally an opportunity.
type LeadConversion struct {
	Version     int64              `json:"version"`
	CustomerID  int64              `json:"customer_id,omitempty"` // 0: create from the lead's company
	Opportunity *OpportunityFields `json:"opportunity,omitempty"`
}
