package service

import (
	"context"
	"strconv"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// DefaultStalledDays is how long an open opportunity goes without a stage
// change or a follow-up before the manager's home counts it as stalled,
// unless the setting StalledDaysSetting says otherwise.
const DefaultStalledDays = 14

// StalledDaysSetting names the setting that overrides DefaultStalledDays.
const StalledDaysSetting = "team.stalled_days"

// TeamFilter narrows the team view to one rep or one department (and the
// departments below it); either only narrows the actor's scope.
type TeamFilter struct {
	OwnerID int64 `json:"owner_id,omitempty"`
	DeptID  int64 `json:"department_id,omitempty"`
}

func (f TeamFilter) validate() error {
	var p crm.Problems
	if f.OwnerID < 0 {
		p.Add("owner_id", "format")
	}
	if f.DeptID < 0 {
		p.Add("department_id", "format")
	}
	return p.Err()
}

// TeamRow is one rep's numbers. A number is nil when the actor may not
// read the object it counts.
type TeamRow struct {
	User         store.TeamUser `json:"user"`
	Overdue      *int           `json:"overdue_follow_ups"`
	DueToday     *int           `json:"due_today_follow_ups"`
	TasksOverdue *int           `json:"overdue_tasks"`
	Stalled      *int           `json:"stalled_opportunities"`
}

// TeamSummary is the manager's view of the team.
type TeamSummary struct {
	Rows        []TeamRow `json:"rows"`
	StalledDays int       `json:"stalled_days"`
}

// TeamScoped reports whether the actor's customer scope covers other
// people: such an actor's home shows the team.
func TeamScoped(a *access.Actor) bool {
	return a != nil && a.Can(crm.ObjCustomer, crm.ActRead) && a.Scope(crm.ObjCustomer).Kind != crm.ScopeOwn
}

// TeamChoices are the people and departments a team filter may name: those
// within the actor's customer scope (the UI offers nothing else).
type TeamChoices struct {
	Users       []store.TeamUser `json:"users"`
	Departments []crm.Department `json:"departments"`
}

// TeamChoices lists the people in the actor's scope and the departments
// they belong to, with the departments between them and the actor's own
// (so a subtree can be chosen as a whole). An actor who sees only their own
// records gets none.
func (s *Service) TeamChoices(ctx context.Context, a *access.Actor) (TeamChoices, error) {
	var c TeamChoices
	if !TeamScoped(a) {
		return c, nil
	}
	scope := a.Scope(crm.ObjCustomer)
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if c.Users, err = tx.TeamUsers(ctx, scope, 0, 0); err != nil {
			return err
		}
		depts, err := tx.ListDepartments(ctx)
		if err != nil {
			return err
		}
		byID := map[int64]crm.Department{}
		for _, d := range depts {
			byID[d.ID] = d
		}
		keep := map[int64]bool{}
		for _, u := range c.Users {
			if d, ok := byID[u.DeptID]; ok {
				keep[d.ID] = true
			}
		}
		for _, d := range depts {
			if keep[d.ID] || scopeHoldsDept(scope, d) {
				c.Departments = append(c.Departments, d)
			}
		}
		return nil
	})
	return c, err
}

// scopeHoldsDept reports whether every owner in department d is within
// the scope.
func scopeHoldsDept(s crm.RecordScope, d crm.Department) bool {
	switch s.Kind {
	case crm.ScopeAll:
		return true
	case crm.ScopeDepartment:
		return d.ID == s.DeptID
	case crm.ScopeSubtree:
		return len(d.Path) >= len(s.DeptPath) && d.Path[:len(s.DeptPath)] == s.DeptPath
	}
	return false
}

// StalledDays is the configured number of days after which an open
// opportunity counts as stalled.
func (s *Service) StalledDays(ctx context.Context) (int, error) {
	var v string
	err := s.db.ReadTx(ctx, func(tx *store.Tx) (err error) { v, err = tx.GetSetting(ctx, StalledDaysSetting); return err })
	if err != nil {
		return 0, err
	}
	if n, perr := strconv.Atoi(v); perr == nil && n > 0 {
		return n, nil
	}
	return DefaultStalledDays, nil
}

// Team counts, per rep in the actor's scope, the customers whose follow-up
// is overdue or due today, the open tasks past due and the stalled
// opportunities — in SQL under each object's scope — and records the read
// with the ids of the reps shown. A rep's own scope has no team.
func (s *Service) Team(ctx context.Context, a *access.Actor, f TeamFilter) (TeamSummary, error) {
	out := TeamSummary{Rows: []TeamRow{}}
	if err := s.require(ctx, a, crm.ObjCustomer, crm.ActRead); err != nil {
		return out, err
	}
	if err := f.validate(); err != nil {
		return out, err
	}
	if !TeamScoped(a) {
		return out, crm.Errorf(crm.Forbidden, "your scope covers only your own records")
	}
	days, err := s.StalledDays(ctx)
	if err != nil {
		return out, err
	}
	out.StalledDays = days
	now := s.clock()
	start, end := dayBounds(now, s.Location(a))
	q := store.TeamQuery{Customers: a.Scope(crm.ObjCustomer), Tasks: a.Scope(crm.ObjTask), Opportunities: a.Scope(crm.ObjOpportunity),
		OwnerID: f.OwnerID, DeptID: f.DeptID, DayStart: start, DayEnd: end, Now: now, StalledBefore: now.AddDate(0, 0, -days)}
	canTasks, canOpps := a.Can(crm.ObjTask, crm.ActRead), a.Can(crm.ObjOpportunity, crm.ActRead)
	err = s.db.ReadTx(ctx, func(tx *store.Tx) error {
		users, err := tx.TeamUsers(ctx, q.Customers, f.OwnerID, f.DeptID)
		if err != nil {
			return err
		}
		counts, err := tx.TeamCounts(ctx, q)
		if err != nil {
			return err
		}
		for _, u := range users {
			c := counts[u.ID]
			if c == nil {
				c = &store.TeamCounts{}
			}
			row := TeamRow{User: u, Overdue: &c.Overdue, DueToday: &c.DueToday}
			if canTasks {
				row.TasksOverdue = &c.TasksOverdue
			}
			if canOpps {
				row.Stalled = &c.Stalled
			}
			out.Rows = append(out.Rows, row)
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	return out, s.auditRead(ctx, a, "team.summary", "", 0, ids(out.Rows, func(r TeamRow) int64 { return r.User.ID }))
}

// dayBounds are the start of the day of t in loc and of the next day.
func dayBounds(t time.Time, loc *time.Location) (time.Time, time.Time) {
	y, m, d := t.In(loc).Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, loc)
	return start, start.AddDate(0, 0, 1)
}

// customerDue turns CustomerFilter.Due into bounds on the next follow-up.
func (s *Service) customerDue(a *access.Actor, q *store.CustomerQuery) error {
	switch q.Filter.Due {
	case "":
		return nil
	case crm.DueOverdue:
		start, _ := dayBounds(s.clock(), s.Location(a))
		q.DueBefore = &start
	case crm.DueToday:
		start, end := dayBounds(s.clock(), s.Location(a))
		q.DueFrom, q.DueBefore = &start, &end
	default:
		return &crm.Error{Code: crm.Invalid, Message: "unknown due filter",
			Fields: []crm.FieldError{{Field: "due", Rule: "enum", Param: crm.DueOverdue + ", " + crm.DueToday}}}
	}
	return nil
}

// checkTeamFilter refuses negative owner and department ids.
func checkTeamFilter(ownerID, deptID int64) error {
	return TeamFilter{OwnerID: ownerID, DeptID: deptID}.validate()
}

// BoardTotals are the opportunity board's sums per stage and currency. When
// the actor may not see amounts in the clear, AmountsHidden is set and only
// the counts are given.
type BoardTotals struct {
	Stages        []StageTotal `json:"stages"`
	AmountsHidden bool         `json:"amounts_hidden,omitempty"`
}

// StageTotal is one stage's opportunities in one currency: their count,
// the sum of their amounts in minor units and the weighted sum (amount ×
// the stage's probability / 100, rounded down). The sums are absent when
// the actor may not see amounts.
type StageTotal struct {
	StageID  int64  `json:"stage_id"`
	Currency string `json:"currency"`
	Count    int    `json:"count"`
	Amount   *int64 `json:"amount,omitempty"`
	Weighted *int64 `json:"weighted,omitempty"`
}

// OpportunityTotals sums the opportunities the actor may see, filtered as f
// asks (owner, department, customer, search ...), per stage and currency.
// Amounts hidden or masked for the actor's role are not summed: a sum
// reveals what it adds up.
func (s *Service) OpportunityTotals(ctx context.Context, a *access.Actor, f crm.ListFilter) (BoardTotals, error) {
	out := BoardTotals{Stages: []StageTotal{}}
	if err := s.require(ctx, a, crm.ObjOpportunity, crm.ActRead); err != nil {
		return out, err
	}
	if err := checkTeamFilter(f.OwnerID, f.DeptID); err != nil {
		return out, err
	}
	if err := checkListFields(a, crm.ObjOpportunity, customFilterFields(f.Custom), ""); err != nil {
		return out, err
	}
	q := opportunityScope(a)
	q.Filter = f
	if err := s.opportunityStalled(&q); err != nil {
		return out, err
	}
	_, terms, none := s.searchFor(a, crm.ObjOpportunity, f.Query)
	if none {
		return out, nil
	}
	q.Terms = terms
	out.AmountsHidden = !a.Field(crm.ObjOpportunity, "amount").Visible()
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		custom, err := s.customMatches(ctx, tx, a, crm.ObjOpportunity, f.Custom)
		if err != nil {
			return err
		}
		q.Custom = custom
		totals, err := tx.OpportunityStageTotals(ctx, q)
		for _, t := range totals {
			st := StageTotal{StageID: t.StageID, Currency: t.Currency, Count: t.Count}
			if !out.AmountsHidden {
				st.Amount, st.Weighted = &t.Amount, &t.Weighted
			}
			out.Stages = append(out.Stages, st)
		}
		return err
	})
	if err != nil {
		return out, err
	}
	return out, s.auditRead(ctx, a, "opportunity.totals", crm.ObjOpportunity, 0, nil)
}

// maxStalledDays bounds the stalled filter at ten years.
const maxStalledDays = 3650

// opportunityStalled turns ListFilter.StalledDays into the time the
// store compares with.
func (s *Service) opportunityStalled(q *store.OpportunityQuery) error {
	switch n := q.Filter.StalledDays; {
	case n < 0 || n > maxStalledDays:
		return &crm.Error{Code: crm.Invalid, Message: "stalled_days out of range",
			Fields: []crm.FieldError{{Field: "stalled_days", Rule: "range", Param: "0–" + strconv.Itoa(maxStalledDays)}}}
	case n > 0:
		cut := s.clock().AddDate(0, 0, -n)
		q.StalledBefore = &cut
	}
	return nil
}
