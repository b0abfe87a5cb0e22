package httpx

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIPTrustsOnlyConfiguredProxies(t *testing.T) {
	cfg := Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	cases := []struct {
		name, remote, xff, want string
	}{
		{"direct client ignores header", "203.0.113.5:4000", "198.51.100.1", "203.0.113.5"},
		{"trusted proxy", "10.1.2.3:4000", "198.51.100.1", "198.51.100.1"},
		{"chain of trusted proxies", "10.1.2.3:4000", "198.51.100.1, 10.9.9.9", "198.51.100.1"},
		{"spoofed first hop is skipped", "10.1.2.3:4000", "1.1.1.1, 198.51.100.1", "198.51.100.1"},
		{"garbage header from proxy", "10.1.2.3:4000", "nonsense", "10.1.2.3"},
		{"no header from proxy", "10.1.2.3:4000", "", "10.1.2.3"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := cfg.ClientIP(r); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
}

func TestSecureAndCookie(t *testing.T) {
	cfg := Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "203.0.113.5:1"
	r.Header.Set("X-Forwarded-Proto", "https")
	if cfg.Secure(r) {
		t.Fatal("untrusted X-Forwarded-Proto believed")
	}
	r.RemoteAddr = "127.0.0.1:1"
	if !cfg.Secure(r) || cfg.CookieName(r) != SessionCookieTLS {
		t.Fatal("trusted proxy's https ignored")
	}
	w := httptest.NewRecorder()
	cfg.SetSessionCookie(w, r, "tok", 60)
	c := w.Result().Cookies()[0]
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Fatalf("cookie flags: %+v", c)
	}
	direct := httptest.NewRequest("GET", "/", nil)
	direct.TLS = &tls.ConnectionState{}
	if !cfg.Secure(direct) {
		t.Fatal("direct TLS not secure")
	}
	if ValidCSRF("a", "") || ValidCSRF("", "a") || !ValidCSRF("abc", "abc") || ValidCSRF("abd", "abc") {
		t.Fatal("ValidCSRF")
	}
}

// TestHSTS: Strict-Transport-Security on every answer over HTTPS — direct
// TLS, or a trusted proxy's X-Forwarded-Proto: https — and never over plain
// HTTP or on an untrusted client's say-so.
func TestHSTS(t *testing.T) {
	cfg := Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	h := cfg.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusNotFound) // errors carry it too
	}))
	cases := []struct {
		name, remote, proto string
		tls, want           bool
	}{
		{name: "direct TLS", remote: "203.0.113.5:1", tls: true, want: true},
		{name: "trusted proxy says https", remote: "10.1.2.3:1", proto: "https", want: true},
		{name: "trusted proxy says http", remote: "10.1.2.3:1", proto: "http"},
		{name: "untrusted client says https", remote: "203.0.113.5:1", proto: "https"},
		{name: "plain HTTP", remote: "203.0.113.5:1"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/x", nil)
		r.RemoteAddr = c.remote
		if c.proto != "" {
			r.Header.Set("X-Forwarded-Proto", c.proto)
		}
		if c.tls {
			r.TLS = &tls.ConnectionState{}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		got := w.Header().Get("Strict-Transport-Security")
		if (got == HSTS) != c.want || (!c.want && got != "") {
			t.Errorf("%s: Strict-Transport-Security %q", c.name, got)
		}
		if w.Header().Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: the other security headers are missing", c.name)
		}
	}
}
