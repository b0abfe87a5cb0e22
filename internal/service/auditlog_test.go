package service_test

import (
	"context"
	"encoding/json"
	"slices"
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

// TestAuditKeepsSensitiveByReference: the trail records that a customer's
// phone, e-mail, address or credit code, a contact's or lead's personal
// fields, or any custom value changed, never the values — auditors read the
// trail and may see no record. Other fields keep before and after, and a
// key-field policy on a custom field still notices its change.
func TestAuditKeepsSensitiveByReference(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		for _, obj := range []crm.Object{crm.ObjCustomer, crm.ObjContact} {
			if _, err := o.Svc.SaveCustomField(ctx, o.Admin, crm.CustomField{Object: obj, Key: "idcard", Label: "证件", Type: "text"}); err != nil {
				t.Fatal(err)
			}
		}
		c, err := o.Svc.CreateCustomer(ctx, o.Rep1, service.CustomerInput{CustomerFields: crm.CustomerFields{Name: "湖州竹业",
			Phone: "13811112222", Email: "boss@zhuye.example", Address: "湖州市竹林路8号", CreditCode: "91350100M000100Y43",
			Custom: map[string]any{"idcard": "330501199001011234"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: c.ID, Name: "竹青",
			Custom: map[string]any{"idcard": "330501199202025678"}}); err != nil {
			t.Fatal(err)
		}
		phone, industry := "13833334444", "竹制品"
		if _, err := o.Svc.UpdateCustomer(ctx, o.Rep1, c.ID, crm.CustomerUpdate{Version: c.Version, Phone: &phone, Industry: &industry,
			Custom: map[string]any{"idcard": "330501198803035555"}}); err != nil {
			t.Fatal(err)
		}
		auditor := o.User(t, "auditor1", o.HQ.ID, "auditor")
		page, err := o.Svc.AuditTrail(ctx, auditor, service.AuditQuery{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		var trail strings.Builder
		for _, e := range page.Items {
			trail.WriteString(e.Action + " " + string(e.Fields) + "\n")
		}
		for _, secret := range []string{"1111", "3333", "boss@", "竹林路", "M000100", "199001", "199202", "198803", "竹青"} {
			if strings.Contains(trail.String(), secret) {
				t.Errorf("the trail holds %q:\n%s", secret, trail.String())
			}
		}
		if !strings.Contains(trail.String(), `"phone":{"changed":true}`) || !strings.Contains(trail.String(), `"to":"竹制品"`) {
			t.Errorf("the trail does not say what changed:\n%s", trail.String())
		}
		// A key-field policy on the custom field still holds its change.
		o.StepUp(t, o.Admin)
		if _, err := o.Svc.SaveApprovalPolicy(ctx, o.Admin, crm.ApprovalPolicy{Kind: crm.ApproveKeyField, Enabled: true,
			Fields: map[crm.Object][]string{crm.ObjCustomer: {"custom.idcard"}}, Steps: []crm.ApprovalStep{{Type: "manager"}}}); err != nil {
			t.Fatal(err)
		}
		_, err = o.Svc.UpdateCustomer(ctx, o.Rep1, c.ID, crm.CustomerUpdate{Version: c.Version + 1, Custom: map[string]any{"idcard": "330501197704046666"}})
		wantCode(t, err, crm.Pending)
	})
}

// TestReadEventsNameFieldsAndToken: reads record which fields they showed
// (in clear and masked), the token that read, the objects a global search
// showed, and follow-up timelines as follow-ups — what exposure reports
// are made of.
func TestReadEventsNameFieldsAndToken(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		cust := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "嘉兴丝绸"})
		ct, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: cust.ID, Name: "沈丝", Mobile: "13812345678", Email: "shen@silk.cn"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "call", Content: "回访", CustomerID: cust.ID}); err != nil {
			t.Fatal(err)
		}
		mgr := setFieldRules(t, o, "manager", crm.ObjContact, false, map[string]crm.FieldAccess{
			"mobile": crm.FieldMasked, "email": crm.FieldHidden}, o.MgrEast)[0]
		if _, err := o.Svc.GetContact(ctx, mgr, ct.ID); err != nil {
			t.Fatal(err)
		}
		views, _ := listEvents(db, "contact.view")
		var shown struct{ Seen, Masked []string }
		if len(views) != 1 || json.Unmarshal(views[0].Fields, &shown) != nil {
			t.Fatalf("view events: %+v", views)
		}
		if !slices.Contains(shown.Seen, "name") || slices.Contains(shown.Seen, "mobile") || slices.Contains(shown.Seen, "email") ||
			!slices.Equal(shown.Masked, []string{"mobile"}) {
			t.Fatalf("the manager's view recorded %+v", shown)
		}

		tok, err := o.Svc.AuthenticateToken(ctx, o.Token(t, o.Rep1), testorg.ClientForTest())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.ListContacts(ctx, tok, crm.ListFilter{}); err != nil {
			t.Fatal(err)
		}
		lists, _ := listEvents(db, "contact.list")
		if len(lists) != 1 || lists[0].TokenID != tok.TokenID || tok.TokenID == 0 || !slices.Equal(lists[0].RecordIDs, []int64{ct.ID}) ||
			!strings.Contains(string(lists[0].Fields), `"mobile"`) {
			t.Fatalf("the token's list: %+v", lists)
		}

		if _, err := o.Svc.Search(ctx, o.Rep1, "嘉兴丝绸", 10); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.Search(ctx, o.Rep1, "沈丝", 10); err != nil {
			t.Fatal(err)
		}
		searches, _ := listEvents(db, "search.name")
		var split map[string]struct{ IDs []int64 }
		if len(searches) != 2 || json.Unmarshal(searches[0].Fields, &split) != nil {
			t.Fatalf("searches: %+v", searches)
		}
		if len(split) != 1 || !slices.Equal(split["contact"].IDs, []int64{ct.ID}) {
			t.Fatalf("the contact search recorded %s", searches[0].Fields)
		}

		page, err := o.Svc.ListRecordFollowUps(ctx, o.Rep1, crm.ObjCustomer, cust.ID, "", 10)
		if err != nil || len(page.Items) != 1 {
			t.Fatal(err)
		}
		if ev, _ := listEvents(db, "followup.list"); len(ev) != 1 || ev[0].Object != "followup" || !slices.Equal(ev[0].RecordIDs, []int64{page.Items[0].ID}) {
			t.Fatalf("timeline event: %+v", ev)
		}
	})
}
