package crm

import (
	"encoding/json"
	"time"
)

// Incident is a security incident being handled: what happened, how bad,
// where it stands, and its timeline. Administrators keep it; auditors read
// it. It may be linked to an exposure report's query (kept as JSON by the
// service), so the report can be made again at any time.
type Incident struct {
	ID int64 `json:"id"`
	IncidentFields
	// ExposureQuery is the linked exposure report's query, as the service
	// wrote it (nil: none).
	ExposureQuery json.RawMessage `json:"exposure_query,omitempty"`
	CreatedBy     int64           `json:"created_by"`
	CreatedByName string          `json:"created_by_name,omitempty"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
	Version       int64           `json:"version"`
}

// IncidentFields are an incident's editable fields.
type IncidentFields struct {
	Title       string    `json:"title"`
	Severity    string    `json:"severity"`
	Status      string    `json:"status"`
	DetectedAt  time.Time `json:"detected_at"`
	Description string    `json:"description"`
}

// Incident severities and statuses.
var (
	IncidentSeverities = []string{"low", "medium", "high", "critical"}
	IncidentStatuses   = []string{"open", "contained", "closed"}
)

// Validate checks an incident against now (it cannot be detected in the
// future); a new incident is open unless it says otherwise.
func (f *IncidentFields) Validate(now time.Time) Problems {
	var p Problems
	f.Title = p.Text("title", f.Title, true, 200)
	f.Severity = p.Enum("severity", f.Severity, true, IncidentSeverities)
	if f.Status == "" {
		f.Status = "open"
	}
	f.Status = p.Enum("status", f.Status, true, IncidentStatuses)
	f.Description = p.Text("description", f.Description, false, 20_000)
	switch {
	case f.DetectedAt.IsZero():
		p.Add("detected_at", "required")
	case f.DetectedAt.After(now):
		p.Add("detected_at", "future")
	}
	f.DetectedAt = f.DetectedAt.UTC().Truncate(time.Millisecond)
	labelIncident(p)
	return p
}

// labelIncident names an incident's problems as its form does: its "title"
// is not a contact's job title, its "at" and "note" mean nothing alone.
func labelIncident(p Problems) {
	for _, f := range []string{"title", "severity", "status", "detected_at", "description", "note", "at"} {
		p.LabelAs(f, "incident.field."+f)
	}
}

// IncidentUpdate is a partial update of an incident at a version.
type IncidentUpdate struct {
	Version     int64      `json:"version"`
	Title       *string    `json:"title,omitempty"`
	Severity    *string    `json:"severity,omitempty"`
	Status      *string    `json:"status,omitempty"`
	DetectedAt  *time.Time `json:"detected_at,omitempty"`
	Description *string    `json:"description,omitempty"`
}

// Apply returns f with the update applied.
func (u IncidentUpdate) Apply(f IncidentFields) IncidentFields {
	setPtr(&f.Title, u.Title)
	setPtr(&f.Severity, u.Severity)
	setPtr(&f.Status, u.Status)
	setPtr(&f.DetectedAt, u.DetectedAt)
	setPtr(&f.Description, u.Description)
	return f
}

// IncidentEntry is one line of an incident's timeline: when something
// happened, what, and who wrote it down.
type IncidentEntry struct {
	ID         int64     `json:"id"`
	IncidentID int64     `json:"incident_id"`
	At         time.Time `json:"at"`
	Note       string    `json:"note"`
	AuthorID   int64     `json:"author_id"`
	AuthorName string    `json:"author_name"`
	CreatedAt  time.Time `json:"created_at"`
}

// Validate checks an entry against now.
func (e *IncidentEntry) Validate(now time.Time) Problems {
	var p Problems
	e.Note = p.Text("note", e.Note, true, 5_000)
	switch {
	case e.At.IsZero():
		e.At = now
	case e.At.After(now):
		p.Add("at", "future")
	}
	e.At = e.At.UTC().Truncate(time.Millisecond)
	labelIncident(p)
	return p
}
