package service_test

import (
	"context"
	"encoding/json"
	"testing"

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
