package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"

	"custos/internal/access"
	"custos/internal/audit"
	"custos/internal/backup"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/vault"
)

// backupCommand runs "custos backup -to DIR" (a backup of the running
// database), "custos backup verify BACKUP" (a restore drill) and "custos
// backup keygen -out FILE" (the age identity backups are encrypted to).
func backupCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	verb := ""
	if len(args) > 0 && (args[0] == "verify" || args[0] == "keygen") {
		verb, args = args[0], args[1:]
	}
	switch verb {
	case "keygen":
		return backupKeygen(args, stdout, stderr)
	case "verify":
		return backupVerify(ctx, args, getenv, stdout, stderr)
	}
	local := flag.NewFlagSet("backup", flag.ContinueOnError)
	local.SetOutput(stderr)
	to := local.String("to", "", "directory or s3://bucket/prefix the backup is written into (default: the first -backup-dir; the other directories and -backup-s3 get a copy)")
	replica := local.String("from-litestream", "", "back up the newest state of this Litestream replica (as litestream restore takes it: file:///…, s3://…) instead of the database, into the directory -to")
	bin := local.String("litestream-bin", "litestream", "the litestream command -from-litestream runs")
	c, err := commandConfig(local, "backup", args, getenv, stderr)
	if err != nil {
		return err
	}
	dir, dests, err := c.backupDestinations()
	if *to != "" {
		dir, dests = *to, nil
		if backup.IsS3(*to) {
			dir = ""
			d, derr := c.backupDestination(*to)
			dests, err = []backup.Destination{d}, derr
		}
	}
	if err != nil {
		return err
	}
	if dir == "" && len(dests) == 0 {
		return errors.New("usage: custos backup -to DIR|s3://bucket/prefix [flags] | custos backup verify BACKUP [flags] | custos backup keygen -out FILE")
	}
	recipients, err := c.backupRecipients()
	if err != nil {
		return err
	}
	if *replica != "" {
		if dir == "" {
			return errors.New("backup -from-litestream writes into a directory: give -to DIR")
		}
		return backupReplica(ctx, c, *bin, *replica, dir, recipients, stdout)
	}
	app, err := openService(ctx, &c, warnLogger(stderr))
	if err != nil {
		return err
	}
	defer app.Close()
	path, m, err := app.svc.CreateBackup(ctx, access.System("custos backup"), service.BackupOptions{Dir: dir, AuditDir: c.AuditDir,
		Recipients: recipients, Version: version}, dests...)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup %s: %d tables, %d rows, audit trail sealed to %d, %d bytes, in %s\n", path, len(m.Tables), m.Rows(),
		m.Audit.Sealed, m.Data.Size, time.Duration(m.Duration))
	fmt.Fprintln(stdout, "it holds no key: keep the key store (custos keys snapshot), the master key and the audit key backed up apart")
	return nil
}

// backupDestinations are where serve's scheduled backups (and custos
// backup without -to) go: made in the first -backup-dir, copied into the
// others and uploaded to -backup-s3; without a directory, made in a
// temporary one and uploaded.
func (c Config) backupDestinations() (dir string, dests []backup.Destination, err error) {
	if len(c.BackupDirs) > 0 {
		dir = c.BackupDirs[0]
		for _, d := range c.BackupDirs[1:] {
			dests = append(dests, backup.Dir(d))
		}
	}
	if c.BackupS3 != "" {
		d, err := c.backupDestination(c.BackupS3)
		if err != nil {
			return "", nil, err
		}
		dests = append(dests, d)
	}
	return dir, dests, nil
}

// commandConfig parses a command's own flags (local) and then the usual
// settings from the rest of args.
func commandConfig(local *flag.FlagSet, name string, args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	rest, err := splitFlags(local, args)
	if err != nil {
		return Config{}, err
	}
	return parseConfig(name, rest, getenv, stderr)
}

// warnLogger logs warnings and errors only: a command's own output is what
// it prints.
func warnLogger(stderr io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// backupRecipients parses -backup-recipient: age1… values or a file.
func (c Config) backupRecipients() ([]age.Recipient, error) {
	v := strings.TrimSpace(c.BackupRecipient)
	if v == "" {
		return nil, errors.New("no backup recipient: set -backup-recipient (or CUSTOS_BACKUP_RECIPIENT) to an age recipient (age1…) or a file of them; custos backup keygen -out FILE makes one")
	}
	if strings.HasPrefix(v, "age1") {
		v = strings.ReplaceAll(v, ",", "\n")
		rs, err := age.ParseRecipients(strings.NewReader(v))
		if err != nil {
			return nil, fmt.Errorf("backup-recipient: %w", err)
		}
		return rs, nil
	}
	f, err := os.Open(v)
	if err != nil {
		return nil, fmt.Errorf("backup-recipient: %w", err)
	}
	defer f.Close()
	rs, err := age.ParseRecipients(f)
	if err != nil {
		return nil, fmt.Errorf("backup-recipient %s: %w", v, err)
	}
	return rs, nil
}

// backupIdentities reads -backup-identity-file.
func (c Config) backupIdentities() ([]age.Identity, error) {
	if c.BackupIdentityFile == "" {
		return nil, errors.New("no backup identity: set -backup-identity-file (or CUSTOS_BACKUP_IDENTITY_FILE) to the age identity file the backups are encrypted to")
	}
	f, err := os.Open(c.BackupIdentityFile)
	if err != nil {
		return nil, fmt.Errorf("backup-identity-file: %w", err)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, fmt.Errorf("backup-identity-file %s: %w", c.BackupIdentityFile, err)
	}
	return ids, nil
}

// backupKeygen writes a new age identity (mode 0600) and prints its
// recipient, which is what -backup-recipient takes.
func backupKeygen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "file the identity is written to (must not exist)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("usage: custos backup keygen -out FILE")
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "# created: %s\n# public key: %s\n%s\n", time.Now().UTC().Format(time.RFC3339), id.Recipient(), id)
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup identity written to %s; keep it apart from the data and the backups.\nrecipient (for -backup-recipient / CUSTOS_BACKUP_RECIPIENT): %s\n", *out, id.Recipient())
	return nil
}

// backupVerify is the restore drill: the backup is restored into scratch
// (a temporary directory; on PostgreSQL a scratch schema), checked, and
// thrown away. Any finding is an error (non-zero exit).
func backupVerify(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	local := flag.NewFlagSet("backup verify", flag.ContinueOnError)
	local.SetOutput(stderr)
	// BACKUP may be s3://bucket/prefix/custos-… (or s3://bucket/prefix:
	// the newest there), downloaded into the scratch first.
	scratchURL := local.String("scratch-database", "", "empty PostgreSQL database to restore into (default: a scratch schema in -database, dropped afterwards; SQLite: a temporary directory)")
	sample := local.Int("sample", 50, "contacts and leads whose personal data is opened with the current key store")
	replica := local.String("litestream", "", "drill this Litestream replica (file:///…, s3://…) instead of a backup: restored with litestream, backed up and restored into scratch")
	bin := local.String("litestream-bin", "litestream", "the litestream command -litestream runs")
	cpuProfile := local.String("cpuprofile", "", "write a CPU profile of the drill to this file (docs/benchmarks.md)")
	var from string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		from, args = args[0], args[1:]
	}
	c, err := commandConfig(local, "backup verify", args, getenv, stderr)
	if err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	if (from == "") == (*replica == "") {
		return errors.New("usage: custos backup verify BACKUP|s3://bucket/prefix[/custos-…] | -litestream REPLICA_URL [-scratch-database URL] [flags]")
	}
	var ids []age.Identity
	if *replica != "" {
		s, err := scratchReplica(ctx, c, *bin, *replica)
		defer s.remove()
		if err != nil {
			fmt.Fprintln(stdout, "FAILED:", err)
			return fmt.Errorf("restore drill of the replica failed: %w", err)
		}
		fmt.Fprintf(stdout, "replica %s: restored by litestream, %d rows, audit trail sealed to %d\n", *replica, s.manifest.Rows(), s.manifest.Audit.Sealed)
		from, ids = s.path, []age.Identity{s.id}
	} else if ids, err = c.backupIdentities(); err != nil {
		return err
	}
	app, err := openService(ctx, &c, warnLogger(stderr))
	if err != nil {
		return err
	}
	defer app.Close()
	d, name, err := backup.Locate(ctx, from, c.s3Config())
	if err != nil {
		return err
	}
	from = d.Where(name)
	r, err := app.svc.ScratchDrill(ctx, access.System("custos backup verify"), d, name, ids, c.DatabaseURL, *scratchURL, *sample)
	if m := r.Manifest; m != nil {
		fmt.Fprintf(stdout, "backup %s: taken %s (%s ago) by Custos %s on %s, schema %d\n", from, m.CreatedAt.Format(time.RFC3339),
			r.Age.Round(time.Second), m.CustosVersion, m.Dialect, m.Schema)
	}
	if err != nil {
		fmt.Fprintln(stdout, "FAILED:", err)
		return fmt.Errorf("restore drill failed: %w", err)
	}
	printRestore(stdout, r.RestoreReport)
	fmt.Fprintf(stdout, "personal data: %d records opened with the current key store (%d of erased people, empty as they must be)\n", r.Sampled, r.Erased)
	fmt.Fprintln(stdout, "OK: the backup restores")
	return nil
}

// backupReplica writes a portable backup of a Litestream replica's newest
// state into dir: after the machine is lost, custos restore takes it like
// any backup. It is not in the history: the database that keeps it may be
// the one lost.
func backupReplica(ctx context.Context, c Config, bin, replica, dir string, recipients []age.Recipient, stdout io.Writer) error {
	tmp, err := os.MkdirTemp("", "custos-replica-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	path, m, err := replicaBackup(ctx, c, bin, replica, tmp, dir, recipients)
	if err != nil {
		return fmt.Errorf("backup of the replica: %w", err)
	}
	fmt.Fprintf(stdout, "backup %s: the replica %s, %d tables, %d rows, audit trail sealed to %d, %d bytes\n", path, replica,
		len(m.Tables), m.Rows(), m.Audit.Sealed, m.Data.Size)
	return nil
}

func printRestore(w io.Writer, r service.RestoreReport) {
	fmt.Fprintf(w, "restored %d tables, %d rows; counts and checksums match the signed manifest\n", r.Tables, r.Rows)
	if r.Erased > 0 {
		fmt.Fprintf(w, "erased again: %d records of people erased after the backup\n", r.Erased)
	}
	a := r.Audit
	fmt.Fprintf(w, "audit trail: %d sealed events in the database, %d in %d archive segments, %d checkpoints: OK\n",
		a.Events, a.Archived, a.Segments, a.Checkpoints)
}

// restoreKeys opens the current keys a restore binds the restored
// database to: the audit key and the existing key store.
func (c Config) restoreKeys(ctx context.Context) (*audit.Keys, *vault.Vault, error) {
	keys, err := audit.LoadKeys(c.AuditKeyFile)
	if err != nil {
		return nil, nil, c.explainKeyError(err)
	}
	v, _, err := vault.Open(ctx, vault.Options{MasterKeyFile: c.MasterKeyFile, MasterKeyEnv: c.MasterKey, KeyStore: c.KeyStore,
		SnapshotDir: c.KeySnapshotDir, MustExist: true})
	if err != nil {
		return nil, nil, c.explainKeyError(err)
	}
	return keys, v, nil
}

// restoreCommand runs "custos restore -from BACKUP -data-dir NEW" (or
// -database URL of an empty database) with the current keys.
func restoreCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	local := flag.NewFlagSet("restore", flag.ContinueOnError)
	local.SetOutput(stderr)
	from := local.String("from", "", "the backup directory to restore, or s3://bucket/prefix/custos-… (s3://bucket/prefix: the newest there), downloaded first")
	cpuProfile := local.String("cpuprofile", "", "write a CPU profile of the restore to this file (docs/benchmarks.md)")
	c, err := commandConfig(local, "restore", args, getenv, stderr)
	if err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	if *from == "" {
		return errors.New("usage: custos restore -from BACKUP -data-dir NEW | -database URL [-master-key-file F -keystore K -audit-key-file A] [flags]")
	}
	ids, err := c.backupIdentities()
	if err != nil {
		return err
	}
	logger := warnLogger(stderr)
	keys, v, err := c.restoreKeys(ctx)
	if err != nil {
		return err
	}
	defer v.Close()
	d, name, err := backup.Locate(ctx, *from, c.s3Config())
	if err != nil {
		return err
	}
	scratch, err := os.MkdirTemp("", "custos-restore-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	downloaded, err := d.Get(ctx, name, scratch)
	if err != nil {
		return err
	}
	*from = d.Where(name)
	target := store.Options{URL: c.DatabaseURL, Dir: c.DataDir}
	db, r, err := service.RestoreBackup(ctx, service.RestoreOptions{From: downloaded, Source: *from, Target: target, AuditDir: c.AuditDir,
		Identities: ids, AuditKeys: keys, Vault: v, Logger: logger, Actor: "custos restore"})
	if err != nil {
		return err
	}
	defer db.Close()
	where := c.DataDir
	if c.DatabaseURL != "" {
		where = "the PostgreSQL database"
	}
	fmt.Fprintf(stdout, "restored %s (taken %s) into %s, audit directory %s\n", *from, r.Manifest.CreatedAt.Format(time.RFC3339), where, c.AuditDir)
	printRestore(stdout, r)
	return nil
}

// backupCheckEvery is how often serve looks whether a scheduled backup or
// drill is due (a read; the work itself runs when due, on one instance).
const backupCheckEvery = time.Minute

// backupSchedule is serve's backup plan from the settings; nil without
// -backup-dir and -backup-s3.
func (c Config) backupSchedule(logger *slog.Logger) (*service.BackupSchedule, error) {
	dir, dests, err := c.backupDestinations()
	if err != nil || (dir == "" && len(dests) == 0) {
		return nil, err
	}
	recipients, err := c.backupRecipients()
	if err != nil {
		return nil, err
	}
	keep, err := c.backupKeep()
	if err != nil {
		return nil, err
	}
	plan := &service.BackupSchedule{BackupOptions: service.BackupOptions{Dir: dir, AuditDir: c.AuditDir, Recipients: recipients, Version: version},
		Copies: dests, Every: c.BackupEvery, Keep: keep, DrillEvery: c.DrillEvery, DatabaseURL: c.DatabaseURL, Holder: retentionHolder()}
	if c.DrillEvery > 0 {
		if c.BackupIdentityFile == "" {
			logger.Warn("scheduled restore drills need the backup identity (-backup-identity-file); none will run: run custos backup verify where the identity is kept")
		} else if plan.Identities, err = c.backupIdentities(); err != nil {
			return nil, err
		}
	}
	return plan, nil
}

// startBackups runs the backup schedule in the background while the
// server runs.
func startBackups(ctx context.Context, svc *service.Service, plan *service.BackupSchedule, logger *slog.Logger) (stop func()) {
	jobCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(backupCheckEvery)
		defer t.Stop()
		for {
			run, err := svc.RunBackupSchedule(jobCtx, *plan)
			switch {
			case err != nil && jobCtx.Err() == nil:
				logger.Error("scheduled backup", "err", err)
			case run.Backup != "":
				logger.Info("backup made", "backup", run.Backup, "copies", len(plan.Copies), "removed_by_retention", len(run.Removed))
			}
			if run.Drilled != "" && err == nil {
				logger.Info("restore drill passed", "backup", run.Drilled)
			}
			select {
			case <-jobCtx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

// preMigration is the backup taken before migrating.
type preMigration struct {
	path       string
	manifest   *backup.Manifest
	migrations []int
}

// backupBeforeMigrate backs up a database that holds data and has
// migrations pending, into the first -backup-dir, before they are applied
// — unless -backup-before-migrate=false. Without a backup directory and
// recipient it can only warn.
func backupBeforeMigrate(ctx context.Context, c *Config, db *store.DB, logger *slog.Logger) (*preMigration, error) {
	pending, err := db.PendingMigrations(ctx)
	if err != nil || len(pending) == 0 || !c.BackupBeforeMigrate {
		return nil, err
	}
	if len(c.BackupDirs) == 0 || c.BackupRecipient == "" {
		logger.Warn("applying schema migrations to a database that holds data without a backup first: set -backup-dir and -backup-recipient so Custos takes one (or -backup-before-migrate=false after making your own)",
			"migrations", pending)
		return nil, nil
	}
	recipients, err := c.backupRecipients()
	if err != nil {
		return nil, err
	}
	c.useOldDefaults(logger)
	keys, err := audit.LoadKeys(c.AuditKeyFile)
	if err != nil {
		return nil, c.explainKeyError(err)
	}
	path, m, err := service.BackupBeforeMigrate(ctx, db, keys, service.BackupOptions{Dir: c.BackupDirs[0], AuditDir: c.AuditDir,
		Recipients: recipients, Version: version})
	if err != nil {
		return nil, fmt.Errorf("the backup before applying migrations %v failed (nothing was migrated): %w; fix it, or start with -backup-before-migrate=false after making your own backup", pending, err)
	}
	logger.Warn("backed up the database before applying schema migrations", "backup", path, "migrations", pending)
	return &preMigration{path: path, manifest: m, migrations: pending}, nil
}
