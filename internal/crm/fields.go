package crm

import (
	"slices"
	"strings"
)

// FieldAccess is what a role may do with one field of an object. The zero
// value means editable: a role without rules sees and edits everything its
// record scope reaches.
type FieldAccess string

// The field access levels, most restrictive first.
const (
	FieldHidden   FieldAccess = "hidden"   // never shown, never searchable by it
	FieldMasked   FieldAccess = "masked"   // shown masked (138****5678); revealed only with the reveal grant, audited
	FieldReadOnly FieldAccess = "readonly" // shown, not changed
	FieldEditable FieldAccess = "editable"
)

// FieldAccesses lists the levels, most restrictive first.
var FieldAccesses = []FieldAccess{FieldHidden, FieldMasked, FieldReadOnly, FieldEditable}

// Visible reports whether the value is shown unmasked.
func (f FieldAccess) Visible() bool { return f == FieldReadOnly || f == FieldEditable || f == "" }

// Editable reports whether the value may be changed.
func (f FieldAccess) Editable() bool { return f == FieldEditable || f == "" }

// Mask kinds: how a masked value is shown.
const (
	MaskPhone = "phone" // 138****5678
	MaskEmail = "email" // z***@example.com
	MaskID    = "id"    // 1101**********1234
	MaskName  = "name"  // 张*
	MaskText  = "text"  // first and last character
	MaskNone  = ""      // not a string: masked means hidden
)

// RuleField is a built-in field a role's field rules may name.
type RuleField struct {
	Name string // the field's JSON name
	Mask string // how it is masked
}

// RuleFields lists, per object, the built-in fields that take field rules,
// from the registry (FieldSpec.RuleField). Custom fields take rules as
// "custom.<key>", masked by their type.
var RuleFields = ruleFieldsOf()

// CustomerSensitive lists the customer fields that stay masked while the
// customer is in the public pool: claiming it shows them.
var CustomerSensitive = FieldNames(ObjCustomer, func(f FieldSpec) bool { return f.PoolMasked })

// CustomMask returns how a custom field of the type is masked.
func CustomMask(typ string) string {
	switch typ {
	case "phone":
		return MaskPhone
	case "email":
		return MaskEmail
	case "text", "url":
		return MaskText
	}
	return MaskNone
}

// ruleFieldKnown reports whether a field name takes rules on the object:
// a built-in field or any well-formed custom key (the service checks that
// the custom field exists).
func ruleFieldKnown(o Object, name string) bool {
	if key, ok := strings.CutPrefix(name, "custom."); ok {
		return slices.Contains(CustomObjects, o) && customKey.MatchString(key)
	}
	return slices.ContainsFunc(RuleFields[o], func(f RuleField) bool { return f.Name == name })
}

// validateFieldRules checks one object's rules within a role.
func validateFieldRules(p *Problems, o Object, rules map[string]FieldAccess) {
	for name, acc := range rules {
		if !ruleFieldKnown(o, name) {
			p.Add("grants."+string(o)+".fields", "enum", name)
		}
		if !slices.Contains(FieldAccesses, acc) {
			p.Add("grants."+string(o)+".fields."+name, "enum", "hidden, masked, readonly, editable")
		}
	}
}
