package web

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestCustomListColumnsAndFilters shows custom fields as list columns and
// filters on the contact, lead and opportunity lists, the way the customer
// list does: columns chosen by the administrator ("in list"), a select per
// choice field, the filter applied by the service under the user's scope
// and kept in the paging links.
func TestCustomListColumnsAndFilters(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		for _, obj := range []crm.Object{crm.ObjContact, crm.ObjLead, crm.ObjOpportunity} {
			_, err := o.svc.SaveCustomField(ctx, o.admin, crm.CustomField{Object: obj, Key: "tier", Label: "客户级别", LabelEn: "Tier",
				Type: "single", Options: []string{"金牌", "银牌"}, InList: true})
			noErr(t, err)
			_, err = o.svc.SaveCustomField(ctx, o.admin, crm.CustomField{Object: obj, Key: "memo", Label: "内部备忘", Type: "text"})
			noErr(t, err)
		}
		c1 := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "一号客户"})
		c2 := mustCreateCustomer(t, o.svc, o.rep2, crm.CustomerFields{Name: "二号客户"})
		for _, r := range []struct {
			name     string
			tier     string
			customer crm.Customer
		}{{"金甲", "金牌", c1}, {"银甲", "银牌", c1}, {"金乙", "金牌", c2}} {
			a := o.rep1
			if r.customer.ID == c2.ID {
				a = o.rep2
			}
			custom := map[string]any{"tier": r.tier, "memo": "备忘" + r.name}
			_, err := o.svc.CreateContact(ctx, a, crm.ContactFields{CustomerID: r.customer.ID, Name: "联系人" + r.name, Custom: custom})
			noErr(t, err)
			_, err = o.svc.CreateLead(ctx, a, crm.LeadFields{Name: "线索" + r.name, Company: "公司" + r.name, Custom: custom})
			noErr(t, err)
			_, err = o.svc.CreateOpportunity(ctx, a, crm.OpportunityFields{CustomerID: r.customer.ID, Name: "商机" + r.name,
				Amount: 100, Currency: "CNY", Custom: custom})
			noErr(t, err)
		}
		browsers := map[string]*browser{"rep1": s.signIn("rep1", testPassword), "rep2": s.signIn("rep2", testPassword),
			"mgr": s.signIn("mgr.east", testPassword)}
		gold := "custom.tier=" + url.QueryEscape("金牌")
		var cases []scenario
		for _, l := range []struct{ path, prefix string }{{"/contacts", "联系人"}, {"/leads", "线索"}, {"/opportunities", "商机"}} {
			cases = append(cases,
				scenario{name: l.path + " shows the custom column and filter", actor: "rep1", method: "GET", path: l.path, wantStatus: 200,
					wantContains: []string{`<th class="opt">客户级别</th>`, `<td class="opt">金牌</td>`, `<td class="opt">银牌</td>`,
						`<select name="custom.tier" aria-label="客户级别">`, `<option value="" selected>客户级别：全部</option>`, l.prefix + "金甲", l.prefix + "银甲"},
					// Not "in list": no column, and not a choice: no filter.
					wantNotContains: []string{"内部备忘", "备忘" + "金甲", l.prefix + "金乙"}},
				scenario{name: l.path + " in English", actor: "rep1", method: "GET", path: l.path, header: map[string]string{"Accept-Language": "en"},
					wantStatus: 200, wantContains: []string{`<th class="opt">Tier</th>`, `<select name="custom.tier" aria-label="Tier">`}},
				scenario{name: l.path + " filtered by the custom field", actor: "rep1", method: "GET", path: l.path + "?" + gold, wantStatus: 200,
					wantContains:    []string{l.prefix + "金甲", `<option value="金牌" selected>金牌</option>`, "共 1 条"},
					wantNotContains: []string{l.prefix + "银甲", l.prefix + "金乙"}},
				scenario{name: l.path + " filter under a manager's scope", actor: "mgr", method: "GET", path: l.path + "?" + gold, wantStatus: 200,
					wantContains: []string{l.prefix + "金甲", l.prefix + "金乙", "共 2 条"}, wantNotContains: []string{l.prefix + "银甲"}},
				scenario{name: l.path + " filter keeps scope", actor: "rep2", method: "GET", path: l.path + "?custom.tier=" + url.QueryEscape("银牌"),
					wantStatus: 200, wantContains: []string{"共 0 条"}, wantNotContains: []string{l.prefix + "银甲"}},
				scenario{name: l.path + " htmx filter answers the results only", actor: "rep1", method: "GET", path: l.path + "?" + gold,
					header: map[string]string{"HX-Request": "true", "HX-Target": "results"}, wantStatus: 200,
					wantContains: []string{`<section id="results">`, l.prefix + "金甲"}, wantNotContains: []string{"<html", l.prefix + "银甲"}},
				scenario{name: l.path + " ignores a value that is not an option", actor: "rep1", method: "GET", path: l.path + "?custom.tier=" + url.QueryEscape("铜牌"),
					wantStatus: 200, wantContains: []string{l.prefix + "金甲", l.prefix + "银甲"}},
			)
		}
		runScenarios(t, s, browsers, cases)

		// A custom field hidden from a role is neither a column nor a filter
		// for it, and a filter on it typed by hand finds nothing.
		mgr := o.roles["manager"]
		g := mgr.Grants[crm.ObjContact]
		g.Fields = map[string]crm.FieldAccess{"custom.tier": crm.FieldHidden}
		mgr.Grants[crm.ObjContact] = g
		o.t.StepUp(t, o.admin) // changing a role needs a fresh second factor
		_, err := o.svc.SaveRole(ctx, o.admin, mgr)
		noErr(t, err)
		runScenarios(t, s, browsers, []scenario{
			{name: "a hidden field is no column and no filter", actor: "mgr", method: "GET", path: "/contacts", wantStatus: 200,
				wantContains: []string{"联系人金甲", "联系人金乙"}, wantNotContains: []string{"客户级别", `name="custom.tier"`, "金牌"}},
			{name: "other lists keep it", actor: "mgr", method: "GET", path: "/leads", wantStatus: 200, wantContains: []string{"客户级别"}},
			{name: "the other roles keep it", actor: "rep1", method: "GET", path: "/contacts", wantStatus: 200, wantContains: []string{"客户级别"}},
		})
		// The service refuses such a filter outright (checkListFields), and
		// the page does not pass one on.
		if _, err := o.svc.ListContacts(ctx, testorg.Actor(t, o.svc, o.mgrEast.UserID), crm.ListFilter{Custom: map[string]string{"tier": "金牌"}}); !crm.IsCode(err, crm.Invalid) {
			t.Errorf("a filter on a hidden field: %v, want refused", err)
		}
		runScenarios(t, s, browsers, []scenario{{name: "a hidden field's filter is not passed on", actor: "mgr", method: "GET",
			path: "/contacts?custom.tier=%E9%87%91%E7%89%8C", wantStatus: 200, wantContains: []string{"联系人金甲"}}})

		// The filter travels with the paging links: 21 more gold leads make
		// two pages of 22, and the second holds no silver lead.
		for i := range 21 {
			_, err := o.svc.CreateLead(ctx, o.rep1, crm.LeadFields{Name: fmt.Sprintf("批量线索%02d", i), Custom: map[string]any{"tier": "金牌"}})
			noErr(t, err)
		}
		b := browsers["rep1"]
		rec := s.do(b, "GET", "/leads?"+gold, nil, nil)
		body := rec.Body.String()
		if rec.Code != 200 || !strings.Contains(body, "共 22 条") {
			t.Fatalf("first page: %d\n%s", rec.Code, excerpt(body))
		}
		m := regexp.MustCompile(`href="(/leads\?[^"]*cursor=[^"]+)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no next-page link\n%s", excerpt(body))
		}
		link, _ := url.Parse(strings.ReplaceAll(m[1], "&amp;", "&"))
		if link.Query().Get("custom.tier") != "金牌" {
			t.Fatalf("next link %q loses the custom filter", m[1])
		}
		rec = s.do(b, "GET", link.String(), nil, nil)
		body = rec.Body.String()
		if rec.Code != 200 || !strings.Contains(body, "共 22 条") || strings.Contains(body, "线索银甲") || strings.Count(body, `<tr data-href="/leads/`) != 2 {
			t.Fatalf("second page: %d\n%s", rec.Code, excerpt(body))
		}
	})
}
