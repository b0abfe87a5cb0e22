package service_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"custos/internal/access"
	"custos/internal/audit"
	bk "custos/internal/backup"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// backupWorld is an organisation with audit keys and an audit directory,
// as serve has them, and an age identity for its backups.
type backupWorld struct {
	*testorg.Org
	d        store.Dialect
	keys     *audit.Keys
	auditDir string
	dir      string // where backups go
	id       *age.X25519Identity
}

func newBackupWorld(t *testing.T, d store.Dialect, db *store.DB) *backupWorld {
	t.Helper()
	tmp := t.TempDir()
	keys, _, err := audit.LoadOrCreateKeys(filepath.Join(tmp, "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	o := testorg.NewWith(t, db, service.Options{AuditKeys: keys, Argon2: testorg.CheapArgon})
	if err := service.BindKeys(context.Background(), db, o.Vault, keys); err != nil {
		t.Fatal(err)
	}
	return &backupWorld{Org: o, d: d, keys: keys, auditDir: filepath.Join(tmp, "audit"), dir: filepath.Join(tmp, "backups"), id: id}
}

// seal seals the trail into the audit directory, as serve does.
func (w *backupWorld) seal(t *testing.T) {
	t.Helper()
	if _, err := (&audit.Sealer{DB: w.DB, Keys: w.keys, Dir: w.auditDir}).SealOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (w *backupWorld) backup(t *testing.T) (string, *bk.Manifest) {
	t.Helper()
	path, m, err := w.Svc.CreateBackup(context.Background(), w.Admin, service.BackupOptions{Dir: w.dir, AuditDir: w.auditDir,
		Recipients: []age.Recipient{w.id.Recipient()}, Version: "test"})
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	return path, m
}

func (w *backupWorld) drill(t *testing.T, path string, ids ...age.Identity) (service.DrillReport, error) {
	t.Helper()
	if len(ids) == 0 {
		ids = []age.Identity{w.id}
	}
	return w.Svc.DrillBackup(context.Background(), w.Admin, service.DrillOptions{From: path, Identities: ids,
		Scratch: testdb.Options(t, w.d), ScratchAuditDir: filepath.Join(t.TempDir(), "audit"), Sample: 20})
}

func (w *backupWorld) restore(t *testing.T, path string) (*store.DB, service.RestoreReport) {
	t.Helper()
	target := testdb.Options(t, w.d)
	db, r, err := service.RestoreBackup(context.Background(), service.RestoreOptions{From: path, Target: target,
		AuditDir: filepath.Join(t.TempDir(), "audit"), Identities: []age.Identity{w.id}, AuditKeys: w.keys, Vault: w.Vault, Actor: "test restore"})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db, r
}

func (w *backupWorld) people(t *testing.T) (crm.Contact, crm.Lead) {
	t.Helper()
	ctx := context.Background()
	cust := w.Customer(t, w.Rep1, crm.CustomerFields{Name: "备份测试有限公司"})
	c, err := w.Svc.CreateContact(ctx, w.Rep1, crm.ContactFields{CustomerID: cust.ID, Name: "诸葛亮", Mobile: "13800001111", Email: "kongming@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := w.Svc.CreateLead(ctx, w.Rep1, crm.LeadFields{Name: "周瑜", Company: "东吴", Mobile: "13900002222"})
	if err != nil {
		t.Fatal(err)
	}
	return c, l
}

// TestBackupRestoreAndDrill: a backup restores into an empty database of the
// same dialect with every row, its personal data opens with the current key
// store, its trail verifies in the restored audit directory, and a drill
// says so; a target that holds anything is refused.
func TestBackupRestoreAndDrill(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newBackupWorld(t, db.Dialect(), db)
		contact, _ := w.people(t)
		w.seal(t)
		path, m := w.backup(t)
		if m.Schema == 0 || m.Rows() == 0 || m.Audit.Sealed == 0 || m.Audit.Checkpoint == 0 || m.DatabaseID == "" {
			t.Fatalf("manifest: %+v", m)
		}
		if got, _ := bk.List(w.dir); len(got) != 1 || got[0] != path {
			t.Fatalf("backups listed: %v", got)
		}
		r, err := w.drill(t, path)
		if err != nil {
			t.Fatalf("drill: %v", err)
		}
		if r.Sampled < 2 || r.Rows != m.Rows() || !r.Audit.OK() {
			t.Fatalf("drill report: %+v", r)
		}

		restored, rr := w.restore(t, path)
		if rr.Erased != 0 || rr.Rows != m.Rows() {
			t.Fatalf("restore report: %+v", rr)
		}
		svc := service.New(restored, service.Options{AuditKeys: w.keys, Vault: w.Vault, Argon2: testorg.CheapArgon})
		rep1 := testorg.Actor(t, svc, w.Rep1.UserID)
		got, err := svc.GetContact(ctx, rep1, contact.ID)
		if err != nil || got.Name != "诸葛亮" || got.Mobile != contact.Mobile {
			t.Fatalf("restored contact: %v %+v", err, got.ContactFields)
		}
		// The restored database goes on: new records get new ids.
		more, err := svc.CreateContact(ctx, rep1, crm.ContactFields{CustomerID: contact.CustomerID, Name: "赵云"})
		if err != nil || more.ID <= contact.ID {
			t.Fatalf("a contact after the restore: %v %d", err, more.ID)
		}

		// The drill and the backup are in the live trail.
		events, err := w.Svc.AuditTrail(ctx, w.Admin, service.AuditQuery{Action: "backup.drill"})
		if err != nil || len(events.Items) != 1 || events.Items[0].Outcome != "ok" {
			t.Fatalf("drill event: %v %+v", err, events.Items)
		}

		// A target that holds anything is refused.
		target := testdb.Options(t, w.d)
		if target.Dir != "" {
			os.WriteFile(filepath.Join(target.Dir, "something"), []byte("x"), 0o600)
		} else if pre, err := store.Open(ctx, target); err != nil {
			t.Fatal(err)
		} else {
			pre.Close()
		}
		_, _, err = service.RestoreBackup(ctx, service.RestoreOptions{From: path, Target: target, AuditDir: filepath.Join(t.TempDir(), "a"),
			Identities: []age.Identity{w.id}, AuditKeys: w.keys, Vault: w.Vault})
		if err == nil || !strings.Contains(err.Error(), "not empty") {
			t.Fatalf("restore into a database that holds something: %v", err)
		}
		// Only administrators back up.
		if _, _, err := w.Svc.CreateBackup(ctx, w.Rep1, service.BackupOptions{Dir: w.dir, Recipients: []age.Recipient{w.id.Recipient()}}); !crm.IsCode(err, crm.Forbidden) {
			t.Fatalf("a sales rep backed up: %v", err)
		}
	})
}

// TestBackupDrillDetects: a flipped byte, a cut file, the wrong identity
// and a forged manifest each fail the drill.
func TestBackupDrillDetects(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		w := newBackupWorld(t, db.Dialect(), db)
		w.people(t)
		w.seal(t)
		path, _ := w.backup(t)
		copyOf := func(t *testing.T) string {
			t.Helper()
			dst := filepath.Join(t.TempDir(), filepath.Base(path))
			if err := os.CopyFS(dst, os.DirFS(path)); err != nil {
				t.Fatal(err)
			}
			return dst
		}
		data := func(p string) string { return filepath.Join(p, bk.DataFile) }
		manifest := func(p string) string { return filepath.Join(p, bk.ManifestFile) }
		other, _ := age.GenerateX25519Identity()
		forger, _, err := audit.LoadOrCreateKeys(filepath.Join(t.TempDir(), "forger.key"))
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name   string
			change func(t *testing.T, p string)
			ids    []age.Identity
			want   string
		}{
			{"flipped byte", func(t *testing.T, p string) {
				b, _ := os.ReadFile(data(p))
				b[len(b)/2] ^= 0x01
				os.WriteFile(data(p), b, 0o600)
			}, nil, "does not match the SHA-256"},
			{"truncated file", func(t *testing.T, p string) {
				b, _ := os.ReadFile(data(p))
				os.WriteFile(data(p), b[:len(b)-100], 0o600)
			}, nil, "was cut"},
			{"wrong recipient key", nil, []age.Identity{other}, "none of the identities"},
			{"manifest edited", func(t *testing.T, p string) {
				b, _ := os.ReadFile(manifest(p))
				os.WriteFile(manifest(p), []byte(strings.Replace(string(b), `"rows":`, `"rows":1`, 1)), 0o600)
			}, nil, "not genuine"},
			{"manifest forged with another key", func(t *testing.T, p string) {
				b, _ := os.ReadFile(manifest(p))
				text, _, _ := strings.Cut(string(b), "\n\n")
				signed, err := forger.SignNote(text + "\n")
				if err != nil {
					t.Fatal(err)
				}
				os.WriteFile(manifest(p), signed, 0o600)
			}, nil, "not genuine"},
			{"data from another backup", func(t *testing.T, p string) {
				// another backup, with one more row
				if _, err := w.Svc.CreateLead(context.Background(), w.Rep1, crm.LeadFields{Name: "鲁肃", Company: "临淮商行"}); err != nil {
					t.Fatal(err)
				}
				second, _ := w.backup(t)
				b, _ := os.ReadFile(data(second))
				os.WriteFile(data(p), b, 0o600)
			}, nil, "manifest"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				p := copyOf(t)
				if c.change != nil {
					c.change(t, p)
				}
				_, err := w.drill(t, p, c.ids...)
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("drill: %v, want an error containing %q", err, c.want)
				}
			})
		}
		// The untouched backup still passes.
		if _, err := w.drill(t, path); err != nil {
			t.Fatalf("drill of the untouched backup: %v", err)
		}
	})
}

// TestRestoreKeepsErasure: a person erased after the backup stays erased
// in the restored database (the current key store's tombstones), and the
// drill counts them as erased rather than failing.
func TestRestoreKeepsErasure(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newBackupWorld(t, db.Dialect(), db)
		contact, lead := w.people(t)
		w.seal(t)
		path, _ := w.backup(t)
		w.StepUp(t, w.Admin)
		if _, err := w.Svc.ErasePerson(ctx, w.Admin, crm.ObjContact, contact.ID); err != nil {
			t.Fatal(err)
		}
		restored, r := w.restore(t, path)
		if r.Erased == 0 {
			t.Fatalf("restore erased nobody again: %+v", r)
		}
		svc := service.New(restored, service.Options{AuditKeys: w.keys, Vault: w.Vault, Argon2: testorg.CheapArgon})
		if got, err := svc.GetContact(ctx, access.System("test"), contact.ID); err == nil && (got.Name != "" || got.Mobile != "") {
			t.Fatalf("the erased contact came back: %+v", got.ContactFields)
		}
		if got, err := svc.GetLead(ctx, testorg.Actor(t, svc, w.Rep1.UserID), lead.ID); err != nil || got.Name != "周瑜" {
			t.Fatalf("another person after the restore: %v %+v", err, got.LeadFields)
		}
		if _, err := w.drill(t, path); err != nil {
			t.Fatalf("drill after an erasure: %v", err)
		}
	})
}

// TestBackupDuringWrites: a backup taken while contacts are being created
// holds every contact whose creation was acknowledged before it began.
func TestBackupDuringWrites(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newBackupWorld(t, db.Dialect(), db)
		cust := w.Customer(t, w.Rep1, crm.CustomerFields{Name: "写入中有限公司"})
		var mu sync.Mutex
		var acked []int64
		stop := make(chan struct{})
		done := make(chan error, 2)
		for g := range 2 {
			go func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						done <- nil
						return
					default:
					}
					c, err := w.Svc.CreateContact(ctx, w.Rep1, crm.ContactFields{CustomerID: cust.ID, Name: "并发" + string(rune('甲'+g)) + string(rune('一'+i%20))})
					if err != nil {
						done <- err
						return
					}
					mu.Lock()
					acked = append(acked, c.ID)
					mu.Unlock()
				}
			}()
		}
		// Let some writes land, then back up while they go on.
		for {
			mu.Lock()
			n := len(acked)
			mu.Unlock()
			if n >= 30 {
				break
			}
			runtime.Gosched()
		}
		mu.Lock()
		before := append([]int64(nil), acked...)
		mu.Unlock()
		path, _ := w.backup(t)
		close(stop)
		for range 2 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		restored, _ := w.restore(t, path)
		svc := service.New(restored, service.Options{AuditKeys: w.keys, Vault: w.Vault, Argon2: testorg.CheapArgon})
		rep1 := testorg.Actor(t, svc, w.Rep1.UserID)
		for _, id := range before {
			if _, err := svc.GetContact(ctx, rep1, id); err != nil {
				t.Fatalf("contact %d, acknowledged before the backup began, is not in it: %v", id, err)
			}
		}
	})
}

// TestRestoreOlderBackupAuditDir is the rule for an older backup's audit
// directory: a restore gets the trail as the backup's snapshot saw it —
// the checkpoints up to the snapshot's newest and the archive segments it
// records, nothing the sealer or the archiver wrote later — so the
// restored database verifies in its own audit directory. Verified against
// the newer directory of the database it replaces, it departs from it
// after the backup's head (truncated, or rewritten from there on by what
// the restored database sealed since), and must: that directory proves
// events after the backup.
// A checkpoint committed but not yet appended to the file when the backup
// read it is added, as the sealer's next seal would.
func TestRestoreOlderBackupAuditDir(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newBackupWorld(t, db.Dialect(), db)
		archive := func() {
			t.Helper()
			a := &audit.Archiver{DB: w.DB, Keys: w.keys, Dir: w.auditDir, Logger: slog.New(slog.DiscardHandler), Actor: "test"}
			if rep, err := a.Archive(ctx, time.Now().Add(time.Second)); err != nil || len(rep.Segments) == 0 {
				t.Fatalf("archive: %v %+v", err, rep)
			}
		}
		w.people(t)
		w.seal(t)
		archive()
		w.Customer(t, w.Rep1, crm.CustomerFields{Name: "归档之后有限公司"})
		w.seal(t)
		// The file lacks the newest checkpoint, as when the backup reads it
		// between the sealer's commit and its append.
		file := filepath.Join(w.auditDir, audit.CheckpointFile)
		b, _ := os.ReadFile(file)
		lines := strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
		os.WriteFile(file, []byte(strings.Join(lines[:len(lines)-1], "")), 0o600)
		path, m := w.backup(t)
		os.WriteFile(file, b, 0o600)

		// Later: more events, checkpoints and a second segment.
		w.Customer(t, w.Rep1, crm.CustomerFields{Name: "备份之后有限公司"})
		w.seal(t)
		archive()

		restored, r := w.restore(t, path)
		if !r.Audit.OK() || r.Audit.Segments != len(m.Audit.Segments) || r.Audit.Segments != 1 {
			t.Fatalf("restored trail: %+v (backup's segments %v)", r.Audit, m.Audit.Segments)
		}
		rep, err := audit.Verify(ctx, restored, w.keys, w.auditDir)
		if err != nil {
			t.Fatal(err)
		}
		// It departs from that directory after the backup's head, never
		// before: what the backup holds is the trail as it was.
		if len(rep.Problems) == 0 {
			t.Fatal("the restored database verified against the newer audit directory")
		}
		for _, p := range rep.Problems {
			if p.Seq <= m.Audit.Sealed {
				t.Errorf("a finding at log position %d, before the backup's head %d: %s", p.Seq, m.Audit.Sealed, p)
			}
		}
	})
}

// TestBackupSchedule: serve's schedule backs up when due and not before,
// into every destination, keeps the retention, drills, records each run in
// the history, and raises an alert when a backup fails and when none
// succeeded for twice the period.
func TestBackupSchedule(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
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
		plan := service.BackupSchedule{
			BackupOptions: service.BackupOptions{Dir: filepath.Join(tmp, "a"), AuditDir: filepath.Join(tmp, "audit"), Recipients: []age.Recipient{id.Recipient()}},
			Copies:        []bk.Destination{bk.Dir(filepath.Join(tmp, "b"))}, Every: 24 * time.Hour, Keep: bk.Keep{Daily: 3}, Holder: "test",
			DrillEvery: 7 * 24 * time.Hour, Identities: []age.Identity{id},
		}
		if db.Dialect() == store.Postgres {
			plan.DatabaseURL = os.Getenv(testdb.EnvPostgres)
		}
		run, err := o.Svc.RunBackupSchedule(ctx, plan)
		if err != nil || run.Backup == "" || run.Drilled != run.Backup {
			t.Fatalf("first run: %v %+v", err, run)
		}
		if run, err := o.Svc.RunBackupSchedule(ctx, plan); err != nil || run.Backup != "" || run.Drilled != "" {
			t.Fatalf("a run before the next is due: %v %+v", err, run)
		}
		for range 4 {
			clock.Advance(24 * time.Hour)
			if run, err := o.Svc.RunBackupSchedule(ctx, plan); err != nil || run.Backup == "" {
				t.Fatalf("a daily run: %v %+v", err, run)
			}
		}
		for _, dir := range []string{plan.Dir, plan.Copies[0].String()} {
			if got, _ := bk.List(dir); len(got) != 3 {
				t.Errorf("%s holds %d backups, want the 3 the retention keeps", dir, len(got))
			}
		}

		// A destination that cannot be written: the backup fails, an alert
		// is raised; days later, a second one says none succeeded.
		broken := plan
		broken.Dir = filepath.Join(tmp, "file")
		os.WriteFile(broken.Dir, []byte("not a directory"), 0o600)
		clock.Advance(24 * time.Hour)
		if run, err := o.Svc.RunBackupSchedule(ctx, broken); err == nil || !slices.Contains(run.Alerts, "backup_failed") {
			t.Fatalf("a failing backup: %v %+v", err, run)
		}
		clock.Advance(48 * time.Hour)
		run, _ = o.Svc.RunBackupSchedule(ctx, broken)
		if !slices.Contains(run.Alerts, "backup_late") {
			t.Fatalf("no alert for a late backup: %+v", run)
		}
		alerts, err := o.Svc.SecurityAlerts(ctx, o.Admin, "open")
		if err != nil {
			t.Fatal(err)
		}
		rules := map[string]bool{}
		for _, al := range alerts {
			rules[al.Rule] = true
		}
		if !rules["backup_failed"] || !rules["backup_late"] {
			t.Fatalf("alerts on the security page: %+v", alerts)
		}
		history, err := o.Svc.BackupHistory(ctx, o.Admin, 50)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, r := range history {
			kinds[r.Kind+" "+r.Outcome]++
		}
		if kinds["backup ok"] != 5 || kinds["drill ok"] < 1 || kinds["backup error"] < 1 || len(history[len(history)-1].Copies) != 1 {
			t.Fatalf("history: %v", kinds)
		}
	})
}
