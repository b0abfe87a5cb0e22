package main

import (
	"context"
	"custos/internal/vault"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"custos/internal/api"
	"custos/internal/audit"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/i18n"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/web"
)

// opened is what openService opens; Close closes the database and the key
// store.
type opened struct {
	svc       *service.Service
	db        *store.DB
	vault     *vault.Vault
	auditKeys *audit.Keys
}

func (o *opened) Close() {
	o.db.Close()
	o.vault.Close()
}

// openService opens the database (running migrations), then its keys — the
// audit keys and the vault — and the service layer. New key material is made
// only for an empty database that records no keys (the first start); any
// other database must find its own keys, and start-up refuses, naming the
// file, when one is missing or belongs to another database.
func openService(ctx context.Context, c *Config, logger *slog.Logger) (*opened, error) {
	zone, err := service.LoadTimeZone(c.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("timezone %q: not an IANA time zone name such as Asia/Shanghai", c.TimeZone)
	}
	db, err := store.Open(ctx, store.Options{URL: c.DatabaseURL, Dir: c.DataDir, SkipMigrate: true})
	if err != nil {
		return nil, err
	}
	pre, err := backupBeforeMigrate(ctx, c, db, logger)
	if err == nil {
		err = db.Migrate(ctx)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	app, err := openKeys(ctx, c, db, logger)
	if err != nil {
		db.Close()
		return nil, err
	}
	svc := service.New(db, service.Options{PhoneRegion: c.PhoneRegion, Logger: logger, TimeZone: zone, AuditKeys: app.auditKeys,
		PublicURL: c.PublicURL, Vault: app.vault, RecycleRetention: c.RecycleRetention(), SensitiveSearchesPerHour: c.SensitiveSearches,
		AlertDelivery: c.alertDelivery(), Notify: c.notifyOptions(), PrivacyDeadlineDays: c.PrivacyDeadlineDays,
		ExportsPerHour: c.ExportsPerHour, ExportDownloadTime: time.Duration(c.ExportDownloadHours) * time.Hour})
	app.svc = svc
	if pre != nil {
		if err := svc.RecordPreMigrationBackup(ctx, pre.path, pre.manifest, pre.migrations); err != nil {
			app.Close()
			return nil, err
		}
	}
	people, rows, err := svc.SealLegacyData(ctx)
	if err != nil {
		app.Close()
		return nil, fmt.Errorf("seal personal data written before encryption: %w", err)
	}
	if people+rows > 0 {
		logger.Warn("sealed personal data written before encryption", "people", people, "index_rows", rows)
	}
	// A data backup restored from before an erasure must not bring the
	// person back: their remains go before anything is served.
	cleaned, err := svc.ReconcileErasures(ctx)
	if err != nil {
		app.Close()
		return nil, fmt.Errorf("apply erasures to the database: %w", err)
	}
	if cleaned > 0 {
		logger.Warn("removed the remains of erased people from the database (restored from a backup?)", "records", cleaned)
	}
	// Records indexed under older normalisation rules are found as
	// duplicates and by search like new ones only once re-indexed.
	reindexed, err := svc.Renormalise(ctx)
	if err != nil {
		app.Close()
		return nil, fmt.Errorf("re-index records under the current normalisation rules: %w", err)
	}
	if reindexed > 0 {
		logger.Info("re-indexed records under the current normalisation rules", "records", reindexed)
	}
	return app, nil
}

// openKeys opens the audit keys and the vault of the database db and binds
// them to it (service.BindKeys). c's default key locations fall back to
// the ones used before issue 12 for a database that holds data.
func openKeys(ctx context.Context, c *Config, db *store.DB, logger *slog.Logger) (*opened, error) {
	rec, err := service.InspectKeys(ctx, db)
	if err != nil {
		return nil, err
	}
	create := rec.MayCreateKeys()
	if !create {
		c.useOldDefaults(logger)
		if err := c.missingKeyFiles(); err != nil {
			return nil, err
		}
	}
	keys, created, err := loadAuditKeys(c.AuditKeyFile, create)
	if err != nil {
		return nil, err
	}
	if created {
		// Loud on purpose: without this file the audit trail cannot be
		// verified, and it must not live with the database.
		logger.Warn("created the audit trail key file: back it up, apart from the database and its backups",
			"file", c.AuditKeyFile, "checkpoints", c.AuditDir, "verifier_key", keys.VerifierKey)
	}
	v, err := openVault(ctx, *c, logger, !create)
	if err != nil {
		return nil, c.explainKeyError(err)
	}
	if err := service.BindKeys(ctx, db, v, keys); err != nil {
		v.Close()
		return nil, c.explainKeyError(err)
	}
	return &opened{db: db, vault: v, auditKeys: keys}, nil
}

// loadAuditKeys loads the audit key file, creating it only when create.
func loadAuditKeys(path string, create bool) (*audit.Keys, bool, error) {
	if create {
		return audit.LoadOrCreateKeys(path)
	}
	k, err := audit.LoadKeys(path)
	return k, false, err
}

// openVault opens the master key and key store, saying loudly what was
// created and must be backed up — apart from the data — and warning when
// keys sit where a copy of the data would take them along. With mustExist
// it creates neither.
func openVault(ctx context.Context, c Config, logger *slog.Logger, mustExist bool) (*vault.Vault, error) {
	v, created, err := vault.Open(ctx, vault.Options{MasterKeyFile: c.MasterKeyFile, MasterKeyEnv: c.MasterKey,
		KeyStore: c.KeyStore, SnapshotDir: c.KeySnapshotDir, MustExist: mustExist})
	if err != nil {
		return nil, err
	}
	if created.MasterKey {
		logger.Warn("created the MASTER KEY: back it up now, apart from the database and its backups; without it no personal data can ever be read",
			"file", c.MasterKeyFile)
	}
	if created.KeyStore {
		logger.Warn("created the KEY STORE holding every person's data key: back it up (custos keys snapshot) apart from the data; data backups never contain it",
			"key_store", v.KeyStoreLocation(), "snapshots", c.KeySnapshotDir)
	}
	for _, p := range []struct{ what, path string }{{"master key file", v.Master().Path()}, {"key store", c.KeyStore}} {
		if c.DatabaseURL == "" && p.path != "" && insideDir(c.DataDir, p.path) {
			logger.Warn("the "+p.what+" is inside the data directory: a copy of the data would carry its keys; move it out", "path", p.path)
		}
	}
	if c.DatabaseURL != "" && v.KeyStoreIsFile() {
		logger.Warn("the key store is a local file while the data is on PostgreSQL: several instances must share one key store; set CUSTOS_KEYSTORE to a postgres:// URL of a database apart from the data",
			"key_store", v.KeyStoreLocation())
	}
	return v, nil
}

// insideDir reports whether path lies within dir.
func insideDir(dir, path string) bool {
	d, err1 := filepath.Abs(dir)
	p, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := parseConfig("migrate", args, getenv, stderr)
	if err != nil {
		return err
	}
	app, err := openService(ctx, &c, slog.New(slog.NewTextHandler(stderr, nil)))
	if err != nil {
		return err
	}
	defer app.Close()
	db := app.db
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database schema is at version %d (%s)\n", v, db.Dialect())
	return nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	withDemo, args := cutFlag(args, "demo")
	c, err := parseConfig("serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	plan, err := c.backupSchedule(logger)
	if err != nil {
		return err
	}
	app, err := openService(ctx, &c, logger)
	if err != nil {
		return err
	}
	defer app.Close()
	svc, db := app.svc, app.db
	if err := bootstrap(ctx, svc, c, stdout); err != nil {
		return err
	}
	if withDemo {
		if err := fillDemoIfEmpty(ctx, svc, stdout); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}
	handler, err := newHandler(svc, httpx.Config{TrustedProxies: c.TrustedProxies, TLS: c.TLSCert != ""}, logger)
	if err != nil {
		return err
	}
	// Sealed before listening: see startSealer.
	stopSealing, err := startSealer(ctx, c, db, app.auditKeys, logger)
	if err != nil {
		return err
	}
	defer stopSealing()
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	scheme := "http"
	if c.TLSCert != "" {
		scheme = "https"
	}
	logger.Info("custos listening", "url", scheme+"://"+ln.Addr().String(), "public_url", c.PublicURL, "database", string(db.Dialect()))
	if rpID, _, _ := service.RelyingParty(c.PublicURL); strings.HasPrefix(c.PublicURL, "http://") && rpID != "localhost" && !strings.HasSuffix(rpID, ".localhost") {
		logger.Warn("browsers offer passkeys only over HTTPS or on localhost; set -public-url to the https:// address people use", "public_url", c.PublicURL)
	}
	defer startAlerts(ctx, svc, logger)()
	defer startKeyReload(ctx, svc, logger)()
	defer startImports(ctx, svc, logger)()
	defer startDuplicateScans(ctx, svc, time.Duration(c.DuplicateScanDays)*24*time.Hour, logger)()
	jobs := []maintenanceJob{purgeJob(svc, logger), retentionJob(svc, logger), fixupJob(svc, logger), campaignJob(svc, logger)}
	if c.AuditRetentionYears > 0 {
		jobs = append(jobs, archiveJob(c, db, app.auditKeys, logger))
	}
	defer startMaintenance(ctx, logger, jobs...)()
	if plan != nil {
		defer startBackups(ctx, svc, plan, logger)()
	}
	if c.DrillLitestream != "" {
		defer startReplicaDrills(ctx, c, svc, logger)()
	}
	errc := make(chan error, 1)
	go func() {
		if c.TLSCert != "" {
			errc <- srv.ServeTLS(ln, c.TLSCert, c.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("custos stopped")
	return nil
}

// newHandler composes the surfaces on one mux behind the shared middleware:
// request ids and security headers (HSTS over HTTPS), then cross-origin protection for every
// state-changing request.
func newHandler(svc *service.Service, cfg httpx.Config, logger *slog.Logger) (http.Handler, error) {
	mux := http.NewServeMux()
	jsonAPI := api.New(svc, cfg, logger)
	jsonAPI.Register(mux)
	pages, err := web.New(svc, cfg, logger)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	pages.Register(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := svc.Health(r.Context()); err != nil {
			msg := "database unavailable"
			if crm.IsCode(err, crm.Unavailable) {
				msg = "database unwritable (disk full, read-only or failing)"
			}
			httpx.SetRetryAfter(w, http.StatusServiceUnavailable)
			http.Error(w, msg, http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			jsonAPI.DenyCrossOrigin(w, r)
			return
		}
		lang := i18n.Pick("", r.Header.Get("Accept-Language"))
		http.Error(w, i18n.T(lang, "error.csrf"), http.StatusForbidden)
	}))
	return cfg.Middleware(cop.Handler(mux)), nil
}

// cutValue removes a flag with a value (-name v, -name=v, --name …) from
// args and returns its value; "" when it is not there.
func cutValue(args []string, name string) (string, []string, error) {
	var val string
	rest := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-"+name || a == "--"+name:
			if i+1 >= len(args) {
				return "", nil, fmt.Errorf("flag -%s needs a value", name)
			}
			val = args[i+1]
			i++
		case strings.HasPrefix(a, "-"+name+"=") || strings.HasPrefix(a, "--"+name+"="):
			val = a[strings.Index(a, "=")+1:]
		default:
			rest = append(rest, a)
		}
	}
	return val, rest, nil
}

// cutFlag removes a boolean flag (-name or --name) from args and reports
// whether it was there; serve's -demo is not part of the shared Config.
func cutFlag(args []string, name string) (bool, []string) {
	found := false
	rest := make([]string, 0, len(args))
	for _, a := range args {
		if a == "-"+name || a == "--"+name {
			found = true
			continue
		}
		rest = append(rest, a)
	}
	return found, rest
}

// startKeyReload reloads the blind-index keys and the master key file
// every service.BlindKeyReload, so a rotation started by custos keys or
// another instance reaches this one (master key versions are also loaded
// at once when a key needs one: see vault.ReloadMaster).
func startKeyReload(ctx context.Context, svc *service.Service, logger *slog.Logger) (stop func()) {
	return runEvery(ctx, service.BlindKeyReload, func(ctx context.Context) {
		if err := svc.ReloadMasterKey(); err != nil && ctx.Err() == nil {
			logger.Error("reload the master key file", "err", err)
		}
		if err := svc.ReloadBlindKeys(ctx); err != nil && ctx.Err() == nil {
			logger.Error("reload blind-index keys", "err", err)
		}
	})
}

// runEvery calls fn every period (the first time after one period) until
// ctx ends or stop is called; stop waits for a call in progress.
func runEvery(ctx context.Context, period time.Duration, fn func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fn(ctx)
			}
		}
	}()
	return func() { cancel(); <-done }
}
