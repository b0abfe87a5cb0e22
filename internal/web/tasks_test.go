package web

import (
	"context"
	"net/url"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// TestTaskEdit edits tasks through the web form: fields, customer and (for
// a manager) the assignee; inline errors that keep the input; a stale
// version refused with the "changed by someone else" message and the
// typed values kept; scope and CSRF.
func TestTaskEdit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		c1 := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "任务一号客户"})
		c2 := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "任务二号客户"})
		due := time.Date(2031, 3, 4, 9, 30, 0, 0, time.Local)
		k, err := o.svc.CreateTask(ctx, o.mgrEast, crm.TaskFields{Title: "准备报价", Notes: "第一版", DueAt: &due, CustomerID: c1.ID, AssigneeID: o.rep1.UserID})
		noErr(t, err)
		edit, post := "/tasks/"+id(k.ID)+"/edit", "/tasks/"+id(k.ID)
		task := func(want func(crm.Task) bool) func(t *testing.T) {
			return func(t *testing.T) {
				got, err := o.svc.GetTask(ctx, o.admin, k.ID)
				if err != nil || !want(got) {
					t.Errorf("task after the request: %+v (%v)", got, err)
				}
			}
		}
		browsers := map[string]*browser{"rep1": s.signIn("rep1", testPassword), "rep2": s.signIn("rep2", testPassword),
			"mgr": s.signIn("mgr.east", testPassword)}
		en := map[string]string{"Accept-Language": "en"}
		runScenarios(t, s, browsers, []scenario{
			{name: "the task list links to the edit form", actor: "rep1", method: "GET", path: "/tasks", wantStatus: 200,
				wantContains: []string{`href="` + edit + `"`}},
			{name: "the customer page links to the edit form", actor: "rep1", method: "GET", path: "/customers/" + id(c1.ID), wantStatus: 200,
				wantContains: []string{`href="` + edit + `"`}},
			{name: "edit form with the task's values", actor: "rep1", method: "GET", path: edit, wantStatus: 200,
				wantContains: []string{"<h1>编辑任务</h1>", `action="` + post + `"`, `name="version" value="1"`, `value="准备报价"`,
					`name="due_at" type="datetime-local" value="2031-03-04T09:30"`, "第一版</textarea>",
					`<option value="` + id(c1.ID) + `" selected>任务一号客户</option>`},
				// A sales rep assigns to nobody else: no assignee choice.
				wantNotContains: []string{`name="assignee_id"`}},
			{name: "edit form in English", actor: "rep1", method: "GET", path: edit, header: en, wantStatus: 200,
				wantContains: []string{"<h1>Edit task</h1>", "Due"}},
			{name: "another rep cannot open it", actor: "rep2", method: "GET", path: edit, wantStatus: 404, wantNotContains: []string{"准备报价"}},
			{name: "another rep cannot save it", actor: "rep2", method: "POST", path: post,
				body: url.Values{"version": {"1"}, "title": {"越权修改"}}, wantStatus: 404, check: task(func(k crm.Task) bool { return k.Title == "准备报价" })},
			{name: "bad input keeps it and explains each field", actor: "rep1", method: "POST", path: post,
				body:       url.Values{"version": {"1"}, "title": {""}, "due_at": {"下周二"}, "notes": {"我写的备注"}, "customer_id": {id(c2.ID)}},
				wantStatus: 422, wantContains: []string{"任务内容：必填", "截止时间：必须是日期和时间", `value="下周二"`, "我写的备注</textarea>",
					`<option value="` + id(c2.ID) + `" selected>任务二号客户</option>`, `name="version" value="1"`},
				check: task(func(k crm.Task) bool { return k.Version == 1 && k.Title == "准备报价" })},
			{name: "bad input in English", actor: "rep1", method: "POST", path: post, header: en,
				body: url.Values{"version": {"1"}, "title": {""}}, wantStatus: 422, wantContains: []string{"Task: is required"}},
			{name: "a rep cannot hand the task to someone else", actor: "rep1", method: "POST", path: post,
				body: url.Values{"version": {"1"}, "title": {"准备报价"}, "assignee_id": {id(o.rep3.UserID)}}, wantStatus: 422,
				wantContains: []string{"执行人：不是您可以分配记录的用户", "alert error"}, check: task(func(k crm.Task) bool { return k.OwnerID == o.rep1.UserID })},
			{name: "save the edit", actor: "rep1", method: "POST", path: post,
				body:       url.Values{"version": {"1"}, "title": {"准备正式报价"}, "due_at": {"2031-03-05T16:45"}, "notes": {"第二版"}, "customer_id": {id(c2.ID)}},
				wantStatus: 303, wantLocation: "/customers/" + id(c2.ID) + "#tasks",
				check: task(func(k crm.Task) bool {
					return k.Version == 2 && k.Title == "准备正式报价" && k.Notes == "第二版" && k.CustomerID == c2.ID && k.OwnerID == o.rep1.UserID &&
						k.DueAt != nil && k.DueAt.Equal(time.Date(2031, 3, 5, 16, 45, 0, 0, time.Local))
				})},
			{name: "a stale edit is refused and keeps what was typed", actor: "mgr", method: "POST", path: post,
				body:       url.Values{"version": {"1"}, "title": {"经理的旧版修改"}, "due_at": {"2031-04-01T08:00"}, "customer_id": {id(c1.ID)}, "assignee_id": {id(o.rep1.UserID)}},
				wantStatus: 409, wantContains: []string{"该记录已被他人修改", `value="经理的旧版修改"`, `value="2031-04-01T08:00"`, "在新标签页中查看最新版本",
					`name="version" value="1"`},
				check: task(func(k crm.Task) bool { return k.Version == 2 && k.Title == "准备正式报价" })},
			{name: "the manager's form offers the subtree's users, the assignee chosen", actor: "mgr", method: "GET", path: edit, wantStatus: 200,
				wantContains: []string{`name="assignee_id"`, `<option value="` + id(o.rep1.UserID) + `" selected>User rep1</option>`,
					`<option value="` + id(o.rep2.UserID) + `">User rep2</option>`}, wantNotContains: []string{"User rep3"}},
			{name: "the manager reassigns, clears the due time and unlinks the customer", actor: "mgr", method: "POST", path: post,
				body:       url.Values{"version": {"2"}, "title": {"准备正式报价"}, "due_at": {""}, "customer_id": {""}, "assignee_id": {id(o.rep2.UserID)}},
				wantStatus: 303, wantLocation: "/tasks",
				check: task(func(k crm.Task) bool {
					return k.Version == 3 && k.OwnerID == o.rep2.UserID && k.DueAt == nil && k.CustomerID == 0
				})},
			{name: "the new assignee sees it", actor: "rep2", method: "GET", path: "/tasks", wantStatus: 200, wantContains: []string{"准备正式报价"}},
			{name: "the old one no longer does", actor: "rep1", method: "GET", path: edit, wantStatus: 404},
			{name: "saving needs the CSRF token", actor: "rep2", method: "POST", path: post, noCSRF: true,
				body: url.Values{"version": {"3"}, "title": {"forged"}}, wantStatus: 403, check: task(func(k crm.Task) bool { return k.Title == "准备正式报价" })},
		})
	})
}
