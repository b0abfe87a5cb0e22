package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"custos/internal/store"
	"custos/internal/testdb"
)

// custos runs one command of the real binary and returns its error and
// output.
func custos(args ...string) (string, error) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(string) string { return "" }, &out, &errOut)
	return out.String() + errOut.String(), err
}

// dbFlags are the flags naming a test database.
func dbFlags(opt store.Options) []string {
	if opt.URL != "" {
		return []string{"-database", opt.URL}
	}
	return []string{"-data-dir", opt.Dir}
}

// TestKeysBelongToTheirDatabase: once a database holds data, every command
// that opens it (migrate, keys, audit, serve) refuses a missing or foreign
// master key, key store or audit key with a message naming the file and
// what to do — and makes no new key material in its place (issue 12 §2).
func TestKeysBelongToTheirDatabase(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			optA, optB := testdb.Options(t, d), testdb.Options(t, d)
			keysA, keysB := t.TempDir(), t.TempDir()
			argsA := append(dbFlags(optA), keyFlags(keysA)...)
			// First starts: each database makes and records its own keys.
			srv := launch(t, argsA...)
			srv.stop()
			if out, err := custos(append([]string{"migrate"}, append(dbFlags(optB), keyFlags(keysB)...)...)...); err != nil {
				t.Fatalf("first start of B: %v\n%s", err, out)
			}

			for _, tc := range []struct {
				name    string
				missing string // a file of keysA moved away
				flag    string // or a flag pointed at B's file
				both    bool   // and B's master key too
				want    string
			}{
				{name: "master key missing", missing: "master.key", want: "master key file " + keysA + "/master.key does not exist"},
				{name: "key store missing", missing: "keystore.db", want: "key store file " + keysA + "/keystore.db does not exist"},
				{name: "audit key missing", missing: "audit.key", want: "audit key file " + keysA + "/audit.key does not exist"},
				{name: "foreign key store", flag: "-keystore", missing: "keystore.db", want: "key store " + keysB + "/keystore.db"},
				{name: "foreign master key", flag: "-master-key-file", missing: "master.key", want: "master key " + keysB + "/master.key"},
				{name: "foreign audit key", flag: "-audit-key-file", missing: "audit.key", want: "audit key " + keysB + "/audit.key"},
				// B's key store and master key open each other, but hold B's keys.
				{name: "foreign key store with its master key", flag: "-keystore", missing: "keystore.db", both: true, want: keysB + "/keystore.db holds the keys of database"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					args := append([]string(nil), argsA...)
					if tc.flag != "" {
						args = append(args, tc.flag, filepath.Join(keysB, tc.missing))
						if tc.both {
							args = append(args, "-master-key-file", filepath.Join(keysB, "master.key"))
						}
					} else {
						aside := filepath.Join(t.TempDir(), tc.missing)
						if err := os.Rename(filepath.Join(keysA, tc.missing), aside); err != nil {
							t.Fatal(err)
						}
						defer os.Rename(aside, filepath.Join(keysA, tc.missing))
					}
					before := listFiles(t, keysA)
					for _, cmd := range [][]string{{"migrate"}, {"keys", "status"}, {"serve", "-addr", "127.0.0.1:0"}, {"audit", "verify"}} {
						if cmd[0] == "audit" && !strings.Contains(tc.name, "audit") {
							continue // audit commands open the audit key alone
						}
						out, err := custos(append(cmd, args...)...)
						if err == nil {
							t.Fatalf("%v started with %s:\n%s", cmd, tc.name, out)
						}
						if msg := err.Error(); !strings.Contains(msg, tc.want) || !strings.Contains(msg, "restore it from your key backup") {
							t.Errorf("%v: the message does not name the file and what to do:\n%s\nwant %q", cmd, msg, tc.want)
						}
					}
					if after := listFiles(t, keysA); after != before {
						t.Errorf("key material made in place of the refused one:\nbefore %s\nafter  %s", before, after)
					}
				})
			}
			// With its own keys back, A starts and its trail verifies.
			if out, err := custos(append([]string{"audit", "verify"}, argsA...)...); err != nil {
				t.Fatalf("verify A: %v\n%s", err, out)
			}
		})
	}
}

// listFiles names the files under dir, for comparing before and after.
func listFiles(t *testing.T, dir string) string {
	t.Helper()
	var names []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, strings.TrimPrefix(p, dir))
		}
		return nil
	})
	return strings.Join(names, " ")
}
