package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"custos/internal/access"
	"custos/internal/compliance"
	"custos/internal/crm"
	"custos/internal/store"
)

// litestreamVersion is the Litestream the replica test builds from its Go
// module (docs/operations.md names the same).
const litestreamVersion = "v0.5.18"

// litestreamBin builds the real litestream command from its module, once
// per machine: the binary is kept in the user's cache directory, the Go
// build cache keeps its packages.
func litestreamBin(t *testing.T) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "custos-test", "litestream-"+litestreamVersion)
	bin := filepath.Join(dir, "litestream")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	cmd := exec.Command("go", "install", "github.com/benbjohnson/litestream/cmd/litestream@"+litestreamVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+dir)
	cmd.Dir = os.TempDir() // outside this module: litestream's own go.mod decides its dependencies
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building litestream %s from its module: %v\n%s", litestreamVersion, err, out)
	}
	return bin
}

// replicaCustomers restores a replica's newest state with litestream, as an
// operator would, and counts the customers this test made in it (0 while
// the replica holds nothing yet).
func replicaCustomers(t *testing.T, bin, replica string) int {
	t.Helper()
	path := filepath.Join(t.TempDir(), "restored.db")
	if out, err := exec.Command(bin, "restore", "-o", path, replica).CombinedOutput(); err != nil {
		t.Logf("litestream restore: %v: %s", err, bytes.TrimSpace(out))
		return 0
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	// Company names are not sealed: the count needs no key.
	if err := db.QueryRow(`SELECT count(*) FROM customers WHERE name LIKE '复制测试%'`).Scan(&n); err != nil {
		t.Fatalf("count in the restored replica: %v", err)
	}
	return n
}

// TestLitestreamReplica: the real Litestream, built from its Go module,
// replicates a serving Custos's SQLite database continuously; every write
// acknowledged reaches the replica within seconds; after the machine is
// lost (litestream killed, the server gone) the drill restores the replica
// and checks it like a backup, and a backup made from the replica restores
// into a new data directory with every acknowledged write.
func TestLitestreamReplica(t *testing.T) {
	bin := litestreamBin(t)
	ctx := context.Background()
	args, opt, keys := serveArgs(t, store.SQLite)
	srv := launch(t, args...)
	b, _ := signInAdmin(t, srv)

	replica := "file://" + filepath.Join(t.TempDir(), "replica")
	ls := exec.Command(bin, "replicate", filepath.Join(opt.Dir, "custos.db"), replica)
	lsOut := &syncBuffer{}
	ls.Stdout, ls.Stderr = lsOut, lsOut
	if err := ls.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ls.Process.Kill(); ls.Wait() })

	const made = 12
	for i := range made {
		status, loc := b.postForm("/customers/new", "/customers", url.Values{"name": {fmt.Sprintf("复制测试%02d有限公司", i)}, "level": {"B"}})
		if status != http.StatusSeeOther {
			t.Fatalf("customer %d: %d %s", i, status, loc)
		}
	}
	acked := time.Now()
	for deadline := acked.Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		n := replicaCustomers(t, bin, replica)
		if n == made {
			t.Logf("the replica held every acknowledged write %s after the last one", time.Since(acked).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica holds %d of %d acknowledged customers two minutes on; litestream said:\n%s", n, made, lsOut)
		}
	}

	// The machine is lost: litestream dies without a chance to sync, and
	// the server stops.
	ls.Process.Kill()
	ls.Wait()
	srv.stop()

	cli := func(cmd ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if err := run(ctx, cmd, noEnv, &out, &errb); err != nil {
			t.Fatalf("%v: %v\nstdout:\n%s\nstderr:\n%s", cmd, err, out.String(), errb.String())
		}
		return out.String()
	}
	if out := cli(append([]string{"backup", "verify", "-litestream", replica, "-litestream-bin", bin}, args...)...); !strings.Contains(out, "replica "+replica+": restored by litestream") ||
		!strings.Contains(out, "OK: the backup restores") {
		t.Fatalf("drill of the replica:\n%s", out)
	}
	// A replica that does not exist is a failed drill, not an empty success.
	var out, errb bytes.Buffer
	missing := "file://" + filepath.Join(t.TempDir(), "nothing")
	if err := run(ctx, append([]string{"backup", "verify", "-litestream", missing, "-litestream-bin", bin}, args...), noEnv, &out, &errb); err == nil {
		t.Fatalf("a drill of a missing replica passed:\n%s", out.String())
	}

	// serve's scheduled drill of the replica: recorded in the history; a
	// replica that cannot be restored raises the drill_failed alert.
	c, err := parseConfig("serve", args, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c.DrillLitestream, c.LitestreamBin = replica, bin
	app, err := openService(ctx, &c, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := drillReplica(ctx, c, app.svc); err != nil {
		t.Fatalf("scheduled drill of the replica: %v", err)
	}
	sys := access.System("test")
	if runs, err := app.svc.BackupHistory(ctx, sys, 5); err != nil || len(runs) == 0 || runs[0].Kind != crm.BackupKindDrill || runs[0].Outcome != "ok" ||
		runs[0].Path != "Litestream replica "+replica {
		t.Fatalf("history after the scheduled drill: %v %+v", err, runs)
	}
	c.DrillLitestream = missing
	if err := drillReplica(ctx, c, app.svc); err == nil {
		t.Fatal("the scheduled drill of a missing replica passed")
	}
	if runs, err := app.svc.BackupHistory(ctx, sys, 5); err != nil || len(runs) == 0 || runs[0].Outcome == "ok" ||
		runs[0].Path != "Litestream replica "+missing {
		t.Fatalf("history after the failed drill of a missing replica: %v %+v", err, runs)
	}
	alerts, err := app.svc.SecurityAlerts(ctx, sys, "open")
	if err != nil || !slices.ContainsFunc(alerts, func(a crm.SecurityAlert) bool {
		return a.Rule == compliance.AlertDrillFailed && strings.Contains(a.Detail, missing)
	}) {
		t.Fatalf("no drill_failed alert naming the replica: %v %+v", err, alerts)
	}
	app.Close()

	// Recovery: a backup of the replica, restored like any backup.
	dir := t.TempDir()
	idFile, recipient := backupIdentity(t, filepath.Join(dir, "id"))
	made1 := cli(append([]string{"backup", "-from-litestream", replica, "-litestream-bin", bin, "-to", filepath.Join(dir, "backups"),
		"-backup-recipient", recipient}, args...)...)
	path := regexp.MustCompile(`backup (\S+): the replica`).FindStringSubmatch(made1)
	if path == nil {
		t.Fatalf("backup of the replica:\n%s", made1)
	}
	target := filepath.Join(dir, "recovered")
	restored := cli(append([]string{"restore", "-from", path[1], "-data-dir", target, "-audit-dir", filepath.Join(dir, "recovered-audit"),
		"-backup-identity-file", idFile}, keyFlagsWithout(keys, "-audit-dir")...)...)
	if !strings.Contains(restored, "counts and checksums match") || !strings.Contains(restored, "OK") {
		t.Fatalf("restore of the replica's backup:\n%s", restored)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(target, "custos.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM customers WHERE name LIKE '复制测试%' AND deleted_at IS NULL`).Scan(&n); err != nil || n != made {
		t.Fatalf("recovered customers: %d (%v), want %d", n, err, made)
	}
}
