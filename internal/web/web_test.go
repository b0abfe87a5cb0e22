package web

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// scenario is one HTTP exchange against the real router and database
// (STYLE.md §10). actor names a signed-in browser ("" is signed out); a
// POST body gets the actor's CSRF token unless noCSRF is set.
type scenario struct {
	name            string
	actor           string
	method          string
	path            string
	body            url.Values
	header          map[string]string
	noCSRF          bool
	wantStatus      int
	wantLocation    string // prefix of the Location header
	wantContains    []string
	wantNotContains []string
	check           func(t *testing.T) // state after the request
}

func runScenarios(t *testing.T, s *site, browsers map[string]*browser, cases []scenario) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := browsers[tc.actor]
			if tc.actor != "" && b == nil {
				t.Fatalf("no browser for %q", tc.actor)
			}
			body := tc.body
			if tc.method == "POST" {
				body = url.Values{}
				for k, v := range tc.body {
					body[k] = v
				}
				if !tc.noCSRF && b != nil && body.Get("csrf") == "" {
					body.Set("csrf", b.csrf)
				}
			}
			rec := s.do(b, tc.method, tc.path, body, tc.header)
			got := rec.Body.String()
			if rec.Code != tc.wantStatus {
				t.Fatalf("%s %s: status %d, want %d\n%s", tc.method, tc.path, rec.Code, tc.wantStatus, excerpt(got))
			}
			if tc.wantLocation != "" && !strings.HasPrefix(rec.Header().Get("Location"), tc.wantLocation) {
				t.Errorf("Location = %q, want prefix %q", rec.Header().Get("Location"), tc.wantLocation)
			}
			for _, want := range tc.wantContains {
				if !strings.Contains(got, want) {
					t.Errorf("body does not contain %q\n%s", want, excerpt(got))
				}
			}
			for _, bad := range tc.wantNotContains {
				if strings.Contains(got, bad) {
					t.Errorf("body contains %q", bad)
				}
			}
			if tc.check != nil {
				tc.check(t)
			}
		})
	}
}

func excerpt(s string) string {
	if i := strings.Index(s, `<main`); i >= 0 {
		s = s[i:]
	}
	if len(s) > 3000 {
		s = s[:3000] + "…"
	}
	return s
}

func id(n int64) string { return fmt.Sprint(n) }

// TestPages covers sign-in, scope isolation, CSRF, forms and every page
// against a real database, once per dialect.
func TestPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newOrg(t, db)
		s := newSite(t, o.svc)

		c1 := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "北京星辰科技有限公司", Phone: "13800138000", Email: "info@xingchen.cn"})
		c3 := mustCreateCustomer(t, o.svc, o.rep3, crm.CustomerFields{Name: "West Trading Ltd"})
		stale := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "陈旧版本有限公司"})
		// 物流 is stored as its standard industry section.
		if _, err := o.svc.UpdateCustomer(ctx, o.rep1, stale.ID, crm.CustomerUpdate{Version: stale.Version, Industry: ptr("物流")}); err != nil {
			t.Fatal(err)
		}
		pool1 := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "公海一号贸易公司"})
		pool2 := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "公海二号贸易公司"})
		for _, c := range []crm.Customer{pool1, pool2} {
			if err := o.svc.ReleaseCustomer(ctx, o.rep1, c.ID); err != nil {
				t.Fatal(err)
			}
		}
		binned := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "回收站测试有限公司"})
		if err := o.svc.DeleteCustomer(ctx, o.rep1, binned.ID); err != nil {
			t.Fatal(err)
		}
		doomed := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "待删除有限公司"})
		later := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "下周跟进有限公司"})
		now := time.Now()
		for _, f := range []crm.FollowUpInput{
			{CustomerID: c1.ID, Kind: "call", Content: "报价", OccurredAt: ptr(now.Add(-72 * time.Hour)), NextAt: ptr(now.Add(-24 * time.Hour))},
			{CustomerID: later.ID, Kind: "visit", Content: "拜访", NextAt: ptr(now.Add(7 * 24 * time.Hour))},
		} {
			if _, err := o.svc.CreateFollowUp(ctx, o.rep1, f); err != nil {
				t.Fatal(err)
			}
		}
		token, err := o.svc.CreateAPIToken(ctx, o.rep3, service.TokenInput{Name: "script", Scopes: testorg.TokenScopes(o.rep3)})
		if err != nil {
			t.Fatal(err)
		}

		browsers := map[string]*browser{
			"rep1": s.signIn("rep1", testPassword),
			"rep2": s.signIn("rep2", testPassword),
			"rep3": s.signIn("rep3", testPassword),
		}
		// The administrator starts with a one-time password and must change
		// it first: every page sends them to the password page until then.
		admin := s.signIn("admin", o.adminPassword)
		browsers["admin"] = admin
		// The administrator has a second factor (set up after this sign-in)
		// for the operations that need a fresh one.
		adminMFA := o.t.EnrolMFA(t, o.admin)
		roleEdit := url.Values{"name": {"Sales"}, "read.customer": {"on"}, "create.customer": {"on"}, "edit.customer": {"on"}, "scope.customer": {"department"}}
		withStepUp := func(v url.Values, code string) url.Values {
			out := url.Values{"step_up_code": {code}}
			for k, vals := range v {
				out[k] = vals
			}
			return out
		}
		salesUnchanged := func(t *testing.T) {
			if g := testorg.Actor(t, o.svc, o.rep1.UserID).Role.Grant(crm.ObjCustomer); g.Scope != crm.ScopeOwn {
				t.Errorf("the role changed without a fresh second factor: %+v", g)
			}
		}

		// inBin checks whether one of rep1's customers is in the recycle bin.
		inBin := func(name string, id int64, wantDeleted bool) func(t *testing.T) {
			return func(t *testing.T) {
				page, err := o.svc.ListRecycledCustomers(ctx, o.rep1, crm.CustomerFilter{})
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, c := range page.Items {
					found = found || c.ID == id
				}
				if found != wantDeleted {
					t.Errorf("%s: in recycle bin = %v, want %v", name, found, wantDeleted)
				}
			}
		}
		ownedBy := func(id int64, userID int64) func(t *testing.T) {
			return func(t *testing.T) {
				c, err := o.svc.GetCustomer(ctx, o.admin, id)
				if err != nil || c.OwnerID != userID {
					t.Errorf("customer %d: owner %d (%v), want %d", id, c.OwnerID, err, userID)
				}
			}
		}
		htmx := map[string]string{"HX-Request": "true"}

		runScenarios(t, s, browsers, []scenario{
			// Signed out.
			{name: "signed out home goes to sign-in", method: "GET", path: "/", wantStatus: 303, wantLocation: "/login"},
			{name: "signed out list remembers where to return", method: "GET", path: "/customers?q=x", wantStatus: 303,
				wantLocation: "/login?next=%2Fcustomers%3Fq%3Dx"},
			{name: "signed out post goes to sign-in", method: "POST", path: "/customers", body: url.Values{"name": {"x"}}, wantStatus: 303, wantLocation: "/login"},
			{name: "signed out htmx gets HX-Redirect", method: "GET", path: "/customers", header: htmx, wantStatus: 401},
			{name: "unknown page", method: "GET", path: "/nope", wantStatus: 404, header: map[string]string{"Accept-Language": "en"}, wantContains: []string{"Not found"},
				wantNotContains: []string{`<nav class="nav"`}},
			{name: "unknown page keeps a signed-in user's navigation", actor: "rep1", method: "GET", path: "/nope", wantStatus: 404,
				header: map[string]string{"Accept-Language": "en"}, wantContains: []string{"Not found", `<nav class="nav"`, `href="/customers"`}},

			// Password change gate for the administrator.
			{name: "admin must change password first", actor: "admin", method: "GET", path: "/customers", wantStatus: 303,
				wantLocation: "/account/password?next=%2Fcustomers"},
			{name: "password mismatch", actor: "admin", method: "POST", path: "/account/password",
				body:       url.Values{"current_password": {o.adminPassword}, "new_password": {"a new long password"}, "confirm_password": {"different"}},
				wantStatus: 422, wantContains: []string{"确认新密码：与新密码不一致"}},
			{name: "password too short", actor: "admin", method: "POST", path: "/account/password",
				body:       url.Values{"current_password": {o.adminPassword}, "new_password": {"short"}, "confirm_password": {"short"}},
				wantStatus: 422, wantContains: []string{"新密码：过短（至少 10 个字符）"}},
			{name: "admin changes password", actor: "admin", method: "POST", path: "/account/password",
				body:       url.Values{"current_password": {o.adminPassword}, "new_password": {"a new long password"}, "confirm_password": {"a new long password"}, "next": {"/customers"}},
				wantStatus: 303, wantLocation: "/customers"},

			// CSRF.
			{name: "post without CSRF token is refused and changes nothing", actor: "rep1", method: "POST", path: "/customers/" + id(doomed.ID) + "/delete",
				noCSRF: true, wantStatus: 403, wantContains: []string{"表单已过期"}, check: inBin("doomed", doomed.ID, false)},
			{name: "post with wrong CSRF token is refused", actor: "rep1", method: "POST", path: "/customers/" + id(doomed.ID) + "/delete",
				body: url.Values{"csrf": {"forged"}}, wantStatus: 403, check: inBin("doomed", doomed.ID, false)},
			{name: "htmx post with wrong CSRF header is refused", actor: "rep1", method: "POST", path: "/customers/" + id(doomed.ID) + "/delete",
				noCSRF: true, header: map[string]string{"HX-Request": "true", "X-CSRF-Token": "forged"}, wantStatus: 403,
				check: inBin("doomed", doomed.ID, false)},
			{name: "another session's CSRF token is refused", actor: "rep1", method: "POST", path: "/customers/" + id(doomed.ID) + "/delete",
				body: url.Values{"csrf": {browsers["rep2"].csrf}}, wantStatus: 403, check: inBin("doomed", doomed.ID, false)},
			{name: "delete moves to recycle bin", actor: "rep1", method: "POST", path: "/customers/" + id(doomed.ID) + "/delete",
				wantStatus: 303, wantLocation: "/customers", check: inBin("doomed", doomed.ID, true)},

			// Today.
			{name: "home shows overdue follow-ups, not later ones", actor: "rep1", method: "GET", path: "/", wantStatus: 200,
				wantContains:    []string{"User rep1", `<tr data-href="/customers/` + id(c1.ID) + `">`, "已逾期"},
				wantNotContains: []string{`<tr data-href="/customers/` + id(later.ID) + `">`}},
			{name: "home of another rep shows none of it", actor: "rep2", method: "GET", path: "/", wantStatus: 200,
				wantContains: []string{"今天没有待跟进的客户"}, wantNotContains: []string{"北京星辰科技有限公司", "下周跟进有限公司"}},

			// Create.
			{name: "new customer form", actor: "rep1", method: "GET", path: "/customers/new", wantStatus: 200,
				wantContains: []string{`action="/customers"`, "统一社会信用代码"}},
			{name: "create customer", actor: "rep1", method: "POST", path: "/customers",
				body:       url.Values{"name": {"上海新客户有限公司"}, "status": {"prospect"}, "level": {"A"}, "tags": {"制造, 华东"}},
				wantStatus: 303, wantLocation: "/customers/"},
			{name: "create with bad input keeps input and explains each field", actor: "rep1", method: "POST", path: "/customers",
				body:            url.Values{"name": {""}, "industry": {"制造业"}, "email": {"not-an-email"}, "credit_code": {"91110000XXXX"}, "website": {"not a site"}},
				header:          map[string]string{"Accept-Language": "zh-CN"},
				wantStatus:      422,
				wantContains:    []string{"部分字段填写有误", "名称：必填", "网址：格式不正确", `value="制造业"`, `value="not-an-email"`, `value="91110000XXXX"`},
				wantNotContains: []string{"field.", "rule."}},
			{name: "create with bad input in English", actor: "rep1", method: "POST", path: "/customers",
				body:       url.Values{"name": {""}, "industry": {"Steel"}},
				header:     map[string]string{"Accept-Language": "en-GB,en;q=0.9"},
				wantStatus: 422, wantContains: []string{"Some fields are not valid.", "Name: is required", `value="Steel"`}},
			{name: "duplicate names the owner", actor: "rep2", method: "POST", path: "/customers",
				body:       url.Values{"name": {"北京星辰科技有限公司"}},
				wantStatus: 409, wantContains: []string{"已存在，负责人：User rep1", `value="北京星辰科技有限公司"`,
					`action="/access-requests"`, "请负责人共享给我", "请负责人转交给我"}},
			{name: "the refused entrant asks the owner to share", actor: "rep2", method: "POST", path: "/access-requests",
				body:       url.Values{"object": {"customer"}, "access": {"share"}, "fields": {`{"name":"北京星辰科技有限公司","status":"prospect"}`}},
				wantStatus: 303, wantLocation: "/approvals/"},

			// Scope isolation.
			{name: "owner sees the detail", actor: "rep1", method: "GET", path: "/customers/" + id(c1.ID), wantStatus: 200,
				wantContains: []string{"北京星辰科技有限公司", "8613800138000", "放入公海"}},
			{name: "rep2 cannot see rep1's customer", actor: "rep2", method: "GET", path: "/customers/" + id(c1.ID), wantStatus: 404,
				wantNotContains: []string{"北京星辰科技有限公司", "13800138000"}},
			{name: "rep2 cannot open rep1's edit form", actor: "rep2", method: "GET", path: "/customers/" + id(c1.ID) + "/edit", wantStatus: 404,
				wantNotContains: []string{"北京星辰科技有限公司"}},
			{name: "rep2's list never shows rep1's customer", actor: "rep2", method: "GET", path: "/customers", wantStatus: 200,
				wantNotContains: []string{"北京星辰科技有限公司", "West Trading"}},
			{name: "rep2's search never shows rep1's customer", actor: "rep2", method: "GET", path: "/customers?q=" + url.QueryEscape("星辰"), wantStatus: 200,
				wantContains: []string{"共 0 条"}, wantNotContains: []string{"北京星辰科技有限公司"}},
			{name: "rep2 cannot update rep1's customer", actor: "rep2", method: "POST", path: "/customers/" + id(c1.ID),
				body: url.Values{"name": {"stolen"}, "version": {"1"}}, wantStatus: 404},
			{name: "rep1's list shows own customers", actor: "rep1", method: "GET", path: "/customers", wantStatus: 200,
				wantContains: []string{"北京星辰科技有限公司"}, wantNotContains: []string{"West Trading"}},
			{name: "list filter and sort", actor: "rep1", method: "GET", path: "/customers?level=A&sort=name", wantStatus: 200,
				wantContains: []string{"上海新客户有限公司", "共 1 条"}, wantNotContains: []string{"北京星辰科技有限公司"}},
			{name: "htmx list request gets only the results", actor: "rep1", method: "GET", path: "/customers?q=" + url.QueryEscape("星辰"),
				header: map[string]string{"HX-Request": "true", "HX-Target": "results"}, wantStatus: 200,
				wantContains: []string{`<section id="results">`, "北京星辰科技有限公司"}, wantNotContains: []string{"<html", "<nav class=\"nav\""}},

			// Edit.
			{name: "edit form carries the version", actor: "rep1", method: "GET", path: "/customers/" + id(stale.ID) + "/edit", wantStatus: 200,
				wantContains: []string{`name="version" value="2"`, `value="交通运输、仓储和邮政业"`}},
			{name: "stale edit changes nothing and keeps input", actor: "rep1", method: "POST", path: "/customers/" + id(stale.ID),
				body:       url.Values{"name": {"我的修改有限公司"}, "version": {"1"}, "status": {"active"}},
				wantStatus: 409, wantContains: []string{"该记录已被他人修改", `value="我的修改有限公司"`},
				check: func(t *testing.T) {
					c, err := o.svc.GetCustomer(ctx, o.rep1, stale.ID)
					if err != nil || c.Name != "陈旧版本有限公司" || c.Version != 2 {
						t.Errorf("after stale edit: %q v%d %v", c.Name, c.Version, err)
					}
				}},
			{name: "current edit saves", actor: "rep1", method: "POST", path: "/customers/" + id(stale.ID),
				body:       url.Values{"name": {"已更新有限公司"}, "version": {"2"}, "status": {"active"}},
				wantStatus: 303, wantLocation: "/customers/" + id(stale.ID)},
			{name: "edit with bad input", actor: "rep1", method: "POST", path: "/customers/" + id(stale.ID),
				body:       url.Values{"name": {"已更新有限公司"}, "version": {"3"}, "phone": {"12"}, "status": {"active"}},
				wantStatus: 422, wantContains: []string{"电话：不是有效的电话号码", `value="12"`}},

			// Pool.
			{name: "pool lists unowned customers", actor: "rep2", method: "GET", path: "/pool", wantStatus: 200,
				wantContains:    []string{"公海一号贸易公司", "公海二号贸易公司", "/customers/" + id(pool1.ID) + "/claim"},
				wantNotContains: []string{"北京星辰科技有限公司"}},
			{name: "claim from pool", actor: "rep2", method: "POST", path: "/customers/" + id(pool1.ID) + "/claim",
				wantStatus: 303, wantLocation: "/customers/" + id(pool1.ID), check: ownedBy(pool1.ID, o.rep2.UserID)},
			{name: "claim again is refused", actor: "rep3", method: "POST", path: "/customers/" + id(pool1.ID) + "/claim",
				wantStatus: 409, wantContains: []string{"该客户已不在公海中"}, check: ownedBy(pool1.ID, o.rep2.UserID)},
			{name: "htmx claim swaps the button", actor: "rep3", method: "POST", path: "/customers/" + id(pool2.ID) + "/claim", header: htmx,
				wantStatus: 200, wantContains: []string{"已领取", `href="/customers/` + id(pool2.ID) + `"`}, wantNotContains: []string{"<html"},
				check: ownedBy(pool2.ID, o.rep3.UserID)},
			{name: "htmx error goes to the alert area", actor: "rep1", method: "POST", path: "/customers/" + id(pool2.ID) + "/claim", header: htmx,
				wantStatus: 409, wantContains: []string{"该客户已不在公海中"}, wantNotContains: []string{"<html"}},
			{name: "release to pool", actor: "rep2", method: "POST", path: "/customers/" + id(pool1.ID) + "/release",
				wantStatus: 303, check: ownedBy(pool1.ID, 0)},

			// Recycle bin.
			{name: "recycle bin lists deleted customers", actor: "rep1", method: "GET", path: "/recycle-bin", wantStatus: 200,
				wantContains: []string{"回收站测试有限公司", "/customers/" + id(binned.ID) + "/restore"}},
			{name: "others' recycle bin stays private", actor: "rep2", method: "GET", path: "/recycle-bin", wantStatus: 200,
				wantNotContains: []string{"回收站测试有限公司"}},
			{name: "restore from recycle bin", actor: "rep1", method: "POST", path: "/customers/" + id(binned.ID) + "/restore",
				wantStatus: 303, wantLocation: "/recycle-bin", check: inBin("binned", binned.ID, false)},
			{name: "restored customer is back", actor: "rep1", method: "GET", path: "/customers/" + id(binned.ID), wantStatus: 200,
				wantContains: []string{"回收站测试有限公司"}},

			// Administration.
			{name: "sales may not see users", actor: "rep1", method: "GET", path: "/admin/users", wantStatus: 403,
				wantContains: []string{"您没有执行此操作的权限"}, wantNotContains: []string{"mgr.east"}},
			{name: "sales may not see roles", actor: "rep1", method: "GET", path: "/admin/roles", wantStatus: 403},
			{name: "sales may not see departments", actor: "rep1", method: "GET", path: "/admin/departments", wantStatus: 403},
			{name: "sales may not create users", actor: "rep1", method: "POST", path: "/admin/users",
				body:       url.Values{"username": {"intruder"}, "display_name": {"X"}, "department_id": {id(o.hq.ID)}, "role_id": {id(o.roles["admin"].ID)}, "password": {"long enough password"}},
				wantStatus: 403,
				check: func(t *testing.T) {
					dir, _ := o.svc.Directory(ctx, o.admin)
					for _, u := range dir.Users {
						if u.Username == "intruder" {
							t.Error("sales created a user")
						}
					}
				}},
			{name: "sales nav has no admin link", actor: "rep1", method: "GET", path: "/", wantStatus: 200, wantNotContains: []string{`href="/admin/users"`}},
			{name: "admin creates user with bad input", actor: "admin", method: "POST", path: "/admin/users",
				body:       url.Values{"username": {"Bad Name"}, "display_name": {""}, "department_id": {id(o.east.ID)}, "role_id": {id(o.roles["sales"].ID)}, "password": {"short"}},
				wantStatus: 422, wantContains: []string{"用户名：格式不正确", "显示名称：必填", "密码：过短", `value="Bad Name"`}},
			{name: "admin creates user", actor: "admin", method: "POST", path: "/admin/users",
				body:       url.Values{"username": {"rep4"}, "display_name": {"新同事"}, "department_id": {id(o.west.ID)}, "role_id": {id(o.roles["sales"].ID)}, "password": {"long enough password"}},
				wantStatus: 303, wantLocation: "/admin/users"},
			{name: "admin sees the new user", actor: "admin", method: "GET", path: "/admin/users", wantStatus: 200, wantContains: []string{"rep4", "新同事"}},
			{name: "admin creates department", actor: "admin", method: "POST", path: "/admin/departments",
				body: url.Values{"name": {"华南"}, "parent_id": {id(o.hq.ID)}}, wantStatus: 303, wantLocation: "/admin/departments"},
			{name: "department cannot move below itself", actor: "admin", method: "POST", path: "/admin/departments/" + id(o.east.ID),
				body: url.Values{"name": {"East"}, "parent_id": {id(o.east1.ID)}}, wantStatus: 422, wantContains: []string{"上级部门：不能是该部门本身或其下级部门"}},
			{name: "admin sets a department manager", actor: "admin", method: "POST", path: "/admin/departments/" + id(o.west.ID),
				body: url.Values{"name": {"West"}, "parent_id": {id(o.hq.ID)}, "manager_id": {id(o.rep3.UserID)}}, wantStatus: 303},
			{name: "role change asks for a fresh second factor, keeping the form", actor: "admin", method: "POST", path: "/admin/roles/" + id(o.roles["sales"].ID),
				body: roleEdit, wantStatus: 403,
				wantContains: []string{"使用第二因素确认", `name="step_up_code"`, `action="/admin/roles/` + id(o.roles["sales"].ID) + `"`,
					`name="scope.customer" value="department"`, `name="edit.customer" value="on"`},
				check: salesUnchanged},
			{name: "a wrong second-factor code changes nothing", actor: "admin", method: "POST", path: "/admin/roles/" + id(o.roles["sales"].ID),
				body: withStepUp(roleEdit, "000000"), wantStatus: 422,
				wantContains: []string{"验证码错误或已被使用", `name="scope.customer" value="department"`}, check: salesUnchanged},
			{name: "admin edits a role", actor: "admin", method: "POST", path: "/admin/roles/" + id(o.roles["sales"].ID),
				body:       withStepUp(roleEdit, adminMFA.Recovery[0]),
				wantStatus: 303, wantLocation: "/admin/roles",
				check: func(t *testing.T) {
					a := testorg.Actor(t, o.svc, o.rep1.UserID)
					if g := a.Role.Grant(crm.ObjCustomer); g.Scope != crm.ScopeDepartment || g.Delete || !g.Edit {
						t.Errorf("sales grant after edit: %+v", g)
					}
				}},
			{name: "admin creates a role", actor: "admin", method: "POST", path: "/admin/roles",
				body: url.Values{"key": {"reviewer"}, "name": {"复核员"}, "read.customer": {"on"}, "scope.customer": {"all"}}, wantStatus: 303, wantLocation: "/admin/roles"},
			{name: "roles list the new role", actor: "admin", method: "GET", path: "/admin/roles", wantStatus: 200, wantContains: []string{"复核员", "reviewer", "全部"}},
			{name: "admin edits and disables a user", actor: "admin", method: "POST", path: "/admin/users/" + id(o.mgrEast.UserID),
				body:       url.Values{"display_name": {"东区经理"}, "email": {"boss@example.com"}, "department_id": {id(o.east.ID)}, "role_id": {id(o.roles["manager"].ID)}, "disabled": {"on"}},
				wantStatus: 303, wantLocation: "/admin/users",
				check: func(t *testing.T) {
					if _, err := o.svc.UserActor(ctx, o.mgrEast.UserID); err == nil {
						t.Error("disabled user still acts")
					}
				}},
			{name: "user edit with bad e-mail keeps input", actor: "admin", method: "POST", path: "/admin/users/" + id(o.mgrEast.UserID),
				body:       url.Values{"display_name": {"东区经理"}, "email": {"not mail"}, "department_id": {id(o.east.ID)}, "role_id": {id(o.roles["manager"].ID)}},
				wantStatus: 422, wantContains: []string{"电子邮箱：格式不正确", `value="not mail"`}},
			{name: "admin sets a short password", actor: "admin", method: "POST", path: "/admin/users/" + id(o.mgrEast.UserID) + "/password",
				body: url.Values{"password": {"short"}}, wantStatus: 422, wantContains: []string{"密码：过短"}},
			{name: "admin sets a password", actor: "admin", method: "POST", path: "/admin/users/" + id(o.mgrEast.UserID) + "/password",
				body: url.Values{"password": {"a brand new password"}}, wantStatus: 303},
			{name: "role with a bad scope", actor: "admin", method: "POST", path: "/admin/roles",
				body: url.Values{"key": {"x"}, "name": {""}, "scope.customer": {"galaxy"}}, wantStatus: 422,
				wantContains: []string{"名称：必填", "数据范围：必须是以下之一"}, wantNotContains: []string{"field.", "grants."}},

			// Account.
			{name: "language setting", actor: "rep3", method: "POST", path: "/account/language", body: url.Values{"lang": {"en"}}, wantStatus: 303},
			{name: "pages follow the language setting", actor: "rep3", method: "GET", path: "/", header: map[string]string{"Accept-Language": "zh-CN"},
				wantStatus: 200, wantContains: []string{"User rep3", "Pool", "My customers"}, wantNotContains: []string{"我的客户", "今日"}},
			{name: "create API token shows the secret once", actor: "rep3", method: "POST", path: "/account/tokens",
				body:       url.Values{"name": {"ci"}, "scopes": {"customer:write"}, "allowed_ips": {"203.0.113.0/24, 2001:db8::1"}},
				wantStatus: 200, wantContains: []string{`value="cst_`, "will not be shown again"}},
			{name: "a token needs a scope", actor: "rep3", method: "POST", path: "/account/tokens",
				body: url.Values{"name": {"none"}}, wantStatus: 422, wantContains: []string{"Scopes: is required", `value="none"`}},
			{name: "a token cannot exceed the role", actor: "rep3", method: "POST", path: "/account/tokens",
				body:       url.Values{"name": {"root"}, "scopes": {"customer:read", "admin"}},
				wantStatus: 422, wantContains: []string{"Scopes: goes beyond what your role allows: admin", `value="root"`}},
			{name: "a bad allow-list entry is named", actor: "rep3", method: "POST", path: "/account/tokens",
				body:       url.Values{"name": {"net"}, "scopes": {"customer:read"}, "allowed_ips": {"10.0.0.0/8 office"}},
				wantStatus: 422, wantContains: []string{"Allowed IP addresses: is not an IP address or CIDR range: office", "10.0.0.0/8 office"}},
			{name: "account lists the token without its secret", actor: "rep3", method: "GET", path: "/account", wantStatus: 200,
				wantContains:    []string{"ci", "Revoke", "Customers · read and write", "203.0.113.0/24, 2001:db8::1/128"},
				wantNotContains: []string{`value="cst_`, `value="admin"`}},
			{name: "others cannot revoke a token", actor: "rep1", method: "POST", path: "/account/tokens/" + id(token.ID) + "/revoke", wantStatus: 404},
			{name: "revoke a token", actor: "rep3", method: "POST", path: "/account/tokens/" + id(token.ID) + "/revoke", wantStatus: 303, wantLocation: "/account",
				check: func(t *testing.T) {
					if _, err := o.svc.AuthenticateToken(ctx, token.Secret, service.Client{}); err == nil {
						t.Error("revoked token still works")
					}
				}},
			{name: "token with a past expiry", actor: "rep3", method: "POST", path: "/account/tokens",
				body: url.Values{"name": {"old"}, "expires_at": {"2001-01-01"}}, wantStatus: 422, wantContains: []string{"Expires: must be in the future", `value="old"`}},
		})

		// Every page renders, for an administrator, in both languages.
		var users []string
		dir, _ := o.svc.Directory(ctx, o.admin)
		for _, u := range dir.Users {
			users = append(users, id(u.ID))
		}
		pages := []string{"/", "/customers", "/customers?sort=next_follow_up", "/customers/new", "/customers/" + id(c1.ID), "/customers/" + id(c3.ID) + "/edit",
			"/customers/" + id(pool1.ID), "/pool", "/recycle-bin", "/account", "/account/password", "/admin/users", "/admin/users/" + users[0],
			"/admin/departments", "/admin/departments/" + id(o.hq.ID), "/admin/departments/" + id(o.east1.ID), "/admin/roles", "/admin/roles/new",
			"/admin/roles/" + id(o.roles["manager"].ID), "/account/mfa", "/step-up?next=%2Fadmin%2Froles",
			"/admin/users/" + id(o.rep1.UserID) + "/security"}
		var cases []scenario
		for _, lang := range []string{"zh-CN", "en"} {
			for _, p := range pages {
				cases = append(cases, scenario{name: lang + " " + p, actor: "admin", method: "GET", path: p,
					header: map[string]string{"Accept-Language": lang}, wantStatus: 200,
					wantContains: []string{"</html>", `hx-headers="{&#34;X-CSRF-Token&#34;:`},
					wantNotContains: []string{"field.", "rule.", "enum.", "mfa.", "session.", "stepup.", "security.", "token.",
						"ZgotmplZ", `style="`, "<script>", "<style"}})
			}
		}
		runScenarios(t, s, browsers, cases)

		// Sign out ends the session.
		runScenarios(t, s, browsers, []scenario{
			{name: "sign out", actor: "rep2", method: "POST", path: "/logout", wantStatus: 303, wantLocation: "/login"},
			{name: "signed out after sign out", actor: "rep2", method: "GET", path: "/customers", wantStatus: 303, wantLocation: "/login"},
		})
	})
}

func ptr[T any](v T) *T { return &v }

// TestPaging follows the "next page" link through a list longer than a page.
func TestPaging(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		for i := range 23 {
			mustCreateCustomer(t, o.svc, o.rep2, crm.CustomerFields{Name: fmt.Sprintf("分页测试%02d有限公司", i), Level: "B"})
		}
		b := s.signIn("rep2", testPassword)
		next := regexp.MustCompile(`href="(/customers\?[^"]*cursor=[^"]+)"`)
		rec := s.do(b, "GET", "/customers?sort=name&level=B", nil, nil)
		body := rec.Body.String()
		if rec.Code != 200 || !strings.Contains(body, "共 23 条") || !strings.Contains(body, "分页测试00") || strings.Contains(body, "分页测试20") {
			t.Fatalf("first page: %d\n%s", rec.Code, excerpt(body))
		}
		m := next.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no next-page link\n%s", excerpt(body))
		}
		link := strings.ReplaceAll(m[1], "&amp;", "&")
		if !strings.Contains(link, "sort=name") || !strings.Contains(link, "level=B") {
			t.Errorf("next link %q loses the filter", link)
		}
		rec = s.do(b, "GET", link, nil, map[string]string{"HX-Request": "true", "HX-Target": "results"})
		body = rec.Body.String()
		if rec.Code != 200 || !strings.Contains(body, "分页测试22") || strings.Contains(body, "分页测试00") || next.MatchString(body) {
			t.Fatalf("second page: %d\n%s", rec.Code, excerpt(body))
		}
		if !strings.Contains(body, "第一页") {
			t.Error("second page has no link back to the first")
		}
		rec = s.do(b, "GET", "/customers?cursor=garbage", nil, nil)
		if rec.Code != 422 {
			t.Errorf("bad cursor: status %d, want 422", rec.Code)
		}
	})
}

// TestPagingBack follows "next page" twice and "previous page" once: the
// cursors of the pages before travel in the link.
func TestPagingBack(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		for i := range 45 {
			mustCreateCustomer(t, o.svc, o.rep2, crm.CustomerFields{Name: fmt.Sprintf("翻页测试%02d有限公司", i)})
		}
		b := s.signIn("rep2", testPassword)
		link := func(body, label string) string {
			m := regexp.MustCompile(`<a class="btn" href="([^"]+)"[^>]*>` + regexp.QuoteMeta(label) + `</a>`).FindStringSubmatch(body)
			if m == nil {
				return ""
			}
			return strings.ReplaceAll(m[1], "&amp;", "&")
		}
		get := func(path string) string {
			rec := s.do(b, "GET", path, nil, nil)
			if rec.Code != 200 {
				t.Fatalf("%s: status %d", path, rec.Code)
			}
			return rec.Body.String()
		}
		page1 := get("/customers?sort=name")
		page2 := get(link(page1, "下一页 »"))
		if link(page2, "‹ 上一页") != "" || link(page2, "« 第一页") == "" {
			t.Error("page 2 should offer the first page, not a separate previous page")
		}
		page3 := get(link(page2, "下一页 »"))
		if !strings.Contains(page3, "翻页测试44") || strings.Contains(page3, "翻页测试20") {
			t.Fatalf("page 3:\n%s", excerpt(page3))
		}
		prev := link(page3, "‹ 上一页")
		if !strings.Contains(prev, "sort=name") {
			t.Fatalf("previous link %q loses the sort", prev)
		}
		back := get(prev)
		for _, want := range []string{"翻页测试20", "翻页测试39"} {
			if !strings.Contains(back, want) || strings.Contains(back, "翻页测试19") {
				t.Errorf("back on page 2: no %s\n%s", want, excerpt(back))
			}
		}
		if next := link(back, "下一页 »"); next == "" || get(next) == "" {
			t.Error("page 2 reached backwards has no next link")
		}
	})
}
