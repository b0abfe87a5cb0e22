package service_test

import (
	"context"
	"testing"

	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

func TestJobChange(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		o.Customer(t, o.Rep1, crm.CustomerFields{Name: "湖州丝绸"})
		o.Customer(t, o.Rep2, crm.CustomerFields{Name: "丽水山货"})
		o.Customer(t, o.Rep3, crm.CustomerFields{Name: "衢州柑橘"})
		if _, err := o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "钱塘"}); err != nil {
			t.Fatal(err)
		}
		// rep1 becomes a manager of West: sees West's customer, not East-1's.
		move := service.JobChange{DepartmentID: o.West.ID, RoleID: o.Roles["manager"].ID}
		pv, err := o.Svc.PreviewJobChange(ctx, o.Admin, o.Rep1.UserID, move)
		if err != nil {
			t.Fatal(err)
		}
		if pv.Before[crm.ObjCustomer] != 1 || pv.After[crm.ObjCustomer] != 1 || pv.Owned[crm.ObjCustomer] != 1 || pv.Owned[crm.ObjLead] != 1 {
			t.Fatalf("preview: %+v", pv)
		}
		pv, _ = o.Svc.PreviewJobChange(ctx, o.Admin, o.Rep1.UserID, service.JobChange{DepartmentID: o.East.ID, RoleID: o.Roles["manager"].ID})
		if pv.After[crm.ObjCustomer] != 2 {
			t.Fatalf("East manager would see 2 customers, preview says %d", pv.After[crm.ObjCustomer])
		}
		_, err = o.Svc.PreviewJobChange(ctx, o.MgrEast, o.Rep1.UserID, move)
		wantCode(t, err, crm.Forbidden)

		// The move with a hand-over: rep1's East records go to rep2.
		_, err = o.Svc.ChangeJob(ctx, o.Admin, o.Rep1.UserID, move)
		wantCode(t, err, crm.StepUpRequired)
		o.StepUp(t, o.Admin)
		move.Handover = &service.Handover{CustomersTo: o.Rep2.UserID, OthersTo: o.Rep2.UserID}
		res, err := o.Svc.ChangeJob(ctx, o.Admin, o.Rep1.UserID, move)
		if err != nil || len(res.Moved[crm.ObjCustomer]) != 1 || len(res.Moved[crm.ObjLead]) != 1 {
			t.Fatalf("job change: %v %+v", err, res)
		}
		rep1 := testorg.Actor(t, o.Svc, o.Rep1.UserID)
		if rep1.DeptID != o.West.ID || rep1.Role.Key != "manager" {
			t.Fatalf("rep1 after the move: dept %d role %s", rep1.DeptID, rep1.Role.Key)
		}
		page, err := o.Svc.ListCustomers(ctx, rep1, crm.CustomerFilter{})
		if err != nil || page.Total != 1 || page.Items[0].Name != "衢州柑橘" {
			t.Fatalf("rep1 sees after the move: %v %+v", err, page.Items)
		}
		if page, _ := o.Svc.ListCustomers(ctx, o.Rep2, crm.CustomerFilter{}); page.Total != 2 {
			t.Fatalf("rep2 took over: %d", page.Total)
		}
	})
}

func TestAccessReview(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		d := o.East
		d.ManagerID = o.MgrEast.UserID
		if _, err := o.Svc.UpdateDepartment(ctx, o.Admin, d); err != nil {
			t.Fatal(err)
		}
		c := o.Customer(t, o.Rep3, crm.CustomerFields{Name: "舟山海产"})
		sh, err := o.Svc.ShareRecord(ctx, o.Rep3, crm.ObjCustomer, c.ID, service.ShareInput{UserID: o.Rep1.UserID, Level: "read"})
		if err != nil {
			t.Fatal(err)
		}
		o.Token(t, o.Rep1)

		rev, err := o.Svc.AccessReview(ctx, o.MgrEast)
		if err != nil {
			t.Fatal(err)
		}
		if !rev.Due || len(rev.Entries) != 3 { // mgr.east, rep1, rep2
			t.Fatalf("review: due %v, %d entries", rev.Due, len(rev.Entries))
		}
		var rep1 service.ReviewEntry
		for _, e := range rev.Entries {
			if e.User.ID == o.Rep1.UserID {
				rep1 = e
			}
			if e.User.ID == o.Rep3.UserID {
				t.Fatal("rep3 (West) in East's review")
			}
		}
		if len(rep1.Tokens) != 1 || len(rep1.Shares) != 1 || rep1.Scopes[crm.ObjCustomer] != crm.ScopeOwn {
			t.Fatalf("rep1's entry: %+v", rep1)
		}
		// Revoke in the same place: the token and the share given to rep1.
		if err := o.Svc.RevokeUserToken(ctx, o.MgrEast, o.Rep1.UserID, rep1.Tokens[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := o.Svc.RevokeShares(ctx, o.MgrEast, []int64{sh.ID}); err != nil {
			t.Fatalf("reviewer revokes a share given to a subordinate: %v", err)
		}
		if err := o.Svc.RevokeUserToken(ctx, o.MgrWest, o.Rep1.UserID, rep1.Tokens[0].ID); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("another manager revokes rep1's token: %v", err)
		}
		if err := o.Svc.ConfirmAccessReview(ctx, o.MgrEast); err != nil {
			t.Fatal(err)
		}
		rev, _ = o.Svc.AccessReview(ctx, o.MgrEast)
		if rev.Due || rev.LastConfirmed == nil {
			t.Fatalf("after confirming: due %v, last %v", rev.Due, rev.LastConfirmed)
		}
		for _, e := range rev.Entries {
			if e.User.ID == o.Rep1.UserID && len(e.Tokens)+len(e.Shares) != 0 {
				t.Fatalf("revoked access still listed: %+v", e)
			}
		}
		if _, err := o.Svc.AccessReview(ctx, o.Rep1); !crm.IsCode(err, crm.Forbidden) {
			t.Fatalf("a rep reviews: %v", err)
		}
		if ev, _ := listEvents(db, "access_review.confirm"); len(ev) != 1 || len(ev[0].RecordIDs) != 3 {
			t.Fatalf("confirm event: %+v", ev)
		}
	})
}
