package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestStorageFailureAnswers503: on a database that refuses every write —
// SQLite answering SQLITE_READONLY (query_only on the writer), PostgreSQL
// answering 25006 (default_transaction_read_only), the errors a read-only
// or full database gives — the API answers 503 with Retry-After and the
// "unavailable" problem type, the pages a plain 503 page, never 500
// "internal error"; and /healthz says the database is unwritable, so a load
// balancer can act.
func TestStorageFailureAnswers503(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			opt := testdb.Options(t, d)
			db, err := store.Open(ctx, opt)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			o := testorg.New(t, db)
			tok := o.Token(t, o.Rep1)
			login, err := o.Svc.Login(ctx, "rep1", testorg.Password, testorg.ClientForTest())
			if err != nil {
				t.Fatal(err)
			}
			o.Customer(t, o.Rep1, crm.CustomerFields{Name: "只读客户"})

			// The same database, refusing every write from now on.
			opt.ReadOnly = true
			ro, err := store.Open(ctx, opt)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ro.Close() })
			h, err := newHandler(service.New(ro, service.Options{Vault: o.Vault, Argon2: testorg.CheapArgon}), httpx.Config{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			do := func(method, path, body string, header map[string]string) (*http.Response, string) {
				t.Helper()
				req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
				req.Header.Set("Accept-Language", "en")
				for k, v := range header {
					req.Header.Set(k, v)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp, string(b)
			}
			want503 := func(what string, resp *http.Response, body string, contains ...string) {
				t.Helper()
				if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
					t.Errorf("%s: %d, Retry-After %q, want 503 with Retry-After: %.400s", what, resp.StatusCode, resp.Header.Get("Retry-After"), body)
				}
				if strings.Contains(strings.ToLower(body), "internal error") {
					t.Errorf("%s: answered as an internal error: %.400s", what, body)
				}
				for _, c := range contains {
					if !strings.Contains(body, c) {
						t.Errorf("%s: body lacks %q: %.400s", what, c, body)
					}
				}
			}

			bearer := map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
			resp, body := do("POST", "/api/v1/customers", `{"name":"写不进去"}`, bearer)
			want503("API create", resp, body, `"type":"https://custos.dev/problems/unavailable"`, "cannot store data")
			resp, body = do("GET", "/healthz", "", nil)
			want503("healthz", resp, body, "unwritable")
			// A page: listing customers records the read, which cannot be
			// stored, so the list is not served (fail closed) — with a 503.
			resp, body = do("GET", "/customers", "", map[string]string{"Cookie": httpx.SessionCookie + "=" + login.Token})
			want503("page", resp, body, "cannot store data")
			if strings.Contains(body, "只读客户") {
				t.Error("the list was served although its read could not be recorded")
			}
			// Signing in writes a session: a plain 503 page too.
			jar := &http.Cookie{}
			page, _ := http.Get(srv.URL + "/login")
			page.Body.Close()
			for _, c := range page.Cookies() {
				if c.Name != httpx.SessionCookie {
					jar = c
				}
			}
			resp, body = do("POST", "/login", url.Values{"username": {"rep2"}, "password": {testorg.Password}, "csrf": {jar.Value}}.Encode(),
				map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Cookie": jar.Name + "=" + jar.Value})
			want503("sign-in", resp, body)
		})
	}
}
