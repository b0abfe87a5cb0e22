package crm

import (
	"encoding/json"
	"time"
)

// AuditEvent is one row of the audit trail. The service writes it in the same
// transaction as the change it describes. Fields carries field names with
// before/after values; sensitive values appear by reference, never in clear.
type AuditEvent struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	ActorKind string    `json:"actor_kind"` // user, token, system
	ActorID   int64     `json:"actor_id"`
	ActorName string    `json:"actor_name"`
	// TokenID names the API token a token actor used (0 otherwise, and on
	// events written before tokens were recorded).
	TokenID   int64           `json:"token_id,omitempty"`
	Action    string          `json:"action"`
	Object    string          `json:"object,omitempty"`
	RecordID  int64           `json:"record_id,omitempty"`
	RecordIDs []int64         `json:"record_ids,omitempty"`
	Fields    json.RawMessage `json:"fields,omitempty"`
	Outcome   string          `json:"outcome"`
	IP        string          `json:"ip,omitempty"`
	UserAgent string          `json:"user_agent,omitempty"`
	RequestID string          `json:"request_id,omitempty"`
	// Tamper evidence (internal/audit): the nonce and MAC stamped when the
	// event is written, and the log position and chain link the sealer
	// gives it (Seq 0: not sealed yet).
	Nonce string `json:"-"`
	MAC   string `json:"-"`
	Seq   int64  `json:"seq,omitempty"`
	Link  string `json:"-"`
}
