package service_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"custos/internal/crm"
	"custos/internal/i18n"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
	"custos/internal/vault"
)

// TestPersonalDataSealed checks, row by row as someone reading the
// database would, that a person's fields are stored only sealed — in the
// record, in its versions and in the index tables — while the service reads
// them back, finds them, keeps one key from lead to contact, and refuses a
// tampered value with a clear integrity error.
func TestPersonalDataSealed(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		ctx := context.Background()
		raw := testdb.Raw(t, d, opt)
		o := testorg.New(t, db)
		secrets := []string{"诸葛孔明", "13912345678", "kongming@shu.example", "wolong_2026"}

		lead, err := o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: secrets[0], Company: "蜀汉科技", Mobile: secrets[1], Email: secrets[2], WeChat: secrets[3]})
		if err != nil {
			t.Fatal(err)
		}
		if lead.Name != secrets[0] || lead.Mobile != "+8613912345678" {
			t.Fatalf("lead as returned: %+v", lead.LeadFields)
		}
		lead, err = o.Svc.UpdateLead(ctx, o.Rep1, lead.ID, crm.LeadUpdate{Version: lead.Version, Notes: new("赤壁之后再联系")})
		if err != nil {
			t.Fatal(err)
		}
		lead, err = o.Svc.ConvertLead(ctx, o.Rep1, lead.ID, crm.LeadConversion{Version: lead.Version})
		if err != nil {
			t.Fatal(err)
		}

		// Nothing readable in any table that holds the person.
		leadKey, contactKey := rawString(t, raw, "SELECT person_key FROM leads WHERE id = $1", lead.ID),
			rawString(t, raw, "SELECT person_key FROM contacts WHERE id = $1", lead.ContactID)
		if !strings.HasPrefix(leadKey, "pk_") || leadKey != contactKey {
			t.Errorf("lead key %q, contact key %q: the converted person should keep one key", leadKey, contactKey)
		}
		for _, q := range []string{
			"SELECT COALESCE(STRING_AGG(name || mobile || email || wechat, ' '), '') FROM leads",
			"SELECT COALESCE(STRING_AGG(name || mobile || phone || email || wechat, ' '), '') FROM contacts",
			"SELECT COALESCE(STRING_AGG(fields, ' '), '') FROM record_versions WHERE object IN ('lead', 'contact')",
			"SELECT COALESCE(STRING_AGG(term, ' '), '') FROM search_terms",
			"SELECT COALESCE(STRING_AGG(key, ' '), '') FROM dedup_keys",
			"SELECT COALESCE(STRING_AGG(fields, ' '), '') FROM audit_events",
		} {
			q = strings.ReplaceAll(q, "STRING_AGG(", aggFunc(d))
			got := rawString(t, raw, q)
			for _, s := range append(secrets, "8613912345678", "诸葛", "孔明", "kongming") {
				if strings.Contains(got, s) {
					t.Errorf("%q found in plaintext by %s", s, q)
				}
			}
		}
		if got := rawString(t, raw, "SELECT name FROM contacts WHERE id = $1", lead.ContactID); !vault.IsSealed(got) {
			t.Errorf("contact name stored as %q", got)
		}

		// The service reads, searches and versions them as before.
		ct, err := o.Svc.GetContact(ctx, o.Rep1, lead.ContactID)
		if err != nil || ct.Name != secrets[0] || ct.Email != secrets[2] || ct.WeChat != secrets[3] {
			t.Fatalf("contact: %v %+v", err, ct.ContactFields)
		}
		for _, q := range []string{"孔明", "139 1234 5678", "KongMing@shu.example"} {
			res, err := o.Svc.Search(ctx, o.Rep1, q, 10)
			if err != nil || len(res.Contacts) != 1 || res.Contacts[0].Name != secrets[0] {
				t.Errorf("search %q: %v %+v", q, err, res.Contacts)
			}
		}
		vs, err := o.Svc.Versions(ctx, o.Rep1, crm.ObjLead, lead.ID)
		if err != nil || len(vs) != 2 || !strings.Contains(string(vs[1].Fields), secrets[0]) {
			t.Fatalf("lead versions: %v %+v", err, vs)
		}
		if _, err := o.Svc.CreateContact(ctx, o.Rep2, crm.ContactFields{Name: "某人", Mobile: "13912345678"}); !crm.IsCode(err, crm.Duplicate) {
			t.Errorf("duplicate mobile through the blind index: %v", err)
		}

		// A flipped byte in the stored ciphertext: a clear integrity error.
		stored := rawString(t, raw, "SELECT mobile FROM contacts WHERE id = $1", lead.ContactID)
		flipped := stored[:10] + string(rune(stored[10]^1)) + stored[11:]
		if _, err := raw.Exec("UPDATE contacts SET mobile = $1 WHERE id = $2", flipped, lead.ContactID); err != nil {
			t.Fatal(err)
		}
		_, err = o.Svc.GetContact(ctx, o.Rep1, lead.ContactID)
		if ce, ok := err.(*crm.Error); !ok || ce.Key != "integrity" || ce.Fields[0].Field != "mobile" {
			t.Fatalf("tampered contact: %v", err)
		}
		if msg := i18n.Message("zh-CN", err); !strings.Contains(msg, "完整性") {
			t.Errorf("zh message %q", msg)
		}
		if msg := i18n.Message("en", err); !strings.Contains(msg, "integrity") {
			t.Errorf("en message %q", msg)
		}
		// Moving another person's sealed value into the field fails too.
		other, _ := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "刘备", Mobile: "13811112222"})
		theirs := rawString(t, raw, "SELECT mobile FROM contacts WHERE id = $1", other.ID)
		raw.Exec("UPDATE contacts SET mobile = $1 WHERE id = $2", theirs, lead.ContactID)
		if _, err := o.Svc.GetContact(ctx, o.Rep1, lead.ContactID); !strings.Contains(errString(err), "integrity") {
			t.Errorf("a value moved from another person: %v", err)
		}
	})
}

func aggFunc(d store.Dialect) string {
	if d == store.SQLite {
		return "GROUP_CONCAT("
	}
	return "STRING_AGG("
}

func rawString(t *testing.T, db *sql.DB, q string, args ...any) string {
	t.Helper()
	var s string
	if err := db.QueryRow(q, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestSealLegacyData upgrades rows as a version before encryption wrote
// them — plaintext fields, versions and index rows — and checks that none
// remains readable, that the service reads and finds them, and that a
// second run has nothing to do.
func TestSealLegacyData(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		ctx := context.Background()
		raw := testdb.Raw(t, d, opt)
		o := testorg.New(t, db)
		ct, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "placeholder", Mobile: "13900001111"})
		if err != nil {
			t.Fatal(err)
		}
		// Turn the row into one an old version wrote.
		for _, q := range []string{
			"UPDATE contacts SET person_key = '', name = '司马懿', mobile = '+8613900001111', email = 'zhongda@wei.example' WHERE id = $1",
			`UPDATE record_versions SET fields = '{"name":"司马懿","mobile":"+8613900001111"}' WHERE object = 'contact' AND record_id = $1`,
			"DELETE FROM search_terms WHERE object = 'contact' AND record_id = $1",
			"DELETE FROM dedup_keys WHERE object = 'contact' AND record_id = $1",
			"INSERT INTO search_terms (object, term, record_id) VALUES ('contact', '司马', $1), ('contact', '马懿', $1)",
			"INSERT INTO dedup_keys (kind, key, object, record_id) VALUES ('phone', '+8613900001111', 'contact', $1)",
		} {
			if _, err := raw.Exec(q, ct.ID); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		people, rows, err := o.Svc.SealLegacyData(ctx)
		if err != nil || people != 1 || rows != 3 {
			t.Fatalf("seal legacy: %d people, %d rows, %v", people, rows, err)
		}
		for _, q := range []string{
			"SELECT name || mobile || email FROM contacts WHERE id = $1",
			"SELECT fields FROM record_versions WHERE object = 'contact' AND record_id = $1",
			"SELECT " + aggFunc(d) + "term, ' ') FROM search_terms WHERE object = 'contact' AND record_id = $1",
			"SELECT " + aggFunc(d) + "key, ' ') FROM dedup_keys WHERE object = 'contact' AND record_id = $1",
		} {
			if got := rawString(t, raw, q, ct.ID); strings.Contains(got, "司马") || strings.Contains(got, "13900001111") || strings.Contains(got, "zhongda") {
				t.Errorf("plaintext left by the upgrade: %s → %s", q, got)
			}
		}
		got, err := o.Svc.GetContact(ctx, o.Rep1, ct.ID)
		if err != nil || got.Name != "司马懿" || got.Email != "zhongda@wei.example" {
			t.Fatalf("after upgrade: %v %+v", err, got.ContactFields)
		}
		for _, q := range []string{"司马", "13900001111"} {
			if res, err := o.Svc.Search(ctx, o.Rep1, q, 10); err != nil || len(res.Contacts) != 1 {
				t.Errorf("search %q after upgrade: %v %+v", q, err, res.Contacts)
			}
		}
		vs, err := o.Svc.Versions(ctx, o.Rep1, crm.ObjContact, ct.ID)
		if err != nil || !strings.Contains(string(vs[0].Fields), "司马懿") {
			t.Errorf("versions after upgrade: %v %+v", err, vs)
		}
		if people, rows, err := o.Svc.SealLegacyData(ctx); people+rows != 0 || err != nil {
			t.Errorf("second run: %d %d %v", people, rows, err)
		}
	})
}

// TestTOTPSecretSealed: a user's TOTP secret is stored sealed under the
// system key, works for sign-in codes, and one stored in plaintext by an
// older version is sealed by the start-up upgrade and keeps working.
func TestTOTPSecretSealed(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		ctx := context.Background()
		raw := testdb.Raw(t, d, opt)
		o := testorg.New(t, db)
		f := o.EnrolMFA(t, o.Rep1)
		stored := rawString(t, raw, "SELECT secret FROM totp_credentials WHERE user_id = $1", o.Rep1.UserID)
		if !vault.IsSealed(stored) || strings.Contains(stored, f.Secret) {
			t.Fatalf("TOTP secret stored as %q", stored)
		}
		// Enrolment confirmed a code made from the secret: the sealed one opens.
		if _, err := raw.Exec("UPDATE totp_credentials SET secret = $1 WHERE user_id = $2", f.Secret, o.Rep1.UserID); err != nil {
			t.Fatal(err)
		}
		if _, rows, err := o.Svc.SealLegacyData(ctx); err != nil || rows != 1 {
			t.Fatalf("upgrade: %d %v", rows, err)
		}
		if got := rawString(t, raw, "SELECT secret FROM totp_credentials WHERE user_id = $1", o.Rep1.UserID); !vault.IsSealed(got) {
			t.Errorf("after the upgrade the secret is %q", got)
		}
		if err := o.Svc.StepUp(ctx, o.Rep1, f.NextCode(t)); err != nil {
			t.Errorf("a TOTP code after the upgrade: %v", err)
		}
	})
}

// TestSensitiveCustomFields: values of a custom field marked sensitive are
// stored sealed — under the person's key on a contact, the records key on
// a customer — in the record and its versions, read back in the clear by
// whoever may see them, and refused as list filters (SQL cannot compare
// them); the mark cannot be dropped later.
func TestSensitiveCustomFields(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		ctx := context.Background()
		raw := testdb.Raw(t, d, opt)
		o := testorg.New(t, db)
		for _, f := range []crm.CustomField{
			{Object: crm.ObjContact, Key: "id_number", Label: "身份证号", Type: "text", Sensitive: true},
			{Object: crm.ObjCustomer, Key: "legal_rep_phone", Label: "法人电话", Type: "phone", Sensitive: true, Unique: true},
		} {
			if _, err := o.Svc.SaveCustomField(ctx, o.Admin, f); err != nil {
				t.Fatal(err)
			}
		}
		_, err := o.Svc.SaveCustomField(ctx, o.Admin, crm.CustomField{Object: crm.ObjLead, Key: "tier", Label: "等级", Type: "single", Options: []string{"a"}, Sensitive: true})
		wantCode(t, err, crm.Invalid)

		ct, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "姜维", Custom: map[string]any{"id_number": "110101199001011234"}})
		if err != nil {
			t.Fatal(err)
		}
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "天水贸易", Custom: map[string]any{"legal_rep_phone": "13811119999"}})
		for _, q := range []string{
			"SELECT custom FROM contacts WHERE id = " + strconv.FormatInt(ct.ID, 10),
			"SELECT custom FROM customers WHERE id = " + strconv.FormatInt(c.ID, 10),
			"SELECT " + aggFunc(d) + "fields, ' ') FROM record_versions",
			"SELECT " + aggFunc(d) + "key, ' ') FROM dedup_keys",
		} {
			if got := rawString(t, raw, q); strings.Contains(got, "110101199001011234") || strings.Contains(got, "13811119999") {
				t.Errorf("sensitive custom value in plaintext: %s → %s", q, got)
			}
		}
		got, err := o.Svc.GetContact(ctx, o.Rep1, ct.ID)
		if err != nil || got.Custom["id_number"] != "110101199001011234" {
			t.Fatalf("contact: %v %v", err, got.Custom)
		}
		gc, err := o.Svc.GetCustomer(ctx, o.Rep1, c.ID)
		if err != nil || gc.Custom["legal_rep_phone"] != "+8613811119999" {
			t.Fatalf("customer: %v %v", err, gc.Custom)
		}
		// An edit of another field keeps the sealed value intact.
		gc, err = o.Svc.UpdateCustomer(ctx, o.Rep1, c.ID, crm.CustomerUpdate{Version: gc.Version, Level: new("A")})
		if err != nil || gc.Custom["legal_rep_phone"] != "+8613811119999" {
			t.Fatalf("customer after an edit: %v %v", err, gc.Custom)
		}
		vs, err := o.Svc.Versions(ctx, o.Rep1, crm.ObjCustomer, c.ID)
		if err != nil || !strings.Contains(string(vs[1].Fields), "+8613811119999") {
			t.Errorf("customer versions: %v %+v", err, vs)
		}
		// Unique still holds, through the blind index.
		_, err = o.Svc.CreateCustomer(ctx, o.Rep2, service.CustomerInput{CustomerFields: crm.CustomerFields{Name: "别家", Custom: map[string]any{"legal_rep_phone": "138 1111 9999"}}})
		wantCode(t, err, crm.Duplicate)
		_, err = o.Svc.ListContacts(ctx, o.Rep1, crm.ListFilter{Custom: map[string]string{"id_number": "110101199001011234"}})
		wantCode(t, err, crm.Invalid)

		defs, _ := o.Svc.CustomFields(ctx, o.Admin, crm.ObjContact)
		defs[0].Sensitive = false
		if f, err := o.Svc.SaveCustomField(ctx, o.Admin, defs[0]); err != nil || !f.Sensitive {
			t.Errorf("the sensitive mark was dropped: %v %+v", err, f)
		}
	})
}

// TestNotesSealed: what a salesperson writes about a contact or lead is
// sealed under the person's key, in the row and in its versions, and only
// by reference in the audit trail. Notes an older release stored in
// plaintext are sealed by the start-up upgrade, once.
func TestNotesSealed(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		ctx := context.Background()
		raw := testdb.Raw(t, d, opt)
		o := testorg.New(t, db)
		const note, leadNote = "客户说下周三再联系备注甲", "线索来自展会备注乙"
		ct, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "王熙凤", Notes: note})
		if err != nil {
			t.Fatal(err)
		}
		lead, err := o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "贾探春", Company: "大观园", Notes: leadNote})
		if err != nil {
			t.Fatal(err)
		}
		plainLeft := func(when string) {
			t.Helper()
			for _, q := range []string{
				"SELECT notes FROM contacts WHERE id = $1",
				"SELECT fields FROM record_versions WHERE object = 'contact' AND record_id = $1",
				"SELECT " + aggFunc(d) + "fields, ' ') FROM audit_events WHERE object = 'contact' AND record_id = $1",
			} {
				if got := rawString(t, raw, q, ct.ID); strings.Contains(got, "备注甲") {
					t.Errorf("%s: plaintext notes in %s", when, q)
				}
			}
			if got := rawString(t, raw, "SELECT notes FROM leads WHERE id = $1", lead.ID); strings.Contains(got, "备注乙") {
				t.Errorf("%s: plaintext lead notes", when)
			}
		}
		plainLeft("written")
		if got, err := o.Svc.GetContact(ctx, o.Rep1, ct.ID); err != nil || got.Notes != note {
			t.Fatalf("contact notes read back: %v %q", err, got.Notes)
		}

		// As an older release stored them.
		var fields string
		fields = rawString(t, raw, "SELECT fields FROM record_versions WHERE object = 'contact' AND record_id = $1", ct.ID)
		var m map[string]any
		if err := json.Unmarshal([]byte(fields), &m); err != nil {
			t.Fatal(err)
		}
		m["notes"] = note
		old, _ := json.Marshal(m)
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{"UPDATE contacts SET notes = $1 WHERE id = $2", []any{note, ct.ID}},
			{"UPDATE leads SET notes = $1 WHERE id = $2", []any{leadNote, lead.ID}},
			{"UPDATE record_versions SET fields = $1 WHERE object = 'contact' AND record_id = $2", []any{string(old), ct.ID}},
			{"DELETE FROM settings WHERE name = 'upgrade.sealed_fields'", nil},
		} {
			if _, err := raw.Exec(q.sql, q.args...); err != nil {
				t.Fatalf("%s: %v", q.sql, err)
			}
		}
		if _, rows, err := o.Svc.SealLegacyData(ctx); err != nil || rows != 3 {
			t.Fatalf("upgrade: %d values sealed, %v; want 3", rows, err)
		}
		plainLeft("after the upgrade")
		if got, err := o.Svc.GetLead(ctx, o.Rep1, lead.ID); err != nil || got.Notes != leadNote {
			t.Errorf("lead notes after the upgrade: %v %q", err, got.Notes)
		}
		if vs, err := o.Svc.Versions(ctx, o.Rep1, crm.ObjContact, ct.ID); err != nil || !strings.Contains(string(vs[0].Fields), note) {
			t.Errorf("versions after the upgrade: %v %+v", err, vs)
		}
		if _, rows, err := o.Svc.SealLegacyData(ctx); err != nil || rows != 0 {
			t.Errorf("second run: %d %v", rows, err)
		}
	})
}
