package store

import (
	"context"
	"maps"
	"slices"
	"strings"

	"custos/internal/crm"
)

// SortNames returns the orders the store's list of o accepts (none for an
// object without a paged list of its own).
func SortNames(o crm.Object) []string {
	sorts := map[crm.Object]map[string]sortSpec{crm.ObjCustomer: customerSorts, crm.ObjContact: contactSorts,
		crm.ObjLead: leadSorts, crm.ObjOpportunity: opportunitySorts, crm.ObjContract: contractSorts}[o]
	return slices.Collect(maps.Keys(sorts))
}

// ExplainReads runs read in a read transaction and returns the plan of each
// query it ran, as the database planned it in that transaction (SQLite's
// EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN), one text per query. On
// PostgreSQL the statements in settings (such as "SET LOCAL enable_sort =
// off") run first, so a test can ask whether an index can serve an order
// without depending on the planner's statistics of a small table.
func ExplainReads(ctx context.Context, db *DB, settings []string, read func(tx *Tx) error) ([]string, error) {
	var plans []string
	err := db.ReadTx(ctx, func(tx *Tx) error {
		if tx.d == Postgres {
			for _, s := range settings {
				if _, err := tx.q.ExecContext(ctx, s); err != nil {
					return err
				}
			}
		}
		var ran []ranStatement
		q := tx.q
		tx.q = planQuerier{querier: q, ran: &ran}
		err := read(tx)
		tx.q = q
		if err != nil {
			return err
		}
		for _, s := range ran {
			plan, err := explain(ctx, tx, s)
			if err != nil {
				return err
			}
			plans = append(plans, plan)
		}
		return nil
	})
	return plans, err
}

func explain(ctx context.Context, tx *Tx, s ranStatement) (string, error) {
	prefix := "EXPLAIN "
	if tx.d == SQLite {
		prefix = "EXPLAIN QUERY PLAN "
	}
	rows, err := tx.q.QueryContext(ctx, prefix+s.query, s.args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		// The text is the last column on both: SQLite's "detail", PostgreSQL's one line.
		switch v := vals[len(vals)-1].(type) {
		case string:
			lines = append(lines, v)
		case []byte:
			lines = append(lines, string(v))
		}
	}
	return strings.Join(lines, "\n"), rows.Err()
}

// Analyze has PostgreSQL gather the planner's statistics and its visibility map now, as
// autovacuum would later; SQLite plans without statistics (Custos never
// runs ANALYZE there), so it does nothing.
func Analyze(ctx context.Context, db *DB) error {
	if db.dialect != Postgres {
		return nil
	}
	_, err := db.read.ExecContext(ctx, "VACUUM ANALYZE customers, tasks, contacts, leads, opportunities, users")
	return err
}
