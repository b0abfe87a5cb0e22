package store_test

import (
	"database/sql"
	"maps"
	"slices"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// TestRegistryDescribesEveryColumn reads the real columns of each described
// table, on both databases, and fails naming any column that is neither a
// described field nor excluded with a reason — a column added by a
// migration must be described (or excluded) in crm's registry before it is
// used — and any field or exclusion whose column does not exist, or a
// field whose column stores another kind of value than its type.
func TestRegistryDescribesEveryColumn(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, _ *store.DB) {
		raw := testdb.Raw(t, d, opt)
		for _, s := range crm.Specs() {
			have := tableColumns(t, raw, d, s.Table)
			if len(have) == 0 {
				t.Errorf("%s: table %s has no columns", s.Name, s.Table)
				continue
			}
			described := map[string]string{}
			for _, f := range s.Fields {
				described[f.Column] = "field " + f.Name
			}
			for c := range s.Excluded {
				described[c] = "excluded column"
			}
			for _, c := range slices.Sorted(maps.Keys(have)) {
				if _, ok := described[c]; !ok {
					t.Errorf("%s: column %s.%s is neither a field of the registry nor excluded with a reason", s.Name, s.Table, c)
				}
			}
			for _, c := range slices.Sorted(maps.Keys(described)) {
				if _, ok := have[c]; !ok {
					t.Errorf("%s: the registry names %s (%s), which %s does not have", s.Name, c, described[c], s.Table)
				}
			}
			for _, f := range s.Fields {
				if typ, ok := have[f.Column]; ok && typ != columnType(d, f.Type) {
					t.Errorf("%s.%s: a %s field in a %s column", s.Name, f.Name, f.Type, typ)
				}
			}
		}
	})
}

// columnType is the declared type of the column of a field of the type.
func columnType(d store.Dialect, t crm.FieldType) string {
	switch t {
	case crm.TypeRef, crm.TypeStage, crm.TypeTime, crm.TypeMoney, crm.TypePercent:
		return map[store.Dialect]string{store.SQLite: "INTEGER", store.Postgres: "bigint"}[d]
	case crm.TypeBool:
		return map[store.Dialect]string{store.SQLite: "INTEGER", store.Postgres: "boolean"}[d]
	}
	return map[store.Dialect]string{store.SQLite: "TEXT", store.Postgres: "text"}[d]
}

// tableColumns returns the columns of a table of the test database, each
// with its declared type.
func tableColumns(t *testing.T, raw *sql.DB, d store.Dialect, table string) map[string]string {
	t.Helper()
	q := "SELECT name, type FROM pragma_table_info($1)"
	if d == store.Postgres {
		q = "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1"
	}
	rows, err := raw.QueryContext(t.Context(), q, table)
	if err != nil {
		t.Fatalf("columns of %s: %v", table, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var c, typ string
		if err := rows.Scan(&c, &typ); err != nil {
			t.Fatalf("columns of %s: %v", table, err)
		}
		out[c] = typ
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("columns of %s: %v", table, err)
	}
	return out
}

// TestRegistrySorts: the orders each paged list accepts are those the
// registry describes (the store keeps the SQL of each order).
func TestRegistrySorts(t *testing.T) {
	for _, s := range crm.Specs() {
		got := store.SortNames(s.Name)
		if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(s.Sorts))) {
			t.Errorf("%s: the store orders by %v, the registry says %v", s.Name, got, s.Sorts)
		}
	}
}
