package crm

import "time"

// RecordShare grants one user or one department read or edit access to a
// record, optionally until a time.
type RecordShare struct {
	ID            int64      `json:"id"`
	Object        Object     `json:"object"`
	RecordID      int64      `json:"record_id"`
	UserID        int64      `json:"user_id,omitempty"`
	UserName      string     `json:"user_name,omitempty"`
	DeptID        int64      `json:"dept_id,omitempty"`
	DeptName      string     `json:"dept_name,omitempty"`
	Level         string     `json:"level"` // read or edit
	ExpiresAt     *time.Time `json:"expires_at,omitempty"`
	CreatedBy     int64      `json:"created_by"`
	CreatedByName string     `json:"created_by_name,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
}
