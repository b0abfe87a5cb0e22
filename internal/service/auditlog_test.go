package service_test

import (
	"context"
	"strings"
	"testing"

	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

func TestAuditViewer(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "台州模具", Level: "B"})
		if _, err := o.Svc.UpdateCustomer(ctx, o.Rep1, c.ID, crm.CustomerUpdate{Version: c.Version, Level: new("A"), Industry: new("模具")}); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.GetCustomer(ctx, o.MgrEast, c.ID); err != nil {
			t.Fatal(err)
		}
		auditor := o.User(t, "auditor1", o.HQ.ID, "auditor")

		// The whole trail: auditors and administrators only.
		if _, err := o.Svc.AuditTrail(ctx, o.Rep1, service.AuditQuery{}); !crm.IsCode(err, crm.Forbidden) {
			t.Fatalf("a rep reads the trail: %v", err)
		}
		page, err := o.Svc.AuditTrail(ctx, auditor, service.AuditQuery{Object: crm.ObjCustomer, RecordID: c.ID, Limit: 2})
		if err != nil || len(page.Items) != 2 || page.Next == 0 {
			t.Fatalf("first page: %v %+v", err, page)
		}
		rest, err := o.Svc.AuditTrail(ctx, auditor, service.AuditQuery{Object: crm.ObjCustomer, RecordID: c.ID, Before: page.Next})
		if err != nil || len(rest.Items) != 1 || rest.Items[0].Action != "customer.create" {
			t.Fatalf("next page: %v %+v", err, rest)
		}
		views, _ := o.Svc.AuditTrail(ctx, auditor, service.AuditQuery{ActorID: o.MgrEast.UserID, Action: "customer.view"})
		if len(views.Items) != 1 || views.Items[0].RecordID != c.ID {
			t.Fatalf("views by mgr.east: %+v", views.Items)
		}
		if _, err := o.Svc.AuditTrail(ctx, auditor, service.AuditQuery{Outcome: "maybe"}); !crm.IsCode(err, crm.Invalid) {
			t.Fatalf("bad outcome: %v", err)
		}
		if ev, _ := listEvents(db, "audit.view"); len(ev) < 3 {
			t.Fatalf("reading the trail is not audited: %d", len(ev))
		}

		// A record's history: to those who may see it, hidden fields withheld.
		setFieldRules(t, o, "manager", crm.ObjCustomer, false, map[string]crm.FieldAccess{"level": crm.FieldHidden})
		mgr := testorg.Actor(t, o.Svc, o.MgrEast.UserID)
		hist, err := o.Svc.RecordHistory(ctx, mgr, crm.ObjCustomer, c.ID, 0)
		if err != nil || len(hist.Items) != 3 {
			t.Fatalf("history: %v %+v", err, hist)
		}
		for _, e := range hist.Items {
			if e.Action == "customer.update" && (!strings.Contains(string(e.Fields), `"level":{"changed":true}`) || !strings.Contains(string(e.Fields), "模具")) {
				t.Fatalf("update as the manager sees it: %s", e.Fields)
			}
		}
		if _, err := o.Svc.RecordHistory(ctx, o.Rep3, crm.ObjCustomer, c.ID, 0); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("history of someone else's customer: %v", err)
		}
		hist, err = o.Svc.RecordHistory(ctx, auditor, crm.ObjCustomer, c.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range hist.Items {
			if e.Action == "customer.update" && !strings.Contains(string(e.Fields), `"to":"A"`) {
				t.Fatalf("the auditor's history withholds: %s", e.Fields)
			}
		}
	})
}
