package crm

// Contact is a person at a customer. Name, mobile, phone, e-mail and WeChat
// id are a person's sensitive fields (DESIGN.md §4).
type Contact struct {
	Record
	ContactFields
	CustomerName string `json:"customer_name,omitempty"`
}

// ContactFields are the user-editable fields of a contact.
type ContactFields struct {
	CustomerID int64          `json:"customer_id"`
	Name       string         `json:"name"`
	Title      string         `json:"title"`
	Mobile     string         `json:"mobile"`
	Phone      string         `json:"phone"`
	Email      string         `json:"email"`
	WeChat     string         `json:"wechat"`
	Notes      string         `json:"notes"`
	Custom     map[string]any `json:"custom,omitempty"`
}

// ContactSensitive lists a contact's personal fields: sealed under the
// person's key, recorded only by reference in the audit trail. Notes are
// among them: what a salesperson writes about a person is personal data.
var ContactSensitive = SealedFields(ObjContact)

// Validate checks the fields that need no outside knowledge.
func (f *ContactFields) Validate() Problems {
	var p Problems
	f.Name = p.Text("name", f.Name, true, 100)
	f.Title = p.Text("title", f.Title, false, 100)
	f.Mobile = p.Text("mobile", f.Mobile, false, 40)
	f.Phone = p.Text("phone", f.Phone, false, 40)
	f.Email = p.Text("email", f.Email, false, 200)
	f.WeChat = p.Text("wechat", f.WeChat, false, 60)
	f.Notes = p.Text("notes", f.Notes, false, 2000)
	return p
}

// ContactUpdate is a partial update of a contact.
type ContactUpdate struct {
	Version    int64   `json:"version"`
	CustomerID *int64  `json:"customer_id,omitempty"`
	Name       *string `json:"name,omitempty"`
	Title      *string `json:"title,omitempty"`
	Mobile     *string `json:"mobile,omitempty"`
	Phone      *string `json:"phone,omitempty"`
	Email      *string `json:"email,omitempty"`
	WeChat     *string `json:"wechat,omitempty"`
	Notes      *string `json:"notes,omitempty"`
	// Custom sets the given custom fields; a JSON null removes one.
	Custom map[string]any `json:"custom,omitempty"`
}

// Apply returns f with the update's non-nil fields set.
func (u ContactUpdate) Apply(f ContactFields) ContactFields {
	setPtr(&f.CustomerID, u.CustomerID)
	for _, p := range []struct{ dst, src *string }{{&f.Name, u.Name}, {&f.Title, u.Title}, {&f.Mobile, u.Mobile},
		{&f.Phone, u.Phone}, {&f.Email, u.Email}, {&f.WeChat, u.WeChat}, {&f.Notes, u.Notes}} {
		setPtr(p.dst, p.src)
	}
	f.Custom = MergeCustom(f.Custom, u.Custom)
	return f
}

func setPtr[T any](dst, src *T) {
	if src != nil {
		*dst = *src
	}
}

// ListFilter narrows a list of any object; the service adds the scope.
type ListFilter struct {
	Query      string `json:"q,omitempty"`
	CustomerID int64  `json:"customer_id,omitempty"`
	OwnerID    int64  `json:"owner_id,omitempty"`
	// DeptID narrows to the records owned by people in this department or
	// below it; like every filter it only narrows the actor's scope.
	DeptID  int64  `json:"department_id,omitempty"`
	Status  string `json:"status,omitempty"`
	StageID int64  `json:"stage_id,omitempty"`
	// OpportunityID narrows contracts to one opportunity's.
	OpportunityID int64 `json:"opportunity_id,omitempty"`
	// StalledDays narrows opportunities to the open ones without a stage
	// change or a follow-up about them for that many days.
	StalledDays int `json:"stalled_days,omitempty"`
	// Custom filters on custom fields: key → value (contained, for
	// multiple choice); the service checks keys and values.
	Custom map[string]string `json:"custom,omitempty"`
	// Drill holds the report drill-down filters (the list checks which it takes).
	Drill  DrillFilter `json:"drill,omitempty"`
	Sort   string      `json:"sort,omitempty"`
	Cursor string      `json:"cursor,omitempty"`
	Limit  int         `json:"limit,omitempty"`
}
