package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Snapshots (issue 15): a backup reads every table of one consistent
// snapshot as portable rows, and a restore loads such rows into an empty
// database of either dialect. The mechanics live here; what is written
// where, signed and encrypted is internal/backup's, and who may do it the
// service's.

// SnapshotTable describes one table of a snapshot: its columns in order,
// their declared types (lower case) and its primary key.
type SnapshotTable struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
	Types   []string `json:"types"`
	Key     []string `json:"key"`
	// selfRefs are the columns referencing the table itself (a department's
	// parent): loaded empty first and filled once every row is in, since a
	// row may point at a later one.
	selfRefs []string
}

// derivedTables are tables a dialect's triggers keep from other tables
// (and report_grains, which its migration fills): they are not in a
// snapshot (the portable row set is the same for both databases) and are
// rebuilt as the rows they derive from are loaded.
var derivedTables = map[Dialect][]string{
	SQLite:   {"customer_terms", "report_counts", "report_grains"},
	Postgres: {"report_counts", "report_grains"},
}

// SnapshotTx runs fn in one read transaction that sees a single consistent
// state of the whole database, taken when its first statement runs: on
// PostgreSQL REPEATABLE READ (a snapshot for the transaction), on SQLite a
// read transaction (WAL keeps the pages of its snapshot until it ends).
// Writers go on meanwhile.
func (db *DB) SnapshotTx(ctx context.Context, fn func(*Tx) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := db.read.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("store: begin snapshot: %w", err)
	}
	defer tx.Rollback()
	return fn(&Tx{q: tx, d: db.dialect, read: true})
}

// AppliedMigrations returns the schema migrations applied, in order.
func (tx *Tx) AppliedMigrations(ctx context.Context) ([]int, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		return nil, mapErr("applied migrations", err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, mapErr("applied migrations", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// SnapshotTables lists the tables a snapshot holds, in an order in which
// they can be loaded (a table after every table it references), without
// schema_migrations (the manifest lists the migrations) and the derived
// tables.
func (tx *Tx) SnapshotTables(ctx context.Context) ([]SnapshotTable, error) {
	names, err := tx.tableNames(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]*SnapshotTable{}
	refs := map[string][]string{}
	for _, n := range names {
		if n == "schema_migrations" || slices.Contains(derivedTables[tx.d], n) {
			continue
		}
		t := &SnapshotTable{Name: n}
		if err := tx.describeTable(ctx, t, refs); err != nil {
			return nil, err
		}
		byName[n] = t
	}
	// Depth-first: each table after what it references; a cycle between
	// two tables would need deferred constraints, which the schema avoids.
	var out []SnapshotTable
	state := map[string]int{}
	var visit func(n string) error
	visit = func(n string) error {
		switch state[n] {
		case 1:
			return fmt.Errorf("store: snapshot: tables reference each other in a cycle through %s", n)
		case 2:
			return nil
		}
		state[n] = 1
		for _, r := range refs[n] {
			if _, ok := byName[r]; ok {
				if err := visit(r); err != nil {
					return err
				}
			}
		}
		state[n] = 2
		out = append(out, *byName[n])
		return nil
	}
	sorted := make([]string, 0, len(byName))
	for n := range byName {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// tableNames lists the database's own tables: not SQLite's, nor the
// bookkeeping tables Litestream adds to a database it replicates
// (_litestream_seq, _litestream_lock; docs/operations.md).
func (tx *Tx) tableNames(ctx context.Context) ([]string, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
		AND name NOT LIKE '\_litestream\_%' ESCAPE '\' ORDER BY name`
	if tx.d == Postgres {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
	}
	rows, err := tx.q.QueryContext(ctx, q)
	if err != nil {
		return nil, mapErr("list tables", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, mapErr("list tables", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// describeTable fills t's columns, types and key, and records in refs the
// other tables it references.
func (tx *Tx) describeTable(ctx context.Context, t *SnapshotTable, refs map[string][]string) error {
	if tx.d == SQLite {
		return tx.describeSQLite(ctx, t, refs)
	}
	rows, err := tx.q.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, t.Name)
	if err != nil {
		return mapErr("describe "+t.Name, err)
	}
	for rows.Next() {
		var c, typ string
		if err := rows.Scan(&c, &typ); err != nil {
			rows.Close()
			return mapErr("describe "+t.Name, err)
		}
		t.Columns, t.Types = append(t.Columns, c), append(t.Types, strings.ToLower(typ))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return mapErr("describe "+t.Name, err)
	}
	t.Key, err = tx.strings(ctx, `SELECT a.attname FROM pg_index i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
		WHERE i.indrelid = (quote_ident(current_schema()) || '.' || quote_ident($1))::regclass AND i.indisprimary
		ORDER BY array_position(i.indkey, a.attnum)`, t.Name)
	if err != nil {
		return err
	}
	return tx.references(ctx, t, refs, `SELECT ref.relname, a.attname FROM pg_constraint c
		JOIN pg_class ref ON ref.oid = c.confrelid
		JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
		WHERE c.contype = 'f' AND c.conrelid = (quote_ident(current_schema()) || '.' || quote_ident($1))::regclass`, t.Name)
}

func (tx *Tx) describeSQLite(ctx context.Context, t *SnapshotTable, refs map[string][]string) error {
	// PRAGMA arguments cannot be parameters; the name comes from
	// sqlite_master and is quoted.
	rows, err := tx.q.QueryContext(ctx, "SELECT name, type, pk FROM pragma_table_info("+quoteLiteral(t.Name)+") ORDER BY cid")
	if err != nil {
		return mapErr("describe "+t.Name, err)
	}
	type keyCol struct {
		pos  int
		name string
	}
	var key []keyCol
	for rows.Next() {
		var c, typ string
		var pk int
		if err := rows.Scan(&c, &typ, &pk); err != nil {
			rows.Close()
			return mapErr("describe "+t.Name, err)
		}
		t.Columns, t.Types = append(t.Columns, c), append(t.Types, strings.ToLower(typ))
		if pk > 0 {
			key = append(key, keyCol{pk, c})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return mapErr("describe "+t.Name, err)
	}
	sort.Slice(key, func(i, j int) bool { return key[i].pos < key[j].pos })
	for _, k := range key {
		t.Key = append(t.Key, k.name)
	}
	return tx.references(ctx, t, refs, `SELECT "table", "from" FROM pragma_foreign_key_list(`+quoteLiteral(t.Name)+`)`)
}

// references runs q, which lists (referenced table, column) pairs of t's
// foreign keys, and records them: another table in refs, t itself in
// t.selfRefs.
func (tx *Tx) references(ctx context.Context, t *SnapshotTable, refs map[string][]string, q string, args ...any) error {
	fks, err := tx.q.QueryContext(ctx, q, args...)
	if err != nil {
		return mapErr("describe "+t.Name, err)
	}
	defer fks.Close()
	for fks.Next() {
		var ref, col string
		if err := fks.Scan(&ref, &col); err != nil {
			return mapErr("describe "+t.Name, err)
		}
		if ref == t.Name {
			t.selfRefs = append(t.selfRefs, col)
		} else {
			refs[t.Name] = append(refs[t.Name], ref)
		}
	}
	return fks.Err()
}

func (tx *Tx) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := tx.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr("query", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, mapErr("query", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func quoteIdent(s string) string   { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func quoteLiteral(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }

// ScanTable reads every row of t in key order and hands each to fn as
// portable values: nil, int64, float64, string or []byte. Booleans become
// 0 and 1, as SQLite stores them, so a row reads the same from both
// databases. The slice is reused between calls.
func (tx *Tx) ScanTable(ctx context.Context, t SnapshotTable, fn func(row []any) error) error {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = quoteIdent(c)
	}
	q := "SELECT " + strings.Join(cols, ", ") + " FROM " + quoteIdent(t.Name)
	if len(t.Key) > 0 {
		keys := make([]string, len(t.Key))
		for i, k := range t.Key {
			keys[i] = quoteIdent(k)
		}
		q += " ORDER BY " + strings.Join(keys, ", ")
	}
	rows, err := tx.q.QueryContext(ctx, q)
	if err != nil {
		return mapErr("scan "+t.Name, err)
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return mapErr("scan "+t.Name, err)
		}
		for i, v := range vals {
			switch x := v.(type) {
			case bool:
				vals[i] = int64(0)
				if x {
					vals[i] = int64(1)
				}
			case int32:
				vals[i] = int64(x)
			case float32:
				vals[i] = float64(x)
			case nil, int64, float64, string, []byte:
			default:
				return fmt.Errorf("store: scan %s.%s: unsupported value type %T", t.Name, t.Columns[i], v)
			}
		}
		if err := fn(vals); err != nil {
			return err
		}
	}
	return mapErr("scan "+t.Name, rows.Err())
}

// ErrNotEmpty is returned by OpenEmpty for a target that holds anything.
var ErrNotEmpty = errors.New("the restore target is not empty")

// OpenEmpty opens a new, empty database to restore into and applies
// exactly the migrations given (the schema a snapshot was taken at); Migrate
// applies the rest once the rows are in. It refuses a target that holds a
// database already: a SQLite data directory with anything in it, a
// PostgreSQL schema with tables.
func OpenEmpty(ctx context.Context, opt Options, migrations []int) (*DB, error) {
	known, err := migrationsOf(opt)
	if err != nil {
		return nil, err
	}
	for _, v := range migrations {
		if !slices.Contains(known, v) {
			return nil, fmt.Errorf("store: the snapshot's schema has migration %d, which this Custos does not know; restore it with the Custos version that took it (or newer)", v)
		}
	}
	var db *DB
	if opt.URL != "" {
		if db, err = openPostgres(ctx, opt.URL); err != nil {
			return nil, err
		}
		var n int
		if err := db.read.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()").Scan(&n); err != nil {
			db.Close()
			return nil, fmt.Errorf("store: inspect restore target: %w", err)
		}
		if n > 0 {
			db.Close()
			return nil, fmt.Errorf("store: %w: the PostgreSQL schema holds %d tables; restore into an empty database", ErrNotEmpty, n)
		}
	} else {
		if opt.Dir == "" {
			return nil, errors.New("store: no data directory")
		}
		if entries, err := os.ReadDir(opt.Dir); err == nil && len(entries) > 0 {
			return nil, fmt.Errorf("store: %w: %s holds %s; restore into a new directory", ErrNotEmpty, opt.Dir, entries[0].Name())
		} else if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("store: restore target: %w", err)
		}
		if db, err = openSQLite(ctx, opt); err != nil {
			return nil, err
		}
	}
	if err := db.migrateOnly(ctx, func(v int) bool { return slices.Contains(migrations, v) }); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// migrationsOf lists the versions this binary has for opt's dialect.
func migrationsOf(opt Options) ([]int, error) {
	d := SQLite
	if opt.URL != "" {
		d = Postgres
	}
	ms, err := migrations(d)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(ms))
	for i, m := range ms {
		out[i] = m.version
	}
	return out, nil
}

// PendingMigrations returns the migrations this binary would apply to a
// database that holds data (none for a new, empty one).
func (db *DB) PendingMigrations(ctx context.Context) ([]int, error) {
	var applied []int
	err := db.ReadTx(ctx, func(tx *Tx) error {
		var n int
		q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
		if db.dialect == Postgres {
			q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'"
		}
		if err := tx.q.QueryRowContext(ctx, q).Scan(&n); err != nil || n == 0 {
			return err
		}
		var err error
		if applied, err = tx.AppliedMigrations(ctx); err != nil || len(applied) == 0 {
			return err
		}
		data, err := tx.HoldsData(ctx)
		if !data {
			applied = nil
		}
		return err
	})
	if err != nil || len(applied) == 0 {
		return nil, err
	}
	ms, err := migrations(db.dialect)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, m := range ms {
		if !slices.Contains(applied, m.version) {
			out = append(out, m.version)
		}
	}
	return out, nil
}

// Migrate applies every migration not applied yet (after a restore).
func (db *DB) Migrate(ctx context.Context) error { return db.migrate(ctx) }

// loadParams bounds the parameters of one INSERT of a restore. PostgreSQL
// takes many rows per statement (fewer round trips; its limit is 65,535).
// On SQLite the driver looks each parameter's name up in a list as long as
// the statement's parameters, so binding is quadratic in them: 30,000
// parameters loaded 20,000 audit events in minutes; a few rows per
// statement (each a cached prepared statement) load them in a fraction of
// a second.
func loadParams(d Dialect) int {
	if d == SQLite {
		return 100
	}
	return 30000
}

// LoadRows inserts rows into t of a database opened with OpenEmpty, in one
// transaction of its own (WriteTxAlone: in a savepoint of the group commit,
// SQLite truncated a sub-journal as long as the whole part after every
// INSERT, which was most of a restore's CPU; docs/benchmarks.md, "Backups").
// Values are converted to the column types (0/1 to a
// PostgreSQL boolean); columns referencing t itself are left empty and
// returned as updates for FinishTable, since a row may point at a later
// one.
func (db *DB) LoadRows(ctx context.Context, t SnapshotTable, rows [][]any, later *SelfRefs) error {
	if len(rows) == 0 {
		return nil
	}
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = quoteIdent(c)
	}
	self := make([]bool, len(t.Columns))
	for i, c := range t.Columns {
		self[i] = slices.Contains(t.selfRefs, c)
	}
	keyIdx := make([]int, len(t.Key))
	for i, k := range t.Key {
		keyIdx[i] = slices.Index(t.Columns, k)
	}
	per := max(1, loadParams(db.dialect)/len(cols))
	return db.WriteTxAlone(ctx, func(tx *Tx) error {
		for start := 0; start < len(rows); start += per {
			chunk := rows[start:min(start+per, len(rows))]
			var b strings.Builder
			b.WriteString("INSERT INTO " + quoteIdent(t.Name) + " (" + strings.Join(cols, ", ") + ") VALUES ")
			args := make([]any, 0, len(chunk)*len(cols))
			for r, row := range chunk {
				if r > 0 {
					b.WriteByte(',')
				}
				b.WriteByte('(')
				for i, v := range row {
					if i > 0 {
						b.WriteByte(',')
					}
					if self[i] && v != nil {
						key := make([]any, len(keyIdx))
						for k, ki := range keyIdx {
							key[k] = row[ki]
						}
						later.add(t.Columns[i], key, v)
						v = nil
					}
					args = append(args, tx.portableIn(t.Types[i], v))
					fmt.Fprintf(&b, "$%d", len(args))
				}
				b.WriteByte(')')
			}
			if _, err := tx.q.ExecContext(ctx, b.String(), args...); err != nil {
				return fmt.Errorf("store: load %s: %w", t.Name, err)
			}
		}
		return nil
	})
}

// portableIn converts a portable value for a column of the declared type.
func (tx *Tx) portableIn(typ string, v any) any {
	if tx.d == Postgres && typ == "boolean" {
		if n, ok := v.(int64); ok {
			return n != 0
		}
	}
	return v
}

// SelfRefs are the values of self-referencing columns held back while a
// table loads.
type SelfRefs struct {
	updates []selfRef
}

type selfRef struct {
	col   string
	key   []any
	value any
}

func (s *SelfRefs) add(col string, key []any, v any) {
	s.updates = append(s.updates, selfRef{col, slices.Clone(key), v})
}

// ClearTables empties tables (in reverse load order), before a restore
// loads them: migrations seed some (the default roles and stages), and a
// snapshot brings its own.
func (db *DB) ClearTables(ctx context.Context, tables []SnapshotTable) error {
	return db.WriteTxAlone(ctx, func(tx *Tx) error {
		for i := len(tables) - 1; i >= 0; i-- {
			if _, err := tx.q.ExecContext(ctx, "DELETE FROM "+quoteIdent(tables[i].Name)); err != nil {
				return fmt.Errorf("store: clear %s: %w", tables[i].Name, err)
			}
		}
		return nil
	})
}

// FinishTable sets the self-referencing columns held back while t loaded.
func (db *DB) FinishTable(ctx context.Context, t SnapshotTable, later *SelfRefs) error {
	if len(later.updates) == 0 {
		return nil
	}
	return db.WriteTxAlone(ctx, func(tx *Tx) error {
		for _, u := range later.updates {
			var a args
			set := quoteIdent(u.col) + " = " + a.add(u.value)
			var where []string
			for i, k := range t.Key {
				where = append(where, quoteIdent(k)+" = "+a.add(u.key[i]))
			}
			if _, err := tx.q.ExecContext(ctx, "UPDATE "+quoteIdent(t.Name)+" SET "+set+" WHERE "+strings.Join(where, " AND "), a...); err != nil {
				return fmt.Errorf("store: load %s: %w", t.Name, err)
			}
		}
		later.updates = nil
		return nil
	})
}

// FinishLoad ends a restore's loading: on PostgreSQL each identity column's
// sequence continues after the highest id loaded; then the database checks
// itself (SQLite: integrity_check and foreign_key_check).
func (db *DB) FinishLoad(ctx context.Context) error {
	if db.dialect == Postgres {
		rows, err := db.read.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND is_identity = 'YES'`)
		if err != nil {
			return fmt.Errorf("store: identity columns: %w", err)
		}
		type col struct{ table, name string }
		var cols []col
		for rows.Next() {
			var c col
			if err := rows.Scan(&c.table, &c.name); err != nil {
				rows.Close()
				return fmt.Errorf("store: identity columns: %w", err)
			}
			cols = append(cols, c)
		}
		rows.Close()
		for _, c := range cols {
			q := fmt.Sprintf(`SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE(MAX(%s), 0) + 1, false) FROM %s`,
				quoteLiteral(quoteIdent(c.table)), quoteLiteral(c.name), quoteIdent(c.name), quoteIdent(c.table))
			if _, err := db.write.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("store: continue the ids of %s: %w", c.table, err)
			}
		}
		return nil
	}
	var res string
	if err := db.read.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("store: integrity check of the restored database: %s", res)
	}
	var table string
	var rowid sql.NullInt64
	var parent string
	var fkid int
	err := db.read.QueryRowContext(ctx, "PRAGMA foreign_key_check").Scan(&table, &rowid, &parent, &fkid)
	if err == nil {
		return fmt.Errorf("store: the restored table %s has a row (rowid %d) pointing at a missing %s", table, rowid.Int64, parent)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: foreign key check: %w", err)
	}
	return nil
}

// SQLitePath is where a SQLite data directory keeps its database file.
func SQLitePath(dir string) string { return filepath.Join(dir, "custos.db") }

// ScratchSchema creates an empty schema in the PostgreSQL database at
// dsn, for a restore drill, and returns a URL whose search_path points at
// it and a function that drops it again.
func ScratchSchema(ctx context.Context, dsn string) (string, func() error, error) {
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", nil, fmt.Errorf("store: scratch schema: %w", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "custos_drill_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("store: scratch schema: %w", err)
	}
	drop := func() error {
		defer admin.Close()
		_, err := admin.ExecContext(context.WithoutCancel(ctx), "DROP SCHEMA "+schema+" CASCADE")
		return err
	}
	u, err := url.Parse(dsn)
	if err != nil {
		drop()
		return "", nil, fmt.Errorf("store: scratch schema: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}
