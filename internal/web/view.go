package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/i18n"
)

// Page is what every page's view model embeds: language, title, the
// signed-in user (nil on the sign-in page), the CSRF token for forms and the
// active navigation item. Its methods are the templates' helpers, so
// templates need no global functions that would have to know the language.
type Page struct {
	Lang  string
	Title string
	Nav   string
	Tab   string // the active tab of the administration pages
	Actor *access.Actor
	CSRF  string
	// Unread counts the user's unread notifications, for the header.
	Unread     int
	recycleTab string         // the recycle bin section shown, for its tabs
	loc        *time.Location // the user's time zone, for showing and reading times
	// exportPath and exportQuery are, on an exportable list, the list's
	// export route and its filters, for the export buttons (ExportURL).
	exportPath  string
	exportQuery url.Values
}

// page builds the common view model. The language is the user's setting,
// else the browser's Accept-Language; the time zone is the user's setting,
// else the organisation's default.
func (s *Server) page(r *http.Request, a *access.Actor, titleKey, nav string) Page {
	p := Page{Lang: lang(r, a), Nav: nav, Actor: a, loc: s.svc.Location(a)}
	if a != nil {
		p.CSRF = a.CSRFToken
		// One index range; a failure only hides the badge (the page's own
		// reads report errors).
		p.Unread, _ = s.svc.UnreadNotifications(r.Context(), a)
	}
	p.Title = p.T(titleKey)
	p.exportPath, p.exportQuery = exportOf(r)
	return p
}

func lang(r *http.Request, a *access.Actor) string {
	userLang := ""
	if a != nil {
		userLang = a.Lang
	}
	return i18n.Pick(userLang, r.Header.Get("Accept-Language"))
}

func (p Page) language() string { return p.Lang }

// Count says how many records a list reaches: exactly, or "more than" a
// capped count.
func (p Page) Count(total int, capped bool) string {
	if capped {
		return p.Tf("list.total_more", total)
	}
	return p.Tf("list.total", total)
}

// T translates a key.
func (p Page) T(key string) string { return i18n.T(p.Lang, key) }

// FieldLabel names a field in the page's language.
func (p Page) FieldLabel(field string) string { return i18n.FieldName(p.Lang, field) }

// Tf translates a key with arguments.
func (p Page) Tf(key string, args ...any) string { return i18n.Tf(p.Lang, key, args...) }

// HTMLLang is the page's lang attribute.
func (p Page) HTMLLang() string {
	if p.Lang == i18n.ZH {
		return "zh-CN"
	}
	return "en"
}

// HXHeaders is the hx-headers attribute of <body>: htmx sends the CSRF token
// with every request it makes, so no inline script is needed.
func (p Page) HXHeaders() string {
	b, _ := json.Marshal(map[string]string{httpx.CSRFHeader: p.CSRF})
	return string(b)
}

// CSRFField is the name of the hidden form field carrying the CSRF token.
func (p Page) CSRFField() string { return httpx.CSRFField }

// IsAdmin reports whether the administration pages are shown.
func (p Page) IsAdmin() bool { return p.Actor.IsAdmin() }

// Can reports whether the user may act on customers, to show or hide
// buttons; the service enforces the same rule on every call.
func (p Page) Can(action string) bool {
	return p.Actor.Can(crm.ObjCustomer, crm.Action(action))
}

// Enum translates an enum value such as ("status", "active"); unknown or
// empty values show as they are.
func (p Page) Enum(kind, value string) string {
	if value == "" {
		return ""
	}
	key := "enum." + kind + "." + value
	if s := i18n.T(p.Lang, key); s != key {
		return s
	}
	return value
}

// Location is the time zone the page shows and reads times in.
func (p Page) Location() *time.Location {
	if p.loc == nil {
		return time.Local
	}
	return p.loc
}

// Date shows a time in the user's time zone and language:
// "2026年3月5日 14:30" or "5 Mar 2026 14:30". Zero and nil show a dash.
func (p Page) Date(v any) string {
	t, ok := asTime(v)
	if !ok {
		return "—"
	}
	t = t.In(p.Location())
	if p.Lang == i18n.ZH {
		return fmt.Sprintf("%d年%d月%d日 %s", t.Year(), t.Month(), t.Day(), t.Format("15:04"))
	}
	return t.Format("2 Jan 2006 15:04")
}

// ISO is a machine-readable timestamp for <time datetime>.
func (p Page) ISO(v any) string {
	t, ok := asTime(v)
	if !ok {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// When is a time as a list cell shows it: machine-readable for
// <time datetime> and in the user's zone and language. List rows carry
// it ready-made, because every helper call a template makes per cell goes
// through reflection and a page of rows makes hundreds of them.
type When struct{ ISO, Text string }

func (p Page) when(v any) When { return When{ISO: p.ISO(v), Text: p.Date(v)} }

func asTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, !t.IsZero()
	case *time.Time:
		if t == nil {
			return time.Time{}, false
		}
		return *t, !t.IsZero()
	}
	return time.Time{}, false
}

// Option is one entry of a <select>.
type Option struct {
	Value    string
	Label    string
	Selected bool
}

// enumOptions builds select options for enum values, with an optional
// leading empty choice labelled by emptyKey.
func (p Page) enumOptions(kind string, values []string, selected, emptyKey string) []Option {
	var out []Option
	if emptyKey != "" {
		out = append(out, Option{Value: "", Label: p.T(emptyKey), Selected: selected == ""})
	}
	for _, v := range values {
		out = append(out, Option{Value: v, Label: p.Enum(kind, v), Selected: v == selected})
	}
	return out
}

// FormErrors are a form's problems in the user's language: a summary
// sentence, one message per field shown next to it, and messages for fields
// the form does not show (so none is ever lost).
type FormErrors struct {
	Summary string
	Fields  map[string]string
	Other   []string
}

// For returns the message for one field ("" when it is fine).
func (e FormErrors) For(field string) string { return e.Fields[field] }

// Any reports whether there is anything to show.
func (e FormErrors) Any() bool { return e.Summary != "" || len(e.Fields) > 0 || len(e.Other) > 0 }

// formErrors turns a service error into form messages; shown lists the
// fields the form displays.
func formErrors(lang string, err error, shown ...string) FormErrors {
	return labeledFormErrors(lang, err, nil, shown...)
}

// labeledFormErrors is formErrors with labels for fields the catalog cannot
// name: custom fields ("custom.<key>", labelled by their definition) and
// fields a form words its own way (a task's "title").
func labeledFormErrors(lang string, err error, labels map[string]string, shown ...string) FormErrors {
	fe := FormErrors{Summary: i18n.Message(lang, err), Fields: map[string]string{}}
	for _, f := range fieldErrors(err) {
		msg := fieldMessage(lang, f)
		if label, ok := labels[f.Field]; ok {
			if f.Rule == "duplicate" && f.Param == "" {
				f.Rule = "duplicate_pool"
			}
			msg = i18n.LabeledFieldMessage(lang, label, f)
		}
		switch {
		case !contains(shown, f.Field):
			fe.Other = append(fe.Other, msg)
		case fe.Fields[f.Field] == "":
			fe.Fields[f.Field] = msg
		}
	}
	// A refused stage move's summary names everything missing already.
	if ce := (*crm.Error)(nil); errors.As(err, &ce) && ce.Key == "stage_criteria" {
		fe.Other = nil
	}
	// The duplicate summary already is the field's message; say it once.
	if crm.IsCode(err, crm.Duplicate) {
		fe.Summary = i18n.T(lang, "error.duplicate")
	}
	return fe
}

// fieldMessage is i18n.FieldMessage, except that a duplicate held by the
// public pool has no owner to name and says so.
func fieldMessage(lang string, f crm.FieldError) string {
	if f.Rule == "duplicate" && f.Param == "" {
		f.Rule = "duplicate_pool"
	}
	return i18n.FieldMessage(lang, f)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// splitTags reads a tag list typed as "a, b，c、d".
func splitTags(s string) []string {
	f := func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == ';' || r == '；' }
	parts := strings.FieldsFunc(s, f)
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// FieldView is one form field for the "field" partial: label, input (a
// select when Options is set, a textarea for Type "textarea"), the value as
// typed and the inline error.
type FieldView struct {
	Name         string
	Label        string
	Type         string // input type; "" is text
	Value        string
	Error        string
	Hint         string
	Required     bool
	Max          int
	Autocomplete string
	InputMode    string // the inputmode attribute: "decimal", "url", ...
	Options      []Option
	Multi        bool   // Options as checkboxes, several may be chosen
	Check        bool   // a single checkbox; Checked is its state
	Checked      bool   // the single checkbox is ticked
	Picker       string // a search box above the select loads options from this URL
	Wide         bool   // spans the whole form row
	List         string // the id of a <datalist> of suggested values
}

// ID is the input's id attribute.
func (f FieldView) ID() string { return "f-" + strings.ReplaceAll(f.Name, ".", "-") }

// InputType is the input's type attribute.
func (f FieldView) InputType() string {
	if f.Type == "" {
		return "text"
	}
	return f.Type
}

// CanDo reports whether the user may act on an object, e.g. ("contact",
// "create"), to show or hide links; the service enforces the same rule.
func (p Page) CanDo(object, action string) bool {
	return p.Actor.Can(crm.Object(object), crm.Action(action))
}

// Money shows an amount in minor units with its currency: "¥12,000.00" in
// Chinese for yuan, else "CNY 12,000.00".
func (p Page) Money(minor int64, currency string) string { return formatMoney(p.Lang, minor, currency) }

// LocalInput is a time as a datetime-local input value, in the user's
// time zone.
func (p Page) LocalInput(v any) string {
	t, ok := asTime(v)
	if !ok {
		return ""
	}
	return t.In(p.Location()).Format(localInputLayout)
}

// localInputLayout is the value format of <input type="datetime-local">.
const localInputLayout = "2006-01-02T15:04"

// parseLocalTime reads a datetime-local value (seconds optional) as a time
// in loc, the user's time zone; "" is nil, and a bad value or one outside
// the plausible years (crm.CheckTime) adds a field problem.
func parseLocalTime(loc *time.Location, p *crm.Problems, field, value string) *time.Time {
	v := strings.TrimSpace(value)
	if v == "" {
		return nil
	}
	for _, layout := range []string{localInputLayout, "2006-01-02T15:04:05", "2006-01-02 15:04", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			if rule := crm.CheckTime(t); rule != "" {
				p.Add(field, rule, crm.YearRange)
				return nil
			}
			return &t
		}
	}
	p.Add(field, "datetime")
	return nil
}

// mergeProblems joins local form problems (fields the page could not even
// read) with the domain's own checks, each field reported once.
func mergeProblems(local crm.Problems, more ...crm.Problems) error {
	seen := map[string]bool{}
	var out crm.Problems
	for _, ps := range append([]crm.Problems{local}, more...) {
		for _, f := range ps {
			if !seen[f.Field] {
				seen[f.Field] = true
				out = append(out, f)
			}
		}
	}
	return out.Err()
}

// submit saves a form through save, unless the page could not even read
// some of its fields (local); then those problems join the domain's own
// checks, so the user sees every problem at once and nothing is stored.
func submit(local crm.Problems, domain func() crm.Problems, save func() error) error {
	if len(local) == 0 {
		return save()
	}
	return mergeProblems(local, domain())
}

// FilterSelect is one select of a list's filter form.
type FilterSelect struct {
	Name    string
	Label   string
	Options []Option
}

// Pager holds a list's paging links. Cursor paging only goes forward, so
// the cursors of the pages before travel along in the query string ("prev")
// to offer "previous page" as well.
type Pager struct {
	FirstURL string
	PrevURL  string
	NextURL  string
}

// maxPrev bounds the cursors remembered in a paging link.
const maxPrev = 30

// readPrev reads the remembered cursors; anything that is not a list of
// cursors is dropped (the store checks each cursor when it is used).
func readPrev(q url.Values) []string {
	raw := q.Get("prev")
	if raw == "" || len(raw) > 8000 {
		return nil
	}
	parts := strings.Split(raw, ".")
	for _, c := range parts {
		if c == "" {
			return nil
		}
		for _, r := range c {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return nil
			}
		}
	}
	if len(parts) > maxPrev {
		parts = parts[len(parts)-maxPrev:]
	}
	return parts
}

// makePager builds the links of a list page shown at cursor, with params
// the list's filters (without cursor and prev).
func makePager(path string, params url.Values, cursor string, prev []string, next string) Pager {
	var p Pager
	link := func(c string, stack []string) string {
		v := url.Values{}
		for k, vals := range params {
			v[k] = vals
		}
		if c != "" {
			v.Set("cursor", c)
			if len(stack) > 0 {
				v.Set("prev", strings.Join(stack, "."))
			}
		}
		return withQuery(path, v)
	}
	// The stack holds the cursors of the pages between the first and this
	// one; the first page needs none.
	if cursor != "" {
		p.FirstURL = link("", nil)
		if n := len(prev); n > 0 {
			p.PrevURL = link(prev[n-1], prev[:n-1])
		}
	}
	if next != "" {
		var stack []string
		if cursor != "" {
			stack = append(append(stack, prev...), cursor)
		}
		if len(stack) > maxPrev {
			stack = stack[len(stack)-maxPrev:]
		}
		p.NextURL = link(next, stack)
	}
	return p
}
