package service

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/quality"
	"custos/internal/store"
)

// CustomFields returns the active and inactive definitions of an object
// ("" for every object). Every signed-in user may read them: forms need them.
func (s *Service) CustomFields(ctx context.Context, a *access.Actor, object crm.Object) ([]crm.CustomField, error) {
	var out []crm.CustomField
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.ListCustomFields(ctx, object)
		return err
	})
	return out, err
}

// SaveCustomField creates (ID 0) or changes a custom field definition
// (administrators only). Object, key and type cannot change.
func (s *Service) SaveCustomField(ctx context.Context, a *access.Actor, f crm.CustomField) (crm.CustomField, error) {
	if err := s.requireAdmin(ctx, a, "custom_field.save"); err != nil {
		return f, err
	}
	if f.ID == 0 {
		f.Active = true
	}
	if err := f.Validate(); err != nil {
		return f, err
	}
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		var before crm.CustomField
		if f.ID != 0 {
			defs, err := tx.ListCustomFields(ctx, "")
			if err != nil {
				return err
			}
			i := slices.IndexFunc(defs, func(d crm.CustomField) bool { return d.ID == f.ID })
			if i < 0 {
				return crm.ErrNotFound("custom field")
			}
			before = defs[i]
			f.Object, f.Key, f.Type, f.Sensitive = before.Object, before.Key, before.Type, before.Sensitive
		}
		if err := tx.SaveCustomField(ctx, &f, s.clock().UnixMilli()); err != nil {
			return fieldConflict(err, "key")
		}
		return s.audit(ctx, tx, a, "custom_field.save", "", f.ID, diff(before, f))
	})
	return f, err
}

// checkCustom validates and normalises custom values against the object's
// definitions inside tx. It returns the cleaned values, the keys of unique
// fields for the duplicate check, and the field problems ("custom.<key>").
func (s *Service) checkCustom(ctx context.Context, tx *store.Tx, object crm.Object, values map[string]any) (map[string]any, []store.DedupKey, crm.Problems, error) {
	defs, err := tx.ListCustomFields(ctx, object)
	if err != nil {
		return nil, nil, nil, err
	}
	var p crm.Problems
	out := map[string]any{}
	var keys []store.DedupKey
	known := map[string]bool{}
	for _, d := range defs {
		known[d.Key] = true
		if !d.Active {
			if v, ok := values[d.Key]; ok {
				out[d.Key] = v // kept as stored, no longer validated
			}
			continue
		}
		v, present := values[d.Key]
		if !present || isEmpty(v) {
			if d.Required {
				p = append(p, customProblem(d, "required"))
			}
			continue
		}
		clean, rule := s.customValue(d, v)
		if rule != "" {
			p = append(p, customProblem(d, rule))
			continue
		}
		out[d.Key] = clean
		if d.Unique {
			keys = append(keys, store.DedupKey{Kind: "custom:" + string(object) + ":" + d.Key, Key: fmt.Sprint(clean)})
		}
	}
	for k := range values {
		if !known[k] {
			p.Add("custom."+k, "unknown")
		}
	}
	if len(out) == 0 {
		out = nil
	}
	return out, keys, p, nil
}

// customProblem is a rejected value of a custom field, named by the
// definition's labels (the key means nothing to the person typing) and with
// the parameter its rule's sentence needs.
func customProblem(d crm.CustomField, rule string) crm.FieldError {
	fe := crm.FieldError{Field: "custom." + d.Key, Rule: rule, Label: d.Label, LabelEn: d.LabelEn}
	switch rule {
	case "enum":
		fe.Param = strings.Join(d.Options, ", ")
	case "year_range":
		fe.Param = crm.YearRange
	}
	return fe
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case []any:
		return len(x) == 0
	case []string:
		return len(x) == 0
	}
	return false
}

// customValue checks one value against its definition and returns it in
// canonical form, or the name of the broken rule. Numbers may arrive as JSON
// numbers or, from HTML forms, as text.
func (s *Service) customValue(d crm.CustomField, v any) (any, string) {
	text, isText := v.(string)
	if isText {
		text = strings.TrimSpace(text)
	}
	switch d.Type {
	case "text":
		if !isText || len([]rune(text)) > 500 {
			return nil, "format"
		}
		return text, ""
	case "number":
		f, ok := number(v)
		if !ok {
			return nil, "number"
		}
		return json.Number(strconv.FormatFloat(f, 'f', -1, 64)), ""
	case "amount":
		f, ok := number(v)
		if !ok || f != float64(int64(f)) || f < 0 || f > crm.MaxAmount {
			return nil, "amount"
		}
		return json.Number(strconv.FormatInt(int64(f), 10)), ""
	case "date":
		if !isText {
			return nil, "date"
		}
		if rule := crm.CheckDate(text); rule != "" {
			return nil, rule
		}
		return text, ""
	case "single":
		if !isText || !slices.Contains(d.Options, text) {
			return nil, "enum"
		}
		return text, ""
	case "multi":
		return multiValue(d, v)
	case "phone":
		if p, err := s.norm.Phone(text); isText && err == nil {
			return p, ""
		}
		return nil, "phone"
	case "email":
		if e, err := quality.Email(text); isText && err == nil {
			return e, ""
		}
		return nil, "email"
	case "url":
		var p crm.Problems
		u := p.URL("x", text)
		if !isText || len(p) > 0 {
			return nil, "format"
		}
		return u, ""
	}
	return nil, "format"
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}

func multiValue(d crm.CustomField, v any) (any, string) {
	var items []string
	switch x := v.(type) {
	case []string:
		items = x
	case []any:
		for _, it := range x {
			s, ok := it.(string)
			if !ok {
				return nil, "enum"
			}
			items = append(items, s)
		}
	default:
		return nil, "enum"
	}
	out := []string{}
	for _, it := range items {
		if !slices.Contains(d.Options, it) {
			return nil, "enum"
		}
		if !slices.Contains(out, it) {
			out = append(out, it)
		}
	}
	return out, ""
}

// withCustom completes a record's normalisation with its custom values:
// problems of both kinds are reported together, the cleaned values replace
// *custom, and unique custom values join the duplicate-check keys.
func (s *Service) withCustom(ctx context.Context, tx *store.Tx, object crm.Object, custom *map[string]any, keys []store.DedupKey, err error) ([]store.DedupKey, error) {
	clean, ckeys, p, ierr := s.checkCustom(ctx, tx, object, *custom)
	if ierr != nil {
		return nil, ierr
	}
	if err := joinProblems(err, p); err != nil {
		return nil, err
	}
	*custom = clean
	return append(keys, ckeys...), nil
}

// customMatches turns "key → value" list filters into store matches. A key
// must be a field of the object, and a value is read as a value of that
// field — a phone normalised, a number made canonical, a choice one of the
// options — so a filter finds what was stored the way it was stored. An
// empty value filters nothing. A filter on a field hidden from the actor
// matches nothing, so it cannot confirm a value the actor may not see.
// Problems name the filter "custom.<key>".
func (s *Service) customMatches(ctx context.Context, tx *store.Tx, a *access.Actor, object crm.Object, filters map[string]string) ([]store.CustomMatch, error) {
	if len(filters) == 0 {
		return nil, nil
	}
	defs, err := tx.ListCustomFields(ctx, object)
	if err != nil {
		return nil, err
	}
	var p crm.Problems
	var out []store.CustomMatch
	for _, k := range slices.Sorted(maps.Keys(filters)) {
		v := strings.TrimSpace(filters[k])
		i := slices.IndexFunc(defs, func(d crm.CustomField) bool { return d.Key == k })
		switch {
		case i < 0:
			p.Add("custom."+k, "unknown")
		case v == "":
		case defs[i].Sensitive:
			p = append(p, customProblem(defs[i], "sensitive_filter")) // sealed values cannot be compared in SQL
		case defs[i].Type == "multi":
			if !slices.Contains(defs[i].Options, v) {
				p = append(p, customProblem(defs[i], "enum"))
				continue
			}
			out = append(out, store.CustomMatch{Key: k, Value: v, Multi: true})
		default:
			clean, rule := s.customValue(defs[i], v)
			if rule != "" {
				p = append(p, customProblem(defs[i], rule))
				continue
			}
			out = append(out, store.CustomMatch{Key: k, Value: fmt.Sprint(clean)})
		}
	}
	return out, p.Err()
}
