package service_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// setFieldRules gives a role field rules on one object and returns the
// reloaded actors of the given users (an actor carries its role).
func setFieldRules(t *testing.T, o *testorg.Org, role string, obj crm.Object, reveal bool, rules map[string]crm.FieldAccess, users ...*access.Actor) []*access.Actor {
	t.Helper()
	r := o.Roles[role]
	g := r.Grants[obj]
	g.Fields, g.Reveal = rules, reveal
	r.Grants[obj] = g
	o.StepUp(t, o.Admin) // changing a role needs a fresh second factor
	saved, err := o.Svc.SaveRole(context.Background(), o.Admin, r)
	if err != nil {
		t.Fatalf("save role %s: %v", role, err)
	}
	o.Roles[role] = saved
	out := make([]*access.Actor, len(users))
	for i, u := range users {
		out[i] = testorg.Actor(t, o.Svc, u.UserID)
	}
	return out
}

func wantField(t *testing.T, err error, field, rule string) {
	t.Helper()
	var ce *crm.Error
	if !errorsAs(err, &ce) || ce.Code != crm.Invalid || len(ce.Fields) != 1 || ce.Fields[0].Field != field || ce.Fields[0].Rule != rule {
		t.Fatalf("error = %v, want %s on %s", err, rule, field)
	}
}

func TestFieldRulesMaskHideAndGuard(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		cust := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "杭州云栖科技", Phone: "0571-8888 1234"})
		ct, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: cust.ID, Name: "张伟",
			Mobile: "138 1234 5678", Email: "zhang.wei@yunqi.cn", WeChat: "zw_yunqi"})
		if err != nil {
			t.Fatal(err)
		}
		mgr := setFieldRules(t, o, "manager", crm.ObjContact, true, map[string]crm.FieldAccess{
			"mobile": crm.FieldMasked, "email": crm.FieldHidden, "wechat": crm.FieldReadOnly}, o.MgrEast)[0]

		// Every read path shows the same shape.
		got, err := o.Svc.GetContact(ctx, mgr, ct.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantShape := func(where string, c crm.Contact) {
			t.Helper()
			if c.Mobile != "138****5678" || c.Email != "" || c.WeChat != "zw_yunqi" || c.Name != "张伟" {
				t.Fatalf("%s: %+v", where, c.ContactFields)
			}
			if !slices.Equal(c.Masked, []string{"mobile"}) || !slices.Equal(c.Hidden, []string{"email"}) {
				t.Fatalf("%s: masked %v hidden %v", where, c.Masked, c.Hidden)
			}
		}
		wantShape("view", got)
		page, err := o.Svc.ListContacts(ctx, mgr, crm.ListFilter{})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("list: %v %+v", err, page)
		}
		wantShape("list", page.Items[0])
		res, err := o.Svc.Search(ctx, mgr, "张伟", 10)
		if err != nil || len(res.Contacts) != 1 {
			t.Fatalf("search: %v %+v", err, res)
		}
		wantShape("search", res.Contacts[0])
		// The owner's role has no rules.
		if own, _ := o.Svc.GetContact(ctx, o.Rep1, ct.ID); own.Mobile != "+8613812345678" || own.Email != "zhang.wei@yunqi.cn" || own.Masked != nil {
			t.Fatalf("owner sees %+v", own)
		}

		// A hidden value cannot be confirmed by searching for it; a masked
		// one can be looked up by its full value.
		if res, _ := o.Svc.Search(ctx, mgr, "zhang.wei@yunqi.cn", 10); len(res.Contacts) != 0 {
			t.Fatalf("search by hidden e-mail found %+v", res.Contacts)
		}
		if page, _ := o.Svc.ListContacts(ctx, mgr, crm.ListFilter{Query: "zhang.wei@yunqi.cn"}); len(page.Items) != 0 {
			t.Fatalf("list search by hidden e-mail found %+v", page.Items)
		}
		if res, _ := o.Svc.Search(ctx, mgr, "13812345678", 10); len(res.Contacts) != 1 || res.Contacts[0].Mobile != "138****5678" {
			t.Fatalf("search by masked mobile: %+v", res.Contacts)
		}

		// Writing: echoing what was shown changes nothing; a new value of a
		// field the role may not edit is refused by name.
		echo := got.Mobile
		upd, err := o.Svc.UpdateContact(ctx, mgr, ct.ID, crm.ContactUpdate{Version: got.Version, Mobile: &echo,
			Email: new(""), WeChat: &got.WeChat, Title: new("CTO")})
		if err != nil {
			t.Fatalf("echo update: %v", err)
		}
		if upd.Title != "CTO" || upd.Mobile != "138****5678" {
			t.Fatalf("update result not shaped: %+v", upd.ContactFields)
		}
		if own, _ := o.Svc.GetContact(ctx, o.Rep1, ct.ID); own.Mobile != "+8613812345678" || own.Email != "zhang.wei@yunqi.cn" {
			t.Fatalf("echo overwrote stored values: %+v", own.ContactFields)
		}
		for field, up := range map[string]crm.ContactUpdate{
			"mobile": {Mobile: new("13900001111")},
			"email":  {Email: new("someone@else.cn")},
			"wechat": {WeChat: new("other")},
		} {
			up.Version = upd.Version
			_, err := o.Svc.UpdateContact(ctx, mgr, ct.ID, up)
			wantField(t, err, field, "read_only")
		}
		_, err = o.Svc.CreateContact(ctx, mgr, crm.ContactFields{CustomerID: cust.ID, Name: "李娜", Email: "li.na@yunqi.cn"})
		wantField(t, err, "email", "read_only")

		// Reveal: masked only, audited without the value.
		v, err := o.Svc.RevealField(ctx, mgr, crm.ObjContact, ct.ID, "mobile")
		if err != nil || v != "+8613812345678" {
			t.Fatalf("reveal = %q, %v", v, err)
		}
		_, err = o.Svc.RevealField(ctx, mgr, crm.ObjContact, ct.ID, "email")
		wantCode(t, err, crm.Forbidden)
		_, err = o.Svc.RevealField(ctx, mgr, crm.ObjContact, ct.ID, "owner_id")
		wantCode(t, err, crm.Invalid)
		_, err = o.Svc.RevealField(ctx, o.MgrWest, crm.ObjContact, ct.ID, "mobile")
		wantCode(t, err, crm.NotFound)
		events, err := listEvents(db, "contact.reveal")
		if err != nil || len(events) != 2 {
			t.Fatalf("reveal events: %v %d", err, len(events))
		}
		for _, e := range events {
			if strings.Contains(string(e.Fields), "5678") || e.RecordID != ct.ID {
				t.Fatalf("reveal event %+v", e)
			}
		}

		// Without the reveal grant a masked value stays masked.
		mgr = setFieldRules(t, o, "manager", crm.ObjContact, false, map[string]crm.FieldAccess{"mobile": crm.FieldMasked}, o.MgrEast)[0]
		_, err = o.Svc.RevealField(ctx, mgr, crm.ObjContact, ct.ID, "mobile")
		wantCode(t, err, crm.Forbidden)

		// Names in the recycle bin follow the name rule.
		mgr = setFieldRules(t, o, "manager", crm.ObjContact, false, map[string]crm.FieldAccess{"name": crm.FieldMasked}, o.MgrEast)[0]
		if err := o.Svc.DeleteContact(ctx, o.Rep1, ct.ID); err != nil {
			t.Fatal(err)
		}
		bin, err := o.Svc.RecycleBin(ctx, mgr, crm.ObjContact, 10)
		if err != nil || len(bin) != 1 || bin[0].Name != "张*" {
			t.Fatalf("recycle bin: %v %+v", err, bin)
		}
	})
}

func TestFieldRulesPoolAndCustom(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		if _, err := o.Svc.SaveCustomField(ctx, o.Admin, crm.CustomField{Object: crm.ObjCustomer, Key: "budget_note", Label: "预算备注", Type: "text"}); err != nil {
			t.Fatal(err)
		}
		cust := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "苏州金鸡湖物流", Phone: "13811112222", Email: "boss@jinji.cn",
			Custom: map[string]any{"budget_note": "年底预算五十万"}})
		reps := setFieldRules(t, o, "sales", crm.ObjCustomer, false, map[string]crm.FieldAccess{"custom.budget_note": crm.FieldHidden}, o.Rep1, o.Rep2)
		rep1, rep2 := reps[0], reps[1]
		c, err := o.Svc.GetCustomer(ctx, rep1, cust.ID)
		if err != nil || c.Custom["budget_note"] != nil || !slices.Equal(c.Hidden, []string{"custom.budget_note"}) || c.Phone != "+8613811112222" {
			t.Fatalf("custom hidden: %v %+v", err, c)
		}
		// Echoing the record without the hidden value keeps it.
		if _, err := o.Svc.UpdateCustomer(ctx, rep1, cust.ID, crm.CustomerUpdate{Version: c.Version, Level: new("A"), Custom: map[string]any{}}); err != nil {
			t.Fatal(err)
		}
		_, err = o.Svc.UpdateCustomer(ctx, rep1, cust.ID, crm.CustomerUpdate{Version: c.Version + 1, Custom: map[string]any{"budget_note": "改掉"}})
		wantField(t, err, "custom.budget_note", "read_only")
		if own, _ := o.Svc.GetCustomer(ctx, o.Admin, cust.ID); own.Custom["budget_note"] != "年底预算五十万" {
			t.Fatalf("hidden custom value lost: %+v", own.Custom)
		}

		// In the public pool the contact details are masked for everyone
		// until someone claims the customer.
		if err := o.Svc.ReleaseCustomer(ctx, rep1, cust.ID); err != nil {
			t.Fatal(err)
		}
		for _, a := range []*access.Actor{rep2, o.Admin} {
			c, err := o.Svc.GetCustomer(ctx, a, cust.ID)
			if err != nil || c.Phone != "138****2222" || c.Email != "b***@jinji.cn" || !slices.Contains(c.Masked, "phone") {
				t.Fatalf("pool customer for %s: %v %+v", a.Name, err, c)
			}
		}
		page, err := o.Svc.ListCustomers(ctx, rep2, crm.CustomerFilter{Pool: true})
		if err != nil || len(page.Items) != 1 || page.Items[0].Phone != "138****2222" {
			t.Fatalf("pool list: %v %+v", err, page.Items)
		}
		if err := o.Svc.ClaimCustomer(ctx, rep2, cust.ID); err != nil {
			t.Fatal(err)
		}
		if c, _ := o.Svc.GetCustomer(ctx, rep2, cust.ID); c.Phone != "+8613811112222" || c.Masked != nil {
			t.Fatalf("claimed customer: %+v", c)
		}
	})
}

func TestRoleFieldRulesValidated(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := testorg.New(t, db)
		r := o.Roles["sales"]
		g := r.Grants[crm.ObjContact]
		g.Fields = map[string]crm.FieldAccess{"owner_id": crm.FieldHidden, "mobile": "invisible"}
		r.Grants[crm.ObjContact] = g
		o.StepUp(t, o.Admin)
		_, err := o.Svc.SaveRole(context.Background(), o.Admin, r)
		var ce *crm.Error
		if !errorsAs(err, &ce) || len(ce.Fields) != 2 {
			t.Fatalf("bad rules accepted: %v", err)
		}
	})
}
