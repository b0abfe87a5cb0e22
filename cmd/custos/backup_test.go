package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"custos/internal/audit"
	"custos/internal/backup"
	"custos/internal/testdb"
	"custos/internal/tests3"
)

// TestBackupCommands drives backup, drill and restore as an operator
// would, and kills a backup (SIGKILL) in the middle: the earlier backup
// stays intact and verifies, nothing half-written looks like a backup, and
// the next backup works.
func TestBackupCommands(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			args, _, keys := serveArgs(t, d)
			cli := func(cmd ...string) string {
				t.Helper()
				var out, errb bytes.Buffer
				if err := run(ctx, append(cmd, args...), noEnv, &out, &errb); err != nil {
					t.Fatalf("%v: %v\nstdout:\n%s\nstderr:\n%s", cmd, err, out.String(), errb.String())
				}
				return out.String()
			}
			cli("demo", "-customers", "3", "-password", "demo-password-7")
			cli("audit", "seal")
			dir := t.TempDir()
			idFile, recipient := backupIdentity(t, filepath.Join(dir, "id"))
			args = append(args, "-backup-recipient", recipient, "-backup-identity-file", idFile)
			backups := filepath.Join(dir, "backups")

			first := cli("backup", "-to", backups)
			firstPath := regexp.MustCompile(`backup (\S+):`).FindStringSubmatch(first)[1]

			// The second backup blocks reading the checkpoint file (a FIFO
			// standing in for a slow disk) with its snapshot open, every
			// table read and data.age being written, and is killed there.
			cpFile := filepath.Join(keys, "checkpoints", audit.CheckpointFile)
			saved, err := os.ReadFile(cpFile)
			if err != nil {
				t.Fatal(err)
			}
			os.Remove(cpFile)
			if err := syscall.Mkfifo(cpFile, 0o600); err != nil {
				t.Fatal(err)
			}
			enc, _ := json.Marshal(append([]string{"backup", "-to", backups}, args...))
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), runArgsEnv+"="+string(enc))
			var childErr bytes.Buffer
			cmd.Stderr = &childErr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			partial := ""
			for deadline := time.Now().Add(time.Minute); partial == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				found, _ := filepath.Glob(filepath.Join(backups, ".partial-*", backup.DataFile))
				if len(found) == 1 {
					partial = filepath.Dir(found[0])
				}
			}
			cmd.Process.Kill()
			cmd.Wait()
			os.Remove(cpFile)
			if err := os.WriteFile(cpFile, saved, 0o600); err != nil {
				t.Fatal(err)
			}
			if partial == "" {
				t.Fatalf("the second backup never got going:\n%s", childErr.String())
			}

			listed, err := backup.List(backups)
			if err != nil || len(listed) != 1 || listed[0] != firstPath {
				t.Fatalf("backups after the kill: %v %v (want only %s)", listed, err, firstPath)
			}
			if _, err := os.Stat(filepath.Join(partial, backup.ManifestFile)); err == nil {
				t.Fatalf("the killed backup %s has a manifest", partial)
			}
			if out := cli("backup", "verify", firstPath); !strings.Contains(out, "OK: the backup restores") {
				t.Fatalf("verify of the earlier backup: %s", out)
			}
			var vout, verr bytes.Buffer
			if err := run(ctx, append([]string{"backup", "verify", partial}, args...), noEnv, &vout, &verr); err == nil {
				t.Fatalf("the killed backup verified:\n%s", vout.String())
			}

			// The next backup works, and restores into a new directory with
			// the current keys.
			next := cli("backup", "-to", backups)
			nextPath := regexp.MustCompile(`backup (\S+):`).FindStringSubmatch(next)[1]
			target := testdb.Options(t, d)
			restoreArgs := append([]string{"restore", "-from", nextPath, "-data-dir", target.Dir, "-audit-dir", filepath.Join(t.TempDir(), "audit")},
				keyFlagsWithout(keys, "-audit-dir")...)
			if target.URL != "" {
				restoreArgs = append(restoreArgs, "-database", target.URL)
			}
			restoreArgs = append(restoreArgs, "-backup-identity-file", idFile)
			var rout, rerr bytes.Buffer
			if err := run(ctx, restoreArgs, noEnv, &rout, &rerr); err != nil {
				t.Fatalf("restore: %v\n%s\n%s", err, rout.String(), rerr.String())
			}
			if !strings.Contains(rout.String(), "counts and checksums match") || !strings.Contains(rout.String(), "OK") {
				t.Fatalf("restore said:\n%s", rout.String())
			}
			// A second restore into the same place is refused.
			rout.Reset()
			if err := run(ctx, restoreArgs, noEnv, &rout, &rerr); err == nil || !strings.Contains(err.Error(), "not empty") {
				t.Fatalf("a restore into a database that holds one: %v", err)
			}
		})
	}
}

// backupIdentity makes a backup identity in dir with custos backup keygen
// and returns its file and the recipient the command printed.
func backupIdentity(t *testing.T, dir string) (idFile, recipient string) {
	t.Helper()
	idFile = filepath.Join(dir, "backup.key")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"backup", "keygen", "-out", idFile}, noEnv, &out, &out); err != nil {
		t.Fatal(err)
	}
	return idFile, regexp.MustCompile(`age1[0-9a-z]+`).FindString(out.String())
}

// keyFlagsWithout is keyFlags(dir) without one flag and its value.
func keyFlagsWithout(dir, flag string) []string {
	all := keyFlags(dir)
	var out []string
	for i := 0; i < len(all); i += 2 {
		if all[i] != flag {
			out = append(out, all[i], all[i+1])
		}
	}
	return out
}

// TestBackupBeforeMigrate: migrate on a database that holds data and has a
// migration pending backs up first and says where; the backup holds the
// old schema, and restores (then migrates) into a new database.
func TestBackupBeforeMigrate(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			args, opt, keys := serveArgs(t, d)
			var out, errb bytes.Buffer
			if err := run(ctx, append([]string{"demo", "-customers", "2", "-password", "demo-password-7"}, args...), noEnv, &out, &errb); err != nil {
				t.Fatalf("demo: %v\n%s", err, errb.String())
			}
			// Migration 38 is pending again, as before an upgrade.
			raw := testdb.Raw(t, d, opt)
			if _, err := raw.Exec("DROP TABLE backup_runs"); err != nil {
				t.Fatal(err)
			}
			if _, err := raw.Exec("DELETE FROM schema_migrations WHERE version = 38"); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			idFile, recipient := backupIdentity(t, dir)
			backups := filepath.Join(dir, "backups")
			out.Reset()
			errb.Reset()
			if err := run(ctx, append([]string{"migrate", "-backup-dir", backups, "-backup-recipient", recipient}, args...), noEnv, &out, &errb); err != nil {
				t.Fatalf("migrate: %v\n%s", err, errb.String())
			}
			listed, _ := backup.List(backups)
			if len(listed) != 1 || !strings.Contains(errb.String(), "backed up the database before applying schema migrations") || !strings.Contains(errb.String(), listed[0]) {
				t.Fatalf("backups %v; migrate said:\n%s", listed, errb.String())
			}
			b, err := backup.Open(listed[0], mustAuditKeys(t, filepath.Join(keys, "audit.key")))
			// Taken before migration 38 was applied again: its list lacks it.
			if err != nil || slices.Contains(b.Manifest.Migrations, 38) {
				t.Fatalf("the backup before migrating: %v %+v", err, b)
			}
			var n int
			if err := raw.QueryRow("SELECT COUNT(*) FROM backup_runs").Scan(&n); err != nil || n != 1 {
				t.Fatalf("backup history after migrating: %d %v", n, err)
			}
			// Nothing pending: no second backup.
			if err := run(ctx, append([]string{"migrate", "-backup-dir", backups, "-backup-recipient", recipient}, args...), noEnv, &out, &errb); err != nil {
				t.Fatal(err)
			}
			if listed, _ := backup.List(backups); len(listed) != 1 {
				t.Fatalf("a backup without pending migrations: %v", listed)
			}
			// The old schema's backup restores into this Custos's schema.
			target := testdb.Options(t, d)
			restoreArgs := append([]string{"restore", "-from", listed[0], "-data-dir", target.Dir, "-audit-dir", filepath.Join(t.TempDir(), "audit"),
				"-backup-identity-file", idFile}, keyFlagsWithout(keys, "-audit-dir")...)
			if target.URL != "" {
				restoreArgs = append(restoreArgs, "-database", target.URL)
			}
			out.Reset()
			if err := run(ctx, restoreArgs, noEnv, &out, &errb); err != nil {
				t.Fatalf("restore of the old schema's backup: %v\n%s", err, errb.String())
			}
		})
	}
}

func mustAuditKeys(t *testing.T, path string) *audit.Keys {
	t.Helper()
	k, err := audit.LoadKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestBackupCommandsS3: backup -to s3://…, backup with -backup-s3 alone,
// verify and restore from the bucket, as an operator would; wrong keys give
// a clear error that does not repeat the secret; bad S3 settings are
// refused naming the setting.
func TestBackupCommandsS3(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			args, _, keys := serveArgs(t, d)
			s3 := tests3.Start(t)
			env := s3.Env()
			getenv := func(k string) string { return env[k] }
			runCLI := func(cmd ...string) (string, string, error) {
				var out, errb bytes.Buffer
				err := run(ctx, append(cmd, args...), getenv, &out, &errb)
				return out.String(), errb.String(), err
			}
			cli := func(cmd ...string) string {
				t.Helper()
				out, errs, err := runCLI(cmd...)
				if err != nil {
					t.Fatalf("%v: %v\nstdout:\n%s\nstderr:\n%s", cmd, err, out, errs)
				}
				return out
			}
			cli("demo", "-customers", "3", "-password", "demo-password-7")
			cli("audit", "seal")
			idFile := filepath.Join(t.TempDir(), "backup.key")
			var kout bytes.Buffer
			if err := run(ctx, []string{"backup", "keygen", "-out", idFile}, noEnv, &kout, &kout); err != nil {
				t.Fatal(err)
			}
			args = append(args, "-backup-recipient", regexp.MustCompile(`age1[0-9a-z]+`).FindString(kout.String()), "-backup-identity-file", idFile)

			out := cli("backup", "-to", s3.Location("cli"))
			first := regexp.MustCompile(`backup (s3://\S+):`).FindStringSubmatch(out)
			if first == nil || !strings.HasPrefix(first[1], s3.Location("cli")+"/custos-") {
				t.Fatalf("backup -to s3 said:\n%s", out)
			}
			// -backup-s3 alone: made in a temporary directory, uploaded.
			out = cli("backup", "-backup-s3", s3.Location("scheduled"))
			if !strings.Contains(out, "backup "+s3.Location("scheduled")+"/custos-") {
				t.Fatalf("backup with -backup-s3 said:\n%s", out)
			}
			if out := cli("backup", "verify", s3.Location("cli")); !strings.Contains(out, "OK: the backup restores") || !strings.Contains(out, first[1]) {
				t.Fatalf("verify from the bucket:\n%s", out)
			}
			target := testdb.Options(t, d)
			restoreArgs := append([]string{"restore", "-from", first[1], "-data-dir", target.Dir, "-audit-dir", filepath.Join(t.TempDir(), "audit"),
				"-backup-identity-file", idFile}, keyFlagsWithout(keys, "-audit-dir")...)
			if target.URL != "" {
				restoreArgs = append(restoreArgs, "-database", target.URL)
			}
			var rout, rerr bytes.Buffer
			if err := run(ctx, restoreArgs, getenv, &rout, &rerr); err != nil || !strings.Contains(rout.String(), "restored "+first[1]) {
				t.Fatalf("restore from the bucket: %v\n%s\n%s", err, rout.String(), rerr.String())
			}

			// Wrong keys: refused by the service, said plainly, the secret
			// nowhere.
			env["CUSTOS_BACKUP_S3_ACCESS_KEY"], env["CUSTOS_BACKUP_S3_SECRET_KEY"] = "AKIAWRONG", "wrong-secret-1a2b3c4d5e"
			out, errs, err := runCLI("backup", "-to", s3.Location("cli"))
			if err == nil || !strings.Contains(err.Error(), "Access Key Id") || !strings.Contains(err.Error(), s3.Location("cli")) {
				t.Fatalf("a backup with wrong keys: %v", err)
			}
			for _, text := range []string{err.Error(), out, errs} {
				if strings.Contains(text, "wrong-secret-1a2b3c4d5e") || strings.Contains(text, s3.SecretKey) {
					t.Fatalf("the secret in the output: %s", text)
				}
			}

			// Bad settings name the setting and never repeat a secret.
			env["CUSTOS_BACKUP_S3_SECRET_KEY"] = s3.SecretKey
			for _, c := range []struct {
				flags []string
				want  string
			}{
				{[]string{"-backup-s3", "s3://Not_A_Bucket/x"}, "backup-s3"},
				{[]string{"-backup-s3", "s3://AKIA:hunter2secret@bucket/x"}, "must not hold credentials"},
				{[]string{"-backup-s3", "https://bucket/x"}, "s3://bucket/prefix"},
				{[]string{"-backup-s3", s3.Location("x"), "-backup-s3-endpoint", "https://" + s3.Endpoint}, "backup-s3-endpoint"},
			} {
				_, _, err := runCLI(append([]string{"backup"}, c.flags...)...)
				if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "hunter2secret") {
					t.Errorf("%v: %v (want %q)", c.flags, err, c.want)
				}
			}
			delete(env, "CUSTOS_BACKUP_S3_SECRET_KEY")
			if _, _, err := runCLI("backup", "-backup-s3", s3.Location("x")); err == nil || !strings.Contains(err.Error(), "CUSTOS_BACKUP_S3_SECRET_KEY") {
				t.Errorf("no secret key: %v", err)
			}
		})
	}
}
