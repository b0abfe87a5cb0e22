package store

// These tests look inside the SQLite statement cache (its counters and
// entries), so they live in package store; the behaviour every dialect must
// show is tested in stmtcache_test.go.

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// openCached opens a fresh SQLite file through the statement cache with
// room for size statements, with table kv(k TEXT PRIMARY KEY, v INTEGER).
func openCached(t *testing.T, size, conns int) (db *sql.DB, dsn string) {
	t.Helper()
	dsn = "file:" + filepath.Join(t.TempDir(), "c.db") + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)"
	conn, err := newStmtCacheConnector(dsn, size)
	if err != nil {
		t.Fatal(err)
	}
	db = sql.OpenDB(conn)
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec("CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER); INSERT INTO kv VALUES ('a', 1), ('b', 2), ('c', 3)"); err != nil {
		t.Fatal(err)
	}
	return db, dsn
}

// pinned returns one connection of db and its cache.
func pinned(t *testing.T, db *sql.DB) (*sql.Conn, *stmtCacheConn) {
	t.Helper()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var cache *stmtCacheConn
	if err := conn.Raw(func(dc any) error { cache = dc.(*stmtCacheConn); return nil }); err != nil {
		t.Fatal(err)
	}
	return conn, cache
}

func value(t *testing.T, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, k string) int {
	t.Helper()
	var v int
	if err := q.QueryRowContext(t.Context(), "SELECT v FROM kv WHERE k = $1", k).Scan(&v); err != nil {
		t.Fatalf("value of %q: %v", k, err)
	}
	return v
}

// TestStmtCacheReusesStatements: a text is prepared once per connection and
// every run binds its own arguments, text arguments included.
func TestStmtCacheReusesStatements(t *testing.T) {
	db, _ := openCached(t, 8, 1)
	conn, cache := pinned(t, db)
	prepared, hits := cache.prepared, cache.hits
	for i, k := range []string{"a", "b", "c", "a", "c"} {
		if got, want := value(t, conn, k), map[string]int{"a": 1, "b": 2, "c": 3}[k]; got != want {
			t.Fatalf("run %d: value of %q = %d, want %d", i, k, got, want)
		}
	}
	if cache.prepared-prepared != 1 || cache.hits-hits != 4 {
		t.Errorf("prepared %d, hits %d; want 1 and 4", cache.prepared-prepared, cache.hits-hits)
	}
	// A text argument bound by one run is not left for the next: a missing
	// row stays missing.
	err := conn.QueryRowContext(t.Context(), "SELECT v FROM kv WHERE k = $1", "zz").Scan(new(int))
	if !errors.Is(err, sql.ErrNoRows) {
		t.Errorf("unknown key: err = %v, want no rows", err)
	}
}

// TestStmtCacheNestedSameText: while the rows of a statement are open, the
// same text runs unprepared instead of disturbing them.
func TestStmtCacheNestedSameText(t *testing.T) {
	db, _ := openCached(t, 8, 1)
	conn, cache := pinned(t, db)
	const q = "SELECT k, v FROM kv WHERE v >= $1 ORDER BY k"
	value(t, conn, "a")
	outer, err := conn.QueryContext(t.Context(), q, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for outer.Next() {
		var k string
		var v int
		if err := outer.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		inner, err := conn.QueryContext(t.Context(), q, v)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for inner.Next() {
			n++
		}
		inner.Close()
		got = append(got, k+strings.Repeat("+", n))
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	if want := "a+++ b++ c+"; strings.Join(got, " ") != want {
		t.Errorf("nested runs = %q, want %q", strings.Join(got, " "), want)
	}
	if cache.stmts[q] == nil || cache.stmts[q].inUse {
		t.Fatalf("after the rows closed the statement should be cached and free: %+v", cache.stmts[q])
	}
	hits := cache.hits
	if rows, err := conn.QueryContext(t.Context(), q, 3); err != nil {
		t.Fatal(err)
	} else {
		rows.Close()
	}
	if cache.hits != hits+1 {
		t.Errorf("the statement was not reused after its rows closed")
	}
}

// TestStmtCacheEvictsLeastRecentlyUsed: the cache stays within its size,
// and a statement evicted while its rows are open keeps serving them.
func TestStmtCacheEvictsLeastRecentlyUsed(t *testing.T) {
	db, _ := openCached(t, 2, 1)
	conn, cache := pinned(t, db)
	rows, err := conn.QueryContext(t.Context(), "SELECT k FROM kv ORDER BY k")
	if err != nil {
		t.Fatal(err)
	}
	open := cache.stmts["SELECT k FROM kv ORDER BY k"]
	for _, q := range []string{"SELECT 1", "SELECT 2", "SELECT 3"} {
		if _, err := conn.ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	if len(cache.stmts) != 2 || cache.lru.Len() != 2 || cache.stmts["SELECT 3"] == nil || cache.stmts["SELECT 2"] == nil {
		t.Fatalf("cache holds %d statements (%d in order); want SELECT 2 and SELECT 3", len(cache.stmts), cache.lru.Len())
	}
	if !open.evicted {
		t.Fatal("the open statement was not marked evicted")
	}
	var keys []string
	for rows.Next() {
		var k string
		rows.Scan(&k)
		keys = append(keys, k)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(keys, ",") != "a,b,c" {
		t.Errorf("rows of the evicted statement = %v", keys)
	}
	if !open.closed || cache.stmts["SELECT k FROM kv ORDER BY k"] != nil {
		t.Errorf("the evicted statement: closed %v, cached again %v", open.closed, cache.stmts["SELECT k FROM kv ORDER BY k"] != nil)
	}
}

// TestStmtCacheHoldsNoSnapshot: a cached statement that has run keeps no
// read transaction open, so the next run on the same connection sees what
// another connection committed since; and a rolled-back write leaves
// nothing behind for later runs.
func TestStmtCacheHoldsNoSnapshot(t *testing.T) {
	db, _ := openCached(t, 8, 2)
	reader, _ := pinned(t, db)
	writer, _ := pinned(t, db)
	if value(t, reader, "a") != 1 {
		t.Fatal("initial value")
	}
	if _, err := writer.ExecContext(t.Context(), "UPDATE kv SET v = $1 WHERE k = $2", 10, "a"); err != nil {
		t.Fatal(err)
	}
	if got := value(t, reader, "a"); got != 10 {
		t.Errorf("reader sees %d after a commit elsewhere, want 10", got)
	}
	tx, err := writer.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(t.Context(), "UPDATE kv SET v = $1 WHERE k = $2", 99, "a"); err != nil {
		t.Fatal(err)
	}
	if got := value(t, tx, "a"); got != 99 {
		t.Errorf("inside the transaction: %d, want 99", got)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got, got2 := value(t, writer, "a"), value(t, reader, "a"); got != 10 || got2 != 10 {
		t.Errorf("after rollback: writer %d, reader %d; want 10", got, got2)
	}
}

// TestStmtCacheFailures: a statement that fails (a constraint, a cancelled
// context) is dropped and the text works again; scripts and text that does
// not parse are never cached.
func TestStmtCacheFailures(t *testing.T) {
	db, _ := openCached(t, 8, 1)
	conn, cache := pinned(t, db)
	const ins = "INSERT INTO kv (k, v) VALUES ($1, $2)"
	if _, err := conn.ExecContext(t.Context(), ins, "d", 4); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), ins, "d", 5); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Fatalf("duplicate insert: err = %v, want a UNIQUE failure", err)
	}
	if cache.stmts[ins] != nil {
		t.Error("the failed statement stayed cached")
	}
	if _, err := conn.ExecContext(t.Context(), ins, "e", 5); err != nil {
		t.Fatal(err)
	}
	if value(t, conn, "d") != 4 || value(t, conn, "e") != 5 {
		t.Error("values after the failure")
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := conn.QueryContext(ctx, "SELECT v FROM kv WHERE k = $1", "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled query: err = %v", err)
	}
	if value(t, conn, "a") != 1 {
		t.Error("the statement does not work after a cancelled run")
	}

	if _, err := conn.ExecContext(t.Context(), "UPDATE kv SET v = v + 1 WHERE k = 'a'; UPDATE kv SET v = v + 1 WHERE k = 'b'"); err != nil {
		t.Fatal(err)
	}
	if value(t, conn, "a") != 2 || value(t, conn, "b") != 3 {
		t.Error("the script did not run both statements")
	}
	if _, err := conn.ExecContext(t.Context(), "SELEC nothing"); err == nil {
		t.Error("bad SQL ran")
	}
	for q := range cache.stmts {
		if strings.Contains(q, ";") || strings.HasPrefix(q, "SELEC ") {
			t.Errorf("cached %q", q)
		}
	}
}

// TestStmtCachePerConnection: each connection prepares its own statements,
// and closing a connection finalizes them (the database closes cleanly).
func TestStmtCachePerConnection(t *testing.T) {
	db, _ := openCached(t, 8, 2)
	c1, cache1 := pinned(t, db)
	c2, cache2 := pinned(t, db)
	if cache1 == cache2 {
		t.Fatal("two connections share a cache")
	}
	value(t, c1, "a")
	p2 := cache2.prepared
	value(t, c2, "b")
	if cache2.prepared != p2+1 {
		t.Error("the second connection did not prepare its own statement")
	}
	if err := c1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if len(cache1.stmts) != 0 || len(cache2.stmts) != 0 {
		t.Errorf("statements left after close: %d, %d", len(cache1.stmts), len(cache2.stmts))
	}
}

// TestOpenUsesStmtCache: the database Open returns runs its reads and its
// writer through the cache.
func TestOpenUsesStmtCache(t *testing.T) {
	db := openSQLiteWriter(t, 16)
	for _, pool := range []*sql.DB{db.read, db.write} {
		conn, cache := pinned(t, pool)
		for range 3 {
			var n int
			if err := conn.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM users WHERE id > $1", 0).Scan(&n); err != nil {
				t.Fatal(err)
			}
		}
		if cache.hits < 2 {
			t.Errorf("hits = %d, want at least 2", cache.hits)
		}
		conn.Close()
	}
}
