package service_test

import (
	"context"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

func TestRecycleBin(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "青岛海岸设备"})
		ct, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: c.ID, Name: "孙丽", Mobile: "13500002222"})
		if err != nil {
			t.Fatal(err)
		}
		l, err := o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "周杰", Mobile: "13500003333"})
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range []struct {
			o  crm.Object
			id int64
		}{{crm.ObjContact, ct.ID}, {crm.ObjLead, l.ID}} {
			wantCode(t, o.Svc.DeleteRecord(ctx, o.Rep2, rec.o, rec.id), crm.NotFound)
			if err := o.Svc.DeleteRecord(ctx, o.Rep1, rec.o, rec.id); err != nil {
				t.Fatalf("delete %s: %v", rec.o, err)
			}
			bin, err := o.Svc.RecycleBin(ctx, o.Rep1, rec.o, 20)
			if err != nil || len(bin) != 1 || bin[0].ID != rec.id {
				t.Fatalf("%s bin: %+v %v", rec.o, bin, err)
			}
			if bin, _ := o.Svc.RecycleBin(ctx, o.Rep3, rec.o, 20); len(bin) != 0 {
				t.Fatalf("rep3 sees rep1's %s bin: %+v", rec.o, bin)
			}
			wantCode(t, o.Svc.RestoreRecord(ctx, o.Rep2, rec.o, rec.id), crm.NotFound)
		}
		// While the contact is in the bin its mobile is free; once taken,
		// the old contact cannot come back as a duplicate.
		if _, err := o.Svc.CreateContact(ctx, o.Rep3, crm.ContactFields{Name: "孙丽（新）", Mobile: "13500002222"}); err != nil {
			t.Fatalf("mobile of a recycled contact: %v", err)
		}
		wantCode(t, o.Svc.RestoreRecord(ctx, o.Rep1, crm.ObjContact, ct.ID), crm.Duplicate)
		if err := o.Svc.RestoreRecord(ctx, o.Rep1, crm.ObjLead, l.ID); err != nil {
			t.Fatalf("restore lead: %v", err)
		}
		if _, err := o.Svc.GetLead(ctx, o.Rep1, l.ID); err != nil {
			t.Fatalf("restored lead: %v", err)
		}
		wantCode(t, o.Svc.DeleteRecord(ctx, o.Rep1, crm.ObjCustomer, c.ID), crm.NotFound) // customers have their own path
	})
}
