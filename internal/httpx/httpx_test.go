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
