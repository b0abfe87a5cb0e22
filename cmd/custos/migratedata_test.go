package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/vault"
)

// TestMigrateData: custos migrate-data moves a database between SQLite and
// PostgreSQL (both ways when PostgreSQL is on; SQLite to SQLite without
// it): every table's rows arrive, the audit trail verifies in the target's
// audit directory, personal data opens with the same keys, and a target
// that holds data is refused.
func TestMigrateData(t *testing.T) {
	ds := testdb.Dialects()
	for _, from := range ds {
		for _, to := range ds {
			if len(ds) > 1 && from == to {
				continue
			}
			t.Run(string(from)+"_to_"+string(to), func(t *testing.T) {
				ctx := context.Background()
				args, src, keys := serveArgs(t, from)
				var out, errb bytes.Buffer
				if err := run(ctx, append([]string{"demo", "-customers", "3", "-password", "demo-password-7"}, args...), noEnv, &out, &errb); err != nil {
					t.Fatalf("demo: %v\n%s", err, errb.String())
				}
				target := testdb.Options(t, to)
				dest, srcArg := target.Dir, src.Dir
				if target.URL != "" {
					dest = target.URL
				}
				if src.URL != "" {
					srcArg = src.URL
				}
				migrate := append([]string{"migrate-data", "-from", srcArg, "-to", dest, "-to-audit-dir", filepath.Join(t.TempDir(), "audit")}, keyFlags(keys)...)
				out.Reset()
				if err := run(ctx, migrate, noEnv, &out, &errb); err != nil {
					t.Fatalf("migrate-data: %v\n%s", err, errb.String())
				}
				if !strings.Contains(out.String(), "counts and checksums match") || !strings.Contains(out.String(), ": OK") {
					t.Fatalf("migrate-data said:\n%s", out.String())
				}
				srcRaw, dstRaw := testdb.Raw(t, from, src), testdb.Raw(t, to, target)
				for _, table := range []string{"customers", "contacts", "follow_ups", "opportunities", "record_versions", "users"} {
					var a, b int
					if err := srcRaw.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&a); err != nil {
						t.Fatal(err)
					}
					if err := dstRaw.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&b); err != nil {
						t.Fatal(err)
					}
					if a != b || a == 0 {
						t.Errorf("%s: %d rows in the source, %d in the target", table, a, b)
					}
				}
				// The same keys open the people in the target.
				v, _, err := vault.Open(ctx, vault.Options{MasterKeyFile: filepath.Join(keys, "master.key"),
					KeyStore: filepath.Join(keys, "keystore.db"), SnapshotDir: filepath.Join(keys, "snapshots"), MustExist: true})
				if err != nil {
					t.Fatal(err)
				}
				defer v.Close()
				db, err := store.Open(ctx, target)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				svc := service.New(db, service.Options{Vault: v})
				page, err := svc.ListContacts(ctx, access.System("test"), crm.ListFilter{Limit: 5})
				if err != nil || len(page.Items) == 0 || page.Items[0].Name == "" {
					t.Fatalf("contacts in the target: %v %+v", err, page.Items)
				}
				// The target holds data now: a second run is refused.
				if err := run(ctx, migrate, noEnv, &out, &errb); err == nil {
					t.Fatal("migrate-data into a database that holds data was not refused")
				}
			})
		}
	}
}
