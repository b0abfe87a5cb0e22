package crm

import (
	"time"
)

// Stage kinds: an opportunity in a won or lost stage is closed.
const (
	StageOpen = "open"
	StageWon  = "won"
	StageLost = "lost"
)

// Stage is a step of the sales pipeline, configured by an administrator.
type Stage struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	NameEn      string `json:"name_en"`
	Position    int    `json:"position"`
	Probability int    `json:"probability"`
	Kind        string `json:"kind"`
	Active      bool   `json:"active"`
}

// Validate checks a stage definition.
func (s *Stage) Validate() error {
	var p Problems
	s.Name = p.Text("name", s.Name, true, 40)
	s.NameEn = p.Text("name_en", s.NameEn, false, 40)
	s.Kind = p.Enum("kind", s.Kind, true, []string{StageOpen, StageWon, StageLost})
	if s.Probability < 0 || s.Probability > 100 {
		p.Add("probability", "range", "0-100")
	}
	return p.Err()
}

// Label returns the stage name in the language ("en" uses NameEn if set).
func (s Stage) Label(lang string) string {
	if lang == "en" && s.NameEn != "" {
		return s.NameEn
	}
	return s.Name
}

// Opportunity is a possible deal with a customer moving through the stages.
type Opportunity struct {
	Record
	OpportunityFields
	StageID        int64      `json:"stage_id"`
	Probability    int        `json:"probability"`
	LostReason     string     `json:"lost_reason,omitempty"`
	StageChangedAt time.Time  `json:"stage_changed_at"`
	ClosedAt       *time.Time `json:"closed_at,omitempty"`
	CustomerName   string     `json:"customer_name,omitempty"`
}

// OpportunityFields are the user-editable fields. Amount is in minor units
// (fen, cents) of Currency, an ISO 4217 code.
type OpportunityFields struct {
	CustomerID        int64          `json:"customer_id"`
	Name              string         `json:"name"`
	Amount            int64          `json:"amount"`
	Currency          string         `json:"currency"`
	ExpectedCloseDate string         `json:"expected_close_date"`
	Custom            map[string]any `json:"custom,omitempty"`
}

// MaxAmount bounds an amount so sums over many deals cannot overflow int64.
const MaxAmount = 1_000_000_000_000_00 // one trillion in major units

// Validate checks the fields; an empty currency becomes CNY.
func (f *OpportunityFields) Validate() Problems {
	var p Problems
	f.Name = p.Text("name", f.Name, true, 200)
	if f.CustomerID <= 0 {
		p.Add("customer_id", "required")
	}
	if f.Amount < 0 || f.Amount > MaxAmount {
		p.Add("amount", "range", "0-1000000000000")
	}
	if f.Currency == "" {
		f.Currency = "CNY"
	}
	if !IsCurrency(f.Currency) {
		p.Add("currency", "currency")
	}
	f.ExpectedCloseDate = p.Date("expected_close_date", f.ExpectedCloseDate, false)
	return p
}

// OpportunityUpdate is a partial update. The stage moves through its own
// use case (MoveOpportunity), never through a generic update.
type OpportunityUpdate struct {
	Version           int64   `json:"version"`
	Name              *string `json:"name,omitempty"`
	Amount            *int64  `json:"amount,omitempty"`
	Currency          *string `json:"currency,omitempty"`
	ExpectedCloseDate *string `json:"expected_close_date,omitempty"`
	// Custom sets the given custom fields; a JSON null removes one.
	Custom map[string]any `json:"custom,omitempty"`
}

// Apply returns f with the update's non-nil fields set.
func (u OpportunityUpdate) Apply(f OpportunityFields) OpportunityFields {
	setPtr(&f.Name, u.Name)
	setPtr(&f.Amount, u.Amount)
	setPtr(&f.Currency, u.Currency)
	setPtr(&f.ExpectedCloseDate, u.ExpectedCloseDate)
	f.Custom = MergeCustom(f.Custom, u.Custom)
	return f
}

// StageMove moves an opportunity to another stage. A lost stage needs a reason.
type StageMove struct {
	Version    int64  `json:"version"`
	StageID    int64  `json:"stage_id"`
	LostReason string `json:"lost_reason,omitempty"`
}

// StageChange is one recorded stage move.
type StageChange struct {
	FromStageID int64     `json:"from_stage_id,omitempty"`
	ToStageID   int64     `json:"to_stage_id"`
	ChangedAt   time.Time `json:"changed_at"`
	ChangedBy   int64     `json:"changed_by"`
}
