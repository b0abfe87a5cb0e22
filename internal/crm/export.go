package crm

import "time"

// MaxExportRows is the most rows one export file holds; a list with more
// is refused (narrow the filters) rather than cut short silently.
const MaxExportRows = 100000

// ExportStatus is where an export stands.
type ExportStatus string

// An export below its threshold is written at once (done). Above it, it
// waits for the bulk-export approval (pending); once approved its file is
// made and sealed (ready) for the requester to download once (downloaded)
// until it expires (expired); a rejected or failed request keeps no file.
const (
	ExportDone       ExportStatus = "done"
	ExportPending    ExportStatus = "pending"
	ExportReady      ExportStatus = "ready"
	ExportDownloaded ExportStatus = "downloaded"
	ExportExpired    ExportStatus = "expired"
	ExportRejected   ExportStatus = "rejected"
)

// Export is one list written to a file (or asked for): who, when, which
// object with which filters, how many rows, and — for an approved one —
// the approval and until when its file may be downloaded. The file's
// fingerprint seed is sealed in the database and never leaves the
// service.
type Export struct {
	ID       int64  `json:"id"`
	UserID   int64  `json:"user_id"`
	UserName string `json:"user_name"`
	Object   Object `json:"object"`
	// Filter is the list's filters (JSON) without the search text and
	// custom values, which may be personal data ("***" in their place);
	// Query is the whole filter, sealed, for an approved export's run.
	Filter       string       `json:"filter"`
	Query        string       `json:"-"`
	Format       string       `json:"format"`
	Rows         int          `json:"rows"`
	Status       ExportStatus `json:"status"`
	ApprovalID   int64        `json:"approval_id,omitempty"`
	CreatedAt    time.Time    `json:"created_at"`
	ReadyAt      *time.Time   `json:"ready_at,omitempty"`
	ExpiresAt    *time.Time   `json:"expires_at,omitempty"`
	DownloadedAt *time.Time   `json:"downloaded_at,omitempty"`
	// Seed is the sealed fingerprint seed; File the sealed file of an
	// approved export under DataKey (erased once downloaded or expired).
	Seed        string `json:"-"`
	DataKey     string `json:"-"`
	File        string `json:"-"`
	FileName    string `json:"file_name,omitempty"`
	ContentType string `json:"-"`
}

// TraceResult is what a file leads back to: the export, its user and
// time, and how sure the match is (Confidence is 1 − the chance that a
// file not made by this export agrees as well, over every export tried).
// Match false is "no match": no export's fingerprint is in the file.
type TraceResult struct {
	Match      bool      `json:"match"`
	ExportID   int64     `json:"export_id,omitempty"`
	UserID     int64     `json:"user_id,omitempty"`
	UserName   string    `json:"user_name,omitempty"`
	Object     Object    `json:"object,omitempty"`
	At         time.Time `json:"at,omitzero"`
	Rows       int       `json:"rows,omitempty"`
	Confidence float64   `json:"confidence"`
	// Chance is the probability that a file not made by the export would
	// agree as well (over every export compared): 1 − Confidence, kept
	// exact where Confidence rounds to 1.
	Chance float64 `json:"chance_of_false_match"`
	// Marks is how many distinct fingerprint positions the file holds and
	// Agree how many of them agree with the export named.
	Marks int `json:"marks"`
	Agree int `json:"agree"`
	// Claimed is the export id the visible watermark names, if any: a
	// claim only, checked against the fingerprint.
	Claimed int64 `json:"claimed_export_id,omitempty"`
	// Tried is how many exports were compared.
	Tried int `json:"tried"`
}
