package crm

// ContractStatuses are the states of a contract, in the order a contract
// usually goes through them.
var ContractStatuses = []string{"draft", "signed", "active", "expired", "terminated"}

// Contract (合同) is an agreement signed with a customer, optionally for one
// of its opportunities. Its number is unique in the organisation among
// live contracts.
type Contract struct {
	Record
	ContractFields
	CustomerName string `json:"customer_name,omitempty"`
}

// ContractFields are the user-editable fields. Amount is in minor units of
// Currency, an ISO 4217 code; the dates are YYYY-MM-DD.
type ContractFields struct {
	CustomerID    int64          `json:"customer_id"`
	OpportunityID int64          `json:"opportunity_id,omitempty"`
	Number        string         `json:"number"`
	Name          string         `json:"name"`
	Amount        int64          `json:"amount"`
	Currency      string         `json:"currency"`
	SignedOn      string         `json:"signed_on"`
	StartsOn      string         `json:"starts_on"`
	EndsOn        string         `json:"ends_on"`
	Status        string         `json:"status"`
	Notes         string         `json:"notes"`
	Custom        map[string]any `json:"custom,omitempty"`
}

// Validate checks the fields; an empty currency becomes CNY and an empty
// status draft.
func (f *ContractFields) Validate() Problems {
	var p Problems
	if f.CustomerID <= 0 {
		p.Add("customer_id", "required")
	}
	if f.OpportunityID < 0 {
		p.Add("opportunity_id", "not_found")
	}
	f.Number = p.Text("number", f.Number, true, 64)
	f.Name = p.Text("name", f.Name, true, 200)
	if f.Amount < 0 || f.Amount > MaxAmount {
		p.Add("amount", "range", "0-1000000000000")
	}
	if f.Currency == "" {
		f.Currency = "CNY"
	}
	if !IsCurrency(f.Currency) {
		p.Add("currency", "currency")
	}
	f.SignedOn = p.Date("signed_on", f.SignedOn, false)
	f.StartsOn = p.Date("starts_on", f.StartsOn, false)
	f.EndsOn = p.Date("ends_on", f.EndsOn, false)
	// YYYY-MM-DD compares as text; only dates that passed their check.
	if f.StartsOn != "" && f.EndsOn != "" && CheckDate(f.StartsOn) == "" && CheckDate(f.EndsOn) == "" && f.EndsOn < f.StartsOn {
		p.Add("ends_on", "before_start")
	}
	if f.Status == "" {
		f.Status = ContractStatuses[0]
	}
	f.Status = p.Enum("status", f.Status, true, ContractStatuses)
	f.Notes = p.Text("notes", f.Notes, false, 5000)
	p.LabelAs("name", "field.contract_name")
	return p
}

// ContractUpdate is a partial update. The customer is fixed at creation
// (the scope follows it); OpportunityID 0 unlinks the opportunity.
type ContractUpdate struct {
	Version       int64   `json:"version"`
	OpportunityID *int64  `json:"opportunity_id,omitempty"`
	Number        *string `json:"number,omitempty"`
	Name          *string `json:"name,omitempty"`
	Amount        *int64  `json:"amount,omitempty"`
	Currency      *string `json:"currency,omitempty"`
	SignedOn      *string `json:"signed_on,omitempty"`
	StartsOn      *string `json:"starts_on,omitempty"`
	EndsOn        *string `json:"ends_on,omitempty"`
	Status        *string `json:"status,omitempty"`
	Notes         *string `json:"notes,omitempty"`
	// Custom sets the given custom fields; a JSON null removes one.
	Custom map[string]any `json:"custom,omitempty"`
}

// Apply returns f with the update's non-nil fields set.
func (u ContractUpdate) Apply(f ContractFields) ContractFields {
	setPtr(&f.OpportunityID, u.OpportunityID)
	setPtr(&f.Number, u.Number)
	setPtr(&f.Name, u.Name)
	setPtr(&f.Amount, u.Amount)
	setPtr(&f.Currency, u.Currency)
	setPtr(&f.SignedOn, u.SignedOn)
	setPtr(&f.StartsOn, u.StartsOn)
	setPtr(&f.EndsOn, u.EndsOn)
	setPtr(&f.Status, u.Status)
	setPtr(&f.Notes, u.Notes)
	f.Custom = MergeCustom(f.Custom, u.Custom)
	return f
}
