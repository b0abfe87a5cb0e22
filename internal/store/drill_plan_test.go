package store_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// TestDrillDownListsReadTheirRange: a report's drill-down list reads the
// range its filters name from an index — the period's records from the
// creation-time indexes in the order the drill-down asks for (sort=created),
// the deals closed in it from the close-time index, a rep's overdue
// customers from the next follow-up's — under a department and the whole
// organisation alike, never a scan of the table, on both databases (on
// PostgreSQL with sequential scans and sorts disabled for the question,
// as in TestListOrdersReadAnIndex).
func TestDrillDownListsReadTheirRange(t *testing.T) {
	pgOff := []string{"SET LOCAL enable_seqscan = off", "SET LOCAL random_page_cost = 1"}
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		w := seedOrderWorld(t, ctx, db, 2000, 1)
		dept := store.Scope{Kind: crm.ScopeDepartment, UserID: w.rep.ID, DeptID: w.deptA.ID}
		all := store.Scope{Kind: crm.ScopeAll, UserID: w.rep.ID}
		base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		from, to := base.Add(100*time.Minute), base.Add(300*time.Minute)
		period := crm.DrillFilter{CreatedFrom: &from, CreatedTo: &to}
		closed := crm.DrillFilter{ClosedFrom: &from, ClosedTo: &to, StageKind: crm.StageWon}
		reached := period
		reached.ReachedPosition = ptr(2)
		idle := crm.DrillFilter{LastFollowUpBefore: &to}
		month := crm.DrillFilter{StageKind: crm.StageOpen, ExpectedCloseFrom: "2026-03-01", ExpectedCloseTo: "2026-03-31"}
		for _, s := range []struct {
			name  string
			scope store.Scope
		}{{"department", dept}, {"all", all}} {
			child := store.ChildScope{Own: s.scope, Customer: s.scope}
			for _, c := range []struct {
				name, index string
				read        func(tx *store.Tx) error
			}{
				{"customers created in the period", "customers_live_(owner_)?created", func(tx *store.Tx) error {
					q := store.CustomerQuery{Scope: s.scope, Filter: crm.CustomerFilter{Sort: "created", Drill: period, Limit: 20}}
					_, _, err := tx.ListCustomers(ctx, q)
					return both(err, func() error { _, err := tx.CountCustomers(ctx, q); return err })
				}},
				{"a rep's overdue customers", "customers_live_owner_next", func(tx *store.Tx) error {
					q := store.CustomerQuery{Scope: s.scope, DueBefore: &to,
						Filter: crm.CustomerFilter{OwnerID: w.rep.ID, Sort: "next_follow_up", Limit: 20}}
					_, _, err := tx.ListCustomers(ctx, q)
					return both(err, func() error { _, err := tx.CountCustomers(ctx, q); return err })
				}},
				{"a rep's idle customers", "customers_live_owner(_idle)?", func(tx *store.Tx) error {
					q := store.CustomerQuery{Scope: s.scope, Filter: crm.CustomerFilter{OwnerID: w.rep.ID, Drill: idle, Limit: 20}}
					_, _, err := tx.ListCustomers(ctx, q)
					return both(err, func() error { _, err := tx.CountCustomers(ctx, q); return err })
				}},
				{"leads created in the period", "leads_live_(owner_)?created", func(tx *store.Tx) error {
					q := store.LeadQuery{Scope: s.scope, Filter: crm.ListFilter{Sort: "created", Drill: period, Limit: 20}}
					_, _, err := tx.ListLeads(ctx, q)
					return both(err, func() error { _, err := tx.CountLeads(ctx, q); return err })
				}},
				{"opportunities created in the period", "opportunities_live_created", func(tx *store.Tx) error {
					q := store.OpportunityQuery{Scope: child, Filter: crm.ListFilter{Sort: "created", Drill: period, Limit: 20}}
					_, _, err := tx.ListOpportunities(ctx, q)
					return both(err, func() error { _, err := tx.CountOpportunities(ctx, q); return err })
				}},
				{"the funnel's reach", "opportunities_live_(owner_)?(created|reach)", func(tx *store.Tx) error {
					q := store.OpportunityQuery{Scope: child, Filter: crm.ListFilter{Sort: "created", Drill: reached, Limit: 20}}
					_, _, err := tx.ListOpportunities(ctx, q)
					return both(err, func() error { _, err := tx.CountOpportunities(ctx, q); return err })
				}},
				{"open deals expected in a month", "opportunities_live_expected_close", func(tx *store.Tx) error {
					q := store.OpportunityQuery{Scope: child, Filter: crm.ListFilter{Drill: month, Limit: 20}}
					_, _, err := tx.ListOpportunities(ctx, q)
					return both(err, func() error { _, err := tx.CountOpportunities(ctx, q); return err })
				}},
				{"deals won in the period", "opportunities_live_(owner_)?closed", func(tx *store.Tx) error {
					q := store.OpportunityQuery{Scope: child, Filter: crm.ListFilter{Drill: closed, Limit: 20}}
					_, _, err := tx.ListOpportunities(ctx, q)
					return both(err, func() error { _, err := tx.CountOpportunities(ctx, q); return err })
				}},
				{"follow-ups created in the period", "follow_ups_live_created", func(tx *store.Tx) error {
					q := store.FollowUpQuery{Scope: child, Filter: crm.ListFilter{Drill: period, Limit: 20}}
					_, _, err := tx.ListFollowUps(ctx, q)
					return both(err, func() error { _, err := tx.CountFollowUps(ctx, q); return err })
				}},
			} {
				plans, err := store.ExplainReads(ctx, db, pgOff, c.read)
				if err != nil {
					t.Fatalf("%s, %s: %v", c.name, s.name, err)
				}
				plan := strings.Join(plans, "\n")
				// A count reads its capped subquery's rows: no table.
				plan = strings.ReplaceAll(plan, "SCAN capped", "(capped count)")
				full := strings.Contains(plan, "Seq Scan on") || regexp.MustCompile(`SCAN [a-z]+\n|SCAN [a-z]+$`).MatchString(plan)
				if !regexp.MustCompile(`\b`+c.index+`\b`).MatchString(plan) || full {
					t.Errorf("%s, %s: want %s, no table scan; plan:\n%s", c.name, s.name, c.index, plan)
				}
			}
		}
	})
}

// both runs next unless err is set: a list's page, then its count.
func both(err error, next func() error) error {
	if err != nil {
		return err
	}
	return next()
}
