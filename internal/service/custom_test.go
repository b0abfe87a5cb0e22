package service_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

func TestCustomFields(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		defs := []crm.CustomField{
			{Object: crm.ObjCustomer, Key: "budget", Label: "预算", Type: "amount", Required: true},
			{Object: crm.ObjCustomer, Key: "region", Label: "大区", Type: "single", Options: []string{"华东", "华南"}},
			{Object: crm.ObjCustomer, Key: "products", Label: "意向产品", Type: "multi", Options: []string{"ERP", "CRM", "BI"}},
			{Object: crm.ObjCustomer, Key: "hotline", Label: "热线", Type: "phone", Unique: true},
			{Object: crm.ObjCustomer, Key: "founded", Label: "成立日期", Type: "date"},
		}
		for _, d := range defs {
			if _, err := o.Svc.SaveCustomField(ctx, o.Admin, d); err != nil {
				t.Fatalf("define %s: %v", d.Key, err)
			}
		}
		_, err := o.Svc.SaveCustomField(ctx, o.Rep1, crm.CustomField{Object: crm.ObjCustomer, Key: "x", Label: "x", Type: "text"})
		wantCode(t, err, crm.Forbidden)
		_, err = o.Svc.SaveCustomField(ctx, o.Admin, crm.CustomField{Object: crm.ObjCustomer, Key: "Bad Key", Label: "x", Type: "single"})
		var ce *crm.Error
		if !errorsAs(err, &ce) || len(ce.Fields) != 2 {
			t.Fatalf("bad definition: %v", err)
		}

		// Every problem at once, built-in and custom fields together.
		_, err = o.Svc.CreateCustomer(ctx, o.Rep1, service.CustomerInput{CustomerFields: crm.CustomerFields{Name: "",
			Custom: map[string]any{"region": "西北", "products": []any{"ERP", "HR"}, "founded": "2020-13-01", "nope": 1}}})
		if !errorsAs(err, &ce) {
			t.Fatalf("invalid custom: %v", err)
		}
		got := map[string]string{}
		for _, f := range ce.Fields {
			got[f.Field] = f.Rule
		}
		want := map[string]string{"name": "required", "custom.budget": "required", "custom.region": "enum",
			"custom.products": "enum", "custom.founded": "date", "custom.nope": "unknown"}
		for f, r := range want {
			if got[f] != r {
				t.Errorf("%s: %q, want %q (all %v)", f, got[f], r, got)
			}
		}

		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "南京紫金软件", Custom: map[string]any{
			"budget": "1500000", "region": "华东", "products": []any{"ERP", "BI", "ERP"}, "hotline": "400 810 8888"}})
		b, _ := json.Marshal(c.Custom)
		if string(b) != `{"budget":1500000,"hotline":"+864008108888","products":["ERP","BI"],"region":"华东"}` {
			t.Fatalf("normalised custom values: %s", b)
		}
		// Unique custom values take part in the duplicate check.
		_, err = o.Svc.CreateCustomer(ctx, o.Rep3, service.CustomerInput{CustomerFields: crm.CustomerFields{Name: "Other",
			Custom: map[string]any{"budget": 1, "hotline": "4008108888"}}})
		if !errorsAs(err, &ce) || ce.Code != crm.Duplicate || ce.Fields[0].Field != "custom.hotline" {
			t.Fatalf("unique custom: %v", err)
		}
		o.Customer(t, o.Rep1, crm.CustomerFields{Name: "广州珠江贸易", Custom: map[string]any{"budget": 100, "region": "华南", "products": []any{"CRM"}}})

		for _, tc := range []struct {
			filter map[string]string
			want   int
		}{
			{map[string]string{"region": "华东"}, 1}, {map[string]string{"products": "BI"}, 1}, {map[string]string{"products": "CRM"}, 1},
			{map[string]string{"products": "ERP", "region": "华南"}, 0}, {map[string]string{"budget": "100"}, 1},
		} {
			page, err := o.Svc.ListCustomers(ctx, o.Rep1, crm.CustomerFilter{Custom: tc.filter})
			if err != nil || page.Total != tc.want {
				t.Errorf("filter %v: total %d, want %d (%v)", tc.filter, page.Total, tc.want, err)
			}
		}
		_, err = o.Svc.ListCustomers(ctx, o.Rep1, crm.CustomerFilter{Custom: map[string]string{"nope": "x"}})
		wantCode(t, err, crm.Invalid)

		// A partial update merges custom values; null removes one.
		up, err := o.Svc.UpdateCustomer(ctx, o.Rep1, c.ID, crm.CustomerUpdate{Version: c.Version, Custom: map[string]any{"region": nil, "founded": "2001-05-20"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := up.Custom["region"]; ok || up.Custom["founded"] != "2001-05-20" || up.Custom["budget"] == nil {
			t.Fatalf("merged custom: %v", up.Custom)
		}
	})
}

// TestCustomFilterEveryObject filters contacts, leads and opportunities by
// their custom fields, inside SQL and under scope: a filter narrows what the
// actor may see and never reaches beyond it.
func TestCustomFilterEveryObject(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, obj := range []crm.Object{crm.ObjContact, crm.ObjLead, crm.ObjOpportunity} {
			for _, d := range []crm.CustomField{
				{Object: obj, Key: "tier", Label: "级别", Type: "single", Options: []string{"金", "银"}},
				{Object: obj, Key: "topics", Label: "关注", Type: "multi", Options: []string{"价格", "交付", "服务"}},
				{Object: obj, Key: "hotline", Label: "热线", Type: "phone"},
				{Object: obj, Key: "score", Label: "评分", Type: "number"},
			} {
				_, err := o.Svc.SaveCustomField(ctx, o.Admin, d)
				must(err)
			}
		}
		gold := map[string]any{"tier": "金", "topics": []any{"价格", "交付"}, "hotline": "021 6888 8888", "score": "4.50"}
		silver := map[string]any{"tier": "银", "topics": []any{"服务"}, "score": 3}
		c1 := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "上海一号"})
		c2 := o.Customer(t, o.Rep2, crm.CustomerFields{Name: "上海二号"})
		// rep1 and rep2 each hold a gold and a silver record of every kind.
		for _, own := range []struct {
			a        *access.Actor
			customer int64
			tag      string
		}{{o.Rep1, c1.ID, "甲"}, {o.Rep2, c2.ID, "乙"}} {
			for i, custom := range []map[string]any{gold, silver} {
				name := own.tag + string(rune('A'+i))
				_, err := o.Svc.CreateContact(ctx, own.a, crm.ContactFields{CustomerID: own.customer, Name: name, Custom: custom})
				must(err)
				_, err = o.Svc.CreateLead(ctx, own.a, crm.LeadFields{Name: name, Company: name + "公司", Custom: custom})
				must(err)
				_, err = o.Svc.CreateOpportunity(ctx, own.a, crm.OpportunityFields{CustomerID: own.customer, Name: name, Amount: 100, Currency: "CNY", Custom: custom})
				must(err)
			}
		}
		lists := map[crm.Object]func(a *access.Actor, f crm.ListFilter) ([]string, error){
			crm.ObjContact: func(a *access.Actor, f crm.ListFilter) ([]string, error) {
				p, err := o.Svc.ListContacts(ctx, a, f)
				return names(p.Items, func(x crm.Contact) string { return x.Name }), err
			},
			crm.ObjLead: func(a *access.Actor, f crm.ListFilter) ([]string, error) {
				p, err := o.Svc.ListLeads(ctx, a, f)
				return names(p.Items, func(x crm.Lead) string { return x.Name }), err
			},
			crm.ObjOpportunity: func(a *access.Actor, f crm.ListFilter) ([]string, error) {
				p, err := o.Svc.ListOpportunities(ctx, a, f)
				return names(p.Items, func(x crm.Opportunity) string { return x.Name }), err
			},
		}
		for obj, list := range lists {
			for _, tc := range []struct {
				actor  *access.Actor
				filter map[string]string
				want   string
			}{
				{o.Rep1, map[string]string{"tier": "金"}, "甲A"},
				{o.Rep1, map[string]string{"topics": "服务"}, "甲B"},
				{o.Rep1, map[string]string{"topics": "交付", "tier": "金"}, "甲A"},
				{o.Rep1, map[string]string{"topics": "交付", "tier": "银"}, ""},
				// Values are read like the field's own: a phone as typed
				// differently, a number written another way.
				{o.Rep1, map[string]string{"hotline": "+86 21 6888 8888"}, "甲A"},
				{o.Rep1, map[string]string{"score": "4.5"}, "甲A"},
				{o.Rep1, map[string]string{"score": "3.0"}, "甲B"},
				{o.Rep1, map[string]string{"tier": ""}, "甲A 甲B"},
				{o.Rep2, map[string]string{"tier": "金"}, "乙A"},
				{o.MgrEast, map[string]string{"tier": "金"}, "乙A 甲A"},
				{o.Rep3, map[string]string{"tier": "金"}, ""},
			} {
				got, err := list(tc.actor, crm.ListFilter{Custom: tc.filter, Sort: "created"})
				slices.Sort(got)
				if err != nil || strings.Join(got, " ") != tc.want {
					t.Errorf("%s %s filter %v: %v (%v), want %q", obj, tc.actor.Name, tc.filter, got, err, tc.want)
				}
			}
			for filter, rule := range map[string]string{"nope": "unknown", "tier": "enum", "topics": "enum", "hotline": "phone", "score": "number"} {
				_, err := list(o.Rep1, crm.ListFilter{Custom: map[string]string{filter: "铜"}})
				var ce *crm.Error
				if !errorsAs(err, &ce) || len(ce.Fields) != 1 || ce.Fields[0].Field != "custom."+filter || ce.Fields[0].Rule != rule {
					t.Errorf("%s filter %s=铜: %v, want custom.%s %s", obj, filter, err, filter, rule)
				}
			}
		}
		// A field hidden from a role, or masked, cannot be filtered on: the
		// filter is refused, naming the field, rather than confirm (or, by
		// an empty page, deny) a value the role may not see.
		var mgr *access.Actor
		for obj := range lists {
			mgr = setFieldRules(t, o, "manager", obj, false, map[string]crm.FieldAccess{"custom.tier": crm.FieldHidden,
				"custom.hotline": crm.FieldMasked}, o.MgrEast)[0]
		}
		for obj, list := range lists {
			for _, key := range []string{"tier", "hotline"} {
				got, err := list(mgr, crm.ListFilter{Custom: map[string]string{key: "金"}})
				var ce *crm.Error
				if !errorsAs(err, &ce) || len(ce.Fields) != 1 || ce.Fields[0].Field != "custom."+key || ce.Fields[0].Rule != "not_visible" {
					t.Errorf("%s: filter on a field the role may not see (%s): %v (%v)", obj, key, got, err)
				}
			}
			if got, err := list(mgr, crm.ListFilter{Custom: map[string]string{"topics": "交付"}}); err != nil || len(got) != 2 {
				t.Errorf("%s: filter on a visible field found %v (%v)", obj, got, err)
			}
		}
	})
}

func names[T any](items []T, name func(T) string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, name(it))
	}
	return out
}
