package crm

// WarnPossibleDuplicate is the warning of a write that may have entered a
// record twice: another record holds the same company name with or without
// its place (华信物流 and 成都华信物流), which is not safe to refuse, since
// 成都华信物流 and 深圳华信物流 are two companies.
const WarnPossibleDuplicate = "possible_duplicate"

// Warning is something a write let through but the user should review. It
// names the other record only when the user may see it (Object and
// RecordID, for a link); else only its owner, as the duplicate check does.
type Warning struct {
	Code     string `json:"code"`
	Field    string `json:"field"`
	Message  string `json:"message"`
	Object   Object `json:"object,omitempty"`
	RecordID int64  `json:"record_id,omitempty"`
	// Owner is the other record's owner; "" for a customer in the pool.
	Owner string `json:"owner,omitempty"`
}
