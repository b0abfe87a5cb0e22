package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"time"

	"filippo.io/age"

	"custos/internal/audit"
	"custos/internal/store"
)

// CreateOptions say what to back up and where.
type CreateOptions struct {
	DB       *store.DB
	Keys     *audit.Keys // signs the manifest
	AuditDir string      // its segments and checkpoints go into the backup
	Dir      string      // the backup directory is made inside
	// Recipients may decrypt the backup; their identities are kept apart
	// from the data (and from the machine that writes backups).
	Recipients []age.Recipient
	Version    string // Custos's version, recorded in the manifest
	Now        func() time.Time
}

// Create writes a backup into o.Dir and returns its path and manifest.
// It reads one consistent snapshot of the database while Custos serves.
func Create(ctx context.Context, o CreateOptions) (string, *Manifest, error) {
	if len(o.Recipients) == 0 {
		return "", nil, errors.New("backup: no recipient to encrypt to (set -backup-recipient)")
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	start := now()
	name := Prefix + start.UTC().Format("20060102T150405.000Z")
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("backup: %w", err)
	}
	tmp := filepath.Join(o.Dir, tmpPrefix+name)
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return "", nil, fmt.Errorf("backup: %w", err)
	}
	final := filepath.Join(o.Dir, name)
	m := &Manifest{Format: Format, CreatedAt: start.UTC(), CustosVersion: o.Version, Dialect: string(o.DB.Dialect())}
	for _, r := range o.Recipients {
		if s, ok := r.(fmt.Stringer); ok {
			m.Recipients = append(m.Recipients, s.String())
		}
	}
	err := func() error {
		data, err := writeData(ctx, o, m, filepath.Join(tmp, DataFile), start)
		if err != nil {
			return err
		}
		m.Data = data
		m.Duration = JSONDuration(now().Sub(start).Round(time.Millisecond))
		text, err := encodeManifest(m)
		if err != nil {
			return err
		}
		signed, err := o.Keys.SignNote(text)
		if err != nil {
			return err
		}
		if err := audit.WriteFileSynced(filepath.Join(tmp, ManifestFile), signed); err != nil {
			return err
		}
		if err := audit.SyncDir(tmp); err != nil {
			return err
		}
		// Complete only now: the rename makes it a backup.
		if err := os.Rename(tmp, final); err != nil {
			return err
		}
		return audit.SyncDir(o.Dir)
	}()
	if err != nil {
		os.RemoveAll(tmp)
		return "", nil, fmt.Errorf("backup: %w", err)
	}
	return final, m, nil
}

// writeData writes data.age and fills the manifest from the snapshot.
func writeData(ctx context.Context, o CreateOptions, m *Manifest, file string, start time.Time) (FileSum, error) {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return FileSum{}, err
	}
	defer f.Close()
	buf := bufio.NewWriterSize(f, 1<<20)
	sum := &hashWriter{w: buf, h: sha256.New()}
	enc, err := age.Encrypt(sum, o.Recipients...)
	if err != nil {
		return FileSum{}, err
	}
	aw := &archiveWriter{tw: tar.NewWriter(enc), at: start, m: m}
	err = o.DB.SnapshotTx(ctx, func(tx *store.Tx) error {
		// The first statement fixes the snapshot: every write acknowledged
		// before it is in the backup.
		var err error
		if m.Migrations, err = tx.AppliedMigrations(ctx); err != nil {
			return err
		}
		if len(m.Migrations) > 0 {
			m.Schema = m.Migrations[len(m.Migrations)-1]
		}
		ids, err := tx.KeyIdentities(ctx)
		if err != nil {
			return err
		}
		m.DatabaseID = ids["database"]
		if m.Audit.Sealed, m.Audit.Head, err = tx.LastSealed(ctx); err != nil {
			return err
		}
		cp, ok, err := tx.LastCheckpoint(ctx)
		if err != nil {
			return err
		}
		if ok {
			m.Audit.Checkpoint, m.Audit.CheckpointHead = cp.Size, cp.Head
		}
		segs, err := tx.ListAuditSegments(ctx)
		if err != nil {
			return err
		}
		for _, s := range segs {
			m.Audit.Segments = append(m.Audit.Segments, s.File)
		}
		tables, err := tx.SnapshotTables(ctx)
		if err != nil {
			return err
		}
		for _, t := range tables {
			if err := aw.table(ctx, tx, t); err != nil {
				return err
			}
		}
		// The audit directory is read after the snapshot began, so its
		// files hold what the snapshot records (but for a checkpoint the
		// sealer committed and had not yet appended: added, as its next
		// seal would); what the sealer and archiver added since is left
		// out.
		return aw.auditDir(ctx, tx, o.AuditDir)
	})
	if err != nil {
		return FileSum{}, err
	}
	if err := aw.tw.Close(); err != nil {
		return FileSum{}, err
	}
	if err := enc.Close(); err != nil {
		return FileSum{}, err
	}
	if err := buf.Flush(); err != nil {
		return FileSum{}, err
	}
	if err := f.Sync(); err != nil {
		return FileSum{}, err
	}
	return FileSum{Name: DataFile, Size: sum.n, SHA256: hex.EncodeToString(sum.h.Sum(nil))}, f.Close()
}

// archiveWriter writes the entries of data.age and lists them in the
// manifest.
type archiveWriter struct {
	tw *tar.Writer
	at time.Time
	m  *Manifest
}

func (a *archiveWriter) entry(name string, b []byte) error {
	if err := a.tw.WriteHeader(&tar.Header{Name: name, Size: int64(len(b)), Mode: 0o600, ModTime: a.at, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := a.tw.Write(b); err != nil {
		return err
	}
	h := sha256.Sum256(b)
	a.m.Files = append(a.m.Files, FileSum{Name: name, Size: int64(len(b)), SHA256: hex.EncodeToString(h[:])})
	return nil
}

// table writes a table's rows in parts of partRows.
func (a *archiveWriter) table(ctx context.Context, tx *store.Tx, t store.SnapshotTable) error {
	ts := TableSum{Name: t.Name, Columns: t.Columns}
	var sum checksum
	var part bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&part, gzip.BestSpeed)
	inPart := 0
	flush := func() error {
		if err := zw.Close(); err != nil {
			return err
		}
		ts.Parts++
		if err := a.entry(partName(t.Name, ts.Parts), part.Bytes()); err != nil {
			return err
		}
		part.Reset()
		zw.Reset(&part)
		inPart = 0
		return nil
	}
	var line []byte
	err := tx.ScanTable(ctx, t, func(row []any) error {
		var err error
		if line, err = appendRow(line[:0], row); err != nil {
			return fmt.Errorf("table %s: %w", t.Name, err)
		}
		sum.add(line)
		zw.Write(line)
		zw.Write([]byte{'\n'})
		ts.Rows++
		if inPart++; inPart == partRows {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if inPart > 0 || ts.Parts == 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	ts.Checksum = sum.String()
	a.m.Tables = append(a.m.Tables, ts)
	return nil
}

func partName(table string, n int) string { return fmt.Sprintf("tables/%s/%06d.jsonl.gz", table, n) }

// The audit directory's entries.
const (
	auditCheckpoints = "audit/" + audit.CheckpointFile
	auditSegments    = "audit/" + audit.SegmentDir + "/"
)

// auditDir copies the checkpoint file, up to the snapshot's newest
// checkpoint, and the segment files the snapshot records.
func (a *archiveWriter) auditDir(ctx context.Context, tx *store.Tx, dir string) error {
	if dir == "" {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(dir, audit.CheckpointFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
		// Not made up here: a missing file is verify's finding.
	case err != nil:
		return err
	default:
		var kept bytes.Buffer
		var end int64
		for line := range bytes.Lines(b) {
			var c store.Checkpoint
			if json.Unmarshal(line, &c) == nil && c.Size > a.m.Audit.Checkpoint {
				continue
			}
			end = max(end, c.Size)
			kept.Write(line)
		}
		missing, err := tx.CheckpointsAfter(ctx, end)
		if err != nil {
			return err
		}
		for _, c := range missing {
			line, _ := json.Marshal(c)
			kept.Write(append(line, '\n'))
		}
		if err := a.entry(auditCheckpoints, kept.Bytes()); err != nil {
			return err
		}
	}
	for _, s := range a.m.Audit.Segments {
		for _, name := range []string{s, audit.SegmentNoteName(s)} {
			b, err := os.ReadFile(filepath.Join(dir, audit.SegmentDir, name))
			if err != nil {
				return fmt.Errorf("audit segment the database records: %w", err)
			}
			if err := a.entry(path.Join(auditSegments, name), b); err != nil {
				return err
			}
		}
	}
	return nil
}

type hashWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (w *hashWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	return n, err
}
