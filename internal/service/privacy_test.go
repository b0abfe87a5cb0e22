package service_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/i18n"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// privacyOrg is the test organisation with a settable clock and a privacy
// officer (in HQ).
type privacyOrg struct {
	*testorg.Org
	Clock   *testorg.Clock
	Officer *access.Actor
}

func newPrivacyOrg(t *testing.T, db *store.DB, opt service.Options) *privacyOrg {
	t.Helper()
	clock := testorg.NewClock()
	opt.Argon2, opt.Now = testorg.CheapArgon, clock.Now
	o := testorg.NewWith(t, db, opt)
	return &privacyOrg{Org: o, Clock: clock, Officer: o.User(t, "dpo", o.HQ.ID, "privacy")}
}

// events returns the trail's events of an action that went through, newest
// first.
func events(t *testing.T, o *testorg.Org, action string) []crm.AuditEvent {
	t.Helper()
	page, err := o.Svc.AuditTrail(context.Background(), o.Admin, service.AuditQuery{Action: action, Outcome: "ok", Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return page.Items
}

// TestPrivacyRegister: only privacy officers and administrators see the
// register; a request is due after the configured days, turns overdue when
// the clock passes the deadline, and closes once — refused with a reason or
// done — each step audited on the person's record.
func TestPrivacyRegister(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newPrivacyOrg(t, db, service.Options{PrivacyDeadlineDays: 10})
		ct, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "林黛玉", Mobile: "13800001111"})
		if err != nil {
			t.Fatal(err)
		}
		in := crm.PrivacyRequestInput{Object: crm.ObjContact, RecordID: ct.ID, Kind: crm.RequestAccess}
		for _, a := range []*access.Actor{o.Rep1, o.MgrEast} {
			if _, err := o.Svc.FilePrivacyRequest(ctx, a, in); !crm.IsCode(err, crm.Forbidden) {
				t.Fatalf("filed by a non-officer: %v", err)
			}
			if _, err := o.Svc.PrivacyRequests(ctx, a, service.PrivacyQuery{}); !crm.IsCode(err, crm.Forbidden) {
				t.Fatalf("register read by a non-officer: %v", err)
			}
		}
		bad := in
		bad.RecordID = 987654
		if _, err := o.Svc.FilePrivacyRequest(ctx, o.Officer, bad); !crm.IsCode(err, crm.Invalid) {
			t.Fatalf("a request about nobody: %v", err)
		}
		r, err := o.Svc.FilePrivacyRequest(ctx, o.Officer, in)
		if err != nil {
			t.Fatal(err)
		}
		if r.PersonName != "林黛玉" || r.Status != crm.RequestOpen || !r.DueAt.Equal(r.ReceivedAt.AddDate(0, 0, 10)) {
			t.Fatalf("filed: %+v", r)
		}
		received := o.Clock.Now().Add(-48 * time.Hour)
		old, err := o.Svc.FilePrivacyRequest(ctx, o.Admin, crm.PrivacyRequestInput{Object: crm.ObjContact, RecordID: ct.ID,
			Kind: crm.RequestWithdrawal, ReceivedAt: &received, Purpose: "marketing"})
		if err != nil || !old.DueAt.Equal(old.ReceivedAt.AddDate(0, 0, 10)) {
			t.Fatalf("a request received two days ago: %v %+v", err, old)
		}

		o.Clock.Advance(9 * 24 * time.Hour) // the older request is past its deadline, the newer not yet
		page, err := o.Svc.PrivacyRequests(ctx, o.Officer, service.PrivacyQuery{Status: "overdue"})
		if err != nil || page.Overdue != 1 || len(page.Items) != 1 || page.Items[0].ID != old.ID || !page.Items[0].Overdue {
			t.Fatalf("overdue: %v %+v", err, page)
		}
		page, err = o.Svc.PrivacyRequests(ctx, o.Officer, service.PrivacyQuery{})
		if err != nil || len(page.Items) != 2 || page.Items[1].ID != r.ID || page.Items[1].Overdue { // newest first
			t.Fatalf("register: %v %+v", err, page)
		}

		if _, err := o.Svc.CompletePrivacyRequest(ctx, o.Officer, r.ID, service.PrivacyCompletion{Status: crm.RequestRefused}); !crm.IsCode(err, crm.Invalid) {
			t.Fatalf("refused without a reason: %v", err)
		}
		done, err := o.Svc.CompletePrivacyRequest(ctx, o.Officer, r.ID, service.PrivacyCompletion{Status: crm.RequestRefused,
			Reason: "identity not verified"})
		if err != nil || done.Status != crm.RequestRefused || done.CompletedAt == nil || done.HandledByName != "User dpo" {
			t.Fatalf("refuse: %v %+v", err, done)
		}
		if _, err := o.Svc.CompletePrivacyRequest(ctx, o.Officer, r.ID, service.PrivacyCompletion{Status: crm.RequestDone}); !crm.IsCode(err, crm.Conflict) {
			t.Fatalf("closed twice: %v", err)
		}
		for _, action := range []string{"privacy.request.create", "privacy.request.complete"} {
			ev := events(t, o.Org, action)
			if len(ev) == 0 || ev[0].Object != "contact" || ev[0].RecordID != ct.ID {
				t.Errorf("%s not audited on the person's record: %+v", action, ev)
			}
		}
		// A token acts as privacy officer only with the privacy scope.
		if _, err := o.Svc.CreateAPIToken(ctx, o.Rep1, service.TokenInput{Name: "x", Scopes: []string{"privacy"}}); err == nil {
			t.Error("a sales rep got a privacy token")
		}
		tok, err := o.Svc.CreateAPIToken(ctx, o.Officer, service.TokenInput{Name: "dpo", Scopes: []string{"privacy"}})
		if err != nil {
			t.Fatal(err)
		}
		ta, err := o.Svc.AuthenticateToken(ctx, tok.Secret, testorg.ClientForTest())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.PrivacyRequests(ctx, ta, service.PrivacyQuery{}); err != nil {
			t.Errorf("privacy token: %v", err)
		}
	})
}

// TestAccessExport is GDPR Art. 15/20: everything held about a person — a
// lead and the contact and opportunity it became, follow-ups about both, a
// task of the opportunity, consents, requests and who accessed them — in
// clear for the privacy officer whatever the field rules, as JSON and as a
// zip of CSV files, and the export audited.
func TestAccessExport(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		ctx := context.Background()
		o := newPrivacyOrg(t, db, service.Options{})
		lead, err := o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "薛宝钗", Company: "金陵薛家", Mobile: "13900002222", Email: "baochai@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{LeadID: lead.ID, Kind: "call", Content: "初次电话"}); err != nil {
			t.Fatal(err)
		}
		lead, err = o.Svc.ConvertLead(ctx, o.Rep1, lead.ID, crm.LeadConversion{Version: lead.Version,
			Opportunity: &crm.OpportunityFields{Name: "冷香丸", Amount: 5000}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{ContactID: lead.ContactID, Kind: "visit", Content: "=拜访蘅芜苑"}); err != nil {
			t.Fatal(err)
		}
		task, err := o.Svc.CreateTask(ctx, o.Rep1, crm.TaskFields{CustomerID: lead.CustomerID, Title: "寄送报价"})
		if err != nil {
			t.Fatal(err)
		}
		// Tasks carry no person, only (in the schema) an opportunity.
		if _, err := testdb.Raw(t, d, opt).Exec("UPDATE tasks SET opportunity_id = $1 WHERE id = $2", lead.OpportunityID, task.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.GrantConsent(ctx, o.Rep1, crm.ObjContact, lead.ContactID, crm.ConsentInput{Purpose: "newsletter", Channel: "email", Source: "展会"}); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.GetContact(ctx, o.MgrEast, lead.ContactID); err != nil { // an access the log must show
			t.Fatal(err)
		}
		if _, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "贾宝玉", Mobile: "13900003333"}); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.FilePrivacyRequest(ctx, o.Officer, crm.PrivacyRequestInput{Object: crm.ObjLead, RecordID: lead.ID, Kind: crm.RequestAccess}); err != nil {
			t.Fatal(err)
		}

		if _, err := o.Svc.ExportPerson(ctx, o.Rep1, crm.ObjContact, lead.ContactID, service.ExportJSON); !crm.IsCode(err, crm.Forbidden) {
			t.Fatalf("the owner exported as if an officer: %v", err)
		}
		if _, err := o.Svc.ExportPerson(ctx, o.Officer, crm.ObjContact, 987654, service.ExportJSON); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("export of nobody: %v", err)
		}
		e, err := o.Svc.ExportPerson(ctx, o.Officer, crm.ObjContact, lead.ContactID, service.ExportJSON)
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Contacts) != 1 || e.Contacts[0].Mobile != "+8613900002222" || len(e.Leads) != 1 || e.Leads[0].Email != "baochai@example.com" {
			t.Fatalf("records: %+v %+v", e.Contacts, e.Leads)
		}
		if len(e.FollowUps) != 2 || len(e.Opportunities) != 1 || e.Opportunities[0].Name != "冷香丸" || len(e.Tasks) != 1 || e.Tasks[0].ID != task.ID {
			t.Fatalf("follow-ups %d, opportunities %+v, tasks %+v", len(e.FollowUps), e.Opportunities, e.Tasks)
		}
		if len(e.Consents) != 1 || e.Consents[0].Source != "展会" || len(e.Requests) != 1 || e.Requests[0].PersonName != "薛宝钗" {
			t.Fatalf("consents %+v, requests %+v", e.Consents, e.Requests)
		}
		var sawView, sawConvert bool
		for _, ev := range e.Access {
			sawView = sawView || ev.Action == "contact.view" && ev.ActorName == "User mgr.east"
			sawConvert = sawConvert || ev.Action == "lead.convert"
		}
		if !sawView || !sawConvert {
			t.Errorf("access log misses the manager's view or the conversion: %+v", e.Access)
		}
		b, _ := json.Marshal(e)
		if strings.Contains(string(b), "贾宝玉") || strings.Contains(string(b), "ev1:") {
			t.Errorf("the export holds another person or ciphertext: %s", b)
		}
		// One event per record exported: each record's history shows it.
		ev := events(t, o.Org, "privacy.export")
		if len(ev) != 2 || ev[0].ActorID != o.Officer.UserID || ev[0].Object != "lead" || ev[0].RecordID != lead.ID ||
			ev[1].Object != "contact" || ev[1].RecordID != lead.ContactID || !strings.Contains(string(ev[1].Fields), `"format":"json"`) {
			t.Fatalf("export audit: %+v", ev)
		}

		// The exposure report counts the export against both records.
		rep, err := o.Svc.ExposureReport(ctx, o.Admin, service.ExposureQuery{Since: o.Clock.Now().Add(-time.Hour),
			Until: o.Clock.Now().Add(time.Hour), ActorID: o.Officer.UserID})
		if err != nil {
			t.Fatal(err)
		}
		exported := map[string]bool{}
		for _, row := range rep.Rows {
			if slices.Contains(row.Kinds, "exported") {
				exported[string(row.Object)] = true
			}
		}
		if !exported["contact"] || !exported["lead"] {
			t.Errorf("exposure of the export: %+v", rep.Rows)
		}

		// The same as a zip of CSV files.
		var buf bytes.Buffer
		if err := e.WriteCSVZip(&buf); err != nil {
			t.Fatal(err)
		}
		z, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		files := map[string][][]string{}
		for _, f := range z.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			if files[f.Name], err = csv.NewReader(bytes.NewReader(b)).ReadAll(); err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
		}
		for _, name := range []string{"summary.csv", "contacts.csv", "leads.csv", "follow_ups.csv", "opportunities.csv", "tasks.csv",
			"consents.csv", "privacy_requests.csv", "access_log.csv"} {
			if len(files[name]) == 0 {
				t.Errorf("%s missing or without a header", name)
			}
		}
		contacts := files["contacts.csv"]
		if len(contacts) != 2 || contacts[0][0] != "id" || !strings.Contains(strings.Join(contacts[1], ","), "+8613900002222") {
			t.Errorf("contacts.csv: %v", contacts)
		}
		var cells []string
		for _, row := range files["follow_ups.csv"] {
			cells = append(cells, row...)
		}
		if !strings.Contains(strings.Join(cells, "|"), "|'=拜访蘅芜苑|") {
			t.Errorf("a formula-like cell was not defused: %v", files["follow_ups.csv"])
		}
	})
}

// TestCorrection is PIPL Art. 46: completing a correction request changes
// the record through the normal edit — a new version, the contact.update
// event naming the officer, the duplicate check — in one transaction with
// the request's completion; a refused change leaves the request open.
func TestCorrection(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newPrivacyOrg(t, db, service.Options{})
		ct, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "史湘云", Mobile: "13700001111"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.CreateContact(ctx, o.Rep3, crm.ContactFields{Name: "妙玉", Mobile: "13700002222"}); err != nil {
			t.Fatal(err)
		}
		r, err := o.Svc.FilePrivacyRequest(ctx, o.Officer, crm.PrivacyRequestInput{Object: crm.ObjContact, RecordID: ct.ID, Kind: crm.RequestCorrection})
		if err != nil {
			t.Fatal(err)
		}
		fix := func(mobile string, version int64) service.PrivacyCompletion {
			return service.PrivacyCompletion{Status: crm.RequestDone, Contact: &service.ContactCorrection{
				ContactUpdate: crm.ContactUpdate{Version: version, Mobile: &mobile}}}
		}
		if _, err := o.Svc.CompletePrivacyRequest(ctx, o.Officer, r.ID, fix("13700002222", ct.Version)); !crm.IsCode(err, crm.Duplicate) {
			t.Fatalf("a correction to someone else's phone: %v", err)
		}
		if _, err := o.Svc.CompletePrivacyRequest(ctx, o.Officer, r.ID, fix("13700003333", ct.Version+5)); !crm.IsCode(err, crm.Conflict) {
			t.Fatalf("a stale correction: %v", err)
		}
		_, err = o.Svc.CompletePrivacyRequest(ctx, o.Officer, r.ID, fix("13700003333", 0))
		wantField(t, err, "contact.version", "required") // a correction without a version
		if _, err := o.Svc.CompletePrivacyRequest(ctx, o.Officer, r.ID, service.PrivacyCompletion{Status: crm.RequestDone}); !crm.IsCode(err, crm.Invalid) {
			t.Fatalf("a correction without a change: %v", err)
		}
		if got, _ := o.Svc.PrivacyRequest(ctx, o.Officer, r.ID); got.Status != crm.RequestOpen {
			t.Fatalf("a refused correction closed the request: %+v", got)
		}
		done, err := o.Svc.CompletePrivacyRequest(ctx, o.Officer, r.ID, fix("13700003333", ct.Version))
		if err != nil || done.Status != crm.RequestDone {
			t.Fatalf("correct: %v %+v", err, done)
		}
		got, err := o.Svc.GetContact(ctx, o.Rep1, ct.ID)
		if err != nil || got.Mobile != "+8613700003333" || got.Version != ct.Version+1 {
			t.Fatalf("after the correction: %v %+v", err, got)
		}
		versions, err := o.Svc.Versions(ctx, o.Rep1, crm.ObjContact, ct.ID)
		if err != nil || len(versions) != 2 {
			t.Fatalf("versions: %v %d", err, len(versions))
		}
		up := events(t, o.Org, "contact.update")
		if len(up) != 1 || up[0].ActorID != o.Officer.UserID || up[0].RecordID != ct.ID {
			t.Fatalf("the correction's edit event: %+v", up)
		}
		comp := events(t, o.Org, "privacy.request.complete")
		if len(comp) != 1 || comp[0].RequestID != up[0].RequestID || !strings.Contains(string(comp[0].Fields), `"version":2`) {
			t.Errorf("completion event: %+v", comp)
		}
	})
}

// TestErasureRequestAndLegalHold: erasing needs a privacy officer (or an
// administrator) with a fresh second factor; a legal hold refuses it with
// a message naming the hold, in both languages, and the refusal is
// audited; lifted, the request erases the person and withdraws their
// consents.
func TestErasureRequestAndLegalHold(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		ctx := context.Background()
		o := newPrivacyOrg(t, db, service.Options{})
		ct, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "王熙凤", Mobile: "13600001111"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.GrantConsent(ctx, o.Rep1, crm.ObjContact, ct.ID, crm.ConsentInput{Purpose: "marketing", Channel: "sms"}); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.ErasePerson(ctx, o.Officer, crm.ObjContact, ct.ID); !crm.IsCode(err, crm.StepUpRequired) {
			t.Fatalf("erasure without step-up: %v", err)
		}
		if err := o.Svc.SetLegalHold(ctx, o.Rep1, crm.ObjContact, ct.ID, "诉讼"); !crm.IsCode(err, crm.Forbidden) {
			t.Fatalf("a sales rep set a hold: %v", err)
		}
		if err := o.Svc.SetLegalHold(ctx, o.Officer, crm.ObjContact, ct.ID, "合同纠纷 2026-01"); err != nil {
			t.Fatal(err)
		}
		r, err := o.Svc.FilePrivacyRequest(ctx, o.Officer, crm.PrivacyRequestInput{Object: crm.ObjContact, RecordID: ct.ID, Kind: crm.RequestErasure,
			Notes: "来信寄自荣国府"})
		if err != nil || r.Notes != "来信寄自荣国府" {
			t.Fatalf("file: %v %+v", err, r)
		}
		// The notes are about the person: sealed at rest, gone with them.
		var stored string
		if err := testdb.Raw(t, d, opt).QueryRow("SELECT notes FROM privacy_requests WHERE id = $1", r.ID).Scan(&stored); err != nil || !strings.HasPrefix(stored, "ev1:") {
			t.Fatalf("notes at rest: %v %q", err, stored)
		}
		if _, err := o.Svc.CompletePrivacyRequest(ctx, o.Officer, r.ID, service.PrivacyCompletion{Status: crm.RequestDone}); !crm.IsCode(err, crm.StepUpRequired) {
			t.Fatalf("erasure request without step-up: %v", err)
		}
		o.StepUp(t, o.Officer)
		_, err = o.Svc.CompletePrivacyRequest(ctx, o.Officer, r.ID, service.PrivacyCompletion{Status: crm.RequestDone})
		if !crm.IsCode(err, crm.Conflict) {
			t.Fatalf("erased under a legal hold: %v", err)
		}
		for _, lang := range []string{i18n.ZH, i18n.EN} {
			if msg := i18n.Message(lang, err); !strings.Contains(msg, "合同纠纷 2026-01") {
				t.Errorf("%s message does not name the hold: %q", lang, msg)
			}
		}
		if _, err := o.Svc.ErasePerson(ctx, o.Officer, crm.ObjContact, ct.ID); !crm.IsCode(err, crm.Conflict) {
			t.Fatalf("ErasePerson under a legal hold: %v", err)
		}
		page, err := o.Svc.AuditTrail(ctx, o.Admin, service.AuditQuery{Action: "privacy.erase", Outcome: "denied", Object: crm.ObjContact, RecordID: ct.ID})
		if err != nil || len(page.Items) != 2 {
			t.Errorf("refusals under the hold audited: %v %d, want 2", err, len(page.Items))
		}
		if got, err := o.Svc.GetContact(ctx, o.Rep1, ct.ID); err != nil || got.Name != "王熙凤" {
			t.Fatalf("held person touched: %v %+v", err, got)
		}

		if err := o.Svc.ClearLegalHold(ctx, o.Officer, crm.ObjContact, ct.ID); err != nil {
			t.Fatal(err)
		}
		if err := o.Svc.ClearLegalHold(ctx, o.Officer, crm.ObjContact, ct.ID); !crm.IsCode(err, crm.Conflict) {
			t.Fatalf("lifting no hold: %v", err)
		}
		done, err := o.Svc.CompletePrivacyRequest(ctx, o.Officer, r.ID, service.PrivacyCompletion{Status: crm.RequestDone})
		if err != nil || done.Status != crm.RequestDone || done.PersonName != "" || done.Notes != "" || done.Kind != crm.RequestErasure {
			t.Fatalf("erase: %v %+v", err, done)
		}
		got, err := o.Svc.GetContact(ctx, o.Rep1, ct.ID)
		if err != nil || !got.Erased || got.Name != "" {
			t.Fatalf("after erasure: %v %+v", err, got)
		}
		cs, err := o.Svc.Consents(ctx, o.Rep1, crm.ObjContact, ct.ID)
		if err != nil || len(cs) != 1 || cs[0].Live() {
			t.Fatalf("consents after erasure: %v %+v", err, cs)
		}
		if n := len(events(t, o.Org, "privacy.hold.set")) + len(events(t, o.Org, "privacy.hold.clear")); n != 2 {
			t.Errorf("hold changes audited %d times", n)
		}
	})
}

// TestConsent: whoever may change a contact or lead grants and withdraws
// its person's consent, one action each; others cannot reach it; privacy
// officers can for anyone. The marketing export's list has exactly the
// people with a live consent for the purpose and channel within the
// reader's scope — never one withdrawn or erased — and a lead and the
// contact it became share their consents.
func TestConsent(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newPrivacyOrg(t, db, service.Options{})
		mk := func(a *access.Actor, name, mobile string) crm.Contact {
			t.Helper()
			c, err := o.Svc.CreateContact(ctx, a, crm.ContactFields{Name: name, Mobile: mobile})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		yes, withdrawn, erased, wrongChannel := mk(o.Rep1, "探春", "13500000001"), mk(o.Rep1, "惜春", "13500000002"),
			mk(o.Rep1, "迎春", "13500000003"), mk(o.Rep1, "元春", "13500000004")
		west := mk(o.Rep3, "李纨", "13500000005")
		lead, err := o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "香菱", Company: "薛家", Mobile: "13500000006"})
		if err != nil {
			t.Fatal(err)
		}
		news := crm.ConsentInput{Purpose: "newsletter", Channel: "email", Source: "web form"}
		grant := func(a *access.Actor, o2 crm.Object, id int64, in crm.ConsentInput) error {
			_, err := o.Svc.GrantConsent(ctx, a, o2, id, in)
			return err
		}
		for _, c := range []crm.Contact{yes, withdrawn, erased} {
			if err := grant(o.Rep1, crm.ObjContact, c.ID, news); err != nil {
				t.Fatal(err)
			}
		}
		if err := grant(o.Rep1, crm.ObjContact, wrongChannel.ID, crm.ConsentInput{Purpose: "newsletter", Channel: "sms"}); err != nil {
			t.Fatal(err)
		}
		if err := grant(o.Rep2, crm.ObjContact, yes.ID, news); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("a colleague reached rep1's contact: %v", err)
		}
		if err := grant(o.Officer, crm.ObjContact, west.ID, news); err != nil {
			t.Fatalf("the privacy officer: %v", err)
		}
		if err := grant(o.Rep1, crm.ObjLead, lead.ID, news); err != nil {
			t.Fatal(err)
		}
		if err := grant(o.Rep1, crm.ObjContact, yes.ID, news); err != nil { // already live: no change
			t.Fatal(err)
		}
		if err := grant(o.Rep1, crm.ObjContact, yes.ID, crm.ConsentInput{Purpose: "spam", Channel: "email"}); !crm.IsCode(err, crm.Invalid) {
			t.Fatalf("an unknown purpose: %v", err)
		}
		got, err := o.Svc.WithdrawConsent(ctx, o.Rep1, crm.ObjContact, withdrawn.ID, crm.ConsentInput{Purpose: "newsletter", Channel: "email"})
		if err != nil || len(got) != 1 || got[0].WithdrawnAt == nil {
			t.Fatalf("withdraw: %v %+v", err, got)
		}
		if again, err := o.Svc.WithdrawConsent(ctx, o.Rep1, crm.ObjContact, withdrawn.ID, crm.ConsentInput{Purpose: "newsletter", Channel: "email"}); err != nil || len(again) != 0 {
			t.Fatalf("withdrawing twice: %v %+v", err, again)
		}
		o.StepUp(t, o.Officer)
		if _, err := o.Svc.ErasePerson(ctx, o.Officer, crm.ObjContact, erased.ID); err != nil {
			t.Fatal(err)
		}
		lead, err = o.Svc.ConvertLead(ctx, o.Rep1, lead.ID, crm.LeadConversion{Version: lead.Version})
		if err != nil {
			t.Fatal(err)
		}

		list := func(a *access.Actor) map[string]bool {
			t.Helper()
			people, err := o.Svc.PeopleWithConsent(ctx, a, "newsletter", "email")
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]bool{}
			for _, p := range people {
				out[string(p.Object)+":"+itoa(p.ID)] = true
			}
			return out
		}
		want := map[string]bool{"contact:" + itoa(yes.ID): true, "lead:" + itoa(lead.ID): true, "contact:" + itoa(lead.ContactID): true}
		if got := list(o.Rep1); !sameSet(got, want) {
			t.Errorf("rep1's consenting people = %v, want %v", got, want)
		}
		if got := list(o.Rep3); !sameSet(got, map[string]bool{"contact:" + itoa(west.ID): true}) {
			t.Errorf("rep3's consenting people = %v", got)
		}
		if _, err := o.Svc.PeopleWithConsent(ctx, o.Rep1, "newsletter", "fax"); !crm.IsCode(err, crm.Invalid) {
			t.Errorf("an unknown channel: %v", err)
		}
		cs, err := o.Svc.Consents(ctx, o.Rep1, crm.ObjContact, lead.ContactID)
		if err != nil || len(cs) != 1 || cs[0].Object != crm.ObjLead {
			t.Errorf("the contact a lead became has the lead's consents: %v %+v", err, cs)
		}
		if n := len(events(t, o.Org, "consent.grant")); n != 6 {
			t.Errorf("consent.grant audited %d times, want 6", n)
		}
	})
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func sameSet(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}
