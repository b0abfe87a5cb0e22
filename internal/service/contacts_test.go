package service_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

func TestContacts(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c1 := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "深圳蓝海电子"})
		ct, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: c1.ID, Name: "张伟", Mobile: "139 0000 1111", Phone: "0755-8888 6666", Email: "Zhang.Wei@LanHai.cn"})
		if err != nil {
			t.Fatal(err)
		}
		if ct.Mobile != "+8613900001111" || ct.Email != "zhang.wei@lanhai.cn" {
			t.Fatalf("normalised: %+v", ct.ContactFields)
		}
		// A colleague sharing the switchboard is fine; the same mobile is not.
		if _, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: c1.ID, Name: "李娜", Phone: "0755 8888 6666"}); err != nil {
			t.Fatalf("shared landline refused: %v", err)
		}
		_, err = o.Svc.CreateContact(ctx, o.Rep3, crm.ContactFields{Name: "王芳", Mobile: "+86 139-0000-1111"})
		var ce *crm.Error
		if !errorsAs(err, &ce) || ce.Code != crm.Duplicate || ce.Fields[0].Field != "mobile" || ce.Fields[0].Param != "User rep1" {
			t.Fatalf("duplicate mobile: %v", err)
		}
		// rep3 cannot attach a contact to rep1's customer.
		_, err = o.Svc.CreateContact(ctx, o.Rep3, crm.ContactFields{CustomerID: c1.ID, Name: "赵磊"})
		if !errorsAs(err, &ce) || ce.Fields[0].Field != "customer_id" {
			t.Fatalf("attach to foreign customer: %v", err)
		}

		// The owner and the manager see both contacts; another rep none.
		for _, tc := range []struct {
			name  string
			q     string
			actor int
			want  int
		}{
			{"owner lists", "", 1, 2}, {"owner finds name bigram", "张伟", 1, 1}, {"owner finds mobile", "13900001111", 1, 1},
			{"owner finds landline", "0755-88886666", 1, 2}, {"owner finds email", "ZHANG.WEI@lanhai.cn", 1, 1},
			{"other rep", "", 3, 0}, {"other rep search", "张伟", 3, 0}, {"manager", "", 0, 2},
		} {
			actor := map[int]*access.Actor{1: o.Rep1, 3: o.Rep3, 0: o.MgrEast}[tc.actor]
			page, err := o.Svc.ListContacts(ctx, actor, crm.ListFilter{Query: tc.q})
			if err != nil || page.Total != tc.want || len(page.Items) != tc.want {
				t.Errorf("%s: total %d items %d, want %d (%v)", tc.name, page.Total, len(page.Items), tc.want, err)
			}
		}
		// A new owner of the customer sees its contacts, owned by rep1 or not.
		if err := o.Svc.ReleaseCustomer(ctx, o.Rep1, c1.ID); err != nil {
			t.Fatal(err)
		}
		if err := o.Svc.ClaimCustomer(ctx, o.Rep3, c1.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := o.Svc.GetContact(ctx, o.Rep3, ct.ID); err != nil || got.Name != "张伟" {
			t.Fatalf("new customer owner reads contact: %v", err)
		}
		// Updates audit sensitive fields by reference only.
		up, err := o.Svc.UpdateContact(ctx, o.Rep1, ct.ID, crm.ContactUpdate{Version: 1, Mobile: ptr("13700002222"), Title: ptr("采购经理")})
		if err != nil || up.Version != 2 {
			t.Fatalf("update: %v", err)
		}
		for _, e := range auditEvents(t, db, ct.ID) {
			if e.Object == "contact" && (strings.Contains(string(e.Fields), "1370000") || strings.Contains(string(e.Fields), "张伟")) {
				t.Errorf("sensitive value in audit %s: %s", e.Action, e.Fields)
			}
			if e.Action == "contact.update" {
				var f map[string]map[string]any
				json.Unmarshal(e.Fields, &f)
				if f["mobile"]["changed"] != true || f["title"]["to"] != "采购经理" {
					t.Errorf("update event: %s", e.Fields)
				}
			}
		}
		if err := o.Svc.DeleteContact(ctx, o.Rep1, ct.ID); err != nil {
			t.Fatal(err)
		}
		_, err = o.Svc.GetContact(ctx, o.Rep1, ct.ID)
		wantCode(t, err, crm.NotFound)
	})
}

// TestAttachNeedsCustomerEdit: attaching a contact, an opportunity, a
// follow-up or a task to a customer needs the permission to edit that
// customer. A token that may read customers but write only contacts sees
// the customer and changes its own contacts, but attaches nothing to it:
// the customer is named as if it did not exist.
func TestAttachNeedsCustomerEdit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "宁波甬江机械"})
		tok, err := o.Svc.CreateAPIToken(ctx, o.MgrEast, service.TokenInput{Name: "contacts", Scopes: []string{"customer:read", "contact:write"}})
		if err != nil {
			t.Fatal(err)
		}
		a, err := o.Svc.AuthenticateToken(ctx, tok.Secret, testorg.ClientForTest())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.GetCustomer(ctx, a, c.ID); err != nil {
			t.Fatalf("the token reads the customer: %v", err)
		}
		_, err = o.Svc.CreateContact(ctx, a, crm.ContactFields{CustomerID: c.ID, Name: "陈静"})
		wantField(t, err, "customer_id", "not_found")
		if _, err := o.Svc.CreateContact(ctx, a, crm.ContactFields{Name: "陈静"}); err != nil {
			t.Fatalf("a contact without a customer: %v", err)
		}
		// The manager's own session attaches as before.
		if _, err := o.Svc.CreateContact(ctx, o.MgrEast, crm.ContactFields{CustomerID: c.ID, Name: "陈静"}); err != nil {
			t.Fatalf("manager attaches: %v", err)
		}
		// A role that reads customers and writes everything else attaches
		// neither opportunities, follow-ups nor tasks.
		role := o.Roles["sales"]
		g := role.Grants[crm.ObjCustomer]
		g.Edit = false
		role.Grants[crm.ObjCustomer] = g
		o.StepUp(t, o.Admin)
		if _, err := o.Svc.SaveRole(ctx, o.Admin, role); err != nil {
			t.Fatal(err)
		}
		rep1 := testorg.Actor(t, o.Svc, o.Rep1.UserID)
		_, err = o.Svc.CreateOpportunity(ctx, rep1, crm.OpportunityFields{CustomerID: c.ID, Name: "数控机床"})
		wantField(t, err, "customer_id", "not_found")
		_, err = o.Svc.CreateFollowUp(ctx, rep1, crm.FollowUpInput{CustomerID: c.ID, Kind: "call", Content: "电话"})
		wantField(t, err, "customer_id", "not_found")
		_, err = o.Svc.CreateTask(ctx, rep1, crm.TaskFields{CustomerID: c.ID, Title: "回访"})
		wantField(t, err, "customer_id", "not_found")
	})
}
