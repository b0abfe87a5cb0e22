package crm

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// A data review campaign (issue 14 §4): the owners of a set of records
// confirm or correct each of them by a due date, perhaps every few months.

// CampaignSelection says which records of the starter's scope a campaign
// takes.
type CampaignSelection string

// The selections.
const (
	SelectAll   CampaignSelection = "all"   // every owned record
	SelectBelow CampaignSelection = "below" // completeness below BelowScore
	SelectStale CampaignSelection = "stale" // stale records
)

// CampaignSelections lists the selections in the order forms show them.
var CampaignSelections = []CampaignSelection{SelectAll, SelectBelow, SelectStale}

// Campaign statuses: open until its due date, then closed.
const (
	CampaignOpen   = "open"
	CampaignClosed = "closed"
)

// Review outcomes: a record confirmed unchanged, or corrected through its
// normal edit.
const (
	ReviewConfirmed = "confirmed"
	ReviewCorrected = "corrected"
)

// MaxRecurMonths bounds a campaign's recurrence.
const MaxRecurMonths = 24

// CampaignObjects are the objects a campaign reviews: those with a
// completeness score and a way to reach them (customers, contacts, leads).
func CampaignObjects() []Object {
	return ObjectsWhere(func(s ObjectSpec) bool {
		return slices.Contains(QualityObjects(), s.Name) && slices.ContainsFunc(s.Fields, func(f FieldSpec) bool { return f.Channel })
	})
}

// CampaignStart is what the starter chooses.
type CampaignStart struct {
	Name      string            `json:"name"`
	Objects   []Object          `json:"objects"`
	Selection CampaignSelection `json:"selection"`
	// BelowScore is the completeness (1–100) under which a record is taken,
	// for SelectBelow.
	BelowScore int `json:"below_score,omitempty"`
	// DepartmentID narrows the campaign to a department and those below it
	// (0: the starter's whole scope).
	DepartmentID int64     `json:"department_id,omitempty"`
	DueAt        time.Time `json:"due_at"`
	// RecurMonths starts the next campaign this many months after this one
	// started (0: once).
	RecurMonths int `json:"recur_months,omitempty"`
}

// Validate checks the choice at now: known objects, a selection, a score
// for "below", a due date after now, a recurrence within bounds.
func (c *CampaignStart) Validate(now time.Time) Problems {
	var p Problems
	c.Name = p.Text("name", c.Name, true, 200)
	if len(c.Objects) == 0 {
		p.Add("objects", "required")
	}
	seen := map[Object]bool{}
	for _, o := range c.Objects {
		if !slices.Contains(CampaignObjects(), o) || seen[o] {
			p.Add("objects", "enum", JoinObjects(CampaignObjects()))
			break
		}
		seen[o] = true
	}
	if !slices.Contains(CampaignSelections, c.Selection) {
		names := make([]string, len(CampaignSelections))
		for i, s := range CampaignSelections {
			names[i] = string(s)
		}
		p.Add("selection", "enum", strings.Join(names, ", "))
	}
	if c.Selection == SelectBelow && (c.BelowScore < 1 || c.BelowScore > 100) {
		p.Add("below_score", "range", "1–100")
	}
	if c.DueAt.IsZero() {
		p.Add("due_at", "required")
	} else if !c.DueAt.After(now) {
		p.Add("due_at", "after_now")
	}
	if c.RecurMonths < 0 || c.RecurMonths > MaxRecurMonths {
		p.Add("recur_months", "range", "0–"+strconv.Itoa(MaxRecurMonths))
	}
	if c.DepartmentID < 0 {
		p.Add("department_id", "not_found")
	}
	return p
}

// Campaign is a review campaign as stored.
type Campaign struct {
	ID int64 `json:"id"`
	CampaignStart
	// ScopeKind is the starter's record scope the campaign took its
	// records from (all, subtree or department), kept for its recurrence.
	ScopeKind  Scope      `json:"scope_kind"`
	StartedBy  int64      `json:"started_by"`
	StartedAt  time.Time  `json:"started_at"`
	PreviousID int64      `json:"previous_id,omitempty"`
	Status     string     `json:"status"`
	ClosedAt   *time.Time `json:"closed_at,omitempty"`
}

// NextStart is when a recurring campaign starts its successor.
func (c Campaign) NextStart() time.Time { return c.StartedAt.AddDate(0, c.RecurMonths, 0) }
