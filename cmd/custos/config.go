package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"custos/internal/backup"
	"custos/internal/notify"
	"custos/internal/service"
	"custos/internal/vault"
)

// Config is the whole configuration, parsed once from flags and CUSTOS_*
// variables (flags win) and passed down explicitly.
type Config struct {
	Addr           string
	DataDir        string
	DatabaseURL    string
	TLSCert        string
	TLSKey         string
	TrustedProxies []netip.Prefix
	PhoneRegion    string
	OrgName        string
	TimeZone       string // IANA name of the organisation's default time zone; "" is the server's
	// AuditKeyFile holds the audit trail's MAC and signing keys; AuditDir
	// receives its signed checkpoints. Both belong outside the database and
	// its backups (by default beside the data directory, not in it).
	AuditKeyFile string
	AuditDir     string
	PublicURL    string // scheme://host[:port] people open Custos at; passkeys are bound to it
	// MasterKeyFile holds the master key (created on first start) unless
	// MasterKey, from CUSTOS_MASTER_KEY(_FILE), gives it; KeyStore holds the
	// wrapped data keys (a file, or a postgres:// URL of a database apart
	// from the data) and KeySnapshotDir its snapshots. All of them live
	// outside the data directory and its backups.
	// SensitiveSearches limits each user's searches by a phone, e-mail or
	// credit code per hour (the blind index must not become an oracle).
	SensitiveSearches int
	// ExportsPerHour limits each user's exports of lists per hour;
	// ExportDownloadHours is how long an approved export's file waits for
	// its one download.
	ExportsPerHour      int
	ExportDownloadHours int
	MasterKeyFile       string
	MasterKey           string
	KeyStore            string
	KeySnapshotDir      string
	// RecycleDays is how long deleted records stay restorable before the
	// purge job removes them for good.
	RecycleDays int
	// DuplicateScanDays is how often serve scans customers, contacts and
	// leads for duplicates in the background; 0 scans only when an
	// administrator asks.
	DuplicateScanDays int
	// AuditRetentionYears is how long audit events stay in the database:
	// serve archives older sealed events into signed segment files in
	// AuditDir. 0 keeps every event in the database (no automatic archive).
	AuditRetentionYears int
	// Alert delivery beyond the security page: a webhook signed with a
	// shared secret, and e-mail through an SMTP server (to AlertEmailTo, or
	// else every administrator with an address). Secrets come from the
	// environment or a file, never a flag (flags show in process lists).
	AlertWebhookURL    string
	AlertWebhookSecret string
	// AlertBots are the WeCom, DingTalk and Feishu group bots that get
	// security alerts (URLs and secrets from the environment only: the URL
	// holds the bot's token).
	AlertBots []*notify.Bot
	// NotifyBots are the group bots that get users' notifications (issue
	// 17), read like AlertBots from CUSTOS_NOTIFY_<PLATFORM>_URL and
	// _SECRET: a team's group, not the security group.
	NotifyBots   []*notify.Bot
	SMTPAddr     string
	SMTPFrom     string
	SMTPUsername string
	SMTPPassword string
	AlertEmailTo []string
	// BackupRecipient is the age recipient (age1…, comma-separated, or a
	// file of them) backups are encrypted to; BackupIdentityFile the file
	// of the identity that decrypts them, for restores and drills — kept
	// apart from the data and the backups.
	BackupRecipient    string
	BackupIdentityFile string
	// BackupDirs are where serve's scheduled backups go (the first gets
	// the backup, the others a copy each); empty: serve makes none.
	// BackupEvery is the period, DrillEvery how often the newest backup
	// is restored into scratch and checked (0: never), BackupKeep the
	// retention (daily,weekly,monthly).
	BackupDirs []string
	// BackupS3 is an S3-compatible bucket (s3://bucket/prefix) serve's
	// scheduled backups are also uploaded to; BackupS3Endpoint its host,
	// BackupS3Insecure plain HTTP (tests, a service on the same machine).
	// The keys come only from the environment or files.
	BackupS3          string
	BackupS3Endpoint  string
	BackupS3Region    string
	BackupS3Insecure  bool
	BackupS3AccessKey string
	BackupS3SecretKey string
	BackupEvery       time.Duration
	DrillEvery        time.Duration
	BackupKeep        string
	// DrillLitestream is a Litestream replica of the SQLite database serve
	// also drills every DrillEvery, with the litestream command
	// LitestreamBin (docs/operations.md).
	DrillLitestream string
	LitestreamBin   string
	// BackupBeforeMigrate takes a backup into the first BackupDirs before
	// migrations are applied to a database that holds data.
	BackupBeforeMigrate bool
	// PrivacyDeadlineDays is how long a privacy request has from its
	// receipt (GDPR: one month).
	PrivacyDeadlineDays int
	// defaulted names (by flag) the key paths left to their defaults; only
	// those fall back to the old defaults.
	defaulted map[string]bool
}

// parseConfig reads flags with defaults from the environment. Secrets such
// as the database URL also come from a file named by the _FILE variant.
func parseConfig(name string, args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var c Config
	var proxies string
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	dbURL, err := secretEnv(getenv, "CUSTOS_DATABASE_URL")
	if err != nil {
		return c, err
	}
	recycleDays, err := envInt(getenv, "CUSTOS_RECYCLE_DAYS", 90)
	if err != nil {
		return c, err
	}
	scanDays, err := envInt(getenv, "CUSTOS_DUPLICATE_SCAN_DAYS", 7)
	if err != nil {
		return c, err
	}
	searchLimit, err := envInt(getenv, "CUSTOS_SENSITIVE_SEARCH_LIMIT", service.DefaultSensitiveSearchesPerHour)
	if err != nil {
		return c, err
	}
	auditYears, err := envInt(getenv, "CUSTOS_AUDIT_RETENTION_YEARS", 10)
	if err != nil {
		return c, err
	}
	exportLimit, err := envInt(getenv, "CUSTOS_EXPORT_LIMIT", service.DefaultExportsPerHour)
	if err != nil {
		return c, err
	}
	exportHours, err := envInt(getenv, "CUSTOS_EXPORT_DOWNLOAD_HOURS", int(service.DefaultExportDownloadTime/time.Hour))
	if err != nil {
		return c, err
	}
	// CUSTOS_MASTER_KEY_FILE names the key file (the -master-key-file flag),
	// so the key itself comes only from CUSTOS_MASTER_KEY.
	c.MasterKey = getenv("CUSTOS_MASTER_KEY")
	keyStore, err := secretEnv(getenv, "CUSTOS_KEYSTORE")
	if err != nil {
		return c, err
	}
	if c.AlertWebhookSecret, err = secretEnv(getenv, "CUSTOS_ALERT_WEBHOOK_SECRET"); err != nil {
		return c, err
	}
	if c.SMTPPassword, err = secretEnv(getenv, "CUSTOS_SMTP_PASSWORD"); err != nil {
		return c, err
	}
	if c.AlertBots, err = groupBots(getenv, "CUSTOS_ALERT_"); err != nil {
		return c, err
	}
	if c.NotifyBots, err = groupBots(getenv, "CUSTOS_NOTIFY_"); err != nil {
		return c, err
	}
	if c.BackupS3AccessKey, err = secretEnv(getenv, "CUSTOS_BACKUP_S3_ACCESS_KEY"); err != nil {
		return c, err
	}
	if c.BackupS3SecretKey, err = secretEnv(getenv, "CUSTOS_BACKUP_S3_SECRET_KEY"); err != nil {
		return c, err
	}
	var mailTo string
	fs.StringVar(&c.Addr, "addr", env("CUSTOS_ADDR", "127.0.0.1:8080"), "listen address (CUSTOS_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", env("CUSTOS_DATA_DIR", "./custos-data"), "data directory for embedded SQLite (CUSTOS_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database", dbURL, "postgres:// URL; empty means embedded SQLite (CUSTOS_DATABASE_URL or CUSTOS_DATABASE_URL_FILE)")
	fs.StringVar(&c.TLSCert, "tls-cert", env("CUSTOS_TLS_CERT", ""), "TLS certificate file; with -tls-key serves HTTPS (CUSTOS_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", env("CUSTOS_TLS_KEY", ""), "TLS private key file (CUSTOS_TLS_KEY)")
	fs.StringVar(&proxies, "trusted-proxies", env("CUSTOS_TRUSTED_PROXIES", ""), "comma-separated CIDRs whose X-Forwarded-* headers are believed (CUSTOS_TRUSTED_PROXIES)")
	fs.StringVar(&c.PhoneRegion, "phone-region", env("CUSTOS_PHONE_REGION", "CN"), "default region for phone numbers without country code (CUSTOS_PHONE_REGION)")
	fs.StringVar(&c.OrgName, "org-name", env("CUSTOS_ORG_NAME", "Custos"), "name of the root department on first start (CUSTOS_ORG_NAME)")
	fs.StringVar(&c.TimeZone, "timezone", env("CUSTOS_TIMEZONE", ""), "default time zone of users who chose none, e.g. Asia/Shanghai; empty is the server's (CUSTOS_TIMEZONE)")
	fs.StringVar(&c.AuditKeyFile, "audit-key-file", env("CUSTOS_AUDIT_KEY_FILE", ""), "audit trail key file, created on first start; back it up apart from the database (CUSTOS_AUDIT_KEY_FILE; default <data-dir>-keys/audit.key beside the data directory)")
	fs.StringVar(&c.AuditDir, "audit-dir", env("CUSTOS_AUDIT_DIR", ""), "directory for signed audit checkpoints, ideally on another disk (CUSTOS_AUDIT_DIR; default <data-dir>-audit beside the data directory)")
	fs.StringVar(&c.PublicURL, "public-url", env("CUSTOS_PUBLIC_URL", ""), "address people open Custos at, e.g. https://crm.example.com; passkeys are bound to it (default: http[s]://localhost:<port of -addr>) (CUSTOS_PUBLIC_URL)")
	fs.IntVar(&c.SensitiveSearches, "sensitive-search-limit", searchLimit, "searches by a phone, e-mail or credit code each user may make per hour (CUSTOS_SENSITIVE_SEARCH_LIMIT)")
	fs.IntVar(&c.ExportsPerHour, "export-limit", exportLimit, "exports of lists (CSV/XLSX) each user may make per hour (CUSTOS_EXPORT_LIMIT)")
	fs.IntVar(&c.ExportDownloadHours, "export-download-hours", exportHours, "hours an approved export's file waits for its one download (CUSTOS_EXPORT_DOWNLOAD_HOURS)")
	fs.StringVar(&c.MasterKeyFile, "master-key-file", env("CUSTOS_MASTER_KEY_FILE", ""), "master key file, created on first start; keep it out of the data directory and back it up apart (CUSTOS_MASTER_KEY_FILE, or the key itself in CUSTOS_MASTER_KEY; default <data-dir>-keys/master.key beside the data directory)")
	fs.StringVar(&c.KeyStore, "keystore", keyStore, "key store of the per-person data keys: a file, or a postgres:// URL of a database apart from the data (CUSTOS_KEYSTORE or CUSTOS_KEYSTORE_FILE; default <data-dir>-keys/keystore.db beside the data directory)")
	fs.StringVar(&c.KeySnapshotDir, "key-snapshot-dir", env("CUSTOS_KEY_SNAPSHOT_DIR", ""), "directory of key-store snapshots, which erasure rewrites (CUSTOS_KEY_SNAPSHOT_DIR; default <data-dir>-keys/snapshots)")
	fs.IntVar(&c.RecycleDays, "recycle-days", recycleDays, "days a deleted record stays restorable in the recycle bin before it is removed for good (CUSTOS_RECYCLE_DAYS)")
	fs.IntVar(&c.DuplicateScanDays, "duplicate-scan-days", scanDays, "days between background duplicate scans of customers, contacts and leads; 0 scans only when an administrator asks (CUSTOS_DUPLICATE_SCAN_DAYS)")
	fs.IntVar(&c.AuditRetentionYears, "audit-retention-years", auditYears, "years audit events stay in the database before serve archives them into signed segment files in -audit-dir; 0 never archives automatically (CUSTOS_AUDIT_RETENTION_YEARS)")
	fs.StringVar(&c.AlertWebhookURL, "alert-webhook-url", env("CUSTOS_ALERT_WEBHOOK_URL", ""), "URL that receives security alerts as signed JSON; needs CUSTOS_ALERT_WEBHOOK_SECRET (CUSTOS_ALERT_WEBHOOK_URL)")
	fs.StringVar(&c.SMTPAddr, "smtp-addr", env("CUSTOS_SMTP_ADDR", ""), "host:port of the SMTP server that mails security alerts; empty: no e-mail (CUSTOS_SMTP_ADDR)")
	fs.StringVar(&c.SMTPFrom, "smtp-from", env("CUSTOS_SMTP_FROM", ""), "sender of alert e-mail, e.g. \"Custos <custos@example.com>\" (CUSTOS_SMTP_FROM)")
	fs.StringVar(&c.SMTPUsername, "smtp-username", env("CUSTOS_SMTP_USERNAME", ""), "SMTP user name; the password comes from CUSTOS_SMTP_PASSWORD or CUSTOS_SMTP_PASSWORD_FILE (CUSTOS_SMTP_USERNAME)")
	fs.StringVar(&mailTo, "alert-email-to", env("CUSTOS_ALERT_EMAIL_TO", ""), "comma-separated recipients of alert e-mail; empty: every administrator with an e-mail address (CUSTOS_ALERT_EMAIL_TO)")
	fs.StringVar(&c.BackupRecipient, "backup-recipient", env("CUSTOS_BACKUP_RECIPIENT", ""), "age recipient(s) backups are encrypted to: age1… (comma-separated) or a file of them; custos backup keygen makes one (CUSTOS_BACKUP_RECIPIENT)")
	var backupDirs string
	fs.StringVar(&backupDirs, "backup-dir", env("CUSTOS_BACKUP_DIR", ""), "directories serve backs up into on a schedule, comma-separated (the first gets the backup, each other a copy; e.g. another disk and a mounted share); empty: no scheduled backups (CUSTOS_BACKUP_DIR)")
	fs.StringVar(&c.BackupS3, "backup-s3", env("CUSTOS_BACKUP_S3", ""), "S3-compatible bucket serve's scheduled backups also go to, s3://bucket/prefix; keys from CUSTOS_BACKUP_S3_ACCESS_KEY and CUSTOS_BACKUP_S3_SECRET_KEY (or _FILE) (CUSTOS_BACKUP_S3)")
	fs.StringVar(&c.BackupS3Endpoint, "backup-s3-endpoint", env("CUSTOS_BACKUP_S3_ENDPOINT", "s3.amazonaws.com"), "host[:port] of the S3-compatible service, e.g. oss-cn-hangzhou.aliyuncs.com or minio.internal:9000 (CUSTOS_BACKUP_S3_ENDPOINT)")
	fs.StringVar(&c.BackupS3Region, "backup-s3-region", env("CUSTOS_BACKUP_S3_REGION", ""), "region of the bucket; empty: asked of the service (CUSTOS_BACKUP_S3_REGION)")
	fs.BoolVar(&c.BackupS3Insecure, "backup-s3-insecure", env("CUSTOS_BACKUP_S3_INSECURE", "") == "true", "speak plain HTTP to the S3 endpoint, without TLS: only for tests and a service on the same machine (CUSTOS_BACKUP_S3_INSECURE)")
	backupEvery, err := envDuration(getenv, "CUSTOS_BACKUP_EVERY", 24*time.Hour)
	if err != nil {
		return c, err
	}
	drillEvery, err := envDuration(getenv, "CUSTOS_DRILL_EVERY", 7*24*time.Hour)
	if err != nil {
		return c, err
	}
	fs.DurationVar(&c.BackupEvery, "backup-every", backupEvery, "how often serve backs up into -backup-dir (CUSTOS_BACKUP_EVERY)")
	fs.DurationVar(&c.DrillEvery, "drill-every", drillEvery, "how often serve restores the newest backup into scratch and checks it (needs -backup-identity-file); 0: never (CUSTOS_DRILL_EVERY)")
	fs.StringVar(&c.DrillLitestream, "drill-litestream", env("CUSTOS_DRILL_LITESTREAM", ""), "a Litestream replica of the database (file:///…, s3://…) serve also drills every -drill-every: restored with litestream, backed up and restored into scratch; the command is litestream on the PATH or CUSTOS_LITESTREAM_BIN (CUSTOS_DRILL_LITESTREAM)")
	c.LitestreamBin = env("CUSTOS_LITESTREAM_BIN", "litestream")
	fs.StringVar(&c.BackupKeep, "backup-keep", env("CUSTOS_BACKUP_KEEP", "7,4,12"), "backups kept in each -backup-dir: daily,weekly,monthly (CUSTOS_BACKUP_KEEP)")
	fs.BoolVar(&c.BackupBeforeMigrate, "backup-before-migrate", env("CUSTOS_BACKUP_BEFORE_MIGRATE", "true") != "false", "back up into the first -backup-dir before applying schema migrations to a database that holds data (CUSTOS_BACKUP_BEFORE_MIGRATE)")
	fs.StringVar(&c.BackupIdentityFile, "backup-identity-file", env("CUSTOS_BACKUP_IDENTITY_FILE", ""), "file of the age identity that decrypts backups, for restore and drills; keep it apart from the data and the backups (CUSTOS_BACKUP_IDENTITY_FILE)")
	deadline, err := envInt(getenv, "CUSTOS_PRIVACY_DEADLINE_DAYS", service.DefaultPrivacyDeadlineDays)
	if err != nil {
		return c, err
	}
	fs.IntVar(&c.PrivacyDeadlineDays, "privacy-deadline-days", deadline, "days a privacy request has from its receipt, 1-365 (CUSTOS_PRIVACY_DEADLINE_DAYS)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	for _, d := range strings.Split(backupDirs, ",") {
		if d = strings.TrimSpace(d); d != "" {
			c.BackupDirs = append(c.BackupDirs, d)
		}
	}
	for _, to := range strings.Split(mailTo, ",") {
		if to = strings.TrimSpace(to); to != "" {
			c.AlertEmailTo = append(c.AlertEmailTo, to)
		}
	}
	c.defaultAuditPaths()
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.PublicURL == "" {
		c.PublicURL = defaultPublicURL(c.Addr, c.TLSCert != "")
	}
	for _, p := range strings.Split(proxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !strings.Contains(p, "/") {
			if a, err := netip.ParseAddr(p); err == nil {
				p = netip.PrefixFrom(a, a.BitLen()).String()
			}
		}
		pre, err := netip.ParsePrefix(p)
		if err != nil {
			return c, fmt.Errorf("trusted proxies: %q is not a CIDR", p)
		}
		c.TrustedProxies = append(c.TrustedProxies, pre.Masked())
	}
	return c, c.Validate()
}

// defaultAuditPaths derives the default locations of the audit key,
// checkpoints, master key and key store from the data's location: beside
// the data directory, never inside it (so a copy of the data directory
// holds none of them), and named after it (so two data directories side by
// side never share keys or checkpoints): <dir>-keys/ and <dir>-audit/ for
// SQLite in <dir>, custos-<database>-keys/ and custos-<database>-audit/ in
// the working directory for PostgreSQL.
func (c *Config) defaultAuditPaths() {
	keyDir, auditDir := defaultKeyDirs(c.DataDir, c.DatabaseURL)
	defaults := map[string]string{"audit-key-file": filepath.Join(keyDir, "audit.key"), "audit-dir": auditDir,
		"master-key-file": filepath.Join(keyDir, "master.key"), "keystore": filepath.Join(keyDir, "keystore.db"),
		"key-snapshot-dir": filepath.Join(keyDir, "snapshots")}
	c.defaulted = map[string]bool{}
	for name, p := range c.keyPaths() {
		if *p == "" {
			*p, c.defaulted[name] = defaults[name], true
		}
	}
}

// keyPaths points at the key and checkpoint locations, by flag name.
func (c *Config) keyPaths() map[string]*string {
	return map[string]*string{"audit-key-file": &c.AuditKeyFile, "audit-dir": &c.AuditDir, "master-key-file": &c.MasterKeyFile,
		"keystore": &c.KeyStore, "key-snapshot-dir": &c.KeySnapshotDir}
}

// defaultKeyDirs returns the default key and checkpoint directories.
func defaultKeyDirs(dataDir, databaseURL string) (keyDir, auditDir string) {
	if databaseURL == "" && dataDir != "" {
		d := filepath.Clean(dataDir)
		return d + "-keys", d + "-audit"
	}
	name := "postgres"
	if u, err := url.Parse(databaseURL); err == nil {
		if db := strings.Trim(u.Path, "/"); db != "" {
			name = db
		}
	}
	name = strings.Map(func(r rune) rune {
		if r == '/' || r == filepath.Separator || r == '.' {
			return '_'
		}
		return r
	}, name)
	return "custos-" + name + "-keys", "custos-" + name + "-audit"
}

// oldKeyDirs are the defaults before issue 12: custos-keys/ and
// custos-audit/ beside the data directory (or in the working directory for
// PostgreSQL), shared by every data directory there.
func oldKeyDirs(dataDir, databaseURL string) (keyDir, auditDir string) {
	base := "."
	if databaseURL == "" && dataDir != "" {
		base = filepath.Dir(filepath.Clean(dataDir))
	}
	return filepath.Join(base, "custos-keys"), filepath.Join(base, "custos-audit")
}

// useOldDefaults keeps an install made before issue 12 working: for a
// database that holds data, when the new default key (or checkpoint)
// directory does not exist and the old shared one does, the paths left to
// their defaults point into the old one. Binding then checks that the keys
// found there are this database's (a directory another data directory
// made is refused as foreign).
func (c *Config) useOldDefaults(logger *slog.Logger) {
	newKeys, newAudit := defaultKeyDirs(c.DataDir, c.DatabaseURL)
	oldKeys, oldAudit := oldKeyDirs(c.DataDir, c.DatabaseURL)
	for _, d := range []struct{ from, to string }{{newKeys, oldKeys}, {newAudit, oldAudit}} {
		if exists(d.from) || !exists(d.to) {
			continue
		}
		moved := false
		for name, p := range c.keyPaths() {
			if !c.defaulted[name] {
				continue
			}
			if rel, err := filepath.Rel(d.from, *p); err == nil && !strings.HasPrefix(rel, "..") {
				*p, moved = filepath.Join(d.to, rel), true
			}
		}
		if moved && logger != nil {
			logger.Warn("using the old default location shared by every data directory beside this one; move it to the new default (see docs/operations.md)",
				"old", d.to, "new", d.from)
		}
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// keyFileHelp names each key file's setting, for the messages that ask an
// operator to restore or point at one.
func (c Config) keyFileHelp() []struct{ what, path, how string } {
	return []struct{ what, path, how string }{
		{service.KeyMaster, c.MasterKeyFile, "-master-key-file or CUSTOS_MASTER_KEY_FILE (or the key itself in CUSTOS_MASTER_KEY)"},
		{service.KeyStore, c.KeyStore, "-keystore, CUSTOS_KEYSTORE or CUSTOS_KEYSTORE_FILE"},
		{service.KeyAudit, c.AuditKeyFile, "-audit-key-file or CUSTOS_AUDIT_KEY_FILE"},
	}
}

// keyRestoreHint ends every refusal: what to do, and what Custos will not.
const keyRestoreHint = "restore it from your key backup, or point the setting at where it is. Custos makes new keys only for an empty database (first start) or with custos keys init; it never replaces the keys of a database that holds data"

// missingKeyFiles names the key files of a database that holds data which
// are not where the configuration says (before anything is opened, so none
// is replaced by a new one).
func (c Config) missingKeyFiles() error {
	var missing []string
	for _, f := range c.keyFileHelp() {
		switch {
		case f.what == service.KeyMaster && strings.TrimSpace(c.MasterKey) != "",
			f.what == service.KeyStore && isPostgresURL(f.path):
			continue // not a file; opening it tells
		}
		if !exists(f.path) {
			missing = append(missing, fmt.Sprintf("the %s file %s does not exist (set by %s)", f.what, f.path, f.how))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("this database holds data sealed and signed under its keys, but %s: %s", strings.Join(missing, "; and "), keyRestoreHint)
}

// explainKeyError turns a missing or foreign key into a message naming
// the file, the setting that points at it and what to do.
func (c Config) explainKeyError(err error) error {
	var missing *vault.MissingError
	var foreign *service.ForeignKeyError
	what := ""
	switch {
	case errors.As(err, &missing):
		what = service.KeyMaster
		if missing.What == "key store" {
			what = service.KeyStore
		}
	case errors.As(err, &foreign):
		what = foreign.What
	case errors.Is(err, vault.ErrMasterMismatch):
		what = service.KeyMaster
	case errors.Is(err, os.ErrNotExist) && strings.HasPrefix(err.Error(), "audit:"):
		return fmt.Errorf("the audit key file %s does not exist (set by %s): %s", c.AuditKeyFile, c.keyFileHelp()[2].how, keyRestoreHint)
	default:
		return err
	}
	for _, f := range c.keyFileHelp() {
		if f.what == what {
			where := f.path
			if what == service.KeyMaster && strings.TrimSpace(c.MasterKey) != "" {
				where = "CUSTOS_MASTER_KEY"
			} else if isPostgresURL(where) {
				where = "(the PostgreSQL key store)"
			}
			return fmt.Errorf("%s %s: %w (set by %s); %s", what, where, err, f.how, keyRestoreHint)
		}
	}
	return err
}

func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Validate checks the combination of settings.
func (c Config) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("addr is empty"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls-cert and tls-key go together"))
	}
	if c.SensitiveSearches < 1 {
		errs = append(errs, errors.New("sensitive-search-limit must be at least 1"))
	}
	if c.ExportsPerHour < 1 {
		errs = append(errs, errors.New("export-limit must be at least 1"))
	}
	if c.ExportDownloadHours < 1 || c.ExportDownloadHours > 24*30 {
		errs = append(errs, errors.New("export-download-hours must be 1 to 720"))
	}
	if c.DatabaseURL == "" && c.DataDir == "" {
		errs = append(errs, errors.New("data-dir is empty"))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, errors.New("database must be a postgres:// URL"))
	}
	if _, _, err := service.RelyingParty(c.PublicURL); err != nil {
		errs = append(errs, err)
	}
	if c.DuplicateScanDays < 0 || c.DuplicateScanDays > 365 {
		errs = append(errs, fmt.Errorf("duplicate-scan-days must be between 0 and 365, not %d", c.DuplicateScanDays))
	}
	if c.RecycleDays < 1 || c.RecycleDays > 3650 {
		errs = append(errs, fmt.Errorf("recycle-days must be between 1 and 3650, not %d", c.RecycleDays))
	}
	if c.AuditRetentionYears < 0 || c.AuditRetentionYears > 100 {
		errs = append(errs, fmt.Errorf("audit-retention-years must be between 0 (never archive) and 100, not %d", c.AuditRetentionYears))
	}
	errs = append(errs, c.validateAlertDelivery()...)
	if _, err := c.backupKeep(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.validateBackupS3()...)
	if (len(c.BackupDirs) > 0 || c.BackupS3 != "") && c.BackupEvery < time.Minute {
		errs = append(errs, fmt.Errorf("backup-every must be at least a minute, not %s", c.BackupEvery))
	}
	if c.DrillEvery < 0 {
		errs = append(errs, errors.New("drill-every must not be negative"))
	}
	if c.DrillLitestream != "" && c.DatabaseURL != "" {
		errs = append(errs, errors.New("drill-litestream: a Litestream replica is of a SQLite database; this installation uses PostgreSQL"))
	}
	if c.DrillLitestream != "" && c.DrillEvery == 0 {
		errs = append(errs, errors.New("drill-litestream needs -drill-every above 0"))
	}
	if c.PrivacyDeadlineDays < 1 || c.PrivacyDeadlineDays > 365 {
		errs = append(errs, fmt.Errorf("privacy-deadline-days must be between 1 and 365, not %d", c.PrivacyDeadlineDays))
	}
	return errors.Join(errs...)
}

// validateBackupS3 checks the S3 settings when a bucket is named. The
// errors never repeat a key.
func (c Config) validateBackupS3() []error {
	if c.BackupS3 == "" {
		return nil
	}
	var errs []error
	if _, _, err := backup.ParseS3URL(c.BackupS3); err != nil {
		errs = append(errs, fmt.Errorf("backup-s3: %w", err))
	}
	if c.BackupS3Endpoint == "" || strings.Contains(c.BackupS3Endpoint, "/") {
		errs = append(errs, fmt.Errorf("backup-s3-endpoint must be host[:port] without a scheme or path (TLS is on unless -backup-s3-insecure), not %q", c.BackupS3Endpoint))
	}
	if c.BackupS3AccessKey == "" || c.BackupS3SecretKey == "" {
		errs = append(errs, errors.New("backup-s3 needs CUSTOS_BACKUP_S3_ACCESS_KEY and CUSTOS_BACKUP_S3_SECRET_KEY (or their _FILE variants)"))
	}
	return errs
}

// s3Config is how S3 locations (-backup-s3, -to s3://…, -from s3://…) are
// reached.
func (c Config) s3Config() backup.S3Config {
	return backup.S3Config{Endpoint: c.BackupS3Endpoint, Region: c.BackupS3Region, AccessKey: c.BackupS3AccessKey,
		SecretKey: c.BackupS3SecretKey, Insecure: c.BackupS3Insecure}
}

// backupDestination is a backup location as a destination: a directory
// or s3://bucket/prefix.
func (c Config) backupDestination(location string) (backup.Destination, error) {
	if backup.IsS3(location) {
		if strings.Contains(c.BackupS3Endpoint, "/") {
			return nil, fmt.Errorf("backup-s3-endpoint must be host[:port] without a scheme or path, not %q", c.BackupS3Endpoint)
		}
		return backup.NewS3(location, c.s3Config())
	}
	return backup.Dir(location), nil
}

// groupBots reads the group bots from <env>_<PLATFORM>_URL and, for the
// platforms that sign, <env>_<PLATFORM>_SECRET (each or its _FILE), env
// being CUSTOS_ALERT_ (security alerts) or CUSTOS_NOTIFY_ (notifications).
func groupBots(getenv func(string) string, env string) ([]*notify.Bot, error) {
	var bots []*notify.Bot
	for _, kind := range []notify.BotKind{notify.BotWeCom, notify.BotDingTalk, notify.BotFeishu} {
		prefix := env + strings.ToUpper(string(kind))
		u, err := secretEnv(getenv, prefix+"_URL")
		if err != nil || u == "" {
			if err != nil {
				return nil, err
			}
			continue
		}
		b := &notify.Bot{Kind: kind, URL: u}
		if kind != notify.BotWeCom {
			if b.Secret, err = secretEnv(getenv, prefix+"_SECRET"); err != nil {
				return nil, err
			}
		}
		bots = append(bots, b)
	}
	return bots, nil
}

// validateAlertDelivery checks the webhook and e-mail settings. The errors
// never repeat a secret.
func (c Config) validateAlertDelivery() []error {
	var errs []error
	for env, bots := range map[string][]*notify.Bot{"ALERT": c.AlertBots, "NOTIFY": c.NotifyBots} {
		for _, b := range bots {
			if u, err := url.Parse(b.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				errs = append(errs, fmt.Errorf("CUSTOS_%s_%s_URL must be an http(s):// URL (the group bot's webhook address)", env, strings.ToUpper(string(b.Kind))))
			}
		}
	}
	if c.AlertWebhookURL != "" {
		if u, err := url.Parse(c.AlertWebhookURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, errors.New("alert-webhook-url must be an http(s):// URL"))
		}
		if len(c.AlertWebhookSecret) < 16 {
			errs = append(errs, errors.New("alert-webhook-url needs CUSTOS_ALERT_WEBHOOK_SECRET (or _FILE) of at least 16 characters"))
		}
	}
	if c.SMTPAddr == "" {
		if c.SMTPFrom != "" || c.SMTPUsername != "" || len(c.AlertEmailTo) > 0 {
			errs = append(errs, errors.New("smtp-from, smtp-username and alert-email-to need smtp-addr"))
		}
		return errs
	}
	if _, port, err := net.SplitHostPort(c.SMTPAddr); err != nil || port == "" {
		errs = append(errs, errors.New("smtp-addr must be host:port, e.g. smtp.example.com:587"))
	}
	if _, err := mail.ParseAddress(c.SMTPFrom); err != nil {
		errs = append(errs, errors.New("smtp-addr needs smtp-from, a valid sender address"))
	}
	for _, to := range c.AlertEmailTo {
		if _, err := mail.ParseAddress(to); err != nil {
			errs = append(errs, fmt.Errorf("alert-email-to: %q is not an e-mail address", to))
		}
	}
	if c.SMTPPassword != "" && c.SMTPUsername == "" {
		errs = append(errs, errors.New("CUSTOS_SMTP_PASSWORD needs smtp-username"))
	}
	return errs
}

// alertDelivery builds the alert delivery the settings describe.
func (c Config) alertDelivery() service.AlertDelivery {
	var d service.AlertDelivery
	if c.AlertWebhookURL != "" {
		d.Webhook = &notify.Webhook{URL: c.AlertWebhookURL, Secret: []byte(c.AlertWebhookSecret)}
	}
	d.Bots = c.AlertBots
	if c.SMTPAddr != "" {
		d.Mail = &notify.Mailer{Addr: c.SMTPAddr, From: c.SMTPFrom, Username: c.SMTPUsername, Password: c.SMTPPassword}
		d.MailTo = c.AlertEmailTo
	}
	return d
}

// notifyOptions builds the external channels of notifications: e-mail
// through the SMTP settings of alert e-mail, to each user's own address,
// and the CUSTOS_NOTIFY_ group bots.
func (c Config) notifyOptions() service.NotifyOptions {
	o := service.NotifyOptions{Bots: c.NotifyBots}
	if c.SMTPAddr != "" {
		o.Mail = &notify.Mailer{Addr: c.SMTPAddr, From: c.SMTPFrom, Username: c.SMTPUsername, Password: c.SMTPPassword}
	}
	return o
}

// defaultPublicURL is the public URL for local use: localhost (passkeys
// never work for an IP address) at the listen port. A server others reach
// by name sets -public-url.
func defaultPublicURL(addr string, tls bool) string {
	scheme := "http"
	if tls {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return scheme + "://localhost"
	}
	if host == "" || net.ParseIP(host) != nil {
		host = "localhost"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// backupKeep parses -backup-keep ("daily,weekly,monthly").
func (c Config) backupKeep() (backup.Keep, error) {
	var k backup.Keep
	parts := strings.Split(c.BackupKeep, ",")
	if len(parts) != 3 {
		return k, fmt.Errorf("backup-keep must be daily,weekly,monthly counts such as 7,4,12, not %q", c.BackupKeep)
	}
	for i, p := range []*int{&k.Daily, &k.Weekly, &k.Monthly} {
		n, err := strconv.Atoi(strings.TrimSpace(parts[i]))
		if err != nil || n < 0 {
			return k, fmt.Errorf("backup-keep must be daily,weekly,monthly counts such as 7,4,12, not %q", c.BackupKeep)
		}
		*p = n
	}
	return k, nil
}

// envDuration reads a duration variable, def when it is unset.
func envDuration(getenv func(string) string, key string, def time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(getenv(key))
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a duration such as 24h", key, v)
	}
	return d, nil
}

// envInt reads an integer variable, def when it is unset.
func envInt(getenv func(string) string, key string, def int) (int, error) {
	v := strings.TrimSpace(getenv(key))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a whole number", key, v)
	}
	return n, nil
}

// RecycleRetention is how long deleted records stay restorable.
func (c Config) RecycleRetention() time.Duration {
	return time.Duration(c.RecycleDays) * 24 * time.Hour
}

// secretEnv reads KEY, or the file named by KEY_FILE.
func secretEnv(getenv func(string) string, key string) (string, error) {
	if v := getenv(key); v != "" {
		return v, nil
	}
	if f := getenv(key + "_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: %w", key, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", nil
}
