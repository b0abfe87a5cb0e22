//go:build browser

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestBrowserPasskey runs e2e/browser/passkey.mjs against the real server
// started through run: Debian's Chromium with a CDP virtual authenticator
// registers a passkey, signs out, and signs in with password and passkey.
// It needs node, Chromium and playwright-core (npm ci --prefix
// e2e/browser), so it is built only with the "browser" tag:
// go test -tags browser -run TestBrowserPasskey ./cmd/custos/. .ci/run does
// that when node and Chromium are on the machine and then demands that it
// passed; a missing tool fails the test rather than skipping it.
func TestBrowserPasskey(t *testing.T) {
	base, stdout := startServer(t, "-data-dir", t.TempDir())
	m := regexp.MustCompile(`one-time password:\s+(\S+)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no one-time password printed:\n%s", stdout)
	}
	// The default public URL is localhost at the listen port: the origin
	// the browser must use for its passkeys to be accepted.
	base = strings.Replace(base, "127.0.0.1", "localhost", 1)
	out := runBrowserScript(t, "passkey.mjs", "CUSTOS_BASE_URL="+base, "CUSTOS_USER=admin", "CUSTOS_PASSWORD="+m[1])
	t.Logf("browser test: %s", out)
}

// TestBrowserSalesDay runs e2e/browser/salesday.mjs: a sales rep's day in
// zh-CN at 1440×900 and at 390×844 against the real server filled with
// demo data — sign in, find a customer by a two-character name and by
// phone, create one and be refused its duplicate, log a follow-up, move an
// opportunity, claim from the pool — and a manager's Today, board and
// dashboard (every chart drawn on a canvas, every table with rows, no page
// wider than the phone), with no console error and no CSP violation.
// Built with the "browser" tag, like TestBrowserPasskey.
func TestBrowserSalesDay(t *testing.T) {
	const password = "a sales day passphrase"
	// The rep whose day it is and a colleague who leaves customers in the pool.
	srv, reps := demoServer(t, "40", "2", password)
	manager := lastManager

	// The customer the rep looks for: a name whose first two characters
	// no demo customer has, and a phone.
	rep, repCSRF := signIn(t, srv, reps[0], password)
	const findName, findBigram, findPhone = "鲲鹏数据科技有限公司", "鲲鹏", "13705718844"
	apiCreateCustomer(t, rep, repCSRF, findName, findPhone)
	// The pool holds a customer for each viewport to claim, released by a
	// colleague (whoever released one may be barred from taking it back).
	other, otherCSRF := signIn(t, srv, reps[1], password)
	for _, name := range []string{"澄江光学仪器有限公司", "岱山海洋渔业有限公司"} {
		id := apiCreateCustomer(t, other, otherCSRF, name, "")
		req, _ := http.NewRequest("POST", srv.base+"/api/v1/customers/"+id+"/release", nil)
		req.Header.Set("X-CSRF-Token", otherCSRF)
		if status, _, body := other.do(req); status != http.StatusNoContent {
			t.Fatalf("release %s: %d %s", name, status, body)
		}
	}

	out := runBrowserScript(t, "salesday.mjs", "CUSTOS_BASE_URL="+srv.base, "CUSTOS_USER="+reps[0], "CUSTOS_PASSWORD="+password,
		"CUSTOS_FIND_NAME="+findName, "CUSTOS_FIND_BIGRAM="+findBigram, "CUSTOS_FIND_PHONE="+findPhone, "CUSTOS_MANAGER="+manager)
	t.Logf("browser test: %s", out)
}

// lastManager is a regional manager of the demo data demoServer made last,
// whose Today shows a team.
var lastManager string

// demoServer fills a new database with demo data (customers, follow-ups
// per customer, every user's password) and starts the server on it; it
// returns the server and the user names of the sales reps (at least two).
func demoServer(t *testing.T, customers, followUps, password string) (*server, []string) {
	t.Helper()
	dir, keys := t.TempDir(), t.TempDir()
	args := append([]string{"-data-dir", dir}, keyFlags(keys)...)
	var demoOut, demoErr syncBuffer
	demoArgs := append([]string{"demo", "-customers", customers, "-followups-per-customer", followUps, "-password", password}, args...)
	if err := run(context.Background(), demoArgs, func(string) string { return "" }, &demoOut, &demoErr); err != nil {
		t.Fatalf("demo: %v\n%s", err, demoErr.String())
	}
	// The users table lists user name, name, role, department.
	var reps []string
	for _, m := range regexp.MustCompile(`(?m)^\s+(\S+)\s+\S+\s+sales\s`).FindAllStringSubmatch(demoOut.String(), -1) {
		reps = append(reps, m[1])
	}
	if len(reps) < 2 {
		t.Fatalf("fewer than two sales reps in the demo data:\n%s", demoOut.String())
	}
	if m := regexp.MustCompile(`(?m)^\s+(\S+)\s+\S+\s+manager\s`).FindStringSubmatch(demoOut.String()); m != nil {
		lastManager = m[1]
	}
	return launch(t, args...), reps
}

// apiCreateCustomer creates a customer through the JSON API as the
// signed-in user and returns its id.
func apiCreateCustomer(t *testing.T, b *browser, csrf, name, phone string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": name, "phone": phone})
	req, _ := http.NewRequest("POST", b.base+"/api/v1/customers", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", csrf)
	status, h, resp := b.do(req)
	if status != http.StatusCreated {
		t.Fatalf("create customer %s: %d %s", name, status, resp)
	}
	return strings.TrimPrefix(h.Get("Location"), "/api/v1/customers/")
}

// runBrowserScript runs a script of e2e/browser with node and returns the
// JSON line it printed; the script fails on any browser problem. It needs
// node, Chromium and playwright-core (npm ci --prefix e2e/browser): a
// missing tool fails the test rather than skipping it.
func runBrowserScript(t *testing.T, script string, env ...string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "e2e", "browser"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core", "package.json")); err != nil {
		t.Fatalf("playwright-core is not installed: run npm ci --prefix e2e/browser (%v)", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal(err)
	}
	// A bound on a hung browser, not a performance assertion.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, script))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("browser test %s: %v\n%s\n%s", script, err, out, stderr)
	}
	if !strings.Contains(string(out), `"ok":true`) {
		t.Fatalf("browser test %s output: %s", script, out)
	}
	return strings.TrimSpace(string(out))
}

// TestPublicURLConfig: the public URL comes from -public-url, else
// CUSTOS_PUBLIC_URL, else localhost at the listen port; one passkeys
// cannot work with is refused at start-up.
func TestPublicURLConfig(t *testing.T) {
	env := func(vals map[string]string) func(string) string { return func(k string) string { return vals[k] } }
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"-addr", "0.0.0.0:9000"}, nil, "http://localhost:9000"},
		{[]string{"-addr", "127.0.0.1:8443", "-tls-cert", "c", "-tls-key", "k"}, nil, "https://localhost:8443"},
		{[]string{"-addr", "crm.internal:80"}, nil, "http://crm.internal:80"},
		{nil, map[string]string{"CUSTOS_PUBLIC_URL": "https://crm.example.com"}, "https://crm.example.com"},
		{[]string{"-public-url", "https://custos.example.cn"}, map[string]string{"CUSTOS_PUBLIC_URL": "https://crm.example.com"}, "https://custos.example.cn"},
	} {
		c, err := parseConfig("serve", tc.args, env(tc.env), io.Discard)
		if err != nil || c.PublicURL != tc.want {
			t.Errorf("%v %v: %q %v, want %q", tc.args, tc.env, c.PublicURL, err, tc.want)
		}
	}
	for _, bad := range []string{"https://10.0.0.5", "https://crm.example.com/custos", "crm.example.com"} {
		if _, err := parseConfig("serve", []string{"-public-url", bad}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "public URL") {
			t.Errorf("%s accepted: %v", bad, err)
		}
	}
}
