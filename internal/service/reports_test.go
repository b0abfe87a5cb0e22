package service_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/i18n"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// reportWorld is the hand-counted fixture of the report tests, all in
// March 2026 (UTC clock):
//
//	Rep1 (East-1) on 华东精密 (level A):
//	  o1 10,000,000 CNY stays at 初步接洽 (10%)
//	  o8    100,000 USD stays at 初步接洽 (10%)
//	  o2 20,000,000 CNY moved to 方案报价 (50%)
//	  o3  5,000,000 USD 初步接洽 → 需求分析 (day 2) → 赢单 (day 5)
//	  o4  3,000,000 CNY lost (day 1), reason 价格
//	Rep2 (East-1) on 东海贸易 (level B):
//	  o5 40,000,000 CNY moved to 商务谈判 (70%)
//	Rep3 (West) on 西部物流 (level B):
//	  o6 100,000,000 CNY stays at 初步接洽
//	  o7  50,000,000 CNY won on day 1
//
// Rep1 releases 华东仓储 to the pool on day 3, Rep2 claims it on day 4.
type reportWorld struct {
	o      *testorg.Org
	stages []crm.Stage
	march  crm.ReportFilter
}

func newReportWorld(t *testing.T, db *store.DB) *reportWorld {
	t.Helper()
	ctx := context.Background()
	clock := testorg.NewClock()
	day0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock.Set(day0)
	o := testorg.NewWithClock(t, db, clock)
	w := &reportWorld{o: o, march: crm.ReportFilter{From: "2026-03-01", To: "2026-03-31"}}
	var err error
	if w.stages, err = o.Svc.Stages(ctx, o.Admin); err != nil {
		t.Fatal(err)
	}
	st := func(name string) int64 {
		for _, s := range w.stages {
			if s.Name == name {
				return s.ID
			}
		}
		t.Fatalf("no stage %s", name)
		return 0
	}
	c1 := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "华东精密", Level: "A"})
	c1b := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "华东仓储", Level: "A"})
	c2 := o.Customer(t, o.Rep2, crm.CustomerFields{Name: "东海贸易", Level: "B"})
	c3 := o.Customer(t, o.Rep3, crm.CustomerFields{Name: "西部物流", Level: "B"})
	opp := func(a *access.Actor, c crm.Customer, name string, amount int64, cur string) crm.Opportunity {
		t.Helper()
		x, err := o.Svc.CreateOpportunity(ctx, a, crm.OpportunityFields{CustomerID: c.ID, Name: name, Amount: amount, Currency: cur, ExpectedCloseDate: "2026-03-20"})
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	move := func(a *access.Actor, x crm.Opportunity, stage, reason string) crm.Opportunity {
		t.Helper()
		y, err := o.Svc.MoveOpportunity(ctx, a, x.ID, crm.StageMove{Version: x.Version, StageID: st(stage), LostReason: reason})
		if err != nil {
			t.Fatalf("move %s to %s: %v", x.Name, stage, err)
		}
		return y
	}
	opp(o.Rep1, c1, "o1", 10_000_000, "CNY")
	opp(o.Rep1, c1, "o8", 100_000, "USD")
	o2 := opp(o.Rep1, c1, "o2", 20_000_000, "CNY")
	o3 := opp(o.Rep1, c1, "o3", 5_000_000, "USD")
	o4 := opp(o.Rep1, c1, "o4", 3_000_000, "CNY")
	o5 := opp(o.Rep2, c2, "o5", 40_000_000, "CNY")
	opp(o.Rep3, c3, "o6", 100_000_000, "CNY")
	o7 := opp(o.Rep3, c3, "o7", 50_000_000, "CNY")
	move(o.Rep1, o2, "方案报价", "")
	move(o.Rep2, o5, "商务谈判", "")
	if _, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "call", Content: "报价沟通", CustomerID: c1.ID}); err != nil {
		t.Fatal(err)
	}
	clock.Set(day0.Add(24 * time.Hour))
	move(o.Rep1, o4, "输单", "价格")
	move(o.Rep3, o7, "赢单", "")
	clock.Set(day0.Add(2 * 24 * time.Hour))
	o3 = move(o.Rep1, o3, "需求分析", "")
	clock.Set(day0.Add(3 * 24 * time.Hour))
	if err := o.Svc.ReleaseCustomer(ctx, o.Rep1, c1b.ID); err != nil {
		t.Fatal(err)
	}
	clock.Set(day0.Add(4 * 24 * time.Hour))
	if err := o.Svc.ClaimCustomer(ctx, o.Rep2, c1b.ID); err != nil {
		t.Fatal(err)
	}
	clock.Set(day0.Add(5 * 24 * time.Hour))
	move(o.Rep1, o3, "赢单", "")
	if _, err := o.Svc.Login(ctx, "rep1", testorg.Password, service.Client{IP: "198.51.100.9"}); err != nil {
		t.Fatal(err)
	}
	return w
}

func reached(r service.FunnelReport) []int64 {
	var out []int64
	for _, s := range r.Steps {
		out = append(out, s.Reached)
	}
	return out
}

func TestReportFunnelScope(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newReportWorld(t, db)
		o := w.o
		for _, tc := range []struct {
			name          string
			a             *access.Actor
			f             crm.ReportFilter
			cohort, lost  int64
			reach         []int64 // 初步接洽, 需求分析, 方案报价, 商务谈判, 赢单
			conversionWon float64
		}{
			{"rep1 counts only their own", o.Rep1, w.march, 5, 1, []int64{5, 2, 2, 1, 1}, 1},
			{"rep2 never counts rep1's", o.Rep2, w.march, 1, 0, []int64{1, 1, 1, 1, 0}, 0},
			{"manager East: the subtree only", o.MgrEast, w.march, 6, 1, []int64{6, 3, 3, 2, 1}, 0.5},
			{"administrator: all", o.Admin, w.march, 8, 1, []int64{8, 4, 4, 3, 2}, 2.0 / 3},
			{"administrator, department West", o.Admin, crm.ReportFilter{From: "2026-03-01", To: "2026-03-31", DepartmentID: o.West.ID}, 2, 0, []int64{2, 1, 1, 1, 1}, 1},
			{"administrator, rep2", o.Admin, crm.ReportFilter{From: "2026-03-01", To: "2026-03-31", OwnerID: o.Rep2.UserID}, 1, 0, []int64{1, 1, 1, 1, 0}, 0},
			{"administrator, level A customers", o.Admin, crm.ReportFilter{From: "2026-03-01", To: "2026-03-31", Level: "A"}, 5, 1, []int64{5, 2, 2, 1, 1}, 1},
			{"administrator, USD only", o.Admin, crm.ReportFilter{From: "2026-03-01", To: "2026-03-31", Currency: "USD"}, 2, 0, []int64{2, 1, 1, 1, 1}, 1},
			{"a period before the cohort", o.Admin, crm.ReportFilter{From: "2026-02-01", To: "2026-02-28"}, 0, 0, []int64{0, 0, 0, 0, 0}, -1},
		} {
			r, err := o.Svc.FunnelReport(ctx, tc.a, tc.f)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if r.Cohort != tc.cohort || r.Lost != tc.lost || !slices.Equal(reached(r), tc.reach) {
				t.Errorf("%s: cohort %d lost %d reached %v, want %d %d %v", tc.name, r.Cohort, r.Lost, reached(r), tc.cohort, tc.lost, tc.reach)
			}
			last := r.Steps[len(r.Steps)-1]
			if tc.conversionWon >= 0 && (last.Conversion == nil || *last.Conversion != tc.conversionWon) {
				t.Errorf("%s: conversion to won %v, want %v", tc.name, last.Conversion, tc.conversionWon)
			}
		}
	})
}

func money(t *testing.T, sums []service.MoneySum, cur string) service.MoneySum {
	t.Helper()
	for _, m := range sums {
		if m.Currency == cur {
			return m
		}
	}
	return service.MoneySum{Currency: cur}
}

func amount(m service.MoneySum) int64 {
	if m.Amount == nil {
		return -1
	}
	return *m.Amount
}

func TestReportPipelineAmountsAndCurrencies(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newReportWorld(t, db)
		o := w.o
		p, err := o.Svc.PipelineReport(ctx, o.Admin, crm.ReportFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Stages) != 4 || !p.AmountsShown {
			t.Fatalf("open stages: %+v", p)
		}
		first := p.Stages[0] // 初步接洽: o1, o8 (USD), o6
		cny, usd := money(t, first.Sums, "CNY"), money(t, first.Sums, "USD")
		if cny.Count != 2 || amount(cny) != 110_000_000 || *cny.Weighted != 11_000_000 || usd.Count != 1 || amount(usd) != 100_000 || *usd.Weighted != 10_000 {
			t.Errorf("初步接洽 sums: %+v", first.Sums)
		}
		if first.Drill != "/api/v1/opportunities?stage_kind=open&stage_id="+itoa(first.StageID) {
			t.Errorf("drill %q", first.Drill)
		}
		neg := money(t, p.Stages[3].Sums, "CNY") // 商务谈判: o5 at 70%
		if neg.Count != 1 || amount(neg) != 40_000_000 || *neg.Weighted != 28_000_000 {
			t.Errorf("商务谈判: %+v", p.Stages[3].Sums)
		}
		// Rep1 sees their own: 初步接洽 o1 and o8, 方案报价 o2.
		p, err = o.Svc.PipelineReport(ctx, o.Rep1, crm.ReportFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if c := money(t, p.Stages[0].Sums, "CNY"); c.Count != 1 || amount(c) != 10_000_000 {
			t.Errorf("rep1 初步接洽: %+v", p.Stages[0].Sums)
		}
		if c := money(t, p.Stages[2].Sums, "CNY"); c.Count != 1 || *c.Weighted != 10_000_000 {
			t.Errorf("rep1 方案报价: %+v", p.Stages[2].Sums)
		}
		if len(p.Stages[3].Sums) != 0 {
			t.Errorf("rep1 counts rep2's negotiation: %+v", p.Stages[3].Sums)
		}

		// A role that may not see amounts gets counts, never sums (not 0).
		for _, acc := range []crm.FieldAccess{crm.FieldHidden, crm.FieldMasked} {
			a := withFieldRule(t, o, o.Rep1, crm.ObjOpportunity, "amount", acc)
			p, err = o.Svc.PipelineReport(ctx, a, crm.ReportFilter{})
			if err != nil {
				t.Fatal(err)
			}
			c := money(t, p.Stages[0].Sums, "CNY")
			if p.AmountsShown || c.Count != 1 || c.Amount != nil || c.Weighted != nil {
				t.Errorf("%s amount: %+v", acc, p)
			}
			wr, err := o.Svc.WinRateReport(ctx, a, w.march)
			if err != nil || wr.Won != 1 || wr.Currencies[1].Won.Amount != nil || wr.Currencies[1].AmountRate != nil {
				t.Errorf("%s amount, win rate: %+v %v", acc, wr, err)
			}
		}
	})
}

// withFieldRule is a fresh actor of the user with one field rule changed
// in their role.
func withFieldRule(t *testing.T, o *testorg.Org, user *access.Actor, obj crm.Object, field string, acc crm.FieldAccess) *access.Actor {
	t.Helper()
	a := testorg.Actor(t, o.Svc, user.UserID)
	grants := map[crm.Object]crm.ObjectGrant{}
	for k, g := range a.Role.Grants {
		grants[k] = g
	}
	g := grants[obj]
	g.Fields = map[string]crm.FieldAccess{field: acc}
	grants[obj] = g
	a.Role.Grants = grants
	return a
}

func TestReportWinRateForecastCycle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newReportWorld(t, db)
		o := w.o
		wr, err := o.Svc.WinRateReport(ctx, o.Rep1, w.march)
		if err != nil {
			t.Fatal(err)
		}
		if wr.Won != 1 || wr.Lost != 1 || *wr.Rate != 0.5 || len(wr.Currencies) != 2 {
			t.Fatalf("rep1 win rate: %+v", wr)
		}
		cny, usd := wr.Currencies[0], wr.Currencies[1]
		if cny.Currency != "CNY" || amount(cny.Lost) != 3_000_000 || *cny.AmountRate != 0 || usd.Currency != "USD" || amount(usd.Won) != 5_000_000 || *usd.AmountRate != 1 {
			t.Errorf("per currency: %+v", wr.Currencies)
		}
		if len(wr.LostReasons) != 1 || wr.LostReasons[0].Reason != "价格" || wr.LostReasons[0].Count != 1 {
			t.Errorf("lost reasons: %+v", wr.LostReasons)
		}

		fc, err := o.Svc.ForecastReport(ctx, o.Admin, w.march)
		if err != nil {
			t.Fatal(err)
		}
		if len(fc.Months) != 1 || fc.Months[0].Month != "2026-03" {
			t.Fatalf("forecast months: %+v", fc.Months)
		}
		// Open CNY expected in March: o1 10% + o2 50% + o5 70% + o6 10%.
		open := money(t, fc.Months[0].Open, "CNY")
		if open.Count != 4 || amount(open) != 170_000_000 || *open.Weighted != 1_000_000+10_000_000+28_000_000+10_000_000 {
			t.Errorf("open CNY: %+v", open)
		}
		if won := money(t, fc.Months[0].Won, "CNY"); won.Count != 1 || amount(won) != 50_000_000 {
			t.Errorf("won CNY: %+v", fc.Months[0].Won)
		}
		if won := money(t, fc.Months[0].Won, "USD"); won.Count != 1 || amount(won) != 5_000_000 {
			t.Errorf("won USD: %+v", fc.Months[0].Won)
		}

		// Cycle: o3 took 5 days (2 in 初步接洽, 3 in 需求分析), o7 1 day.
		cy, err := o.Svc.CycleReport(ctx, o.Admin, w.march)
		if err != nil {
			t.Fatal(err)
		}
		if cy.Won != 2 || *cy.MeanDays != 3 || *cy.MedianDays != 3 {
			t.Fatalf("admin cycle: %+v", cy)
		}
		want := map[string][2]float64{"初步接洽": {2, 1.5}, "需求分析": {1, 3}}
		for _, s := range cy.Stages {
			if wv := want[s.Name]; float64(s.Stays) != wv[0] || s.MeanDays != wv[1] {
				t.Errorf("time in %s: %+v, want %v", s.Name, s, wv)
			}
		}
		cy, err = o.Svc.CycleReport(ctx, o.Rep1, w.march)
		if err != nil || cy.Won != 1 || *cy.MedianDays != 5 {
			t.Fatalf("rep1 cycle: %+v %v", cy, err)
		}
	})
}

func TestReportPeople(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newReportWorld(t, db)
		o := w.o
		lb, err := o.Svc.LeaderboardReport(ctx, o.Admin, w.march)
		if err != nil {
			t.Fatal(err)
		}
		if len(lb.Reps) != 3 || lb.Reps[0].UserID != o.Rep1.UserID || lb.Reps[1].UserID != o.Rep3.UserID {
			t.Fatalf("reps ranked: %+v", lb.Reps)
		}
		// New customers count for their current owner: 华东仓储 is Rep2's now.
		r1 := lb.Reps[0]
		if r1.NewCustomers != 1 || r1.FollowUps != 1 || amount(money(t, r1.Won, "USD")) != 5_000_000 || r1.DeptName != "East-1" {
			t.Errorf("rep1 row: %+v", r1)
		}
		if len(lb.Departments) != 2 || lb.Departments[0].DeptID != o.East1.ID || lb.Departments[0].NewCustomers != 3 {
			t.Errorf("departments: %+v", lb.Departments)
		}
		lb, err = o.Svc.LeaderboardReport(ctx, o.MgrWest, w.march)
		if err != nil || len(lb.Reps) != 1 || lb.Reps[0].UserID != o.Rep3.UserID {
			t.Fatalf("manager West leaderboard: %+v %v", lb.Reps, err)
		}

		tr, err := o.Svc.TrendsReport(ctx, o.MgrEast, crm.ReportFilter{From: "2026-03-01", To: "2026-03-14", Interval: "week", Baseline: "2026-02-28"})
		if err != nil {
			t.Fatal(err)
		}
		// 1 Mar is a Sunday: buckets 1 Mar, 2–8 Mar, 9–14 Mar.
		if len(tr.Buckets) != 3 || tr.Buckets[1].Customers != 3 || tr.Buckets[1].FollowUps != 1 || *tr.Buckets[1].Leads != 0 ||
			tr.Total.Customers != 3 || tr.Previous.Customers != 0 || tr.Baseline == nil || tr.Baseline.Customers != 0 {
			t.Errorf("trends: %+v", tr)
		}
		tr, err = o.Svc.TrendsReport(ctx, o.Admin, crm.ReportFilter{From: "2026-03-01", To: "2026-03-31", Level: "A"})
		if err != nil || len(tr.Buckets) != 1 || tr.Total.Customers != 2 || tr.Total.Leads != nil {
			t.Errorf("trends by level: %+v %v", tr, err)
		}

		act, err := o.Svc.AdoptionReport(ctx, o.MgrEast, w.march)
		if err != nil {
			t.Fatal(err)
		}
		byID := map[int64]service.ActivityRow{}
		for _, r := range act.Reps {
			byID[r.UserID] = r
		}
		if _, ok := byID[o.Rep3.UserID]; ok || len(act.Reps) != 3 {
			t.Errorf("manager East's people: %+v", act.Reps)
		}
		ra := byID[o.Rep1.UserID]
		if ra.SignIns != 1 || ra.FollowUps != 1 || ra.Created == 0 || ra.ActiveDays < 2 {
			t.Errorf("rep1 activity: %+v", ra)
		}
		notIn := map[int64]bool{}
		for _, u := range act.NotSignedIn {
			notIn[u.UserID] = true
		}
		if !notIn[o.Rep2.UserID] || notIn[o.Rep1.UserID] {
			t.Errorf("not signed in: %+v", act.NotSignedIn)
		}

		for _, tc := range []struct {
			a             *access.Actor
			entered, left int64
			claimsForRep2 int64
		}{{o.Admin, 1, 1, 1}, {o.Rep1, 1, 0, 0}, {o.Rep2, 0, 1, 1}, {o.MgrWest, 0, 0, 0}} {
			p, err := o.Svc.PoolReport(ctx, tc.a, w.march)
			if err != nil {
				t.Fatal(err)
			}
			var claims int64
			for _, c := range p.Claims {
				if c.UserID == o.Rep2.UserID {
					claims = c.Count
				}
			}
			if p.Entered != tc.entered || p.Left != tc.left || claims != tc.claimsForRep2 || p.InPool != 0 {
				t.Errorf("pool for %s: %+v", tc.a.Name, p)
			}
		}
	})
}

func TestReportFiltersAndPermission(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		for _, tc := range []struct {
			f           crm.ReportFilter
			field, rule string
			zh, en      string
		}{
			{crm.ReportFilter{From: "2026-13-01"}, "from", "date", "开始日期", "Period start"},
			{crm.ReportFilter{From: "2026-03-10", To: "2026-03-01"}, "to", "before_start", "结束日期", "Period end"},
			{crm.ReportFilter{From: "2020-01-01", To: "2026-03-01"}, "to", "range", "结束日期", "Period end"},
			{crm.ReportFilter{Interval: "day"}, "interval", "enum", "统计间隔", "Interval"},
			{crm.ReportFilter{Currency: "rmb"}, "currency", "currency", "币种", "Currency"},
			{crm.ReportFilter{Level: "Z"}, "level", "enum", "", ""},
			{crm.ReportFilter{IdleDays: -3}, "idle_days", "range", "未跟进天数", "Days without a follow-up"},
			{crm.ReportFilter{DepartmentID: 99999}, "department_id", "not_found", "部门", "Department"},
		} {
			_, err := o.Svc.FunnelReport(ctx, o.Rep1, tc.f)
			var ce *crm.Error
			if !errorsAs(err, &ce) || ce.Code != crm.Invalid || len(ce.Fields) != 1 || ce.Fields[0].Field != tc.field || ce.Fields[0].Rule != tc.rule {
				t.Errorf("%+v: %v", tc.f, err)
				continue
			}
			if zh, en := i18n.FieldMessage(i18n.ZH, ce.Fields[0]), i18n.FieldMessage(i18n.EN, ce.Fields[0]); !strings.Contains(zh, tc.zh) || !strings.Contains(en, tc.en) {
				t.Errorf("%s messages: %q / %q", tc.field, zh, en)
			}
		}
		// A customer field the role may not see cannot filter a report.
		a := withFieldRule(t, o, o.Rep1, crm.ObjCustomer, "level", crm.FieldHidden)
		_, err := o.Svc.FunnelReport(ctx, a, crm.ReportFilter{Level: "A"})
		var ce *crm.Error
		if !errorsAs(err, &ce) || ce.Fields[0].Field != "level" || ce.Fields[0].Rule != "not_visible" {
			t.Errorf("hidden level filter: %v", err)
		}
		// The auditor role has no reports; the refusal is audited.
		auditor := testorg.Actor(t, o.Svc, o.Rep1.UserID)
		auditor.Role = o.Roles["auditor"]
		_, err = o.Svc.PipelineReport(ctx, auditor, crm.ReportFilter{})
		wantCode(t, err, crm.Forbidden)
		// A report view is one audit event with the filters, no record data.
		if _, err := o.Svc.TrendsReport(ctx, o.Rep1, crm.ReportFilter{Interval: "week"}); err != nil {
			t.Fatal(err)
		}
		page, err := o.Svc.AuditTrail(ctx, o.Admin, service.AuditQuery{Action: "report.trends"})
		if err != nil || len(page.Items) != 1 || !strings.Contains(string(page.Items[0].Fields), `"interval":"week"`) {
			t.Fatalf("audit of the view: %+v %v", page, err)
		}
		page, err = o.Svc.AuditTrail(ctx, o.Admin, service.AuditQuery{Action: "report.pipeline"})
		if err != nil || len(page.Items) != 1 || page.Items[0].Outcome != "denied" {
			t.Fatalf("audit of the refusal: %+v %v", page, err)
		}
	})
}

// TestReportIndustryFilterStandardised: a customer's industry is saved
// standardised (制造 → 制造业), and a report filtered by the industry as
// a user types it counts that customer, its drill-down carrying the saved
// form.
func TestReportIndustryFilterStandardised(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		o.Customer(t, o.Rep1, crm.CustomerFields{Name: "苏州精工机械", Industry: "制造"})
		o.Customer(t, o.Rep1, crm.CustomerFields{Name: "杭州云软件", Industry: "软件"})
		for _, typed := range []string{"制造", "制造业"} {
			r, err := o.Svc.TrendsReport(ctx, o.Rep1, crm.ReportFilter{Industry: typed})
			if err != nil || r.Total.Customers != 1 || r.Filter.Industry != "制造业" {
				t.Errorf("industry %q: %d customers, filter %q, %v", typed, r.Total.Customers, r.Filter.Industry, err)
			}
			if !strings.Contains(r.Total.CustomersDrill, "industry=%E5%88%B6%E9%80%A0%E4%B8%9A") {
				t.Errorf("industry %q: drill %q", typed, r.Total.CustomersDrill)
			}
		}
	})
}

// TestReportCountsMatchRecords answers every report twice, from the report
// counts (migration 0047) and from the records, and wants the same answer:
// for readers of every scope, in zones ahead of and behind UTC (one with
// summer time, one whose offset is not whole hours: the records answer
// there), by month and by week, with team and currency filters, after
// hand-overs, deletions, restores and a colleague's follow-up on another's
// customer.
func TestReportCountsMatchRecords(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newReportWorld(t, db)
		o := w.o
		moved := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "南方电子", Level: "A"})
		if _, err := o.Svc.CreateFollowUp(ctx, o.Admin, crm.FollowUpInput{Kind: "visit", Content: "拜访", CustomerID: moved.ID}); err != nil {
			t.Fatal(err)
		}
		if err := o.Svc.TransferRecord(ctx, o.Admin, crm.ObjCustomer, moved.ID, o.Rep3.UserID, moved.Version); err != nil {
			t.Fatal(err)
		}
		gone := o.Customer(t, o.Rep2, crm.CustomerFields{Name: "北方重工", Level: "B"})
		back := o.Customer(t, o.Rep2, crm.CustomerFields{Name: "中原农机", Level: "B"})
		for _, id := range []int64{gone.ID, back.ID} {
			if err := o.Svc.DeleteCustomer(ctx, o.Admin, id); err != nil {
				t.Fatal(err)
			}
		}
		if err := o.Svc.RestoreCustomer(ctx, o.Admin, back.ID); err != nil {
			t.Fatal(err)
		}
		// 需求分析 moves behind 商务谈判: the deals' furthest stage follows
		// the order (testdb checks reached_position against the history).
		var analysis, talks crm.Stage
		for _, st := range w.stages {
			switch st.Name {
			case "需求分析":
				analysis = st
			case "商务谈判":
				talks = st
			}
		}
		analysis.Position = talks.Position*10 + 5
		if _, err := o.Svc.SaveStage(ctx, o.Admin, analysis); err != nil {
			t.Fatal(err)
		}
		type run func(*access.Actor, crm.ReportFilter) (any, error)
		reports := map[string]run{
			"funnel":      func(a *access.Actor, f crm.ReportFilter) (any, error) { return o.Svc.FunnelReport(ctx, a, f) },
			"pipeline":    func(a *access.Actor, f crm.ReportFilter) (any, error) { return o.Svc.PipelineReport(ctx, a, f) },
			"forecast":    func(a *access.Actor, f crm.ReportFilter) (any, error) { return o.Svc.ForecastReport(ctx, a, f) },
			"win-rate":    func(a *access.Actor, f crm.ReportFilter) (any, error) { return o.Svc.WinRateReport(ctx, a, f) },
			"cycle":       func(a *access.Actor, f crm.ReportFilter) (any, error) { return o.Svc.CycleReport(ctx, a, f) },
			"leaderboard": func(a *access.Actor, f crm.ReportFilter) (any, error) { return o.Svc.LeaderboardReport(ctx, a, f) },
			"trends":      func(a *access.Actor, f crm.ReportFilter) (any, error) { return o.Svc.TrendsReport(ctx, a, f) },
			"activity":    func(a *access.Actor, f crm.ReportFilter) (any, error) { return o.Svc.AdoptionReport(ctx, a, f) },
			"pool":        func(a *access.Actor, f crm.ReportFilter) (any, error) { return o.Svc.PoolReport(ctx, a, f) },
		}
		weekly := w.march
		weekly.Interval = crm.IntervalWeek
		weekly.Baseline = "2026-02-15"
		cny := w.march
		cny.Currency = "CNY"
		east := w.march
		east.DepartmentID = o.East.ID
		one := w.march
		one.OwnerID = o.Rep1.UserID
		filters := map[string]crm.ReportFilter{"march": w.march, "weekly": weekly, "CNY": cny, "East": east, "rep1": one}
		readers := map[string]*access.Actor{"rep1": o.Rep1, "rep2": o.Rep2, "rep3": o.Rep3, "mgr.east": o.MgrEast, "admin": o.Admin}
		zones := []string{"", "Asia/Shanghai", "America/New_York", "Asia/Kolkata"}
		answer := func(exact bool, r run, a *access.Actor, f crm.ReportFilter) string {
			t.Helper()
			service.ExactReports(o.Svc, exact)
			defer service.ExactReports(o.Svc, false)
			x, err := r(a, f)
			if err != nil {
				t.Fatal(err)
			}
			return string(mustMarshal(t, x))
		}
		for rn, reader := range readers {
			for _, zone := range zones {
				a := *reader
				a.TimeZone = zone
				for fn, f := range filters {
					if (fn != "march" || zone != "") && rn != "admin" && rn != "mgr.east" {
						continue // every filter and zone for the wide readers; the reps in one
					}
					for name, r := range reports {
						if counts, records := answer(false, r, &a, f), answer(true, r, &a, f); counts != records {
							t.Errorf("%s for %s in %q, %s: from the counts\n%s\nfrom the records\n%s", name, rn, zone, fn, counts, records)
						}
					}
				}
			}
		}
	})
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
