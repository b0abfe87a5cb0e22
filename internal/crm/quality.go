package crm

import "slices"

// QualityIssue names a data-quality problem a record can have.
type QualityIssue string

// The data-quality problems (issue 14 §4).
const (
	// IssueStale: a FollowedUp record without a follow-up for the
	// configured number of days, or never followed up.
	IssueStale QualityIssue = "stale"
	// IssueIncomplete: a record whose Channel fields are all empty (no way
	// to reach it).
	IssueIncomplete QualityIssue = "incomplete"
	// IssueInvalid: a value that breaks its field's rule and can be checked
	// without opening a sealed value (a credit code's check digit).
	IssueInvalid QualityIssue = "invalid"
	// IssueDuplicate: a record in an open pair of its object's latest
	// duplicate scan whose other record the reader may see too. It is no
	// fix-up (merging is a decision, not a chore).
	IssueDuplicate QualityIssue = "duplicate"
)

// IssueAll is no problem but a drill-down's filter: every record.
const IssueAll QualityIssue = "all"

// QualityIssues lists the problems in the order pages show them.
var QualityIssues = []QualityIssue{IssueStale, IssueIncomplete, IssueInvalid, IssueDuplicate}

// DefaultStaleDays is how long a record may go without a follow-up before
// it is stale, until an administrator says otherwise.
const DefaultStaleDays = 30

// QualityWeight is one field's weight in an object's completeness score.
type QualityWeight struct {
	Field  string `json:"field"`
	Weight int    `json:"weight"`
}

// QualitySettings are what an administrator configures of data quality:
// the days after which a record is stale and, per object, the weights of
// its fields (an object left out keeps the registry's defaults).
type QualitySettings struct {
	StaleDays int                        `json:"stale_days"`
	Weights   map[Object][]QualityWeight `json:"weights"`
}

// QualityObjects are the objects with a completeness score: those with a
// field weighted by default.
func QualityObjects() []Object {
	return ObjectsWhere(func(s ObjectSpec) bool {
		return slices.ContainsFunc(s.Fields, func(f FieldSpec) bool { return f.Weight > 0 })
	})
}

// DefaultQualityWeights are an object's weights as the registry gives them.
func DefaultQualityWeights(o Object) []QualityWeight {
	s, _ := Spec(o)
	var w []QualityWeight
	for _, f := range s.Fields {
		if f.Weight > 0 {
			w = append(w, QualityWeight{Field: f.Name, Weight: f.Weight})
		}
	}
	return w
}

// Validate checks the settings: a number of days from 1 to 3650, weights
// from 0 to 100 of fields a user sets on an object with a completeness
// score, and at least one positive weight per object.
func (q QualitySettings) Validate() Problems {
	var p Problems
	if q.StaleDays < 1 || q.StaleDays > 3650 {
		p.Add("stale_days", "range", "1–3650")
	}
	for o, ws := range q.Weights {
		spec, ok := Spec(o)
		if !ok || !slices.Contains(QualityObjects(), o) {
			p.Add("object", "unknown")
			continue
		}
		total := 0
		for _, w := range ws {
			f, ok := spec.Field(w.Field)
			switch {
			case !ok || f.System:
				p.Add("weight", "unknown")
			case w.Weight < 0 || w.Weight > 100:
				p.Add("weight", "range", "0–100")
			}
			total += w.Weight
		}
		if total <= 0 {
			p.Add("weight", "required")
		}
	}
	return p
}
