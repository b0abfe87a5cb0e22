package crm

import "time"

// Task is a to-do for its owner (the assignee), optionally about a
// customer and one of its opportunities (what a stage's criteria count).
type Task struct {
	Record
	TaskFields
	Done   bool       `json:"done"`
	DoneAt *time.Time `json:"done_at,omitempty"`
}

// TaskFields are the user-editable fields of a task.
type TaskFields struct {
	Title      string     `json:"title"`
	Notes      string     `json:"notes"`
	DueAt      *time.Time `json:"due_at,omitempty"`
	CustomerID int64      `json:"customer_id,omitempty"`
	// OpportunityID links the task to an opportunity of its customer (the
	// customer is the opportunity's when none is given).
	OpportunityID int64 `json:"opportunity_id,omitempty"`
	AssigneeID    int64 `json:"assignee_id,omitempty"` // 0: the creator
}

// Validate checks a task.
func (f *TaskFields) Validate() Problems {
	var p Problems
	f.Title = p.Text("title", f.Title, true, 200)
	f.Notes = p.Text("notes", f.Notes, false, 2000)
	p.LabelAs("title", "field.task_title")
	return p
}

// TaskUpdate is a partial update of a task. AssigneeID hands the task to
// another user, checked like an assignee at creation (within the actor's
// task scope); 0 keeps the assignee. CustomerID 0 unlinks the customer,
// OpportunityID 0 the opportunity; ClearDueAt removes the due time.
type TaskUpdate struct {
	Version       int64      `json:"version"`
	Title         *string    `json:"title,omitempty"`
	Notes         *string    `json:"notes,omitempty"`
	DueAt         *time.Time `json:"due_at,omitempty"`
	ClearDueAt    bool       `json:"clear_due_at,omitempty"`
	CustomerID    *int64     `json:"customer_id,omitempty"`
	OpportunityID *int64     `json:"opportunity_id,omitempty"`
	AssigneeID    *int64     `json:"assignee_id,omitempty"`
}

// Apply returns f with the update applied.
func (u TaskUpdate) Apply(f TaskFields) TaskFields {
	setPtr(&f.Title, u.Title)
	setPtr(&f.Notes, u.Notes)
	if u.DueAt != nil {
		due := u.DueAt.UTC().Truncate(time.Millisecond)
		f.DueAt = &due
	}
	if u.ClearDueAt {
		f.DueAt = nil
	}
	setPtr(&f.CustomerID, u.CustomerID)
	setPtr(&f.OpportunityID, u.OpportunityID)
	if u.AssigneeID != nil && *u.AssigneeID != 0 {
		f.AssigneeID = *u.AssigneeID
	}
	return f
}
