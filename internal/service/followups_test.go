package service_test

import (
	"context"
	"testing"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

func TestFollowUps(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "苏州河畔贸易"})
		now := time.Now().UTC()
		next := now.Add(72 * time.Hour)
		f, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "call", Content: "介绍产品，约下周拜访", CustomerID: c.ID, NextAt: &next})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := o.Svc.GetCustomer(ctx, o.Rep1, c.ID)
		if got.LastFollowedUpAt == nil || got.NextFollowUpAt == nil || !got.NextFollowUpAt.Equal(next.Truncate(time.Millisecond)) {
			t.Fatalf("customer follow-up fields: last %v next %v", got.LastFollowedUpAt, got.NextFollowUpAt)
		}
		// System-kept fields bump no version: an edit based on the version
		// read before the follow-up still succeeds.
		if got.Version != c.Version {
			t.Fatalf("follow-up bumped the version: %d -> %d", c.Version, got.Version)
		}
		if _, err := o.Svc.UpdateCustomer(ctx, o.Rep1, c.ID, crm.CustomerUpdate{Version: c.Version, Level: ptr("B")}); err != nil {
			t.Fatalf("edit after follow-up: %v", err)
		}

		// Another rep can neither add to nor read the timeline.
		_, err = o.Svc.CreateFollowUp(ctx, o.Rep2, crm.FollowUpInput{Kind: "note", Content: "x", CustomerID: c.ID})
		if ce, ok := err.(*crm.Error); !ok || ce.Code != crm.Invalid || ce.Fields[0].Field != "customer_id" {
			t.Fatalf("rep2 follow-up on rep1's customer: %v", err)
		}
		_, err = o.Svc.ListFollowUps(ctx, o.Rep2, c.ID)
		wantCode(t, err, crm.NotFound)
		// The manager sees the timeline of a customer in the subtree.
		items, err := o.Svc.ListFollowUps(ctx, o.MgrEast, c.ID)
		if err != nil || len(items) != 1 || items[0].ID != f.ID || items[0].OwnerName != "User rep1" {
			t.Fatalf("manager timeline: %+v %v", items, err)
		}

		// Corrections keep the times and need the current version.
		fixed, err := o.Svc.UpdateFollowUp(ctx, o.Rep1, f.ID, crm.FollowUpUpdate{Version: f.Version, Content: ptr("介绍产品，约周三拜访")})
		if err != nil || fixed.Version != 2 || !fixed.OccurredAt.Equal(f.OccurredAt) {
			t.Fatalf("correct follow-up: %+v %v", fixed, err)
		}
		_, err = o.Svc.UpdateFollowUp(ctx, o.Rep1, f.ID, crm.FollowUpUpdate{Version: f.Version, Kind: ptr("visit")})
		wantCode(t, err, crm.Conflict)
		_, err = o.Svc.GetFollowUp(ctx, o.Rep2, f.ID)
		wantCode(t, err, crm.NotFound)
		if got, err := o.Svc.GetFollowUp(ctx, o.MgrEast, f.ID); err != nil || got.Content != "介绍产品，约周三拜访" {
			t.Fatalf("manager reads follow-up: %+v %v", got, err)
		}

		// Follow-ups on a contact or an opportunity land on their customer;
		// a lead has its own timeline; links must agree.
		ct, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: c.ID, Name: "马超"})
		if err != nil {
			t.Fatal(err)
		}
		viaContact, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "message", Content: "微信确认", ContactID: ct.ID})
		if err != nil || viaContact.CustomerID != c.ID {
			t.Fatalf("follow-up via contact: %+v %v", viaContact, err)
		}
		other := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "另一家客户"})
		_, err = o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "note", Content: "x", ContactID: ct.ID, CustomerID: other.ID})
		if ce, ok := err.(*crm.Error); !ok || ce.Fields[0].Field != "contact_id" || ce.Fields[0].Rule != "other_customer" {
			t.Fatalf("disagreeing links: %v", err)
		}
		lead, err := o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "赵敏"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "call", Content: "初次电话", LeadID: lead.ID}); err != nil {
			t.Fatalf("lead follow-up: %v", err)
		}
		_, err = o.Svc.CreateFollowUp(ctx, o.Rep2, crm.FollowUpInput{Kind: "call", Content: "x", LeadID: lead.ID})
		wantCode(t, err, crm.Invalid)
		page, err := o.Svc.ListRecordFollowUps(ctx, o.Rep1, crm.ObjLead, lead.ID, "", 10)
		if err != nil || page.Total != 1 || page.Items[0].LeadID != lead.ID {
			t.Fatalf("lead timeline: %+v %v", page, err)
		}
		_, err = o.Svc.ListRecordFollowUps(ctx, o.Rep2, crm.ObjLead, lead.ID, "", 10)
		wantCode(t, err, crm.NotFound)
		if page, _ := o.Svc.ListRecordFollowUps(ctx, o.Rep1, crm.ObjContact, ct.ID, "", 10); page.Total != 1 {
			t.Fatalf("contact timeline: %+v", page)
		}
		customerPage, err := o.Svc.ListRecordFollowUps(ctx, o.Rep1, crm.ObjCustomer, c.ID, "", 1)
		if err != nil || customerPage.Total != 2 || len(customerPage.Items) != 1 || customerPage.Next == "" {
			t.Fatalf("customer timeline paging: %+v %v", customerPage, err)
		}
		rest, err := o.Svc.ListRecordFollowUps(ctx, o.Rep1, crm.ObjCustomer, c.ID, customerPage.Next, 1)
		if err != nil || len(rest.Items) != 1 || rest.Items[0].ID == customerPage.Items[0].ID {
			t.Fatalf("customer timeline page 2: %+v %v", rest, err)
		}

		// Bad input names each field.
		past := now.Add(-time.Hour)
		_, err = o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "fax", CustomerID: c.ID, NextAt: &past})
		var ce *crm.Error
		if !errorsAs(err, &ce) || len(ce.Fields) != 3 {
			t.Fatalf("invalid follow-up: %v", err)
		}
		// The most recent follow-up's plan counts: a backdated entry does
		// not override it, and deleting the latest brings the previous back.
		later := now.Add(96 * time.Hour)
		earlier := now.Add(-48 * time.Hour)
		latest, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "call", Content: "再次沟通", CustomerID: c.ID, NextAt: &later})
		if err != nil {
			t.Fatal(err)
		}
		backNext := now.Add(24 * time.Hour)
		if _, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "note", Content: "补录", CustomerID: c.ID, OccurredAt: &earlier, NextAt: &backNext}); err != nil {
			t.Fatal(err)
		}
		got, _ = o.Svc.GetCustomer(ctx, o.Rep1, c.ID)
		if got.NextFollowUpAt == nil || !got.NextFollowUpAt.Equal(later.Truncate(time.Millisecond)) {
			t.Fatalf("backdated follow-up overrode the plan: %v", got.NextFollowUpAt)
		}
		if err := o.Svc.DeleteRecord(ctx, o.Rep1, crm.ObjFollowUp, latest.ID); err != nil {
			t.Fatal(err)
		}
		got, _ = o.Svc.GetCustomer(ctx, o.Rep1, c.ID)
		if got.NextFollowUpAt != nil && got.NextFollowUpAt.Equal(later.Truncate(time.Millisecond)) {
			t.Fatalf("deleted follow-up's plan kept: %v", got.NextFollowUpAt)
		}
		if err := o.Svc.RestoreRecord(ctx, o.Rep1, crm.ObjFollowUp, latest.ID); err != nil {
			t.Fatal(err)
		}
		got, _ = o.Svc.GetCustomer(ctx, o.Rep1, c.ID)
		if got.NextFollowUpAt == nil || !got.NextFollowUpAt.Equal(later.Truncate(time.Millisecond)) {
			t.Fatalf("restored follow-up's plan: %v", got.NextFollowUpAt)
		}

		// A follow-up without a next time clears the reminder.
		if _, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "visit", Content: "拜访完成", CustomerID: c.ID}); err != nil {
			t.Fatal(err)
		}
		got, _ = o.Svc.GetCustomer(ctx, o.Rep1, c.ID)
		if got.NextFollowUpAt != nil {
			t.Fatalf("next follow-up not cleared: %v", got.NextFollowUpAt)
		}
	})
}

// TestFollowUpEditShare: a customer shared to edit brings its follow-up
// timeline along for correcting; a read share only for reading.
func TestFollowUpEditShare(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c := o.Customer(t, o.Rep3, crm.CustomerFields{Name: "厦门鹭岛茶业"})
		f, err := o.Svc.CreateFollowUp(ctx, o.Rep3, crm.FollowUpInput{Kind: "call", Content: "询价", CustomerID: c.ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, sh := range []struct {
			to    *access.Actor
			level string
		}{{o.Rep1, "edit"}, {o.Rep2, "read"}} {
			if _, err := o.Svc.ShareRecord(ctx, o.Rep3, crm.ObjCustomer, c.ID, service.ShareInput{UserID: sh.to.UserID, Level: sh.level}); err != nil {
				t.Fatal(err)
			}
		}
		reader := testorg.Actor(t, o.Svc, o.Rep2.UserID)
		if _, err := o.Svc.GetFollowUp(ctx, reader, f.ID); err != nil {
			t.Fatalf("read share reads the follow-up: %v", err)
		}
		_, err = o.Svc.UpdateFollowUp(ctx, reader, f.ID, crm.FollowUpUpdate{Version: f.Version, Content: new("改")})
		wantCode(t, err, crm.NotFound)
		editor := testorg.Actor(t, o.Svc, o.Rep1.UserID)
		got, err := o.Svc.UpdateFollowUp(ctx, editor, f.ID, crm.FollowUpUpdate{Version: f.Version, Content: new("询价，报价单已发")})
		if err != nil || got.Content != "询价，报价单已发" {
			t.Fatalf("edit share corrects the follow-up: %+v %v", got, err)
		}
		// Deleting stays with the owner's scope.
		if err := o.Svc.DeleteRecord(ctx, editor, crm.ObjFollowUp, f.ID); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("edit share deletes the follow-up: %v", err)
		}
	})
}
