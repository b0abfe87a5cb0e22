package store

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"custos/internal/crm"
)

// countingQuerier records the statements a Tx runs.
type countingQuerier struct {
	querier
	ran *[]string
}

func (c countingQuerier) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	*c.ran = append(*c.ran, q)
	return c.querier.QueryContext(ctx, q, args...)
}

func (c countingQuerier) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	*c.ran = append(*c.ran, q)
	return c.querier.QueryRowContext(ctx, q, args...)
}

// TestSearchCountAndListMakeOnePass: in a read transaction the count and
// the list of one search page find the matches once, in either order; a
// write transaction finds them for each.
func TestSearchCountAndListMakeOnePass(t *testing.T) {
	db := openSQLiteWriter(t, 16)
	ctx := t.Context()
	err := db.WriteTx(ctx, func(tx *Tx) error {
		for i := range 30 {
			c := crm.Customer{CustomerFields: crm.CustomerFields{Name: fmt.Sprintf("星河%d", i), Status: "prospect"}}
			c.CreatedAt = time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC)
			if err := tx.InsertCustomer(ctx, &c); err != nil {
				return err
			}
			if err := tx.ReplaceSearchTerms(ctx, "customer", c.ID, []string{"星河"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	q := CustomerQuery{Scope: Scope{Kind: crm.ScopeAll}, PoolVisible: true, Terms: []string{"星河"}, Filter: crm.CustomerFilter{Limit: 10}}
	for _, tc := range []struct {
		name       string
		read       bool
		countFirst bool
		wantPasses int
	}{
		{"read, count first", true, true, 1},
		{"read, list first", true, false, 1},
		{"write", false, true, 2},
	} {
		sqlTx, err := db.read.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var ran []string
		tx := &Tx{q: countingQuerier{querier: sqlTx, ran: &ran}, d: SQLite, read: tc.read}
		var n int
		var page []crm.Customer
		var next string
		if tc.countFirst {
			n, err = tx.CountCustomers(ctx, q)
		}
		if err == nil {
			page, next, err = tx.ListCustomers(ctx, q)
		}
		if err == nil && !tc.countFirst {
			n, err = tx.CountCustomers(ctx, q)
		}
		sqlTx.Rollback()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		passes := 0
		for _, s := range ran {
			if strings.Contains(s, "WITH m AS MATERIALIZED") {
				passes++
			}
		}
		if passes != tc.wantPasses || len(ran) != passes+1 {
			t.Errorf("%s: %d statements, %d passes over the matches; want %d passes and the page's rows", tc.name, len(ran), passes, tc.wantPasses)
		}
		if n != 30 || len(page) != 10 || next == "" || page[0].Name != "星河29" {
			t.Errorf("%s: count %d, page %v, next %q; want 30, 10 from 星河29 and a next page", tc.name, n, page, next)
		}
	}
}

// TestSearchPageKeepsScope: the page of a search is read by the ids its
// pass found, and still within the actor's scope and the live records, so
// a row that left the scope between the pass and the read (PostgreSQL reads
// each statement at its own snapshot) is not shown.
func TestSearchPageKeepsScope(t *testing.T) {
	db := openSQLiteWriter(t, 16)
	ctx := t.Context()
	var mine, other, gone crm.Customer
	var me, them crm.User
	err := db.WriteTx(ctx, func(tx *Tx) error {
		now := time.Now()
		role := crm.Role{Key: "r", Name: "r", Grants: map[crm.Object]crm.ObjectGrant{}}
		if err := tx.InsertRole(ctx, &role, now); err != nil {
			return err
		}
		dept := crm.Department{Name: "D", CreatedAt: now}
		if err := tx.InsertDepartment(ctx, &dept); err != nil {
			return err
		}
		for i, u := range []*crm.User{&me, &them} {
			*u = crm.User{Username: fmt.Sprintf("u%d", i), DisplayName: "U", DepartmentID: dept.ID, RoleID: role.ID, CreatedAt: now, UpdatedAt: now}
			if err := tx.InsertUser(ctx, u, "h"); err != nil {
				return err
			}
		}
		for _, c := range []*crm.Customer{&mine, &other, &gone} {
			c.Name, c.Status, c.OwnerID, c.CreatedAt = "星河", "prospect", me.ID, now
			if c == &other {
				c.OwnerID = them.ID
			}
			if err := tx.InsertCustomer(ctx, c); err != nil {
				return err
			}
			if err := tx.ReplaceSearchTerms(ctx, "customer", c.ID, []string{"星河"}); err != nil {
				return err
			}
		}
		return tx.SetCustomerDeleted(ctx, gone.ID, me.ID, &now, now)
	})
	if err != nil {
		t.Fatal(err)
	}
	q := CustomerQuery{Scope: Scope{Kind: crm.ScopeOwn, UserID: me.ID}, Terms: []string{"星河"}}
	err = db.ReadTx(ctx, func(tx *Tx) error {
		if n, err := tx.CountCustomers(ctx, q); err != nil || n != 1 {
			t.Fatalf("count = %d, %v; want 1", n, err)
		}
		// As if the other two had been in scope when the pass ran.
		tx.search.ids = []int64{gone.ID, other.ID, mine.ID}
		page, _, err := tx.ListCustomers(ctx, q)
		if err != nil {
			return err
		}
		if len(page) != 1 || page[0].ID != mine.ID {
			t.Errorf("page = %v, want only customer %d", page, mine.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// planQuerier records each query with its arguments.
type planQuerier struct {
	querier
	ran *[]ranStatement
}

type ranStatement struct {
	query string
	args  []any
}

func (p planQuerier) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	*p.ran = append(*p.ran, ranStatement{q, args})
	return p.querier.QueryContext(ctx, q, args...)
}

func (p planQuerier) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	*p.ran = append(*p.ran, ranStatement{q, args})
	return p.querier.QueryRowContext(ctx, q, args...)
}

// TestPlainSearchChecksCandidatesInCustomerTerms: on SQLite, a plain name
// search finds its matches, their scope and their order in customer_terms
// (each further term by primary key there), never in a page of customers
// per candidate; a search with another filter or order reads customers.
func TestPlainSearchChecksCandidatesInCustomerTerms(t *testing.T) {
	db := openSQLiteWriter(t, 16)
	ctx := t.Context()
	for _, tc := range []struct {
		name     string
		terms    []string
		filter   crm.CustomerFilter
		wantPass bool
	}{
		{"plain search", []string{"b1:x"}, crm.CustomerFilter{Limit: 10}, true},
		{"plain search of three terms", []string{"b1:x", "b1:y", "b1:z"}, crm.CustomerFilter{Limit: 10}, true},
		{"with a status filter", []string{"b1:x"}, crm.CustomerFilter{Limit: 10, Status: "prospect"}, false},
		{"sorted by name", []string{"b1:x"}, crm.CustomerFilter{Limit: 10, Sort: "name"}, false},
	} {
		q := CustomerQuery{Scope: Scope{Kind: crm.ScopeSubtree, DeptPath: "/1/"}, Terms: tc.terms, Filter: tc.filter}
		sqlTx, err := db.read.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var ran []ranStatement
		tx := &Tx{q: planQuerier{querier: sqlTx, ran: &ran}, d: SQLite, read: true}
		if _, _, err := tx.ListCustomers(ctx, q); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var plan []string
		for _, s := range ran {
			if !strings.Contains(s.query, "WITH m AS MATERIALIZED") {
				continue
			}
			rows, err := sqlTx.QueryContext(ctx, "EXPLAIN QUERY PLAN "+s.query, s.args...)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id, parent, unused int
				var detail string
				rows.Scan(&id, &parent, &unused, &detail)
				plan = append(plan, detail)
			}
			rows.Close()
		}
		sqlTx.Rollback()
		joined := strings.Join(plan, "\n")
		pass := strings.Contains(joined, "SEARCH ct USING PRIMARY KEY (term=?)")
		customers := strings.Contains(joined, " c USING") || strings.Contains(joined, "SCAN c")
		if len(plan) == 0 || pass != tc.wantPass || customers == tc.wantPass {
			t.Errorf("%s: customer_terms used %v, customers read %v, want customer_terms %v; plan:\n%s", tc.name, pass, customers, tc.wantPass, joined)
		}
		if pass && len(tc.terms) > 1 && !regexp.MustCompile(`SEARCH x .*\((term=\? AND record_id=\?|record_id=\? AND term=\?)\)`).MatchString(joined) {
			t.Errorf("%s: further terms are not looked up by key:\n%s", tc.name, joined)
		}
	}
}
