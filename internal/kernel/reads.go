package kernel

import (
	"encoding/json"
	"strings"

	"custos/internal/crm"
)

// What a read's audit event records of what it showed. The records service
// writes these shapes; compliance (the exposure report, the anomaly rules)
// reads them back, so they live here, below both.

// FieldsShown is what a read showed of one object's fields: Seen in clear,
// Masked only in their masked form. It goes into the read's audit event, so
// an exposure report can say which fields a person's record showed to whom
// under the rules of that moment. "custom" in Seen stands for the custom
// fields but those Masked or hidden by a rule of their own.
type FieldsShown struct {
	Seen   []string `json:"seen"`
	Masked []string `json:"masked,omitempty"`
}

// SearchShown is what a global search (or a page's section) showed of one
// object, in its event.
type SearchShown struct {
	IDs    []int64         `json:"ids"`
	Fields json.RawMessage `json:"fields,omitempty"`
}

// SensitiveSearchKinds are the exact search kinds by a sensitive value.
var SensitiveSearchKinds = []string{"phone", "email", "credit_code"}

// IsSensitiveSearch reports whether an audit action is a search by a
// sensitive value.
func IsSensitiveSearch(action string) bool {
	for _, k := range SensitiveSearchKinds {
		if action == "search."+k || strings.HasSuffix(action, ".search."+k) || strings.HasSuffix(action, ".entry_check."+k) {
			return true
		}
	}
	return false
}

// CheckVersion refuses a missing or stale version.
func CheckVersion(got, current int64) error {
	if got <= 0 {
		return &crm.Error{Code: crm.Invalid, Message: "version is required", Fields: []crm.FieldError{{Field: "version", Rule: "required"}}}
	}
	if got != current {
		return crm.ErrStale()
	}
	return nil
}
