// Command custos is the Custos CRM: one binary that serves the web UI and the
// JSON API on embedded SQLite or on PostgreSQL, and runs administration
// commands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	tuneGC(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "custos:", err)
		os.Exit(1)
	}
}

// defaultGCPercent is the garbage collector's target when GOGC is not set.
// Custos keeps little live heap (tens of megabytes) and makes much
// short-lived garbage per request: at Go's default of 100 the background
// collector took about 6% of the CPU of list and search requests on the
// benchmark data set, at 400 about 2% (docs/benchmarks.md). GOGC and
// GOMEMLIMIT still override it.
const defaultGCPercent = 400

// defaultMemoryLimit is the Go heap's soft limit when GOMEMLIMIT is not
// set. At 400 the heap may grow to five times what is live: the preview of
// a million-row import (about 100 MB live, the keys seen in the file) grew
// the process to 1.4 GB. Near the limit the collector runs sooner instead;
// far below it nothing changes.
const defaultMemoryLimit = 256 << 20

func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

const usage = `Custos — customer follow-up CRM

Usage:
  custos serve     [flags]   start the web UI and the JSON API (-demo: fill an empty database with demo data first)
  custos migrate   [flags]   apply database migrations and exit
  custos demo      [flags]   fill an empty database with generated demo data
  custos bench     [flags]   benchmark a running Custos end to end on demo data
  custos audit verify [flags] check the audit trail against its signed checkpoints
  custos audit seal   [flags] seal the audit events waiting (serve does it every 2 seconds)
  custos keys init [flags]  make and record the keys of an empty database before its first start (audited)
  custos keys status|rotate|rewrap|retire|snapshot|reencrypt|destroy-superseded|rotate-blind [flags]
                             show, rotate, re-wrap (online, resumable) or retire master key versions; snapshot
                             the key store; re-encrypt every person under new data keys (after a leak of both);
                             re-key the blind index
  custos audit archive [-before YYYY-MM-DD] [flags]
                             move sealed audit events before the date (default: -audit-retention-years)
                             into signed segment files in -audit-dir (serve does it every hour)
  custos import -object OBJECT -file FILE [-mapping M.json] [-as USER] [-owner-rule R] [-dry-run] [flags]
                             import a CSV (UTF-8, GBK) or XLSX file through the same checks as the forms;
                             ends with "import N: created C, updated U, ..." and a per-row report beside the file
  custos import status N | resume N | undo N [-confirm]
                             show an import, finish one that stopped, or move the records it created to the
                             recycle bin
  custos duplicates -object contacts -format csv [-min-score S] [flags]
                             scan an object for duplicates and write the pairs as CSV
                             (id_a,id_b,external_id_a,external_id_b,score,reasons)
  custos trace FILE [flags]  name the export a file (CSV or XLSX, whole or an excerpt, saved again or not)
                             came from: export id, user, time and confidence, or "no match"
  custos backup -to DIR [flags]
                             back up the database (online, one consistent snapshot) with the audit directory,
                             encrypted to -backup-recipient, signed with the audit key; never holds keys
  custos backup verify BACKUP [flags]
                             restore drill: restore into scratch, check signature, checksums, counts, the
                             audit trail and a sample of personal data with the current keys; report the age
  custos backup keygen -out FILE
                             make the age identity backups are encrypted to (prints its recipient)
  custos restore -from BACKUP -data-dir NEW | -database URL [flags]
                             restore a backup into an empty database with the current keys; erasures made
                             after the backup are applied again; ends with counts and audit verify
  custos migrate-data -from DATA_DIR|URL -to URL|DATA_DIR [-to-audit-dir DIR] [flags]
                             move the data between SQLite and PostgreSQL through the same verified snapshot
                             a backup is: counts, checksums and audit verify on the target; same keys
  custos keys load -from SNAPSHOT [flags]
                             load a key-store snapshot into a new (missing or empty) key store
  custos version             print the version

Run "custos serve -h" for the flags; every flag also has a CUSTOS_* variable.
`

// run is the whole program, testable: it parses args and environment and
// returns when ctx ends or the command is done.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args[1:], getenv, stdout, stderr)
	case "demo":
		return demoCommand(ctx, args[1:], getenv, stdout, stderr)
	case "bench":
		return benchCommand(ctx, args[1:], getenv, stdout, stderr)
	case "audit":
		return auditCommand(ctx, args[1:], getenv, stdout, stderr)
	case "import":
		return importCommand(ctx, args[1:], getenv, stdout, stderr)
	case "keys":
		return keysCommand(ctx, args[1:], getenv, stdout, stderr)
	case "backup":
		return backupCommand(ctx, args[1:], getenv, stdout, stderr)
	case "restore":
		return restoreCommand(ctx, args[1:], getenv, stdout, stderr)
	case "migrate-data":
		return migrateDataCommand(ctx, args[1:], getenv, stdout, stderr)
	case "duplicates":
		return duplicatesCommand(ctx, args[1:], getenv, stdout, stderr)
	case "trace":
		return traceCommand(ctx, args[1:], getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "custos", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"
