package crm

import "time"

// ImportStatus is where an import stands.
type ImportStatus string

// An import is previewed (nothing written), may wait for approval, is
// queued for the job that commits it, runs, and ends done or failed (a
// failed import can be resumed); undone means its records went to the
// recycle bin.
const (
	ImportPreviewed        ImportStatus = "previewed"
	ImportAwaitingApproval ImportStatus = "awaiting_approval"
	ImportQueued           ImportStatus = "queued"
	ImportRunning          ImportStatus = "running"
	ImportDone             ImportStatus = "done"
	ImportFailed           ImportStatus = "failed"
	ImportUndone           ImportStatus = "undone"
)

// The actions of an import row: planned by the preview, then what the
// commit did.
const (
	RowCreate    = "created"
	RowUpdate    = "updated"
	RowSkip      = "skipped"
	RowFail      = "failed"
	RowDuplicate = "duplicate"
)

// Import is one file brought into one object.
type Import struct {
	ID       int64         `json:"id"`
	Object   Object        `json:"object"`
	Source   string        `json:"source"`
	FileName string        `json:"file_name"`
	FileHash string        `json:"file_hash"`
	FileSize int64         `json:"file_size"`
	DataKey  string        `json:"-"`
	Options  ImportOptions `json:"options"`
	Status   ImportStatus  `json:"status"`
	ImportCounts
	Total      int        `json:"total"`
	DoneRows   int        `json:"done_rows"`
	CreatedBy  int64      `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Error      string     `json:"error,omitempty"`
}

// ImportCounts are the rows of an import by action.
type ImportCounts struct {
	Created    int `json:"created"`
	Updated    int `json:"updated"`
	Skipped    int `json:"skipped"`
	Failed     int `json:"failed"`
	Duplicates int `json:"duplicates"`
}

// Add counts one row of the action.
func (c *ImportCounts) Add(action string) {
	switch action {
	case RowCreate:
		c.Created++
	case RowUpdate:
		c.Updated++
	case RowSkip:
		c.Skipped++
	case RowFail:
		c.Failed++
	case RowDuplicate:
		c.Duplicates++
	}
}

// ImportRow is what became of one data row of the file. Line is the row
// number as a spreadsheet shows it (the header is line 1).
type ImportRow struct {
	Line        int      `json:"line"`
	Planned     string   `json:"planned"`
	Action      string   `json:"action,omitempty"`
	ExternalID  string   `json:"external_id,omitempty"`
	RecordID    int64    `json:"record_id,omitempty"`
	DuplicateOf string   `json:"duplicate_of,omitempty"`
	Reason      string   `json:"reason,omitempty"`
	Raw         []string `json:"raw,omitempty"`
}

// Owner rules of an import: who owns the records it creates.
const (
	OwnerImporter   = "importer"    // the person importing (the default)
	OwnerColumn     = "column"      // the user named in the owner column (user name or e-mail)
	OwnerRoundRobin = "round_robin" // in turn across chosen users or a department's
	OwnerPool       = "pool"        // customers go straight to the public pool
)

// ImportOptions are the choices made for a file: how to read it, which
// column goes where, and who owns what it creates.
type ImportOptions struct {
	Encoding string `json:"encoding,omitempty"`
	Sheet    string `json:"sheet,omitempty"`
	// Mapping maps a header of the file to a target: a field of the
	// object, "custom.<key>", "external_id", "owner", or a link to the
	// record this one belongs to ("customer", "customer_external_id",
	// "contact_external_id", "opportunity_external_id",
	// "lead_external_id"). An unmapped header is not imported.
	Mapping map[string]string `json:"mapping,omitempty"`
	// Values maps a choice field's values in the file onto its options
	// (level: 重要 → A).
	Values    map[string]map[string]string `json:"values,omitempty"`
	OwnerRule string                       `json:"owner_rule,omitempty"`
	Owners    []int64                      `json:"owners,omitempty"`
	DeptID    int64                        `json:"dept_id,omitempty"`
	// CreateCustomers creates the customer a contact or opportunity names
	// (by name) when none exists.
	CreateCustomers bool `json:"create_customers,omitempty"`
}

// ImportTargets are the mapping targets that are not fields of the object.
var ImportTargets = []string{"external_id", "owner", "customer", "customer_external_id", "contact_external_id",
	"opportunity_external_id", "lead_external_id"}
