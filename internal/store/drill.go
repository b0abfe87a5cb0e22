package store

import (
	"maps"
	"slices"
	"strings"
	"time"

	"custos/internal/crm"
)

// drillWhere renders a list's report drill-down filters (crm.DrillFilter)
// on a record of o aliased alias, as " AND …" conditions: the same
// conditions the report queries (reports.go) count by, so a figure's list
// holds exactly its records. The service has checked that o takes them.
// The time conditions are ranges on the columns the lists' indexes lead
// with (created_at, closed_at), so a drill-down reads its period, not the
// scope.
func drillWhere(o crm.Object, alias string, f crm.DrillFilter, a *args) string {
	w := ""
	between := func(col string, from, to *time.Time) {
		if from != nil {
			w += " AND " + alias + "." + col + " >= " + a.add(ms(*from))
		}
		if to != nil {
			w += " AND " + alias + "." + col + " < " + a.add(ms(*to))
		}
	}
	between("created_at", f.CreatedFrom, f.CreatedTo)
	between("closed_at", f.ClosedFrom, f.ClosedTo)
	if f.StageKind != "" {
		// Correlated, not "stage_id IN (…)": the planner then reads the
		// range a drill-down names (closed_at, created_at) rather than every
		// deal of the kind ever through opportunities_stage.
		w += " AND EXISTS (SELECT 1 FROM stages st WHERE st.id = " + alias + ".stage_id AND st.kind = " + a.add(f.StageKind) + ")"
	}
	if f.Currency != "" {
		w += " AND " + alias + ".currency = " + a.add(f.Currency)
	}
	if f.ExpectedCloseFrom != "" {
		w += " AND " + alias + ".expected_close_date >= " + a.add(f.ExpectedCloseFrom)
	}
	if f.ExpectedCloseTo != "" {
		w += " AND " + alias + ".expected_close_date <= " + a.add(f.ExpectedCloseTo)
	}
	if f.LostReason != "" {
		w += " AND " + alias + ".lost_reason = " + a.add(f.LostReason)
	}
	if f.ReachedPosition != nil {
		// As FunnelReach: the furthest open or won stage of the history.
		w += " AND " + alias + ".reached_position >= " + a.add(*f.ReachedPosition)
	}
	if f.LastFollowUpBefore != nil {
		w += " AND COALESCE(" + alias + ".last_followed_up_at, " + alias + ".created_at) < " + a.add(ms(*f.LastFollowUpBefore))
	}
	return w + customerFieldsWhere(o, alias, f.CustomerFields(), a)
}

// customerFieldsWhere renders customer field filters (level, source,
// industry) on a record of o: its own column where o has the field (a
// customer; a lead's source), else its customer's.
func customerFieldsWhere(o crm.Object, alias string, values map[string]string, a *args) string {
	spec, _ := crm.Spec(o)
	cs, _ := crm.Spec(crm.ObjCustomer)
	w := ""
	var via []string
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if f, ok := spec.Field(name); ok {
			w += " AND " + alias + "." + f.Column + " = " + a.add(values[name])
			continue
		}
		f, _ := cs.Field(name)
		via = append(via, "rc."+f.Column+" = "+a.add(values[name]))
	}
	if len(via) > 0 {
		w += " AND EXISTS (SELECT 1 FROM customers rc WHERE rc.id = " + alias + ".customer_id AND " + strings.Join(via, " AND ") + ")"
	}
	return w
}
