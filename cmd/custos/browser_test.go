//go:build browser

package main

import (
	"context"
	"io"
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
	base, stdout := startServer(t, "-data-dir", t.TempDir())
	m := regexp.MustCompile(`one-time password:\s+(\S+)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no one-time password printed:\n%s", stdout)
	}
	// The default public URL is localhost at the listen port: the origin
	// the browser must use for its passkeys to be accepted.
	base = strings.Replace(base, "127.0.0.1", "localhost", 1)

	// A bound on a hung browser, not a performance assertion.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "passkey.mjs"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CUSTOS_BASE_URL="+base, "CUSTOS_USER=admin", "CUSTOS_PASSWORD="+m[1])
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("browser test: %v\n%s\n%s", err, out, stderr)
	}
	if !strings.Contains(string(out), `"ok":true`) {
		t.Fatalf("browser test output: %s", out)
	}
	t.Logf("browser test: %s", strings.TrimSpace(string(out)))
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
