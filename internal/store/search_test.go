package store_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// TestSearchPages pages through name searches (one term and several) in
// every sort order, with ties in every sort key, and compares each page and
// the count with the matches worked out here: a search sorts its matches'
// ids and sort keys in one pass and reads the page's rows by id after
// (searchPass), which must give exactly the rows and order of a plain list.
func TestSearchPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		base := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
		in := mustInsertDepartment(t, db, "In", 0)
		out := mustInsertDepartment(t, db, "Out", 0)
		type row struct {
			c       crm.Customer
			terms   []string
			deleted bool
		}
		var rows []row
		err := db.WriteTx(ctx, func(tx *store.Tx) error {
			role := crm.Role{Key: "r", Name: "r", Grants: map[crm.Object]crm.ObjectGrant{}}
			if err := tx.InsertRole(ctx, &role, base); err != nil {
				return err
			}
			var owners []int64
			for i, d := range []int64{in.ID, in.ID, out.ID} {
				u := crm.User{Username: fmt.Sprintf("s%d", i), DisplayName: "S", DepartmentID: d, RoleID: role.ID, CreatedAt: base, UpdatedAt: base}
				if err := tx.InsertUser(ctx, &u, "h"); err != nil {
					return err
				}
				owners = append(owners, u.ID)
			}
			for i := range 90 {
				c := crm.Customer{CustomerFields: crm.CustomerFields{Name: fmt.Sprintf("星河%d", i%7), Status: "prospect"}}
				c.OwnerID, c.CreatedBy = owners[i%3], owners[i%3]
				c.CreatedAt = base.Add(time.Duration(i%11) * time.Minute) // ties on purpose
				if err := tx.InsertCustomer(ctx, &c); err != nil {
					return err
				}
				if i%4 == 0 {
					c.UpdatedAt, c.UpdatedBy = base.Add(time.Duration(i%5)*time.Hour), c.OwnerID
					if err := tx.UpdateCustomer(ctx, &c); err != nil {
						return err
					}
				} else {
					c.UpdatedAt = c.CreatedAt
				}
				if i%3 != 1 {
					next := base.Add(time.Duration(i%6) * 24 * time.Hour)
					if err := tx.TouchCustomerFollowUp(ctx, c.ID, base, &next); err != nil {
						return err
					}
					c.NextFollowUpAt = &next
				}
				r := row{c: c}
				switch i % 5 {
				case 0, 1, 2:
					r.terms = []string{"星河"}
				case 3:
					r.terms = []string{"星河", "科技"}
				case 4:
					r.terms = []string{"科技"}
				}
				if err := tx.ReplaceSearchTerms(ctx, "customer", c.ID, r.terms); err != nil {
					return err
				}
				if i%13 == 0 {
					now := base.Add(time.Hour)
					if err := tx.SetCustomerDeleted(ctx, c.ID, c.OwnerID, &now, c.UpdatedAt); err != nil {
						return err
					}
					r.deleted = true
				}
				rows = append(rows, r)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		inScope := map[int64]bool{}
		for _, r := range rows[:2] { // the first two owners are in department In
			inScope[r.c.OwnerID] = true
		}
		sortKey := func(sort string, c crm.Customer) (int64, string) {
			switch sort {
			case "created":
				return -c.CreatedAt.UnixMilli(), ""
			case "name":
				return 0, c.Name
			case "next_follow_up":
				if c.NextFollowUpAt == nil {
					return 9007199254740991, ""
				}
				return c.NextFollowUpAt.UnixMilli(), ""
			}
			return -c.UpdatedAt.UnixMilli(), ""
		}
		for _, terms := range [][]string{{"星河"}, {"星河", "科技"}} {
			for _, sort := range store.CustomerSorts() {
				var want []crm.Customer
				for _, r := range rows {
					if !r.deleted && inScope[r.c.OwnerID] && hasAll(r.terms, terms) {
						want = append(want, r.c)
					}
				}
				slices.SortFunc(want, func(a, b crm.Customer) int {
					ai, as := sortKey(sort, a)
					bi, bs := sortKey(sort, b)
					if c := cmp.Or(cmp.Compare(ai, bi), cmp.Compare(as, bs)); c != 0 {
						return c
					}
					if sort == "name" || sort == "next_follow_up" {
						return cmp.Compare(a.ID, b.ID)
					}
					return cmp.Compare(b.ID, a.ID)
				})
				q := store.CustomerQuery{Scope: store.Scope{Kind: crm.ScopeDepartment, DeptID: in.ID}, Terms: terms}
				// The list alone, the count first (as the service reads
				// customers) and the count after (contacts, leads): one
				// transaction's count and list share one pass over the
				// matches, and must answer as if they did not.
				for _, order := range []string{"list", "count first", "count after", "one transaction", "one transaction, another search between"} {
					got, counts := pageAll(t, db, q, sort, order)
					if !slices.Equal(ids(got), ids(want)) {
						t.Errorf("terms %v, sort %s, %s:\n got %v\nwant %v", terms, sort, order, ids(got), ids(want))
					}
					for _, n := range counts {
						if n != len(want) {
							t.Errorf("terms %v, sort %s, %s: count %d, want %d", terms, sort, order, n, len(want))
						}
					}
				}
				var n int
				if err := db.ReadTx(ctx, func(tx *store.Tx) (err error) { n, err = tx.CountCustomers(ctx, q); return err }); err != nil {
					t.Fatal(err)
				}
				if n != len(want) || len(want) < 10 {
					t.Errorf("terms %v: count %d, want %d (at least 10)", terms, n, len(want))
				}
			}
		}
	})
}

func hasAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func ids(cs []crm.Customer) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// pageAll reads every page of q, 7 customers at a time, in the given sort,
// each page in a read transaction of its own; with order "count first" or
// "count after" the transaction counts the customers too, before or after
// reading the page, and the counts are returned. With "one transaction" all
// pages and their counts (first) are read in one transaction, and with
// "one transaction, another search between" each page also after the count
// of another search.
func pageAll(t *testing.T, db *store.DB, q store.CustomerQuery, sort, order string) (all []crm.Customer, counts []int) {
	t.Helper()
	ctx := t.Context()
	if strings.HasPrefix(order, "one transaction") {
		err := db.ReadTx(ctx, func(tx *store.Tx) error {
			inner := "count first"
			if order != "one transaction" {
				inner = "another search, count first"
			}
			all, counts = pageAllIn(t, q, sort, inner, func(_ context.Context, fn func(*store.Tx) error) error { return fn(tx) })
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return all, counts
	}
	return pageAllIn(t, q, sort, order, db.ReadTx)
}

func pageAllIn(t *testing.T, q store.CustomerQuery, sort, order string, readTx func(context.Context, func(*store.Tx) error) error) (all []crm.Customer, counts []int) {
	t.Helper()
	ctx := t.Context()
	cursor := ""
	for range 50 {
		q.Filter = crm.CustomerFilter{Sort: sort, Cursor: cursor, Limit: 7}
		var page []crm.Customer
		err := readTx(ctx, func(tx *store.Tx) (err error) {
			count := func() error {
				n, err := tx.CountCustomers(ctx, q)
				counts = append(counts, n)
				return err
			}
			if order == "another search, count first" {
				// The same page of another search, with other matches,
				// and the same search with another page size.
				other := q
				other.Terms = []string{"科技"}
				if _, err := tx.CountCustomers(ctx, other); err != nil {
					return err
				}
				if _, _, err := tx.ListCustomers(ctx, other); err != nil {
					return err
				}
				other = q
				other.Filter.Limit = 3
				if _, err := tx.CountCustomers(ctx, other); err != nil {
					return err
				}
			}
			if strings.HasSuffix(order, "count first") {
				if err := count(); err != nil {
					return err
				}
			}
			if page, cursor, err = tx.ListCustomers(ctx, q); err != nil {
				return err
			}
			if order == "count after" {
				return count()
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 7 {
			t.Fatalf("page of %d", len(page))
		}
		all = append(all, page...)
		if cursor == "" {
			return all, counts
		}
	}
	t.Fatal("paging did not end")
	return nil, nil
}

// TestSearchInWriteTx: a write transaction that counts a search, adds a
// match and lists the search again sees its own addition in both.
func TestSearchInWriteTx(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
		q := store.CustomerQuery{Scope: store.Scope{Kind: crm.ScopeAll}, Terms: []string{"星河"}, Filter: crm.CustomerFilter{Limit: 5}}
		add := func(tx *store.Tx, name string) error {
			c := crm.Customer{CustomerFields: crm.CustomerFields{Name: name, Status: "prospect"}}
			c.CreatedAt = now
			now = now.Add(time.Minute)
			if err := tx.InsertCustomer(ctx, &c); err != nil {
				return err
			}
			return tx.ReplaceSearchTerms(ctx, "customer", c.ID, []string{"星河"})
		}
		err := db.WriteTx(ctx, func(tx *store.Tx) error {
			for i := range 3 {
				if err := add(tx, fmt.Sprintf("星河%d", i)); err != nil {
					return err
				}
			}
			for round := 3; round <= 4; round++ {
				n, err := tx.CountCustomers(ctx, q)
				if err != nil {
					return err
				}
				page, _, err := tx.ListCustomers(ctx, q)
				if err != nil {
					return err
				}
				if n != round || len(page) != round {
					t.Errorf("round %d: count %d, page of %d", round, n, len(page))
				}
				if err := add(tx, fmt.Sprintf("星河新%d", round)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestSearchBeyondCountCap: a search with more matches than CountCap counts
// CountCap+1 and still pages in order (its matches no longer fit one pass),
// exactly as the ordered scan the service uses for it.
func TestSearchBeyondCountCap(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		base := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
		err := db.WriteTx(ctx, func(tx *store.Tx) error {
			for i := range store.CountCap + 30 {
				c := crm.Customer{CustomerFields: crm.CustomerFields{Name: fmt.Sprintf("科技%04d", i), Status: "prospect"}}
				c.CreatedAt = base.Add(time.Duration(i%300) * time.Second) // ties on purpose
				if err := tx.InsertCustomer(ctx, &c); err != nil {
					return err
				}
				if err := tx.ReplaceSearchTerms(ctx, "customer", c.ID, []string{"科技"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		q := store.CustomerQuery{Scope: store.Scope{Kind: crm.ScopeAll}, PoolVisible: true, Terms: []string{"科技"}}
		for _, sort := range store.CustomerSorts() {
			read := func(ordered bool) (ids []int64, count int) {
				cursor := ""
				for range 3 {
					q := q
					q.OrderedScan, q.Filter = ordered, crm.CustomerFilter{Sort: sort, Cursor: cursor, Limit: 20}
					err := db.ReadTx(ctx, func(tx *store.Tx) error {
						n, err := tx.CountCustomers(ctx, q)
						count = n
						if err != nil {
							return err
						}
						var cs []crm.Customer
						cs, cursor, err = tx.ListCustomers(ctx, q)
						for _, c := range cs {
							ids = append(ids, c.ID)
						}
						return err
					})
					if err != nil {
						t.Fatal(err)
					}
				}
				return ids, count
			}
			got, n := read(false)
			want, _ := read(true)
			if n != store.CountCap+1 || len(got) != 60 || !slices.Equal(got, want) {
				t.Errorf("sort %s: count %d, %d ids; search and ordered scan differ: %v vs %v", sort, n, len(got), got[:5], want[:5])
			}
		}
	})
}
