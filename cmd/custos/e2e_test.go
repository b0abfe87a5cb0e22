package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// syncBuffer collects a goroutine's output for the test to read.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer runs the real binary's run("serve") until the test ends and
// waits for /healthz.
func startServer(t *testing.T, extraArgs ...string) (base string, stdout *syncBuffer) {
	t.Helper()
	s := launch(t, extraArgs...)
	return s.base, s.stdout
}

// server is a running run("serve"): its address, output and log, and a
// stop that waits for it to end (also called when the test ends).
type server struct {
	base           string
	stdout, stderr *syncBuffer
	stop           func()
	// adminFactor is the second factor signInAdmin enrolled, which signIn
	// answers with when the administrator signs in again.
	adminFactor *testorg.Factor
}

// launch is startServer, keeping the log (stderr) and an explicit stop.
func launch(t *testing.T, extraArgs ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	srv := &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	stdout, stderr := srv.stdout, srv.stderr
	done := make(chan error, 1)
	args := append([]string{"serve", "-addr", addr}, extraArgs...)
	go func() { done <- run(ctx, args, func(string) string { return "" }, stdout, stderr) }()
	var once sync.Once
	srv.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve returned %v; stderr:\n%s", err, stderr)
			}
		})
	}
	t.Cleanup(srv.stop)
	srv.base = "http://" + addr
	waitHealthy(t, srv.base, done, stderr)
	return srv
}

// waitHealthy polls base's /healthz until it answers 200; done reports a
// server that ended first.
func waitHealthy(t *testing.T, base string, done <-chan error, stderr *syncBuffer) {
	t.Helper()
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case err := <-done:
			t.Fatalf("server exited: %v; stderr:\n%s", err, stderr)
		case <-time.After(50 * time.Millisecond):
		}
		// A readiness bound, not a performance assertion: serve -demo fills
		// the database before listening, which takes a while on a busy machine.
		if i > 2400 {
			t.Fatalf("server did not become healthy within two minutes; stderr:\n%s", stderr)
		}
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// browser is a cookie-keeping client that does not follow redirects, so
// each step's answer can be checked.
type browser struct {
	t    *testing.T
	c    *http.Client
	base string
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *browser) do(req *http.Request) (int, http.Header, string) {
	b.t.Helper()
	req.Header.Set("Accept-Language", "zh-CN")
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

func (b *browser) get(path string) (int, string) {
	req, _ := http.NewRequest("GET", b.base+path, nil)
	status, _, body := b.do(req)
	return status, body
}

// location is where the page at path redirects to ("" if it does not).
func (b *browser) location(path string) string {
	req, _ := http.NewRequest("GET", b.base+path, nil)
	_, h, _ := b.do(req)
	return h.Get("Location")
}

// postForm submits a form with the CSRF token found on the page at from.
func (b *browser) postForm(from, path string, form url.Values) (int, string) {
	b.t.Helper()
	status, h, _ := b.submit(from, path, form)
	return status, h.Get("Location")
}

// submit is postForm answering with the whole response.
func (b *browser) submit(from, path string, form url.Values) (int, http.Header, string) {
	b.t.Helper()
	_, page := b.get(from)
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("no CSRF token on %s: %s", from, page)
	}
	form.Set("csrf", m[1])
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// TestEndToEnd starts the real server through run on a fresh SQLite data
// directory (and on PostgreSQL when configured), signs in with the one-time
// password, changes it, creates a customer through the web form and records
// a follow-up through the JSON API with the same session.
func TestEndToEnd(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			args, _, _ := serveArgs(t, d)
			base, stdout := startServer(t, args...)
			b, _ := signInAdmin(t, &server{base: base, stdout: stdout})

			status, loc := b.postForm("/customers/new", "/customers", url.Values{"name": {"上海端到端测试有限公司"}, "phone": {"021-6234 5678"}, "level": {"A"}})
			if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/customers/") {
				t.Fatalf("create customer: %d %q", status, loc)
			}
			var id int64
			fmt.Sscanf(strings.TrimPrefix(loc, "/customers/"), "%d", &id)
			if status, page := b.get(loc); status != 200 || !strings.Contains(page, "上海端到端测试有限公司") || !strings.Contains(page, "862162345678") {
				t.Fatalf("customer page: %d", status)
			}

			// Follow-up through the API with the session and its CSRF token.
			_, page := b.get(loc)
			csrf := csrfField.FindStringSubmatch(page)[1]
			next := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
			body, _ := json.Marshal(map[string]any{"kind": "call", "content": "电话沟通需求", "customer_id": id, "next_at": next})
			req, _ := http.NewRequest("POST", base+"/api/v1/follow-ups", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-CSRF-Token", csrf)
			if status, _, resp := b.do(req); status != http.StatusCreated {
				t.Fatalf("follow-up: %d %s", status, resp)
			}
			req, _ = http.NewRequest("GET", base+fmt.Sprintf("/api/v1/customers/%d", id), nil)
			status, _, resp := b.do(req)
			if status != 200 || !strings.Contains(resp, `"next_follow_up_at"`) || !strings.Contains(resp, `"last_followed_up_at"`) {
				t.Fatalf("customer after follow-up: %d %s", status, resp)
			}

			// Signing out ends the session.
			if status, _ := b.postForm("/", "/logout", url.Values{}); status != http.StatusSeeOther {
				t.Fatalf("logout: %d", status)
			}
			if status, _ := b.get("/customers"); status != http.StatusSeeOther {
				t.Fatalf("after logout: %d", status)
			}

			// The audit trail of all this verifies, against the checkpoints
			// in the database and in the checkpoint directory.
			var out, errb bytes.Buffer
			if err := run(context.Background(), append([]string{"audit", "seal"}, args...), func(string) string { return "" }, &out, &errb); err != nil {
				t.Fatalf("audit seal: %v\n%s", err, errb.String())
			}
			if err := run(context.Background(), append([]string{"audit", "verify"}, args...), func(string) string { return "" }, &out, &errb); err != nil {
				t.Fatalf("audit verify: %v\n%s%s", err, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), "OK") {
				t.Fatalf("audit verify: %s", out.String())
			}
		})
	}
}

// TestRunUsage checks the command line and configuration errors.
func TestRunUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), nil, os.Getenv, &out, &errb); err == nil || !strings.Contains(errb.String(), "Usage") {
		t.Fatalf("no command: %v %q", err, errb.String())
	}
	if err := run(context.Background(), []string{"serve", "-tls-cert", "x"}, func(string) string { return "" }, &out, &errb); err == nil ||
		!strings.Contains(err.Error(), "tls-cert and tls-key") {
		t.Fatalf("half TLS config: %v", err)
	}
	if err := run(context.Background(), []string{"serve", "-trusted-proxies", "not-a-cidr"}, func(string) string { return "" }, &out, &errb); err == nil {
		t.Fatal("bad trusted proxies accepted")
	}
}

// TestServeDemo starts serve -demo on an empty SQLite directory: the demo
// data is there before the server answers, and a generated sales user signs
// in and sees their own customers.
func TestServeDemo(t *testing.T) {
	base, stdout := startServer(t, "-data-dir", t.TempDir(), "-demo")
	out := stdout.String()
	pw := regexp.MustCompile(`with the password ([^\s,]+)`).FindStringSubmatch(out)
	rep := regexp.MustCompile(`(?m)^\s*(\S+)\s+\S+\s+sales\s`).FindStringSubmatch(out)
	if pw == nil || rep == nil {
		t.Fatalf("demo output lacks users:\n%s", out)
	}
	b := newBrowser(t, base)
	if status, loc := b.postForm("/login", "/login", url.Values{"username": {rep[1]}, "password": {pw[1]}}); status != http.StatusSeeOther || loc != "/" {
		t.Fatalf("demo user sign-in: %d %q", status, loc)
	}
	status, page := b.get("/customers")
	if status != 200 || !regexp.MustCompile(`共 [1-9][0-9]* 条`).MatchString(page) {
		t.Fatalf("demo user's customers: %d", status)
	}
}

// signInAdmin signs in as the administrator with the one-time password the
// server printed, replaces it (nothing else is allowed before) and returns
// the session's browser and CSRF token.
func signInAdmin(t *testing.T, srv *server) (*browser, string) {
	t.Helper()
	m := regexp.MustCompile(`one-time password:\s+(\S+)`).FindStringSubmatch(srv.stdout.String())
	if m == nil {
		t.Fatalf("no one-time password printed:\n%s", srv.stdout)
	}
	b := newBrowser(t, srv.base)
	if status, loc := b.postForm("/login", "/login", url.Values{"username": {"admin"}, "password": {"wrong password"}}); status != 401 && status != 200 && status != 422 {
		t.Fatalf("wrong password: %d %s", status, loc)
	}
	status, loc := b.postForm("/login", "/login", url.Values{"username": {"admin"}, "password": {m[1]}})
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/account/password") {
		t.Fatalf("login: %d %q", status, loc)
	}
	if status, _ := b.get("/customers"); status != http.StatusSeeOther {
		t.Fatalf("customers before password change: %d", status)
	}
	status, loc = b.postForm("/account/password", "/account/password", url.Values{"current_password": {m[1]}, "new_password": {adminPassphrase}, "confirm_password": {adminPassphrase}})
	if status != http.StatusSeeOther {
		t.Fatalf("password change: %d %q", status, loc)
	}
	srv.adminFactor = enrolTOTP(t, b, loc)
	return b, sessionCSRF(t, b)
}

// secretText is the TOTP secret as the set-up page shows it.
var secretText = regexp.MustCompile(`<code class="secret">([A-Z2-7 ]+)</code>`)

// enrolTOTP sets up an authenticator app through the pages, for a user
// whose role requires a second factor and who has none: from page to the
// set-up page, the secret read off it, confirmed with a code; then the
// pages open.
func enrolTOTP(t *testing.T, b *browser, page string) *testorg.Factor {
	t.Helper()
	if loc := b.location(page); !strings.HasPrefix(loc, "/account/mfa") {
		t.Fatalf("%s before a second factor goes to %q, want the set-up page", page, loc)
	}
	if status, body := b.get("/account/mfa"); status != http.StatusOK || !strings.Contains(body, `action="/account/mfa/totp"`) {
		t.Fatalf("set-up page: %d", status)
	}
	status, _, body := b.submit("/account/mfa", "/account/mfa/totp", url.Values{})
	m := secretText.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		t.Fatalf("begin TOTP: %d, secret shown: %v", status, m != nil)
	}
	f := testorg.NewFactor(strings.ReplaceAll(m[1], " ", ""))
	status, _, body = b.submit("/account/mfa/totp", "/account/mfa/totp/confirm", url.Values{"code": {f.NextCode(t)}})
	if status != http.StatusOK || !strings.Contains(body, "<li><code>") {
		t.Fatalf("confirm TOTP: %d, recovery codes shown: %v", status, strings.Contains(body, "<li><code>"))
	}
	if loc := b.location("/customers"); loc != "" {
		t.Fatalf("after enrolment /customers still goes to %q", loc)
	}
	return f
}

// adminPassphrase is what signInAdmin sets the administrator's password to.
const adminPassphrase = "a new and long passphrase"

// signIn signs in with a password already chosen.
func signIn(t *testing.T, srv *server, user, password string) (*browser, string) {
	t.Helper()
	b := newBrowser(t, srv.base)
	status, loc := b.postForm("/login", "/login", url.Values{"username": {user}, "password": {password}})
	if status != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d %q", user, status, loc)
	}
	if strings.HasPrefix(loc, "/login/mfa") {
		if user != "admin" || srv.adminFactor == nil {
			t.Fatalf("%s must give a second factor this test does not hold", user)
		}
		if status, loc = b.postForm(loc, "/login/mfa", url.Values{"code": {srv.adminFactor.NextCode(t)}}); status != http.StatusSeeOther {
			t.Fatalf("second factor of %s: %d %q", user, status, loc)
		}
	}
	return b, sessionCSRF(t, b)
}

// sessionCSRF reads the session's CSRF token off a page.
func sessionCSRF(t *testing.T, b *browser) string {
	t.Helper()
	_, page := b.get("/customers")
	csrf := csrfField.FindStringSubmatch(page)
	if csrf == nil {
		t.Fatalf("no CSRF token on /customers")
	}
	return csrf[1]
}

// serveArgs returns the arguments of a test server on a fresh database of
// dialect d, with its keys in a directory of their own (returned too).
func serveArgs(t *testing.T, d store.Dialect) (args []string, opt store.Options, keys string) {
	t.Helper()
	opt = testdb.Options(t, d)
	keys = t.TempDir()
	args = append([]string{"-data-dir", opt.Dir}, keyFlags(keys)...)
	if opt.URL != "" {
		args = append(args, "-database", opt.URL)
	}
	return args, opt, keys
}

// keyFlags puts every key and the audit checkpoints of a test server in
// dir, so no test writes keys beside the working directory.
func keyFlags(dir string) []string {
	return []string{"-audit-key-file", dir + "/audit.key", "-audit-dir", dir + "/checkpoints", "-master-key-file", dir + "/master.key",
		"-keystore", dir + "/keystore.db", "-key-snapshot-dir", dir + "/snapshots"}
}
