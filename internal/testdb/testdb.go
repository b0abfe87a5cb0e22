// Package testdb opens real databases for tests: SQLite in a temporary
// directory always, and PostgreSQL when CUSTOS_TEST_POSTGRES holds a
// connection URL. Each PostgreSQL test gets its own schema, so tests are
// isolated and run in parallel without sharing a fixture universe.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"custos/internal/store"
)

// EnvPostgres names the variable that enables the PostgreSQL runs.
const EnvPostgres = "CUSTOS_TEST_POSTGRES"

// Dialects returns the dialects this test run covers.
func Dialects() []store.Dialect {
	if os.Getenv(EnvPostgres) != "" {
		return []store.Dialect{store.SQLite, store.Postgres}
	}
	return []store.Dialect{store.SQLite}
}

// Each runs fn as a subtest once per dialect, with a fresh database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(string(d), func(t *testing.T) { fn(t, Open(t, d)) })
	}
}

// Options returns store options for a fresh, empty database of the dialect;
// the database is removed when the test ends.
func Options(t testing.TB, d store.Dialect) store.Options {
	t.Helper()
	if d == store.SQLite {
		return store.Options{Dir: t.TempDir()}
	}
	return store.Options{URL: freshSchema(t)}
}

// Open returns a fresh, migrated database of the dialect, closed when the
// test ends.
func Open(t testing.TB, d store.Dialect) *store.DB {
	t.Helper()
	opt := Options(t, d)
	db, err := store.Open(context.Background(), opt)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	closeAndCheck(t, opt, db)
	return db
}

// closeAndCheck closes db when the test ends and then checks what the
// database derives by itself: on SQLite, customer_terms (migration 0026)
// must hold exactly each customer term with its customer's owner, update
// time and deletion; on both, report_counts (migration 0047) must hold
// what report_counts_recount counts from the records, each deal's
// reached_position and each stage change's left_at what the stage history
// says — whatever the test did. Every test on a test database thereby checks the triggers that keep
// them.
func closeAndCheck(t testing.TB, opt store.Options, db *store.DB) {
	t.Cleanup(func() {
		db.Close()
		if t.Failed() {
			return
		}
		d := store.SQLite
		if opt.Dir == "" {
			d = store.Postgres
		}
		raw, err := sql.Open(rawDSN(d, opt))
		if err != nil {
			t.Errorf("check derived tables: %v", err)
			return
		}
		defer raw.Close()
		checks := []struct{ name, query string }{{"report_counts", reportCountsDrift}, {"opportunities.reached_position", reachDrift},
			{"opportunity_stage_changes.left_at", staysDrift}}
		if d == store.SQLite {
			checks = append(checks, struct{ name, query string }{"customer_terms", customerTermsDrift})
		}
		for _, c := range checks {
			var drift int
			err = raw.QueryRow(c.query).Scan(&drift)
			switch {
			case err != nil && (strings.Contains(err.Error(), "no such table") || strings.Contains(err.Error(), "does not exist")):
				// a test of an older schema
			case err != nil:
				t.Errorf("check %s: %v", c.name, err)
			case drift != 0:
				t.Errorf("%s differs from the records it is derived from in %d rows", c.name, drift)
			}
		}
	})
}

// customerTermsDrift counts the rows of customer_terms that are not what
// search_terms and customers say, and the other way round.
const customerTermsDrift = `WITH want AS (SELECT st.term, c.id AS record_id, c.owner_id, c.updated_at, c.deleted_at IS NOT NULL AS deleted
	FROM search_terms st JOIN customers c ON c.id = st.record_id WHERE st.object = 'customer'),
	have AS (SELECT term, record_id, owner_id, updated_at, deleted FROM customer_terms)
SELECT (SELECT COUNT(*) FROM (SELECT * FROM have EXCEPT SELECT * FROM want) x) + (SELECT COUNT(*) FROM (SELECT * FROM want EXCEPT SELECT * FROM have) y)`

// reachDrift counts the deals whose reached_position is not what their
// stage history says.
const reachDrift = `SELECT COUNT(*) FROM opportunities o JOIN opportunity_reach_recount r ON r.id = o.id
WHERE COALESCE(o.reached_position, -1) <> COALESCE(r.reached_position, -1)`

// staysDrift counts the stage changes whose left_at is not the time of the
// deal's next change.
const staysDrift = `SELECT COUNT(*) FROM opportunity_stage_changes sc JOIN stage_stays_recount r ON r.id = sc.id
WHERE COALESCE(sc.left_at, -1) <> COALESCE(r.left_at, -1)`

// reportCountsDrift counts the report counts that differ from a recount
// (a count taken back to zero is no difference), both ways round.
const reportCountsDrift = `WITH want AS (SELECT metric, grain, owner_id, at, detail, n, amount FROM report_counts_recount),
	have AS (SELECT metric, grain, owner_id, at, detail, n, amount FROM report_counts WHERE n <> 0 OR amount <> 0)
SELECT (SELECT COUNT(*) FROM (SELECT * FROM have EXCEPT SELECT * FROM want) x) + (SELECT COUNT(*) FROM (SELECT * FROM want EXCEPT SELECT * FROM have) y)`

// freshSchema creates a schema on the test PostgreSQL and returns a URL whose
// search_path points at it.
func freshSchema(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Fatalf("%s is not set", EnvPostgres)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("connect postgres: %v", err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgres, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Raw opens a plain database/sql handle on a test database, beside the
// store, for tests that tamper with or inspect rows as an attacker with
// database access would.
func Raw(t *testing.T, d store.Dialect, opt store.Options) *sql.DB {
	t.Helper()
	db, err := sql.Open(rawDSN(d, opt))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// OpenRaw is Open with a plain database/sql handle on the same database
// (Raw), for tests that need both but not the options.
func OpenRaw(t *testing.T, d store.Dialect) (*store.DB, *sql.DB) {
	t.Helper()
	opt := Options(t, d)
	db, err := store.Open(context.Background(), opt)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	closeAndCheck(t, opt, db)
	return db, Raw(t, d, opt)
}

// EachRaw is Each for tests that also reach under the store: fn gets the
// dialect and options too, for Raw or for reopening the same database.
func EachRaw(t *testing.T, fn func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(string(d), func(t *testing.T) {
			opt := Options(t, d)
			db, err := store.Open(context.Background(), opt)
			if err != nil {
				t.Fatalf("open %s: %v", d, err)
			}
			closeAndCheck(t, opt, db)
			fn(t, d, opt, db)
		})
	}
}

// rawDSN is the database/sql driver and data source of a test database.
func rawDSN(d store.Dialect, opt store.Options) (driver, dsn string) {
	if d == store.SQLite {
		return "sqlite", "file:" + filepath.Join(opt.Dir, "custos.db")
	}
	return "pgx", opt.URL
}
