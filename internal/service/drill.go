package service

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// drillOwnFields names, per drill-down parameter that filters by one of
// the list's own fields rather than by a time, the field it reads: the
// field rules refuse it to a role that may not see that field.
var drillOwnFields = map[string]string{"currency": "currency", "lost_reason": "lost_reason",
	"expected_close_from": "expected_close_date", "expected_close_to": "expected_close_date"}

// checkDrill refuses the drill-down filters o's list does not take, and
// those on a field the actor may not see in the clear: a customer's level,
// source or industry (its own on a customer, a lead's own source) or the
// record's own field — filtering by it would answer what it holds, as the
// reports refuse it.
func checkDrill(a *access.Actor, o crm.Object, d crm.DrillFilter) error {
	if err := d.Check(o); err != nil {
		return err
	}
	var p crm.Problems
	spec, _ := crm.Spec(o)
	for _, name := range slices.Sorted(maps.Keys(d.CustomerFields())) {
		owner := crm.ObjCustomer
		if _, ok := spec.Field(name); ok {
			owner = o
		}
		if !a.Field(owner, name).Visible() {
			p.Add(name, "not_visible")
		}
	}
	q := d.Query()
	for _, name := range slices.Sorted(maps.Keys(drillOwnFields)) {
		if q.Get(name) != "" && !a.Field(o, drillOwnFields[name]).Visible() {
			p.Add(name, "not_visible")
		}
	}
	return p.Err()
}

// ListFollowUpsBy returns a page of the follow-ups the actor may see
// (their own, and those of customers within their scope), newest created
// first, narrowed by owner, department and the drill-down filters: the
// list a report's follow-up figures drill down to.
func (s *Service) ListFollowUpsBy(ctx context.Context, a *access.Actor, f crm.ListFilter) (Page[crm.FollowUp], error) {
	var p crm.Problems
	if f.Query != "" {
		p.Add("q", "not_filterable")
	}
	if f.Status != "" {
		p.Add("status", "not_filterable")
	}
	if f.StageID != 0 {
		p.Add("stage_id", "not_filterable")
	}
	if f.StalledDays != 0 {
		p.Add("stalled_days", "not_filterable")
	}
	if len(f.Custom) > 0 {
		p.Add("custom", "not_filterable")
	}
	if f.Sort != "" && f.Sort != "created" {
		p.Add("sort", "enum", "created")
	}
	if err := p.Err(); err != nil {
		return Page[crm.FollowUp]{}, err
	}
	q := store.FollowUpQuery{Scope: childScope(a, crm.ObjFollowUp, false), Filter: f}
	return listRecords(ctx, s, a, f, recordList[crm.FollowUp]{object: crm.ObjFollowUp,
		search: func(*store.DedupKey, []string) {}, // q is refused above
		custom: func([]store.CustomMatch) {},       // and so are custom filters
		list:   func(tx *store.Tx) ([]crm.FollowUp, string, error) { return tx.ListFollowUps(ctx, q) },
		count:  func(tx *store.Tx) (int, error) { return tx.CountFollowUps(ctx, q) },
		id:     func(x crm.FollowUp) int64 { return x.ID }})
}

// drillURL is the API list of o's records a report figure counts: the
// report's filters (department, owner, customer fields, on opportunities
// the currency) with the figure's own (d, and an owner or a department: a
// row's, within the report's). "" when the list cannot express them: a
// customer filter on a lead list that has no such field (the figure is
// null then too), or a filter the list would refuse the reader (a field
// their role may not see, such as a hidden expected close date).
func drillURL(a *access.Actor, r *crm.Report, q store.ReportQuery, o crm.Object, ownerID, deptID int64, d crm.DrillFilter) string {
	if !q.Applies(o) {
		return ""
	}
	f := r.Filter
	d.Level, d.Source, d.Industry = f.Level, f.Source, f.Industry
	if o == crm.ObjOpportunity {
		d.Currency = f.Currency
	}
	if checkDrill(a, o, d) != nil {
		return ""
	}
	v := d.Query()
	dept, owner := cmp.Or(deptID, f.DepartmentID), cmp.Or(ownerID, f.OwnerID)
	// A report counts the records of the people the reader sees (their
	// owner scope), a list every record they may open (shared with them, a
	// colleague's on their customer): the list is narrowed to those people.
	switch own := q.Scopes[o].Own; {
	case owner == 0 && own.Kind == crm.ScopeOwn:
		owner = own.UserID
	case owner == 0 && dept == 0 && (own.Kind == crm.ScopeSubtree || own.Kind == crm.ScopeDepartment):
		dept = a.DeptID
	}
	if dept != 0 {
		v.Set("department_id", strconv.FormatInt(dept, 10))
	}
	if owner != 0 {
		v.Set("owner_id", strconv.FormatInt(owner, 10))
	}
	// The order whose index holds the range: a period's records are read
	// from the creation-time indexes (…_live_created, …_live_owner_created),
	// overdue customers from the next follow-up's, not the whole scope.
	switch {
	case d.CreatedFrom != nil && o != crm.ObjFollowUp: // follow-ups have that order only
		v.Set("sort", "created")
	case d.NextFollowUpBefore != nil:
		v.Set("sort", "next_follow_up")
	}
	spec, _ := crm.Spec(o) // the list's path is the registry's
	return "/api/v1/" + spec.Path + "?" + v.Encode()
}

// createdIn is the drill-down of the records created in [start, end).
func createdIn(start, end time.Time) crm.DrillFilter {
	start, end = start.UTC(), end.UTC()
	return crm.DrillFilter{CreatedFrom: &start, CreatedTo: &end}
}

// closedIn is the drill-down of the opportunities closed in [start, end)
// and now in a stage of the kind.
func closedIn(start, end time.Time, kind string) crm.DrillFilter {
	start, end = start.UTC(), end.UTC()
	return crm.DrillFilter{ClosedFrom: &start, ClosedTo: &end, StageKind: kind}
}

// withStage narrows an opportunity drill-down to one stage.
func withStage(drill string, stageID int64) string {
	if drill == "" {
		return ""
	}
	return drill + "&stage_id=" + strconv.FormatInt(stageID, 10)
}

// trendSpan is an empty span of the trend report with its drill-downs:
// the customers, leads and follow-ups created in [start, end).
func trendSpan(a *access.Actor, r *crm.Report, q store.ReportQuery, start, end time.Time) TrendCounts {
	d := createdIn(start, end)
	return TrendCounts{Start: start.UTC(), End: end.UTC(), CustomersDrill: drillURL(a, r, q, crm.ObjCustomer, 0, 0, d),
		LeadsDrill: drillURL(a, r, q, crm.ObjLead, 0, 0, d), FollowUpsDrill: drillURL(a, r, q, crm.ObjFollowUp, 0, 0, d)}
}

// deptDrills gives a report's department rows their drill-downs. A row
// counts the records of its department's own people, and department_id
// reaches the departments below too: a row has its list only when the
// people below (and those the row leaves out: disabled users in the
// activity report) hold none of the figure's records — when the figure's
// counts of every owner in the department and below add up to the row.
type deptDrills struct {
	paths  map[int64]string // department id → path
	deptOf map[int64]int64  // user id → department id
}

// newDeptDrills reads the departments and the departments of the owners
// (users) a report names, with any other owner in ids.
func newDeptDrills(ctx context.Context, tx *store.Tx, q store.ReportQuery, users []store.ReportUser, ids []int64) (deptDrills, error) {
	dd := deptDrills{paths: map[int64]string{}, deptOf: map[int64]int64{}}
	for _, u := range users {
		dd.deptOf[u.ID] = u.DeptID
	}
	var missing []int64
	for _, id := range ids {
		if _, ok := dd.deptOf[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		more, err := tx.ReportUsers(ctx, q, missing)
		if err != nil {
			return dd, err
		}
		for _, u := range more {
			dd.deptOf[u.ID] = u.DeptID
		}
	}
	depts, err := tx.ListDepartments(ctx)
	for _, d := range depts {
		dd.paths[d.ID] = d.Path
	}
	return dd, err
}

// url is the drill-down of a department row's figure n, which counts
// (per owner) counts: "" unless the department's list holds exactly it.
func (dd deptDrills) url(a *access.Actor, r *crm.Report, q store.ReportQuery, o crm.Object, dept, n int64, counts map[int64]int64, d crm.DrillFilter) string {
	prefix, ok := dd.paths[dept]
	if !ok {
		return ""
	}
	var sum int64
	for owner, c := range counts {
		p, known := dd.paths[dd.deptOf[owner]]
		switch {
		case c == 0:
		case !known:
			return "" // an owner whose department is unknown: no answer
		case strings.HasPrefix(p, prefix):
			sum += c
		}
	}
	if sum != n {
		return ""
	}
	return drillURL(a, r, q, o, 0, dept, d)
}
