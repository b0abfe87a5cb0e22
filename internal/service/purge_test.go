package service_test

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

const day = 24 * time.Hour

// countRows counts rows behind the store's back.
func countRows(t *testing.T, raw *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := raw.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestRecyclePurge: records deleted longer ago than the retention window
// are purged with their children and every row keyed by them; records that
// point at them and live on lose the link; each purge is audited without
// values; younger records stay restorable; a second run purges nothing.
func TestRecyclePurge(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		raw := testdb.Raw(t, d, opt)
		ctx := context.Background()
		clock := testorg.NewClock()
		o := testorg.NewWithClock(t, db, clock)
		east := o.East1
		east.ManagerID = o.MgrEast.UserID
		if _, err := o.Svc.UpdateDepartment(ctx, o.Admin, east); err != nil {
			t.Fatal(err)
		}
		setPolicy(t, o, crm.ApprovalPolicy{Kind: crm.ApproveKeyField, Steps: []crm.ApprovalStep{{Type: "manager"}},
			Fields: map[crm.Object][]string{crm.ObjCustomer: {"phone"}}})

		old := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "旧时光贸易", Phone: "13811112222"})
		ct, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: old.ID, Name: "钱七", Mobile: "13911112222"})
		if err != nil {
			t.Fatal(err)
		}
		opp, err := o.Svc.CreateOpportunity(ctx, o.Rep1, crm.OpportunityFields{CustomerID: old.ID, Name: "旧订单"})
		if err != nil {
			t.Fatal(err)
		}
		fu, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "call", Content: "回访", CustomerID: old.ID,
			ContactID: ct.ID, OpportunityID: opp.ID})
		if err != nil {
			t.Fatal(err)
		}
		task, err := o.Svc.CreateTask(ctx, o.Rep1, crm.TaskFields{Title: "寄样品", CustomerID: old.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.ShareRecord(ctx, o.Rep1, crm.ObjCustomer, old.ID, service.ShareInput{UserID: o.Rep2.UserID, Level: "read"}); err != nil {
			t.Fatal(err)
		}
		lead, err := o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "孙八", Mobile: "13711112222"})
		if err != nil {
			t.Fatal(err)
		}
		leadFU, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "call", Content: "初次电话", LeadID: lead.ID})
		if err != nil {
			t.Fatal(err)
		}
		// A lead converted into a contact: both under one person's key.
		converted, err := o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "周十", Company: "转化贸易", Mobile: "13611112222"})
		if err != nil {
			t.Fatal(err)
		}
		if converted, err = o.Svc.ConvertLead(ctx, o.Rep1, converted.ID, crm.LeadConversion{Version: converted.Version}); err != nil {
			t.Fatal(err)
		}
		_, err = o.Svc.UpdateCustomer(ctx, o.Rep1, old.ID, crm.CustomerUpdate{Version: old.Version, Phone: new("13899990000")})
		pending := pendingID(t, err)
		if err := o.Svc.DeleteCustomer(ctx, o.Rep1, old.ID); err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{lead.ID, converted.ID} {
			if err := o.Svc.DeleteRecord(ctx, o.Rep1, crm.ObjLead, id); err != nil {
				t.Fatal(err)
			}
		}

		clock.Advance(60 * day)
		young := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "新气象科技", Phone: "13822223333"})
		youngCt, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: young.ID, Name: "李九", Mobile: "13922223333"})
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Svc.DeleteCustomer(ctx, o.Rep1, young.ID); err != nil {
			t.Fatal(err)
		}
		bin, err := o.Svc.ListRecycledCustomers(ctx, o.Rep1, crm.CustomerFilter{})
		if err != nil || len(bin.Items) != 2 {
			t.Fatalf("bin: %+v %v", bin, err)
		}
		for _, c := range bin.Items {
			if c.PurgeAt == nil || !c.PurgeAt.Equal(c.DeletedAt.Add(90*day)) {
				t.Fatalf("customer %d: purge at %v, deleted at %v", c.ID, c.PurgeAt, c.DeletedAt)
			}
		}
		contacts, err := o.Svc.RecycleBin(ctx, o.Rep1, crm.ObjContact, 20)
		if err != nil || len(contacts) != 2 || !contacts[0].PurgeAt.Equal(contacts[0].DeletedAt.Add(90*day)) {
			t.Fatalf("contacts bin: %+v %v", contacts, err)
		}

		gone := []struct {
			o     crm.Object
			table string
			id    int64
		}{
			{crm.ObjCustomer, "customers", old.ID}, {crm.ObjContact, "contacts", ct.ID}, {crm.ObjOpportunity, "opportunities", opp.ID},
			{crm.ObjFollowUp, "follow_ups", fu.ID}, {crm.ObjLead, "leads", lead.ID},
		}
		indexes := []string{"search_terms", "dedup_keys", "record_shares", "record_versions"}
		// Before: every index holds rows of the records to be purged, so
		// finding none afterwards means something.
		for _, idx := range indexes {
			n := 0
			for _, g := range gone {
				n += countRows(t, raw, "SELECT COUNT(*) FROM "+idx+" WHERE object = $1 AND record_id = $2", string(g.o), g.id)
			}
			if n == 0 {
				t.Fatalf("no %s rows for the records to purge", idx)
			}
		}

		personKey := func(table string, id int64) string {
			var k string
			if err := raw.QueryRow("SELECT person_key FROM "+table+" WHERE id = $1", id).Scan(&k); err != nil || k == "" {
				t.Fatalf("person key of %s %d: %q %v", table, id, k, err)
			}
			return k
		}
		ctKey, leadKey, convertedKey, youngKey := personKey("contacts", ct.ID), personKey("leads", lead.ID),
			personKey("leads", converted.ID), personKey("contacts", youngCt.ID)

		// The old ones are 91 days in the bin, the young ones 31.
		clock.Advance(31 * day)
		rep, err := o.Svc.PurgeRecycleBin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[crm.Object]int{crm.ObjCustomer: 1, crm.ObjContact: 1, crm.ObjOpportunity: 1, crm.ObjFollowUp: 1, crm.ObjLead: 2}
		if rep.Total() != 6 || !sameCounts(rep.Purged, want) {
			t.Fatalf("purged %v, want %v", rep.Purged, want)
		}

		wantCode(t, o.Svc.RestoreCustomer(ctx, o.Rep1, old.ID), crm.NotFound)
		wantCode(t, o.Svc.RestoreRecord(ctx, o.Rep1, crm.ObjLead, lead.ID), crm.NotFound)
		wantCode(t, o.Svc.RestoreRecord(ctx, o.Rep1, crm.ObjContact, ct.ID), crm.NotFound)
		for _, g := range gone {
			if n := countRows(t, raw, "SELECT COUNT(*) FROM "+g.table+" WHERE id = $1", g.id); n != 0 {
				t.Errorf("%s %d is still in %s", g.o, g.id, g.table)
			}
			for _, idx := range indexes {
				if n := countRows(t, raw, "SELECT COUNT(*) FROM "+idx+" WHERE object = $1 AND record_id = $2", string(g.o), g.id); n != 0 {
					t.Errorf("%s %d keeps %d rows in %s", g.o, g.id, n, idx)
				}
			}
			events := countRows(t, raw, "SELECT COUNT(*) FROM audit_events WHERE action = $1 AND object = $2 AND record_id = $3 AND actor_kind = 'system' AND actor_name = 'recycle-purge'",
				string(g.o)+".purge", string(g.o), g.id)
			if events != 1 {
				t.Errorf("%s %d: %d purge events", g.o, g.id, events)
			}
		}
		if n := countRows(t, raw, "SELECT COUNT(*) FROM opportunity_stage_changes WHERE opportunity_id = $1", opp.ID); n != 0 {
			t.Errorf("stage history of the purged opportunity: %d rows", n)
		}
		if n := countRows(t, raw, "SELECT COUNT(*) FROM dedup_keys WHERE object = 'contact' AND record_id = $1", youngCt.ID); n == 0 {
			t.Fatal("the purge took the young contact's duplicate keys")
		}
		// The purge events name records and times, never values.
		rows, err := raw.Query("SELECT fields FROM audit_events WHERE action LIKE '%.purge'")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var f string
			rows.Scan(&f)
			for _, secret := range []string{"13811112222", "13911112222", "13711112222", "钱七", "孙八", "旧时光"} {
				if strings.Contains(f, secret) {
					t.Errorf("a purge event holds %q: %s", secret, f)
				}
			}
		}
		rows.Close()

		// The data keys of the purged people are destroyed — every backup of
		// their sealed fields is unreadable now — but not a key a live record
		// still uses (the contact the converted lead became), nor the young one's.
		erased, err := o.Vault.Erased(ctx, []string{ctKey, leadKey, convertedKey, youngKey})
		if err != nil || !erased[ctKey] || !erased[leadKey] || erased[convertedKey] || erased[youngKey] {
			t.Fatalf("erased keys: %v %v", erased, err)
		}
		if c, err := o.Svc.GetContact(ctx, o.Rep1, converted.ContactID); err != nil || c.Name != "周十" {
			t.Fatalf("the converted contact after its lead's purge: %+v %v", c, err)
		}
		if n := countRows(t, raw, "SELECT COUNT(*) FROM audit_events WHERE action = 'contact.purge' AND fields LIKE '%data_key_destroyed%'"); n != 1 {
			t.Fatalf("%d contact purge events say the key went", n)
		}
		if n := countRows(t, raw, "SELECT COUNT(*) FROM purge_key_erasures"); n != 0 {
			t.Fatalf("%d key erasures left queued", n)
		}

		// What pointed at the purged records lives on without the link.
		if got, err := o.Svc.GetTask(ctx, o.Rep1, task.ID); err != nil || got.CustomerID != 0 {
			t.Fatalf("task of the purged customer: %+v %v", got, err)
		}
		if got, err := o.Svc.GetFollowUp(ctx, o.Rep1, leadFU.ID); err != nil || got.LeadID != 0 {
			t.Fatalf("follow-up of the purged lead: %+v %v", got, err)
		}
		// The pending request about the purged customer is closed, and the
		// phone it asked for is gone with the customer.
		if r, err := o.Svc.GetApproval(ctx, o.Rep1, pending); err != nil || r.Status != crm.ApprovalFailed ||
			strings.Contains(string(r.Payload), "13899990000") {
			t.Fatalf("approval request of the purged customer: %+v %v", r, err)
		}

		// A destruction that failed stays queued for the next run, which
		// destroys it — unless a record is under the key (again).
		if _, err := raw.Exec("INSERT INTO purge_key_erasures (key_id) VALUES ($1), ('pk_left_by_a_failed_run')", youngKey); err != nil {
			t.Fatal(err)
		}
		again, err := o.Svc.PurgeRecycleBin(ctx)
		if err != nil || again.Total() != 0 {
			t.Fatalf("second purge: %+v %v", again, err)
		}
		if erased, err := o.Vault.Erased(ctx, []string{youngKey, "pk_left_by_a_failed_run"}); err != nil || erased[youngKey] ||
			!erased["pk_left_by_a_failed_run"] {
			t.Fatalf("queued keys after the second run: %v %v", erased, err)
		}
		if err := o.Svc.RestoreCustomer(ctx, o.Rep1, young.ID); err != nil {
			t.Fatalf("restore the young customer: %v", err)
		}
		if _, err := o.Svc.GetContact(ctx, o.Rep1, youngCt.ID); err != nil {
			t.Fatalf("the young customer's contact came back: %v", err)
		}
	})
}

func sameCounts(a, b map[crm.Object]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestRecyclePurgeBatches: a backlog larger than one batch is purged
// whole, and two instances purging at once purge each record once.
func TestRecyclePurgeBatches(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		raw := testdb.Raw(t, d, opt)
		ctx := context.Background()
		clock := testorg.NewClock()
		o := testorg.NewWithClock(t, db, clock)
		const n = 450
		ids := make([]int64, n)
		for i := range ids {
			l, err := o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "批量线索"})
			if err != nil {
				t.Fatal(err)
			}
			ids[i] = l.ID
		}
		if _, err := o.Svc.BulkDelete(ctx, access.System("test"), crm.ObjLead, ids); err != nil {
			t.Fatal(err)
		}
		clock.Advance(91 * day)
		// A second service on the same database: another instance.
		other := service.New(db, service.Options{Argon2: testorg.CheapArgon, Now: clock.Now, Vault: o.Vault})
		var wg sync.WaitGroup
		reps := make([]int, 2)
		errs := make([]error, 2)
		for i, svc := range []*service.Service{o.Svc, other} {
			wg.Go(func() {
				r, err := svc.PurgeRecycleBin(ctx)
				reps[i], errs[i] = r.Total(), err
			})
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatal(errs)
		}
		// Whichever instance lost the lock stopped; run once more to be sure
		// nothing is left, as the next hour's run would.
		last, err := o.Svc.PurgeRecycleBin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := reps[0] + reps[1] + last.Total(); got != n {
			t.Fatalf("purged %d + %d + %d, want %d", reps[0], reps[1], last.Total(), n)
		}
		if left := countRows(t, raw, "SELECT COUNT(*) FROM leads"); left != 0 {
			t.Fatalf("%d leads left", left)
		}
		if events := countRows(t, raw, "SELECT COUNT(*) FROM audit_events WHERE action = 'lead.purge'"); events != n {
			t.Fatalf("%d purge events for %d leads", events, n)
		}
	})
}
