package service

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/quality"
	"custos/internal/store"
)

// Reports (issue 16). Each use case checks the reports permission, reads
// aggregates the database computes under the actor's record scopes (the
// store's report queries render them as the lists do), leaves out amounts
// the actor's field rules hide or mask, and appends one audit event naming
// the report and its filters before answering — no record data, and no
// answer if the event cannot be stored.
//
// Every figure a list can make up carries a drill-down (the fields named
// Drill or …Drill): the API list path and query of exactly the records it
// counts, under the same actor's scope. The web list at the same path
// without "/api/v1" takes the same query. Empty when no list can express
// the figure's filters.

// MoneySum is a count of deals and, when the actor may see amounts, their
// sum (and weighted sum) in one currency. Amounts are never summed across
// currencies; a hidden amount is null, never 0.
type MoneySum struct {
	Currency string `json:"currency"`
	Count    int64  `json:"count"`
	Amount   *int64 `json:"amount"`
	Weighted *int64 `json:"weighted,omitempty"`
}

// StageRef names a pipeline stage in a report.
type StageRef struct {
	StageID int64  `json:"stage_id"`
	Name    string `json:"name"`
	NameEn  string `json:"name_en"`
}

// UserRef names a user in a report, with their department.
type UserRef struct {
	UserID   int64  `json:"user_id,omitempty"`
	Name     string `json:"name"`
	DeptID   int64  `json:"department_id"`
	DeptName string `json:"department_name"`
}

// FunnelStep is one stage of the funnel: how many of the cohort reached
// it (or a later stage) and the share of those reaching the step before.
type FunnelStep struct {
	StageRef
	Kind       string   `json:"kind"`
	Reached    int64    `json:"reached"`
	Conversion *float64 `json:"conversion"`
	Drill      string   `json:"drill,omitempty"`
}

// FunnelReport is the funnel of the opportunities created in the period.
type FunnelReport struct {
	crm.Report
	Cohort      int64        `json:"cohort"`
	CohortDrill string       `json:"cohort_drill,omitempty"`
	Lost        int64        `json:"lost"`
	LostDrill   string       `json:"lost_drill,omitempty"`
	Steps       []FunnelStep `json:"steps"`
}

// PipelineStage is one open stage of the pipeline.
type PipelineStage struct {
	StageRef
	Probability int        `json:"probability"`
	Sums        []MoneySum `json:"sums"`
	Drill       string     `json:"drill,omitempty"`
}

// PipelineReport is the open pipeline now, by stage and currency.
type PipelineReport struct {
	crm.Report
	Stages []PipelineStage `json:"stages"`
}

// ForecastMonth is one month of the forecast: the open deals expected to
// close in it (amount and weighted amount) against the deals won in it.
type ForecastMonth struct {
	Month     string     `json:"month"`
	Open      []MoneySum `json:"open"`
	Won       []MoneySum `json:"won"`
	OpenDrill string     `json:"open_drill,omitempty"`
	WonDrill  string     `json:"won_drill,omitempty"`
}

// ForecastReport is the weighted forecast by expected close month.
type ForecastReport struct {
	crm.Report
	Months []ForecastMonth `json:"months"`
}

// WinRateCurrency is won against lost in one currency.
type WinRateCurrency struct {
	Currency   string   `json:"currency"`
	Won        MoneySum `json:"won"`
	Lost       MoneySum `json:"lost"`
	AmountRate *float64 `json:"amount_rate"`
}

// ReasonCount is a lost reason with how many deals it lost.
type ReasonCount struct {
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
	Drill  string `json:"drill,omitempty"`
}

// WinRateReport is won against lost among the deals closed in the period.
type WinRateReport struct {
	crm.Report
	Won         int64             `json:"won"`
	Lost        int64             `json:"lost"`
	WonDrill    string            `json:"won_drill,omitempty"`
	LostDrill   string            `json:"lost_drill,omitempty"`
	Rate        *float64          `json:"rate"`
	Currencies  []WinRateCurrency `json:"currencies"`
	LostReasons []ReasonCount     `json:"lost_reasons"`
}

// StageDays is the mean time spent in one stage.
type StageDays struct {
	StageRef
	Stays    int64   `json:"stays"`
	MeanDays float64 `json:"mean_days"`
}

// CycleReport is how long the deals won in the period took.
type CycleReport struct {
	crm.Report
	Won        int64       `json:"won"`
	Drill      string      `json:"drill,omitempty"`
	MeanDays   *float64    `json:"mean_days"`
	MedianDays *float64    `json:"median_days"`
	Stages     []StageDays `json:"stages"`
}

// LeaderRow is one rep's (or one department's) results.
type LeaderRow struct {
	UserRef
	Won            []MoneySum `json:"won"`
	NewCustomers   int64      `json:"new_customers"`
	FollowUps      int64      `json:"follow_ups"`
	WonDrill       string     `json:"won_drill,omitempty"`
	CustomersDrill string     `json:"customers_drill,omitempty"`
	FollowUpsDrill string     `json:"follow_ups_drill,omitempty"`
}

// LeaderboardReport ranks reps and departments (龙虎榜).
type LeaderboardReport struct {
	crm.Report
	Reps        []LeaderRow `json:"reps"`
	Departments []LeaderRow `json:"departments"`
}

// TrendCounts are the records created in a span of time. Leads is null
// when a customer filter cannot apply to leads (level, industry).
type TrendCounts struct {
	Start          time.Time `json:"start"`
	End            time.Time `json:"end"`
	Customers      int64     `json:"customers"`
	Leads          *int64    `json:"leads"`
	FollowUps      int64     `json:"follow_ups"`
	CustomersDrill string    `json:"customers_drill,omitempty"`
	LeadsDrill     string    `json:"leads_drill,omitempty"`
	FollowUpsDrill string    `json:"follow_ups_drill,omitempty"`
}

// TrendsReport counts new customers, leads and follow-ups per week or
// month, with the period's totals, the previous period's and a baseline's.
type TrendsReport struct {
	crm.Report
	Buckets  []TrendCounts `json:"buckets"`
	Total    TrendCounts   `json:"total"`
	Previous TrendCounts   `json:"previous"`
	Baseline *TrendCounts  `json:"baseline,omitempty"`
}

// ActivityRow is one rep's (or department's) activity in the period.
type ActivityRow struct {
	UserRef
	SignIns    int64 `json:"sign_ins"`
	ActiveDays int64 `json:"active_days,omitempty"`
	FollowUps  int64 `json:"follow_ups"`
	Created    int64 `json:"created"`
	Updated    int64 `json:"updated"`
	Overdue    int64 `json:"overdue"`
	Idle       int64 `json:"idle"`
	// The drill-downs of the counts that a list can show.
	FollowUpsDrill string `json:"follow_ups_drill,omitempty"`
	CreatedDrill   string `json:"created_drill,omitempty"`
	OverdueDrill   string `json:"overdue_drill,omitempty"`
	IdleDrill      string `json:"idle_drill,omitempty"`
}

// AdoptionReport is the activity report: activity and adoption per rep and department.
type AdoptionReport struct {
	crm.Report
	Reps        []ActivityRow `json:"reps"`
	Departments []ActivityRow `json:"departments"`
	NotSignedIn []UserRef     `json:"not_signed_in"`
}

// UserCount is a count per user.
type UserCount struct {
	UserRef
	Count int64  `json:"count"`
	Drill string `json:"drill,omitempty"`
}

// PoolReport is the public pool's movements in the period.
type PoolReport struct {
	crm.Report
	Entered int64 `json:"entered"`
	Left    int64 `json:"left"`
	InPool  int64 `json:"in_pool"`
	// The drill-downs: the pool now, and the customers that entered and left it.
	InPoolDrill  string      `json:"in_pool_drill,omitempty"`
	EnteredDrill string      `json:"entered_drill,omitempty"`
	LeftDrill    string      `json:"left_drill,omitempty"`
	Claims       []UserCount `json:"claims"`
}

// customerFilterFields are the customer fields a report filters by.
var customerFilterFields = []string{"level", "source", "industry"}

// moneyField is the opportunity's amount field, from the registry.
var moneyField = crm.FieldNames(crm.ObjOpportunity, func(f crm.FieldSpec) bool { return f.Type == crm.TypeMoney })[0]

// report is the frame of every report use case.
func (s *Service) report(ctx context.Context, a *access.Actor, name string, f crm.ReportFilter,
	run func(tx *store.Tx, q store.ReportQuery, r *crm.Report) error) (crm.Report, error) {
	action := "report." + name
	if a == nil || !a.Role.Reports {
		s.auditDenied(ctx, a, action, "", 0)
		return crm.Report{}, crm.ErrForbidden()
	}
	// Industries are stored standardised (制造 → 制造业): the filter is too,
	// so a report filtered as a user types it counts what the form saved.
	standardise(&f.Industry, quality.Industry)
	err := f.Validate()
	var p crm.Problems
	values := map[string]string{"level": f.Level, "source": f.Source, "industry": f.Industry}
	q := store.ReportQuery{Scopes: map[crm.Object]store.ChildScope{}, People: a.Scope(crm.ObjCustomer), OwnerID: f.OwnerID,
		Customer: map[string]string{}, Currency: f.Currency, Exact: s.exactReports}
	for _, name := range customerFilterFields {
		if values[name] == "" {
			continue
		}
		// Filtering by a field the role may not read would answer it.
		if acc := a.Field(crm.ObjCustomer, name); acc == crm.FieldHidden || acc == crm.FieldMasked {
			p.Add(name, "not_visible")
		}
		q.Customer[name] = values[name]
	}
	if err = joinProblems(err, p); err != nil {
		return crm.Report{}, err
	}
	loc := s.Location(a)
	now := s.clock()
	if f.To == "" {
		f.To = now.In(loc).Format(time.DateOnly)
	}
	to, _ := time.ParseInLocation(time.DateOnly, f.To, loc)
	if f.From == "" {
		f.From = to.AddDate(0, 0, -29).Format(time.DateOnly)
	}
	from, _ := time.ParseInLocation(time.DateOnly, f.From, loc)
	if from.After(to) {
		return crm.Report{}, &crm.Error{Code: crm.Invalid, Message: "invalid report filter",
			Fields: []crm.FieldError{{Field: "from", Rule: "after_end", LabelKey: "report.from"}}}
	}
	q.Start, q.End = from, to.AddDate(0, 0, 1)
	for _, o := range crm.Objects {
		spec, _ := crm.Spec(o)
		if spec.Parent == crm.ObjCustomer {
			q.Scopes[o] = childScope(a, o, false)
		} else {
			q.Scopes[o] = store.ChildScope{Own: a.SharedScope(o, false)}
		}
	}
	r := crm.Report{Filter: f, Start: q.Start.UTC(), End: q.End.UTC()}
	acc := a.Field(crm.ObjOpportunity, moneyField)
	r.AmountsShown = acc != crm.FieldHidden && acc != crm.FieldMasked
	err = s.db.ReadTx(ctx, func(tx *store.Tx) error {
		if f.DepartmentID != 0 {
			d, err := tx.GetDepartment(ctx, f.DepartmentID)
			if crm.IsCode(err, crm.NotFound) {
				return &crm.Error{Code: crm.Invalid, Message: "no such department", Fields: []crm.FieldError{{Field: "department_id", Rule: "not_found"}}}
			}
			if err != nil {
				return err
			}
			q.DeptPath = d.Path
		}
		return run(tx, q, &r)
	})
	if err != nil {
		return r, err
	}
	e := s.event(a, action, "", 0)
	e.Fields = mustJSON(r.Filter) // the filters as applied, defaults filled in; no figures
	return r, s.recordRead(ctx, e)
}

// sums shapes StageSum rows as MoneySums, amounts only when shown.
func sums(r *crm.Report, rows []store.StageSum, weighted bool) []MoneySum {
	out := []MoneySum{}
	for _, x := range rows {
		m := MoneySum{Currency: x.Currency, Count: x.Count}
		if r.AmountsShown {
			m.Amount = &x.Amount
			if weighted {
				m.Weighted = &x.Weighted
			}
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b MoneySum) int { return cmp.Compare(a.Currency, b.Currency) })
	return out
}

func ratio(n, d int64) *float64 {
	if d == 0 {
		return nil
	}
	v := float64(n) / float64(d)
	return &v
}

func days(ms float64) float64 { return ms / float64(24*time.Hour/time.Millisecond) }

func stageRef(st crm.Stage) StageRef {
	return StageRef{StageID: st.ID, Name: st.Name, NameEn: st.NameEn}
}

// FunnelReport counts how far the opportunities created in the period got.
func (s *Service) FunnelReport(ctx context.Context, a *access.Actor, f crm.ReportFilter) (FunnelReport, error) {
	var out FunnelReport
	var err error
	out.Report, err = s.report(ctx, a, "funnel", f, func(tx *store.Tx, q store.ReportQuery, r *crm.Report) error {
		stages, err := tx.ListStages(ctx)
		if err != nil {
			return err
		}
		furthest, lost, err := tx.FunnelReach(ctx, q)
		if err != nil {
			return err
		}
		out.Lost, out.Steps = lost, []FunnelStep{}
		for _, n := range furthest {
			out.Cohort += n
		}
		created := createdIn(q.Start, q.End)
		lostDrill := created
		lostDrill.StageKind = crm.StageLost
		out.LostDrill = drillURL(a, r, q, crm.ObjOpportunity, 0, 0, lostDrill)
		prev := int64(-1)
		for _, st := range stages {
			if st.Kind == crm.StageLost {
				continue
			}
			reached := created
			reached.ReachedPosition = &st.Position
			step := FunnelStep{StageRef: stageRef(st), Kind: st.Kind, Drill: drillURL(a, r, q, crm.ObjOpportunity, 0, 0, reached)}
			for p, n := range furthest {
				if p >= st.Position {
					step.Reached += n
				}
			}
			if prev >= 0 {
				step.Conversion = ratio(step.Reached, prev)
			} else {
				// The cohort is what reached the first step: the deals
				// with an open or won stage in their history.
				out.CohortDrill = step.Drill
			}
			prev = step.Reached
			out.Steps = append(out.Steps, step)
		}
		return nil
	})
	return out, err
}

// PipelineReport sums the open opportunities now by stage and currency.
func (s *Service) PipelineReport(ctx context.Context, a *access.Actor, f crm.ReportFilter) (PipelineReport, error) {
	var out PipelineReport
	var err error
	out.Report, err = s.report(ctx, a, "pipeline", f, func(tx *store.Tx, q store.ReportQuery, r *crm.Report) error {
		stages, err := tx.ListStages(ctx)
		if err != nil {
			return err
		}
		rows, err := tx.PipelineByStage(ctx, q)
		if err != nil {
			return err
		}
		out.Stages = []PipelineStage{}
		for _, st := range stages {
			if st.Kind != crm.StageOpen {
				continue
			}
			var mine []store.StageSum
			for _, x := range rows {
				if x.StageID == st.ID {
					mine = append(mine, x)
				}
			}
			out.Stages = append(out.Stages, PipelineStage{StageRef: stageRef(st), Probability: st.Probability, Sums: sums(r, mine, true),
				Drill: withStage(drillURL(a, r, q, crm.ObjOpportunity, 0, 0, crm.DrillFilter{StageKind: crm.StageOpen}), st.ID)})
		}
		return nil
	})
	return out, err
}

// monthStarts returns the first instants of the months from start's month
// to the one holding the instant before end, and end itself.
func monthStarts(start, end time.Time) []time.Time {
	m := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, start.Location())
	var out []time.Time
	for ; m.Before(end); m = m.AddDate(0, 1, 0) {
		out = append(out, m)
	}
	return append(out, end)
}

// ForecastReport sums the open deals by expected close month, weighted by
// their stage's probability, against the deals won in each month.
func (s *Service) ForecastReport(ctx context.Context, a *access.Actor, f crm.ReportFilter) (ForecastReport, error) {
	var out ForecastReport
	var err error
	out.Report, err = s.report(ctx, a, "forecast", f, func(tx *store.Tx, q store.ReportQuery, r *crm.Report) error {
		open, err := tx.ForecastOpen(ctx, q, r.Filter.From, r.Filter.To)
		if err != nil {
			return err
		}
		bounds := monthStarts(q.Start, q.End)
		bounds[0] = q.Start
		won, err := tx.WonByBucket(ctx, q, bounds)
		if err != nil {
			return err
		}
		out.Months = []ForecastMonth{}
		for i := 0; i+1 < len(bounds); i++ {
			month := bounds[i].Format("2006-01")
			var o, w []store.StageSum
			for _, x := range open {
				if x.Key == month {
					o = append(o, x)
				}
			}
			for _, x := range won {
				if x.Key == strconv.Itoa(i) {
					w = append(w, x)
				}
			}
			// The open deals of the month within the period's dates, and
			// those won within the month's instants of the period.
			open := crm.DrillFilter{StageKind: crm.StageOpen, ExpectedCloseFrom: bounds[i].Format(time.DateOnly),
				ExpectedCloseTo: bounds[i+1].AddDate(0, 0, -1).Format(time.DateOnly)}
			won := closedIn(bounds[i], bounds[i+1], crm.StageWon)
			out.Months = append(out.Months, ForecastMonth{Month: month, Open: sums(r, o, true), Won: sums(r, w, false),
				OpenDrill: drillURL(a, r, q, crm.ObjOpportunity, 0, 0, open), WonDrill: drillURL(a, r, q, crm.ObjOpportunity, 0, 0, won)})
		}
		return nil
	})
	return out, err
}

// WinRateReport compares the deals won and lost in the period.
func (s *Service) WinRateReport(ctx context.Context, a *access.Actor, f crm.ReportFilter) (WinRateReport, error) {
	var out WinRateReport
	var err error
	out.Report, err = s.report(ctx, a, "win-rate", f, func(tx *store.Tx, q store.ReportQuery, r *crm.Report) error {
		rows, err := tx.ClosedByKind(ctx, q)
		if err != nil {
			return err
		}
		by := map[string]*WinRateCurrency{}
		for _, x := range rows {
			c := by[x.Currency]
			if c == nil {
				c = &WinRateCurrency{Currency: x.Currency, Won: MoneySum{Currency: x.Currency}, Lost: MoneySum{Currency: x.Currency}}
				by[x.Currency] = c
			}
			m := sums(r, []store.StageSum{x}, false)[0]
			if x.Kind == crm.StageWon {
				c.Won, out.Won = m, out.Won+x.Count
			} else {
				c.Lost, out.Lost = m, out.Lost+x.Count
			}
		}
		out.Rate = ratio(out.Won, out.Won+out.Lost)
		out.WonDrill = drillURL(a, r, q, crm.ObjOpportunity, 0, 0, closedIn(q.Start, q.End, crm.StageWon))
		out.LostDrill = drillURL(a, r, q, crm.ObjOpportunity, 0, 0, closedIn(q.Start, q.End, crm.StageLost))
		out.Currencies = []WinRateCurrency{}
		for _, c := range by {
			if c.Won.Amount != nil || c.Lost.Amount != nil {
				var won, lost int64
				if c.Won.Amount != nil {
					won = *c.Won.Amount
				}
				if c.Lost.Amount != nil {
					lost = *c.Lost.Amount
				}
				c.AmountRate = ratio(won, won+lost)
			}
			out.Currencies = append(out.Currencies, *c)
		}
		slices.SortFunc(out.Currencies, func(a, b WinRateCurrency) int { return cmp.Compare(a.Currency, b.Currency) })
		out.LostReasons = []ReasonCount{}
		if acc := a.Field(crm.ObjOpportunity, "lost_reason"); acc == crm.FieldHidden || acc == crm.FieldMasked {
			return nil
		}
		reasons, err := tx.LostReasons(ctx, q)
		for _, x := range reasons {
			rc := ReasonCount{Reason: x.Key, Count: x.Count}
			if x.Key != "" { // "no reason given" is no filter a list takes
				d := closedIn(q.Start, q.End, crm.StageLost)
				d.LostReason = x.Key
				rc.Drill = drillURL(a, r, q, crm.ObjOpportunity, 0, 0, d)
			}
			out.LostReasons = append(out.LostReasons, rc)
		}
		return err
	})
	return out, err
}

// CycleReport measures how long the deals won in the period took, and how
// long they stayed in each stage.
func (s *Service) CycleReport(ctx context.Context, a *access.Actor, f crm.ReportFilter) (CycleReport, error) {
	var out CycleReport
	var err error
	out.Report, err = s.report(ctx, a, "cycle", f, func(tx *store.Tx, q store.ReportQuery, r *crm.Report) error {
		stages, err := tx.ListStages(ctx)
		if err != nil {
			return err
		}
		c, err := tx.SalesCycle(ctx, q)
		if err != nil {
			return err
		}
		out.Won = c.Count
		out.Drill = drillURL(a, r, q, crm.ObjOpportunity, 0, 0, closedIn(q.Start, q.End, crm.StageWon))
		if c.Count > 0 {
			mean, median := days(c.Mean), days(c.Median)
			out.MeanDays, out.MedianDays = &mean, &median
		}
		times, err := tx.TimeInStages(ctx, q)
		if err != nil {
			return err
		}
		out.Stages = []StageDays{}
		for _, st := range stages {
			for _, t := range times {
				if t.StageID == st.ID {
					out.Stages = append(out.Stages, StageDays{StageRef: stageRef(st), Stays: t.Count, MeanDays: days(t.Mean)})
				}
			}
		}
		return nil
	})
	return out, err
}

// reportUsers reads the users a report names, by id.
func reportUsers(ctx context.Context, tx *store.Tx, q store.ReportQuery, ids []int64) (map[int64]store.ReportUser, []store.ReportUser, error) {
	list, err := tx.ReportUsers(ctx, q, ids)
	m := map[int64]store.ReportUser{}
	for _, u := range list {
		m[u.ID] = u
	}
	return m, list, err
}

func userRef(u store.ReportUser) UserRef {
	return UserRef{UserID: u.ID, Name: u.Name, DeptID: u.DeptID, DeptName: u.DeptName}
}

// addSums adds MoneySums into a per-currency total.
func addSums(into []MoneySum, more []MoneySum) []MoneySum {
	for _, m := range more {
		i := slices.IndexFunc(into, func(x MoneySum) bool { return x.Currency == m.Currency })
		if i < 0 {
			into = append(into, MoneySum{Currency: m.Currency})
			i = len(into) - 1
		}
		into[i].Count += m.Count
		if m.Amount != nil {
			v := *m.Amount
			if into[i].Amount != nil {
				v += *into[i].Amount
			}
			into[i].Amount = &v
		}
	}
	return into
}

// LeaderboardReport ranks reps and departments by won deals, new customers
// and follow-ups in the period.
func (s *Service) LeaderboardReport(ctx context.Context, a *access.Actor, f crm.ReportFilter) (LeaderboardReport, error) {
	var out LeaderboardReport
	var err error
	out.Report, err = s.report(ctx, a, "leaderboard", f, func(tx *store.Tx, q store.ReportQuery, r *crm.Report) error {
		won, err := tx.WonByOwner(ctx, q)
		if err != nil {
			return err
		}
		customers, err := tx.CreatedByOwner(ctx, q, crm.ObjCustomer)
		if err != nil {
			return err
		}
		follow, err := tx.CreatedByOwner(ctx, q, crm.ObjFollowUp)
		if err != nil {
			return err
		}
		rows := map[int64]*LeaderRow{}
		get := func(id int64) *LeaderRow {
			if rows[id] == nil {
				rows[id] = &LeaderRow{UserRef: UserRef{UserID: id}, Won: []MoneySum{}}
			}
			return rows[id]
		}
		for _, x := range won {
			get(x.StageID).Won = append(get(x.StageID).Won, sums(r, []store.StageSum{x}, false)...)
		}
		for id, n := range customers {
			get(id).NewCustomers = n
		}
		for id, n := range follow {
			get(id).FollowUps = n
		}
		users, list, err := reportUsers(ctx, tx, q, slices.Collect(mapKeys(rows)))
		if err != nil {
			return err
		}
		dd, err := newDeptDrills(ctx, tx, q, list, nil)
		if err != nil {
			return err
		}
		wonBy := map[int64]int64{}
		for _, x := range won {
			wonBy[x.StageID] += x.Count
		}
		depts := map[int64]*LeaderRow{}
		out.Reps, out.Departments = []LeaderRow{}, []LeaderRow{}
		for id, row := range rows {
			u := users[id]
			row.UserRef = userRef(u)
			row.WonDrill = drillURL(a, r, q, crm.ObjOpportunity, id, 0, closedIn(q.Start, q.End, crm.StageWon))
			row.CustomersDrill = drillURL(a, r, q, crm.ObjCustomer, id, 0, createdIn(q.Start, q.End))
			row.FollowUpsDrill = drillURL(a, r, q, crm.ObjFollowUp, id, 0, createdIn(q.Start, q.End))
			out.Reps = append(out.Reps, *row)
			d := depts[u.DeptID]
			if d == nil {
				d = &LeaderRow{UserRef: UserRef{DeptID: u.DeptID, DeptName: u.DeptName}, Won: []MoneySum{}}
				depts[u.DeptID] = d
			}
			d.Won = addSums(d.Won, row.Won)
			d.NewCustomers += row.NewCustomers
			d.FollowUps += row.FollowUps
		}
		for id, d := range depts {
			d.WonDrill = dd.url(a, r, q, crm.ObjOpportunity, id, wonCount(*d), wonBy, closedIn(q.Start, q.End, crm.StageWon))
			d.CustomersDrill = dd.url(a, r, q, crm.ObjCustomer, id, d.NewCustomers, customers, createdIn(q.Start, q.End))
			d.FollowUpsDrill = dd.url(a, r, q, crm.ObjFollowUp, id, d.FollowUps, follow, createdIn(q.Start, q.End))
			out.Departments = append(out.Departments, *d)
		}
		rank := func(a, b LeaderRow) int {
			return cmp.Or(cmp.Compare(wonCount(b), wonCount(a)), cmp.Compare(b.NewCustomers, a.NewCustomers),
				cmp.Compare(b.FollowUps, a.FollowUps), cmp.Compare(a.UserID, b.UserID), cmp.Compare(a.DeptID, b.DeptID))
		}
		slices.SortFunc(out.Reps, rank)
		slices.SortFunc(out.Departments, rank)
		return nil
	})
	return out, err
}

func wonCount(r LeaderRow) int64 {
	var n int64
	for _, m := range r.Won {
		n += m.Count
	}
	return n
}

// mapKeys iterates a map's keys.
func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// trendBounds cuts [start, end) at the starts of weeks (Mondays) or months.
func trendBounds(start, end time.Time, interval string) []time.Time {
	out := []time.Time{start}
	var next time.Time
	if interval == crm.IntervalWeek {
		d := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, start.Location())
		next = d.AddDate(0, 0, (8-int(d.Weekday()))%7)
		if !next.After(start) {
			next = next.AddDate(0, 0, 7)
		}
	} else {
		next = time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, start.Location()).AddDate(0, 1, 0)
	}
	for ; next.Before(end); next = advance(next, interval) {
		out = append(out, next)
	}
	return append(out, end)
}

func advance(t time.Time, interval string) time.Time {
	if interval == crm.IntervalWeek {
		return t.AddDate(0, 0, 7)
	}
	return t.AddDate(0, 1, 0)
}

// trendCounts counts the new customers, leads and follow-ups in each span
// of bounds.
func trendCounts(ctx context.Context, tx *store.Tx, a *access.Actor, r *crm.Report, q store.ReportQuery, bounds []time.Time) ([]TrendCounts, error) {
	out := make([]TrendCounts, len(bounds)-1)
	for i := range out {
		out[i] = trendSpan(a, r, q, bounds[i], bounds[i+1])
	}
	for _, o := range []crm.Object{crm.ObjCustomer, crm.ObjLead, crm.ObjFollowUp} {
		if !q.Applies(o) {
			continue
		}
		counts, err := tx.CreatedByBucket(ctx, q, o, bounds)
		if err != nil {
			return nil, err
		}
		for i := range out {
			n := counts[i]
			switch o {
			case crm.ObjCustomer:
				out[i].Customers = n
			case crm.ObjLead:
				out[i].Leads = &n
			case crm.ObjFollowUp:
				out[i].FollowUps = n
			}
		}
	}
	return out, nil
}

// TrendsReport counts new customers, leads and follow-ups per week or
// month, against the previous period of the same length and a baseline.
func (s *Service) TrendsReport(ctx context.Context, a *access.Actor, f crm.ReportFilter) (TrendsReport, error) {
	var out TrendsReport
	var err error
	out.Report, err = s.report(ctx, a, "trends", f, func(tx *store.Tx, q store.ReportQuery, r *crm.Report) error {
		var err error
		if out.Buckets, err = trendCounts(ctx, tx, a, r, q, trendBounds(q.Start, q.End, r.Filter.Interval)); err != nil {
			return err
		}
		// The buckets cut the period exactly: its total is their sum, not
		// another pass over the same rows.
		out.Total = trendSpan(a, r, q, q.Start, q.End)
		if q.Applies(crm.ObjLead) {
			out.Total.Leads = new(int64)
		}
		for _, b := range out.Buckets {
			out.Total.Customers += b.Customers
			out.Total.FollowUps += b.FollowUps
			if b.Leads != nil {
				*out.Total.Leads += *b.Leads
			}
		}
		days := int(q.End.Sub(q.Start).Hours()/24 + 0.5)
		prev, err := trendCounts(ctx, tx, a, r, q, []time.Time{q.Start.AddDate(0, 0, -days), q.Start})
		if err != nil {
			return err
		}
		out.Previous = prev[0]
		if r.Filter.Baseline != "" {
			b, _ := time.ParseInLocation(time.DateOnly, r.Filter.Baseline, q.Start.Location())
			b = b.AddDate(0, 0, 1)
			base, err := trendCounts(ctx, tx, a, r, q, []time.Time{b.AddDate(0, 0, -days), b})
			if err != nil {
				return err
			}
			out.Baseline = &base[0]
		}
		return nil
	})
	return out, err
}

// AdoptionReport shows per rep and department who signs in and works in
// Custos: sign-ins, active days, follow-ups, records created and updated,
// overdue follow-ups and customers idle for IdleDays.
func (s *Service) AdoptionReport(ctx context.Context, a *access.Actor, f crm.ReportFilter) (AdoptionReport, error) {
	var out AdoptionReport
	var err error
	out.Report, err = s.report(ctx, a, "activity", f, func(tx *store.Tx, q store.ReportQuery, r *crm.Report) error {
		_, users, err := reportUsers(ctx, tx, q, nil)
		if err != nil {
			return err
		}
		_, offset := q.Start.Zone()
		act, err := tx.ActivityByUser(ctx, q, time.Duration(offset)*time.Second)
		if err != nil {
			return err
		}
		follow, err := tx.CreatedByOwner(ctx, q, crm.ObjFollowUp)
		if err != nil {
			return err
		}
		now := s.clock()
		idleSince := now.AddDate(0, 0, -r.Filter.IdleDays)
		overdue, idle, err := tx.FollowUpDue(ctx, q, now, idleSince)
		if err != nil {
			return err
		}
		depts := map[int64]*ActivityRow{}
		out.Reps, out.Departments, out.NotSignedIn = []ActivityRow{}, []ActivityRow{}, []UserRef{}
		for _, u := range users {
			if u.Disabled {
				continue
			}
			row := ActivityRow{UserRef: userRef(u), FollowUps: follow[u.ID], Overdue: overdue[u.ID], Idle: idle[u.ID],
				FollowUpsDrill: drillURL(a, r, q, crm.ObjFollowUp, u.ID, 0, createdIn(q.Start, q.End)),
				OverdueDrill:   drillURL(a, r, q, crm.ObjCustomer, u.ID, 0, crm.DrillFilter{NextFollowUpBefore: &now}),
				IdleDrill:      drillURL(a, r, q, crm.ObjCustomer, u.ID, 0, crm.DrillFilter{LastFollowUpBefore: &idleSince})}
			if x := act[u.ID]; x != nil {
				row.SignIns, row.ActiveDays, row.Created, row.Updated = x.SignIns, x.ActiveDays, x.Created, x.Updated
			}
			if row.SignIns == 0 {
				out.NotSignedIn = append(out.NotSignedIn, row.UserRef)
			}
			out.Reps = append(out.Reps, row)
			d := depts[u.DeptID]
			if d == nil {
				d = &ActivityRow{UserRef: UserRef{DeptID: u.DeptID, DeptName: u.DeptName}}
				depts[u.DeptID] = d
			}
			d.SignIns += row.SignIns
			d.FollowUps += row.FollowUps
			d.Created += row.Created
			d.Updated += row.Updated
			d.Overdue += row.Overdue
			d.Idle += row.Idle
		}
		owners := slices.Concat(slices.Collect(mapKeys(follow)), slices.Collect(mapKeys(overdue)))
		dd, err := newDeptDrills(ctx, tx, q, users, owners)
		if err != nil {
			return err
		}
		for id, d := range depts {
			d.FollowUpsDrill = dd.url(a, r, q, crm.ObjFollowUp, id, d.FollowUps, follow, createdIn(q.Start, q.End))
			d.OverdueDrill = dd.url(a, r, q, crm.ObjCustomer, id, d.Overdue, overdue, crm.DrillFilter{NextFollowUpBefore: &now})
			d.IdleDrill = dd.url(a, r, q, crm.ObjCustomer, id, d.Idle, idle, crm.DrillFilter{LastFollowUpBefore: &idleSince})
			out.Departments = append(out.Departments, *d)
		}
		slices.SortFunc(out.Departments, func(a, b ActivityRow) int { return cmp.Compare(a.DeptID, b.DeptID) })
		return nil
	})
	return out, err
}

// PoolReport counts the customers entering and leaving the public pool in
// the period and the claims per rep.
func (s *Service) PoolReport(ctx context.Context, a *access.Actor, f crm.ReportFilter) (PoolReport, error) {
	var out PoolReport
	var err error
	out.Report, err = s.report(ctx, a, "pool", f, func(tx *store.Tx, q store.ReportQuery, r *crm.Report) error {
		var claims map[int64]int64
		var err error
		if out.Entered, out.Left, claims, err = tx.PoolMoves(ctx, q); err != nil {
			return err
		}
		if a.Can(crm.ObjCustomer, crm.ActRead) {
			if out.InPool, err = tx.PoolSize(ctx, q); err != nil {
				return err
			}
			// The pool has no owners: the team filters do not narrow it.
			d := crm.DrillFilter{Level: r.Filter.Level, Source: r.Filter.Source, Industry: r.Filter.Industry}
			out.InPoolDrill = strings.TrimSuffix("/api/v1/pool?"+d.Query().Encode(), "?")
		}
		// Entered and Left (and the claims) count moves, not customers: a
		// customer may enter and leave more than once in a period, since be
		// deleted, and a move is scoped by the owner it left or went to, not
		// by the customer's owner now. No customer list can hold exactly
		// those, so they have no drill-down.
		users, _, err := reportUsers(ctx, tx, q, slices.Collect(mapKeys(claims)))
		if err != nil {
			return err
		}
		out.Claims = []UserCount{}
		for id, n := range claims {
			out.Claims = append(out.Claims, UserCount{UserRef: userRef(users[id]), Count: n})
		}
		slices.SortFunc(out.Claims, func(a, b UserCount) int {
			return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.UserID, b.UserID))
		})
		return nil
	})
	return out, err
}
