package service_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"custos/internal/audit"
	bk "custos/internal/backup"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
	"custos/internal/tests3"
)

// s3World is an organisation on a test clock with an S3-compatible
// server beside it.
type s3World struct {
	*testorg.Org
	clock *testorg.Clock
	s3    *tests3.Server
	plan  service.BackupSchedule
	tmp   string
}

func newS3World(t *testing.T, db *store.DB) *s3World {
	t.Helper()
	ctx := context.Background()
	clock := testorg.NewClock()
	tmp := t.TempDir()
	keys, _, err := audit.LoadOrCreateKeys(filepath.Join(tmp, "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	o := testorg.NewWith(t, db, service.Options{AuditKeys: keys, Argon2: testorg.CheapArgon, Now: clock.Now})
	if err := service.BindKeys(ctx, db, o.Vault, keys); err != nil {
		t.Fatal(err)
	}
	id, _ := age.GenerateX25519Identity()
	w := &s3World{Org: o, clock: clock, s3: tests3.Start(t), tmp: tmp}
	w.plan = service.BackupSchedule{
		BackupOptions: service.BackupOptions{AuditDir: filepath.Join(tmp, "audit"), Recipients: []age.Recipient{id.Recipient()}},
		Every:         24 * time.Hour, Keep: bk.Keep{Daily: 3}, Holder: "test", DrillEvery: 7 * 24 * time.Hour, Identities: []age.Identity{id},
	}
	if db.Dialect() == store.Postgres {
		w.plan.DatabaseURL = os.Getenv(testdb.EnvPostgres)
	}
	return w
}

// objects lists every key in the bucket.
func (w *s3World) objects(t *testing.T, prefix string) []string {
	t.Helper()
	d := w.s3.Destination(t, prefix)
	names, err := d.Leftovers(context.Background(), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	complete, err := d.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return append(names, complete...)
}

// TestBackupScheduleS3: serve's schedule backs up into a bucket and a
// directory, keeps the retention in both, and drills the newest backup
// from the bucket (downloaded into scratch); the history names the
// bucket's backup.
func TestBackupScheduleS3(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newS3World(t, db)
		bucket := w.s3.Destination(t, "daily")
		plan := w.plan
		plan.Copies = []bk.Destination{bucket, bk.Dir(filepath.Join(w.tmp, "copy"))}
		run, err := w.Svc.RunBackupSchedule(ctx, plan)
		if err != nil || !strings.HasPrefix(run.Backup, w.s3.Location("daily")+"/custos-") || run.Drilled != run.Backup {
			t.Fatalf("first run: %v %+v", err, run)
		}
		for range 4 {
			w.clock.Advance(24 * time.Hour)
			if run, err := w.Svc.RunBackupSchedule(ctx, plan); err != nil || run.Backup == "" {
				t.Fatalf("a daily run: %v %+v", err, run)
			}
		}
		for _, d := range plan.Copies {
			if got, err := d.List(ctx); err != nil || len(got) != 3 {
				t.Errorf("%s holds %v (%v), want the 3 the retention keeps", d, got, err)
			}
		}
		if got := w.objects(t, "daily"); len(got) != 3 {
			t.Errorf("the bucket holds %v besides the 3 backups kept", got)
		}
		history, err := w.Svc.BackupHistory(ctx, w.Admin, 50)
		if err != nil {
			t.Fatal(err)
		}
		var drills int
		for _, r := range history {
			if !strings.HasPrefix(r.Path, w.s3.Location("daily")+"/custos-") || r.Outcome != "ok" {
				t.Errorf("history: %+v", r)
			}
			if r.Kind == "drill" {
				drills++
			}
		}
		if drills != 1 || len(history) != 6 {
			t.Errorf("history of %d runs, %d drills", len(history), drills)
		}
	})
}

// TestBackupS3UploadFails: an upload that fails half-way — the data
// uploaded and the manifest refused, the data refused, the server gone —
// leaves nothing in the bucket that looks like a backup, fails the run
// with the bucket named in the history, and raises the backup alert.
func TestBackupS3UploadFails(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newS3World(t, db)
		plan := w.plan
		plan.Dir = filepath.Join(w.tmp, "local")
		plan.Copies = []bk.Destination{w.s3.Destination(t, "cut")}
		plan.DrillEvery = 0
		putOf := func(file string) func(r *http.Request) bool {
			return func(r *http.Request) bool {
				return r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/"+file)
			}
		}
		var alerts []string
		for i, fail := range []func(){
			func() { w.s3.FailWhen(putOf(bk.ManifestFile)) },
			func() { w.s3.FailWhen(putOf(bk.DataFile)) },
			func() { w.s3.FailWhen(nil); w.s3.Close() },
		} {
			fail()
			w.clock.Advance(time.Hour) // past the pause before a retry
			run, err := w.Svc.RunBackupSchedule(ctx, plan)
			if err == nil || !strings.Contains(err.Error(), w.s3.Location("cut")) {
				t.Fatalf("case %d: the run did not fail naming the bucket: %v", i, err)
			}
			alerts = append(alerts, run.Alerts...)
			if i < 2 {
				if got := w.objects(t, "cut"); len(got) != 0 {
					t.Errorf("case %d: the bucket holds %v after a failed upload", i, got)
				}
			}
		}
		if !slices.Contains(alerts, "backup_failed") {
			t.Fatalf("no backup alert: %v", alerts)
		}
		history, err := w.Svc.BackupHistory(ctx, w.Admin, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(history) != 3 {
			t.Fatalf("history of %d runs", len(history))
		}
		for _, r := range history {
			if r.Outcome != "error" || !strings.Contains(r.Detail, w.s3.Location("cut")) {
				t.Errorf("history: %+v", r)
			}
		}
	})
}

// TestRestoreAndDrillFromS3: a backup uploaded to a bucket (made in a
// temporary directory, nothing kept locally) restores from the bucket
// with every row and drills from it; the restore's event names the bucket.
func TestRestoreAndDrillFromS3(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newBackupWorld(t, db.Dialect(), db)
		contact, _ := w.people(t)
		w.seal(t)
		s3 := tests3.Start(t)
		bucket := s3.Destination(t, "team/custos")
		path, m, err := w.Svc.CreateBackup(ctx, w.Admin, service.BackupOptions{AuditDir: w.auditDir,
			Recipients: []age.Recipient{w.id.Recipient()}, Version: "test"}, bucket)
		if err != nil || !strings.HasPrefix(path, s3.Location("team/custos")+"/custos-") {
			t.Fatalf("backup to the bucket: %q %v", path, err)
		}
		d, name, err := bk.Locate(ctx, s3.Location("team/custos"), s3.Config()) // the newest
		if err != nil || d.Where(name) != path {
			t.Fatalf("locate: %v %v", d.Where(name), err)
		}
		local, err := d.Get(ctx, name, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		restored, r, err := service.RestoreBackup(ctx, service.RestoreOptions{From: local, Source: path, Target: testdb.Options(t, w.d),
			AuditDir: filepath.Join(t.TempDir(), "audit"), Identities: []age.Identity{w.id}, AuditKeys: w.keys, Vault: w.Vault, Actor: "test restore"})
		if err != nil {
			t.Fatalf("restore from the bucket: %v", err)
		}
		defer restored.Close()
		if r.Rows != m.Rows() || !r.Audit.OK() {
			t.Fatalf("restored %d rows of %d, audit %+v", r.Rows, m.Rows(), r.Audit)
		}
		svc := service.New(restored, service.Options{AuditKeys: w.keys, Vault: w.Vault})
		got, err := svc.GetContact(ctx, testorg.Actor(t, svc, w.Rep1.UserID), contact.ID)
		if err != nil || got.Mobile != contact.Mobile {
			t.Fatalf("the restored contact: %+v %v", got, err)
		}
		databaseURL := ""
		if w.d == store.Postgres {
			databaseURL = os.Getenv(testdb.EnvPostgres)
		}
		dr, err := w.Svc.ScratchDrill(ctx, w.Admin, d, name, []age.Identity{w.id}, databaseURL, "", 10)
		if err != nil || dr.Rows == 0 || dr.Sampled == 0 {
			t.Fatalf("drill from the bucket: %+v %v", dr, err)
		}
		if _, err := w.Svc.ScratchDrill(ctx, w.Admin, d, "custos-20000101T000000.000Z", []age.Identity{w.id}, databaseURL, "", 10); err == nil ||
			!strings.Contains(err.Error(), s3.Location("team/custos")+"/custos-20000101T000000.000Z") {
			t.Fatalf("a drill of a backup the bucket lacks: %v", err)
		}
	})
}
