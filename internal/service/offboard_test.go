package service_test

import (
	"context"
	"slices"
	"testing"

	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

func TestOffboard(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c1 := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "宁波港湾物流"})
		c2 := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "温州鹿城鞋业"})
		ct, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: c1.ID, Name: "陈静"})
		if err != nil {
			t.Fatal(err)
		}
		lead, err := o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "周杰", Company: "台州精工"})
		if err != nil {
			t.Fatal(err)
		}
		opp, err := o.Svc.CreateOpportunity(ctx, o.Rep1, crm.OpportunityFields{CustomerID: c1.ID, Name: "仓储系统", Amount: 500000})
		if err != nil {
			t.Fatal(err)
		}
		task, err := o.Svc.CreateTask(ctx, o.Rep1, crm.TaskFields{Title: "回访", CustomerID: c2.ID})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := o.Svc.CreateAPIToken(ctx, o.Rep1, service.TokenInput{Name: "script", Scopes: testorg.TokenScopes(o.Rep1)})
		if err != nil {
			t.Fatal(err)
		}
		login, err := o.Svc.Login(ctx, "rep1", testorg.Password, testorg.ClientForTest())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.GetCustomer(ctx, o.Rep1, c1.ID); err != nil {
			t.Fatal(err)
		}

		counts, err := o.Svc.HandoverCounts(ctx, o.Admin, o.Rep1.UserID)
		if err != nil || counts[crm.ObjCustomer] != 2 || counts[crm.ObjTask] != 1 || counts[crm.ObjOpportunity] != 1 {
			t.Fatalf("counts: %v %v", err, counts)
		}
		// Refusals change nothing.
		_, err = o.Svc.Offboard(ctx, o.MgrEast, o.Rep1.UserID, service.Handover{OthersTo: o.Rep2.UserID})
		wantCode(t, err, crm.Forbidden)
		_, err = o.Svc.Offboard(ctx, o.Admin, o.Rep1.UserID, service.Handover{OthersTo: o.Rep2.UserID})
		wantCode(t, err, crm.StepUpRequired)
		o.StepUp(t, o.Admin)
		_, err = o.Svc.Offboard(ctx, o.Admin, o.Rep1.UserID, service.Handover{})
		wantField(t, err, "others_to", "required")
		_, err = o.Svc.Offboard(ctx, o.Admin, o.Rep1.UserID, service.Handover{OthersTo: o.Rep1.UserID})
		wantField(t, err, "others_to", "not_assignable")
		_, err = o.Svc.Offboard(ctx, o.Admin, o.Admin.UserID, service.Handover{})
		wantField(t, err, "user_id", "self")
		if _, err := o.Svc.Authenticate(ctx, login.Token, testorg.ClientForTest()); err != nil {
			t.Fatalf("a refused offboarding ended the session: %v", err)
		}

		res, err := o.Svc.Offboard(ctx, o.Admin, o.Rep1.UserID, service.Handover{CustomersTo: 0, OthersTo: o.Rep2.UserID})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Moved[crm.ObjCustomer]) != 2 || !slices.Equal(res.Moved[crm.ObjLead], []int64{lead.ID}) ||
			!slices.Equal(res.Moved[crm.ObjTask], []int64{task.ID}) || !slices.Equal(res.Moved[crm.ObjContact], []int64{ct.ID}) {
			t.Fatalf("moved: %+v", res.Moved)
		}
		// Access ends at once, for the session and the API token alike.
		if _, err := o.Svc.Authenticate(ctx, login.Token, testorg.ClientForTest()); !crm.IsCode(err, crm.Unauthenticated) {
			t.Fatalf("session after offboarding: %v", err)
		}
		if _, err := o.Svc.AuthenticateToken(ctx, tok.Secret, testorg.ClientForTest()); !crm.IsCode(err, crm.Unauthenticated) {
			t.Fatalf("token after offboarding: %v", err)
		}
		// Customers are in the pool; the rest is rep2's.
		pool, err := o.Svc.ListCustomers(ctx, o.Rep3, crm.CustomerFilter{Pool: true})
		if err != nil || pool.Total != 2 {
			t.Fatalf("pool: %v %d", err, pool.Total)
		}
		for _, get := range []func() (int64, error){
			func() (int64, error) { l, err := o.Svc.GetLead(ctx, o.Rep2, lead.ID); return l.OwnerID, err },
			func() (int64, error) { x, _, err := o.Svc.GetOpportunity(ctx, o.Rep2, opp.ID); return x.OwnerID, err },
			func() (int64, error) { x, err := o.Svc.GetTask(ctx, o.Rep2, task.ID); return x.OwnerID, err },
		} {
			if owner, err := get(); err != nil || owner != o.Rep2.UserID {
				t.Fatalf("handed over record: owner %d, %v", owner, err)
			}
		}
		if ev, _ := listEvents(db, "customer.transfer"); len(ev) != 1 || len(ev[0].RecordIDs) != 2 {
			t.Fatalf("transfer events: %+v", ev)
		}

		// The report says what rep1 did.
		rep, err := o.Svc.UserActivity(ctx, o.Admin, o.Rep1.UserID, 30)
		if err != nil {
			t.Fatal(err)
		}
		byAction := map[string]service.ActivityLine{}
		for _, l := range rep.Lines {
			byAction[l.Action] = l
		}
		if l := byAction["customer.create"]; l.Kind != "changed" || l.Events != 2 || l.Records != 2 {
			t.Fatalf("customer.create line: %+v", l)
		}
		if l := byAction["customer.view"]; l.Kind != "viewed" || l.Records != 1 {
			t.Fatalf("customer.view line: %+v (%+v)", l, rep.Lines)
		}
		_, err = o.Svc.UserActivity(ctx, o.Rep2, o.Rep1.UserID, 30)
		wantCode(t, err, crm.Forbidden)
		auditor := o.User(t, "auditor1", o.HQ.ID, "auditor")
		if _, err := o.Svc.UserActivity(ctx, auditor, o.Rep1.UserID, 90); err != nil {
			t.Fatalf("auditor: %v", err)
		}
		if _, err := o.Svc.GetCustomer(ctx, auditor, c1.ID); !crm.IsCode(err, crm.Forbidden) {
			t.Fatalf("auditor reads a customer: %v", err)
		}
	})
}
