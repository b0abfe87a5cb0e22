package crm

import (
	"encoding/json"
	"slices"
	"time"
)

// ApprovalKind names a risky operation that may need a second person.
type ApprovalKind string

// The operations an administrator can put under approval.
const (
	ApproveTransfer    ApprovalKind = "transfer"     // a record's owner changes
	ApproveKeyField    ApprovalKind = "key_field"    // a field the policy marks as key changes
	ApproveWon         ApprovalKind = "won"          // an opportunity moves to a won stage
	ApproveLargeAmount ApprovalKind = "large_amount" // an opportunity's amount exceeds the threshold
	ApproveBulkDelete  ApprovalKind = "bulk_delete"  // more than threshold records deleted at once
	ApproveBulkExport  ApprovalKind = "bulk_export"  // more than threshold records exported at once
	ApproveBulkImport  ApprovalKind = "bulk_import"  // a file of more than threshold rows imported
	// ApproveAccess is a salesperson refused as a duplicate asking the
	// record's owner to share it or hand it over; always on, decided by the
	// owner (a step of type "owner"), so it is not among ApprovalKinds.
	ApproveAccess ApprovalKind = "access"
)

// ApprovalKinds lists the kinds in the order the policy page shows them.
var ApprovalKinds = []ApprovalKind{ApproveTransfer, ApproveKeyField, ApproveWon, ApproveLargeAmount, ApproveBulkDelete, ApproveBulkExport, ApproveBulkImport}

// ApprovalStep is one level of approvers: the requester's department
// manager (walking up the tree past the requester), or anyone with a role.
type ApprovalStep struct {
	Type    string `json:"type"` // "manager", "role", or "owner" (the record's owner; access requests)
	RoleKey string `json:"role_key,omitempty"`
}

// ApprovalPolicy says whether an operation needs approval and from whom,
// level after level.
type ApprovalPolicy struct {
	Kind      ApprovalKind        `json:"kind"`
	Enabled   bool                `json:"enabled"`
	Threshold int64               `json:"threshold"` // records for bulk kinds, minor units for large_amount
	Fields    map[Object][]string `json:"fields,omitempty"`
	Steps     []ApprovalStep      `json:"steps"`
}

// Validate checks a policy.
func (p *ApprovalPolicy) Validate() error {
	var pr Problems
	if !slices.Contains(ApprovalKinds, p.Kind) {
		pr.Add("kind", "enum", "transfer, key_field, won, large_amount, bulk_delete, bulk_export, bulk_import")
	}
	if p.Threshold < 0 {
		pr.Add("threshold", "range", "0-")
	}
	if p.Enabled && len(p.Steps) == 0 {
		pr.Add("steps", "required")
	}
	if len(p.Steps) > 5 {
		pr.Add("steps", "too_many", "5")
	}
	for _, s := range p.Steps {
		if s.Type != "manager" && (s.Type != "role" || s.RoleKey == "") {
			pr.Add("steps", "enum", "manager, role")
			break
		}
	}
	for o, fields := range p.Fields {
		for _, f := range fields {
			if !ruleFieldKnown(o, f) {
				pr.Add("fields", "enum", string(o)+"."+f)
			}
		}
	}
	return pr.Err()
}

// The states of an approval request.
const (
	ApprovalPending   = "pending"
	ApprovalApproved  = "approved" // approved at the last level, being carried out
	ApprovalApplied   = "applied"  // approved and carried out
	ApprovalRejected  = "rejected" // refused at some level
	ApprovalStale     = "stale"    // the record changed before the decision
	ApprovalFailed    = "failed"   // approved, but the change could no longer be made
	ApprovalCancelled = "cancelled"
)

// ApprovalRequest is a risky change waiting for, or decided by, approvers.
// Payload is the requested change as its use case takes it; it applies
// only after the last level approves.
type ApprovalRequest struct {
	ID            int64              `json:"id"`
	Kind          ApprovalKind       `json:"kind"`
	Object        Object             `json:"object"`
	RecordID      int64              `json:"record_id,omitempty"`
	RecordVersion int64              `json:"record_version,omitempty"`
	RecordIDs     []int64            `json:"record_ids,omitempty"`
	Payload       json.RawMessage    `json:"payload"`
	Summary       string             `json:"summary"`
	RequesterID   int64              `json:"requester_id"`
	RequesterName string             `json:"requester_name"`
	Status        string             `json:"status"`
	Step          int                `json:"step"`
	Steps         []ApprovalStep     `json:"steps"`
	Decisions     []ApprovalDecision `json:"decisions"`
	Result        string             `json:"result,omitempty"` // why a request failed
	CreatedAt     time.Time          `json:"created_at"`
	DecidedAt     *time.Time         `json:"decided_at,omitempty"`
}

// ApprovalDecision is one approver's answer at one level.
type ApprovalDecision struct {
	Step         int       `json:"step"`
	ApproverID   int64     `json:"approver_id"`
	ApproverName string    `json:"approver_name"`
	Approve      bool      `json:"approve"`
	Comment      string    `json:"comment,omitempty"`
	At           time.Time `json:"at"`
}
