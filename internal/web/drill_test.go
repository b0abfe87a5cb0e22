package web

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestListsTakeDrillDownFilters: a report's drill-down links to the web
// list at the API list's path without /api/v1, with the API list's query;
// each web list (customers, leads, opportunities, the pool) reads the same
// parameters as the API list, the API's owner_id, department_id and
// stage_id included, and refuses a malformed or foreign one with a field
// error in the reader's language.
func TestListsTakeDrillDownFilters(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testorg.NewClock()
		to := testorg.NewWithClock(t, db, clock)
		base := time.Date(2026, 3, 20, 4, 0, 0, 0, time.UTC)
		clock.Set(base.AddDate(0, 0, -10))
		to.Customer(t, to.Rep1, crm.CustomerFields{Name: "甲旧客户", Level: "A", Source: "referral"})
		clock.Set(base.AddDate(0, 0, -2))
		newA := to.Customer(t, to.Rep1, crm.CustomerFields{Name: "甲新客户A", Level: "A", Source: "website", Industry: "制造业"})
		newB := to.Customer(t, to.Rep1, crm.CustomerFields{Name: "甲新客户B", Level: "B", Source: "website"})
		to.Customer(t, to.Rep2, crm.CustomerFields{Name: "乙新客户", Level: "A", Source: "website"})
		won := to.Opportunity(t, to.Rep1, crm.OpportunityFields{CustomerID: newA.ID, Name: "甲美元赢单", Amount: 100, Currency: "USD"})
		to.Move(t, to.Rep1, won, "赢单", "")
		open := to.Opportunity(t, to.Rep1, crm.OpportunityFields{CustomerID: newA.ID, Name: "甲人民币商机", Amount: 100, Currency: "CNY"})
		for name, source := range map[string]string{"线索甲": "website", "线索乙": "referral"} {
			_, err := to.Svc.CreateLead(ctx, to.Rep1, crm.LeadFields{Name: name, Company: name + "公司", Source: source})
			noErr(t, err)
		}
		for _, c := range []crm.Customer{newA, newB} {
			_, err := to.Svc.CreateFollowUp(ctx, to.Rep1, crm.FollowUpInput{Kind: "visit", Content: "拜访" + c.Name, CustomerID: c.ID})
			noErr(t, err)
		}
		noErr(t, to.Svc.ReleaseCustomer(ctx, to.Rep1, newB.ID))
		clock.Set(base)

		s := newSite(t, to.Svc)
		browsers := map[string]*browser{"rep1": s.signIn("rep1", testPassword), "mgr": s.signIn("mgr.east", testPassword)}
		at := func(days int) string { return url.QueryEscape(base.AddDate(0, 0, days).Format(time.RFC3339)) }
		period := "created_from=" + at(-3) + "&created_to=" + at(-1)
		rep1 := fmt.Sprint(to.Rep1.UserID)
		cases := []scenario{
			{name: "customers: period, level, owner_id", actor: "mgr", method: "GET", path: "/customers?" + period + "&level=A&owner_id=" + rep1, wantStatus: 200,
				wantContains: []string{"甲新客户A", "共 1 条",
					// named above the results, kept by the filter form (a search within them)
					"按报表数字筛选", "创建时间起: ", `<input type="hidden" name="created_from" value="` + base.AddDate(0, 0, -3).Format(time.RFC3339) + `">`,
					`<a href="/customers">显示完整列表</a>`},
				wantNotContains: []string{"甲旧客户", "甲新客户B", "乙新客户"}},
			{name: "customers: department_id and source", actor: "mgr", method: "GET", path: "/customers?source=website&department_id=" + fmt.Sprint(to.East1.ID), wantStatus: 200,
				wantContains: []string{"甲新客户A", "乙新客户", "共 2 条"}, wantNotContains: []string{"甲旧客户"}},
			{name: "leads: period and their own source", actor: "rep1", method: "GET", path: "/leads?" + period + "&source=website", wantStatus: 200,
				wantContains: []string{"线索甲", "共 1 条"}, wantNotContains: []string{"线索乙"}},
			{name: "opportunities: won, in USD, of a customer's industry", actor: "mgr", method: "GET",
				path: "/opportunities?stage_kind=won&currency=USD&industry=" + url.QueryEscape("制造业") + "&owner_id=" + rep1, wantStatus: 200,
				wantContains: []string{"甲美元赢单", "共 1 条"}, wantNotContains: []string{"甲人民币商机"}},
			{name: "opportunities: stage_id as the API names it", actor: "rep1", method: "GET",
				path: "/opportunities?stage_kind=open&stage_id=" + fmt.Sprint(open.StageID), wantStatus: 200,
				wantContains: []string{"甲人民币商机", "共 1 条"}, wantNotContains: []string{"甲美元赢单"}},
			{name: "the pool: the customer's level", actor: "rep1", method: "GET", path: "/pool?level=B&source=website", wantStatus: 200,
				wantContains: []string{"甲新客户B", "共 1 条"}},
			{name: "the pool: another level", actor: "rep1", method: "GET", path: "/pool?level=A", wantStatus: 200,
				wantContains: []string{"共 0 条"}, wantNotContains: []string{"甲新客户B"}},
			{name: "follow-ups: the customer's level, owner_id", actor: "mgr", method: "GET", path: "/follow-ups?" + period + "&level=A&owner_id=" + rep1, wantStatus: 200,
				wantContains:    []string{"拜访甲新客户A", "共 1 条", `href="/customers/` + fmt.Sprint(newA.ID) + `"`, "客户级别: A", `<a href="/follow-ups">显示完整列表</a>`},
				wantNotContains: []string{"拜访甲新客户B"}},
			{name: "follow-ups of a department outside the scope", actor: "rep1", method: "GET", path: "/follow-ups?department_id=" + fmt.Sprint(to.West.ID), wantStatus: 200,
				wantContains: []string{"共 0 条"}, wantNotContains: []string{"拜访"}},
			{name: "a malformed instant is a field error", actor: "rep1", method: "GET", path: "/customers?created_from=yesterday", wantStatus: 422,
				wantContains: []string{"创建时间起", "RFC 3339"}},
			{name: "in English", actor: "rep1", method: "GET", path: "/opportunities?stage_kind=maybe", header: map[string]string{"Accept-Language": "en"},
				wantStatus: 422, wantContains: []string{"Stage type", "must be one of"}},
			{name: "a filter the list does not take is refused", actor: "rep1", method: "GET", path: "/leads?level=A", wantStatus: 422,
				wantContains: []string{"此列表不能按此条件筛选"}},
		}
		runScenarios(t, s, browsers, cases)
	})
}
