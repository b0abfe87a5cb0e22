package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"filippo.io/age"

	"custos/internal/access"
	"custos/internal/service"
	"custos/internal/store"
)

// migrateDataCommand runs "custos migrate-data -from DATA_DIR|URL -to
// URL|DATA_DIR": a team outgrowing one machine moves from SQLite to
// PostgreSQL (or comes back) through the same portable, verifiable
// snapshot a backup is. The source is backed up (one consistent snapshot,
// encrypted to a key made for this run and never written down), the backup
// is restored into the empty target with every check of a restore —
// manifest signature, per-table counts and checksums read back, erasures
// re-applied, the audit trail sealed and verified in the target's audit
// directory — and removed. The key store, master key and audit key stay
// as they are: the target is the same database (its id moves with it).
func migrateDataCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	local := flag.NewFlagSet("migrate-data", flag.ContinueOnError)
	local.SetOutput(stderr)
	from := local.String("from", "", "the source: a SQLite data directory or a postgres:// URL")
	to := local.String("to", "", "the empty target: a postgres:// URL or a new SQLite data directory")
	toAudit := local.String("to-audit-dir", "", "the target's audit directory (default for a data directory: <to>-audit beside it; required for a URL)")
	rest, err := splitFlags(local, args)
	if err != nil {
		return err
	}
	usage := errors.New("usage: custos migrate-data -from DATA_DIR|URL -to URL|DATA_DIR [-to-audit-dir DIR] [key flags of the source]")
	if *from == "" || *to == "" || *from == *to {
		return usage
	}
	target := locate(*to)
	if *toAudit == "" {
		if target.URL != "" {
			return errors.New("migrate-data: -to-audit-dir is required for a PostgreSQL target (where its signed audit checkpoints go)")
		}
		*toAudit = strings.TrimRight(target.Dir, string(os.PathSeparator)) + "-audit"
	}
	src := locate(*from)
	srcFlag := []string{"-data-dir", src.Dir}
	if src.URL != "" {
		srcFlag = append(srcFlag, "-database", src.URL)
	}
	c, err := parseConfig("migrate-data", append(srcFlag, rest...), getenv, stderr)
	if err != nil {
		return err
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "custos-migrate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	logger := warnLogger(stderr)
	fmt.Fprintln(stdout, "snapshot of the source (writes made after it are not carried: stop custos serve first)")
	app, err := openService(ctx, &c, logger)
	if err != nil {
		return err
	}
	path, m, err := app.svc.CreateBackup(ctx, access.System("custos migrate-data"), service.BackupOptions{Dir: tmp,
		AuditDir: c.AuditDir, Recipients: []age.Recipient{id.Recipient()}, Version: version})
	app.Close()
	if err != nil {
		return fmt.Errorf("migrate-data: snapshot of the source: %w", err)
	}
	keys, v, err := c.restoreKeys(ctx)
	if err != nil {
		return err
	}
	defer v.Close()
	db, r, err := service.RestoreBackup(ctx, service.RestoreOptions{From: path, Target: target, AuditDir: *toAudit,
		Identities: []age.Identity{id}, AuditKeys: keys, Vault: v, Logger: logger, Actor: "custos migrate-data"})
	if err != nil {
		return fmt.Errorf("migrate-data: into the target: %w", err)
	}
	defer db.Close()
	fmt.Fprintf(stdout, "migrated %s (%s) into %s (%s), audit directory %s, in %s\n", placeName(src), m.Dialect, placeName(target),
		db.Dialect(), *toAudit, time.Duration(m.Duration).Round(time.Millisecond))
	printRestore(stdout, r)
	fmt.Fprintln(stdout, "start custos serve on the target with the same master key, key store and audit key, and -audit-dir", *toAudit)
	return nil
}

// locate reads a database as the command line names it: a postgres://
// URL, else a SQLite data directory.
func locate(v string) store.Options {
	if strings.HasPrefix(v, "postgres://") || strings.HasPrefix(v, "postgresql://") {
		return store.Options{URL: v}
	}
	return store.Options{Dir: v}
}

// placeName names a database without the password a URL may carry.
func placeName(o store.Options) string {
	if o.URL == "" {
		return o.Dir
	}
	u, err := url.Parse(o.URL)
	if err != nil {
		return "the PostgreSQL database"
	}
	return "the PostgreSQL database " + u.Redacted()
}
