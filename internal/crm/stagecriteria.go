package crm

import (
	"slices"
	"strconv"
	"strings"
)

// StageCriteria are what must hold before an opportunity moves past an
// open stage (forward, or skipping ahead; into any later open stage or into
// won) or into a won stage (issue 17 §3). A move into a lost stage never
// checks them: a deal can always be lost, with its reason. A lost stage
// has no criteria.
type StageCriteria struct {
	StageID int64 `json:"stage_id"`
	// Fields are opportunity fields that must not be empty (an amount not
	// zero): registry field names, "custom.<key>" for a custom field.
	Fields []string `json:"fields"`
	// Tasks are completed tasks the opportunity must have.
	Tasks []TaskCriterion `json:"tasks"`
	// Contract asks for a signed contract of the opportunity: one out of the
	// recycle bin, linked to it, with status signed, active or expired (a
	// draft is not signed yet, a terminated one was cancelled).
	Contract bool `json:"contract"`
}

// TaskCriterion asks for at least Count completed tasks linked to the
// opportunity whose title starts with Title ("方案评审" counts
// "方案评审：华东区"), so a rep names a task as the process names it and
// may add a detail after it.
type TaskCriterion struct {
	Title string `json:"title"`
	Count int    `json:"count"`
}

// SignedContractStatuses are the contract statuses that count as signed.
var SignedContractStatuses = []string{"signed", "active", "expired"}

// Empty reports whether the criteria ask for nothing.
func (c StageCriteria) Empty() bool { return len(c.Fields) == 0 && len(c.Tasks) == 0 && !c.Contract }

// The bounds of one stage's criteria.
const (
	maxCriteriaTasks = 10
	maxCriteriaCount = 20
)

// CriteriaFields are the opportunity's built-in fields a stage may
// require: those a user sets, except the stage itself and the lost reason
// (set only by the move to a lost stage).
func CriteriaFields() []string {
	return FieldNames(ObjOpportunity, func(f FieldSpec) bool {
		return !f.System && f.Name != "stage_id" && f.Name != "lost_reason"
	})
}

// Validate checks criteria for stage st against the opportunity's active
// custom fields; the fields and task titles come back trimmed and each
// task count at least 1.
func (c *StageCriteria) Validate(st Stage, customs []CustomField) error {
	var p Problems
	if st.Kind == StageLost && !c.Empty() {
		p.Add("stage_id", "criteria_lost")
	}
	known := CriteriaFields()
	for _, d := range customs {
		if d.Object == ObjOpportunity && d.Active {
			known = append(known, "custom."+d.Key)
		}
	}
	var fields []string
	for _, f := range c.Fields {
		f = strings.TrimSpace(f)
		switch {
		case !slices.Contains(known, f):
			p.Add("fields", "unknown_field", f)
		case !slices.Contains(fields, f):
			fields = append(fields, f)
		}
	}
	c.Fields = fields
	if len(c.Tasks) > maxCriteriaTasks {
		p.Add("tasks", "too_many", strconv.Itoa(maxCriteriaTasks))
	}
	for i := range c.Tasks {
		k := &c.Tasks[i]
		at := "tasks." + strconv.Itoa(i)
		k.Title = p.Text(at+".title", k.Title, true, 200)
		p.LabelAs(at+".title", "field.task_title")
		if k.Count == 0 {
			k.Count = 1
		}
		if k.Count < 1 || k.Count > maxCriteriaCount {
			p.Add(at+".count", "range", "1-"+strconv.Itoa(maxCriteriaCount))
		}
	}
	if c.Fields == nil {
		c.Fields = []string{}
	}
	if c.Tasks == nil {
		c.Tasks = []TaskCriterion{}
	}
	return p.Err()
}
