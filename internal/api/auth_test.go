package api_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// session returns the headers of a browser session (cookie and CSRF
// header) for a completed sign-in.
func session(res service.LoginResult) map[string]string {
	return map[string]string{"Cookie": httpx.SessionCookie + "=" + res.Token, httpx.CSRFHeader: res.CSRFToken}
}

// TestTokenRulesOverHTTP: scopes, expiry, revocation and the IP allow-list
// as an API client meets them: 403 for what the scopes leave out, 401
// problem JSON for a token that is refused altogether.
func TestTokenRulesOverHTTP(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testorg.NewClock()
		o := testorg.NewWithClock(t, db, clock)
		srv := newServer(t, o)
		o.Customer(t, o.Rep1, crm.CustomerFields{Name: "Readable Co"})
		login, err := o.Svc.Login(ctx, "rep1", testorg.Password, testorg.ClientForTest())
		if err != nil {
			t.Fatal(err)
		}
		sess := session(login)
		en := map[string]string{"Accept-Language": "en"}

		newToken := func(body string) string {
			t.Helper()
			out := scenario{name: "create token " + body, method: "POST", path: "/api/v1/tokens", header: sess, body: body, wantStatus: 201,
				wantContains: []string{`"secret":"cst_`}}.run(t, srv)
			var tok struct{ Secret string }
			json.Unmarshal([]byte(out), &tok)
			return tok.Secret
		}
		scenario{name: "token without scopes", method: "POST", path: "/api/v1/tokens", header: sess, body: `{"name":"x"}`, wantStatus: 422,
			wantContains: []string{`"field":"scopes"`, `"rule":"required"`}}.run(t, srv)
		scenario{name: "token beyond the role", method: "POST", path: "/api/v1/tokens", header: sess, body: `{"name":"x","scopes":["admin"]}`,
			wantStatus: 422, wantContains: []string{`"rule":"beyond_role"`}}.run(t, srv)
		scenario{name: "bad allow-list", method: "POST", path: "/api/v1/tokens", header: sess,
			body: `{"name":"x","scopes":["customer:read"],"allowed_ips":["localhost"]}`, wantStatus: 422,
			wantContains: []string{`"field":"allowed_ips"`, `"rule":"cidr"`}}.run(t, srv)

		reader := newToken(`{"name":"reader","scopes":["customer:read"]}`)
		scenario{name: "read within scope", token: reader, method: "GET", path: "/api/v1/customers", wantStatus: 200,
			wantContains: []string{"Readable Co"}}.run(t, srv)
		scenario{name: "write outside scope", token: reader, method: "POST", path: "/api/v1/customers", body: `{"name":"Nope"}`,
			wantStatus: 403, wantContains: []string{`"code":"forbidden"`}}.run(t, srv)
		scenario{name: "object outside scope", token: reader, method: "GET", path: "/api/v1/tasks", wantStatus: 403}.run(t, srv)

		office := newToken(`{"name":"office","scopes":["customer:read"],"allowed_ips":["10.0.0.0/8"]}`)
		scenario{name: "outside the allow-list", token: office, method: "GET", path: "/api/v1/customers", header: en, wantStatus: 401,
			wantContains: []string{`"code":"unauthenticated"`, "not accepted from your address"}, wantNotContains: []string{"Readable"}}.run(t, srv)
		local := newToken(`{"name":"local","scopes":["customer:read"],"allowed_ips":["127.0.0.1", "::1"]}`)
		scenario{name: "inside the allow-list", token: local, method: "GET", path: "/api/v1/customers", wantStatus: 200}.run(t, srv)

		expires := clock.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		short := newToken(`{"name":"short","scopes":["customer:read"],"expires_at":"` + expires + `"}`)
		scenario{name: "before expiry", token: short, method: "GET", path: "/api/v1/customers", wantStatus: 200}.run(t, srv)
		clock.Advance(time.Hour + time.Second)
		scenario{name: "expired", token: short, method: "GET", path: "/api/v1/customers", header: en, wantStatus: 401,
			wantContains: []string{"has expired"}}.run(t, srv)

		body := scenario{name: "list shows scopes and last use", method: "GET", path: "/api/v1/tokens", header: sess, wantStatus: 200,
			wantContains:    []string{`"scopes":["customer:read"]`, `"allowed_ips":["127.0.0.1/32","::1/128"]`, `"last_used_ip":"127.0.0.1"`},
			wantNotContains: []string{reader, local}}.run(t, srv)
		var list struct {
			Items []struct {
				ID   int64
				Name string
			}
		}
		json.Unmarshal([]byte(body), &list)
		for _, it := range list.Items {
			if it.Name == "local" {
				scenario{name: "revoke", method: "DELETE", path: "/api/v1/tokens/" + strconv.FormatInt(it.ID, 10), header: sess, wantStatus: 204}.run(t, srv)
			}
		}
		scenario{name: "revoked", token: local, method: "GET", path: "/api/v1/customers", header: en, wantStatus: 401,
			wantContains: []string{"was revoked"}}.run(t, srv)
	})
}

// TestTokenCannotManageAccount: an API token, even one that may only read
// customers, cannot list or end its owner's sessions, list or revoke the
// owner's other tokens, or look at the second factor — a leaked token must
// not sign its owner out or revoke the token that would replace it. Every
// such call answers 403 session_required; the browser session still can.
func TestTokenCannotManageAccount(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		srv := newServer(t, o)
		login, err := o.Svc.Login(ctx, "rep1", testorg.Password, testorg.ClientForTest())
		if err != nil {
			t.Fatal(err)
		}
		sess := session(login)
		reader, err := o.Svc.CreateAPIToken(ctx, o.Rep1, service.TokenInput{Name: "reader", Scopes: []string{"customer:read"}})
		if err != nil {
			t.Fatal(err)
		}
		other, err := o.Svc.CreateAPIToken(ctx, o.Rep1, service.TokenInput{Name: "other", Scopes: []string{"customer:read"}})
		if err != nil {
			t.Fatal(err)
		}
		sessions, err := o.Svc.ListSessions(ctx, o.Rep1, 0)
		if err != nil || len(sessions) == 0 {
			t.Fatalf("sessions %v, %v", sessions, err)
		}
		me := strconv.FormatInt(o.Rep1.UserID, 10)
		refused := []wantReq{
			{"GET", "/api/v1/sessions"},
			{"GET", "/api/v1/sessions?user_id=" + me},
			{"DELETE", "/api/v1/sessions/" + strconv.FormatInt(sessions[0].ID, 10)},
			{"DELETE", "/api/v1/users/" + me + "/sessions"},
			{"GET", "/api/v1/tokens"},
			{"DELETE", "/api/v1/tokens/" + strconv.FormatInt(other.ID, 10)},
			{"GET", "/api/v1/account/mfa"},
			{"POST", "/api/v1/account/mfa/totp"},
		}
		for _, r := range refused {
			scenario{name: "token: " + r.method + " " + r.path, token: reader.Secret, method: r.method, path: r.path,
				header: map[string]string{"Accept-Language": "en"}, wantStatus: 403, wantContains: []string{"needs a browser session"}}.run(t, srv)
		}
		// Nothing was ended or revoked: the session and both tokens still work.
		scenario{name: "session still live", method: "GET", path: "/api/v1/sessions", header: sess, wantStatus: 200,
			wantContains: []string{`"current":true`}}.run(t, srv)
		scenario{name: "other token still live", token: other.Secret, method: "GET", path: "/api/v1/customers", wantStatus: 200}.run(t, srv)
		scenario{name: "session lists tokens", method: "GET", path: "/api/v1/tokens", header: sess, wantStatus: 200,
			wantContains: []string{`"name":"other"`}}.run(t, srv)
	})
}

// TestAdministratorChosenPasswordOverHTTP: a session of a user an
// administrator created with a chosen password, or whose password an
// administrator reset, reaches nothing in the API but 403
// password_change_required until the user changes it.
func TestAdministratorChosenPasswordOverHTTP(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		srv := newServer(t, o)
		const chosen = "chosen by the admin 1"
		if _, err := o.Svc.CreateUser(ctx, o.Admin, service.UserInput{Password: chosen, User: crm.User{Username: "newbie",
			DisplayName: "Newbie", DepartmentID: o.East.ID, RoleID: o.Roles["sales"].ID}}); err != nil {
			t.Fatal(err)
		}
		o.StepUp(t, o.Admin)
		if err := o.Svc.SetUserPassword(ctx, o.Admin, o.Rep1.UserID, chosen); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"newbie", "rep1"} {
			login, err := o.Svc.Login(ctx, name, chosen, testorg.ClientForTest())
			if err != nil {
				t.Fatal(err)
			}
			sess := mergeHeaders(session(login), map[string]string{"Accept-Language": "en"})
			scenario{name: name + " lists customers", method: "GET", path: "/api/v1/customers", header: sess, wantStatus: 403,
				wantContains: []string{"Change your one-time password first"}}.run(t, srv)
			a, err := o.Svc.Authenticate(ctx, login.Token, testorg.ClientForTest())
			if err != nil {
				t.Fatal(err)
			}
			if err := o.Svc.ChangePassword(ctx, a, chosen, "my own secret 99"); err != nil {
				t.Fatal(err)
			}
			scenario{name: name + " after the change", method: "GET", path: "/api/v1/customers", header: sess, wantStatus: 200}.run(t, srv)
		}
	})
}

// wantReq is a method and a path.
type wantReq struct{ method, path string }

// TestMFAAndStepUpOverHTTP: a pending sign-in opens nothing, risky calls
// answer 403 step_up_required until the session steps up, tokens can never
// step up, and a role that requires MFA closes the API until enrolment.
func TestMFAAndStepUpOverHTTP(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testorg.NewClock()
		o := testorg.NewWithClock(t, db, clock)
		srv := newServer(t, o)
		c := testorg.ClientForTest()
		en := map[string]string{"Accept-Language": "en"}
		if err := o.Svc.ChangePassword(ctx, o.Admin, o.AdminPassword, "the admin's own password"); err != nil {
			t.Fatal(err)
		}
		f := o.EnrolMFA(t, o.Admin)
		repLogin, _ := o.Svc.Login(ctx, "rep1", testorg.Password, c)
		rep1 := strconv.FormatInt(o.Rep1.UserID, 10)

		pending, err := o.Svc.Login(ctx, "admin", "the admin's own password", c)
		if err != nil || !pending.MFARequired {
			t.Fatalf("admin login: %+v %v", pending, err)
		}
		scenario{name: "pending sign-in opens nothing", method: "GET", path: "/api/v1/me", header: session(pending), wantStatus: 401,
			wantContains: []string{`"code":"unauthenticated"`}}.run(t, srv)
		pa, _ := o.Svc.Authenticate(ctx, pending.Token, c)
		done, err := o.Svc.CompleteLogin(ctx, pa, f.Recovery[0])
		f.Recovery = f.Recovery[1:] // used
		if err != nil {
			t.Fatal(err)
		}
		admin := session(done)
		clock.Advance(service.StepUpWindow + time.Minute)
		scenario{name: "list a user's sessions needs no step-up", method: "GET", path: "/api/v1/sessions?user_id=" + rep1, header: admin,
			wantStatus: 200, wantContains: []string{`"current":false`}}.run(t, srv)
		scenario{name: "ending them does", method: "DELETE", path: "/api/v1/users/" + rep1 + "/sessions", header: mergeHeaders(admin, en),
			wantStatus: 403, wantContains: []string{`"code":"step_up_required"`, "more than 5 minutes ago"}}.run(t, srv)
		scenario{name: "wrong step-up code", method: "POST", path: "/api/v1/account/step-up", header: admin, body: `{"code":"000000"}`,
			wantStatus: 422, wantContains: []string{`"field":"code"`}}.run(t, srv)
		scenario{name: "step up", method: "POST", path: "/api/v1/account/step-up", header: admin,
			body: `{"code":"` + testorg.Code(t, f.Secret, clock.Now()) + `"}`, wantStatus: 204}.run(t, srv)
		scenario{name: "ending them now works", method: "DELETE", path: "/api/v1/users/" + rep1 + "/sessions", header: admin,
			wantStatus: 200, wantContains: []string{`"ended":1`}}.run(t, srv)
		scenario{name: "the rep's session ended", method: "GET", path: "/api/v1/me", header: session(repLogin), wantStatus: 401}.run(t, srv)

		// An administrator's token, with every scope, still cannot step up.
		adminTok := o.Token(t, o.Admin)
		scenario{name: "token refused step-up operation", token: adminTok, method: "POST", path: "/api/v1/users/" + rep1 + "/mfa/reset",
			header: en, wantStatus: 403, wantContains: []string{`"code":"step_up_required"`, "API tokens cannot"}}.run(t, srv)
		scenario{name: "token cannot step up", token: adminTok, method: "POST", path: "/api/v1/account/step-up",
			body: `{"code":"123456"}`, wantStatus: 403, wantContains: []string{`"code":"step_up_required"`}}.run(t, srv)

		// A role that requires MFA closes the API (tokens too) until enrolment.
		repTok := o.Token(t, o.Rep1)
		sales := o.Roles["sales"]
		sales.RequireMFA = true
		o.StepUp(t, o.Admin)
		if _, err := o.Svc.SaveRole(ctx, o.Admin, sales); err != nil {
			t.Fatal(err)
		}
		scenario{name: "token of a user who must enrol", token: repTok, method: "GET", path: "/api/v1/customers", wantStatus: 403,
			wantContains: []string{`"code":"forbidden"`}}.run(t, srv)
		repLogin, _ = o.Svc.Login(ctx, "rep1", testorg.Password, c)
		rep := session(repLogin)
		scenario{name: "session of a user who must enrol", method: "GET", path: "/api/v1/customers", header: rep, wantStatus: 403}.run(t, srv)
		scenario{name: "status says why", method: "GET", path: "/api/v1/account/mfa", header: rep, wantStatus: 200,
			wantContains: []string{`"required_by_role":true`, `"enrolled":false`}}.run(t, srv)
		out := scenario{name: "begin", method: "POST", path: "/api/v1/account/mfa/totp", header: rep, wantStatus: 201,
			wantContains: []string{`"otpauth_uri":"otpauth://totp/Custos:rep1?`}}.run(t, srv)
		var enrol struct{ Secret string }
		json.Unmarshal([]byte(out), &enrol)
		scenario{name: "token cannot enrol", token: repTok, method: "POST", path: "/api/v1/account/mfa/totp", wantStatus: 403}.run(t, srv)
		scenario{name: "confirm", method: "POST", path: "/api/v1/account/mfa/totp/confirm", header: rep,
			body: `{"code":"` + testorg.Code(t, enrol.Secret, clock.Now()) + `"}`, wantStatus: 200, wantContains: []string{`"recovery_codes":["`}}.run(t, srv)
		scenario{name: "open again", method: "GET", path: "/api/v1/customers", header: rep, wantStatus: 200}.run(t, srv)
		scenario{name: "token open again", token: repTok, method: "GET", path: "/api/v1/customers", wantStatus: 200}.run(t, srv)
	})
}

// TestAdministratorEnrolsFirstOverHTTP: a new organisation's administrator
// role requires a second factor (issue 12 §5): the administrator's session
// reaches nothing in the API but enrolment, and their token (one made
// before, as on a database upgraded to the requirement) nothing at all,
// until a factor is confirmed.
func TestAdministratorEnrolsFirstOverHTTP(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.NewAsShipped(t, db, service.Options{Argon2: testorg.CheapArgon})
		srv := newServer(t, o)
		tok := o.Token(t, o.Admin)
		const chosen = "the admin's own password"
		if err := o.Svc.ChangePassword(ctx, o.Admin, o.AdminPassword, chosen); err != nil {
			t.Fatal(err)
		}
		login, err := o.Svc.Login(ctx, "admin", chosen, testorg.ClientForTest())
		if err != nil || login.MFARequired {
			t.Fatalf("admin login: %+v %v", login, err)
		}
		admin := mergeHeaders(session(login), map[string]string{"Accept-Language": "en"})
		refused := []string{"/api/v1/me", "/api/v1/customers", "/api/v1/directory", "/api/v1/audit-events"}
		for _, path := range refused {
			scenario{name: "session " + path, method: "GET", path: path, header: admin, wantStatus: 403,
				wantContains: []string{"Your role requires a second factor"}}.run(t, srv)
			scenario{name: "token " + path, token: tok, method: "GET", path: path, wantStatus: 403}.run(t, srv)
		}
		scenario{name: "no token made meanwhile", method: "POST", path: "/api/v1/tokens", header: admin,
			body: `{"name":"x","scopes":["customer:read"]}`, wantStatus: 403}.run(t, srv)
		scenario{name: "status says why", method: "GET", path: "/api/v1/account/mfa", header: admin, wantStatus: 200,
			wantContains: []string{`"required_by_role":true`, `"enrolled":false`}}.run(t, srv)
		out := scenario{name: "begin", method: "POST", path: "/api/v1/account/mfa/totp", header: admin, wantStatus: 201,
			wantContains: []string{`"otpauth_uri":"otpauth://totp/Custos:admin?`}}.run(t, srv)
		var enrol struct{ Secret string }
		json.Unmarshal([]byte(out), &enrol)
		scenario{name: "confirm", method: "POST", path: "/api/v1/account/mfa/totp/confirm", header: admin,
			body: `{"code":"` + testorg.Code(t, enrol.Secret, o.Now()) + `"}`, wantStatus: 200}.run(t, srv)
		for _, path := range refused {
			scenario{name: "session after enrolment " + path, method: "GET", path: path, header: admin, wantStatus: 200}.run(t, srv)
			scenario{name: "token after enrolment " + path, token: tok, method: "GET", path: path, wantStatus: 200}.run(t, srv)
		}
	})
}

func mergeHeaders(hs ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, h := range hs {
		for k, v := range h {
			out[k] = v
		}
	}
	return out
}
