package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// drillWorld is the fixture of the drill-down tests: two departments'
// reps and a manager owning customers of several levels, sources and
// industries, opportunities in every kind of stage and three currencies,
// follow-ups (one overdue, one on a lead), leads and a pool customer,
// spread over February (outside the period) and March 2026.
type drillWorld struct {
	o      *testorg.Org
	srv    *httptest.Server
	tokens map[int64]string
	east   int64 // department ids
	west   int64
}

func newDrillWorld(t *testing.T, db *store.DB) *drillWorld {
	t.Helper()
	ctx := context.Background()
	clock := testorg.NewClock()
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 3, 0, 0, 0, time.UTC) }
	clock.Set(day(time.February, 20))
	o := testorg.NewWithClock(t, db, clock)
	w := &drillWorld{o: o, srv: newServer(t, o), tokens: map[int64]string{}, east: o.East.ID, west: o.West.ID}
	opp := func(a *access.Actor, c crm.Customer, name string, amount int64, cur, closeDate string) crm.Opportunity {
		return o.Opportunity(t, a, crm.OpportunityFields{CustomerID: c.ID, Name: name, Amount: amount, Currency: cur, ExpectedCloseDate: closeDate})
	}
	move := func(a *access.Actor, x crm.Opportunity, stage, reason string) crm.Opportunity {
		return o.Move(t, a, x, stage, reason)
	}
	follow := func(a *access.Actor, in crm.FollowUpInput) {
		t.Helper()
		if _, err := o.Svc.CreateFollowUp(ctx, a, in); err != nil {
			t.Fatal(err)
		}
	}
	lead := func(a *access.Actor, name, source string) crm.Lead {
		t.Helper()
		l, err := o.Svc.CreateLead(ctx, a, crm.LeadFields{Name: name, Company: name + "公司", Source: source})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	// February: before the period.
	cOld := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "旧客户", Level: "C", Source: "website", Industry: "制造业"})
	opp(o.Rep1, cOld, "f1", 1_000, "CNY", "2026-03-15")
	l0 := lead(o.Rep2, "旧线索", "referral")
	follow(o.Rep2, crm.FollowUpInput{Kind: "call", Content: "二月", LeadID: l0.ID})

	clock.Set(day(time.March, 2))
	cA1 := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "华东精密", Level: "A", Source: "referral", Industry: "制造业"})
	cA2 := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "华东仓储", Level: "A", Source: "website", Industry: "零售"})
	cB1 := o.Customer(t, o.Rep2, crm.CustomerFields{Name: "东海贸易", Level: "B", Source: "referral", Industry: "制造业"})
	cB2 := o.Customer(t, o.Rep3, crm.CustomerFields{Name: "西部物流", Level: "B", Source: "exhibition", Industry: "物流"})
	cM := o.Customer(t, o.MgrEast, crm.CustomerFields{Name: "东部总部", Level: "C", Source: "partner", Industry: "制造业"})
	o1 := opp(o.Rep1, cA1, "o1", 10_000, "CNY", "2026-03-20")
	o2 := opp(o.Rep1, cA1, "o2", 20_000, "USD", "2026-04-10")
	o3 := opp(o.Rep1, cA1, "o3", 30_000, "CNY", "2026-03-02")
	o4 := opp(o.Rep1, cA1, "o4", 40_000, "CNY", "2026-03-25")
	o6 := opp(o.Rep2, cB1, "o6", 60_000, "CNY", "2026-04-20")
	o7 := opp(o.Rep2, cB1, "o7", 70_000, "EUR", "2026-03-06")
	opp(o.Rep3, cB2, "o8", 80_000, "CNY", "2026-03-28")
	o9 := opp(o.Rep3, cB2, "o9", 90_000, "CNY", "2026-04-02")
	o10 := opp(o.MgrEast, cM, "o10", 100_000, "USD", "2026-03-10")
	_ = o1
	move(o.Rep1, o2, "方案报价", "")
	move(o.Rep2, o6, "商务谈判", "")
	next := day(time.March, 10)
	follow(o.Rep1, crm.FollowUpInput{Kind: "call", Content: "报价", CustomerID: cA1.ID, NextAt: &next})
	later := day(time.April, 1)
	follow(o.Rep2, crm.FollowUpInput{Kind: "visit", Content: "拜访", CustomerID: cB1.ID, NextAt: &later})
	follow(o.Rep3, crm.FollowUpInput{Kind: "note", Content: "记录", CustomerID: cB2.ID})
	l1 := lead(o.Rep1, "张三", "website")
	lead(o.Rep2, "李四", "referral")
	lead(o.Rep3, "王五", "referral")
	follow(o.Rep1, crm.FollowUpInput{Kind: "call", Content: "线索", LeadID: l1.ID})

	clock.Set(day(time.March, 3))
	move(o.Rep1, o4, "输单", "价格")
	move(o.Rep3, o9, "输单", "预算")
	clock.Set(day(time.March, 4))
	if err := o.Svc.ReleaseCustomer(ctx, o.Rep1, cA2.ID); err != nil {
		t.Fatal(err)
	}
	clock.Set(day(time.March, 5))
	o3 = move(o.Rep1, o3, "需求分析", "")
	move(o.Rep1, o3, "赢单", "")
	clock.Set(day(time.March, 6))
	move(o.Rep2, o7, "赢单", "")
	move(o.MgrEast, o10, "赢单", "")
	follow(o.MgrEast, crm.FollowUpInput{Kind: "meeting", Content: "会议", CustomerID: cM.ID})
	clock.Set(day(time.March, 20))
	for _, a := range []*access.Actor{o.Admin, o.MgrEast, o.MgrWest, o.Rep1, o.Rep2, o.Rep3} {
		w.tokens[a.UserID] = token(t, o, a)
	}
	return w
}

// get fetches an API path as the actor and decodes the JSON answer.
func (w *drillWorld) get(t *testing.T, a *access.Actor, path string, into any) {
	t.Helper()
	req, _ := http.NewRequest("GET", w.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+w.tokens[a.UserID])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var b strings.Builder
		_, _ = fmt.Fprint(&b, resp.Status)
		t.Fatalf("GET %s as %s: %s", path, a.Name, b.String())
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// listAll fetches every page of a list and returns its items' owners.
func (w *drillWorld) listAll(t *testing.T, a *access.Actor, path string) []int64 {
	t.Helper()
	var owners []int64
	for cursor := ""; ; {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		p := path + sep + "limit=2" // small pages: the cursor must carry the filters through
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		var page struct {
			Items []struct {
				OwnerID int64 `json:"owner_id"`
			} `json:"items"`
			Next string `json:"next_cursor"`
		}
		w.get(t, a, p, &page)
		for _, it := range page.Items {
			owners = append(owners, it.OwnerID)
		}
		if page.Next == "" {
			return owners
		}
		cursor = page.Next
	}
}

// figure is a report figure with its drill-down.
type figure struct {
	where string
	count int64
	drill string
}

// drillCounts are the figures a drill-down field counts, by the field's
// name: the count field beside it (the first present of the candidates).
var drillCounts = map[string][]string{
	"drill": {"reached", "count", "won", "sums"}, "cohort_drill": {"cohort"}, "lost_drill": {"lost"}, "won_drill": {"won"},
	"open_drill": {"open"}, "customers_drill": {"new_customers", "customers"}, "leads_drill": {"leads"},
	"follow_ups_drill": {"follow_ups"}, "created_drill": {"created"}, "overdue_drill": {"overdue"}, "idle_drill": {"idle"},
	"in_pool_drill": {"in_pool"}, "entered_drill": {"entered"}, "left_drill": {"left"},
}

// countOf reads a figure: a number, or the counts of a list of sums.
func countOf(v any) (int64, bool) {
	switch x := v.(type) {
	case float64:
		return int64(x), true
	case []any:
		var n int64
		for _, s := range x {
			m, _ := s.(map[string]any)
			c, _ := m["count"].(float64)
			n += int64(c)
		}
		return n, true
	}
	return 0, false
}

// figures walks a report's JSON for every figure with a drill-down.
func figures(t *testing.T, where string, v any, out *[]figure) {
	switch x := v.(type) {
	case map[string]any:
		for k, d := range x {
			if s, ok := d.(string); ok && drillCounts[k] != nil && s != "" {
				found := false
				for _, c := range drillCounts[k] {
					if n, ok := countOf(x[c]); ok {
						*out = append(*out, figure{where: where + "." + k, count: n, drill: s})
						found = true
						break
					}
				}
				if !found {
					t.Errorf("%s.%s: no figure beside the drill-down", where, k)
				}
			}
		}
		for k, d := range x {
			figures(t, where+"."+k, d, out)
		}
	case []any:
		for i, d := range x {
			figures(t, where+"["+strconv.Itoa(i)+"]", d, out)
		}
	}
}

// TestReportDrillDowns: for every report, as each role, with each filter,
// every figure's drill-down list — fetched through the API as the same
// user, all pages — holds exactly as many records as the figure says, and
// a rep's never lists another's records.
func TestReportDrillDowns(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		w := newDrillWorld(t, db)
		o := w.o
		period := "from=2026-03-01&to=2026-04-30&idle_days=7&interval=week&baseline=2026-02-28"
		filters := []string{"", "department_id=" + strconv.FormatInt(w.east, 10), "department_id=" + strconv.FormatInt(w.west, 10),
			"owner_id=" + strconv.FormatInt(o.Rep1.UserID, 10), "level=A", "source=referral", "industry=" + url.QueryEscape("制造业"),
			"currency=CNY", "from=2026-03-03&to=2026-03-31&idle_days=7"}
		type run struct {
			a       *access.Actor
			filters []string
		}
		runs := []run{{o.Admin, filters}, {o.MgrEast, filters}, {o.Rep1, filters}, {o.Rep2, filters[:1]}, {o.MgrWest, filters[:1]}}
		checked, nonzero := map[string]int{}, 0
		for _, r := range runs {
			lists := map[string]int{} // drill → records, fetched once per actor
			for _, f := range r.filters {
				q := period
				if strings.HasPrefix(f, "from=") {
					q = f
				} else if f != "" {
					q += "&" + f
				}
				for _, name := range crm.Reports {
					var rep any
					w.get(t, r.a, "/api/v1/reports/"+name+"?"+q, &rep)
					var figs []figure
					figures(t, name, rep, &figs)
					for _, fig := range figs {
						n, ok := lists[fig.drill]
						if !ok {
							owners := w.listAll(t, r.a, fig.drill)
							n = len(owners)
							lists[fig.drill] = n
							if r.a == o.Rep1 && !strings.HasPrefix(fig.drill, "/api/v1/pool") {
								for _, id := range owners {
									if id != o.Rep1.UserID {
										t.Errorf("rep1's %s (%s) lists user %d's record", fig.where, fig.drill, id)
									}
								}
							}
						}
						if int64(n) != fig.count {
							t.Errorf("%s as %s, %q: %s = %d, its drill-down %s lists %d", name, r.a.Name, f, fig.where, fig.count, fig.drill, n)
						}
						checked[name]++
						if fig.count > 0 {
							nonzero++
						}
					}
				}
			}
		}
		for _, name := range crm.Reports {
			if checked[name] == 0 {
				t.Errorf("report %s: no drill-down checked", name)
			}
		}
		t.Logf("drill-downs checked per report: %v (%d of them non-zero)", checked, nonzero)
		if nonzero < 200 {
			t.Errorf("only %d non-zero figures checked: the fixture proves little", nonzero)
		}
	})
}

// TestDrillDownFilterErrors: a malformed drill-down filter, or one the
// list does not take, is a 422 naming the field and why, in the reader's
// language — never a 500, never silently dropped.
func TestDrillDownFilterErrors(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := testorg.New(t, db)
		srv := newServer(t, o)
		tok := token(t, o, o.Rep1)
		zh, en := map[string]string{"Accept-Language": "zh-CN"}, map[string]string{"Accept-Language": "en"}
		for _, sc := range []scenario{
			{name: "instant", path: "/api/v1/customers?created_from=2026-03-01", header: en,
				wantContains: []string{`"field":"created_from"`, `"rule":"instant"`, "RFC 3339"}},
			{name: "instant in Chinese", path: "/api/v1/follow-ups?created_to=tomorrow", header: zh,
				wantContains: []string{`"field":"created_to"`, "创建时间止", "带时区"}},
			{name: "stage kind", path: "/api/v1/opportunities?stage_kind=maybe", header: en,
				wantContains: []string{`"field":"stage_kind"`, `"rule":"enum"`, "open, won, lost"}},
			{name: "currency", path: "/api/v1/opportunities?currency=rmb", header: zh, wantContains: []string{`"field":"currency"`, "ISO 4217"}},
			{name: "expected close", path: "/api/v1/opportunities?expected_close_to=2026-02-30", header: en,
				wantContains: []string{`"field":"expected_close_to"`, `"rule":"date"`}},
			{name: "reached position", path: "/api/v1/opportunities?reached_position=-1", header: en,
				wantContains: []string{`"field":"reached_position"`, "whole number"}},
			{name: "level", path: "/api/v1/follow-ups?level=Z", header: en, wantContains: []string{`"field":"level"`, `"rule":"enum"`}},
			{name: "not taken by leads", path: "/api/v1/leads?industry=x&stage_kind=won", header: en,
				wantContains: []string{`"field":"industry"`, `"field":"stage_kind"`, "cannot be filtered on in this list"}},
			{name: "not taken by customers", path: "/api/v1/customers?closed_from=2026-03-01T00:00:00Z", header: zh,
				wantContains: []string{`"field":"closed_from"`, "此列表不能按此条件筛选"}},
			{name: "not taken by contacts", path: "/api/v1/contacts?source=website", header: en, wantContains: []string{`"rule":"not_filterable"`}},
			{name: "no search in the follow-up list", path: "/api/v1/follow-ups?q=abc", header: en, wantContains: []string{`"field":"q"`}},
			{name: "follow-ups sort", path: "/api/v1/follow-ups?sort=name", header: en, wantContains: []string{`"field":"sort"`}},
		} {
			sc.token, sc.method, sc.wantStatus = tok, "GET", http.StatusUnprocessableEntity
			sc.run(t, srv)
		}
	})
}
