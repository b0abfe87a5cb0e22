package store_test

import (
	"database/sql"
	"encoding/json"
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

// TestOpenAppliesAMigrationLandingLate: a migration numbered below the
// newest applied one (its number was handed out ahead, its branch merged
// later) still runs, once.
func TestOpenAppliesAMigrationLandingLate(t *testing.T) {
	eachOptions(t, func(t *testing.T, d store.Dialect, opt store.Options) {
		mustOpen(t, opt).Close()
		raw := rawDB(t, d, opt)
		// As if 0004 had not been there when the newer ones ran.
		for _, q := range []string{"ALTER TABLE users DROP COLUMN time_zone", "DELETE FROM schema_migrations WHERE version = 4"} {
			if _, err := raw.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		before := appliedMigrations(t, raw)
		if strings.HasPrefix(before, "4@") || strings.Contains(before, " 4@") {
			t.Fatalf("setup: 4 still recorded: %s", before)
		}

		db := mustOpen(t, opt)
		defer db.Close()
		if v, err := db.SchemaVersion(t.Context()); err != nil || v != store.LatestSchema(d) {
			t.Errorf("schema version %d (%v), want %d", v, err, store.LatestSchema(d))
		}
		after := appliedMigrations(t, raw)
		if !strings.Contains(after, " 4@") {
			t.Errorf("migration 4 not applied on reopen: %s", after)
		}
		if _, err := raw.Exec("UPDATE users SET time_zone = 'Asia/Shanghai' WHERE id = 0"); err != nil {
			t.Errorf("the column of migration 4 is missing: %v", err)
		}
		db.Close()
		mustOpen(t, opt).Close()
		if again := appliedMigrations(t, raw); again != after {
			t.Errorf("reopening applied something again:\nbefore %s\nafter  %s", after, again)
		}
	})
}

// TestSealMigrationKeepsTheChain: migration 0025 moves each sealed event's
// log position and link into audit_seals and puts the unsealed events on
// the sealer's queue, the refused ones marked, so the chain goes on where
// it was and verify still names what the sealer refused.
func TestSealMigrationKeepsTheChain(t *testing.T) {
	eachOptions(t, func(t *testing.T, d store.Dialect, opt store.Options) {
		mustOpen(t, opt).Close()
		raw := rawDB(t, d, opt)
		// Back to schema 24's trail, holding two sealed events, one waiting
		// and one refused.
		for _, q := range []string{
			"DROP TABLE audit_seals", "DROP TABLE audit_pending",
			"ALTER TABLE audit_events ADD COLUMN seq BIGINT",
			"ALTER TABLE audit_events ADD COLUMN link TEXT NOT NULL DEFAULT ''",
			"CREATE UNIQUE INDEX audit_events_seq ON audit_events(seq)",
			"CREATE INDEX audit_events_unsealed ON audit_events(id) WHERE seq IS NULL",
			"DELETE FROM schema_migrations WHERE version = 25",
			`INSERT INTO audit_events (id, at, actor_kind, action, seq, link) VALUES (101, 1, 'user', 'login', 1, 'l1'),
				(102, 2, 'user', 'login', 2, 'l2'), (103, 3, 'user', 'login', NULL, ''), (104, 4, 'user', 'login', NULL, 'refused')`,
		} {
			if _, err := raw.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}

		db := mustOpen(t, opt)
		defer db.Close()
		err := db.ReadTx(t.Context(), func(tx *store.Tx) error {
			seq, link, err := tx.LastSealed(t.Context())
			if err != nil || seq != 2 || link != "l2" {
				t.Errorf("last sealed %d %q %v, want 2 l2", seq, link, err)
			}
			sealed, err := tx.SealedAuditEvents(t.Context(), 0, 10)
			if err != nil || len(sealed) != 2 || sealed[0].ID != 101 || sealed[0].Link != "l1" || sealed[1].Seq != 2 {
				t.Errorf("sealed %+v %v", sealed, err)
			}
			waiting, err := tx.UnsealedAuditEvents(t.Context(), 10)
			if err != nil || len(waiting) != 1 || waiting[0].ID != 103 {
				t.Errorf("waiting %+v %v, want event 103", waiting, err)
			}
			unsealed, err := tx.UnsealedForVerify(t.Context(), 10)
			if err != nil || len(unsealed) != 2 || unsealed[0].Link != "" || unsealed[1].ID != 104 || unsealed[1].Link != "refused" {
				t.Errorf("unsealed %+v %v, want 103 waiting and 104 refused", unsealed, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec("SELECT seq FROM audit_events"); err == nil {
			t.Error("audit_events still has seq: positions would live in two places")
		}
	})
}

// TestCustomerTermsMigrationCopiesExistingTerms: on SQLite, migration 0026
// builds customer_terms from the customers and terms already there, and
// its triggers follow what comes after.
func TestCustomerTermsMigrationCopiesExistingTerms(t *testing.T) {
	opt := testdb.Options(t, store.SQLite)
	mustOpen(t, opt).Close()
	raw := rawDB(t, store.SQLite, opt)
	// Back to schema 25, holding a live customer, a deleted one and a pool
	// customer with their terms.
	for _, q := range []string{
		"DROP TRIGGER customer_terms_add", "DROP TRIGGER customer_terms_remove", "DROP TRIGGER customer_terms_change",
		"DROP TRIGGER customer_terms_new_customer", "DROP TRIGGER customer_terms_follow", "DROP TRIGGER customer_terms_gone",
		"DROP TABLE customer_terms", "DELETE FROM schema_migrations WHERE version = 26",
		`INSERT INTO customers (id, owner_id, name, created_by, updated_by, created_at, updated_at, deleted_at)
			VALUES (501, 0, 'a', 0, 0, 1, 10, NULL), (502, 0, 'b', 0, 0, 1, 20, 30), (503, NULL, 'c', 0, 0, 1, 40, NULL)`,
		`INSERT INTO search_terms (object, term, record_id) VALUES ('customer', 't1', 501), ('customer', 't2', 501),
			('customer', 't1', 502), ('customer', 't3', 503), ('contact', 't1', 501)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustOpen(t, opt).Close()
	want := "t1 501 0 10 0|t1 502 0 20 1|t2 501 0 10 0|t3 503 -1 40 0|"
	if got := customerTerms(t, raw); got != want {
		t.Fatalf("customer_terms after the migration:\n got %s\nwant %s", got, want)
	}
	// The triggers follow an owner change and a new term.
	for _, q := range []string{"UPDATE customers SET owner_id = NULL, updated_at = 50 WHERE id = 501",
		"INSERT INTO search_terms (object, term, record_id) VALUES ('customer', 't4', 502)"} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	want = "t1 501 -1 50 0|t1 502 0 20 1|t2 501 -1 50 0|t3 503 -1 40 0|t4 502 0 20 1|"
	if got := customerTerms(t, raw); got != want {
		t.Fatalf("customer_terms after changes:\n got %s\nwant %s", got, want)
	}
}

// customerTerms lists customer_terms as "term id owner updated deleted|"
// (owner -1 for the pool).
func customerTerms(t *testing.T, raw *sql.DB) string {
	t.Helper()
	rows, err := raw.Query("SELECT term, record_id, COALESCE(owner_id, -1), updated_at, deleted FROM customer_terms ORDER BY term, record_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var term string
		var id, owner, updated, deleted int64
		if err := rows.Scan(&term, &id, &owner, &updated, &deleted); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %d %d %d %d|", term, id, owner, updated, deleted)
	}
	return b.String()
}

// TestAdminRequiresMFAMigration: migration 0030 makes an existing
// database's administrator role require a second factor, as a new
// organisation's does, and leaves every other role as it was.
func TestAdminRequiresMFAMigration(t *testing.T) {
	eachOptions(t, func(t *testing.T, d store.Dialect, opt store.Options) {
		mustOpen(t, opt).Close()
		raw := rawDB(t, d, opt)
		// Back to schema 29, holding roles made before the default changed.
		if _, err := raw.Exec("DELETE FROM schema_migrations WHERE version = 30"); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"admin", "manager", "admin-lite"} {
			_, err := raw.Exec(`INSERT INTO roles (role_key, name, admin, audit, privacy, grants, require_mfa, created_at, updated_at)
				VALUES ($1, $1, $2, FALSE, FALSE, '{}', FALSE, 1, 1)`, key, key != "manager")
			if err != nil {
				t.Fatalf("insert role %s: %v", key, err)
			}
		}
		mustOpen(t, opt).Close()
		rows, err := raw.Query("SELECT role_key, require_mfa FROM roles ORDER BY role_key")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var key string
			var req bool
			if err := rows.Scan(&key, &req); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%s=%v", key, req))
		}
		if want := "admin=true admin-lite=false manager=false"; strings.Join(got, " ") != want {
			t.Errorf("require_mfa after the migration: %v, want %s", got, want)
		}
	})
}

// TestExportPermissionMigration: schema 41 gives the export permission on
// every object to roles keyed admin and manager, and to no other role.
func TestExportPermissionMigration(t *testing.T) {
	eachOptions(t, func(t *testing.T, d store.Dialect, opt store.Options) {
		mustOpen(t, opt).Close()
		raw := rawDB(t, d, opt)
		// Back to schema 40, holding roles made before exports existed.
		for _, q := range []string{"DROP TABLE exports", "DELETE FROM schema_migrations WHERE version = 41"} {
			if _, err := raw.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		grants := `{"customer":{"read":true,"scope":"all","fields":{"phone":"masked"}},"task":{"read":true,"scope":"own"}}`
		for _, key := range []string{"admin", "manager", "sales"} {
			_, err := raw.Exec(`INSERT INTO roles (role_key, name, admin, audit, privacy, grants, require_mfa, created_at, updated_at)
				VALUES ($1, $1, FALSE, FALSE, FALSE, $2, FALSE, 1, 1)`, key, grants)
			if err != nil {
				t.Fatalf("insert role %s: %v", key, err)
			}
		}
		mustOpen(t, opt).Close()
		rows, err := raw.Query("SELECT role_key, grants FROM roles ORDER BY role_key")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var key, raw string
			if err := rows.Scan(&key, &raw); err != nil {
				t.Fatal(err)
			}
			var g map[crm.Object]crm.ObjectGrant
			if err := json.Unmarshal([]byte(raw), &g); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%s=%v/%v/%s/%s", key, g[crm.ObjCustomer].Export, g[crm.ObjTask].Export,
				g[crm.ObjCustomer].Scope, g[crm.ObjCustomer].Fields["phone"]))
		}
		if want := "admin=true/true/all/masked manager=true/true/all/masked sales=false/false/all/masked"; strings.Join(got, " ") != want {
			t.Errorf("grants after the migration: %v, want %s", got, want)
		}
	})
}
