package service

import (
	"slices"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
)

// TestSealedFieldsMatchTheStore: the fields the service seals on the way in
// are the columns the store's upgrade, erasure and re-encryption treat as
// sealed. A field added to one list only would be left in plaintext by the
// upgrade, or sealed and never re-encrypted.
func TestSealedFieldsMatchTheStore(t *testing.T) {
	for _, tc := range []struct {
		object crm.Object
		fields []personField
	}{
		{crm.ObjContact, contactSealed(&crm.Contact{})},
		{crm.ObjLead, leadSealed(&crm.Lead{})},
		{crm.ObjFollowUp, followUpSealed(&crm.FollowUp{})},
	} {
		var names []string
		for _, f := range tc.fields {
			names = append(names, f.name)
		}
		if cols := store.SealedColumns(tc.object); !slices.Equal(names, cols) {
			t.Errorf("%s: the service seals %v, the store treats %v as sealed", tc.object, names, cols)
		}
	}
	for _, o := range []crm.Object{crm.ObjCustomer, crm.ObjOpportunity, crm.ObjTask} {
		if cols := store.SealedColumns(o); len(cols) != 0 {
			t.Errorf("%s: the store treats %v as sealed, the service seals nothing", o, cols)
		}
		if _, _, ok := sealedOf(placeholder(o)); ok {
			t.Errorf("%s: the service seals fields the store does not know", o)
		}
	}
}

// placeholder returns an empty record of o, as sealedOf sees records.
func placeholder(o crm.Object) any {
	switch o {
	case crm.ObjCustomer:
		return &crm.Customer{}
	case crm.ObjOpportunity:
		return &crm.Opportunity{}
	case crm.ObjFollowUp:
		return &crm.FollowUp{}
	case crm.ObjTask:
		return &crm.Task{}
	}
	return nil
}
