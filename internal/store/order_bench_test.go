package store_test

import (
	"context"
	"fmt"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// BenchmarkListOrders reads the first page of 20 of a list the way the
// service does (the capped count, then the page, scanning in sort order
// when the scope holds more than store.CountCap rows) in every order the
// UI offers, on 20,000 customers of which the rep owns 3,000 and the rep's
// department 4,000; 1,000 are in the pool; two in three have a next
// follow-up. The Today page's task list reads the rep's 1,500 tasks.
// docs/benchmarks.md, "Orders", has the figures:
//
//	go test -run '^$' -bench ListOrders -benchtime 400x ./internal/store/
func BenchmarkListOrders(b *testing.B) {
	for _, d := range testdb.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			db := testdb.Open(b, d)
			w := seedOrderWorld(b, ctx, db, 20000, 3)
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
