// Package web is Custos's browser surface: server-rendered pages with
// html/template, typed view models, a small stylesheet and htmx (vendored,
// pinned) for partial updates. Every page also works as plain links and
// forms. Data comes only from the service layer, so the same permissions,
// scopes and audit apply as in the API (DESIGN.md §1, §7).
package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/i18n"
	"custos/internal/service"
)

//go:embed templates/*.html
var templateFS embed.FS

// maxForm bounds a form body; every form here is small.
const maxForm = 1 << 20

// Server holds the web handlers' dependencies and the parsed templates.
type Server struct {
	svc    *service.Service
	cfg    httpx.Config
	logger *slog.Logger
	pages  map[string]*template.Template
	assets *assets
}

// New parses every template and fingerprints every static file; a missing
// or broken template stops start-up rather than failing a user later.
func New(svc *service.Service, cfg httpx.Config, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{svc: svc, cfg: cfg, logger: logger}
	var err error
	if s.assets, err = loadAssets(); err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	if s.pages, err = parseTemplates(s.assets); err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	return s, nil
}

// pageNames are the page templates; each defines "content" and is rendered
// inside layout.html. Partials shared by several pages live in
// partials.html.
var pageNames = []string{
	"login", "password", "home", "customers", "customer_form", "customer", "pool", "recycle_bin",
	"contacts", "contact", "contact_form", "leads", "lead", "lead_form", "lead_convert",
	"opportunities", "opportunity", "opportunity_form", "board", "contracts", "contract", "contract_form", "tasks", "task_form", "search",
	"account", "token_created", "admin_users", "admin_user", "admin_departments", "admin_department",
	"admin_roles", "admin_role", "admin_stages", "admin_stage", "admin_custom_fields", "admin_custom_field", "error",
	"recycle_records", "revealed", "admin_offboard", "approvals", "approval", "admin_approvals", "login_mfa", "step_up",
	"mfa", "mfa_enrol", "recovery_codes", "admin_security", "admin_backups", "shares", "access_review", "admin_job", "audit", "versions", "alerts", "notifications",
	"exposure", "incidents", "incident", "quality", "quality_records", "campaigns", "campaign", "campaign_records", "duplicates", "compare", "merges",
	"privacy", "privacy_request", "privacy_person", "privacy_retention",
	"imports", "import", "exports", "dashboard", "followups",
}

func parseTemplates(a *assets) (map[string]*template.Template, error) {
	funcs := template.FuncMap{"asset": a.url}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, err
	}
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("%s.html does not define \"content\"", name)
		}
		pages[name] = t
	}
	// Fail on templates that exist but no page uses, so a renamed page is
	// noticed at start-up instead of silently never shown.
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if _, ok := pages[name]; !ok && name != "layout" && name != "partials" {
			return nil, fmt.Errorf("template %s.html is not a known page", name)
		}
	}
	return pages, nil
}

// render writes a full page. The page is executed into a buffer first, so a
// template error becomes a clean error page instead of half a document.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	s.execute(w, r, status, page, "layout", data)
}

// renderPartial writes one named template of a page, for htmx swaps.
func (s *Server) renderPartial(w http.ResponseWriter, r *http.Request, status int, page, name string, data any) {
	s.execute(w, r, status, page, name, data)
}

func (s *Server) execute(w http.ResponseWriter, r *http.Request, status int, page, name string, data any) {
	t, ok := s.pages[page]
	var buf bytes.Buffer
	var err error
	if !ok {
		err = fmt.Errorf("no page %q", page)
	} else {
		err = t.ExecuteTemplate(&buf, name, data)
	}
	if err != nil {
		rid := httpx.RequestID(r.Context())
		s.logger.Error("render page", "page", page, "template", name, "request_id", rid, "err", err)
		http.Error(w, "internal error, request id "+rid, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages carry customer data: never store them in a shared or browser cache.
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "HX-Request, HX-Target")
	httpx.SetRetryAfter(w, status) // any page answering 503, a form's included
	if p, ok := data.(interface{ language() string }); ok {
		h.Set("Content-Language", p.language())
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// ErrorView is the error page.
type ErrorView struct {
	Page
	Message string
	// Fields says, field by field, what was refused, when a request that
	// has no form of its own was (a list's filter or sort).
	Fields    []string
	RequestID string
	Status    int
}

// fail shows err to the user in their language with the matching status.
// Internal errors show only "internal error" and the request id; the detail
// goes to the log. An expired session sends the user to sign in again.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, a *access.Actor, err error) {
	if crm.IsCode(err, crm.Unauthenticated) {
		s.toLogin(w, r)
		return
	}
	if ce := (*crm.Error)(nil); errors.As(err, &ce) && ce.Code == crm.Pending {
		// Not a failure: the change was filed for approval; show the request.
		to := "/approvals/" + strconv.FormatInt(ce.Ref, 10)
		if isHTMX(r) {
			w.Header().Set("HX-Redirect", to)
			w.WriteHeader(http.StatusAccepted)
			return
		}
		redirect(w, r, to)
		return
	}
	if crm.IsCode(err, crm.StepUpRequired) {
		s.stepUpPage(w, r, a, err)
		return
	}
	p := s.page(r, a, "error.title", "")
	status := httpx.Status(err)
	v := ErrorView{Page: p, Message: i18n.Message(p.Lang, err), Status: status}
	if ce := (*crm.Error)(nil); errors.As(err, &ce) && ce.Code == crm.Invalid {
		for _, f := range ce.Fields {
			v.Fields = append(v.Fields, i18n.FieldMessage(p.Lang, f))
		}
	}
	if crm.ErrorCode(err) == crm.Internal || status == http.StatusServiceUnavailable {
		v.RequestID = httpx.RequestID(r.Context())
		s.logger.Error("web request failed", "method", r.Method, "path", r.URL.Path, "request_id", v.RequestID, "err", err)
	}
	s.showError(w, r, v)
}

// showError renders an error page, or for htmx a small alert swapped into
// the page's alert area rather than into whatever the request targeted.
func (s *Server) showError(w http.ResponseWriter, r *http.Request, v ErrorView) {
	if isHTMX(r) {
		w.Header().Set("HX-Retarget", "#alerts")
		w.Header().Set("HX-Reswap", "innerHTML")
		s.renderPartial(w, r, v.Status, "error", "alert", v)
		return
	}
	s.render(w, r, v.Status, "error", v)
}

// forbidden answers 403 with a translated message key.
func (s *Server) forbidden(w http.ResponseWriter, r *http.Request, a *access.Actor, key string) {
	p := s.page(r, a, "error.title", "")
	s.showError(w, r, ErrorView{Page: p, Message: p.T(key), Status: http.StatusForbidden})
}

// unknownPage answers 404 for a path no route serves, with the navigation
// of the signed-in user who asked (a mistyped address should not strand
// them), and without it for a session that has steps left (a second
// factor, a new password) or none at all.
func (s *Server) unknownPage(w http.ResponseWriter, r *http.Request) {
	var actor *access.Actor
	if token := s.cfg.SessionToken(r); token != "" {
		a, err := s.svc.Authenticate(r.Context(), token, s.cfg.Client(r))
		if err == nil && !a.MFAPending && !a.MustChangePassword && !a.MustEnrolMFA() {
			actor = a
		}
	}
	s.notFound(w, r, actor)
}

// notFound answers 404 for unknown paths and malformed ids alike.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.fail(w, r, a, crm.ErrNotFound("page"))
}

// redirect answers a successful POST with 303 See Other (redirect after
// post), so reloading the next page never repeats the change.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// isHTMX reports whether htmx made the request (it then wants a fragment).
func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// fieldErrors returns the per-field problems of err, if any.
func fieldErrors(err error) []crm.FieldError {
	var e *crm.Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// hasFieldErrors reports whether err is a validation or duplicate error
// that a form can show next to its fields.
// refuse answers a write the service refused: errors about fields show the
// form again (show renders it with the status), keeping what the user typed
// and naming each field; anything else is the error page.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, a *access.Actor, err error, show func(status int)) {
	if !hasFieldErrors(err) {
		s.fail(w, r, a, err)
		return
	}
	show(httpx.Status(err))
}

func hasFieldErrors(err error) bool {
	code := crm.ErrorCode(err)
	return (code == crm.Invalid || code == crm.Duplicate) && len(fieldErrors(err)) > 0
}
