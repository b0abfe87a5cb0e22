package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// BenchmarkListOrders reads the first page of 20 of a list the way the
// service does (the capped count, then the page, scanning in sort order
// when the scope holds more than store.CountCap rows) in every order the
// UI offers, on 20,000 customers of which the rep owns 3,000 and the rep's
// department 8,000; 2,000 are in the pool; two in three have a next
// follow-up. The Today page's task list reads the rep's 1,000 open tasks.
// docs/benchmarks.md, "Orders", has the figures:
//
//	go test -run '^$' -bench ListOrders -benchtime 400x ./internal/store/
func BenchmarkListOrders(b *testing.B) {
	for _, d := range testdb.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			db := testdb.Open(b, d)
			w := seedBenchOrders(b, ctx, db)
			own := store.Scope{Kind: crm.ScopeOwn, UserID: w.rep.ID}
			dept := store.Scope{Kind: crm.ScopeDepartment, UserID: w.rep.ID, DeptID: w.deptA.ID}
			all := store.Scope{Kind: crm.ScopeAll, UserID: w.rep.ID}
			for _, sort := range store.CustomerSorts() {
				for _, sc := range []struct {
					name string
					q    store.CustomerQuery
				}{
					{"own", store.CustomerQuery{Scope: own}},
					{"department", store.CustomerQuery{Scope: dept}},
					{"all", store.CustomerQuery{Scope: all}},
					{"pool", store.CustomerQuery{Scope: own, OnlyPool: true}},
				} {
					q := sc.q
					q.Filter.Sort, q.Filter.Limit = sort, 20
					b.Run("customers/"+sort+"/"+sc.name, func(b *testing.B) {
						for b.Loop() {
							err := db.ReadTx(ctx, func(tx *store.Tx) error {
								q := q
								n, err := tx.CountCustomers(ctx, q)
								if err != nil {
									return err
								}
								q.OrderedScan = n > store.CountCap
								page, _, err := tx.ListCustomers(ctx, q)
								if err == nil && len(page) != 20 {
									err = fmt.Errorf("%d rows", len(page))
								}
								return err
							})
							if err != nil {
								b.Fatal(err)
							}
						}
					})
				}
			}
			b.Run("tasks/mine open", func(b *testing.B) {
				q := store.TaskQuery{Scope: store.ChildScope{Own: own, Customer: own}, OpenOnly: true, OwnerID: w.rep.ID}
				for b.Loop() {
					err := db.ReadTx(ctx, func(tx *store.Tx) error {
						_, err := tx.ListTasks(ctx, q, 21)
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// seedBenchOrders stores the data set of BenchmarkListOrders: department A
// (the rep and two colleagues), department B (four users), 20,000
// customers and 1,000 open tasks of the rep, in one transaction.
func seedBenchOrders(b *testing.B, ctx context.Context, db *store.DB) orderWorld {
	b.Helper()
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
		users := make([]crm.User, 7)
		for i := range users {
			dept := w.deptA.ID
			if i >= 3 {
				dept = deptB.ID
			}
			users[i] = crm.User{Username: fmt.Sprintf("u%d", i), DisplayName: "U", DepartmentID: dept, RoleID: role.ID, CreatedAt: now, UpdatedAt: now}
			if err := tx.InsertUser(ctx, &users[i], "h"); err != nil {
				return err
			}
		}
		w.rep, w.mate, w.other = users[0], users[1], users[3]
		for i := range 20000 {
			// Three in twenty are the rep's, one in ten is in the pool, the
			// rest go round the other six users.
			var owner int64
			switch {
			case i%20 < 3:
				owner = users[0].ID
			case i%10 != 9:
				owner = users[1+i%6].ID
			}
			at := now.Add(time.Duration(i) * time.Minute)
			c := crm.Customer{CustomerFields: crm.CustomerFields{Name: fmt.Sprintf("客户%05d", (i*7919)%100000), Status: "prospect"}}
			c.OwnerID, c.CreatedAt, c.CreatedBy = owner, at, users[0].ID
			if err := tx.InsertCustomer(ctx, &c); err != nil {
				return err
			}
			if i%3 != 0 {
				next := at.Add(time.Duration((i*37)%5000) * time.Hour)
				if err := tx.TouchCustomerFollowUp(ctx, c.ID, at, &next); err != nil {
					return err
				}
			}
			if owner == users[0].ID && i%5 == 0 {
				k := crm.Task{TaskFields: crm.TaskFields{Title: "x", CustomerID: c.ID}}
				if i%4 != 0 {
					due := at.Add(time.Duration((i*13)%3000) * time.Hour)
					k.DueAt = &due
				}
				k.OwnerID, k.CreatedAt, k.CreatedBy = owner, at, owner
				if err := tx.InsertTask(ctx, &k); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	// Autovacuum would analyse the new rows in a while; the benchmark
	// measures the plans a settled database gets.
	if err := store.Analyze(ctx, db); err != nil {
		b.Fatal(err)
	}
	return w
}
