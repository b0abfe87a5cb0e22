package i18n

import (
	"testing"

	"custos/internal/crm"
)

// TestRegistryLabels: every object and field label the record registry
// names is in both catalogs, so a form, a column or an export heading built
// from the registry never shows a raw key.
func TestRegistryLabels(t *testing.T) {
	for _, s := range crm.Specs() {
		keys := []string{s.Label}
		for _, f := range s.Fields {
			keys = append(keys, f.Label)
		}
		for _, k := range keys {
			for lang, cat := range map[string]map[string]string{EN: en, ZH: zh} {
				if _, ok := cat[k]; !ok {
					t.Errorf("%s: the %s catalog lacks the label %q", s.Name, lang, k)
				}
			}
		}
	}
}
