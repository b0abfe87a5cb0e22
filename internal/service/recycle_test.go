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

// TestCustomerRecycleCascade: a customer goes to the recycle bin with its
// contacts, opportunities and follow-ups and comes back with exactly them;
// a contact deleted on its own before stays deleted; a restore that would
// duplicate a live contact brings nothing back.
func TestCustomerRecycleCascade(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// A clock that stands still: the contact deleted on its own and the
		// customer are deleted in the same millisecond, as happens for real.
		o := testorg.NewWithClock(t, db, testorg.NewClock())
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "嘉善木业"})
		keep, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: c.ID, Name: "沈一", Mobile: "13700001111"})
		if err != nil {
			t.Fatal(err)
		}
		gone, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: c.ID, Name: "沈二"})
		if err != nil {
			t.Fatal(err)
		}
		opp, err := o.Svc.CreateOpportunity(ctx, o.Rep1, crm.OpportunityFields{CustomerID: c.ID, Name: "地板订单"})
		if err != nil {
			t.Fatal(err)
		}
		fu, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "call", Content: "问候", CustomerID: c.ID})
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Svc.DeleteContact(ctx, o.Rep1, gone.ID); err != nil {
			t.Fatal(err)
		}
		if err := o.Svc.DeleteCustomer(ctx, o.Rep1, c.ID); err != nil {
			t.Fatal(err)
		}
		for _, get := range []func() error{
			func() error { _, err := o.Svc.GetContact(ctx, o.Rep1, keep.ID); return err },
			func() error { _, _, err := o.Svc.GetOpportunity(ctx, o.Rep1, opp.ID); return err },
			func() error { _, err := o.Svc.GetFollowUp(ctx, o.Rep1, fu.ID); return err },
		} {
			if err := get(); !crm.IsCode(err, crm.NotFound) {
				t.Fatalf("a child of a deleted customer is still live: %v", err)
			}
		}
		// Someone takes the contact's mobile meanwhile: the restore is refused whole.
		other, err := o.Svc.CreateContact(ctx, o.Rep3, crm.ContactFields{Name: "别人", Mobile: "13700001111"})
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, o.Svc.RestoreCustomer(ctx, o.Rep1, c.ID), crm.Duplicate)
		if _, err := o.Svc.GetCustomer(ctx, o.Rep1, c.ID); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("a refused restore brought the customer back: %v", err)
		}
		if err := o.Svc.DeleteContact(ctx, o.Rep3, other.ID); err != nil {
			t.Fatal(err)
		}
		if err := o.Svc.RestoreCustomer(ctx, o.Rep1, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.GetContact(ctx, o.Rep1, keep.ID); err != nil {
			t.Fatalf("contact not restored: %v", err)
		}
		if _, _, err := o.Svc.GetOpportunity(ctx, o.Rep1, opp.ID); err != nil {
			t.Fatalf("opportunity not restored: %v", err)
		}
		if _, err := o.Svc.GetContact(ctx, o.Rep1, gone.ID); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("the contact deleted on its own came back: %v", err)
		}
		if got, _ := o.Svc.GetCustomer(ctx, o.Rep1, c.ID); got.LastFollowedUpAt == nil {
			t.Fatal("the restored follow-up does not count on the customer")
		}
	})
}

// TestRestoreOpportunityNeedsItsCustomer: an opportunity cannot come back
// while its customer is in the recycle bin; a restore of what the bin does
// not hold names the bin, the same for a missing record and another's.
func TestRestoreOpportunityNeedsItsCustomer(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "宁波港湾物流"})
		opp, err := o.Svc.CreateOpportunity(ctx, o.Rep1, crm.OpportunityFields{CustomerID: c.ID, Name: "仓储合同"})
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Svc.DeleteOpportunity(ctx, o.Rep1, opp.ID); err != nil {
			t.Fatal(err)
		}
		if err := o.Svc.DeleteCustomer(ctx, o.Rep1, c.ID); err != nil {
			t.Fatal(err)
		}
		err = o.Svc.RestoreRecord(ctx, o.Rep1, crm.ObjOpportunity, opp.ID)
		if ce := (*crm.Error)(nil); !errorsAs(err, &ce) || ce.Code != crm.Conflict || ce.Key != "customer_in_recycle_bin" {
			t.Fatalf("restore an opportunity of a recycled customer: %v", err)
		}
		if err := o.Svc.RestoreCustomer(ctx, o.Rep1, c.ID); err != nil {
			t.Fatal(err)
		}
		if err := o.Svc.RestoreRecord(ctx, o.Rep1, crm.ObjOpportunity, opp.ID); err != nil {
			t.Fatalf("restore the opportunity after its customer: %v", err)
		}
		for _, err := range []error{
			o.Svc.RestoreRecord(ctx, o.Rep1, crm.ObjOpportunity, opp.ID), // live now
			o.Svc.RestoreRecord(ctx, o.Rep1, crm.ObjContact, 999999),
			o.Svc.RestoreCustomer(ctx, o.Rep1, 999999),
		} {
			if ce := (*crm.Error)(nil); !errorsAs(err, &ce) || ce.Code != crm.NotFound || ce.Key != "not_in_recycle_bin" {
				t.Fatalf("restore of what the bin does not hold: %v", err)
			}
		}
	})
}
