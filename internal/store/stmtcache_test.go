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

// TestRepeatedScopedReads runs the same scoped queries again and again with
// different departments, in one read transaction and across several, while
// writes change the data and the department tree in between. On SQLite the
// statements come from the per-connection statement cache after their first
// run; on PostgreSQL from pgx's. Every answer must be what the data says at
// that moment: no argument, snapshot or plan of an earlier run may leak into
// a later one.
func TestRepeatedScopedReads(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		// Twelve departments at the root (so ids 1, 10, 11 and 12 exist:
		// a path must not match another path it is a text prefix of without
		// its slash), and two nested below the first.
		var depts []crm.Department
		for i := range 12 {
			depts = append(depts, mustInsertDepartment(t, db, fmt.Sprintf("R%d", i+1), 0))
		}
		n1 := mustInsertDepartment(t, db, "N1", depts[0].ID)
		n2 := mustInsertDepartment(t, db, "N2", n1.ID)
		depts = append(depts, n1, n2)

		owners := map[int64]int64{} // department → its user
		err := db.WriteTx(ctx, func(tx *store.Tx) error {
			role := crm.Role{Key: "r", Name: "r", Grants: map[crm.Object]crm.ObjectGrant{}}
			if err := tx.InsertRole(ctx, &role, now); err != nil {
				return err
			}
			for i, d := range depts {
				u := crm.User{Username: fmt.Sprintf("u%d", i), DisplayName: "U", DepartmentID: d.ID, RoleID: role.ID, CreatedAt: now, UpdatedAt: now}
				if err := tx.InsertUser(ctx, &u, "h"); err != nil {
					return err
				}
				owners[d.ID] = u.ID
				for j := 0; j <= i; j++ { // department i owns i+1 customers
					if err := insertCustomer(ctx, tx, u.ID, fmt.Sprintf("客户%d-%d", i, j), now); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		owned := map[int64]int{} // department → customers its user owns
		for i, d := range depts {
			owned[d.ID] = i + 1
		}

		check := func(round string) {
			t.Helper()
			paths := departmentPaths(t, db)
			want := func(path string) int {
				n := 0
				for id, p := range paths {
					if strings.HasPrefix(p, path) {
						n += owned[id]
					}
				}
				return n
			}
			// Twice over the departments in one transaction, then once
			// more, each department in a transaction of its own.
			err := db.ReadTx(ctx, func(tx *store.Tx) error {
				for pass := range 2 {
					for _, d := range depts {
						q := store.CustomerQuery{Scope: store.Scope{Kind: crm.ScopeSubtree, DeptPath: paths[d.ID]}}
						n, err := tx.CountCustomers(ctx, q)
						if err != nil {
							return err
						}
						if n != want(paths[d.ID]) {
							t.Errorf("%s, pass %d: subtree %s counts %d customers, want %d", round, pass, paths[d.ID], n, want(paths[d.ID]))
						}
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range depts {
				var got []crm.Customer
				q := store.CustomerQuery{Scope: store.Scope{Kind: crm.ScopeSubtree, DeptPath: paths[d.ID]}, Filter: crm.CustomerFilter{Limit: 200}}
				if err := db.ReadTx(ctx, func(tx *store.Tx) (err error) { got, _, err = tx.ListCustomers(ctx, q); return err }); err != nil {
					t.Fatal(err)
				}
				if len(got) != want(paths[d.ID]) {
					t.Errorf("%s: subtree %s lists %d customers, want %d", round, paths[d.ID], len(got), want(paths[d.ID]))
				}
				for _, c := range got {
					if owner := ownerDept(owners, c.OwnerID); !strings.HasPrefix(paths[owner], paths[d.ID]) {
						t.Errorf("%s: subtree %s lists customer %d of department %s", round, paths[d.ID], c.ID, paths[owner])
					}
				}
			}
		}

		check("initial")
		// New data and a moved subtree: the same statements see both.
		if err := db.WriteTx(ctx, func(tx *store.Tx) error { return insertCustomer(ctx, tx, owners[n2.ID], "新客户", now) }); err != nil {
			t.Fatal(err)
		}
		owned[n2.ID]++
		check("after an insert")
		if err := moveDepartment(t, db, n1, depts[1].ID); err != nil {
			t.Fatal(err)
		}
		check("after a move")
	})
}

func insertCustomer(ctx context.Context, tx *store.Tx, owner int64, name string, now time.Time) error {
	c := crm.Customer{CustomerFields: crm.CustomerFields{Name: name, Status: "prospect"}}
	c.OwnerID, c.CreatedBy, c.CreatedAt = owner, owner, now
	return tx.InsertCustomer(ctx, &c)
}

func ownerDept(owners map[int64]int64, user int64) int64 {
	for d, u := range owners {
		if u == user {
			return d
		}
	}
	return 0
}
