package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/i18n"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
)

// TestRetention moves the service clock through two years: people without
// activity are archived (read-only, with a clear message, until a privacy
// officer unarchives them) after the policy's months and erased after its
// years; a follow-up is activity; a legal hold exempts; every run is
// audited with its counts, and one instance runs at a time.
func TestRetention(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newPrivacyOrg(t, db, service.Options{})
		month := 31 * 24 * time.Hour
		if run, err := o.Svc.RunRetention(ctx, "test", 0); err != nil || !run.Skipped || len(events(t, o.Org, "retention.run")) != 0 {
			t.Fatalf("a run without policies: %v %+v", err, run)
		}
		contactPolicy := crm.RetentionPolicy{Object: crm.ObjContact, ArchiveMonths: 6, DestroyYears: 2}
		if err := o.Svc.SaveRetentionPolicy(ctx, o.Rep1, contactPolicy); !crm.IsCode(err, crm.Forbidden) {
			t.Fatalf("a sales rep set a policy: %v", err)
		}
		if err := o.Svc.SaveRetentionPolicy(ctx, o.Officer, contactPolicy); !crm.IsCode(err, crm.StepUpRequired) {
			t.Fatalf("a policy without step-up: %v", err)
		}
		o.StepUp(t, o.Officer)
		if err := o.Svc.SaveRetentionPolicy(ctx, o.Officer, crm.RetentionPolicy{Object: crm.ObjContact, ArchiveMonths: 36, DestroyYears: 2}); !crm.IsCode(err, crm.Invalid) {
			t.Fatalf("archiving after destruction: %v", err)
		}
		for _, p := range []crm.RetentionPolicy{contactPolicy, {Object: crm.ObjLead, ArchiveMonths: 12}} {
			if err := o.Svc.SaveRetentionPolicy(ctx, o.Officer, p); err != nil {
				t.Fatal(err)
			}
		}
		mk := func(name, mobile string) crm.Contact {
			t.Helper()
			c, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: name, Mobile: mobile})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		idle, busy, held, forgotten := mk("甄士隐", "13300000001"), mk("贾雨村", "13300000002"), mk("冯渊", "13300000003"), mk("英莲", "13300000004")
		lead, err := o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "娇杏", Company: "甄家", Mobile: "13300000005"})
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Svc.SetLegalHold(ctx, o.Officer, crm.ObjContact, held.ID, "人命官司"); err != nil {
			t.Fatal(err)
		}

		o.Clock.Advance(7 * month)
		if _, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{ContactID: busy.ID, Kind: "call", Content: "回访"}); err != nil {
			t.Fatal(err)
		}
		run, err := o.Svc.RunRetention(ctx, "test", 0)
		if err != nil || run.Skipped || run.Archived[crm.ObjContact] != 2 || run.Held[crm.ObjContact] != 1 || run.Archived[crm.ObjLead] != 0 {
			t.Fatalf("first run: %v %+v", err, run)
		}
		for _, c := range []crm.Contact{idle, forgotten} {
			got, err := o.Svc.GetContact(ctx, o.Rep1, c.ID)
			if err != nil || got.ArchivedAt == nil {
				t.Fatalf("%s not archived: %v %+v", c.Name, err, got.ArchivedAt)
			}
		}
		for _, c := range []crm.Contact{busy, held} {
			if got, _ := o.Svc.GetContact(ctx, o.Rep1, c.ID); got.ArchivedAt != nil {
				t.Fatalf("%s archived", c.Name)
			}
		}
		title := "新职位"
		_, err = o.Svc.UpdateContact(ctx, o.Rep1, idle.ID, crm.ContactUpdate{Version: idle.Version, Title: &title})
		if !crm.IsCode(err, crm.Conflict) || !strings.Contains(i18n.Message(i18n.ZH, err), "归档") {
			t.Fatalf("an archived contact was changed: %v", err)
		}
		if err := o.Svc.UnarchiveRecord(ctx, o.Rep1, crm.ObjContact, idle.ID); !crm.IsCode(err, crm.Forbidden) {
			t.Fatalf("a sales rep unarchived: %v", err)
		}
		if err := o.Svc.UnarchiveRecord(ctx, o.Officer, crm.ObjContact, idle.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.UpdateContact(ctx, o.Rep1, idle.ID, crm.ContactUpdate{Version: idle.Version, Title: &title}); err != nil {
			t.Fatalf("after unarchiving: %v", err)
		}

		o.Clock.Advance(18 * month) // 25 months since the start; 18 since idle's last change
		run, err = o.Svc.RunRetention(ctx, "test", 0)
		if err != nil || run.Destroyed[crm.ObjContact] != 1 || run.Archived[crm.ObjContact] != 2 || run.Archived[crm.ObjLead] != 1 || run.Held[crm.ObjContact] != 2 {
			t.Fatalf("second run: %v %+v", err, run)
		}
		if got, err := o.Svc.GetContact(ctx, o.Rep1, forgotten.ID); err != nil || !got.Erased || got.Name != "" {
			t.Fatalf("not destroyed after two years: %v %+v", err, got)
		}
		for _, c := range []crm.Contact{idle, busy, held} {
			got, err := o.Svc.GetContact(ctx, o.Rep1, c.ID)
			if err != nil || got.Erased || got.Name != c.Name {
				t.Fatalf("%s destroyed: %v %+v", c.Name, err, got)
			}
		}
		if got, err := o.Svc.GetLead(ctx, o.Rep1, lead.ID); err != nil || got.ArchivedAt == nil || got.Erased {
			t.Fatalf("lead under its own policy: %v %+v", err, got)
		}
		runs := events(t, o.Org, "retention.run")
		if len(runs) != 2 || runs[0].ActorName != "retention" || !strings.Contains(string(runs[0].Fields), `"destroyed":{"contact":1}`) {
			t.Fatalf("runs audited: %+v", runs)
		}
		erasures := events(t, o.Org, "privacy.erase")
		if len(erasures) != 1 || erasures[0].ActorName != "retention" || erasures[0].RecordID != forgotten.ID {
			t.Fatalf("destruction audited: %+v", erasures)
		}
		if n := len(events(t, o.Org, "contact.archive")); n != 2 {
			t.Errorf("archive batches audited %d times, want 2", n)
		}

		// One run at a time: another holder's lease stops this one; a run
		// that is not due yet does not start.
		now := o.Clock.Now()
		if err := db.WriteTx(ctx, func(tx *store.Tx) error {
			ok, err := tx.ClaimLease(ctx, service.RetentionJob, "other", now.Add(time.Hour), now)
			if err == nil && !ok {
				t.Error("the lease was not free")
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if run, err := o.Svc.RunRetention(ctx, "test", 0); err != nil || !run.Skipped {
			t.Fatalf("ran beside another instance: %v %+v", err, run)
		}
		if err := db.WriteTx(ctx, func(tx *store.Tx) error { return tx.ReleaseLease(ctx, service.RetentionJob, "other") }); err != nil {
			t.Fatal(err)
		}
		if run, err := o.Svc.RunRetention(ctx, "test", 24*time.Hour); err != nil || !run.Skipped {
			t.Fatalf("ran before it was due: %v %+v", err, run)
		}
		o.Clock.Advance(25 * time.Hour)
		if run, err := o.Svc.RunRetention(ctx, "test", 24*time.Hour); err != nil || run.Skipped {
			t.Fatalf("a due run did not start: %v %+v", err, run)
		}
	})
}

// TestLegalHoldKeepsTheRecycleBin: the recycle bin's purge is destruction
// too; a person under a legal hold stays in the bin past the retention
// window until the hold is lifted.
func TestLegalHoldKeepsTheRecycleBin(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newPrivacyOrg(t, db, service.Options{RecycleRetention: 24 * time.Hour})
		held, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "贾瑞", Mobile: "13400000001"})
		if err != nil {
			t.Fatal(err)
		}
		free, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "秦钟", Mobile: "13400000002"})
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Svc.SetLegalHold(ctx, o.Officer, crm.ObjContact, held.ID, "风月宝鉴案"); err != nil {
			t.Fatal(err)
		}
		for _, c := range []crm.Contact{held, free} {
			if err := o.Svc.DeleteRecord(ctx, o.Rep1, crm.ObjContact, c.ID); err != nil {
				t.Fatal(err)
			}
		}
		o.Clock.Advance(48 * time.Hour)
		rep, err := o.Svc.PurgeRecycleBin(ctx)
		if err != nil || rep.Purged[crm.ObjContact] != 1 {
			t.Fatalf("purge: %v %+v", err, rep)
		}
		e, err := o.Svc.PersonPrivacy(ctx, o.Officer, crm.ObjContact, held.ID)
		if err != nil || len(e.Contacts) != 1 || e.Contacts[0].Name != "贾瑞" || e.Contacts[0].DeletedAt == nil {
			t.Fatalf("the held person after the purge: %v %+v", err, e.Contacts)
		}
		if err := o.Svc.ClearLegalHold(ctx, o.Officer, crm.ObjContact, held.ID); err != nil {
			t.Fatal(err)
		}
		if rep, err := o.Svc.PurgeRecycleBin(ctx); err != nil || rep.Purged[crm.ObjContact] != 1 {
			t.Fatalf("purge after the hold: %v %+v", err, rep)
		}
		if _, err := o.Svc.PersonPrivacy(ctx, o.Officer, crm.ObjContact, held.ID); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("purged person still there: %v", err)
		}
	})
}
