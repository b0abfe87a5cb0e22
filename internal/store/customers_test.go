package store_test

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// mustInsertCustomer stores a pool customer created and updated at at.
func mustInsertCustomer(t *testing.T, db *store.DB, name string, at time.Time, next *time.Time) crm.Customer {
	t.Helper()
	c := crm.Customer{CustomerFields: crm.CustomerFields{Name: name, Status: "prospect"}}
	c.CreatedAt = at
	err := db.WriteTx(t.Context(), func(tx *store.Tx) error {
		if err := tx.InsertCustomer(t.Context(), &c); err != nil {
			return err
		}
		if next != nil {
			return tx.TouchCustomerFollowUp(t.Context(), c.ID, at, next)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("insert customer %s: %v", name, err)
	}
	return c
}

// listAllPages follows the cursors of a sorted listing to its end.
func listAllPages(t *testing.T, db *store.DB, sort string, limit int) []int64 {
	t.Helper()
	var ids []int64
	cursor := ""
	for page := 0; ; page++ {
		if page > 100 {
			t.Fatalf("sort %s: still paging after %d pages", sort, page)
		}
		var cs []crm.Customer
		err := db.ReadTx(t.Context(), func(tx *store.Tx) (err error) {
			cs, cursor, err = tx.ListCustomers(t.Context(), store.CustomerQuery{
				Scope:  store.Scope{Kind: crm.ScopeAll},
				Filter: crm.CustomerFilter{Sort: sort, Cursor: cursor, Limit: limit},
			})
			return err
		})
		if err != nil {
			t.Fatalf("sort %s, page %d: %v", sort, page, err)
		}
		if len(cs) > limit {
			t.Fatalf("sort %s, page %d: %d rows, limit %d", sort, page, len(cs), limit)
		}
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		if cursor == "" {
			return ids
		}
	}
}

// TestCustomerPagingWithTies: rows sharing the sort key are told apart by id,
// so paging with a small limit neither repeats nor skips any of them.
func TestCustomerPagingWithTies(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		base := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
		follow := base.Add(24 * time.Hour)
		var all []crm.Customer
		for i, spec := range []struct {
			name string
			at   time.Time
		}{
			{"乙公司", base}, {"甲公司", base}, {"Acme", base.Add(time.Second)}, {"乙公司", base},
			{"Acme", base.Add(-time.Second)}, {"甲公司", base}, {"乙公司", base.Add(time.Second)}, {"Acme", base},
			{"甲公司", base.Add(-time.Second)},
		} {
			var next *time.Time
			if i%3 == 0 {
				next = &follow // ties among the set ones; the rest have none
			}
			all = append(all, mustInsertCustomer(t, db, spec.name, spec.at, next))
		}

		noFollowUp := time.UnixMilli(9007199254740991)
		for _, tc := range []struct {
			sort string
			desc bool
			key  func(c crm.Customer) string
		}{
			{"updated", true, func(c crm.Customer) string { return c.UpdatedAt.Format(time.RFC3339Nano) }},
			{"created", true, func(c crm.Customer) string { return c.CreatedAt.Format(time.RFC3339Nano) }},
			{"name", false, func(c crm.Customer) string { return c.Name }},
			{"next_follow_up", false, func(c crm.Customer) string {
				if c.NextFollowUpAt == nil {
					return noFollowUp.UTC().Format(time.RFC3339Nano)
				}
				return c.NextFollowUpAt.UTC().Format(time.RFC3339Nano)
			}},
		} {
			want := expectedOrder(all, tc.key, tc.desc)
			for _, limit := range []int{1, 2, 3} {
				if got := listAllPages(t, db, tc.sort, limit); !slices.Equal(got, want) {
					t.Errorf("sort %s, limit %d: ids %v, want %v", tc.sort, limit, got, want)
				}
			}
		}
	})
}

// expectedOrder sorts the customers by key, then id, in one direction. Keys
// are compared byte-wise, as the store orders text.
func expectedOrder(cs []crm.Customer, key func(crm.Customer) string, desc bool) []int64 {
	cs = slices.Clone(cs)
	slices.SortFunc(cs, func(a, b crm.Customer) int {
		c := cmp.Or(cmp.Compare(key(a), key(b)), cmp.Compare(a.ID, b.ID))
		if desc {
			return -c
		}
		return c
	})
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}
