package crm

import (
	"regexp"
	"slices"
)

// Custom field types.
var CustomFieldTypes = []string{"text", "number", "amount", "date", "single", "multi", "phone", "email", "url"}

// CustomObjects are the objects that carry custom fields.
var CustomObjects = ObjectsWhere(func(s ObjectSpec) bool { return s.Custom })

// CustomField defines a typed field an administrator adds to an object.
// Values live in the record's custom JSON under Key. Key and Type never
// change after creation, so stored values keep their meaning.
type CustomField struct {
	ID       int64    `json:"id"`
	Object   Object   `json:"object"`
	Key      string   `json:"key"`
	Label    string   `json:"label"`
	LabelEn  string   `json:"label_en"`
	Type     string   `json:"type"`
	Required bool     `json:"required"`
	Unique   bool     `json:"unique"`
	Options  []string `json:"options"`
	InList   bool     `json:"in_list"`
	Position int      `json:"position"`
	Active   bool     `json:"active"`
	// Sensitive values hold personal data: stored only sealed (under the
	// person's key on contacts and leads), masked by field rules, never
	// filtered on. Chosen at creation, like the type.
	Sensitive bool `json:"sensitive"`
}

var customKey = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// Validate checks a definition.
func (f *CustomField) Validate() error {
	var p Problems
	if !slices.Contains(CustomObjects, f.Object) {
		p.Add("object", "enum", "customer, contact, lead, opportunity")
	}
	if !customKey.MatchString(f.Key) {
		p.Add("key", "key_format")
	}
	f.Label = p.Text("label", f.Label, true, 60)
	f.LabelEn = p.Text("label_en", f.LabelEn, false, 60)
	f.Type = p.Enum("type", f.Type, true, CustomFieldTypes)
	f.Options = p.Tags("options", f.Options, 100)
	if (f.Type == "single" || f.Type == "multi") && len(f.Options) == 0 {
		p.Add("options", "required")
	}
	if f.Unique && f.Type == "multi" {
		p.Add("unique", "not_for_multi")
	}
	if f.Sensitive && (f.Type == "multi" || f.Type == "single") {
		p.Add("sensitive", "not_for_choice")
	}
	return p.Err()
}

// LabelFor returns the label in the language.
func (f CustomField) LabelFor(lang string) string {
	if lang == "en" && f.LabelEn != "" {
		return f.LabelEn
	}
	return f.Label
}

// MergeCustom returns base with the update's keys set; a nil value removes
// the key. base is not modified.
func MergeCustom(base, update map[string]any) map[string]any {
	if update == nil {
		return base
	}
	out := make(map[string]any, len(base)+len(update))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range update {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}
