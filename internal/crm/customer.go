package crm

import "time"

// Customer levels, sources and statuses. The surfaces translate the keys.
var (
	CustomerLevels   = []string{"A", "B", "C", "D"}
	CustomerSources  = []string{"referral", "website", "exhibition", "cold_call", "advertising", "partner", "other"}
	CustomerStatuses = []string{"prospect", "active", "dormant", "lost"}
)

// Record holds what every business record carries: identity, owner,
// authorship, the optimistic-concurrency version and the recycle-bin mark.
// OwnerID 0 means no owner (a customer in the public pool).
type Record struct {
	ID        int64      `json:"id"`
	OwnerID   int64      `json:"owner_id"`
	OwnerName string     `json:"owner_name,omitempty"`
	CreatedBy int64      `json:"created_by"`
	UpdatedBy int64      `json:"updated_by"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	Version   int64      `json:"version"`
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
	// PurgeAt is, for a record in the recycle bin as its listing shows it,
	// when it will be removed for good (deleted_at + the retention window).
	PurgeAt *time.Time `json:"purge_at,omitempty"`
	// Masked and Hidden name the fields the reader's field rules masked or
	// withheld, so surfaces can say so instead of showing a blank.
	Masked []string `json:"masked_fields,omitempty"`
	Hidden []string `json:"hidden_fields,omitempty"`
	// DataKey names the person's data key in the vault, for the records
	// holding personal data (contacts, leads); never shown.
	DataKey string `json:"-"`
	// Erased reports a person whose data was erased: their personal fields
	// are gone for good and read as empty.
	Erased bool `json:"erased,omitempty"`
	// ArchivedAt is when a retention policy archived the record (contacts
	// and leads): it is read-only until unarchived.
	ArchivedAt *time.Time `json:"archived_at,omitempty"`
}

// Customer is a company the sales team follows up.
type Customer struct {
	Record
	CustomerFields
	LastFollowedUpAt *time.Time `json:"last_followed_up_at,omitempty"`
	NextFollowUpAt   *time.Time `json:"next_follow_up_at,omitempty"`
	// Warnings are what the create or update answering with the customer
	// let through for review (possible duplicates); empty on reads.
	Warnings []Warning `json:"warnings,omitempty"`
}

// CustomerFields are the user-editable fields of a customer.
type CustomerFields struct {
	Name       string         `json:"name"`
	Industry   string         `json:"industry"`
	Level      string         `json:"level"`
	Source     string         `json:"source"`
	Status     string         `json:"status"`
	Province   string         `json:"province"`
	City       string         `json:"city"`
	Address    string         `json:"address"`
	Website    string         `json:"website"`
	Phone      string         `json:"phone"`
	Email      string         `json:"email"`
	CreditCode string         `json:"credit_code"`
	Tags       []string       `json:"tags"`
	Custom     map[string]any `json:"custom,omitempty"`
}

// Validate checks and cleans the fields that need no outside knowledge.
// Phone, e-mail and credit code are normalised by the service, which owns
// the shared normaliser. An empty status becomes "prospect".
func (f *CustomerFields) Validate() Problems {
	var p Problems
	f.Name = p.Text("name", f.Name, true, 200)
	f.Industry = p.Text("industry", f.Industry, false, 100)
	f.Level = p.Enum("level", f.Level, false, CustomerLevels)
	f.Source = p.Enum("source", f.Source, false, CustomerSources)
	if f.Status == "" {
		f.Status = "prospect"
	}
	f.Status = p.Enum("status", f.Status, true, CustomerStatuses)
	f.Province = p.Text("province", f.Province, false, 50)
	f.City = p.Text("city", f.City, false, 50)
	f.Address = p.Text("address", f.Address, false, 500)
	f.Website = p.URL("website", f.Website)
	f.Phone = p.Text("phone", f.Phone, false, 40)
	f.Email = p.Text("email", f.Email, false, 200)
	f.CreditCode = p.Text("credit_code", f.CreditCode, false, 18)
	f.Tags = p.Tags("tags", f.Tags, 20)
	return p
}

// CustomerUpdate is a partial update: nil fields stay as they are. Owner,
// version and audit fields are not here, so a generic update cannot set them
// (ownership moves through claim, release and transfer).
type CustomerUpdate struct {
	Version    int64     `json:"version"`
	Name       *string   `json:"name,omitempty"`
	Industry   *string   `json:"industry,omitempty"`
	Level      *string   `json:"level,omitempty"`
	Source     *string   `json:"source,omitempty"`
	Status     *string   `json:"status,omitempty"`
	Province   *string   `json:"province,omitempty"`
	City       *string   `json:"city,omitempty"`
	Address    *string   `json:"address,omitempty"`
	Website    *string   `json:"website,omitempty"`
	Phone      *string   `json:"phone,omitempty"`
	Email      *string   `json:"email,omitempty"`
	CreditCode *string   `json:"credit_code,omitempty"`
	Tags       *[]string `json:"tags,omitempty"`
	// Custom sets the given custom fields; a JSON null removes one.
	Custom map[string]any `json:"custom,omitempty"`
}

// Apply returns f with the update's non-nil fields set.
func (u CustomerUpdate) Apply(f CustomerFields) CustomerFields {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&f.Name, u.Name)
	set(&f.Industry, u.Industry)
	set(&f.Level, u.Level)
	set(&f.Source, u.Source)
	set(&f.Status, u.Status)
	set(&f.Province, u.Province)
	set(&f.City, u.City)
	set(&f.Address, u.Address)
	set(&f.Website, u.Website)
	set(&f.Phone, u.Phone)
	set(&f.Email, u.Email)
	set(&f.CreditCode, u.CreditCode)
	if u.Tags != nil {
		f.Tags = *u.Tags
	}
	f.Custom = MergeCustom(f.Custom, u.Custom)
	return f
}

// The values of CustomerFilter.Due.
const (
	DueOverdue = "overdue"
	DueToday   = "today"
)

// CustomerFilter narrows a customer list. The actor's scope is added by the
// service; a filter can only narrow further.
type CustomerFilter struct {
	Query   string // name words or bigrams
	Level   string
	Status  string
	OwnerID int64
	// DeptID narrows to the customers owned by people in this department
	// or below it; like OwnerID it only narrows the actor's scope.
	DeptID int64
	// Due narrows to customers whose next follow-up is overdue (DueOverdue:
	// before today) or due today (DueToday), in the actor's time zone.
	Due    string
	Pool   bool              // only customers without owner
	Custom map[string]string // custom field key → value (contained, for multiple choice)
	// Drill holds the report drill-down filters; its Level is Level's.
	Drill  DrillFilter
	Sort   string
	Cursor string
	Limit  int
}
