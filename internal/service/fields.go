package service

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/kernel"
	"custos/internal/store"
)

// Field rules (issue 3): one mechanism for every surface. Records leave the
// service only through shape, which hides and masks fields by the reader's
// role; writes pass guardFields, which refuses changes to fields the role
// may not edit. Both find fields by their JSON names, so a rule names a
// field the way the API does.

// refFields are fields that repeat another object's field in a record,
// such as the customer's name on a contact; they follow that field's rule.
var refFields = map[string]struct {
	object crm.Object
	field  string
}{
	"customer_name": {crm.ObjCustomer, "name"},
	"contact_name":  {crm.ObjContact, "name"},
	"lead_name":     {crm.ObjLead, "name"},
}

// shapedObject names the object of a record pointer that field rules apply
// to, or "" for anything else.
func shapedObject(rec any) crm.Object {
	r, ok := rec.(crm.ObjectOf)
	if !ok || crm.RuleFields[r.Object()] == nil {
		return ""
	}
	return r.Object()
}

// fieldAccess is the actor's access to one field of one record: the role's
// rule, tightened to masked for the sensitive fields of a customer in the
// public pool until someone claims it.
func fieldAccess(a *access.Actor, o crm.Object, field string, pool bool) crm.FieldAccess {
	acc := a.Field(o, field)
	if pool && o == crm.ObjCustomer && acc.Visible() && slices.Contains(crm.CustomerSensitive, field) {
		return crm.FieldMasked
	}
	return acc
}

// isPool reports whether a record is a live customer in the public pool.
func isPool(rec any) bool {
	c, ok := rec.(*crm.Customer)
	return ok && c.OwnerID == 0 && c.DeletedAt == nil
}

// shape applies the actor's field rules to a record in place: hidden fields
// become empty, masked ones are replaced by their masked form, and the
// record lists both. Types without field rules are left alone.
func (s *Service) shape(a *access.Actor, rec any) {
	o := shapedObject(rec)
	if o == "" {
		return
	}
	pool := isPool(rec)
	var masked, hidden []string
	eachField(reflect.ValueOf(rec).Elem(), func(name string, f reflect.Value) {
		if name == "custom" {
			m, h := s.shapeCustom(a, o, f)
			masked, hidden = append(masked, m...), append(hidden, h...)
			return
		}
		obj, field := o, name
		if ref, ok := refFields[name]; ok {
			obj, field = ref.object, ref.field
		}
		switch fieldAccess(a, obj, field, pool && obj == o) {
		case crm.FieldHidden:
			f.SetZero()
			hidden = append(hidden, name)
		case crm.FieldMasked:
			if f.Kind() == reflect.String {
				f.SetString(s.norm.Mask(maskKind(obj, field), f.String()))
			} else {
				f.SetZero()
			}
			masked = append(masked, name)
		}
	})
	v := reflect.ValueOf(rec).Elem()
	v.FieldByName("Masked").Set(reflect.ValueOf(masked))
	v.FieldByName("Hidden").Set(reflect.ValueOf(hidden))
}

// shapeName shows a record's name as the actor's rule for the object's
// "name" field allows, for lists that carry only names.
func (s *Service) shapeName(a *access.Actor, o crm.Object, name string) string {
	return s.shapeField(a, o, "name", name)
}

// shapeField shows one text field's value as the actor's rule for it
// allows.
func (s *Service) shapeField(a *access.Actor, o crm.Object, field, value string) string {
	switch a.Field(o, field) {
	case crm.FieldHidden:
		return ""
	case crm.FieldMasked:
		return s.norm.Mask(maskKind(o, field), value)
	}
	return value
}

// nameField names the field that stands for a record in lists of names
// (the recycle bin): the registry's Title.
func nameField(o crm.Object) string {
	s, _ := crm.Spec(o)
	return s.Title
}

// shapeAll shapes every record of a list.
func shapeAll[T any](s *Service, a *access.Actor, items []T) {
	for i := range items {
		s.shape(a, &items[i])
	}
}

// shapeCustom applies the rules named "custom.<key>" to a custom map.
func (s *Service) shapeCustom(a *access.Actor, o crm.Object, f reflect.Value) (masked, hidden []string) {
	m, _ := f.Interface().(map[string]any)
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		name := "custom." + k
		switch a.Field(o, name) {
		case crm.FieldHidden:
			hidden = append(hidden, name)
			continue
		case crm.FieldMasked:
			str, ok := v.(string)
			if !ok {
				hidden = append(hidden, name)
				continue
			}
			v = s.norm.Mask(customValueMask(str), str)
			masked = append(masked, name)
		}
		out[k] = v
	}
	f.Set(reflect.ValueOf(out))
	return masked, hidden
}

// customValueMask picks the mask of a stored custom value from its
// normalised form: E.164 phones start with "+", e-mails hold "@".
func customValueMask(v string) string {
	switch {
	case strings.HasPrefix(v, "+"):
		return crm.MaskPhone
	case strings.Contains(v, "@"):
		return crm.MaskEmail
	}
	return crm.MaskText
}

// maskKind is how a built-in field is masked.
func maskKind(o crm.Object, field string) string {
	for _, f := range crm.RuleFields[o] {
		if f.Name == field {
			return f.Mask
		}
	}
	return crm.MaskNone
}

// eachField calls fn with every settable field of a struct by JSON name,
// descending into embedded structs.
func eachField(v reflect.Value, fn func(name string, f reflect.Value)) {
	t := v.Type()
	for i := range t.NumField() {
		sf, f := t.Field(i), v.Field(i)
		if !sf.IsExported() {
			continue
		}
		if sf.Anonymous && f.Kind() == reflect.Struct {
			eachField(f, fn)
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			fn(name, f)
		}
	}
}

// guardFields refuses a write that changes a field the actor may not edit.
// before is what is stored (the zero value on create) and after the fields
// the write would store; both point to the same struct type. A value sent
// back exactly as the actor was shown it (masked, or empty when hidden)
// means "unchanged", so a form or a client echoing a record works.
func (s *Service) guardFields(a *access.Actor, o crm.Object, before, after any) error {
	var p crm.Problems
	bv, av := reflect.ValueOf(before).Elem(), reflect.ValueOf(after).Elem()
	stored := map[string]reflect.Value{}
	eachField(bv, func(name string, f reflect.Value) { stored[name] = f })
	eachField(av, func(name string, f reflect.Value) {
		old := stored[name]
		if name == "custom" {
			s.guardCustom(&p, a, o, old, f)
			return
		}
		acc := a.Field(o, name)
		if acc.Editable() || same(old, f) {
			return
		}
		if same(f, s.shown(acc, maskKind(o, name), old)) {
			f.Set(old)
			return
		}
		p.Add(name, "read_only")
	})
	return p.Err()
}

// same reports whether two field values are equal, an empty slice or map
// being the same as none.
func same(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Slice, reflect.Map:
		if a.Len() == 0 && b.Len() == 0 {
			return true
		}
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

// shown is a stored value as an actor with the access saw it.
func (s *Service) shown(acc crm.FieldAccess, kind string, v reflect.Value) reflect.Value {
	out := reflect.New(v.Type()).Elem()
	switch {
	case acc == crm.FieldMasked && v.Kind() == reflect.String:
		out.SetString(s.norm.Mask(kind, v.String()))
	case acc.Visible():
		out.Set(v)
	}
	return out
}

// guardCustom is guardFields for the custom values.
func (s *Service) guardCustom(p *crm.Problems, a *access.Actor, o crm.Object, old, f reflect.Value) {
	before, _ := old.Interface().(map[string]any)
	after, _ := f.Interface().(map[string]any)
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	for k := range keys {
		name := "custom." + k
		acc := a.Field(o, name)
		bv, av := before[k], after[k]
		if acc.Editable() || reflect.DeepEqual(bv, av) {
			continue
		}
		str, _ := bv.(string)
		echo := av == nil && acc == crm.FieldHidden ||
			acc == crm.FieldMasked && av == s.norm.Mask(customValueMask(str), str)
		if !echo {
			p.Add(name, "read_only")
			continue
		}
		if bv == nil {
			delete(after, k)
		} else {
			after[k] = bv
		}
	}
}

// RevealField shows one masked value of a record the actor may read, for a
// role granted the reveal; the reveal is audited (which field, never the
// value) before the value is returned. Hidden fields cannot be revealed.
func (s *Service) RevealField(ctx context.Context, a *access.Actor, o crm.Object, id int64, field string) (string, error) {
	if err := s.require(ctx, a, o, crm.ActRead); err != nil {
		return "", err
	}
	var rec any
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		rec, err = s.readInScope(ctx, tx, a, o, id)
		return err
	})
	if err != nil {
		return "", err
	}
	value, acc, ok := fieldValue(a, o, rec, field)
	if !ok {
		return "", &crm.Error{Code: crm.Invalid, Message: "unknown field", Fields: []crm.FieldError{{Field: "field", Rule: "enum"}}}
	}
	if acc != crm.FieldMasked || !a.CanReveal(o) {
		s.auditDenied(ctx, a, string(o)+".reveal", o, id)
		return "", crm.ErrForbidden()
	}
	e := s.event(a, string(o)+".reveal", o, id)
	e.Fields = mustJSON(map[string]string{"field": field})
	if err := s.db.WriteTx(ctx, func(tx *store.Tx) error { return s.insertEvent(ctx, tx, e) }); err != nil {
		return "", err
	}
	return value, nil
}

// readInScope loads a live record within the actor's read scope (shares
// included), unshaped: for reveals, versions and histories.
func (s *Service) readInScope(ctx context.Context, tx *store.Tx, a *access.Actor, o crm.Object, id int64) (any, error) {
	h, ok := objectHooks[o]
	if !ok || h.read == nil {
		return nil, crm.ErrNotFound(string(o))
	}
	return h.read(ctx, s, tx, a, id)
}

// fieldValue reads one field of an unshaped record as text, with the
// actor's access to it; ok is false for a field the object does not have.
func fieldValue(a *access.Actor, o crm.Object, rec any, field string) (value string, acc crm.FieldAccess, ok bool) {
	pool := isPool(rec)
	if key, isCustom := strings.CutPrefix(field, "custom."); isCustom {
		var custom map[string]any
		eachField(reflect.ValueOf(rec).Elem(), func(name string, f reflect.Value) {
			if name == "custom" {
				custom, _ = f.Interface().(map[string]any)
			}
		})
		v, found := custom[key]
		return fmt.Sprint(v), a.Field(o, field), found
	}
	if !isRuleField(o, field) {
		return "", "", false
	}
	eachField(reflect.ValueOf(rec).Elem(), func(name string, f reflect.Value) {
		if name == field {
			value, ok = fmt.Sprint(f.Interface()), true
		}
	})
	return value, fieldAccess(a, o, field, pool), ok
}

func isRuleField(o crm.Object, field string) bool {
	return slices.ContainsFunc(crm.RuleFields[o], func(f crm.RuleField) bool { return f.Name == field })
}

// searchFields are the fields each kind of search matches, per object,
// from the registry (FieldSpec.Search).
var searchFields = func() map[crm.Object]map[string][]string {
	out := map[crm.Object]map[string][]string{}
	for _, s := range crm.Specs() {
		for _, f := range s.Fields {
			if f.Searchable() {
				if out[s.Name] == nil {
					out[s.Name] = map[string][]string{}
				}
				out[s.Name][string(f.Search)] = append(out[s.Name][string(f.Search)], f.Name)
			}
		}
	}
	return out
}()

// searchHidden reports whether a search of the kind would match a field the
// actor may not see, so that it must find nothing: a hidden value must not
// be confirmed by searching for it.
func searchHidden(a *access.Actor, o crm.Object, kind string) bool {
	for _, f := range searchFields[o][kind] {
		if a.Field(o, f) == crm.FieldHidden {
			return true
		}
	}
	return false
}

// searchKind names the kind of a list's search: the exact key's kind, or
// "name" for name terms.
func searchKind(key *store.DedupKey) string {
	if key != nil {
		return key.Kind
	}
	return "name"
}

// fieldsShown is what a read showed of one object's fields, in its audit
// event (kernel.FieldsShown: compliance reads it back).
type fieldsShown = kernel.FieldsShown

// fieldsFor is what the actor's field rules show of an object's records (in
// the public pool, for pool: its sensitive fields masked).
func fieldsFor(a *access.Actor, o crm.Object, pool bool) fieldsShown {
	out := fieldsShown{Seen: []string{}}
	for _, f := range crm.RuleFields[o] {
		switch acc := fieldAccess(a, o, f.Name, pool); {
		case acc.Visible():
			out.Seen = append(out.Seen, f.Name)
		case acc == crm.FieldMasked && f.Mask != crm.MaskNone: // a masked number is withheld
			out.Masked = append(out.Masked, f.Name)
		}
	}
	if !slices.Contains(crm.CustomObjects, o) {
		return out
	}
	n := len(out.Masked)
	for name, acc := range a.Role.Grant(o).Fields {
		if strings.HasPrefix(name, "custom.") && acc == crm.FieldMasked {
			out.Masked = append(out.Masked, name)
		}
	}
	slices.Sort(out.Masked[n:])
	out.Seen = append(out.Seen, "custom")
	return out
}

// shownFields is the audit record of what a read of items showed: the
// fields of fieldsFor, with the pool's masking only when every item is a
// pool customer (a list mixing both showed the fields in clear). Objects
// without field rules (tasks) show all they hold: nil.
func shownFields[T any](a *access.Actor, o crm.Object, items []T) json.RawMessage {
	if len(items) == 0 || crm.RuleFields[o] == nil {
		return nil
	}
	pool := true
	for i := range items {
		if !isPool(&items[i]) {
			pool = false
			break
		}
	}
	return mustJSON(fieldsFor(a, o, pool))
}

// namesShown is what a list of names alone showed.
func namesShown(a *access.Actor, o crm.Object) fieldsShown {
	switch acc := a.Field(o, "name"); {
	case acc.Visible():
		return fieldsShown{Seen: []string{"name"}}
	case acc == crm.FieldMasked:
		return fieldsShown{Seen: []string{}, Masked: []string{"name"}}
	}
	return fieldsShown{Seen: []string{}}
}
