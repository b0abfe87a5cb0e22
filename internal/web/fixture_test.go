package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testorg"
)

const testPassword = testorg.Password

// org is the small organisation of testorg, with the fields these tests use:
//
//	HQ
//	├── East (mgr.east)
//	│   └── East-1 (rep1, rep2)
//	└── West (rep3)
type org struct {
	t                                *testorg.Org
	svc                              *service.Service
	admin, mgrEast, rep1, rep2, rep3 *access.Actor
	adminPassword                    string
	hq, east, east1, west            crm.Department
	roles                            map[string]crm.Role
}

func newOrg(t *testing.T, db *store.DB) *org {
	t.Helper()
	return newOrgWithClock(t, db, nil)
}

// newOrgWithClock is newOrg whose service reads the time from clock.
func newOrgWithClock(t *testing.T, db *store.DB, clock *testorg.Clock) *org {
	t.Helper()
	o := testorg.NewWithClock(t, db, clock)
	return &org{t: o, svc: o.Svc, admin: o.Admin, mgrEast: o.MgrEast, rep1: o.Rep1, rep2: o.Rep2, rep3: o.Rep3,
		adminPassword: o.AdminPassword, hq: o.HQ, east: o.East, east1: o.East1, west: o.West, roles: o.Roles}
}

func mustCreateCustomer(t *testing.T, svc *service.Service, a *access.Actor, f crm.CustomerFields) crm.Customer {
	t.Helper()
	c, err := svc.CreateCustomer(context.Background(), a, service.CustomerInput{CustomerFields: f})
	if err != nil {
		t.Fatalf("create customer %q: %v", f.Name, err)
	}
	return c
}

// site is the web surface on the real router, wired exactly as cmd/custos
// wires it: shared middleware and cross-origin protection around one mux.
type site struct {
	t       *testing.T
	srv     *Server
	handler http.Handler
}

func newSite(t *testing.T, svc *service.Service) *site {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := New(svc, httpx.Config{}, logger)
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	mux := http.NewServeMux()
	srv.Register(mux)
	return &site{t: t, srv: srv, handler: httpx.Middleware(http.NewCrossOriginProtection().Handler(mux))}
}

// browser keeps cookies and the page's CSRF token, like a real browser.
type browser struct {
	cookies map[string]*http.Cookie
	csrf    string
}

func newBrowser() *browser { return &browser{cookies: map[string]*http.Cookie{}} }

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// do sends one request and keeps the cookies it sets.
func (s *site) do(b *browser, method, path string, form url.Values, header map[string]string) *httptest.ResponseRecorder {
	s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if b != nil {
		for _, c := range b.cookies {
			req.AddCookie(c)
		}
	}
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	if b != nil {
		for _, c := range rec.Result().Cookies() {
			if c.MaxAge < 0 || c.Value == "" {
				delete(b.cookies, c.Name)
			} else {
				b.cookies[c.Name] = c
			}
		}
		if m := csrfInput.FindStringSubmatch(rec.Body.String()); m != nil {
			b.csrf = m[1]
		}
	}
	return rec
}

// signIn signs in through the real sign-in form and returns the browser
// holding the session cookie and the session's CSRF token.
func (s *site) signIn(username, password string) *browser {
	s.t.Helper()
	b := newBrowser()
	s.do(b, "GET", "/login", nil, nil)
	rec := s.do(b, "POST", "/login", url.Values{"username": {username}, "password": {password}, "csrf": {b.csrf}}, nil)
	if rec.Code != http.StatusSeeOther {
		s.t.Fatalf("sign in %s: status %d: %s", username, rec.Code, rec.Body.String())
	}
	if b.cookies[httpx.SessionCookie] == nil {
		s.t.Fatalf("sign in %s: no session cookie", username)
	}
	// Load a page so the browser holds the session's CSRF token.
	page := s.do(b, "GET", "/account/password", nil, nil)
	if page.Code != http.StatusOK || b.csrf == "" {
		s.t.Fatalf("sign in %s: no CSRF token after sign-in (status %d)", username, page.Code)
	}
	return b
}

// noErr stops the test on a fixture that could not be built.
func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
