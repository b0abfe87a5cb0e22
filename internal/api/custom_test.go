package api_test

import (
	"context"
	"net/url"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestCustomFilterAPI filters every list that has custom fields with
// custom.<key>=value: under the token's scope, values read like the field's
// own, bad keys and values refused by field.
func TestCustomFilterAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		srv := newServer(t, o)
		rep1, rep2, mgr := token(t, o, o.Rep1), token(t, o, o.Rep2), token(t, o, o.MgrEast)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, obj := range crm.CustomObjects {
			_, err := o.Svc.SaveCustomField(ctx, o.Admin, crm.CustomField{Object: obj, Key: "channel", Label: "渠道", Type: "single", Options: []string{"线上", "线下"}})
			must(err)
			_, err = o.Svc.SaveCustomField(ctx, o.Admin, crm.CustomField{Object: obj, Key: "tags2", Label: "标签", Type: "multi", Options: []string{"重点", "观望"}})
			must(err)
			_, err = o.Svc.SaveCustomField(ctx, o.Admin, crm.CustomField{Object: obj, Key: "fax", Label: "传真", Type: "phone"})
			must(err)
		}
		online := map[string]any{"channel": "线上", "tags2": []any{"重点", "观望"}, "fax": "021-68888888"}
		offline := map[string]any{"channel": "线下", "tags2": []any{"观望"}}
		for _, r := range []struct {
			name   string
			custom map[string]any
			rep2   bool
		}{{"Online1", online, false}, {"Offline1", offline, false}, {"Online2", online, true}} {
			a := o.Rep1
			if r.rep2 {
				a = o.Rep2
			}
			c := o.Customer(t, a, crm.CustomerFields{Name: "Customer" + r.name, Custom: r.custom})
			_, err := o.Svc.CreateContact(ctx, a, crm.ContactFields{CustomerID: c.ID, Name: "Contact" + r.name, Custom: r.custom})
			must(err)
			_, err = o.Svc.CreateLead(ctx, a, crm.LeadFields{Name: "Lead" + r.name, Company: "Company" + r.name, Custom: r.custom})
			must(err)
			_, err = o.Svc.CreateOpportunity(ctx, a, crm.OpportunityFields{CustomerID: c.ID, Name: "Deal" + r.name, Amount: 1, Currency: "CNY", Custom: r.custom})
			must(err)
		}
		q := func(k, v string) string { return "custom." + k + "=" + url.QueryEscape(v) }
		en := map[string]string{"Accept-Language": "en"}
		var scenarios []scenario
		for _, l := range []struct{ path, prefix string }{
			{"/api/v1/customers", "Customer"}, {"/api/v1/contacts", "Contact"}, {"/api/v1/leads", "Lead"}, {"/api/v1/opportunities", "Deal"},
		} {
			scenarios = append(scenarios,
				scenario{name: l.path + " single choice", token: rep1, method: "GET", path: l.path + "?" + q("channel", "线上"), wantStatus: 200,
					wantContains: []string{l.prefix + "Online1", `"total":1`}, wantNotContains: []string{l.prefix + "Offline1", l.prefix + "Online2"}},
				scenario{name: l.path + " multiple choice contains", token: rep1, method: "GET", path: l.path + "?" + q("tags2", "观望"), wantStatus: 200,
					wantContains: []string{l.prefix + "Online1", l.prefix + "Offline1", `"total":2`}},
				scenario{name: l.path + " two filters", token: rep1, method: "GET", path: l.path + "?" + q("tags2", "观望") + "&" + q("channel", "线下"), wantStatus: 200,
					wantContains: []string{l.prefix + "Offline1", `"total":1`}, wantNotContains: []string{l.prefix + "Online1"}},
				scenario{name: l.path + " phone as typed otherwise", token: rep1, method: "GET", path: l.path + "?" + q("fax", "+86 21 6888 8888"), wantStatus: 200,
					wantContains: []string{l.prefix + "Online1", `"total":1`}},
				scenario{name: l.path + " under scope", token: rep2, method: "GET", path: l.path + "?" + q("channel", "线上"), wantStatus: 200,
					wantContains: []string{l.prefix + "Online2", `"total":1`}, wantNotContains: []string{l.prefix + "Online1"}},
				scenario{name: l.path + " manager's subtree", token: mgr, method: "GET", path: l.path + "?" + q("channel", "线上"), wantStatus: 200,
					wantContains: []string{l.prefix + "Online1", l.prefix + "Online2", `"total":2`}},
				scenario{name: l.path + " unknown field", token: rep1, method: "GET", path: l.path + "?" + q("nope", "x"), header: en, wantStatus: 422,
					wantContains: []string{`"field":"custom.nope"`, `"rule":"unknown"`}},
				scenario{name: l.path + " not an option", token: rep1, method: "GET", path: l.path + "?" + q("channel", "电话"), wantStatus: 422,
					wantContains: []string{`"field":"custom.channel"`, `"rule":"enum"`}},
				scenario{name: l.path + " not a phone", token: rep1, method: "GET", path: l.path + "?" + q("fax", "abc"), wantStatus: 422,
					wantContains: []string{`"field":"custom.fax"`, `"rule":"phone"`}},
			)
		}
		scenarios = append(scenarios, scenario{name: "tasks have no custom fields", token: rep1, method: "GET", path: "/api/v1/tasks?" + q("channel", "线上"),
			wantStatus: 422, wantContains: []string{`"field":"custom.channel"`, `"rule":"unknown"`}})
		for _, sc := range scenarios {
			sc.run(t, srv)
		}
	})
}
