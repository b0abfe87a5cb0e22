package web

import (
	"context"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/i18n"
	"custos/internal/service"
)

// The dashboard (issue 16): the reports of internal/service on one page,
// each a chart and the table it is drawn from. What it shows follows the
// reader's customer scope, not a role's name: whoever sees only their own
// records gets their own funnel, pipeline, forecast, trends and activity;
// a department or subtree scope adds the team's reports (leaderboard,
// activity per rep, win rate, sales cycle, pool); scope "all" adds the
// adoption of everyone. The reports run concurrently, one service call
// each, so their audit events share one group commit.

// DashboardView is the dashboard page.
type DashboardView struct {
	Page
	Team     bool // the reader's scope covers others
	Everyone bool // the reader's scope is everything
	Fields   []FieldView
	Errors   FormErrors
	// AmountsShown is false when the reader's role hides or masks amounts:
	// every amount is then "—".
	AmountsShown bool
	Filter       crm.ReportFilter // as applied, defaults filled in

	Funnel      *service.FunnelReport
	Pipeline    *service.PipelineReport
	Forecast    *service.ForecastReport
	Trends      *service.TrendsReport
	Activity    *service.AdoptionReport
	WinRate     *service.WinRateReport
	Cycle       *service.CycleReport
	Leaderboard *service.LeaderboardReport
	Pool        *service.PoolReport

	// exportable names the reports the reader may take as a file (the
	// reports permission and the export right on the report's object).
	exportable map[string]bool
}

// dashboard serves GET /dashboard (and /reports).
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	if !a.Role.Reports {
		// One report call refuses it, so the refusal is audited like the
		// API's; not one per report.
		_, err := s.svc.PipelineReport(r.Context(), a, crm.ReportFilter{})
		if err == nil {
			err = crm.ErrForbidden()
		}
		s.fail(w, r, a, err)
		return
	}
	v := DashboardView{Page: s.page(r, a, "dash.title", "dashboard")}
	scope := a.Scope(crm.ObjCustomer).Kind
	v.Team = scope == crm.ScopeDepartment || scope == crm.ScopeSubtree || scope == crm.ScopeAll
	v.Everyone = scope == crm.ScopeAll
	q := r.URL.Query()
	f, local := dashboardFilter(q)
	// The same checks the service makes, once, before nine calls would
	// each refuse the same filter; with the numbers that were none, so
	// every problem shows at once.
	check := f
	err := mergeProblems(local, fieldErrors(check.Validate()))
	if err == nil {
		err = s.runReports(r.Context(), a, f, &v)
	}
	v.exportable = map[string]bool{}
	for _, name := range crm.Reports {
		o, _ := service.ReportObject(name)
		g := a.Role.Grant(o)
		v.exportable[name] = a.Role.Reports && g.Read && g.Export
	}
	status := http.StatusOK
	if err != nil {
		if !hasFieldErrors(err) {
			s.fail(w, r, a, err)
			return
		}
		status = http.StatusUnprocessableEntity
		v.Errors = formErrors(v.Lang, err, dashboardFields...)
		v.Funnel, v.Pipeline, v.Forecast, v.Trends, v.Activity = nil, nil, nil, nil, nil
		v.WinRate, v.Cycle, v.Leaderboard, v.Pool = nil, nil, nil, nil
	}
	if v.Fields, err = s.dashboardForm(r.Context(), a, v, q); err != nil {
		s.fail(w, r, a, err)
		return
	}
	s.render(w, r, status, "dashboard", v)
}

// dashboardFields are the filter form's fields, named as the API's query.
var dashboardFields = []string{"from", "to", "interval", "baseline", "department_id", "owner_id", "level", "source", "industry", "currency", "idle_days"}

// dashboardFilter reads the filter from the query string, as the API
// does: a number that is not one is a field problem.
func dashboardFilter(q url.Values) (crm.ReportFilter, crm.Problems) {
	f := crm.ReportFilter{From: q.Get("from"), To: q.Get("to"), Level: q.Get("level"), Source: q.Get("source"),
		Industry: q.Get("industry"), Currency: strings.ToUpper(strings.TrimSpace(q.Get("currency"))), Interval: q.Get("interval"),
		Baseline: q.Get("baseline")}
	var p crm.Problems
	number := func(name string) int64 {
		s := strings.TrimSpace(q.Get(name))
		if s == "" {
			return 0
		}
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			p.Add(name, "number")
		}
		return n
	}
	f.DepartmentID, f.OwnerID, f.IdleDays = number("department_id"), number("owner_id"), int(number("idle_days"))
	return f, p
}

// runReports runs the reports the reader's scope shows, concurrently.
func (s *Server) runReports(ctx context.Context, a *access.Actor, f crm.ReportFilter, v *DashboardView) error {
	v.Funnel, v.Pipeline, v.Forecast = &service.FunnelReport{}, &service.PipelineReport{}, &service.ForecastReport{}
	v.Trends, v.Activity = &service.TrendsReport{}, &service.AdoptionReport{}
	calls := []func() error{
		func() (err error) { *v.Funnel, err = s.svc.FunnelReport(ctx, a, f); return },
		func() (err error) { *v.Pipeline, err = s.svc.PipelineReport(ctx, a, f); return },
		func() (err error) { *v.Forecast, err = s.svc.ForecastReport(ctx, a, f); return },
		func() (err error) { *v.Trends, err = s.svc.TrendsReport(ctx, a, f); return },
		func() (err error) { *v.Activity, err = s.svc.AdoptionReport(ctx, a, f); return },
	}
	if v.Team {
		v.WinRate, v.Cycle, v.Leaderboard, v.Pool = &service.WinRateReport{}, &service.CycleReport{}, &service.LeaderboardReport{}, &service.PoolReport{}
		calls = append(calls,
			func() (err error) { *v.WinRate, err = s.svc.WinRateReport(ctx, a, f); return },
			func() (err error) { *v.Cycle, err = s.svc.CycleReport(ctx, a, f); return },
			func() (err error) { *v.Leaderboard, err = s.svc.LeaderboardReport(ctx, a, f); return },
			func() (err error) { *v.Pool, err = s.svc.PoolReport(ctx, a, f); return })
	}
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, call := range calls {
		wg.Go(func() { errs[i] = call() })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	v.Filter, v.AmountsShown = v.Pipeline.Filter, v.Pipeline.AmountsShown
	return nil
}

// dashboardForm builds the filter form: the filter as applied, or as
// typed when it was refused.
func (s *Server) dashboardForm(ctx context.Context, a *access.Actor, v DashboardView, q url.Values) ([]FieldView, error) {
	val := func(name, applied string) string {
		if v.Errors.Any() || applied == "" {
			return q.Get(name)
		}
		return applied
	}
	f := v.Filter
	field := func(name, label, typ, value string) FieldView {
		return FieldView{Name: name, Label: v.T(label), Type: typ, Value: value, Error: v.Errors.For(name)}
	}
	idle := ""
	if f.IdleDays != 0 {
		idle = strconv.Itoa(f.IdleDays)
	}
	interval := val("interval", f.Interval)
	out := []FieldView{
		field("from", "report.from", "date", val("from", f.From)),
		field("to", "report.to", "date", val("to", f.To)),
		{Name: "interval", Label: v.T("field.interval"), Error: v.Errors.For("interval"),
			Options: v.enumOptions("interval", []string{crm.IntervalMonth, crm.IntervalWeek}, interval, "")},
		field("baseline", "field.baseline", "date", val("baseline", f.Baseline)),
	}
	if v.Team {
		choices, err := s.svc.TeamChoices(ctx, a)
		if err != nil {
			return nil, err
		}
		owner, dept := q.Get("owner_id"), q.Get("department_id")
		users := []Option{{Value: "", Label: v.T("team.any_owner"), Selected: owner == ""}}
		for _, u := range choices.Users {
			users = append(users, Option{Value: idString(u.ID), Label: cmpOr(u.Name, u.Username), Selected: idString(u.ID) == owner})
		}
		depts := []Option{{Value: "", Label: v.T("team.any_department"), Selected: dept == ""}}
		for _, d := range choices.Departments {
			depth := max(strings.Count(d.Path, "/")-2, 0)
			depts = append(depts, Option{Value: idString(d.ID), Label: strings.Repeat("· ", depth) + d.Name, Selected: idString(d.ID) == dept})
		}
		out = append(out,
			FieldView{Name: "department_id", Label: v.T("field.department_id"), Error: v.Errors.For("department_id"), Options: keepChosen(depts, dept)},
			FieldView{Name: "owner_id", Label: v.T("team.rep"), Error: v.Errors.For("owner_id"), Options: keepChosen(users, owner)})
	}
	out = append(out,
		FieldView{Name: "level", Label: v.T("field.level"), Error: v.Errors.For("level"),
			Options: v.enumOptions("level", crm.CustomerLevels, q.Get("level"), "dash.any")},
		FieldView{Name: "source", Label: v.T("field.source"), Error: v.Errors.For("source"),
			Options: v.enumOptions("source", crm.CustomerSources, q.Get("source"), "dash.any")},
		FieldView{Name: "industry", Label: v.T("field.industry"), Value: q.Get("industry"), Error: v.Errors.For("industry"), Max: 100},
		FieldView{Name: "currency", Label: v.T("field.currency"), Value: q.Get("currency"), Error: v.Errors.For("currency"), Max: 3,
			Hint: v.T("dash.currency_hint")},
		field("idle_days", "field.idle_days", "number", val("idle_days", idle)))
	return out, nil
}

// keepChosen adds a chosen value that is not among the choices (a number
// typed into the URL, or outside the scope) as itself, so the form says
// what the page is filtered by.
func keepChosen(opts []Option, chosen string) []Option {
	if chosen == "" || slices.ContainsFunc(opts, func(o Option) bool { return o.Selected }) {
		return opts
	}
	return append(opts, Option{Value: chosen, Label: "#" + chosen, Selected: true})
}

// Fig is one figure of a report table and the web list that makes it up.
type Fig struct {
	Text string
	URL  string
}

// ReportFile is a report's file links (CSV and XLSX through the export
// control of GET /api/v1/reports/{name}/export), empty when the reader
// may not export it.
type ReportFile struct{ CSV, XLSX string }

// Export is the file links of the report called name, with the filters
// as applied.
func (v DashboardView) Export(name string) ReportFile {
	if !v.exportable[name] {
		return ReportFile{}
	}
	f := v.Filter
	q := url.Values{}
	for k, val := range map[string]string{"from": f.From, "to": f.To, "interval": f.Interval, "baseline": f.Baseline,
		"level": f.Level, "source": f.Source, "industry": f.Industry, "currency": f.Currency} {
		if val != "" {
			q.Set(k, val)
		}
	}
	for k, n := range map[string]int64{"department_id": f.DepartmentID, "owner_id": f.OwnerID, "idle_days": int64(f.IdleDays)} {
		if n != 0 {
			q.Set(k, strconv.FormatInt(n, 10))
		}
	}
	base := "/api/v1/reports/" + name + "/export?"
	q.Set("format", "csv")
	csv := base + q.Encode()
	q.Set("format", "xlsx")
	return ReportFile{CSV: csv, XLSX: base + q.Encode()}
}

// Fig shows a figure (a count or a text) as a link to the list behind it:
// the report's drill-down is an API list path and query, and the web list
// at the same path without "/api/v1" takes the same query. A figure
// without a drill-down is plain text.
func (p Page) Fig(value any, drill string) Fig {
	f := Fig{Text: figText(value)}
	if rest, ok := strings.CutPrefix(drill, "/api/v1/"); ok {
		f.URL = "/" + rest
	}
	return f
}

func figText(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case *int64:
		if x == nil {
			return "—"
		}
		return strconv.FormatInt(*x, 10)
	case int:
		return strconv.Itoa(x)
	case string:
		return x
	}
	return "—"
}

// Amount is a report's sum in its currency, "—" when the role may not
// see amounts (the service answers null, never 0).
func (p Page) Amount(minor *int64, currency string) string {
	if minor == nil {
		return "—"
	}
	return p.Money(*minor, currency)
}

// Percent shows a ratio ("—" when there is nothing to divide).
func (p Page) Percent(r *float64) string {
	if r == nil {
		return "—"
	}
	return strconv.FormatFloat(*r*100, 'f', 1, 64) + "%"
}

// DaysText shows a number of days with one decimal ("—" for none).
func (p Page) DaysText(d any) string {
	switch x := d.(type) {
	case *float64:
		if x == nil {
			return "—"
		}
		return strconv.FormatFloat(*x, 'f', 1, 64)
	case float64:
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return "—"
}

// StageName is a stage's name in the page's language.
func (p Page) StageName(s service.StageRef) string {
	if p.Lang == i18n.EN && s.NameEn != "" {
		return s.NameEn
	}
	return s.Name
}

// Who names a report row: the rep, else their department.
func (p Page) Who(u service.UserRef) string {
	if u.UserID == 0 {
		return cmpOr(u.DeptName, "—")
	}
	return cmpOr(u.Name, "#"+idString(u.UserID))
}

// Chart is the data of one chart for static/dashboard.js, drawn from the
// same figures as the table beside it. It travels in a
// <script type="application/json"> element (data, not code: the CSP
// allows it) and the script draws it with ECharts.
type Chart struct {
	ID         string        `json:"-"`
	Label      string        `json:"-"` // the chart's accessible name
	Kind       string        `json:"kind"`
	Categories []string      `json:"categories"`
	Series     []ChartSeries `json:"series"`
}

// ChartSeries is one series of a chart.
type ChartSeries struct {
	Name string     `json:"name"`
	Data []*float64 `json:"data"` // null where a figure is hidden
}

// Chart kinds dashboard.js draws.
const (
	chartBar    = "bar"
	chartHBar   = "hbar"
	chartLine   = "line"
	chartFunnel = "funnel"
	chartPie    = "pie"
)

func num(n int64) *float64 { f := float64(n); return &f }

// major is an amount in major units for a chart axis.
func major(minor *int64, currency string) *float64 {
	if minor == nil {
		return nil
	}
	f := float64(*minor) / math.Pow10(minorDigits(currency))
	return &f
}

// series builds a series by mapping each category index to a value.
func series(name string, n int, value func(i int) *float64) ChartSeries {
	s := ChartSeries{Name: name, Data: make([]*float64, n)}
	for i := range n {
		s.Data[i] = value(i)
	}
	return s
}

// chartColumn is one series of a chart drawn from table rows: its label
// key and its value in a row (nil where the figure is hidden).
type chartColumn[R any] struct {
	key   string
	value func(R) *float64
}

// count is a column of counts.
func count[R any](key string, n func(R) int64) chartColumn[R] {
	return chartColumn[R]{key, func(r R) *float64 { return num(n(r)) }}
}

// rowChart draws a table's rows: one category per row (named by name)
// and one series per column, so the chart shows exactly the table's
// figures.
func rowChart[R any](p Page, id, labelKey, kind string, rows []R, name func(R) string, cols ...chartColumn[R]) Chart {
	c := Chart{ID: id, Label: p.T(labelKey), Kind: kind, Categories: make([]string, len(rows)), Series: []ChartSeries{}}
	for i, r := range rows {
		c.Categories[i] = name(r)
	}
	for _, col := range cols {
		s := ChartSeries{Name: p.T(col.key), Data: make([]*float64, len(rows))}
		for i, r := range rows {
			s.Data[i] = col.value(r)
		}
		c.Series = append(c.Series, s)
	}
	return c
}

// currencies lists the currencies of some sums, in order.
func currencies(sums ...[]service.MoneySum) []string {
	var out []string
	for _, list := range sums {
		for _, m := range list {
			if !slices.Contains(out, m.Currency) {
				out = append(out, m.Currency)
			}
		}
	}
	slices.Sort(out)
	return out
}

// inCurrency is the sum of one currency in a list (zero when absent).
func inCurrency(list []service.MoneySum, currency string) service.MoneySum {
	for _, m := range list {
		if m.Currency == currency {
			return m
		}
	}
	zero := int64(0)
	return service.MoneySum{Currency: currency, Amount: &zero, Weighted: &zero}
}

// countOf is the number of deals of a list, all currencies.
func countOf(list []service.MoneySum) int64 {
	var n int64
	for _, m := range list {
		n += m.Count
	}
	return n
}

// moneySeries names the series of a money chart: its deal count and its
// amount.
var moneySeries = map[string][2]string{"open": {"dash.open_deals", "dash.open_amount"}, "won": {"dash.won_deals", "dash.won_amount"}}

// moneyCharts are the charts of a report by category and currency: one
// chart per currency (amounts are never mixed), each with the amount
// series named; or, when amounts are hidden or there is nothing yet, one
// chart of deal counts.
func (v DashboardView) moneyCharts(id, label string, cats []string, sums func(i int) map[string][]service.MoneySum, names []string, weighted string) []Chart {
	var all [][]service.MoneySum
	for i := range cats {
		for _, name := range names {
			all = append(all, sums(i)[name])
		}
	}
	curs := currencies(all...)
	if !v.AmountsShown || len(curs) == 0 {
		c := Chart{ID: id, Label: label, Kind: chartBar, Categories: cats}
		for _, name := range names {
			c.Series = append(c.Series, series(v.T(moneySeries[name][0]), len(cats), func(i int) *float64 { return num(countOf(sums(i)[name])) }))
		}
		return []Chart{c}
	}
	var out []Chart
	for _, cur := range curs {
		c := Chart{ID: id + "-" + strings.ToLower(cur), Label: label + " · " + cur, Kind: chartBar, Categories: cats}
		for _, name := range names {
			c.Series = append(c.Series, series(v.T(moneySeries[name][1])+" ("+cur+")", len(cats), func(i int) *float64 {
				m := inCurrency(sums(i)[name], cur)
				return major(m.Amount, cur)
			}))
			if name == weighted {
				c.Series = append(c.Series, series(v.T("dash.weighted")+" ("+cur+")", len(cats), func(i int) *float64 {
					m := inCurrency(sums(i)[name], cur)
					return major(m.Weighted, cur)
				}))
			}
		}
		out = append(out, c)
	}
	return out
}

// FunnelChart draws the funnel's steps.
func (v DashboardView) FunnelChart() Chart {
	return rowChart(v.Page, "chart-funnel", "dash.funnel", chartFunnel, v.Funnel.Steps,
		func(s service.FunnelStep) string { return v.StageName(s.StageRef) },
		count("dash.reached", func(s service.FunnelStep) int64 { return s.Reached }))
}

// PipelineCharts draw the open pipeline by stage, per currency.
func (v DashboardView) PipelineCharts() []Chart {
	stages := v.Pipeline.Stages
	cats := make([]string, len(stages))
	for i, s := range stages {
		cats[i] = v.StageName(s.StageRef)
	}
	return v.moneyCharts("chart-pipeline", v.T("dash.pipeline"), cats,
		func(i int) map[string][]service.MoneySum {
			return map[string][]service.MoneySum{"open": stages[i].Sums}
		}, []string{"open"}, "open")
}

// ForecastCharts draw the forecast by month, per currency.
func (v DashboardView) ForecastCharts() []Chart {
	months := v.Forecast.Months
	cats := make([]string, len(months))
	for i, m := range months {
		cats[i] = m.Month
	}
	return v.moneyCharts("chart-forecast", v.T("dash.forecast"), cats, func(i int) map[string][]service.MoneySum {
		return map[string][]service.MoneySum{"open": months[i].Open, "won": months[i].Won}
	}, []string{"open", "won"}, "open")
}

// TrendsChart draws the new records per bucket.
func (v DashboardView) TrendsChart() Chart {
	cols := []chartColumn[service.TrendCounts]{
		count("dash.new_customers", func(t service.TrendCounts) int64 { return t.Customers }),
		count("dash.follow_ups", func(t service.TrendCounts) int64 { return t.FollowUps }),
	}
	if v.Trends.Total.Leads != nil {
		cols = append(cols, chartColumn[service.TrendCounts]{"dash.new_leads", func(t service.TrendCounts) *float64 {
			if t.Leads == nil {
				return nil
			}
			return num(*t.Leads)
		}})
	}
	return rowChart(v.Page, "chart-trends", "dash.trends", chartLine, v.Trends.Buckets, v.Bucket, cols...)
}

// Bucket names a trend bucket by its first day in the reader's time zone.
func (v DashboardView) Bucket(t service.TrendCounts) string {
	start := t.Start.In(v.Location())
	if v.Filter.Interval == crm.IntervalWeek {
		return start.Format("2006-01-02")
	}
	return start.Format("2006-01")
}

// LastDay is the last day of a span whose end is exclusive.
func (v DashboardView) LastDay(t service.TrendCounts) string {
	return t.End.In(v.Location()).AddDate(0, 0, -1).Format("2006-01-02")
}

// FirstDay is the first day of a span.
func (v DashboardView) FirstDay(t service.TrendCounts) string {
	return t.Start.In(v.Location()).Format("2006-01-02")
}

// ActivityChart draws activity rows (per rep, or per department):
// follow-ups, overdue and idle.
func (v DashboardView) ActivityChart(id, label string, rows []service.ActivityRow) Chart {
	return rowChart(v.Page, id, label, chartHBar, rows, func(r service.ActivityRow) string { return v.Who(r.UserRef) },
		count("dash.follow_ups", func(r service.ActivityRow) int64 { return r.FollowUps }),
		count("dash.overdue", func(r service.ActivityRow) int64 { return r.Overdue }),
		count("dash.idle", func(r service.ActivityRow) int64 { return r.Idle }))
}

// WinRateChart draws won against lost.
func (v DashboardView) WinRateChart() Chart {
	w := v.WinRate
	return Chart{ID: "chart-win-rate", Label: v.T("dash.win_rate"), Kind: chartPie,
		Categories: []string{v.T("dash.won"), v.T("dash.lost")},
		Series:     []ChartSeries{{Name: v.T("dash.deals"), Data: []*float64{num(w.Won), num(w.Lost)}}}}
}

// LostReasonsChart draws the lost reasons.
func (v DashboardView) LostReasonsChart() Chart {
	return rowChart(v.Page, "chart-lost-reasons", "dash.lost_reasons", chartHBar, v.WinRate.LostReasons,
		func(r service.ReasonCount) string { return cmpOr(r.Reason, v.T("dash.no_reason")) },
		count("dash.deals", func(r service.ReasonCount) int64 { return r.Count }))
}

// CycleChart draws the mean days per stage.
func (v DashboardView) CycleChart() Chart {
	return rowChart(v.Page, "chart-cycle", "dash.cycle", chartBar, v.Cycle.Stages,
		func(s service.StageDays) string { return v.StageName(s.StageRef) },
		chartColumn[service.StageDays]{"dash.mean_days", func(s service.StageDays) *float64 { return &s.MeanDays }})
}

// leaderChartRows bounds the leaderboard chart; the table lists everyone.
const leaderChartRows = 10

// LeaderChart draws leaderboard rows (the first ten): deals won, new
// customers, follow-ups.
func (v DashboardView) LeaderChart(id, label string, rows []service.LeaderRow) Chart {
	return rowChart(v.Page, id, label, chartHBar, rows[:min(len(rows), leaderChartRows)], func(r service.LeaderRow) string { return v.Who(r.UserRef) },
		count("dash.won_deals", func(r service.LeaderRow) int64 { return countOf(r.Won) }),
		count("dash.new_customers", func(r service.LeaderRow) int64 { return r.NewCustomers }),
		count("dash.follow_ups", func(r service.LeaderRow) int64 { return r.FollowUps }))
}

// PoolChart draws the pool's movements.
func (v DashboardView) PoolChart() Chart {
	p := v.Pool
	return Chart{ID: "chart-pool", Label: v.T("dash.pool"), Kind: chartBar,
		Categories: []string{v.T("dash.pool_entered"), v.T("dash.pool_left"), v.T("dash.pool_now")},
		Series:     []ChartSeries{{Name: v.T("dash.customers"), Data: []*float64{num(p.Entered), num(p.Left), num(p.InPool)}}}}
}

// MonthCurrencies are the currencies of a forecast month, open or won.
func (v DashboardView) MonthCurrencies(m service.ForecastMonth) []string {
	return currencies(m.Open, m.Won)
}

// InCurrency is a month's sum in one currency.
func (v DashboardView) InCurrency(list []service.MoneySum, currency string) service.MoneySum {
	m := inCurrency(list, currency)
	if !v.AmountsShown {
		m.Amount, m.Weighted = nil, nil
	}
	return m
}

// TrendRow is one row of the trends table.
type TrendRow struct {
	Page
	Row service.TrendCounts
}

// TrendRow wraps a span of the trends for its table cells.
func (v DashboardView) TrendRow(t service.TrendCounts) TrendRow {
	return TrendRow{Page: v.Page, Row: t}
}

// ActivityTable is an activity table: per rep or per department.
type ActivityTable struct {
	Page
	Head string
	Rows []service.ActivityRow
}

// ActivityRows is the activity table of rows, headed by head.
func (v DashboardView) ActivityRows(rows []service.ActivityRow, head string) ActivityTable {
	return ActivityTable{Page: v.Page, Head: head, Rows: rows}
}

// LeaderTable is a leaderboard table, ranked.
type LeaderTable struct {
	Page
	Head string
	Rows []LeaderRank
}

// LeaderRank is one ranked row of the leaderboard.
type LeaderRank struct {
	service.LeaderRow
	Rank     int
	WonCount int64
}

// LeaderRows is the leaderboard table of rows, headed by head.
func (v DashboardView) LeaderRows(rows []service.LeaderRow, head string) LeaderTable {
	t := LeaderTable{Page: v.Page, Head: head}
	for i, r := range rows {
		t.Rows = append(t.Rows, LeaderRank{LeaderRow: r, Rank: i + 1, WonCount: countOf(r.Won)})
	}
	return t
}
