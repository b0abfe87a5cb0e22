package store_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// eachOptions runs fn once per dialect with options for a fresh, empty
// database, so the test can open and reopen the same one.
func eachOptions(t *testing.T, fn func(t *testing.T, d store.Dialect, opt store.Options)) {
	t.Helper()
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) { fn(t, d, testdb.Options(t, d)) })
	}
}

func mustOpen(t *testing.T, opt store.Options) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), opt)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return db
}

// rawDB opens the database behind opt directly, bypassing the store.
func rawDB(t *testing.T, d store.Dialect, opt store.Options) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", opt.URL
	if d == store.SQLite {
		driver, dsn = "sqlite", "file:"+filepath.Join(opt.Dir, "custos.db")
	}
	raw, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("open raw %s: %v", d, err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

// appliedMigrations lists the recorded migrations with their times.
func appliedMigrations(t *testing.T, raw *sql.DB) string {
	t.Helper()
	rows, err := raw.QueryContext(t.Context(), "SELECT version, applied_at FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var v, at int64
		if err := rows.Scan(&v, &at); err != nil {
			t.Fatalf("scan schema_migrations: %v", err)
		}
		fmt.Fprintf(&b, "%d@%d ", v, at)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	return b.String()
}

// TestReopenAppliesNothingTwice: opening an up-to-date database again keeps
// its schema version and its data.
func TestReopenAppliesNothingTwice(t *testing.T) {
	eachOptions(t, func(t *testing.T, d store.Dialect, opt store.Options) {
		db := mustOpen(t, opt)
		err := db.WriteTx(t.Context(), func(tx *store.Tx) error {
			c := crm.Customer{CustomerFields: crm.CustomerFields{Name: "Acme", Status: "prospect"}}
			c.CreatedAt = time.Now()
			return tx.InsertCustomer(t.Context(), &c)
		})
		if err != nil {
			t.Fatalf("insert customer: %v", err)
		}
		db.Close()
		raw := rawDB(t, d, opt)
		before := appliedMigrations(t, raw)

		db = mustOpen(t, opt)
		defer db.Close()
		v, err := db.SchemaVersion(t.Context())
		if err != nil {
			t.Fatalf("schema version: %v", err)
		}
		if latest := store.LatestSchema(d); v != latest || latest == 0 {
			t.Errorf("schema version after reopen = %d, want %d", v, latest)
		}
		if after := appliedMigrations(t, raw); after != before {
			t.Errorf("schema_migrations changed on reopen:\nbefore %s\nafter  %s", before, after)
		}
		if n := countCustomers(t, db); n != 1 {
			t.Errorf("%d customer(s) after reopen, want 1", n)
		}
	})
}

// TestOpenRefusesNewerSchema: a database migrated by a newer Custos is not
// opened by this one.
func TestOpenRefusesNewerSchema(t *testing.T) {
	eachOptions(t, func(t *testing.T, d store.Dialect, opt store.Options) {
		mustOpen(t, opt).Close()
		newer := store.LatestSchema(d) + 1
		_, err := rawDB(t, d, opt).Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
			newer, "from_the_future.sql", time.Now().UnixMilli())
		if err != nil {
			t.Fatalf("insert newer migration: %v", err)
		}

		db, err := store.Open(t.Context(), opt)
		if err == nil {
			db.Close()
			t.Fatalf("Open accepted a database at schema version %d (this binary knows %d)", newer, store.LatestSchema(d))
		}
		if !strings.Contains(err.Error(), "newer") {
			t.Errorf("Open error = %v, want one mentioning a newer schema", err)
		}
	})
}

// TestOpenAppliesAMissedMigration: a migration numbered below the newest
// applied one (work that landed out of order) still runs.
func TestOpenAppliesAMissedMigration(t *testing.T) {
	eachOptions(t, func(t *testing.T, d store.Dialect, opt store.Options) {
		mustOpen(t, opt).Close()
		raw := rawDB(t, d, opt)
		for _, q := range []string{"DROP TABLE approval_requests", "DROP TABLE approval_policies", "DELETE FROM schema_migrations WHERE version = 8"} {
			if _, err := raw.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if latest := store.LatestSchema(d); latest <= 8 {
			t.Fatalf("this test needs a migration after 0008 (latest %d)", latest)
		}
		db := mustOpen(t, opt)
		defer db.Close()
		if !strings.Contains(appliedMigrations(t, raw), " 8@") && !strings.HasPrefix(appliedMigrations(t, raw), "8@") {
			t.Fatalf("migration 8 not recorded: %s", appliedMigrations(t, raw))
		}
		var n int
		if err := raw.QueryRow("SELECT COUNT(*) FROM approval_requests").Scan(&n); err != nil {
			t.Fatalf("approval_requests missing after reopen: %v", err)
		}
	})
}
