package store_test

import (
	"cmp"
	"fmt"
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

// tieRow is what a sort key is computed from.
type tieRow struct {
	id         int64
	name       string
	at, nextAt int64 // Unix ms; nextAt is the store's "no follow-up" value when unset
}

// TestCustomerPagingWithTies: rows sharing the sort key are told apart by id,
// so paging with a small limit neither repeats nor skips any of them.
func TestCustomerPagingWithTies(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		base := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
		follow := base.Add(24 * time.Hour)
		var rows []tieRow
		for i, spec := range []struct {
			name string
			at   time.Time
		}{
			{"乙公司", base}, {"甲公司", base}, {"Acme", base.Add(time.Second)}, {"乙公司", base},
			{"Acme", base.Add(-time.Second)}, {"甲公司", base}, {"乙公司", base.Add(time.Second)}, {"Acme", base},
			{"甲公司", base.Add(-time.Second)},
		} {
			r := tieRow{name: spec.name, at: spec.at.UnixMilli(), nextAt: 9007199254740991}
			var next *time.Time
			if i%3 == 0 { // a tie among the set follow-ups; the rest have none
				next, r.nextAt = &follow, follow.UnixMilli()
			}
			r.id = mustInsertCustomer(t, db, spec.name, spec.at, next).ID
			rows = append(rows, r)
		}

		for _, tc := range []struct {
			sort string
			desc bool
			key  func(tieRow) string
		}{
			{"updated", true, func(r tieRow) string { return fmt.Sprintf("%020d", r.at) }},
			{"created", true, func(r tieRow) string { return fmt.Sprintf("%020d", r.at) }},
			{"name", false, func(r tieRow) string { return r.name }},
			{"next_follow_up", false, func(r tieRow) string { return fmt.Sprintf("%020d", r.nextAt) }},
		} {
			want := expectedOrder(rows, tc.key, tc.desc)
			for _, limit := range []int{1, 2, 3} {
				if got := listAllPages(t, db, tc.sort, limit); !slices.Equal(got, want) {
					t.Errorf("sort %s, limit %d: ids %v, want %v", tc.sort, limit, got, want)
				}
			}
		}
	})
}

// expectedOrder sorts the rows by key, then id, in one direction. Keys are
// compared byte-wise, as the store orders text.
func expectedOrder(rows []tieRow, key func(tieRow) string, desc bool) []int64 {
	rows = slices.Clone(rows)
	slices.SortFunc(rows, func(a, b tieRow) int {
		c := cmp.Or(cmp.Compare(key(a), key(b)), cmp.Compare(a.id, b.id))
		if desc {
			return -c
		}
		return c
	})
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.id
	}
	return ids
}
