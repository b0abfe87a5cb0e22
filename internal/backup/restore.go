package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"filippo.io/age"

	"custos/internal/audit"
	"custos/internal/store"
)

// Backup is a backup whose manifest signature and data file checked out.
type Backup struct {
	Path     string
	Manifest *Manifest
}

// Open reads the backup at dir and checks it before anything is
// decrypted: the manifest's signature with the audit key, then the data
// file's size and SHA-256 against the manifest (a flipped byte or a cut
// file is found here).
func Open(dir string, keys *audit.Keys) (*Backup, error) {
	signed, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("backup %s: %w (is it a complete backup?)", dir, err)
	}
	text, err := keys.OpenNote(signed)
	if err != nil {
		return nil, fmt.Errorf("backup %s: the manifest is not genuine: %w", dir, err)
	}
	m, err := decodeManifest(text)
	if err != nil {
		return nil, fmt.Errorf("backup %s: %w", dir, err)
	}
	f, err := os.Open(filepath.Join(dir, DataFile))
	if err != nil {
		return nil, fmt.Errorf("backup %s: %w", dir, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return nil, fmt.Errorf("backup %s: read %s: %w", dir, DataFile, err)
	}
	if n != m.Data.Size {
		return nil, fmt.Errorf("backup %s: %s holds %d bytes, the manifest says %d: the file was cut or extended", dir, DataFile, n, m.Data.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != m.Data.SHA256 {
		return nil, fmt.Errorf("backup %s: %s does not match the SHA-256 in the manifest: the file was changed", dir, DataFile)
	}
	return &Backup{Path: dir, Manifest: m}, nil
}

// RestoreOptions say where to restore and with which identities.
type RestoreOptions struct {
	Target     store.Options // an empty database: a new data directory or an empty PostgreSQL schema
	AuditDir   string        // the restored audit directory (must be empty or missing)
	Identities []age.Identity
}

// Restore loads the backup into the empty target and returns it open,
// migrated to this Custos's schema. Every entry is checked against its
// SHA-256 in the manifest as it is read; every table's rows against their
// count and checksum, once as read and once more as the restored database
// returns them; SQLite checks its integrity and foreign keys. The audit
// directory gets the backup's checkpoints and segments: the trail as the
// snapshot saw it (docs/operations.md, "An older backup's audit directory").
func (b *Backup) Restore(ctx context.Context, o RestoreOptions) (_ *store.DB, err error) {
	m := b.Manifest
	if entries, err := os.ReadDir(o.AuditDir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("restore: %w: the audit directory %s holds %s; restore into a new one", store.ErrNotEmpty, o.AuditDir, entries[0].Name())
	}
	createdDir := o.Target.URL == "" && !exists(o.Target.Dir)
	createdAudit := !exists(o.AuditDir)
	db, err := store.OpenEmpty(ctx, o.Target, m.Migrations)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	defer func() {
		if err != nil {
			db.Close()
			// What this restore made goes; a PostgreSQL schema is left for
			// the operator to drop (the message says so).
			if createdDir {
				os.RemoveAll(o.Target.Dir)
			}
			if createdAudit {
				os.RemoveAll(o.AuditDir)
			}
			if o.Target.URL != "" {
				err = fmt.Errorf("%w (the target database holds a partial restore: drop its tables before trying again)", err)
			}
		}
	}()
	if err := b.load(ctx, db, o); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if err := db.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("restore: migrate to this Custos's schema: %w", err)
	}
	return db, nil
}

func (b *Backup) load(ctx context.Context, db *store.DB, o RestoreOptions) error {
	m := b.Manifest
	var tables []store.SnapshotTable
	if err := db.SnapshotTx(ctx, func(tx *store.Tx) (err error) { tables, err = tx.SnapshotTables(ctx); return err }); err != nil {
		return err
	}
	byName := map[string]store.SnapshotTable{}
	for _, t := range tables {
		byName[t.Name] = t
	}
	for _, ts := range m.Tables {
		t, ok := byName[ts.Name]
		if !ok || !slices.Equal(t.Columns, ts.Columns) {
			return fmt.Errorf("table %s: the backup's columns %v differ from the schema's %v", ts.Name, ts.Columns, t.Columns)
		}
	}
	if len(byName) != len(m.Tables) {
		return fmt.Errorf("the schema has %d tables, the backup %d", len(byName), len(m.Tables))
	}
	if err := db.ClearTables(ctx, tables); err != nil {
		return err
	}
	files := map[string]FileSum{}
	for _, f := range m.Files {
		files[f.Name] = f
	}
	f, err := os.Open(filepath.Join(b.Path, DataFile))
	if err != nil {
		return err
	}
	defer f.Close()
	plain, err := age.Decrypt(bufio.NewReaderSize(f, 1<<20), o.Identities...)
	if err != nil {
		var none *age.NoIdentityMatchError
		if errors.As(err, &none) {
			return fmt.Errorf("%s: none of the identities given can decrypt it (the backup is encrypted to %s): %w", DataFile, strings.Join(m.Recipients, ", "), err)
		}
		return fmt.Errorf("%s: %w", DataFile, err)
	}
	tr := tar.NewReader(plain)
	seen := map[string]bool{}
	sums := map[string]*checksum{}
	counts := map[string]int64{}
	self := map[string]*store.SelfRefs{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w (changed, cut, or not encrypted to this identity)", DataFile, err)
		}
		want, ok := files[h.Name]
		if !ok || seen[h.Name] || strings.Contains(h.Name, "..") || path.IsAbs(h.Name) {
			return fmt.Errorf("%s holds %s, which the manifest does not list", DataFile, h.Name)
		}
		seen[h.Name] = true
		body, err := io.ReadAll(tr)
		if err != nil {
			return fmt.Errorf("%s: %s: %w (changed or cut)", DataFile, h.Name, err)
		}
		sum := sha256.Sum256(body)
		if int64(len(body)) != want.Size || hex.EncodeToString(sum[:]) != want.SHA256 {
			return fmt.Errorf("%s: %s does not match its SHA-256 in the manifest", DataFile, h.Name)
		}
		switch {
		case strings.HasPrefix(h.Name, "tables/"):
			name := strings.Split(h.Name, "/")[1]
			t := byName[name]
			if sums[name] == nil {
				sums[name], self[name] = &checksum{}, &store.SelfRefs{}
			}
			rows, err := readPart(body, t, sums[name])
			if err != nil {
				return fmt.Errorf("%s: %w", h.Name, err)
			}
			counts[name] += int64(len(rows))
			if err := db.LoadRows(ctx, t, rows, self[name]); err != nil {
				return err
			}
		case h.Name == auditCheckpoints || strings.HasPrefix(h.Name, auditSegments):
			dst := filepath.Join(o.AuditDir, filepath.FromSlash(strings.TrimPrefix(h.Name, "audit/")))
			if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
				return err
			}
			if err := audit.WriteFileSynced(dst, body); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s holds %s, an entry this Custos does not know", DataFile, h.Name)
		}
	}
	for _, f := range m.Files {
		if !seen[f.Name] {
			return fmt.Errorf("%s lacks %s, which the manifest lists", DataFile, f.Name)
		}
	}
	for _, ts := range m.Tables {
		got := checksum{}
		if s := sums[ts.Name]; s != nil {
			got = *s
		}
		if counts[ts.Name] != ts.Rows || got.String() != ts.Checksum {
			return fmt.Errorf("table %s: %d rows read with checksum %s; the manifest says %d rows, %s", ts.Name, counts[ts.Name], got, ts.Rows, ts.Checksum)
		}
		if s := self[ts.Name]; s != nil {
			if err := db.FinishTable(ctx, byName[ts.Name], s); err != nil {
				return err
			}
		}
	}
	if err := db.FinishLoad(ctx); err != nil {
		return err
	}
	// Read back: the database holds exactly the rows of the backup.
	_, err = TableSums(ctx, db, m)
	return err
}

// TableSums reads every table of db and compares its rows with the
// manifest's count and checksum; it returns the rows counted.
func TableSums(ctx context.Context, db *store.DB, m *Manifest) (int64, error) {
	var total int64
	err := db.SnapshotTx(ctx, func(tx *store.Tx) error {
		tables, err := tx.SnapshotTables(ctx)
		if err != nil {
			return err
		}
		var line []byte
		for _, t := range tables {
			ts, ok := m.Table(t.Name)
			if !ok {
				return fmt.Errorf("table %s is not in the backup", t.Name)
			}
			var sum checksum
			var n int64
			err := tx.ScanTable(ctx, t, func(row []any) error {
				var err error
				line, err = appendRow(line[:0], row)
				sum.add(line)
				n++
				return err
			})
			if err != nil {
				return err
			}
			if n != ts.Rows || sum.String() != ts.Checksum {
				return fmt.Errorf("table %s: the restored database holds %d rows with checksum %s; the backup %d, %s", t.Name, n, sum, ts.Rows, ts.Checksum)
			}
			total += n
		}
		return nil
	})
	return total, err
}

// readPart decodes a table part's rows, adding each line to sum.
func readPart(gz []byte, t store.SnapshotTable, sum *checksum) ([][]any, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	var rows [][]any
	for line := range bytes.Lines(b) {
		line = bytes.TrimSuffix(line, []byte{'\n'})
		sum.add(line)
		row, err := decodeRow(line, len(t.Columns))
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", len(rows)+1, err)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// List returns the complete backups in dir, oldest first (a directory
// being written, or left by a backup that was killed, has a hidden
// temporary name and is not listed).
func List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), Prefix) && exists(filepath.Join(dir, e.Name(), ManifestFile)) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	slices.Sort(out)
	return out, nil
}
