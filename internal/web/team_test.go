package web

import (
	"context"
	"fmt"
	"testing"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestManagerTeam is the manager's cockpit on the web: the team section of
// Today with numbers equal to a hand count, each linking to its list; the
// rep and department filters of the lists, the task page and the board,
// which narrow a scope and never widen it; and the board's totals.
func TestManagerTeam(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testorg.NewClock()
		o := newOrgWithClock(t, db, clock)
		loc := o.svc.DefaultLocation()
		y, m, d := time.Now().In(loc).Date()
		base := time.Date(y, m, d, 10, 0, 0, 0, loc)
		clock.Set(base.AddDate(0, 0, -20))
		at := func(days int) *time.Time { x := base.AddDate(0, 0, days); return &x }
		mk := func(a *access.Actor, name string, next *time.Time) crm.Customer {
			c := mustCreateCustomer(t, o.svc, a, crm.CustomerFields{Name: name})
			if next != nil {
				_, err := o.svc.CreateFollowUp(ctx, a, crm.FollowUpInput{Kind: "call", Content: "电话", CustomerID: c.ID, NextAt: next})
				noErr(t, err)
			}
			return c
		}
		r1, r2, r3 := o.rep1, o.rep2, o.rep3
		late1 := mk(r1, "甲逾期客户", at(-1))
		mk(r1, "甲今天客户", func() *time.Time { x := base.Add(3 * time.Hour); return &x }())
		mk(r2, "乙逾期客户", at(-2))
		late3 := mk(r3, "丙逾期客户", at(-1))
		_, err := o.svc.CreateOpportunity(ctx, o.rep1, crm.OpportunityFields{CustomerID: late1.ID, Name: "甲停滞商机", Amount: 1_000_00, Currency: "CNY"})
		noErr(t, err)
		_, err = o.svc.CreateOpportunity(ctx, o.rep1, crm.OpportunityFields{CustomerID: late1.ID, Name: "甲美元商机", Amount: 2_000_00, Currency: "USD"})
		noErr(t, err)
		_, err = o.svc.CreateOpportunity(ctx, o.rep3, crm.OpportunityFields{CustomerID: late3.ID, Name: "丙停滞商机", Amount: 7_000_00, Currency: "CNY"})
		noErr(t, err)
		_, err = o.svc.CreateTask(ctx, o.rep1, crm.TaskFields{Title: "甲逾期任务", DueAt: at(-1)})
		noErr(t, err)
		_, err = o.svc.CreateTask(ctx, o.rep3, crm.TaskFields{Title: "丙逾期任务", DueAt: at(-1)})
		noErr(t, err)
		clock.Set(base)

		s := newSite(t, o.svc)
		browsers := map[string]*browser{"rep1": s.signIn("rep1", testPassword), "mgr": s.signIn("mgr.east", testPassword)}
		id := func(v int64) string { return fmt.Sprint(v) }
		rep1, rep3 := id(o.rep1.UserID), id(o.rep3.UserID)
		// A number and the link to its list, as html/template writes it.
		cell := func(path string, n int) string { return `href="` + path + `">` + fmt.Sprint(n) + `</a>` }
		cases := []scenario{
			{name: "a manager's Today shows the team", actor: "mgr", method: "GET", path: "/", wantStatus: 200,
				wantContains: []string{"我的团队", "User rep1", "User rep2",
					cell("/customers?due=overdue&amp;owner="+rep1+"&amp;sort=next_follow_up", 1),
					cell("/customers?due=today&amp;owner="+rep1+"&amp;sort=next_follow_up", 1),
					cell("/tasks?due=overdue&amp;owner="+rep1, 1),
					cell("/opportunities?owner="+rep1+"&amp;stalled=14", 2),
					"14 天内既无阶段变化也无跟进记录", `<select name="department" aria-label="部门">`},
				wantNotContains: []string{"User rep3"}},
			{name: "the team in English", actor: "mgr", method: "GET", path: "/", header: map[string]string{"Accept-Language": "en"}, wantStatus: 200,
				wantContains: []string{"My team", "Overdue follow-ups", "Stalled opportunities", "no follow-up for 14 days"}},
			{name: "the team filtered by a department outside the scope", actor: "mgr", method: "GET", path: "/?department=" + id(o.west.ID), wantStatus: 200,
				wantContains:    []string{"您的范围内没有符合筛选条件的人员", `<option value="` + id(o.west.ID) + `" selected>#`},
				wantNotContains: []string{"User rep3", `<th scope="row">User rep1`}},
			{name: "a rep's Today has no team", actor: "rep1", method: "GET", path: "/", wantStatus: 200,
				wantContains: []string{"甲逾期客户"}, wantNotContains: []string{"我的团队", "User rep2", `name="owner"`}},
			{name: "the overdue list behind a number", actor: "mgr", method: "GET", path: "/customers?due=overdue&owner=" + rep1, wantStatus: 200,
				wantContains:    []string{"甲逾期客户", "共 1 条", `<option value="` + rep1 + `" selected>User rep1</option>`},
				wantNotContains: []string{"甲今天客户", "乙逾期客户", ">User rep3<"}},
			{name: "a department filter on the customer list", actor: "mgr", method: "GET", path: "/customers?department=" + id(o.east1.ID), wantStatus: 200,
				wantContains: []string{"甲逾期客户", "乙逾期客户", "共 3 条"}},
			{name: "a department outside the scope lists nothing", actor: "mgr", method: "GET", path: "/customers?department=" + id(o.west.ID), wantStatus: 200,
				wantContains: []string{"共 0 条"}, wantNotContains: []string{"丙逾期客户"}},
			{name: "a rep filtering by a colleague sees nothing", actor: "rep1", method: "GET", path: "/customers?owner=" + id(o.rep2.UserID), wantStatus: 200,
				wantContains: []string{"共 0 条"}, wantNotContains: []string{"乙逾期客户", `name="owner"`}},
			{name: "the stalled list behind a number", actor: "mgr", method: "GET", path: "/opportunities?stalled=14&owner=" + rep1, wantStatus: 200,
				wantContains: []string{"甲停滞商机", "共 2 条", "14 天无进展"}, wantNotContains: []string{"丙停滞商机"}},
			{name: "contacts, leads and contracts take the filter", actor: "mgr", method: "GET", path: "/leads?owner=" + rep3, wantStatus: 200,
				wantContains: []string{"共 0 条"}},
			{name: "the overdue tasks behind a number", actor: "mgr", method: "GET", path: "/tasks?due=overdue&owner=" + rep1, wantStatus: 200,
				wantContains: []string{"甲逾期任务", "User rep1"}, wantNotContains: []string{"丙逾期任务"}},
			{name: "tasks of a rep outside the scope", actor: "mgr", method: "GET", path: "/tasks?owner=" + rep3, wantStatus: 200,
				wantNotContains: []string{"丙逾期任务"}},
			{name: "the board shows totals per currency", actor: "mgr", method: "GET", path: "/opportunities/board", wantStatus: 200,
				wantContains:    []string{"金额合计", "加权金额", "¥1,000.00", "¥100.00", "USD 2,000.00", "USD 200.00", `<select name="owner"`},
				wantNotContains: []string{"丙停滞商机"}},
			{name: "the board filtered by a department outside the scope", actor: "mgr", method: "GET", path: "/opportunities/board?department=" + id(o.west.ID),
				wantStatus: 200, wantNotContains: []string{"丙停滞商机", "甲停滞商机", "金额合计"}},
			{name: "the board in English", actor: "mgr", method: "GET", path: "/opportunities/board?owner=" + rep1, header: map[string]string{"Accept-Language": "en"},
				wantStatus: 200, wantContains: []string{"Weighted", "甲停滞商机"}},
		}
		runScenarios(t, s, browsers, cases)
	})
}
