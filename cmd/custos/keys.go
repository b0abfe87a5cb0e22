package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/vault"
)

// keysCommand runs "custos keys status|rotate|rewrap|retire|snapshot|reencrypt": key
// operations through the service layer, each audited, on a live database
// (the server keeps serving: readers unwrap with either master key version
// while a re-wrap runs).
func keysCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	verbs := []string{"init", "load", "status", "rotate", "rewrap", "retire", "snapshot", "reencrypt", "destroy-superseded", "rotate-blind"}
	if len(args) == 0 || !slices.Contains(verbs, args[0]) {
		return errors.New("usage: custos keys init|load -from SNAPSHOT|status|rotate|rewrap [-batch N]|retire -version N|snapshot|reencrypt [-batch N]|destroy-superseded|rotate-blind [-batch N] [-settle D] [flags]")
	}
	verb, rest := args[0], args[1:]
	local := flag.NewFlagSet("keys "+verb, flag.ContinueOnError)
	local.SetOutput(stderr)
	batch := local.Int("batch", 500, "keys per batch (rewrap)")
	version := local.Uint("version", 0, "master key version to retire (retire)")
	from := local.String("from", "", "the key-store snapshot to load (load)")
	settle := local.Duration("settle", service.BlindKeyReload+5*time.Second, "wait before re-indexing, so running servers index new writes under the new blind-index key too (rotate-blind)")
	// The command's own flags come first; the rest are the usual settings.
	rest, err := splitFlags(local, rest)
	if err != nil {
		return err
	}
	c, err := parseConfig("keys "+verb, rest, getenv, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if verb == "init" {
		return keysInit(ctx, c, logger, stdout)
	}
	if verb == "load" {
		return keysLoad(ctx, c, logger, stdout, *from)
	}
	app, err := openService(ctx, &c, logger)
	if err != nil {
		return err
	}
	defer app.Close()
	svc, a := app.svc, access.System("custos keys "+verb)
	switch verb {
	case "status":
		st, err := svc.KeyStatus(ctx, a)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "key store: %s\nmaster key versions: %v (primary %d)\n", st.KeyStore, st.MasterVersions, st.MasterPrimary)
		for _, v := range st.MasterVersions {
			fmt.Fprintf(stdout, "  version %d wraps %d keys\n", v, st.MasterUse[v])
		}
		fmt.Fprintf(stdout, "blind-index key versions: %v\n", st.BlindVersions)
	case "rotate":
		v, err := svc.RotateMasterKey(ctx, a)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "master key version %d added and primary; back up %s now, then run custos keys rewrap\n", v, c.MasterKeyFile)
	case "rewrap":
		n, err := svc.RewrapKeys(ctx, a, *batch, func(done int) { fmt.Fprintf(stdout, "re-wrapped %d keys\n", done) })
		if err != nil {
			return fmt.Errorf("%w (run it again to continue)", err)
		}
		fmt.Fprintf(stdout, "done: %d keys re-wrapped\n", n)
	case "retire":
		if *version == 0 {
			return errors.New("keys retire: -version is required")
		}
		if err := svc.RetireMasterKey(ctx, a, uint32(*version)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "master key version %d retired\n", *version)
	case "reencrypt":
		n, err := svc.ReencryptPeople(ctx, a, *batch, func(done int) { fmt.Fprintf(stdout, "re-encrypted %d people\n", done) })
		if err != nil {
			return fmt.Errorf("%w (run it again to continue)", err)
		}
		fmt.Fprintf(stdout, "done: %d people re-encrypted under new data keys; run custos keys destroy-superseded to destroy the old ones\n", n)
	case "rotate-blind":
		fmt.Fprintf(stdout, "new blind-index key; re-indexing after %s\n", *settle)
		n, err := svc.RotateBlindIndex(ctx, a, *batch, *settle, func(done int) { fmt.Fprintf(stdout, "re-indexed %d records\n", done) })
		if err != nil {
			return fmt.Errorf("%w (run it again to continue)", err)
		}
		fmt.Fprintf(stdout, "done: %d records re-indexed under the new blind-index key; the old key is retired\n", n)
	case "destroy-superseded":
		n, err := svc.DestroySupersededKeys(ctx, a)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "destroyed %d superseded data keys\n", n)
	case "snapshot":
		path, err := svc.SnapshotKeys(ctx, a)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "key store snapshot written to %s; keep it apart from data backups\n", path)
	}
	return nil
}

// keysInit makes the keys of a database explicitly, before its first
// start (say, to back them up before any data exists, or before several
// PostgreSQL instances start at once). It refuses whatever could replace
// keys that data depends on: a database that records keys, one that holds
// data, and key files that exist already.
func keysInit(ctx context.Context, c Config, logger *slog.Logger, stdout io.Writer) error {
	db, err := store.Open(ctx, store.Options{URL: c.DatabaseURL, Dir: c.DataDir})
	if err != nil {
		return err
	}
	defer db.Close()
	rec, err := service.InspectKeys(ctx, db)
	if err != nil {
		return err
	}
	switch {
	case len(rec.Identities) > 0:
		return errors.New("keys init: this database already records its keys; keys init never replaces them (if a key file is missing, restore it from your key backup)")
	case rec.HoldsData:
		return errors.New("keys init: this database holds data, written under keys that exist somewhere; start custos with them (custos migrate binds them) instead of making new ones under which that data could not be read")
	}
	for _, f := range c.keyFileHelp() {
		if (f.what == service.KeyMaster && strings.TrimSpace(c.MasterKey) != "") || isPostgresURL(f.path) {
			continue
		}
		if exists(f.path) {
			return fmt.Errorf("keys init: the %s file %s exists already; keys init makes new keys only (point %s at a new location, or start custos to use this one)", f.what, f.path, f.how)
		}
	}
	app, err := openKeys(ctx, &c, db, logger)
	if err != nil {
		return err
	}
	defer app.vault.Close()
	svc := service.New(db, service.Options{AuditKeys: app.auditKeys, Vault: app.vault, Logger: logger})
	if err := svc.RecordKeysInit(ctx, access.System("custos keys init")); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "keys made for this database: master key %s, key store %s, audit key %s (checkpoints in %s).\nBack them up now, apart from the database and its backups.\n",
		c.MasterKeyFile, app.vault.KeyStoreLocation(), c.AuditKeyFile, c.AuditDir)
	return nil
}

// keysLoad makes a new key store from a snapshot (custos keys snapshot):
// the key store to put back when the one in use is lost. The database
// says which key store and database the snapshot must be of; the load
// refuses an existing key store, a cut snapshot and keys the master key
// does not unwrap, and start-up then checks the new key store as always.
func keysLoad(ctx context.Context, c Config, logger *slog.Logger, stdout io.Writer, from string) error {
	if from == "" {
		return errors.New("usage: custos keys load -from SNAPSHOT [-keystore WHERE] [flags]")
	}
	db, err := store.Open(ctx, store.Options{URL: c.DatabaseURL, Dir: c.DataDir})
	if err != nil {
		return err
	}
	rec, err := service.InspectKeys(ctx, db)
	db.Close()
	if err != nil {
		return err
	}
	r, err := vault.LoadSnapshot(ctx, vault.LoadOptions{File: from, KeyStore: c.KeyStore, MasterKeyFile: c.MasterKeyFile,
		MasterKeyEnv: c.MasterKey, Identities: rec.Identities})
	if err != nil {
		return c.explainKeyError(err)
	}
	app, err := openService(ctx, &c, logger)
	if err != nil {
		return fmt.Errorf("the key store was loaded, but the database does not take it: %w", err)
	}
	defer app.Close()
	if err := app.svc.RecordKeysLoad(ctx, access.System("custos keys load"), from, r); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "key store %s loaded from %s (%s): %d data keys, %d tombstones, %d blind-index keys; every key unwraps under the master key\n",
		c.KeyStore, from, r.Format, r.DataKeys, r.Tombstones, r.BlindKeys)
	return nil
}

// splitFlags parses the flags fs knows from the front of args and returns
// the rest for the common configuration.
func splitFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var mine, rest []string
	for i := 0; i < len(args); i++ {
		name := args[i]
		if len(name) > 1 && name[0] == '-' {
			bare := name[1:]
			if bare[0] == '-' {
				bare = bare[1:]
			}
			if eq := strings.IndexByte(bare, '='); eq >= 0 {
				bare = bare[:eq]
			}
			if fs.Lookup(bare) != nil {
				mine = append(mine, name)
				if strings.IndexByte(name, '=') < 0 && i+1 < len(args) {
					mine = append(mine, args[i+1])
					i++
				}
				continue
			}
		}
		rest = append(rest, name)
	}
	return rest, fs.Parse(mine)
}
