package store_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// TestCappedCountAndOrderedScan covers a scope larger than CountCap: the
// count stops at CountCap+1, and paging in sort order (OrderedScan) returns
// exactly what the owner-index plan returns.
func TestCappedCountAndOrderedScan(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		var dept crm.Department
		var owner, other crm.User
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		err := db.WriteTx(ctx, func(tx *store.Tx) error {
			role := crm.Role{Key: "r", Name: "r", Grants: map[crm.Object]crm.ObjectGrant{}}
			if err := tx.InsertRole(ctx, &role, base); err != nil {
				return err
			}
			dept = crm.Department{Name: "D", CreatedAt: base}
			if err := tx.InsertDepartment(ctx, &dept); err != nil {
				return err
			}
			owner = crm.User{Username: "o", DisplayName: "O", DepartmentID: dept.ID, RoleID: role.ID, CreatedAt: base, UpdatedAt: base}
			other = crm.User{Username: "x", DisplayName: "X", DepartmentID: dept.ID, RoleID: role.ID, CreatedAt: base, UpdatedAt: base}
			if err := tx.InsertUser(ctx, &owner, "h"); err != nil {
				return err
			}
			if err := tx.InsertUser(ctx, &other, "h"); err != nil {
				return err
			}
			for i := 0; i < store.CountCap+50; i++ {
				c := crm.Customer{CustomerFields: crm.CustomerFields{Name: fmt.Sprintf("c%05d", i), Status: "prospect"}}
				c.OwnerID = owner.ID
				if i%3 == 0 {
					c.OwnerID = other.ID
				}
				c.CreatedAt = base.Add(time.Duration(i%700) * time.Minute) // ties on purpose
				if err := tx.InsertCustomer(ctx, &c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		q := store.CustomerQuery{Scope: store.Scope{Kind: crm.ScopeDepartment, DeptID: dept.ID}}
		var n int
		db.ReadTx(ctx, func(tx *store.Tx) (err error) { n, err = tx.CountCustomers(ctx, q); return err })
		if n != store.CountCap+1 {
			t.Fatalf("capped count = %d, want %d", n, store.CountCap+1)
		}
		for _, sort := range []string{"updated", "created", "name", "next_follow_up"} {
			page := func(ordered bool) []int64 {
				var ids []int64
				cursor := ""
				for i := 0; i < 3; i++ {
					q := q
					q.OrderedScan, q.Filter = ordered, crm.CustomerFilter{Sort: sort, Cursor: cursor, Limit: 25}
					var cs []crm.Customer
					if err := db.ReadTx(ctx, func(tx *store.Tx) (err error) { cs, cursor, err = tx.ListCustomers(ctx, q); return err }); err != nil {
						t.Fatal(err)
					}
					for _, c := range cs {
						ids = append(ids, c.ID)
					}
				}
				return ids
			}
			if a, b := page(false), page(true); len(a) != 75 || !slices.Equal(a, b) {
				t.Errorf("sort %s: ordered scan differs: %v vs %v", sort, a[:5], b[:5])
			}
		}
	})
}
