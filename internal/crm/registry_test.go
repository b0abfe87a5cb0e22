package crm

import (
	"slices"
	"testing"
)

// TestRegistryRuleFields: every field that takes rules says how it is
// masked, and the pool's masked fields take rules (a role may hide them).
func TestRegistryRuleFields(t *testing.T) {
	masks := []string{MaskPhone, MaskEmail, MaskID, MaskName, MaskText, MaskNone}
	for _, s := range Specs() {
		for _, f := range s.Fields {
			if f.RuleField && !slices.Contains(masks, f.Mask) {
				t.Errorf("%s.%s: mask %q", s.Name, f.Name, f.Mask)
			}
			if (f.PoolMasked || f.Sealed) && !f.RuleField {
				t.Errorf("%s.%s is sealed or masked in the pool but takes no field rule", s.Name, f.Name)
			}
		}
	}
}

// TestRegistrySensitiveLists: the objects holding a person's data are the
// contacts and leads, and what they seal includes how to reach the person.
func TestRegistrySensitiveLists(t *testing.T) {
	if got := ObjectsWhere(func(s ObjectSpec) bool { return s.Personal }); !slices.Equal(got, []Object{ObjContact, ObjLead}) {
		t.Errorf("personal objects = %v", got)
	}
	for _, o := range []Object{ObjContact, ObjLead} {
		for _, must := range []string{"name", "mobile", "email", "wechat", "notes"} {
			if !slices.Contains(SealedFields(o), must) {
				t.Errorf("%s: %s is not sealed", o, must)
			}
		}
	}
	if !slices.Equal(SealedFields(ObjFollowUp), []string{"content"}) || !slices.Equal(CustomerSensitive, []string{"phone", "email"}) {
		t.Errorf("follow-up sealed %v, pool-masked customer fields %v", SealedFields(ObjFollowUp), CustomerSensitive)
	}
}

// TestRegistryConsistent checks that each description makes sense on its
// own: what one flag implies of another, unique names and columns, and
// references to objects that exist.
func TestRegistryConsistent(t *testing.T) {
	specs := Specs()
	if len(specs) != len(Objects) {
		t.Fatalf("%d descriptions, %d objects", len(specs), len(Objects))
	}
	paths, tables, aliases := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i, s := range specs {
		if s.Name != Objects[i] {
			t.Errorf("description %d is %s, Objects says %s", i, s.Name, Objects[i])
		}
		for what, v := range map[string]string{"table": s.Table, "alias": s.Alias, "path": s.Path, "label": s.Label} {
			if v == "" {
				t.Errorf("%s: no %s", s.Name, what)
			}
		}
		for seen, v := range map[*map[string]bool]string{&paths: s.Path, &tables: s.Table, &aliases: s.Alias} {
			if (*seen)[v] {
				t.Errorf("%s: %q is another object's too", s.Name, v)
			}
			(*seen)[v] = true
		}
		if s.Parent != "" {
			if _, ok := Spec(s.Parent); !ok || s.Parent == s.Name {
				t.Errorf("%s: parent %q", s.Name, s.Parent)
			}
		}
		if s.FollowsParent && (s.Parent == "" || !s.Recyclable) {
			t.Errorf("%s: follows a parent into the recycle bin without a parent or a bin", s.Name)
		}
		if s.Transferable && !s.HandedOver {
			t.Errorf("%s: transferable one at a time but not handed over", s.Name)
		}
		if len(s.Sorts) > 0 != s.Paged {
			t.Errorf("%s: sorts %v on a list that is paged: %v", s.Name, s.Sorts, s.Paged)
		}
		if _, ok := s.Excluded["custom"]; ok != s.Custom {
			t.Errorf("%s: custom fields %v, but the custom column excluded: %v", s.Name, s.Custom, ok)
		}
		if _, ok := s.Excluded["person_key"]; ok != s.Personal {
			t.Errorf("%s: personal %v, but person_key excluded: %v", s.Name, s.Personal, ok)
		}
		if _, ok := s.Excluded["deleted_with_customer"]; ok != s.FollowsParent {
			t.Errorf("%s: follows its parent %v, but deleted_with_customer excluded: %v", s.Name, s.FollowsParent, ok)
		}
		names, cols := map[string]bool{}, map[string]bool{}
		for _, f := range s.Fields {
			at := string(s.Name) + "." + f.Name
			if f.Name == "" || f.Column == "" || f.Type == "" || f.Label == "" {
				t.Errorf("%s: name, column, type or label missing: %+v", at, f)
			}
			if names[f.Name] || cols[f.Column] {
				t.Errorf("%s: described twice", at)
			}
			names[f.Name], cols[f.Column] = true, true
			if _, ok := s.Excluded[f.Column]; ok {
				t.Errorf("%s: column %s is both described and excluded", at, f.Column)
			}
			if (f.Type == TypeRef) != (f.Ref != "") {
				t.Errorf("%s: type %s, ref %q", at, f.Type, f.Ref)
			} else if _, ok := Spec(f.Ref); f.Ref != "" && !ok {
				t.Errorf("%s: refers to unknown %q", at, f.Ref)
			}
			if (f.Type == TypeEnum) != (len(f.Options) > 0) {
				t.Errorf("%s: type %s with options %v", at, f.Type, f.Options)
			}
			if f.Mask != MaskNone && !f.RuleField {
				t.Errorf("%s: a mask without field rules", at)
			}
			if f.Sealed && (!f.Sensitive || f.Filterable || f.Sortable()) {
				t.Errorf("%s: sealed, so sensitive and neither filtered nor sorted in SQL", at)
			}
			if f.Sealed && f.Search != SearchNone && !s.Personal {
				t.Errorf("%s: sealed and searched, but blind indexes are kept for people only", at)
			}
			if f.PoolMasked && (s.Name != ObjCustomer || !f.RuleField) {
				t.Errorf("%s: pool-masked outside the pool or without a mask", at)
			}
			if f.Sortable() && !slices.Contains(s.Sorts, f.Sort) {
				t.Errorf("%s: sorts as %q, which the list's sorts %v do not name", at, f.Sort, s.Sorts)
			}
			if f.System && (f.Importable || f.Mergeable || f.RuleField) {
				t.Errorf("%s: kept by the system, yet imported, merged or under field rules", at)
			}
		}
	}
}

// TestRegistryCopies: what Specs and Spec return is the caller's own; the
// registry does not change through it.
func TestRegistryCopies(t *testing.T) {
	s, _ := Spec(ObjCustomer)
	s.Fields[0].Name = "changed"
	s.Fields[2].Options[0] = "changed"
	s.Excluded["id"] = "changed"
	s.Sorts[0] = "changed"
	Specs()[0].Fields[1].Sealed = true
	again, _ := Spec(ObjCustomer)
	if again.Fields[0].Name != "name" || again.Fields[2].Options[0] != CustomerLevels[0] || again.Excluded["id"] == "changed" ||
		again.Sorts[0] != "updated" || again.Fields[1].Sealed {
		t.Fatalf("the registry changed through a copy: %+v", again)
	}
	if _, ok := Spec("invoice"); ok {
		t.Fatal("an undescribed object has a description")
	}
}

// TestRegistryTitles: every object names a record by one of its text
// fields (the recycle bin and lists of names show it).
func TestRegistryTitles(t *testing.T) {
	for _, s := range Specs() {
		f, ok := s.Field(s.Title)
		if !ok || f.Type != TypeText && f.Type != TypeLongText {
			t.Errorf("%s: title %q is not a text field", s.Name, s.Title)
		}
	}
}

// TestRegistryRecords: every description makes an empty record of its own
// object (what the API description reflects on).
func TestRegistryRecords(t *testing.T) {
	for _, s := range Specs() {
		if r := NewRecord(s.Name); r == nil || r.Object() != s.Name {
			t.Errorf("%s: NewRecord gives %T", s.Name, r)
		}
	}
}
