package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/i18n"
	"custos/internal/service"
)

// TokenRow is one API token in the account page (never its secret).
type TokenRow struct {
	ID         int64
	Name       string
	Prefix     string
	Scopes     []string
	AllowedIPs []string
	CreatedAt  time.Time
	LastUsedAt time.Time
	LastUsedIP string
	ExpiresAt  time.Time
	RevokedAt  time.Time
	State      string // active, expired or revoked
}

// SessionRow is one signed-in browser of the user.
type SessionRow struct {
	ID         int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	IP         string
	LastIP     string
	UserAgent  string
	Current    bool
	EndURL     string // where the "end session" form posts
}

// Device is the session's browser as its user agent names it, shortened.
func (r SessionRow) Device() string {
	if r.UserAgent == "" {
		return "—"
	}
	if rs := []rune(r.UserAgent); len(rs) > 90 {
		return string(rs[:90]) + "…"
	}
	return r.UserAgent
}

// AccountView is the account page: language, time zone, password, second
// factor, sessions and API tokens.
type AccountView struct {
	Page
	UserLang    string // the stored setting; "" follows the browser
	Username    string
	MFA         service.MFAStatus
	Sessions    []SessionRow
	Tokens      []TokenRow
	TokenName   string
	TokenExpiry string
	TokenScopes []string
	TokenIPs    string
	TokenErrors FormErrors
	TimeZone    TimeZoneForm
	NotifyPrefs []NotifyPrefRow
}

// LangOptions are the language choices.
func (v AccountView) LangOptions() []Option {
	return []Option{
		{Value: "", Label: v.T("account.lang_browser"), Selected: v.UserLang == ""},
		{Value: i18n.ZH, Label: "简体中文", Selected: v.UserLang == i18n.ZH},
		{Value: i18n.EN, Label: "English", Selected: v.UserLang == i18n.EN},
	}
}

var tokenFieldNames = []string{"name", "expires_at", "scopes", "allowed_ips"}

// TokenFields are the create-token form's inputs. Only the scopes the
// user's role grants are offered; the service refuses any other.
func (v AccountView) TokenFields() []FieldView {
	var scopes []Option
	for _, sc := range crm.TokenScopes() {
		if crm.ScopeWithinRole(v.Actor.Role, sc) {
			scopes = append(scopes, Option{Value: sc, Label: v.ScopeLabel(sc), Selected: slices.Contains(v.TokenScopes, sc)})
		}
	}
	return []FieldView{
		{Name: "name", Label: v.T("token.name"), Value: v.TokenName, Required: true, Max: 60, Error: v.TokenErrors.For("name"), Autocomplete: "off"},
		{Name: "expires_at", Label: v.T("token.expires"), Type: "date", Value: v.TokenExpiry, Error: v.TokenErrors.For("expires_at"), Hint: v.T("token.expires_hint")},
		{Name: "scopes", Label: v.T("field.scopes"), Multi: true, Options: scopes, Error: v.TokenErrors.For("scopes"), Wide: true},
		{Name: "allowed_ips", Label: v.T("field.allowed_ips"), Type: "textarea", Value: v.TokenIPs, Max: 2000,
			Error: v.TokenErrors.For("allowed_ips"), Hint: v.T("token.allowed_ips_hint"), Wide: true},
	}
}

// ScopeLabel names a token scope: "客户 · 读取", "Customers · read and write".
func (p Page) ScopeLabel(scope string) string {
	switch scope {
	case crm.ScopeAdminister:
		return p.T("token.scope_admin")
	case crm.ScopeAuditTrail:
		return p.T("token.scope_audit")
	}
	obj, level, _ := strings.Cut(scope, ":")
	what := p.T("token.scope_read")
	if level == crm.ScopeWrite {
		what = p.T("token.scope_write")
	}
	return p.T("object."+obj) + " · " + what
}

func (s *Server) account(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.showAccount(w, r, a, http.StatusOK, AccountView{})
}

func (s *Server) showAccount(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, v AccountView) {
	ctx := r.Context()
	me, err := s.svc.Me(ctx, a)
	toks, err2 := s.svc.ListAPITokens(ctx, a)
	sessions, err3 := s.svc.ListSessions(ctx, a, 0)
	mfa, err4 := s.svc.MFA(ctx, a)
	prefs, err5 := s.svc.NotificationPrefs(ctx, a)
	if err := firstError(err, err2, err3, err4, err5); err != nil {
		s.fail(w, r, a, err)
		return
	}
	v.MFA, v.NotifyPrefs = mfa, notifyPrefRows(prefs)
	v.Page = s.page(r, a, "account.title", "account")
	v.UserLang, v.Username = me.Lang, me.Username
	v.Sessions = sessionRows(sessions, "/account/sessions/")
	v.TimeZone.Page, v.TimeZone.Default = v.Page, s.svc.DefaultLocation()
	if !v.TimeZone.Errors.Any() {
		v.TimeZone.Value = me.TimeZone // else the refused input stays
	}
	now := time.Now()
	for _, t := range toks {
		row := TokenRow{ID: t.ID, Name: t.Name, Prefix: t.Prefix, Scopes: t.Scopes, AllowedIPs: t.AllowedIPs, CreatedAt: t.CreatedAt,
			LastUsedAt: t.LastUsedAt, LastUsedIP: t.LastUsedIP, ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt, State: "active"}
		switch {
		case !t.RevokedAt.IsZero():
			row.State = "revoked"
		case !t.ExpiresAt.IsZero() && !t.ExpiresAt.After(now):
			row.State = "expired"
		}
		v.Tokens = append(v.Tokens, row)
	}
	s.render(w, r, status, "account", v)
}

// sessionRows makes the session table's rows; base+id+"/end" ends one.
func sessionRows(list []service.SessionInfo, base string) []SessionRow {
	out := make([]SessionRow, len(list))
	for i, x := range list {
		out[i] = SessionRow{ID: x.ID, CreatedAt: x.CreatedAt, LastSeenAt: x.LastSeenAt, IP: x.IP, LastIP: x.LastIP,
			UserAgent: x.UserAgent, Current: x.Current, EndURL: base + strconv.FormatInt(x.ID, 10) + "/end"}
	}
	return out
}

func (s *Server) setLanguage(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	if err := s.svc.SetLanguage(r.Context(), a, r.PostFormValue("lang")); err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/account")
}

// PasswordView is the change-password page; MustChange explains why a user
// was sent here before anything else.
type PasswordView struct {
	Page
	Next       string
	MustChange bool
	Errors     FormErrors
}

var passwordFieldNames = []string{"current_password", "new_password", "confirm_password"}

// Fields are the password inputs; passwords are never echoed back.
func (v PasswordView) Fields() []FieldView { return passwordFields(v.Page, v.Errors) }

// PasswordFields are the change-password inputs on the account page.
func (v AccountView) PasswordFields() []FieldView { return passwordFields(v.Page, FormErrors{}) }

func passwordFields(p Page, e FormErrors) []FieldView {
	out := make([]FieldView, len(passwordFieldNames))
	for i, name := range passwordFieldNames {
		ac := "new-password"
		if name == "current_password" {
			ac = "current-password"
		}
		out[i] = FieldView{Name: name, Label: p.T("field." + name), Type: "password", Required: true, Max: 200,
			Autocomplete: ac, Error: e.For(name)}
	}
	out[1].Hint = p.T("hint.password")
	return out
}

func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.showPassword(w, r, a, http.StatusOK, PasswordView{Next: r.URL.Query().Get("next")})
}

func (s *Server) showPassword(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, v PasswordView) {
	me, err := s.svc.Me(r.Context(), a)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v.Page = s.page(r, a, "password.title", "account")
	v.MustChange = me.MustChangePW
	if v.Next != "" {
		v.Next = safeNext(v.Next)
	}
	s.render(w, r, status, "password", v)
}

// changePassword checks the current password and stores the new one; the
// service ends every other session of the user.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	v := PasswordView{Next: r.PostFormValue("next")}
	current, next := r.PostFormValue("current_password"), r.PostFormValue("new_password")
	var err error
	if next != r.PostFormValue("confirm_password") {
		err = &crm.Error{Code: crm.Invalid, Key: "invalid", Message: "the passwords differ",
			Fields: []crm.FieldError{{Field: "confirm_password", Rule: "mismatch"}}}
	} else {
		err = s.svc.ChangePassword(r.Context(), a, current, next)
	}
	if err != nil {
		s.refuse(w, r, a, err, func(status int) {
			v.Errors = formErrors(lang(r, a), err, passwordFieldNames...)
			s.showPassword(w, r, a, status, v)
		})
		return
	}
	to := "/account"
	if v.Next != "" {
		to = safeNext(v.Next)
	}
	redirect(w, r, to)
}

// TokenCreatedView shows a new API token's secret, once: it is stored only
// as a hash and cannot be shown again.
type TokenCreatedView struct {
	Page
	Name   string
	Secret string
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	in := service.TokenInput{Name: r.PostFormValue("name"), Scopes: r.PostForm["scopes"],
		AllowedIPs: strings.FieldsFunc(r.PostFormValue("allowed_ips"), func(c rune) bool { return c == ',' || c == '，' || unicode.IsSpace(c) })}
	expiry := strings.TrimSpace(r.PostFormValue("expires_at"))
	again := func(status int, err error) {
		s.showAccount(w, r, a, status, AccountView{TokenName: in.Name, TokenExpiry: expiry, TokenScopes: in.Scopes,
			TokenIPs: r.PostFormValue("allowed_ips"), TokenErrors: formErrors(lang(r, a), err, tokenFieldNames...)})
	}
	if expiry != "" {
		day, err := time.ParseInLocation(time.DateOnly, expiry, s.svc.Location(a))
		if err != nil {
			again(http.StatusUnprocessableEntity, &crm.Error{Code: crm.Invalid, Key: "invalid", Message: "bad date",
				Fields: []crm.FieldError{{Field: "expires_at", Rule: "date"}}})
			return
		}
		// A token "expiring on" a day works through that whole day.
		end := day.AddDate(0, 0, 1)
		in.ExpiresAt = &end
	}
	tok, err := s.svc.CreateAPIToken(r.Context(), a, in)
	if err != nil {
		s.refuse(w, r, a, err, func(status int) { again(status, err) })
		return
	}
	v := TokenCreatedView{Page: s.page(r, a, "token.created_title", "account"), Name: tok.Name, Secret: tok.Secret}
	s.render(w, r, http.StatusOK, "token_created", v)
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	if err := s.svc.RevokeAPIToken(r.Context(), a, id); err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/account")
}

// passwordURL is the change-password page, returning to next afterwards.
func passwordURL(next string) string {
	if next == "" {
		return "/account/password"
	}
	return "/account/password?next=" + url.QueryEscape(next)
}

// firstError is the first non-nil error, so the page shows its code.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// TimeZoneForm chooses the time zone the pages show and read times in:
// an IANA name, or empty for the organisation's default.
type TimeZoneForm struct {
	Page
	Value   string         // as stored or as typed
	Default *time.Location // the organisation's default
	Errors  FormErrors
}

// commonTimeZones are offered as suggestions; any IANA name is accepted.
var commonTimeZones = []string{"Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo", "Asia/Seoul",
	"Asia/Kolkata", "Asia/Dubai", "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Moscow", "America/New_York",
	"America/Chicago", "America/Los_Angeles", "America/Sao_Paulo", "Australia/Sydney", "Pacific/Auckland", "UTC"}

// Suggestions are the names the input suggests.
func (f TimeZoneForm) Suggestions() []string { return commonTimeZones }

// Field is the time zone input with its inline error and, as its hint,
// what an empty value means and the time it is now in the chosen zone.
func (f TimeZoneForm) Field() FieldView {
	def := f.Default.String()
	if def == "Local" {
		def = f.T("account.tz_server")
	}
	clock := f.Page
	clock.loc = f.Default
	if f.Value != "" && f.Errors.For("time_zone") == "" {
		if loc, err := service.LoadTimeZone(f.Value); err == nil {
			clock.loc = loc
		}
	}
	now := time.Now().In(clock.loc)
	return FieldView{Name: "time_zone", Label: f.T("field.time_zone"), Value: f.Value, Max: 64, Autocomplete: "off", List: "time-zones",
		Error: f.Errors.For("time_zone"), Hint: f.Tf("hint.time_zone", def, clock.Date(now)+" (UTC"+now.Format("-07:00")+")")}
}

// setTimeZone stores the user's time zone; a name that is no IANA zone
// shows the account page again with the input and the reason.
func (s *Server) setTimeZone(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	name := r.PostFormValue("time_zone")
	if err := s.svc.SetTimeZone(r.Context(), a, name); err != nil {
		s.refuse(w, r, a, err, func(status int) {
			s.showAccount(w, r, a, status, AccountView{TimeZone: TimeZoneForm{Value: name, Errors: formErrors(lang(r, a), err, "time_zone")}})
		})
		return
	}
	redirect(w, r, "/account")
}
