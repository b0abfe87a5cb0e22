package web

import (
	"archive/zip"
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// TestPrivacyPages walks the privacy pages in a browser: the owner grants
// and withdraws a consent on the contact page (one button each); the
// privacy officer files requests (an old one shows overdue), corrects the
// contact through the request, sets a legal hold that stops the erasure
// with a message naming it, downloads the export, lifts the hold and
// erases with a fresh second factor; a sales rep sees none of it.
func TestPrivacyPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		en := map[string]string{"Accept-Language": "en"}
		officer := o.t.User(t, "dpo", o.hq.ID, "privacy")
		ct, err := o.svc.CreateContact(ctx, o.rep1, crm.ContactFields{Name: "紫鹃", Mobile: "13200001111"})
		noErr(t, err)
		contact := "/contacts/" + id(ct.ID)

		// The owner: one form grants, one button withdraws.
		rep := s.signIn("rep1", testPassword)
		rec := s.do(rep, "GET", contact, nil, en)
		expect(t, rec, rec.Body.String(), 200, "", `id="consents"`, "No consents recorded.", `action="`+contact+`/consents"`)
		rec = s.do(rep, "POST", contact+"/consents", url.Values{"csrf": {rep.csrf}, "purpose": {"newsletter"}, "channel": {"email"}, "source": {"潇湘馆登记"}}, en)
		expect(t, rec, rec.Body.String(), 303, contact+"#consents")
		rec = s.do(rep, "GET", contact, nil, en)
		expect(t, rec, rec.Body.String(), 200, "", "Newsletter · E-mail · 潇湘馆登记", `action="`+contact+`/consents/withdraw"`)
		rec = s.do(rep, "POST", contact+"/consents/withdraw", url.Values{"csrf": {rep.csrf}, "purpose": {"newsletter"}, "channel": {"email"}}, en)
		expect(t, rec, rec.Body.String(), 303, contact+"#consents")
		rec = s.do(rep, "GET", contact, nil, en)
		expect(t, rec, rec.Body.String(), 200, "", "No consents recorded.", "withdrawn ")
		for _, p := range []string{"/privacy", "/privacy/people/contact/" + id(ct.ID), "/privacy/retention"} {
			if rec := s.do(rep, "GET", p, nil, en); rec.Code != 403 || strings.Contains(rec.Body.String(), "13200001111") {
				t.Fatalf("a sales rep opened %s: %d", p, rec.Code)
			}
		}
		if strings.Contains(s.do(rep, "GET", "/", nil, en).Body.String(), `href="/privacy"`) {
			t.Error("the menu offers the privacy pages to a sales rep")
		}

		// The officer files requests.
		dpo := s.signIn("dpo", testPassword)
		rec = s.do(dpo, "GET", "/privacy", nil, en)
		expect(t, rec, rec.Body.String(), 200, "", `href="/privacy" aria-current="page"`, "No requests.", "The deadline is 30 days after receipt")
		rec = s.do(dpo, "POST", "/privacy/requests", url.Values{"csrf": {dpo.csrf}, "object": {"contact"}, "kind": {"access"}, "notes": {"来信"}}, en)
		expect(t, rec, rec.Body.String(), 422, "", "Record number: is required", ">来信</textarea>")
		old := time.Now().AddDate(0, 0, -40).Format(time.DateOnly)
		rec = s.do(dpo, "POST", "/privacy/requests", url.Values{"csrf": {dpo.csrf}, "object": {"contact"}, "record_id": {id(ct.ID)},
			"kind": {"access"}, "received_at": {old}}, en)
		expect(t, rec, rec.Body.String(), 303, "/privacy/requests/")
		rec = s.do(dpo, "GET", "/privacy", nil, en)
		expect(t, rec, rec.Body.String(), 200, "", "1 open requests are past their deadline.", `class="overdue"`, "紫鹃")

		// A correction, through the request.
		rec = s.do(dpo, "POST", "/privacy/requests", url.Values{"csrf": {dpo.csrf}, "object": {"contact"}, "record_id": {id(ct.ID)}, "kind": {"correction"}}, en)
		expect(t, rec, rec.Body.String(), 303, "/privacy/requests/")
		req := rec.Header().Get("Location")
		rec = s.do(dpo, "GET", req, nil, en)
		expect(t, rec, rec.Body.String(), 200, "", `name="mobile" value="&#43;8613200001111"`, `name="version" value="1"`, "Apply the correction")
		form := url.Values{"csrf": {dpo.csrf}, "status": {"done"}, "object": {"contact"}, "version": {"1"}, "name": {"紫鹃"}, "mobile": {"12"}}
		rec = s.do(dpo, "POST", req+"/complete", form, en)
		expect(t, rec, rec.Body.String(), 422, "", "is not a valid phone number", `value="12"`)
		form.Set("mobile", "13200002222")
		rec = s.do(dpo, "POST", req+"/complete", form, en)
		expect(t, rec, rec.Body.String(), 303, req)
		got, err := o.svc.GetContact(ctx, o.rep1, ct.ID)
		if err != nil || got.Mobile != "+8613200002222" {
			t.Fatalf("corrected: %v %+v", err, got)
		}

		// The person's page, a legal hold and the export.
		person := "/privacy/people/contact/" + id(ct.ID)
		rec = s.do(dpo, "POST", person+"/hold", url.Values{"csrf": {dpo.csrf}, "reason": {""}}, en)
		expect(t, rec, rec.Body.String(), 422, "", "Reason: is required")
		rec = s.do(dpo, "POST", person+"/hold", url.Values{"csrf": {dpo.csrf}, "reason": {"宝玉失玉案"}}, en)
		expect(t, rec, rec.Body.String(), 303, person)
		rec = s.do(dpo, "GET", person, nil, en)
		expect(t, rec, rec.Body.String(), 200, "", "8613200002222", "宝玉失玉案", "Lift legal hold", "contact.update", "consent.withdraw")
		rec = s.do(dpo, "GET", person+"/export?format=csv", nil, en)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/zip" || !strings.Contains(rec.Header().Get("Content-Disposition"), "attachment") {
			t.Fatalf("csv export: %d %v", rec.Code, rec.Header())
		}
		if _, err := zip.NewReader(bytes.NewReader(rec.Body.Bytes()), int64(rec.Body.Len())); err != nil {
			t.Fatalf("the export is no zip: %v", err)
		}

		// Erasure: a second factor first, then the hold stops it.
		rec = s.do(dpo, "POST", "/privacy/requests", url.Values{"csrf": {dpo.csrf}, "object": {"contact"}, "record_id": {id(ct.ID)}, "kind": {"erasure"}}, en)
		expect(t, rec, rec.Body.String(), 303, "/privacy/requests/")
		erase := rec.Header().Get("Location") + "/complete"
		rec = s.do(dpo, "POST", erase, url.Values{"csrf": {dpo.csrf}, "status": {"done"}}, en)
		expect(t, rec, rec.Body.String(), 403, "", "you have none yet")
		f := o.t.EnrolMFA(t, officer) // from another device: this session has not verified it
		rec = s.do(dpo, "POST", erase, url.Values{"csrf": {dpo.csrf}, "status": {"done"}}, en)
		expect(t, rec, rec.Body.String(), 403, "", "Confirm with your second factor", `name="step_up_code"`)
		rec = s.do(dpo, "POST", erase, url.Values{"csrf": {dpo.csrf}, "status": {"done"}, "step_up_code": {f.Recovery[0]}}, en)
		expect(t, rec, rec.Body.String(), 409, "", "under a legal hold (宝玉失玉案)")
		rec = s.do(dpo, "POST", person+"/hold/clear", url.Values{"csrf": {dpo.csrf}}, en)
		expect(t, rec, rec.Body.String(), 303, person)
		rec = s.do(dpo, "POST", erase, url.Values{"csrf": {dpo.csrf}, "status": {"done"}}, en)
		expect(t, rec, rec.Body.String(), 303, strings.TrimSuffix(erase, "/complete"))
		if got, err := o.svc.GetContact(ctx, o.rep1, ct.ID); err != nil || !got.Erased {
			t.Fatalf("not erased: %v %+v", err, got)
		}

		// Retention: a change needs the second factor (fresh from above).
		rec = s.do(dpo, "GET", "/privacy/retention", nil, en)
		expect(t, rec, rec.Body.String(), 200, "", `action="/privacy/retention/contact"`, `action="/privacy/retention/lead"`)
		rec = s.do(dpo, "POST", "/privacy/retention/lead", url.Values{"csrf": {dpo.csrf}, "archive_months": {"60"}, "destroy_years": {"2"}}, en)
		expect(t, rec, rec.Body.String(), 422, "", "cannot be later than the destruction")
		rec = s.do(dpo, "POST", "/privacy/retention/lead", url.Values{"csrf": {dpo.csrf}, "archive_months": {"12"}, "destroy_years": {"3"}}, en)
		expect(t, rec, rec.Body.String(), 303, "/privacy/retention")
		rec = s.do(dpo, "GET", "/privacy/retention", nil, en)
		expect(t, rec, rec.Body.String(), 200, "", `value="12"`, `value="3"`)
	})
}
