// Package store is Custos's only SQL: connection pools, the dialect seam
// between SQLite and PostgreSQL, embedded migrations and one method per
// query. Only the service layer imports it (DESIGN.md §1).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"custos/internal/crm"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// Dialect names the database behind a DB.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open Custos database. Reads use a pool; on SQLite every write goes
// through one writer connection that batches concurrent transactions into
// group commits (DESIGN.md §2); on PostgreSQL writes use the pool directly.
type DB struct {
	dialect Dialect
	read    *sql.DB
	write   *sql.DB
	writer  *groupCommitter // SQLite only
	health  storageHealth
}

// Options configure Open.
type Options struct {
	// URL is a postgres:// URL; empty means SQLite in Dir.
	URL string
	// Dir holds the SQLite database file custos.db.
	Dir string
	// WriteQueue bounds the SQLite writer queue; when it is full a write
	// fails at once with crm.Unavailable instead of hanging.
	WriteQueue int
	// ReadOnly makes the database itself refuse every write (SQLite
	// query_only on the writer, PostgreSQL default_transaction_read_only):
	// what a read-only or full database does, for a maintenance window and
	// for the tests of how Custos answers then. Migrations must be applied.
	ReadOnly bool
	// SkipMigrate opens the database as it is; Migrate applies the
	// pending migrations later (after a backup of the data as it was).
	SkipMigrate bool
}

// Open connects, applies pending migrations and refuses a schema newer than
// this binary.
func Open(ctx context.Context, opt Options) (*DB, error) {
	var db *DB
	var err error
	if strings.HasPrefix(opt.URL, "postgres://") || strings.HasPrefix(opt.URL, "postgresql://") {
		db, err = openPostgres(ctx, opt.URL)
	} else if opt.URL != "" {
		return nil, fmt.Errorf("store: unsupported database URL scheme (want postgres://)")
	} else {
		db, err = openSQLite(ctx, opt)
	}
	if err != nil {
		return nil, err
	}
	if opt.SkipMigrate {
		return db, nil
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if opt.ReadOnly && db.dialect == Postgres {
		// Migrations checked (they always write their table), the pool is
		// reopened with every transaction read-only.
		db.Close()
		sep := "?"
		if strings.Contains(opt.URL, "?") {
			sep = "&"
		}
		return openPostgres(ctx, opt.URL+sep+"default_transaction_read_only=on")
	}
	return db, nil
}

func openSQLite(ctx context.Context, opt Options) (*DB, error) {
	if opt.Dir == "" {
		return nil, errors.New("store: no data directory")
	}
	if err := os.MkdirAll(opt.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	path := filepath.Join(opt.Dir, "custos.db")
	// temp_store(MEMORY): every write request runs in a savepoint (the group
	// commit), and an import row in one more; with temporary files SQLite
	// wrote each page's old content to a sub-journal file first — about a
	// hundred small writes per imported row.
	pragmas := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(FULL)", "temp_store(MEMORY)"} {
		pragmas.Add("_pragma", p)
	}
	base := "file:" + path + "?" + pragmas.Encode()
	readConn, err := newStmtCacheConnector(base, stmtCacheSize)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	// The writer keeps up to 64 MiB of pages (SQLite's default is 2 MiB):
	// blind-index keys are random by design, so a batch of new records
	// touches pages all over the index B-trees, and with a small cache each
	// statement read them back from the operating system.
	writeDSN := base + "&_txlock=immediate&" + url.Values{"_pragma": {"cache_size(-65536)"}}.Encode()
	if opt.ReadOnly {
		writeDSN += "&" + url.Values{"_pragma": {"query_only(1)"}}.Encode()
	}
	writeConn, err := newStmtCacheConnector(writeDSN, stmtCacheSize)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite writer: %w", err)
	}
	read := sql.OpenDB(readConn)
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	write := sql.OpenDB(writeConn)
	// One writer connection: SQLite allows one writer at a time, and queueing
	// in Go is cheaper and fairer than spinning on SQLITE_BUSY.
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	if err := write.PingContext(ctx); err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	q := opt.WriteQueue
	if q <= 0 {
		q = 1024
	}
	db := &DB{dialect: SQLite, read: read, write: write}
	db.writer = newGroupCommitter(write, q)
	return db, nil
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	pool.SetMaxOpenConns(20)
	pool.SetMaxIdleConns(20)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect postgres: %w", err)
	}
	return &DB{dialect: Postgres, read: pool, write: pool}, nil
}

// Dialect reports which database this is.
func (db *DB) Dialect() Dialect { return db.dialect }

// Close stops the writer and closes the pools.
func (db *DB) Close() error {
	if db.writer != nil {
		db.writer.stop()
	}
	err := db.read.Close()
	if db.write != db.read {
		if werr := db.write.Close(); err == nil {
			err = werr
		}
	}
	return err
}

// WriteTx runs fn in one write transaction: everything fn writes, including
// its audit event, commits together or not at all. fn must not call WriteTx.
func (db *DB) WriteTx(ctx context.Context, fn func(*Tx) error) (err error) {
	defer func() { err = db.classify(err, true) }()
	if db.writer != nil {
		return db.writer.do(ctx, fn, false)
	}
	return db.writeOwnTx(ctx, fn)
}

// WriteTxAlone is WriteTx for a large write that is all or nothing by
// itself (an import batch): on SQLite it runs as a transaction of its own
// instead of in a savepoint among the requests of a group commit, which
// would make SQLite copy every page it touches (docs/benchmarks.md,
// "Import: end to end"). Other writes wait behind it as behind a batch.
func (db *DB) WriteTxAlone(ctx context.Context, fn func(*Tx) error) (err error) {
	defer func() { err = db.classify(err, true) }()
	if db.writer != nil {
		return db.writer.do(ctx, fn, true)
	}
	return db.writeOwnTx(ctx, fn)
}

// writeOwnTx runs fn in a transaction of its own on the write pool.
func (db *DB) writeOwnTx(ctx context.Context, fn func(*Tx) error) (err error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer func() {
		// Like the SQLite writer, a panicking fn becomes an error and its
		// transaction (with its connection and locks) is released.
		if p := recover(); p != nil {
			tx.Rollback()
			err = fmt.Errorf("store: write panicked: %v", p)
		}
	}()
	if err := fn(&Tx{q: tx, d: db.dialect}); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// ReadTx runs fn in a read transaction on the reader pool, so the queries of
// one page (a list and its count) see one snapshot.
func (db *DB) ReadTx(ctx context.Context, fn func(*Tx) error) (err error) {
	defer func() { err = db.classify(err, false) }()
	tx, err := db.read.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin read: %w", err)
	}
	defer tx.Rollback()
	return fn(&Tx{q: tx, d: db.dialect, read: true})
}

// querier is what *sql.Tx offers; Tx wraps it with the dialect.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Tx is one transaction. Store methods take it so the service decides what
// commits together.
type Tx struct {
	q querier
	d Dialect
	// read marks a read transaction, whose statements change nothing: the
	// matches one statement found can serve the next (searchPass).
	read bool
	// search is the last search's matches (searchPass), for the count or
	// the list of the same search that follows in a read transaction.
	search *searchResult
	// customFields keeps the definitions ListCustomFields read, by object,
	// until this transaction changes one (SaveCustomField): every record a
	// transaction writes asks for them, an import batch hundreds of times.
	customFields map[crm.Object][]crm.CustomField
	// bulk holds the rows Bulk writes when it ends (nil: none held).
	bulk *bulkRows
}

// mapErr turns driver errors into domain errors where the meaning is clear.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return crm.ErrNotFound(op)
	}
	var ce *crm.Error
	if errors.As(err, &ce) {
		return err
	}
	msg := err.Error()
	if strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "SQLSTATE 23505") {
		return &crm.Error{Code: crm.Conflict, Key: "unique", Message: op + ": already exists"}
	}
	// PostgreSQL gave up one of two transactions that waited on each
	// other: nothing of it was written, and the same request can be sent
	// again.
	if strings.Contains(msg, "SQLSTATE 40P01") || strings.Contains(msg, "SQLSTATE 40001") {
		return &crm.Error{Code: crm.Conflict, Key: "concurrent_change", Message: "someone changed the same data at the same moment; nothing was saved, try again"}
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.read.PingContext(ctx) }

// Savepoint runs fn inside a savepoint of tx: when fn fails, what it wrote
// is rolled back and the transaction goes on, so one bad row of an import
// batch does not take the batch with it (PostgreSQL refuses every later
// statement of a transaction after an error outside a savepoint).
func (tx *Tx) Savepoint(ctx context.Context, fn func() error) error {
	if _, err := tx.q.ExecContext(ctx, "SAVEPOINT row_sp"); err != nil {
		return fmt.Errorf("store: savepoint: %w", err)
	}
	held := tx.bulk.mark()
	if err := fn(); err != nil {
		tx.customFields = nil // what fn read may have been its own writes
		tx.bulk.undo(held)
		if _, rbErr := tx.q.ExecContext(ctx, "ROLLBACK TO SAVEPOINT row_sp"); rbErr != nil {
			// Not wrapped: the transaction is broken, whatever fn's error was.
			return fmt.Errorf("store: rollback to savepoint: %v (after: %v)", rbErr, err)
		}
		tx.q.ExecContext(ctx, "RELEASE SAVEPOINT row_sp")
		return err
	}
	if _, err := tx.q.ExecContext(ctx, "RELEASE SAVEPOINT row_sp"); err != nil {
		return fmt.Errorf("store: release savepoint: %w", err)
	}
	return nil
}
