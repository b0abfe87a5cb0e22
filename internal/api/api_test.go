package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"custos/internal/access"
	"custos/internal/api"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

type scenario struct {
	name            string
	token           string // bearer token; "" sends none
	method, path    string
	body            string
	header          map[string]string
	wantStatus      int
	wantContains    []string
	wantNotContains []string
}

func newServer(t *testing.T, o *testorg.Org) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	a := api.New(o.Svc, httpx.Config{}, nil)
	a.Register(mux)
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(a.DenyCrossOrigin))
	srv := httptest.NewServer(httpx.Middleware(cop.Handler(mux)))
	t.Cleanup(srv.Close)
	return srv
}

func token(t *testing.T, o *testorg.Org, a *access.Actor) string {
	t.Helper()
	tok, err := o.Svc.CreateAPIToken(context.Background(), a, service.TokenInput{Name: "test", Scopes: testorg.TokenScopes(a)})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Secret
}

func (sc scenario) run(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	req, _ := http.NewRequest(sc.method, srv.URL+sc.path, strings.NewReader(sc.body))
	if sc.token != "" {
		req.Header.Set("Authorization", "Bearer "+sc.token)
	}
	if sc.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range sc.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	body := string(b)
	if resp.StatusCode != sc.wantStatus {
		t.Errorf("%s: status %d, want %d; body %s", sc.name, resp.StatusCode, sc.wantStatus, body)
	}
	if resp.StatusCode >= 400 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		t.Errorf("%s: error content type %q", sc.name, resp.Header.Get("Content-Type"))
	}
	for _, s := range sc.wantContains {
		if !strings.Contains(body, s) {
			t.Errorf("%s: body lacks %q: %s", sc.name, s, body)
		}
	}
	for _, s := range sc.wantNotContains {
		if strings.Contains(body, s) {
			t.Errorf("%s: body contains %q: %s", sc.name, s, body)
		}
	}
	return body
}

func TestCustomerAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := testorg.New(t, db)
		srv := newServer(t, o)
		rep1, rep2, mgr := token(t, o, o.Rep1), token(t, o, o.Rep2), token(t, o, o.MgrEast)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "上海云杉软件有限公司", Phone: "13912345678"})
		id := strconv.FormatInt(c.ID, 10)
		zh := map[string]string{"Accept-Language": "zh-CN"}
		en := map[string]string{"Accept-Language": "en"}

		scenarios := []scenario{
			{name: "no token", method: "GET", path: "/api/v1/customers", wantStatus: 401},
			{name: "bad token", token: "cst_nope", method: "GET", path: "/api/v1/customers", wantStatus: 401},
			{name: "own list", token: rep1, method: "GET", path: "/api/v1/customers", wantStatus: 200, wantContains: []string{"云杉", `"total":1`}},
			{name: "other rep list", token: rep2, method: "GET", path: "/api/v1/customers", wantStatus: 200, wantContains: []string{`"total":0`}, wantNotContains: []string{"云杉"}},
			{name: "other rep search by phone", token: rep2, method: "GET", path: "/api/v1/customers?q=139+1234+5678", wantStatus: 200, wantNotContains: []string{"云杉"}},
			{name: "own search bigram", token: rep1, method: "GET", path: "/api/v1/customers?q=%E4%BA%91%E6%9D%89", wantStatus: 200, wantContains: []string{"云杉"}},
			{name: "other rep read", token: rep2, method: "GET", path: "/api/v1/customers/" + id, wantStatus: 404, wantNotContains: []string{"云杉"}},
			{name: "missing record same answer", token: rep2, method: "GET", path: "/api/v1/customers/999999", wantStatus: 404},
			{name: "manager reads subtree", token: mgr, method: "GET", path: "/api/v1/customers/" + id, wantStatus: 200, wantContains: []string{"云杉"}},
			{name: "other rep update", token: rep2, method: "PATCH", path: "/api/v1/customers/" + id, body: `{"version":1,"name":"x"}`, wantStatus: 404},
			{name: "other rep delete", token: rep2, method: "DELETE", path: "/api/v1/customers/" + id, wantStatus: 404},
			{name: "mass assignment owner on update", token: rep1, method: "PATCH", path: "/api/v1/customers/" + id, body: `{"version":1,"owner_id":5}`, wantStatus: 422, wantContains: []string{`"field":"owner_id"`, `"rule":"unknown"`}},
			{name: "mass assignment version fields on create", token: rep1, method: "POST", path: "/api/v1/customers", body: `{"name":"A","created_by":1}`, wantStatus: 422, wantContains: []string{`"field":"created_by"`}},
			{name: "mass assignment id on create", token: rep1, method: "POST", path: "/api/v1/customers", body: `{"name":"A","id":7}`, wantStatus: 422},
			{name: "owner outside scope on create", token: rep1, method: "POST", path: "/api/v1/customers", body: `{"name":"B","owner_id":` + strconv.FormatInt(o.Rep3.UserID, 10) + `}`, wantStatus: 422, wantContains: []string{`"field":"owner_id"`}},
			{name: "invalid fields zh", token: rep1, method: "POST", path: "/api/v1/customers", header: zh, body: `{"name":"","email":"nope"}`, wantStatus: 422, wantContains: []string{"名称：必填", "电子邮箱：不是有效的电子邮箱"}},
			{name: "invalid fields en", token: rep1, method: "POST", path: "/api/v1/customers", header: en, body: `{"name":"","phone":"12"}`, wantStatus: 422, wantContains: []string{"Name: is required", "Phone: is not a valid phone number"}},
			{name: "wrong type", token: rep1, method: "POST", path: "/api/v1/customers", body: `{"name":5}`, wantStatus: 422, wantContains: []string{`"field":"name"`}},
			{name: "not json", token: rep1, method: "POST", path: "/api/v1/customers", body: `name=x`, wantStatus: 422},
			{name: "duplicate across scope", token: rep2, method: "POST", path: "/api/v1/customers", header: en, body: `{"name":"Another","phone":"+86 139 1234 5678"}`, wantStatus: 409, wantContains: []string{"already exists, owned by User rep1"}, wantNotContains: []string{"云杉"}},
			{name: "create", token: rep2, method: "POST", path: "/api/v1/customers", body: `{"name":"杭州青木贸易","level":"A","tags":["展会"]}`, wantStatus: 201, wantContains: []string{`"owner_id":` + strconv.FormatInt(o.Rep2.UserID, 10), `"version":1`}},
			{name: "update needs version", token: rep1, method: "PATCH", path: "/api/v1/customers/" + id, body: `{"industry":"软件"}`, wantStatus: 422, wantContains: []string{`"field":"version"`}},
			{name: "update", token: rep1, method: "PATCH", path: "/api/v1/customers/" + id, body: `{"version":1,"industry":"软件"}`, wantStatus: 200, wantContains: []string{`"version":2`, "软件"}},
			{name: "stale update", token: rep1, method: "PATCH", path: "/api/v1/customers/" + id, header: en, body: `{"version":1,"industry":"硬件"}`, wantStatus: 409, wantContains: []string{"Changed by someone else"}},
			{name: "release", token: rep1, method: "POST", path: "/api/v1/customers/" + id + "/release", wantStatus: 204},
			{name: "pool visible to rep2", token: rep2, method: "GET", path: "/api/v1/pool", wantStatus: 200, wantContains: []string{"云杉"}},
			{name: "claim", token: rep2, method: "POST", path: "/api/v1/customers/" + id + "/claim", wantStatus: 204},
			{name: "claim again", token: rep1, method: "POST", path: "/api/v1/customers/" + id + "/claim", wantStatus: 409},
			{name: "delete", token: rep2, method: "DELETE", path: "/api/v1/customers/" + id, wantStatus: 204},
			{name: "recycle bin, with when each is purged", token: rep2, method: "GET", path: "/api/v1/recycle-bin/customers", wantStatus: 200, wantContains: []string{"云杉", `"purge_at":`}},
			{name: "restore", token: rep2, method: "POST", path: "/api/v1/customers/" + id + "/restore", wantStatus: 204},
			{name: "bad cursor", token: rep1, method: "GET", path: "/api/v1/customers?cursor=zz&sort=name", wantStatus: 422},
			{name: "unknown route", token: rep1, method: "GET", path: "/api/v1/nope", wantStatus: 404},
		}
		for _, sc := range scenarios {
			sc.run(t, srv)
		}
	})
}

func TestTokensAndSessions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		srv := newServer(t, o)
		rep1 := token(t, o, o.Rep1)
		en, zh := map[string]string{"Accept-Language": "en"}, map[string]string{"Accept-Language": "zh-CN"}
		// A token cannot mint tokens (it would outlive its own revocation).
		scenario{name: "token mints token", token: rep1, method: "POST", path: "/api/v1/tokens", body: `{"name":"x"}`, wantStatus: 403}.run(t, srv)
		scenario{name: "token lists tokens", token: rep1, method: "GET", path: "/api/v1/tokens", wantStatus: 403}.run(t, srv)

		// Session cookie + CSRF header, as htmx would send it.
		login, err := o.Svc.Login(ctx, "rep1", testorg.Password, testorg.ClientForTest())
		if err != nil {
			t.Fatal(err)
		}
		cookie := map[string]string{"Cookie": httpx.SessionCookie + "=" + login.Token}
		body := scenario{name: "list tokens", method: "GET", path: "/api/v1/tokens", header: cookie, wantStatus: 200}.run(t, srv)
		if strings.Contains(body, rep1) || strings.Contains(body, "hash") {
			t.Fatalf("token list leaks the secret: %s", body)
		}
		var list struct{ Items []struct{ ID int64 } }
		json.Unmarshal([]byte(body), &list)
		// The bootstrap administrator's one-time password opens nothing but
		// the password change.
		adminLogin, err := o.Svc.Login(ctx, "admin", o.AdminPassword, testorg.ClientForTest())
		if err != nil {
			t.Fatal(err)
		}
		scenario{name: "one-time password session", method: "GET", path: "/api/v1/customers",
			header: map[string]string{"Cookie": httpx.SessionCookie + "=" + adminLogin.Token}, wantStatus: 403}.run(t, srv)
		scenario{name: "session read", method: "GET", path: "/api/v1/me", header: cookie, wantStatus: 200, wantContains: []string{`"username":"rep1"`}}.run(t, srv)
		scenario{name: "session write without csrf", method: "POST", path: "/api/v1/customers", header: cookie, body: `{"name":"Z"}`, wantStatus: 403}.run(t, srv)
		withCSRF := map[string]string{"Cookie": cookie["Cookie"], httpx.CSRFHeader: login.CSRFToken}
		scenario{name: "session write with csrf", method: "POST", path: "/api/v1/customers", header: withCSRF, body: `{"name":"Z"}`, wantStatus: 201}.run(t, srv)
		cross := map[string]string{"Cookie": cookie["Cookie"], httpx.CSRFHeader: login.CSRFToken, "Sec-Fetch-Site": "cross-site"}
		scenario{name: "cross-site write", method: "POST", path: "/api/v1/customers", header: cross, body: `{"name":"Y"}`, wantStatus: 403}.run(t, srv)

		// Revoking the token and disabling the user take effect on the next request.
		scenario{name: "revoke", token: login.Token, method: "DELETE", path: "/api/v1/tokens/1", wantStatus: 401}.run(t, srv) // a session token is no bearer token
		if err := o.Svc.RevokeAPIToken(ctx, o.Rep1, list.Items[0].ID); err != nil {
			t.Fatal(err)
		}
		scenario{name: "revoked token", token: rep1, method: "GET", path: "/api/v1/me", wantStatus: 401}.run(t, srv)
		rep2 := token(t, o, o.Rep2)
		if _, err := o.Svc.UpdateUser(ctx, o.Admin, o.Rep2.UserID, serviceUserDisabled(true)); err != nil {
			t.Fatal(err)
		}
		// docs/api.md: the detail names the reason, in the caller's language.
		scenario{name: "disabled user token", token: rep2, method: "GET", path: "/api/v1/me", header: en, wantStatus: 401,
			wantContains: []string{"user is disabled"}}.run(t, srv)
		scenario{name: "disabled user token zh", token: rep2, method: "GET", path: "/api/v1/me", header: zh, wantStatus: 401,
			wantContains: []string{"用户已被停用"}}.run(t, srv)
		scenario{name: "live session before disable", method: "GET", path: "/api/v1/me", header: cookie, wantStatus: 200}.run(t, srv)
		if _, err := o.Svc.UpdateUser(ctx, o.Admin, o.Rep1.UserID, serviceUserDisabled(true)); err != nil {
			t.Fatal(err)
		}
		scenario{name: "disabled user session", method: "GET", path: "/api/v1/me", header: cookie, wantStatus: 401}.run(t, srv)
	})
}
