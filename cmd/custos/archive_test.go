package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"custos/internal/access"
	"custos/internal/audit"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestServePurgesAndArchives: a database whose trail and recycle bin are
// eleven years old. serve, at start, purges the recycled customer and
// archives the events past the ten-year retention into a segment; custos
// audit verify replays the segment and the database as one chain, and
// custos audit archive finds nothing more to do.
func TestServePurgesAndArchives(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			opt := testdb.Options(t, d)
			keys := t.TempDir()
			args := []string{"-data-dir", opt.Dir, "-audit-key-file", keys + "/audit.key", "-audit-dir", keys + "/audit",
				"-master-key-file", keys + "/master.key", "-keystore", keys + "/keystore.db", "-key-snapshot-dir", keys + "/snapshots"}
			if opt.URL != "" {
				args = append(args, "-database", opt.URL)
			}
			var customerID int64
			func() { // eleven years ago, with the keys serve will use
				cfg, err := parseConfig("serve", args, func(string) string { return "" }, io.Discard)
				if err != nil {
					t.Fatal(err)
				}
				v, err := openVault(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), false)
				if err != nil {
					t.Fatal(err)
				}
				defer v.Close()
				db, err := store.Open(ctx, opt)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				k, _, err := audit.LoadOrCreateKeys(cfg.AuditKeyFile)
				if err != nil {
					t.Fatal(err)
				}
				clock := testorg.NewClock()
				clock.Set(time.Now().AddDate(-11, 0, 0))
				svc := service.New(db, service.Options{Argon2: testorg.CheapArgon, AuditKeys: k, Now: clock.Now, Vault: v})
				if _, err := svc.Bootstrap(ctx, "总部"); err != nil {
					t.Fatal(err)
				}
				sys := access.System("e2e")
				c, err := svc.CreateCustomer(ctx, sys, service.CustomerInput{CustomerFields: crm.CustomerFields{Name: "十一年前的客户"}})
				if err != nil {
					t.Fatal(err)
				}
				customerID = c.ID
				if err := svc.DeleteCustomer(ctx, sys, c.ID); err != nil {
					t.Fatal(err)
				}
				sealer := &audit.Sealer{DB: db, Keys: k, Dir: keys + "/audit", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
				if _, err := sealer.SealOnce(ctx); err != nil {
					t.Fatal(err)
				}
			}()
			raw := testdb.Raw(t, d, opt)

			startServer(t, append(args, "-audit-retention-years", "10", "-recycle-days", "90")...)
			segments := filepath.Join(keys, "audit", audit.SegmentDir)
			// A readiness bound, not a performance assertion: the jobs run
			// beside the server's start.
			for i := 0; ; i++ {
				var customers, purged, leases int
				raw.QueryRow("SELECT COUNT(*) FROM customers WHERE id = $1", customerID).Scan(&customers)
				raw.QueryRow("SELECT COUNT(*) FROM audit_events WHERE action = 'customer.purge' AND record_id = $1", customerID).Scan(&purged)
				// serve's archive is done once it gave its lease back: the
				// note is written before that, and an archive run in between
				// would rightly find the lease held.
				raw.QueryRow("SELECT COUNT(*) FROM job_leases WHERE name = 'audit-archive'").Scan(&leases)
				notes, _ := filepath.Glob(filepath.Join(segments, "*.note"))
				if customers == 0 && purged == 1 && len(notes) == 1 && leases == 0 {
					break
				}
				if i > 2400 {
					t.Fatalf("after two minutes: customer rows %d, purge events %d, segment notes %v, archive leases %d", customers, purged, notes, leases)
				}
				time.Sleep(50 * time.Millisecond)
			}

			var out, errb bytes.Buffer
			env := func(string) string { return "" }
			if err := run(ctx, append([]string{"audit", "verify"}, args...), env, &out, &errb); err != nil {
				t.Fatalf("audit verify: %v\n%s%s", err, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), "in 1 archive segments") || !strings.Contains(out.String(), "OK") {
				t.Fatalf("audit verify: %s", out.String())
			}
			out.Reset()
			if err := run(ctx, append([]string{"audit", "archive", "-before", time.Now().AddDate(-10, 0, 0).Format("2006-01-02")}, args...), env, &out, &errb); err != nil {
				t.Fatalf("audit archive: %v\n%s", err, errb.String())
			}
			if !strings.Contains(out.String(), "nothing to archive") {
				t.Fatalf("audit archive again: %s", out.String())
			}
			if err := run(ctx, append([]string{"audit", "archive", "-before", time.Now().AddDate(0, 0, 2).Format("2006-01-02")}, args...), env, &out, &errb); err == nil ||
				!strings.Contains(err.Error(), "future") {
				t.Fatalf("archive with a future cutoff: %v", err)
			}
			if _, err := os.Stat(filepath.Join(keys, "audit", audit.CheckpointFile)); err != nil {
				t.Fatalf("checkpoints: %v", err)
			}
		})
	}
}
