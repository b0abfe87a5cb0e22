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
)

// cheapArgon keeps password hashing fast in tests.
var cheapArgon = service.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

const testPassword = "correct horse battery"

// org is a small organisation, as in the service tests:
//
//	HQ
//	├── East (mgr.east)
//	│   └── East-1 (rep1, rep2)
//	└── West (rep3)
type org struct {
	svc                              *service.Service
	admin, mgrEast, rep1, rep2, rep3 *access.Actor
	adminPassword                    string
	hq, east, east1, west            crm.Department
	roles                            map[string]crm.Role
}

func newOrg(t *testing.T, db *store.DB) *org {
	t.Helper()
	ctx := context.Background()
	o := &org{svc: service.New(db, service.Options{Argon2: cheapArgon}), roles: map[string]crm.Role{}}
	boot, err := o.svc.Bootstrap(ctx, "HQ")
	if err != nil || !boot.Created {
		t.Fatalf("bootstrap: %v %+v", err, boot)
	}
	o.adminPassword = boot.Password
	o.admin = mustActor(t, o.svc, 1)
	dir, err := o.svc.Directory(ctx, o.admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range dir.Roles {
		o.roles[r.Key] = r
	}
	o.hq = dir.Departments[0]
	o.east = mustDept(t, o, "East", o.hq.ID)
	o.east1 = mustDept(t, o, "East-1", o.east.ID)
	o.west = mustDept(t, o, "West", o.hq.ID)
	o.mgrEast = mustUser(t, o, "mgr.east", o.east.ID, "manager")
	o.rep1 = mustUser(t, o, "rep1", o.east1.ID, "sales")
	o.rep2 = mustUser(t, o, "rep2", o.east1.ID, "sales")
	o.rep3 = mustUser(t, o, "rep3", o.west.ID, "sales")
	return o
}

func mustActor(t *testing.T, svc *service.Service, id int64) *access.Actor {
	t.Helper()
	a, err := svc.UserActor(context.Background(), id)
	if err != nil {
		t.Fatalf("actor %d: %v", id, err)
	}
	return a
}

func mustDept(t *testing.T, o *org, name string, parent int64) crm.Department {
	t.Helper()
	d, err := o.svc.CreateDepartment(context.Background(), o.admin, crm.Department{Name: name, ParentID: parent})
	if err != nil {
		t.Fatalf("create department %s: %v", name, err)
	}
	return d
}

func mustUser(t *testing.T, o *org, username string, dept int64, role string) *access.Actor {
	t.Helper()
	u, err := o.svc.CreateUser(context.Background(), o.admin, service.UserInput{
		User:     crm.User{Username: username, DisplayName: "User " + username, DepartmentID: dept, RoleID: o.roles[role].ID},
		Password: testPassword,
	})
	if err != nil {
		t.Fatalf("create user %s: %v", username, err)
	}
	return mustActor(t, o.svc, u.ID)
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
