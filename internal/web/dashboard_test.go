package web

import (
	"context"
	"fmt"
	"html"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestDashboard is the dashboard page for each kind of scope: a rep sees
// their own reports and nobody else's figures, a manager adds the team's
// reports within the subtree, an administrator everyone's plus adoption;
// hidden amounts show as "—"; a bad filter names its field in zh-CN and
// English; the navigation shows the page only with the reports permission;
// figures with a drill-down link to the web list.
func TestDashboard(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testorg.NewClock()
		o := newOrgWithClock(t, db, clock)
		to := o.t
		now := time.Now().Truncate(time.Second)
		clock.Set(now.AddDate(0, 0, -5))

		// A sales role that may not see amounts, and an auditor (no reports).
		blind := o.roles["sales"]
		blind.ID, blind.Key, blind.Name = 0, "sales_blind", "Sales without amounts"
		grants := map[crm.Object]crm.ObjectGrant{}
		for k, g := range blind.Grants {
			grants[k] = g
		}
		g := grants[crm.ObjOpportunity]
		g.Fields = map[string]crm.FieldAccess{"amount": crm.FieldHidden}
		grants[crm.ObjOpportunity] = g
		blind.Grants = grants
		// Another administrator changes roles (with a fresh second factor),
		// so "admin" signs in to the web as a new administrator does.
		admin2 := to.User(t, "admin2", o.hq.ID, "admin")
		to.StepUp(t, admin2)
		blind, err := o.svc.SaveRole(ctx, admin2, blind)
		noErr(t, err)
		to.Roles[blind.Key] = blind
		rep4 := to.User(t, "rep4", o.east1.ID, blind.Key)
		to.User(t, "aud", o.hq.ID, "auditor")

		stages, err := o.svc.Stages(ctx, o.rep1)
		noErr(t, err)
		stage := func(kind string) crm.Stage {
			for _, s := range stages {
				if s.Kind == kind {
					return s
				}
			}
			t.Fatalf("no %s stage", kind)
			return crm.Stage{}
		}
		first, won, lost := stage(crm.StageOpen), stage(crm.StageWon), stage(crm.StageLost)
		opp := func(a *access.Actor, c crm.Customer, name string, amount int64, cur string) crm.Opportunity {
			x, err := o.svc.CreateOpportunity(ctx, a, crm.OpportunityFields{CustomerID: c.ID, Name: name, Amount: amount, Currency: cur})
			noErr(t, err)
			return x
		}
		move := func(a *access.Actor, x crm.Opportunity, to crm.Stage, reason string) {
			_, err := o.svc.MoveOpportunity(ctx, a, x.ID, crm.StageMove{Version: x.Version, StageID: to.ID, LostReason: reason})
			noErr(t, err)
		}
		c1 := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "甲客户", Level: "A"})
		c2 := mustCreateCustomer(t, o.svc, o.rep2, crm.CustomerFields{Name: "乙客户", Level: "B"})
		c3 := mustCreateCustomer(t, o.svc, o.rep3, crm.CustomerFields{Name: "丙客户"})
		c4 := mustCreateCustomer(t, o.svc, rep4, crm.CustomerFields{Name: "丁客户"})
		opp(o.rep1, c1, "甲商机", 1_000_00, "CNY")
		opp(o.rep1, c1, "甲美元", 3_000_00, "USD")
		clock.Set(now.AddDate(0, 0, -4))
		move(o.rep1, opp(o.rep1, c1, "甲赢单", 5_000_00, "CNY"), won, "")
		opp(o.rep2, c2, "乙进行中", 2_222_00, "CNY")
		move(o.rep2, opp(o.rep2, c2, "乙输单", 7_777_00, "CNY"), lost, "乙的原因")
		opp(o.rep3, c3, "丙商机", 9_999_00, "USD")
		// rep4 may not type an amount; their manager adds the deal to their customer.
		opp(o.mgrEast, c4, "丁商机", 4_444_00, "CNY")
		_, err = o.svc.CreateFollowUp(ctx, o.rep1, crm.FollowUpInput{Kind: "call", Content: "电话", CustomerID: c1.ID})
		noErr(t, err)
		clock.Set(now)

		s := newSite(t, o.svc)
		browsers := map[string]*browser{"rep1": s.signIn("rep1", testPassword), "mgr": s.signIn("mgr.east", testPassword),
			"rep4": s.signIn("rep4", testPassword), "aud": s.signIn("aud", testPassword), "admin": signInAdmin(t, s, o)}
		id := func(v int64) string { return fmt.Sprint(v) }
		// A rep's figures count their own records: so do their lists.
		stageLink := `href="/opportunities?owner_id=` + id(o.rep1.UserID) + `&amp;stage_kind=open&amp;stage_id=` + id(first.ID) + `"`
		repSections := []string{`id="funnel"`, `id="pipeline"`, `id="forecast"`, `id="trends"`, `id="activity"`,
			`id="chart-funnel"`, `<script type="application/json" id="chart-funnel-data">{"kind":"funnel"`, `id="chart-trends"`,
			"/static/vendor/echarts-5.6.0.", "/static/dashboard."}
		teamSections := []string{`id="win-rate"`, `id="cycle"`, `id="leaderboard"`, `id="pool"`, `id="chart-leaderboard"`, `id="chart-lost-reasons"`}
		en := map[string]string{"Accept-Language": "en"}
		cases := []scenario{
			{name: "a rep's dashboard", actor: "rep1", method: "GET", path: "/dashboard", wantStatus: 200,
				wantContains: append([]string{"数据看板", "销售漏斗", "商机管道", "业绩预测", "我的活动", "User rep1",
					"¥1,000.00", "¥100.00", "USD 3,000.00", `id="chart-pipeline-cny"`, `id="chart-pipeline-usd"`, stageLink,
					`<a href="/dashboard" aria-current="page">`}, repSections...),
				wantNotContains: append([]string{"User rep2", "¥2,222.00", "¥7,777.00", "乙的原因", "USD 9,999.00", "4,444.00",
					`name="owner_id"`, `name="department_id"`, `id="adoption"`, "ZgotmplZ", `style="`,
					"/export?" /* a rep has no export right */}, teamSections...)},
			{name: "the reports path answers the same page", actor: "rep1", method: "GET", path: "/reports", wantStatus: 200,
				wantContains: []string{`id="funnel"`, "¥1,000.00"}},
			{name: "a rep filtering by a colleague sees nothing of theirs", actor: "rep1", method: "GET", path: "/dashboard?owner_id=" + id(o.rep2.UserID),
				wantStatus: 200, wantNotContains: []string{"¥2,222.00", "User rep2", "¥1,000.00"}},
			{name: "a rep's dashboard in English", actor: "rep1", method: "GET", path: "/dashboard", header: en, wantStatus: 200,
				wantContains: []string{"Dashboard", "Funnel", "Pipeline", "Forecast", "Trends", "My activity", "CNY 1,000.00"}},
			{name: "a manager's dashboard", actor: "mgr", method: "GET", path: "/dashboard", wantStatus: 200,
				// The first stage: rep1's 1,000, rep2's 2,222 and the 4,444 on rep4's customer.
				wantContains: append(append([]string{"User rep1", "User rep2", "¥7,666.00", "¥5,000.00", "乙的原因", "龙虎榜",
					`name="owner_id"`, `name="department_id"`,
					// A manager may export: each report's file, with the filters as applied.
					`href="/api/v1/reports/pipeline/export?format=csv&amp;from=`, `href="/api/v1/reports/leaderboard/export?format=xlsx&amp;from=`},
					repSections...), teamSections...),
				wantNotContains: []string{"User rep3", "USD 9,999.00", "丙", `id="adoption"`, `id="chart-leaderboard-depts"`}},
			{name: "a manager's dashboard for one rep keeps the drill-down to that rep", actor: "mgr", method: "GET",
				path: "/dashboard?owner_id=" + id(o.rep1.UserID), wantStatus: 200,
				wantContains:    []string{`href="/opportunities?owner_id=` + id(o.rep1.UserID) + `&amp;stage_kind=open&amp;stage_id=` + id(first.ID) + `"`, "¥1,000.00"},
				wantNotContains: []string{"¥2,222.00"}},
			{name: "a department's figures drill down to the department's lists", actor: "mgr", method: "GET",
				path: "/dashboard?department_id=" + id(o.east1.ID), wantStatus: 200,
				// East-1 owns rep1's 1,000 and rep2's 2,222 (the manager owns the 4,444 they added).
				wantContains: []string{"¥3,222.00", `href="/opportunities?department_id=` + id(o.east1.ID)}},
			{name: "an administrator's dashboard", actor: "admin", method: "GET", path: "/dashboard", wantStatus: 200,
				wantContains: append([]string{`id="adoption"`, `id="chart-adoption"`, `id="chart-leaderboard-depts"`, "User rep3", "USD 12,999.00",
					"User aud", "本期间未登录"}, teamSections...)},
			{name: "hidden amounts are shown as a dash", actor: "rep4", method: "GET", path: "/dashboard", wantStatus: 200,
				wantContains:    []string{"您的角色无权查看金额", `<td class="num">—</td>`, `id="chart-pipeline"`},
				wantNotContains: []string{"4,444", "444400", "4444", `id="chart-pipeline-cny"`}},
			{name: "a bad filter names its fields", actor: "mgr", method: "GET", path: "/dashboard?from=2026-13-01&currency=RMBX&owner_id=abc&interval=day",
				wantStatus: 422,
				wantContains: []string{"开始日期：必须是日期，如 2026-01-31", "币种：必须是三位 ISO 4217 币种代码，如 CNY", "必须是数字",
					"必须是以下之一", `aria-invalid="true"`, `value="2026-13-01"`, `value="RMBX"`},
				wantNotContains: []string{`id="funnel"`, `id="chart-`}},
			{name: "a bad filter in English", actor: "mgr", method: "GET", path: "/dashboard?from=2026-03-10&to=2026-03-01", header: en,
				wantStatus: 422, wantContains: []string{"Period end: cannot be before the start date"}},
			{name: "a department that does not exist", actor: "mgr", method: "GET", path: "/dashboard?department_id=999999", header: en,
				wantStatus: 422, wantContains: []string{"Department: does not exist"}},
			{name: "the navigation offers the dashboard with the reports permission", actor: "rep1", method: "GET", path: "/", wantStatus: 200,
				wantContains: []string{`<a href="/dashboard">数据看板</a>`}},
			{name: "and not without it", actor: "aud", method: "GET", path: "/audit", wantStatus: 200,
				wantNotContains: []string{`href="/dashboard"`}},
			{name: "the dashboard is refused without the reports permission", actor: "aud", method: "GET", path: "/dashboard", wantStatus: 403,
				wantNotContains: []string{`id="funnel"`}},
		}
		runScenarios(t, s, browsers, cases)
		// The page's figures are the service's: no drill-down link leaves
		// the web surface, and every one is a list path.
		rec := s.do(browsers["mgr"], "GET", "/dashboard", nil, nil)
		// The report files are the only API links: the export control
		// lives on that route.
		if strings.Contains(strings.ReplaceAll(rec.Body.String(), `href="/api/v1/reports/`, ""), `href="/api/`) {
			t.Error("a drill-down links to the API instead of the web list")
		}
		// A report's file link carries the filters as applied (the API
		// route behind it, served beside the web, is tested with the API).
		file := regexp.MustCompile(`href="(/api/v1/reports/pipeline/export\?format=csv[^"]*)"`).FindStringSubmatch(rec.Body.String())
		if file == nil || !strings.Contains(html.UnescapeString(file[1]), "&from=") || !strings.Contains(file[1], "to=") {
			t.Errorf("the pipeline file link: %v", file)
		}
	})
}

// TestDashboardDrills renders the page with every drill-down field of every
// report filled (found by name, Drill or …Drill, so a field added to a
// report later is covered too) and finds each as a link to the web list;
// a figure without one is plain text, and a drill-down that is not an API
// list path links nowhere.
func TestDashboardDrills(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		v := DashboardView{Page: Page{Lang: "en", Nav: "dashboard"}, Team: true, Everyone: true, AmountsShown: true,
			Funnel: &service.FunnelReport{}, Pipeline: &service.PipelineReport{}, Forecast: &service.ForecastReport{},
			Trends: &service.TrendsReport{}, Activity: &service.AdoptionReport{}, WinRate: &service.WinRateReport{},
			Cycle: &service.CycleReport{}, Leaderboard: &service.LeaderboardReport{}, Pool: &service.PoolReport{}}
		var fields []string
		page := reflect.ValueOf(&v).Elem()
		for i := range page.NumField() {
			if f := page.Type().Field(i); f.Type.Kind() == reflect.Pointer && f.Type.Elem().PkgPath() == "custos/internal/service" {
				fill(page.Field(i), f.Name, &fields)
			}
		}
		if len(fields) < 40 {
			t.Fatalf("only %d drill-down fields found: %v", len(fields), fields)
		}
		var buf strings.Builder
		if err := s.srv.pages["dashboard"].ExecuteTemplate(&buf, "content", v); err != nil {
			t.Fatal(err)
		}
		body := buf.String()
		for i, f := range fields {
			if !strings.Contains(body, fmt.Sprintf(`href="/opportunities?drill=%d"`, i)) {
				t.Errorf("%s is not a link to its web list", f)
			}
		}
		if strings.Contains(body, `href="/api/`) {
			t.Error("a drill-down links to the API")
		}
		p := Page{Lang: "en"}
		for _, tc := range []struct {
			drill string
			want  Fig
		}{
			{"/api/v1/customers?owner_id=5&pool=entered", Fig{Text: "3", URL: "/customers?owner_id=5&pool=entered"}},
			{"", Fig{Text: "3"}},
			{"https://example.com/api/v1/customers", Fig{Text: "3"}},
			{"/customers", Fig{Text: "3"}},
		} {
			if got := p.Fig(int64(3), tc.drill); got != tc.want {
				t.Errorf("Fig(3, %q) = %+v, want %+v", tc.drill, got, tc.want)
			}
		}
	})
}

// fill sets every drill-down string below v to a numbered API list path,
// giving empty slices one element and nil pointers a value, and records
// each field's path in fields by its number.
func fill(v reflect.Value, path string, fields *[]string) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fill(v.Elem(), path, fields)
	case reflect.Slice:
		if v.Len() == 0 {
			v.Set(reflect.Append(v, reflect.Zero(v.Type().Elem())))
		}
		for i := range v.Len() {
			fill(v.Index(i), fmt.Sprintf("%s[%d]", path, i), fields)
		}
	case reflect.Struct:
		if pkg := v.Type().PkgPath(); pkg != "custos/internal/service" && pkg != "custos/internal/crm" {
			return // time.Time and the like
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			if f.Type.Kind() == reflect.String && strings.HasSuffix(f.Name, "Drill") {
				v.Field(i).SetString(fmt.Sprintf("/api/v1/opportunities?drill=%d", len(*fields)))
				*fields = append(*fields, path+"."+f.Name)
				continue
			}
			fill(v.Field(i), path+"."+f.Name, fields)
		}
	}
}
