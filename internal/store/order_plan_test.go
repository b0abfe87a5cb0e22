package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// orderWorld is a small organisation for plan tests: department A with
// the reps rep and mate, department B with other; each owns customers
// (some with a next follow-up, some without), contacts, leads,
// opportunities and tasks, and a few customers are in the pool.
type orderWorld struct {
	rep, mate, other crm.User
	deptA            crm.Department
}

func seedOrderWorld(t testing.TB, ctx context.Context, db *store.DB, perOwner int) orderWorld {
	t.Helper()
	var w orderWorld
	err := db.WriteTx(ctx, func(tx *store.Tx) error {
		now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		role := crm.Role{Key: "sales", Name: "sales", Grants: map[crm.Object]crm.ObjectGrant{}}
		if err := tx.InsertRole(ctx, &role, now); err != nil {
			return err
		}
		w.deptA = crm.Department{Name: "A", CreatedAt: now}
		if err := tx.InsertDepartment(ctx, &w.deptA); err != nil {
			return err
		}
		deptB := crm.Department{Name: "B", CreatedAt: now}
		if err := tx.InsertDepartment(ctx, &deptB); err != nil {
			return err
		}
		for i, u := range []*crm.User{&w.rep, &w.mate, &w.other} {
			dept := w.deptA.ID
			if u == &w.other {
				dept = deptB.ID
			}
			*u = crm.User{Username: fmt.Sprintf("u%d", i), DisplayName: "U", DepartmentID: dept, RoleID: role.ID, CreatedAt: now, UpdatedAt: now}
			if err := tx.InsertUser(ctx, u, "h"); err != nil {
				return err
			}
		}
		stages, err := tx.ListStages(ctx)
		if err != nil || len(stages) == 0 {
			return fmt.Errorf("stages: %v %v", stages, err)
		}
		for i := range perOwner * 4 {
			owner := []int64{w.rep.ID, w.mate.ID, w.other.ID, 0}[i%4]
			at := now.Add(time.Duration(i) * time.Minute)
			c := crm.Customer{CustomerFields: crm.CustomerFields{Name: fmt.Sprintf("客户%05d", (i*7919)%100000), Status: "prospect"}}
			c.OwnerID, c.CreatedAt, c.CreatedBy = owner, at, w.rep.ID
			if err := tx.InsertCustomer(ctx, &c); err != nil {
				return err
			}
			if i%3 != 0 {
				next := at.Add(time.Duration((i*37)%500) * time.Hour)
				if err := tx.TouchCustomerFollowUp(ctx, c.ID, at, &next); err != nil {
					return err
				}
			}
			if owner == 0 {
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
			o := crm.Opportunity{OpportunityFields: crm.OpportunityFields{CustomerID: c.ID, Name: "x", Amount: int64(i * 1000), Currency: "CNY"}}
			o.OwnerID, o.CreatedAt, o.CreatedBy, o.StageID = owner, at, owner, stages[0].ID
			if err := tx.InsertOpportunity(ctx, &o); err != nil {
				return err
			}
			task := crm.Task{TaskFields: crm.TaskFields{Title: "x", CustomerID: c.ID}}
			if i%5 != 0 {
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
	return w
}

// orderCase is one list read whose plan must be served by an index.
type orderCase struct {
	name string
	read func(tx *store.Tx, after string) (next string, err error)
}

func TestDumpPlans(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		w := seedOrderWorld(t, ctx, db, 50)
		for _, c := range orderCases(w) {
			plans, err := store.ExplainReads(ctx, db, []string{"SET LOCAL enable_sort = off", "SET LOCAL enable_seqscan = off"}, func(tx *store.Tx) error {
				_, err := c.read(tx, "")
				return err
			})
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			t.Logf("== %s\n%s", c.name, strings.Join(plans, "\n--\n"))
		}
	})
}

func orderCases(w orderWorld) []orderCase {
	own := store.Scope{Kind: crm.ScopeOwn, UserID: w.rep.ID}
	dept := store.Scope{Kind: crm.ScopeDepartment, UserID: w.rep.ID, DeptID: w.deptA.ID}
	all := store.Scope{Kind: crm.ScopeAll, UserID: w.rep.ID}
	var cases []orderCase
	for _, sort := range store.CustomerSorts() {
		for _, sc := range []struct {
			name string
			q    store.CustomerQuery
		}{
			{"own", store.CustomerQuery{Scope: own}},
			{"own ordered", store.CustomerQuery{Scope: own, OrderedScan: true}},
			{"department", store.CustomerQuery{Scope: dept}},
			{"department ordered", store.CustomerQuery{Scope: dept, OrderedScan: true}},
			{"all", store.CustomerQuery{Scope: all, OrderedScan: true}},
			{"pool", store.CustomerQuery{Scope: own, OnlyPool: true}},
			{"mine under all", store.CustomerQuery{Scope: all, Filter: crm.CustomerFilter{OwnerID: w.rep.ID}}},
			{"mine under department", store.CustomerQuery{Scope: dept, Filter: crm.CustomerFilter{OwnerID: w.rep.ID}}},
		} {
			q := sc.q
			q.Filter.Sort, q.Filter.Limit = sort, 5
			cases = append(cases, orderCase{"customers " + sort + " " + sc.name, func(tx *store.Tx, after string) (string, error) {
				q := q
				q.Filter.Cursor = after
				_, next, err := tx.ListCustomers(context.Background(), q)
				return next, err
			}})
		}
	}
	childOwn := store.ChildScope{Own: own, Customer: own}
	childDept := store.ChildScope{Own: dept, Customer: dept}
	childAll := store.ChildScope{Own: all, Customer: all}
	for _, sc := range []struct {
		name string
		s    store.ChildScope
	}{{"own", childOwn}, {"department", childDept}, {"all", childAll}} {
		for _, sort := range []string{"updated", "created"} {
			f := crm.ListFilter{Sort: sort, Limit: 5}
			cases = append(cases, orderCase{"contacts " + sort + " " + sc.name, func(tx *store.Tx, after string) (string, error) {
				f := f
				f.Cursor = after
				_, next, err := tx.ListContacts(context.Background(), store.ContactQuery{Scope: sc.s, Filter: f})
				return next, err
			}})
		}
		for _, sort := range []string{"updated", "created", "amount"} {
			f := crm.ListFilter{Sort: sort, Limit: 5}
			cases = append(cases, orderCase{"opportunities " + sort + " " + sc.name, func(tx *store.Tx, after string) (string, error) {
				f := f
				f.Cursor = after
				_, next, err := tx.ListOpportunities(context.Background(), store.OpportunityQuery{Scope: sc.s, Filter: f})
				return next, err
			}})
		}
		cases = append(cases, orderCase{"tasks mine open " + sc.name, func(tx *store.Tx, after string) (string, error) {
			_, err := tx.ListTasks(context.Background(), store.TaskQuery{Scope: sc.s, OpenOnly: true, OwnerID: w.rep.ID}, 21)
			return "", err
		}})
	}
	for _, sc := range []struct {
		name string
		s    store.Scope
	}{{"own", own}, {"department", dept}, {"all", all}} {
		for _, sort := range []string{"updated", "created"} {
			f := crm.ListFilter{Sort: sort, Limit: 5}
			cases = append(cases, orderCase{"leads " + sort + " " + sc.name, func(tx *store.Tx, after string) (string, error) {
				f := f
				f.Cursor = after
				_, next, err := tx.ListLeads(context.Background(), store.LeadQuery{Scope: sc.s, Filter: f})
				return next, err
			}})
		}
	}
	return cases
}
