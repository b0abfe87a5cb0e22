package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"custos/internal/crm"

	"modernc.org/sqlite"
)

// A full disk, an I/O error or a database that refuses writes is not a bug
// in the request: every request fails alike until an operator acts, so it
// must not answer 500 "internal error" while /healthz says "ok". The store
// turns such failures into crm.Unavailable (503 with Retry-After at the
// surfaces; the cause stays in the chain for the log) and remembers that
// writes fail, which Writable reports to /healthz so a load balancer can
// take the instance out.

// ErrStorage is the error a storage failure maps to.
var ErrStorage = &crm.Error{Code: crm.Unavailable, Key: "storage_unavailable",
	Message: "the database cannot store data right now (disk full, read-only or failing)"}

// SQLite primary result codes of a storage failure.
const (
	sqliteReadOnly = 8  // SQLITE_READONLY: the file or the connection refuses writes
	sqliteIOErr    = 10 // SQLITE_IOERR and its extended codes
	sqliteFull     = 13 // SQLITE_FULL: the disk (or max_page_count) is full
	sqliteCantOpen = 14 // SQLITE_CANTOPEN
)

// isStorageFailure reports whether err is a failure of the storage itself.
// PostgreSQL: class 53 (insufficient resources: disk full, out of memory,
// too many connections), class 58 (system error: I/O), 25006 (read-only
// transaction: a hot standby, or default_transaction_read_only).
func isStorageFailure(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqliteReadOnly, sqliteIOErr, sqliteFull, sqliteCantOpen:
			return true
		}
	}
	var pe interface{ SQLState() string }
	if errors.As(err, &pe) {
		st := pe.SQLState()
		return st == "25006" || strings.HasPrefix(st, "53") || strings.HasPrefix(st, "58")
	}
	return false
}

// storageHealth is what the DB remembers of its writes for Writable.
type storageHealth struct {
	failedAt atomic.Int64 // unix ms of the last write that failed for the storage; 0: none since the last success
	probedAt atomic.Int64 // unix ms of the last write probe
}

// classify maps a storage failure to ErrStorage (keeping the cause) and
// records the outcome of a write.
func (db *DB) classify(err error, write bool) error {
	switch {
	case err == nil:
		if write {
			db.health.failedAt.Store(0)
		}
		return nil
	case isStorageFailure(err):
		if write {
			db.health.failedAt.Store(time.Now().UnixMilli())
		}
		return fmt.Errorf("%w: %w", ErrStorage, err)
	}
	return err
}

// probeEvery bounds how often Writable writes to find out.
const probeEvery = 5 * time.Second

// Writable reports whether the database takes writes: ErrStorage while the
// last write failed for the storage, else nil. When no write was tried for
// probeEvery it tries a tiny one itself (a setting rewritten), so an idle
// instance on a full or read-only database is reported too.
func (db *DB) Writable(ctx context.Context) error {
	now := time.Now().UnixMilli()
	if last := db.health.probedAt.Load(); now-last >= probeEvery.Milliseconds() && db.health.probedAt.CompareAndSwap(last, now) {
		db.WriteTx(ctx, func(tx *Tx) error { return tx.PutSetting(ctx, "health.write_probe", strconv.FormatInt(now, 10)) })
	}
	if db.health.failedAt.Load() != 0 {
		return ErrStorage
	}
	return nil
}
