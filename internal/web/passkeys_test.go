package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// passkeyOptions asks for a ceremony as the page's script does: a POST
// with the session's CSRF token in a header, answered with JSON.
func (s *site) passkeyOptions(b *browser, path string) []byte {
	s.t.Helper()
	rec := s.do(b, "POST", path, url.Values{}, map[string]string{"X-CSRF-Token": b.csrf})
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Cache-Control") != "no-store" {
		s.t.Fatalf("%s: %d %v %s", path, rec.Code, rec.Header(), rec.Body.String())
	}
	return rec.Body.Bytes()
}

// TestPasskeysInTheBrowser: a passkey is added on the second-factor page
// (first factor: recovery codes shown once), renamed, used for the
// sign-in's second step and for step-up, and removed after step-up — all
// through the same forms a typed code uses, with the answers the page's
// script would submit.
func TestPasskeysInTheBrowser(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		clock := testorg.NewClock()
		o := testorg.NewWithClock(t, db, clock)
		s := newSite(t, o.Svc)
		en := map[string]string{"Accept-Language": "en"}
		au := testorg.NewAuthenticator()
		b := s.signIn("rep1", testPassword)

		rec := s.do(b, "GET", "/account/mfa", nil, en)
		expect(t, rec, rec.Body.String(), 200, "", `data-passkey-create="/account/passkeys/challenge"`, `data-passkey-unsupported`,
			"No passkeys yet.", `/static/passkeys.`)
		// The ceremony needs the session's CSRF token like any POST.
		if rec := s.do(b, "POST", "/account/passkeys/challenge", url.Values{}, nil); rec.Code != http.StatusForbidden {
			t.Fatalf("options without CSRF token: %d", rec.Code)
		}
		opts := s.passkeyOptions(b, "/account/passkeys/challenge")
		// Without JavaScript the form arrives without an answer.
		rec = s.do(b, "POST", "/account/passkeys", url.Values{"csrf": {b.csrf}, "name": {"Laptop"}}, en)
		expect(t, rec, rec.Body.String(), 422, "", "needs a browser with JavaScript that supports passkeys", `value="Laptop"`)
		rec = s.do(b, "POST", "/account/passkeys", url.Values{"csrf": {b.csrf}, "name": {"Laptop"}, "passkey": {string(au.Create(t, opts))}}, en)
		codes := regexp.MustCompile(`<li><code>[a-z2-7-]{19}</code></li>`).FindAllString(rec.Body.String(), -1)
		expect(t, rec, rec.Body.String(), 200, "", "will not be shown again")
		if len(codes) != service.RecoveryCodeCount {
			t.Fatalf("%d recovery codes shown", len(codes))
		}
		keys, err := o.Svc.ListPasskeys(t.Context(), testorg.Actor(t, o.Svc, o.Rep1.UserID))
		if err != nil || len(keys) != 1 {
			t.Fatalf("passkeys %+v %v", keys, err)
		}
		pk := "/account/passkeys/" + id(keys[0].ID)
		rec = s.do(b, "POST", pk, url.Values{"csrf": {b.csrf}, "name": {"Work laptop"}}, en)
		expect(t, rec, rec.Body.String(), 303, "/account/mfa#passkeys")
		rec = s.do(b, "GET", "/account/mfa", nil, en)
		expect(t, rec, rec.Body.String(), 200, "", `value="Work laptop"`, `action="`+pk+`/remove"`)
		rec = s.do(b, "GET", "/account", nil, en)
		expect(t, rec, rec.Body.String(), 200, "", "1 passkeys")

		// Sign out, sign in: the password, then the passkey.
		s.do(b, "POST", "/logout", url.Values{"csrf": {b.csrf}}, nil)
		b = newBrowser()
		s.do(b, "GET", "/login", nil, nil)
		rec = s.do(b, "POST", "/login", url.Values{"username": {"rep1"}, "password": {testPassword}, "csrf": {b.csrf}, "next": {"/customers"}}, nil)
		expect(t, rec, rec.Body.String(), 303, "/login/mfa")
		rec = s.do(b, "GET", "/login/mfa?next=%2Fcustomers", nil, en)
		expect(t, rec, rec.Body.String(), 200, "", `data-passkey-get="/passkeys/challenge"`, `name="passkey"`, `name="code"`)
		answer := au.Get(t, s.passkeyOptions(b, "/passkeys/challenge"))
		rec = s.do(b, "POST", "/login/mfa", url.Values{"csrf": {b.csrf}, "passkey": {string(answer)}, "next": {"/customers"}}, nil)
		expect(t, rec, rec.Body.String(), 303, "/customers")
		rec = s.do(b, "GET", "/customers", nil, nil)
		expect(t, rec, rec.Body.String(), 200, "")

		// A replayed answer in a new sign-in is refused on the same page.
		c := newBrowser()
		s.do(c, "GET", "/login", nil, nil)
		s.do(c, "POST", "/login", url.Values{"username": {"rep1"}, "password": {testPassword}, "csrf": {c.csrf}}, nil)
		s.do(c, "GET", "/login/mfa", nil, en)
		rec = s.do(c, "POST", "/login/mfa", url.Values{"csrf": {c.csrf}, "passkey": {string(answer)}}, en)
		expect(t, rec, rec.Body.String(), 422, "", "The passkey was not accepted.", `data-passkey-get`)

		// Removing needs step-up; the step-up page offers the passkey.
		clock.Advance(service.StepUpWindow + time.Second)
		rec = s.do(b, "POST", pk+"/remove", url.Values{"csrf": {b.csrf}}, en)
		expect(t, rec, rec.Body.String(), 403, "", "Confirm with your second factor", `action="`+pk+`/remove"`,
			`name="step_up_passkey"`, `data-passkey-get="/passkeys/challenge"`)
		answer = au.Get(t, s.passkeyOptions(b, "/passkeys/challenge"))
		rec = s.do(b, "POST", pk+"/remove", url.Values{"csrf": {b.csrf}, "step_up_passkey": {string(answer)}}, en)
		expect(t, rec, rec.Body.String(), 303, "/account/mfa#passkeys")
		rec = s.do(b, "GET", "/account/mfa", nil, en)
		expect(t, rec, rec.Body.String(), 200, "", "No passkeys yet.")
		if strings.Contains(rec.Body.String(), `value="Work laptop"`) {
			t.Fatal("removed passkey still listed")
		}
		// Nothing left to confirm with: the options say so in JSON.
		rec = s.do(b, "POST", "/passkeys/challenge", url.Values{}, map[string]string{"X-CSRF-Token": b.csrf, "Accept-Language": "en"})
		expect(t, rec, rec.Body.String(), 409, "", `{"error":"You have no usable passkey for this server."}`)
	})
}
