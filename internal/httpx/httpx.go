// Package httpx holds what the web and API surfaces share: request ids,
// client addresses behind trusted proxies, security headers, the session
// cookie and the mapping of error codes to HTTP status.
package httpx

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"custos/internal/crm"
	"custos/internal/service"
)

// SessionCookie is the name of the session cookie. The __Host- prefix (only
// over TLS) pins it to this host and path "/".
const (
	SessionCookie    = "custos_session"
	SessionCookieTLS = "__Host-custos_session"
	CSRFHeader       = "X-CSRF-Token"
	CSRFField        = "csrf"
)

type ctxKey int

const requestIDKey ctxKey = 1

// Config is what the middleware needs to know about the deployment.
type Config struct {
	// TrustedProxies lists the networks whose X-Forwarded-For and
	// X-Forwarded-Proto are believed; from anyone else they are ignored.
	TrustedProxies []netip.Prefix
	// TLS is true when Custos itself serves HTTPS.
	TLS bool
}

// RequestID returns the id of the request, for logs and error pages.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// Middleware gives every request an id and security headers.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 8)
		rand.Read(b)
		id := hex.EncodeToString(b)
		h := w.Header()
		h.Set("X-Request-Id", id)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

// HSTS is the Strict-Transport-Security value: a year, renewed on every
// answer. No includeSubDomains: Custos often runs on one host of a company
// domain whose other hosts it must not force onto HTTPS.
const HSTS = "max-age=31536000"

// Middleware is the package's Middleware plus Strict-Transport-Security on
// every answer to a request that came over HTTPS, directly or through a
// trusted proxy that says so, so a browser that once reached Custos over
// TLS never again sends its session cookie in the clear (a downgrade by a
// network attacker). Over plain HTTP the header would be ignored (RFC 6797
// §8.1) and is not sent.
func (c Config) Middleware(next http.Handler) http.Handler {
	return Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.Secure(r) {
			w.Header().Set("Strict-Transport-Security", HSTS)
		}
		next.ServeHTTP(w, r)
	}))
}

// ClientIP returns the caller's address: the peer address, or the last
// X-Forwarded-For hop not itself a trusted proxy when the peer is one.
func (c Config) ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !c.trusted(peer) {
		return host
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !c.trusted(a) {
			return a.String()
		}
	}
	return host
}

// Secure reports whether the request reached us over HTTPS, directly or
// through a trusted proxy that says so.
func (c Config) Secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	if peer, err := netip.ParseAddr(host); err == nil && c.trusted(peer) {
		return r.Header.Get("X-Forwarded-Proto") == "https"
	}
	return false
}

func (c Config) trusted(a netip.Addr) bool {
	for _, p := range c.TrustedProxies {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// Client describes the request for the service layer.
func (c Config) Client(r *http.Request) service.Client {
	return service.Client{IP: c.ClientIP(r), UserAgent: r.UserAgent(), RequestID: RequestID(r.Context())}
}

// CookieName is the session cookie's name for this request.
func (c Config) CookieName(r *http.Request) string {
	if c.Secure(r) {
		return SessionCookieTLS
	}
	return SessionCookie
}

// SessionToken returns the session token from the request's cookie.
func (c Config) SessionToken(r *http.Request) string {
	if ck, err := r.Cookie(c.CookieName(r)); err == nil {
		return ck.Value
	}
	return ""
}

// SetSessionCookie stores the session token: HttpOnly, SameSite=Lax, and
// Secure whenever the request came over HTTPS.
func (c Config) SetSessionCookie(w http.ResponseWriter, r *http.Request, token string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: c.CookieName(r), Value: token, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: c.Secure(r), SameSite: http.SameSiteLaxMode})
}

// Status maps an error code to its HTTP status.
func Status(err error) int {
	switch crm.ErrorCode(err) {
	case crm.Invalid:
		return http.StatusUnprocessableEntity
	case crm.NotFound:
		return http.StatusNotFound
	case crm.Conflict, crm.Duplicate:
		return http.StatusConflict
	case crm.Forbidden, crm.StepUpRequired:
		return http.StatusForbidden
	case crm.Unauthenticated:
		return http.StatusUnauthorized
	case crm.RateLimited:
		return http.StatusTooManyRequests
	case crm.Unavailable:
		return http.StatusServiceUnavailable
	case crm.Pending:
		return http.StatusAccepted
	case crm.TooLarge:
		return http.StatusRequestEntityTooLarge
	case crm.UnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	}
	return http.StatusInternalServerError
}

// RetryAfterSeconds is what a 503 asks a client to wait: the storage or
// the writer queue is full, which an operator or the queue fixes in
// seconds to minutes, not in the client's next millisecond.
const RetryAfterSeconds = "30"

// SetRetryAfter adds Retry-After to a 503 answer (RFC 9110 §10.2.3), so
// clients and load balancers back off instead of retrying at once.
func SetRetryAfter(w http.ResponseWriter, status int) {
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", RetryAfterSeconds)
	}
}

// ValidCSRF compares a submitted CSRF token with the session's in constant
// time. Together with SameSite cookies and http.CrossOriginProtection it
// guards every state-changing request made with a session cookie.
func ValidCSRF(submitted, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(submitted), []byte(want)) == 1
}

// IsSafeMethod reports whether a method changes no state.
func IsSafeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// Route is one route of a surface: a method, a http.ServeMux pattern
// without the method, and its handler. Each surface lists its routes in a
// table (its routes.go), so tests can enumerate them.
type Route struct {
	Method  string
	Pattern string
	Handler http.HandlerFunc
	// Doc describes the route for the surface's published description
	// (the API's OpenAPI document); the zero Doc leaves it all to what the
	// generator derives from the pattern and the record registry.
	Doc Doc
}

// Doc is what a route's published description needs beyond its method
// and pattern. Bodies are named by a value of their Go type (the type the
// handler decodes or encodes), so the description follows the code.
type Doc struct {
	// Summary is the operation's one-line summary ("" : derived).
	Summary string
	// Request is a value of the body's type (nil: no body, or derived
	// from the record registry for a collection's create and update).
	Request any
	// Response is a value of the success answer's type (nil: derived for
	// a collection's routes, else any JSON).
	Response any
	// Record marks a route that answers the record of its collection's
	// object (the registry's schema), as a conversion or a stage move do.
	Record bool
	// Status is the success status (0: 201 for a collection's create, 204
	// for a DELETE, else 200).
	Status int
	// Auth is who may call the route.
	Auth Auth
	// StepUp says whether the route needs a fresh second factor.
	StepUp StepUp
	// Approval marks a change an approval policy can hold back (202).
	Approval bool
	// Multipart marks a body sent as multipart/form-data: the file in
	// part "file" and Request as JSON in part "options".
	Multipart bool
	// File marks an answer that is a file to download, not JSON.
	File bool
	// Query is a value of a struct whose JSON-tagged fields are the
	// route's query parameters (nil: none beyond a collection's list).
	Query any
}

// Auth says how a route authenticates its caller.
type Auth int

// The ways a route authenticates.
const (
	AuthAny     Auth = iota // a bearer API token, or the session cookie (plus the CSRF header for a change)
	AuthSession             // the session cookie only: API tokens are refused
	AuthNone                // no authentication: the route serves no data
)

// StepUp says when a route needs a second factor verified in the last
// minutes of the session (never possible with an API token).
type StepUp int

// The step-up needs.
const (
	StepUpNever     StepUp = iota
	StepUpAlways           // every call
	StepUpSometimes        // some calls, as the summary and docs/api.md say
)

// Register adds routes to mux.
func Register(mux *http.ServeMux, routes []Route) {
	for _, rt := range routes {
		mux.HandleFunc(rt.Method+" "+rt.Pattern, rt.Handler)
	}
}
