package store_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// orderWorld is an organisation for plan tests: department A with the
// reps rep and mate, department B with other and six more. Of n customers
// the rep owns rep in twenty, mate one in twenty, the pool one in twenty,
// the seven of B the rest; two in three have a next follow-up. Every
// second owned customer has a contact, a lead, an opportunity, a contract
// and a task
// (one in three without a due time) of its owner.
type orderWorld struct {
	rep, mate, other crm.User
	deptA            crm.Department
}

func seedOrderWorld(t testing.TB, ctx context.Context, db *store.DB, n, rep int) orderWorld {
	t.Helper()
	var w orderWorld
	err := db.WriteTx(ctx, func(tx *store.Tx) error {
		now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		role := crm.Role{Key: "sales", Name: "sales", Grants: map[crm.Object]crm.ObjectGrant{}}
		if err := tx.InsertRole(ctx, &role, now); err != nil {
			return err
		}
		w.deptA = crm.Department{Name: "A", CreatedAt: now}
		deptB := crm.Department{Name: "B", CreatedAt: now}
		for _, d := range []*crm.Department{&w.deptA, &deptB} {
			if err := tx.InsertDepartment(ctx, d); err != nil {
				return err
			}
		}
		users := make([]crm.User, 9)
		for i := range users {
			dept := deptB.ID
			if i < 2 {
				dept = w.deptA.ID
			}
			users[i] = crm.User{Username: fmt.Sprintf("u%d", i), DisplayName: "U", DepartmentID: dept, RoleID: role.ID, CreatedAt: now, UpdatedAt: now}
			if err := tx.InsertUser(ctx, &users[i], "h"); err != nil {
				return err
			}
		}
		w.rep, w.mate, w.other = users[0], users[1], users[2]
		stages, err := tx.ListStages(ctx)
		if err != nil || len(stages) == 0 {
			return fmt.Errorf("stages: %v %v", stages, err)
		}
		for i := range n {
			var owner int64
			switch i % 20 {
			case rep: // the pool
			case rep + 1:
				owner = users[1].ID
			default:
				owner = users[2+i%7].ID
				if i%20 < rep {
					owner = users[0].ID
				}
			}
			at := now.Add(time.Duration(i) * time.Minute)
			c := crm.Customer{CustomerFields: crm.CustomerFields{Name: fmt.Sprintf("客户%05d", (i*7919)%100000), Status: "prospect"}}
			c.OwnerID, c.CreatedAt, c.CreatedBy = owner, at, users[0].ID
			if err := tx.InsertCustomer(ctx, &c); err != nil {
				return err
			}
			if i%3 != 0 {
				next := at.Add(time.Duration((i*37)%500) * time.Hour)
				if err := tx.TouchCustomerFollowUp(ctx, c.ID, at, &next); err != nil {
					return err
				}
			}
			if owner == 0 || i%2 != 0 {
				continue
			}
			k := crm.Contact{ContactFields: crm.ContactFields{Name: "x", CustomerID: c.ID}}
			k.OwnerID, k.CreatedAt, k.CreatedBy = owner, at, owner
			if err := tx.InsertContact(ctx, &k); err != nil {
				return err
			}
			l := crm.Lead{LeadFields: crm.LeadFields{Name: "x"}, Status: "new"}
			l.OwnerID, l.CreatedAt, l.CreatedBy = owner, at, owner
			if err := tx.InsertLead(ctx, &l); err != nil {
				return err
			}
			o := crm.Opportunity{OpportunityFields: crm.OpportunityFields{CustomerID: c.ID, Name: "x", Amount: int64((i * 7919) % 100000), Currency: "CNY"}}
			o.OwnerID, o.CreatedAt, o.CreatedBy, o.StageID = owner, at, owner, stages[0].ID
			if err := tx.InsertOpportunity(ctx, &o); err != nil {
				return err
			}
			ct := crm.Contract{ContractFields: crm.ContractFields{CustomerID: c.ID, Number: fmt.Sprintf("HT%05d", i), Name: "x",
				Amount: int64((i * 7907) % 100000), Currency: "CNY", Status: "draft"}}
			ct.OwnerID, ct.CreatedAt, ct.CreatedBy = owner, at, owner
			if err := tx.InsertContract(ctx, &ct); err != nil {
				return err
			}
			task := crm.Task{TaskFields: crm.TaskFields{Title: "x", CustomerID: c.ID}}
			if i%3 != 0 {
				due := at.Add(time.Duration((i*13)%300) * time.Hour)
				task.DueAt = &due
			}
			task.OwnerID, task.CreatedAt, task.CreatedBy = owner, at, owner
			if err := tx.InsertTask(ctx, &task); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Autovacuum would analyse the new rows in a while; plans are those of
	// a settled database.
	if err := store.Analyze(ctx, db); err != nil {
		t.Fatal(err)
	}
	return w
}

// orderCase is one list read whose plan must read the index named, and
// sort nothing unless sorts says so.
type orderCase struct {
	name  string
	index string
	sorts bool // the scope's rows (at most store.CountCap) are sorted
	read  func(tx *store.Tx, after string) (next string, err error)
}

// TestListOrdersReadAnIndex: every order a list offers (the customers'
// four, the pool's, "mine" under a wider scope as on the Today page, the
// Today page's tasks, the contacts', leads', opportunities' and contracts') is read
// from an index under the scope in that order, for own, department and
// all scopes, on the first page and after a cursor, on both databases. A
// department within store.CountCap rows is read through an index and may
// be sorted (SQLite reads its owners' rows and sorts at most CountCap of
// them); a larger one (OrderedScan) scans the order's index and checks
// owners on the way. On PostgreSQL sorting and sequential scans are
// disabled for the question, so the answer is "an index can serve it"
// whatever a small table's statistics say; the planner's real choice at
// size is in BenchmarkListOrders.
func TestListOrdersReadAnIndex(t *testing.T) {
	pgOff := []string{"SET LOCAL enable_sort = off", "SET LOCAL enable_incremental_sort = off", "SET LOCAL enable_seqscan = off",
		// A small table's rows lie in a few pages in insertion order, which
		// makes an index on the time of insertion look cheaper than the
		// owner's index; costing every page alike removes that artefact.
		"SET LOCAL random_page_cost = 1"}
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		w := seedOrderWorld(t, ctx, db, 2000, 1)
		for _, c := range orderCases(w, db.Dialect() == store.Postgres) {
			var next string
			err := db.ReadTx(ctx, func(tx *store.Tx) error {
				var err error
				next, err = c.read(tx, "")
				return err
			})
			if err != nil || next == "" {
				t.Fatalf("%s: next %q, %v; want a second page", c.name, next, err)
			}
			for _, after := range []string{"", next} {
				plans, err := store.ExplainReads(ctx, db, pgOff, func(tx *store.Tx) error {
					_, err := c.read(tx, after)
					return err
				})
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				plan := plans[len(plans)-1] // the page; a count may come first
				sorted := strings.Contains(plan, "TEMP B-TREE") || strings.Contains(plan, "Sort")
				full := strings.Contains(plan, "Seq Scan") || regexp.MustCompile(`SCAN [a-z]+\n|SCAN [a-z]+$`).MatchString(plan)
				if !regexp.MustCompile(`\b`+c.index+`\b`).MatchString(plan) || sorted && !c.sorts || full {
					t.Errorf("%s (cursor %v): want %s, sorting %v; plan:\n%s", c.name, after != "", c.index, c.sorts, plan)
				}
			}
		}
	})
}

func orderCases(w orderWorld, postgres bool) []orderCase {
	own := store.Scope{Kind: crm.ScopeOwn, UserID: w.rep.ID}
	dept := store.Scope{Kind: crm.ScopeDepartment, UserID: w.rep.ID, DeptID: w.deptA.ID}
	all := store.Scope{Kind: crm.ScopeAll, UserID: w.rep.ID}
	var cases []orderCase
	customerIndex := map[string]string{"updated": "updated", "created": "created", "name": "name", "next_follow_up": "next"}
	for _, sort := range store.CustomerSorts() {
		global, owner := "customers_live_"+customerIndex[sort], "customers_live_owner_"+customerIndex[sort]
		if sort == "updated" {
			owner = "customers_live_owner"
		}
		pool := owner
		if postgres {
			pool = "customers_pool_" + customerIndex[sort] // migration 0027 says why
		}
		for _, sc := range []struct {
			name, index string
			sorts       bool
			q           store.CustomerQuery
		}{
			{"own", owner, false, store.CustomerQuery{Scope: own}},
			{"own, ordered scan", owner, false, store.CustomerQuery{Scope: own, OrderedScan: true}},
			{"department", "customers_live_[a-z_]+", true, store.CustomerQuery{Scope: dept}},
			{"department, ordered scan", global, false, store.CustomerQuery{Scope: dept, OrderedScan: true}},
			{"all", global, false, store.CustomerQuery{Scope: all, OrderedScan: true}},
			{"pool", pool, false, store.CustomerQuery{Scope: own, OnlyPool: true}},
			{"pool, ordered scan", pool, false, store.CustomerQuery{Scope: dept, OnlyPool: true, OrderedScan: true}},
			{"mine under all", owner, false, store.CustomerQuery{Scope: all, Filter: crm.CustomerFilter{OwnerID: w.rep.ID}}},
			{"mine under department", owner, false, store.CustomerQuery{Scope: dept, Filter: crm.CustomerFilter{OwnerID: w.rep.ID}}},
			// The department filter (owner= and department= of the lists)
			// takes the shape of the department scope.
			{"department filter under all", "customers_live_[a-z_]+", true, store.CustomerQuery{Scope: all, Filter: crm.CustomerFilter{DeptID: w.deptA.ID}}},
			{"department filter under all, ordered scan", global, false, store.CustomerQuery{Scope: all, OrderedScan: true, Filter: crm.CustomerFilter{DeptID: w.deptA.ID}}},
			{"a rep under all", owner, false, store.CustomerQuery{Scope: all, Filter: crm.CustomerFilter{OwnerID: w.mate.ID, DeptID: w.deptA.ID}}},
		} {
			q := sc.q
			q.Filter.Sort, q.Filter.Limit = sort, 5
			cases = append(cases, orderCase{"customers by " + sort + ", " + sc.name, sc.index, sc.sorts, func(tx *store.Tx, after string) (string, error) {
				q := q
				q.Filter.Cursor = after
				_, next, err := tx.ListCustomers(context.Background(), q)
				return next, err
			}})
		}
	}
	// Children of customers are visible through their own owner or their
	// customer's: no one index holds that scope, so every scope scans the
	// order's index and checks each row.
	for _, sc := range []struct {
		name string
		s    store.ChildScope
	}{{"own", store.ChildScope{Own: own, Customer: own}}, {"department", store.ChildScope{Own: dept, Customer: dept}}, {"all", store.ChildScope{Own: all, Customer: all}}} {
		for _, sort := range []string{"updated", "created"} {
			f := crm.ListFilter{Sort: sort, Limit: 5}
			cases = append(cases, orderCase{"contacts by " + sort + ", " + sc.name, "contacts_live_" + sort, false, func(tx *store.Tx, after string) (string, error) {
				f := f
				f.Cursor = after
				_, next, err := tx.ListContacts(context.Background(), store.ContactQuery{Scope: sc.s, Filter: f})
				return next, err
			}})
		}
		for _, sort := range []string{"updated", "created", "amount"} {
			f := crm.ListFilter{Sort: sort, Limit: 5}
			team := f
			team.DeptID = w.deptA.ID
			cases = append(cases, orderCase{"opportunities of a department by " + sort + ", " + sc.name, "opportunities_live_[a-z_]+", true, func(tx *store.Tx, after string) (string, error) {
				f := team
				f.Cursor = after
				_, next, err := tx.ListOpportunities(context.Background(), store.OpportunityQuery{Scope: sc.s, Filter: f})
				return next, err
			}})
			cases = append(cases, orderCase{"opportunities by " + sort + ", " + sc.name, "opportunities_live_" + sort, false, func(tx *store.Tx, after string) (string, error) {
				f := f
				f.Cursor = after
				_, next, err := tx.ListOpportunities(context.Background(), store.OpportunityQuery{Scope: sc.s, Filter: f})
				return next, err
			}})
			cases = append(cases, orderCase{"contracts by " + sort + ", " + sc.name, "contracts_live_" + sort, false, func(tx *store.Tx, after string) (string, error) {
				f := f
				f.Cursor = after
				_, next, err := tx.ListContracts(context.Background(), store.ContractQuery{Scope: sc.s, Filter: f})
				return next, err
			}})
		}
		// A department filter reads each owner's range of the owners'
		// index and sorts what they hold, as the department scope does.
		for _, tc := range []struct {
			name  string
			sorts bool
			q     store.TaskQuery
		}{
			{"my open tasks", false, store.TaskQuery{Scope: sc.s, OpenOnly: true, OwnerID: w.rep.ID}},
			{"my overdue tasks", false, store.TaskQuery{Scope: sc.s, OpenOnly: true, OwnerID: w.rep.ID, DueBefore: ptr(time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC))}},
			{"a department's open tasks", true, store.TaskQuery{Scope: sc.s, OpenOnly: true, DeptID: w.deptA.ID}},
		} {
			cases = append(cases, orderCase{tc.name + ", " + sc.name, "tasks_live_owner_due", tc.sorts, func(tx *store.Tx, after string) (string, error) {
				// Task lists have no cursor: a first page of 5 of more.
				tasks, err := tx.ListTasks(context.Background(), tc.q, 5)
				if err == nil && len(tasks) == 5 {
					return "more", nil
				}
				return "", err
			}})
		}
	}
	leadIndex := map[string]string{"updated": "", "created": "_created"}
	for _, sc := range []struct {
		name  string
		s     store.Scope
		sorts bool
	}{{"own", own, false}, {"department", dept, true}, {"all", all, false}} {
		for _, sort := range []string{"updated", "created"} {
			index := "leads_live_owner" + leadIndex[sort]
			switch sc.name {
			case "department":
				index = "leads_live_[a-z_]+"
			case "all":
				index = "leads_live_" + sort
			}
			f := crm.ListFilter{Sort: sort, Limit: 5}
			cases = append(cases, orderCase{"leads by " + sort + ", " + sc.name, index, sc.sorts, func(tx *store.Tx, after string) (string, error) {
				f := f
				f.Cursor = after
				_, next, err := tx.ListLeads(context.Background(), store.LeadQuery{Scope: sc.s, Filter: f})
				return next, err
			}})
		}
	}
	return cases
}

func ptr[T any](v T) *T { return &v }
