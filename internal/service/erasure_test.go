package service_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestErasureSurvivesRestoredBackup is issue 4's erasure proof: back up the
// data, erase a person (a lead and the contact it became), put the old data
// back and start again — none of the person's fields opens and search does
// not find them, while everyone else is untouched.
func TestErasureSurvivesRestoredBackup(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		lead, err := o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "貂蝉", Company: "吕布商贸", Mobile: "13700007777", Email: "diaochan@example.com",
			Title: "歌舞总监", Notes: "貂蝉说下周再谈"})
		if err != nil {
			t.Fatal(err)
		}
		lead, err = o.Svc.ConvertLead(ctx, o.Rep1, lead.ID, crm.LeadConversion{Version: lead.Version})
		if err != nil {
			t.Fatal(err)
		}
		keep, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "王允", Mobile: "13700008888"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.ErasePerson(ctx, o.Rep1, crm.ObjContact, lead.ContactID); !crm.IsCode(err, crm.Forbidden) {
			t.Fatalf("a sales rep erased a person: %v", err)
		}
		o.StepUp(t, o.Admin) // erasure needs a fresh second factor
		snap, err := o.Svc.SnapshotKeys(ctx, o.Admin)
		if err != nil {
			t.Fatal(err)
		}

		if _, err := o.Svc.GrantConsent(ctx, o.Rep1, crm.ObjContact, lead.ContactID, crm.ConsentInput{Purpose: "marketing", Channel: "sms"}); err != nil {
			t.Fatal(err)
		}

		// The backup: a copy of the data as it is now.
		restore := backup(t, d, opt, db)

		erased, err := o.Svc.ErasePerson(ctx, o.Admin, crm.ObjContact, lead.ContactID)
		if err != nil || len(erased) != 2 {
			t.Fatalf("erase: %v %+v", err, erased)
		}
		checkGone(t, o.Svc, o, lead, "after erasure")
		if held, _ := o.Vault.SnapshotHolds(lead.DataKey); held {
			t.Errorf("snapshot %s still holds the erased key", snap)
		}

		// Put the old data back and start again, as after a restore.
		db = restore()
		svc := service.New(db, service.Options{Vault: o.Vault, Argon2: testorg.CheapArgon})
		if n, err := svc.ReconcileErasures(ctx); err != nil || n != 2 {
			t.Fatalf("reconcile after restore: %d %v", n, err)
		}
		checkGone(t, svc, o, lead, "after restoring the backup")
		// The backup's live consent went with the person.
		if people, err := svc.PeopleWithConsent(ctx, o.Rep1, "marketing", "sms"); err != nil || len(people) != 0 {
			t.Errorf("consenting people after the restore: %v %+v", err, people)
		}
		if cs, err := svc.Consents(ctx, o.Rep1, crm.ObjContact, lead.ContactID); err != nil || len(cs) != 1 || cs[0].Live() {
			t.Errorf("consents after the restore: %v %+v", err, cs)
		}
		if got, err := svc.GetContact(ctx, o.Rep1, keep.ID); err != nil || got.Name != "王允" {
			t.Errorf("another person after the restore: %v %+v", err, got.ContactFields)
		}
		if n, err := svc.ReconcileErasures(ctx); err != nil || n != 0 {
			t.Errorf("second reconcile: %d %v", n, err)
		}
	})
}

func checkGone(t *testing.T, svc *service.Service, o *testorg.Org, lead crm.Lead, when string) {
	t.Helper()
	ctx := context.Background()
	ct, err := svc.GetContact(ctx, o.Rep1, lead.ContactID)
	if err != nil || !ct.Erased || ct.Name != "" || ct.Mobile != "" || ct.Email != "" || ct.Title != "" || ct.Notes != "" {
		t.Errorf("%s: contact %v %+v", when, err, ct)
	}
	l, err := svc.GetLead(ctx, o.Rep1, lead.ID)
	if err != nil || l.Name != "" || l.Mobile != "" {
		t.Errorf("%s: lead %v %+v", when, err, l.LeadFields)
	}
	for _, q := range []string{"貂蝉", "13700007777", "diaochan@example.com"} {
		res, err := svc.Search(ctx, o.Admin, q, 10)
		if err != nil || len(res.Contacts)+len(res.Leads) != 0 {
			t.Errorf("%s: search %q found %v %+v %+v", when, q, err, res.Contacts, res.Leads)
		}
	}
}

// backup copies the database and returns a restore that puts the copy
// back and reopens it: the SQLite directory copied while closed, or on
// PostgreSQL the schema's tables copied aside.
func backup(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) (restore func() *store.DB) {
	t.Helper()
	ctx := context.Background()
	reopen := func() *store.DB {
		db, err := store.Open(ctx, opt)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	if d == store.SQLite {
		// A copy of the directory while the database is idle: the file and
		// its WAL together are a consistent backup.
		copyDir := t.TempDir()
		copyFiles(t, opt.Dir, copyDir)
		return func() *store.DB {
			db.Close()
			for _, f := range []string{"custos.db", "custos.db-wal", "custos.db-shm"} {
				os.Remove(filepath.Join(opt.Dir, f))
			}
			copyFiles(t, copyDir, opt.Dir)
			os.Remove(filepath.Join(opt.Dir, "custos.db-shm"))
			return reopen()
		}
	}
	raw := testdb.Raw(t, d, opt)
	tables := []string{"contacts", "leads", "dedup_keys", "search_terms", "record_versions", "consents"}
	for _, tb := range tables {
		if _, err := raw.Exec("CREATE TABLE backup_" + tb + " AS SELECT * FROM " + tb); err != nil {
			t.Fatal(err)
		}
	}
	restores := []string{
		"UPDATE contacts c SET name = b.name, mobile = b.mobile, phone = b.phone, email = b.email, wechat = b.wechat FROM backup_contacts b WHERE b.id = c.id",
		"UPDATE leads l SET name = b.name, mobile = b.mobile, email = b.email, wechat = b.wechat FROM backup_leads b WHERE b.id = l.id",
	}
	for _, tb := range tables[2:] {
		restores = append(restores, "DELETE FROM "+tb, "INSERT INTO "+tb+" SELECT * FROM backup_"+tb)
	}
	return func() *store.DB {
		for _, q := range restores {
			if _, err := raw.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		return db
	}
}

func copyFiles(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
