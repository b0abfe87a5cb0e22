package crm

import "time"

// BackupRun is one backup or restore drill, as the backup history shows it.
type BackupRun struct {
	ID         int64     `json:"id"`
	Kind       string    `json:"kind"` // BackupKindBackup or BackupKindDrill
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Outcome    string    `json:"outcome"` // ok, error
	Path       string    `json:"path"`    // the backup made, or drilled
	Copies     []string  `json:"copies,omitempty"`
	Rows       int64     `json:"rows"`
	Bytes      int64     `json:"bytes"`
	// BackupAt is, for a drill, when the backup it restored was taken.
	BackupAt time.Time `json:"backup_at,omitzero"`
	Detail   string    `json:"detail,omitempty"` // the error, when it failed
}

// The kinds of backup runs.
const (
	BackupKindBackup = "backup"
	BackupKindDrill  = "drill"
)
