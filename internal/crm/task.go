package crm

import "time"

// Task is a to-do for its owner (the assignee), optionally about a customer.
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
	AssigneeID int64      `json:"assignee_id,omitempty"` // 0: the creator
}

// Validate checks a task.
func (f *TaskFields) Validate() Problems {
	var p Problems
	f.Title = p.Text("title", f.Title, true, 200)
	f.Notes = p.Text("notes", f.Notes, false, 2000)
	return p
}
