package store

import (
	"container/list"
	"context"
	"database/sql/driver"
	"fmt"
	"strings"

	"modernc.org/sqlite"
)

// stmtCacheSize bounds the prepared statements one SQLite connection keeps.
// The store's SQL is built from a few templates (a list of n ids differs only
// in its number of placeholders), so the texts a server runs are far fewer.
const stmtCacheSize = 128

// sqliteConn is what the SQLite driver's connection offers database/sql;
// stmtCacheConn wraps it and passes everything but queries through.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// sqliteStmt is a prepared statement of the SQLite driver.
type sqliteStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// sqliteRows is what the SQLite driver's rows offer database/sql; the
// wrapper keeps every one of them so column types read the same.
type sqliteRows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

// stmtCacheConnector opens SQLite connections that keep their prepared
// statements. modernc.org/sqlite parses and plans every statement a
// connection runs unless it is prepared once and run again; parsing was
// about a third of a request's CPU (docs/benchmarks.md). PostgreSQL needs
// nothing of the kind: pgx caches prepared statements per connection itself.
type stmtCacheConnector struct {
	driver.Connector
	size int
}

func newStmtCacheConnector(dsn string, size int) (*stmtCacheConnector, error) {
	base, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return &stmtCacheConnector{Connector: base, size: size}, nil
}

// Connect opens a connection with an empty statement cache.
func (c *stmtCacheConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	inner, ok := conn.(sqliteConn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("store: the SQLite driver's connection (%T) lacks a method the statement cache needs", conn)
	}
	return &stmtCacheConn{sqliteConn: inner, size: c.size, stmts: map[string]*cachedStmt{}}, nil
}

// stmtCacheConn is one SQLite connection with its prepared statements, the
// least recently used dropped first. A statement belongs to its connection
// (SQLite's rule) and keeps no state between runs: the driver resets it and
// unbinds its text arguments when a run ends, so what one transaction bound
// or read never reaches the next. database/sql uses a connection from one
// goroutine at a time, which is all the locking the cache needs.
type stmtCacheConn struct {
	sqliteConn
	size  int
	stmts map[string]*cachedStmt
	lru   list.List // of *cachedStmt, most recently used first

	// hits and prepared count lookups, for tests.
	hits, prepared int
}

// cachedStmt is one prepared statement. A statement runs one query at a
// time; while its rows are open the same text is run unprepared instead.
type cachedStmt struct {
	query   string
	stmt    sqliteStmt
	elem    *list.Element
	inUse   bool // its rows are open
	evicted bool // dropped from the cache while in use: close when its rows close
	closed  bool
}

// statement returns the cached statement for query, preparing it on first
// use; nil means "run it unprepared" (the statement is busy, or query holds
// several statements, which the driver parses on every run anyway).
func (c *stmtCacheConn) statement(ctx context.Context, query string) (*cachedStmt, error) {
	if s := c.stmts[query]; s != nil {
		if s.inUse {
			return nil, nil
		}
		c.hits++
		c.lru.MoveToFront(s.elem)
		return s, nil
	}
	if strings.Contains(query, ";") {
		return nil, nil
	}
	ds, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, ok := ds.(sqliteStmt)
	if !ok {
		ds.Close()
		return nil, nil
	}
	c.prepared++
	s := &cachedStmt{query: query, stmt: st}
	s.elem = c.lru.PushFront(s)
	c.stmts[query] = s
	for c.lru.Len() > c.size {
		c.drop(c.lru.Back().Value.(*cachedStmt))
	}
	return s, nil
}

// drop removes s from the cache and closes it, or, while its rows are
// open, has them close it.
func (c *stmtCacheConn) drop(s *cachedStmt) {
	if c.stmts[s.query] == s {
		delete(c.stmts, s.query)
		c.lru.Remove(s.elem)
	}
	if s.inUse {
		s.evicted = true
		return
	}
	if !s.closed {
		s.closed = true
		s.stmt.Close()
	}
}

// QueryContext runs query through its cached statement.
func (c *stmtCacheConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	r, err := s.stmt.QueryContext(ctx, args)
	if err != nil {
		// The driver has reset the statement, but a statement that failed
		// is not worth trusting with the next query.
		c.drop(s)
		return nil, err
	}
	rows, ok := r.(sqliteRows)
	if !ok {
		r.Close()
		c.drop(s)
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	s.inUse = true
	return &cachedRows{sqliteRows: rows, conn: c, stmt: s}, nil
}

// ExecContext runs query through its cached statement.
func (c *stmtCacheConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	res, err := s.stmt.ExecContext(ctx, args)
	if err != nil {
		c.drop(s)
	}
	return res, err
}

// Close finalizes the cached statements, then closes the connection.
func (c *stmtCacheConn) Close() error {
	for _, s := range c.stmts {
		c.drop(s)
	}
	return c.sqliteConn.Close()
}

// cachedRows hands its statement back to the cache when closed.
type cachedRows struct {
	sqliteRows
	conn   *stmtCacheConn
	stmt   *cachedStmt
	closed bool
}

// Close resets the statement (the driver does that for a prepared one) and
// makes it available again.
func (r *cachedRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	err := r.sqliteRows.Close()
	s := r.stmt
	s.inUse = false
	if s.evicted || err != nil {
		r.conn.drop(s)
	}
	return err
}
