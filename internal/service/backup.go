package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"filippo.io/age"

	"custos/internal/access"
	"custos/internal/audit"
	"custos/internal/backup"
	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/vault"
)

// Backups, restores and restore drills (issue 15). A backup reads every
// record, so it is an administrator's operation and audited; the store
// takes the snapshot, internal/backup writes and checks the files.

// BackupOptions say where a backup goes and who can read it.
type BackupOptions struct {
	// Dir is the local directory the backup is made inside; empty: a
	// temporary one, removed once the backup is in its destinations.
	Dir        string
	AuditDir   string // the audit directory whose files go along
	Recipients []age.Recipient
	Version    string
}

// CreateBackup writes a backup of the whole database (online, one
// consistent snapshot) into o.Dir, puts it into each of dests (a copy in
// another directory, an upload to a bucket), and returns where it is (in
// o.Dir, else in the first destination) and its manifest. The run goes
// into the backup history with its audit event; a destination that fails
// is named in the run's error.
func (s *Service) CreateBackup(ctx context.Context, a *access.Actor, o BackupOptions, dests ...backup.Destination) (string, *backup.Manifest, error) {
	if err := s.requireAdmin(ctx, a, "backup"); err != nil {
		return "", nil, err
	}
	run := crm.BackupRun{Kind: crm.BackupKindBackup, StartedAt: s.clock()}
	dir := o.Dir
	if dir == "" {
		if len(dests) == 0 {
			return "", nil, errors.New("backup: no destination")
		}
		tmp, err := os.MkdirTemp("", "custos-backup-")
		if err != nil {
			return "", nil, fmt.Errorf("backup: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	path, m, err := backup.Create(ctx, backup.CreateOptions{DB: s.db, Keys: s.keys, AuditDir: o.AuditDir, Dir: dir,
		Recipients: o.Recipients, Version: o.Version, Now: s.clock})
	detail := map[string]any{"dir": o.Dir}
	if err == nil {
		run.Path, run.Rows, run.Bytes = path, m.Rows(), m.Data.Size
		for _, d := range dests {
			var put string
			if put, err = d.Put(ctx, path); err != nil {
				break
			}
			run.Copies = append(run.Copies, put)
		}
		if o.Dir == "" {
			// The local backup goes with the temporary directory: where it
			// is kept is its first destination.
			path, run.Path = "", ""
			if len(run.Copies) > 0 {
				path, run.Path, run.Copies = run.Copies[0], run.Copies[0], run.Copies[1:]
			}
		}
		detail = map[string]any{"backup": path, "copies": run.Copies, "tables": len(m.Tables), "rows": m.Rows(),
			"audit_sealed": m.Audit.Sealed, "schema": m.Schema, "bytes": m.Data.Size}
	}
	if err != nil && run.Path == "" && len(dests) > 0 {
		run.Path = dests[0].String() // the history shows where it was going
	}
	return path, m, s.recordRun(ctx, a, "backup.create", run, detail, err)
}

// recordRun records a backup or drill in the history with its audit event,
// in one transaction; the operation's own error wins over the record's.
func (s *Service) recordRun(ctx context.Context, a *access.Actor, action string, run crm.BackupRun, detail map[string]any, opErr error) error {
	run.FinishedAt, run.Outcome = s.clock(), "ok"
	e := s.event(a, action, "", 0)
	if opErr != nil {
		run.Outcome, run.Detail = "error", opErr.Error()
		e.Outcome, detail["error"] = "error", opErr.Error()
	}
	e.Fields = mustJSON(detail)
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertBackupRun(ctx, &run); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, e)
	})
	if opErr != nil {
		return fmt.Errorf("%s: %w", action, opErr)
	}
	return err
}

// BackupHistory lists the newest backups and drills (administrators).
func (s *Service) BackupHistory(ctx context.Context, a *access.Actor, limit int) ([]crm.BackupRun, error) {
	if err := s.requireAdmin(ctx, a, "backup"); err != nil {
		return nil, err
	}
	var runs []crm.BackupRun
	err := s.db.ReadTx(ctx, func(tx *store.Tx) (err error) { runs, err = tx.ListBackupRuns(ctx, limit); return err })
	return runs, err
}

// RestoreOptions say what to restore where, with which keys.
type RestoreOptions struct {
	From string // a backup directory
	// Source names where the backup came from, when From is a download
	// of it (an S3 location); empty: From.
	Source     string
	Target     store.Options // an empty database
	AuditDir   string        // the restored database's audit directory (empty or missing)
	Identities []age.Identity
	// The current keys: the audit key checks the manifest and the trail,
	// the vault's tombstones erase again whoever was erased after the
	// backup.
	AuditKeys *audit.Keys
	Vault     *vault.Vault
	Logger    *slog.Logger
	Actor     string // names the system actor of the restore's audit event
}

// RestoreReport is what a restore found and did.
type RestoreReport struct {
	Manifest *backup.Manifest
	Rows     int64
	Tables   int
	Erased   int          // records of people erased after the backup, cleaned again
	Audit    audit.Report // the restored trail's verification
}

// RestoreBackup restores a backup into an empty database and returns it
// open: checks (manifest signature, file and table checksums, integrity),
// loads, binds the current keys, re-applies the erasure tombstones of the
// current key store (a person erased after the backup stays erased),
// records the restore in the restored trail, seals it and verifies the
// trail against the restored audit directory.
func RestoreBackup(ctx context.Context, o RestoreOptions) (*store.DB, RestoreReport, error) {
	var r RestoreReport
	if o.AuditDir == "" {
		return nil, r, errors.New("restore: no audit directory for the restored database")
	}
	b, err := backup.Open(o.From, o.AuditKeys)
	if err != nil {
		return nil, r, err
	}
	r.Manifest, r.Tables, r.Rows = b.Manifest, len(b.Manifest.Tables), b.Manifest.Rows()
	db, err := b.Restore(ctx, backup.RestoreOptions{Target: o.Target, AuditDir: o.AuditDir, Identities: o.Identities})
	if err != nil {
		return nil, r, err
	}
	fail := func(err error) (*store.DB, RestoreReport, error) {
		db.Close()
		return nil, r, err
	}
	if err := BindKeys(ctx, db, o.Vault, o.AuditKeys); err != nil {
		return fail(fmt.Errorf("restore: the current keys: %w", err))
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	svc := New(db, Options{AuditKeys: o.AuditKeys, Vault: o.Vault, Logger: logger})
	if r.Erased, err = svc.ReconcileErasures(ctx); err != nil {
		return fail(fmt.Errorf("restore: re-apply erasures: %w", err))
	}
	actor := access.System(o.Actor)
	e := svc.event(actor, "backup.restore", "", 0)
	source := o.Source
	if source == "" {
		source = o.From
	}
	e.Fields = mustJSON(map[string]any{"backup": source, "created_at": b.Manifest.CreatedAt, "rows": r.Rows,
		"audit_sealed": b.Manifest.Audit.Sealed, "erased_again": r.Erased})
	if err := db.WriteTx(ctx, func(tx *store.Tx) error { return svc.insertEvent(ctx, tx, e) }); err != nil {
		return fail(err)
	}
	sealer := &audit.Sealer{DB: db, Keys: o.AuditKeys, Dir: o.AuditDir, Logger: logger}
	if _, err := sealer.SealOnce(ctx); err != nil {
		return fail(fmt.Errorf("restore: seal the restored trail: %w", err))
	}
	if r.Audit, err = audit.Verify(ctx, db, o.AuditKeys, o.AuditDir); err != nil {
		return fail(err)
	}
	if !r.Audit.OK() {
		return fail(fmt.Errorf("restore: the restored audit trail does not verify: %s", r.Audit.Problems[0]))
	}
	return db, r, nil
}

// DrillOptions say which backup to drill and where to restore it.
type DrillOptions struct {
	From       string // a backup directory
	Source     string // where it came from, if From is a download (empty: From)
	Identities []age.Identity
	// Scratch is the empty database to restore into; ScratchAuditDir its
	// audit directory. Both are removed by the caller afterwards.
	Scratch         store.Options
	ScratchAuditDir string
	Sample          int // people whose personal data is opened
}

// DrillReport is a restore drill's outcome.
type DrillReport struct {
	RestoreReport
	Age     time.Duration // of the backup
	Sampled int           // records whose sealed values were opened
	Erased  int           // of those, records of erased people (empty, as they should be)
}

// DrillBackup restores a backup into scratch and checks it: every check of
// a restore, the rows read back against the manifest, the trail's
// verification, and a sample of personal data opened with the current key
// store. It records the drill in this database's audit trail and fails on
// any finding.
func (s *Service) DrillBackup(ctx context.Context, a *access.Actor, o DrillOptions) (DrillReport, error) {
	var r DrillReport
	if err := s.requireAdmin(ctx, a, "backup"); err != nil {
		return r, err
	}
	run := crm.BackupRun{Kind: crm.BackupKindDrill, StartedAt: s.clock()}
	err := func() error {
		db, rr, err := RestoreBackup(ctx, RestoreOptions{From: o.From, Target: o.Scratch, AuditDir: o.ScratchAuditDir,
			Source: o.Source, Identities: o.Identities, AuditKeys: s.keys, Vault: s.vault, Logger: s.k.Logger, Actor: "backup drill"})
		r.RestoreReport = rr
		if rr.Manifest != nil {
			r.Age = s.clock().Sub(rr.Manifest.CreatedAt)
		}
		if err != nil {
			return err
		}
		defer db.Close()
		scratch := New(db, Options{AuditKeys: s.keys, Vault: s.vault, Logger: s.k.Logger})
		r.Sampled, r.Erased, err = scratch.openSample(ctx, max(o.Sample, 1))
		return err
	}()
	source := o.Source
	if source == "" {
		source = o.From
	}
	detail := map[string]any{"backup": source, "age_seconds": int64(r.Age.Seconds()), "rows": r.Rows, "sampled": r.Sampled}
	run.Path, run.Rows = source, r.Rows
	if r.Manifest != nil {
		run.BackupAt, run.Bytes = r.Manifest.CreatedAt, r.Manifest.Data.Size
	}
	return r, s.recordRun(ctx, a, "backup.drill", run, detail, err)
}

// openSample opens the sealed values of up to n contacts and n leads with
// the vault's keys; a value that does not open is a failure, a person
// erased since the backup is counted.
func (s *Service) openSample(ctx context.Context, n int) (opened, erased int, err error) {
	a := access.System("backup drill")
	contacts, err := s.ListContacts(ctx, a, crm.ListFilter{Limit: n})
	if err != nil {
		return 0, 0, fmt.Errorf("drill: open contacts' personal data: %w", err)
	}
	for _, c := range contacts.Items {
		opened++
		if c.Erased {
			erased++
		}
	}
	leads, err := s.ListLeads(ctx, a, crm.ListFilter{Limit: n})
	if err != nil {
		return opened, erased, fmt.Errorf("drill: open leads' personal data: %w", err)
	}
	for _, l := range leads.Items {
		opened++
		if l.Erased {
			erased++
		}
	}
	return opened, erased, nil
}

// RemoveScratch removes a drill's scratch directory.
func RemoveScratch(dir string) error { return os.RemoveAll(dir) }

// BackupBeforeMigrate backs up a database that holds data before this
// Custos applies its pending migrations (serve and migrate do, unless told
// not to): the data as the previous version left it, restorable by that
// version. It runs before the service exists (the schema is the old one),
// so RecordPreMigrationBackup records it once migrated.
func BackupBeforeMigrate(ctx context.Context, db *store.DB, keys *audit.Keys, o BackupOptions) (string, *backup.Manifest, error) {
	if err := CheckAuditKey(ctx, db, keys); err != nil {
		return "", nil, err
	}
	return backup.Create(ctx, backup.CreateOptions{DB: db, Keys: keys, AuditDir: o.AuditDir, Dir: o.Dir,
		Recipients: o.Recipients, Version: o.Version})
}

// RecordPreMigrationBackup records a backup BackupBeforeMigrate made, in
// the history and the trail.
func (s *Service) RecordPreMigrationBackup(ctx context.Context, path string, m *backup.Manifest, migrations []int) error {
	run := crm.BackupRun{Kind: crm.BackupKindBackup, StartedAt: m.CreatedAt, Path: path, Rows: m.Rows(), Bytes: m.Data.Size}
	return s.recordRun(ctx, access.System("backup before migrating"), "backup.create", run,
		map[string]any{"backup": path, "rows": m.Rows(), "schema": m.Schema, "before_migrations": migrations}, nil)
}
