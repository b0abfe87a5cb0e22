package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
	"custos/internal/vault"
)

// TestFollowUpsSealed: what a salesperson writes in a follow-up is sealed
// under the key of the person it is about (the contact's or lead's), else
// under its customer's own key — in the row, its versions and the recycle
// bin — and reads back whole. Erasing the person empties what was written
// about them and nothing else.
func TestFollowUpsSealed(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		ctx := context.Background()
		raw := testdb.Raw(t, d, opt)
		o := testorg.New(t, db)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "沧浪亭贸易"})
		ct, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: c.ID, Name: "林黛玉", Mobile: "13900002222"})
		if err != nil {
			t.Fatal(err)
		}
		lead, err := o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "薛宝钗", Company: "蘅芜苑"})
		if err != nil {
			t.Fatal(err)
		}
		write := func(in crm.FollowUpInput) crm.FollowUp {
			t.Helper()
			in.Kind = "call"
			f, err := o.Svc.CreateFollowUp(ctx, o.Rep1, in)
			if err != nil || f.Content != in.Content {
				t.Fatalf("follow-up %q: %v %+v", in.Content, err, f)
			}
			return f
		}
		onCustomer := write(crm.FollowUpInput{CustomerID: c.ID, Content: "公司采购流程甲"})
		again := write(crm.FollowUpInput{CustomerID: c.ID, Content: "公司预算已批乙"})
		aboutContact := write(crm.FollowUpInput{ContactID: ct.ID, Content: "林黛玉说身体不适丙"})
		aboutLead := write(crm.FollowUpInput{LeadID: lead.ID, Content: "薛宝钗想看样品丁"})
		secrets := []string{"采购流程甲", "预算已批乙", "身体不适丙", "想看样品丁"}

		plainLeft := func(when string) {
			t.Helper()
			for _, q := range []string{"SELECT " + aggFunc(d) + "content, ' ') FROM follow_ups",
				"SELECT " + aggFunc(d) + "fields, ' ') FROM record_versions WHERE object = 'followup'",
				"SELECT " + aggFunc(d) + "fields, ' ') FROM audit_events"} {
				got := rawString(t, raw, q)
				for _, s := range secrets {
					if strings.Contains(got, s) {
						t.Errorf("%s: plaintext %q in %s", when, s, q)
					}
				}
			}
		}
		plainLeft("written")

		// The keys: the person's for what is about a person, one key of the
		// customer's own for the rest.
		keyOf := func(id int64) string {
			return rawString(t, raw, "SELECT data_key FROM follow_ups WHERE id = $1", id)
		}
		customerKey := rawString(t, raw, "SELECT data_key FROM customers WHERE id = $1", c.ID)
		contactKey := rawString(t, raw, "SELECT person_key FROM contacts WHERE id = $1", ct.ID)
		leadKey := rawString(t, raw, "SELECT person_key FROM leads WHERE id = $1", lead.ID)
		if customerKey == "" || keyOf(onCustomer.ID) != customerKey || keyOf(again.ID) != customerKey ||
			keyOf(aboutContact.ID) != contactKey || keyOf(aboutLead.ID) != leadKey || customerKey == contactKey {
			t.Fatalf("keys: customer %q (%q, %q), contact %q (%q), lead %q (%q)", customerKey, keyOf(onCustomer.ID), keyOf(again.ID),
				contactKey, keyOf(aboutContact.ID), leadKey, keyOf(aboutLead.ID))
		}
		if got := rawString(t, raw, "SELECT content FROM follow_ups WHERE id = $1", onCustomer.ID); !vault.IsSealed(got) {
			t.Fatalf("stored content %q is not sealed", got)
		}

		// Read back: one, a timeline of both kinds, the contact's timeline.
		if got, err := o.Svc.GetFollowUp(ctx, o.Rep1, aboutContact.ID); err != nil || got.Content != aboutContact.Content {
			t.Fatalf("get: %v %q", err, got.Content)
		}
		items, err := o.Svc.ListFollowUps(ctx, o.MgrEast, c.ID)
		if err != nil || len(items) != 3 {
			t.Fatalf("timeline: %v %+v", err, items)
		}
		for _, f := range items {
			if !strings.HasSuffix(f.Content, "甲") && !strings.HasSuffix(f.Content, "乙") && !strings.HasSuffix(f.Content, "丙") {
				t.Errorf("timeline entry %d reads %q", f.ID, f.Content)
			}
		}

		// A correction is a new version, sealed like the record; an older
		// version comes back through the normal edit.
		fixed, err := o.Svc.UpdateFollowUp(ctx, o.Rep1, onCustomer.ID, crm.FollowUpUpdate{Version: onCustomer.Version, Content: ptr("公司采购流程已改戊")})
		if err != nil || fixed.Version != 2 {
			t.Fatalf("correct: %v %+v", err, fixed)
		}
		secrets = append(secrets, "采购流程已改戊")
		vs, err := o.Svc.Versions(ctx, o.Rep1, crm.ObjFollowUp, onCustomer.ID)
		if err != nil || len(vs) != 2 || !strings.Contains(string(vs[0].Fields), "已改戊") || !strings.Contains(string(vs[1].Fields), "流程甲") {
			t.Fatalf("versions: %v %+v", err, vs)
		}
		if err := o.Svc.RestoreVersion(ctx, o.Rep1, crm.ObjFollowUp, onCustomer.ID, 1, 2, nil); err != nil {
			t.Fatal(err)
		}
		if got, err := o.Svc.GetFollowUp(ctx, o.Rep1, onCustomer.ID); err != nil || got.Content != onCustomer.Content || got.Version != 3 {
			t.Fatalf("restored: %v %+v", err, got)
		}
		// The recycle bin lists a follow-up by what it says.
		if err := o.Svc.DeleteRecord(ctx, o.Rep1, crm.ObjFollowUp, again.ID); err != nil {
			t.Fatal(err)
		}
		bin, err := o.Svc.RecycleBin(ctx, o.Rep1, crm.ObjFollowUp, 10)
		if err != nil || len(bin) != 1 || bin[0].Name != again.Content {
			t.Fatalf("recycle bin: %v %+v", err, bin)
		}
		plainLeft("corrected, restored and recycled")

		// Erasing the contact takes what was written about them, and only that.
		o.StepUp(t, o.Admin)
		if _, err := o.Svc.ErasePerson(ctx, o.Admin, crm.ObjContact, ct.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := o.Svc.GetFollowUp(ctx, o.Rep1, aboutContact.ID); err != nil || got.Content != "" {
			t.Fatalf("follow-up about an erased person: %v %q", err, got.Content)
		}
		if n := countRows(t, raw, "SELECT COUNT(*) FROM record_versions WHERE object = 'followup' AND record_id = $1", aboutContact.ID); n != 0 {
			t.Errorf("%d versions of what was written about the erased person are left", n)
		}
		if got, err := o.Svc.GetFollowUp(ctx, o.Rep1, onCustomer.ID); err != nil || got.Content != onCustomer.Content {
			t.Fatalf("the customer's own follow-up after the erasure: %v %q", err, got.Content)
		}
		// What was emptied can be written again: under the customer's key.
		emptied, err := o.Svc.GetFollowUp(ctx, o.Rep1, aboutContact.ID)
		if err != nil {
			t.Fatal(err)
		}
		rewritten, err := o.Svc.UpdateFollowUp(ctx, o.Rep1, aboutContact.ID, crm.FollowUpUpdate{Version: emptied.Version, Content: ptr("联系人已删除，记录重写")})
		if err != nil || keyOf(aboutContact.ID) != customerKey {
			t.Fatalf("rewriting an emptied follow-up: %v, key %q", err, keyOf(aboutContact.ID))
		}
		if got, err := o.Svc.GetFollowUp(ctx, o.Rep1, aboutContact.ID); err != nil || got.Content != rewritten.Content {
			t.Fatalf("the rewritten follow-up: %v %q", err, got.Content)
		}
		// A follow-up about the erased person is still possible: it goes
		// under the customer's key, readable.
		late := write(crm.FollowUpInput{ContactID: ct.ID, Content: "已离职，改找新联系人"})
		if keyOf(late.ID) != customerKey {
			t.Errorf("a follow-up about an erased person went under %q, not the customer's key", keyOf(late.ID))
		}
	})
}

// TestFollowUpFieldRules: follow-ups take field rules like other records —
// hidden, masked and read-only content — on every read and write.
func TestFollowUpFieldRules(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "拙政园商行"})
		f, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "visit", Content: "谈妥了年度框架协议", CustomerID: c.ID})
		if err != nil {
			t.Fatal(err)
		}
		mgr := setFieldRules(t, o, "manager", crm.ObjFollowUp, false, map[string]crm.FieldAccess{"content": crm.FieldHidden}, o.MgrEast)[0]
		got, err := o.Svc.GetFollowUp(ctx, mgr, f.ID)
		if err != nil || got.Content != "" || len(got.Hidden) != 1 || got.Hidden[0] != "content" {
			t.Fatalf("hidden content: %v %+v", err, got)
		}
		items, err := o.Svc.ListFollowUps(ctx, mgr, c.ID)
		if err != nil || len(items) != 1 || items[0].Content != "" {
			t.Fatalf("hidden content in the timeline: %v %+v", err, items)
		}
		if vs, err := o.Svc.Versions(ctx, mgr, crm.ObjFollowUp, f.ID); err != nil || strings.Contains(string(vs[0].Fields), "框架协议") {
			t.Fatalf("hidden content in the versions: %v %+v", err, vs)
		}

		rep := setFieldRules(t, o, "sales", crm.ObjFollowUp, false, map[string]crm.FieldAccess{"content": crm.FieldMasked}, o.Rep1)[0]
		got, err = o.Svc.GetFollowUp(ctx, rep, f.ID)
		if err != nil || got.Content == f.Content || !strings.HasPrefix(got.Content, "谈") || len(got.Masked) != 1 {
			t.Fatalf("masked content: %v %+v", err, got)
		}
		// Echoing the masked text back changes nothing; a new text is refused.
		if _, err := o.Svc.UpdateFollowUp(ctx, rep, f.ID, crm.FollowUpUpdate{Version: f.Version, Kind: ptr("call"), Content: &got.Content}); err != nil {
			t.Fatalf("an echo of the masked content: %v", err)
		}
		_, err = o.Svc.UpdateFollowUp(ctx, rep, f.ID, crm.FollowUpUpdate{Version: f.Version + 1, Content: ptr("改掉")})
		wantField(t, err, "content", "read_only")
		if back, err := o.Svc.GetFollowUp(ctx, o.Admin, f.ID); err != nil || back.Content != f.Content || back.Kind != "call" {
			t.Fatalf("stored after the echo: %v %+v", err, back)
		}
		// Writing content one may not edit is refused on create too.
		_, err = o.Svc.CreateFollowUp(ctx, rep, crm.FollowUpInput{Kind: "note", Content: "新的", CustomerID: c.ID})
		wantField(t, err, "content", "read_only")
	})
}

// TestFollowUpKeysMove: a re-encryption moves follow-ups (and the notes of
// the people they are about) to fresh keys and loses nothing; the start-up
// upgrade seals follow-ups an older release stored in plaintext; purging a
// contact keeps its customer's history readable under the customer's key
// while the person's key goes.
func TestFollowUpKeysMove(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		ctx := context.Background()
		raw := testdb.Raw(t, d, opt)
		clock := testorg.NewClock()
		o := testorg.NewWithClock(t, db, clock)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "网师园实业"})
		ct, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: c.ID, Name: "史湘云", Notes: "爱喝桂花酒"})
		if err != nil {
			t.Fatal(err)
		}
		onCustomer, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "call", Content: "报价已发", CustomerID: c.ID})
		if err != nil {
			t.Fatal(err)
		}
		aboutContact, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "visit", Content: "史湘云带我们看了仓库", ContactID: ct.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.UpdateFollowUp(ctx, o.Rep1, aboutContact.ID, crm.FollowUpUpdate{Version: 1, Content: ptr("史湘云带我们看了新仓库")}); err != nil {
			t.Fatal(err)
		}
		read := func(when string) {
			t.Helper()
			if got, err := o.Svc.GetContact(ctx, o.Rep1, ct.ID); err != nil || got.Notes != "爱喝桂花酒" {
				t.Fatalf("%s: contact notes %v %q", when, err, got.Notes)
			}
			want := map[int64]string{onCustomer.ID: "报价已发", aboutContact.ID: "史湘云带我们看了新仓库"}
			for id, content := range want {
				if got, err := o.Svc.GetFollowUp(ctx, o.Rep1, id); err != nil || got.Content != content {
					t.Fatalf("%s: follow-up %d: %v %q", when, id, err, got.Content)
				}
			}
			if vs, err := o.Svc.Versions(ctx, o.Rep1, crm.ObjFollowUp, aboutContact.ID); err != nil || len(vs) != 2 ||
				!strings.Contains(string(vs[1].Fields), "看了仓库") {
				t.Fatalf("%s: versions %v %+v", when, err, vs)
			}
		}
		keys := func() (string, string) {
			return rawString(t, raw, "SELECT data_key FROM follow_ups WHERE id = $1", onCustomer.ID),
				rawString(t, raw, "SELECT data_key FROM follow_ups WHERE id = $1", aboutContact.ID)
		}
		customerKey, contactKey := keys()

		clock.Advance(time.Minute) // the keys above predate the re-encryption
		if _, err := o.Svc.ReencryptPeople(ctx, o.Admin, 10, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.DestroySupersededKeys(ctx, o.Admin); err != nil {
			t.Fatal(err)
		}
		newCustomerKey, newContactKey := keys()
		if newCustomerKey == customerKey || newContactKey == contactKey ||
			rawString(t, raw, "SELECT data_key FROM customers WHERE id = $1", c.ID) != newCustomerKey ||
			rawString(t, raw, "SELECT person_key FROM contacts WHERE id = $1", ct.ID) != newContactKey {
			t.Fatalf("keys after re-encryption: %q→%q, %q→%q", customerKey, newCustomerKey, contactKey, newContactKey)
		}
		read("after re-encryption")

		// As an older release stored them: plaintext, no key — one of them
		// about a person erased since, whose words the upgrade must not keep.
		gone, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: c.ID, Name: "妙玉"})
		if err != nil {
			t.Fatal(err)
		}
		aboutGone, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "call", Content: "妙玉说不再联系", ContactID: gone.ID})
		if err != nil {
			t.Fatal(err)
		}
		o.StepUp(t, o.Admin)
		if _, err := o.Svc.ErasePerson(ctx, o.Admin, crm.ObjContact, gone.ID); err != nil {
			t.Fatal(err)
		}
		for _, q := range []struct {
			id      int64
			content string
		}{{onCustomer.ID, "旧版本写的明文"}, {aboutGone.ID, "妙玉说不再联系"}} {
			if _, err := raw.Exec("UPDATE follow_ups SET content = $1, data_key = '' WHERE id = $2", q.content, q.id); err != nil {
				t.Fatal(err)
			}
		}
		if _, rows, err := o.Svc.SealLegacyData(ctx); err != nil || rows != 2 {
			t.Fatalf("upgrade: %d sealed, %v", rows, err)
		}
		if got := rawString(t, raw, "SELECT content || '|' || data_key FROM follow_ups WHERE id = $1", aboutGone.ID); got != "|" {
			t.Fatalf("a plaintext follow-up about an erased person after the upgrade: %q", got)
		}
		if got := rawString(t, raw, "SELECT content FROM follow_ups WHERE id = $1", onCustomer.ID); !vault.IsSealed(got) {
			t.Fatalf("after the upgrade: %q", got)
		}
		if got, err := o.Svc.GetFollowUp(ctx, o.Rep1, onCustomer.ID); err != nil || got.Content != "旧版本写的明文" {
			t.Fatalf("read after the upgrade: %v %q", err, got.Content)
		}
		if _, rows, err := o.Svc.SealLegacyData(ctx); err != nil || rows != 0 {
			t.Fatalf("second upgrade: %d %v", rows, err)
		}

		// The contact is deleted and purged: its key goes, the customer's
		// history stays readable.
		if err := o.Svc.DeleteRecord(ctx, o.Rep1, crm.ObjContact, ct.ID); err != nil {
			t.Fatal(err)
		}
		clock.Advance(100 * 24 * time.Hour)
		if _, err := o.Svc.PurgeRecycleBin(ctx); err != nil {
			t.Fatal(err)
		}
		if erased, err := o.Vault.Erased(ctx, []string{newContactKey}); err != nil || !erased[newContactKey] {
			t.Fatalf("the purged contact's key: %v %v", erased, err)
		}
		got, err := o.Svc.GetFollowUp(ctx, o.Rep1, aboutContact.ID)
		if err != nil || got.Content != "史湘云带我们看了新仓库" || got.ContactID != 0 {
			t.Fatalf("the customer's history after the purge: %v %+v", err, got)
		}
		if vs, err := o.Svc.Versions(ctx, o.Rep1, crm.ObjFollowUp, aboutContact.ID); err != nil || len(vs) != 2 ||
			!strings.Contains(string(vs[1].Fields), "看了仓库") {
			t.Fatalf("versions after the purge: %v %+v", err, vs)
		}
	})
}
