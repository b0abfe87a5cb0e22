package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/i18n"
)

// Custom fields: administrators define typed fields per object; forms show
// the active ones as inputs named "custom.<key>", detail pages show their
// values, lists may show them as columns and filter by choice fields.

// customDefs are an object's active custom field definitions, in order.
type customDefs []crm.CustomField

// activeCustomFields loads the active definitions of an object.
func (s *Server) activeCustomFields(ctx context.Context, a *access.Actor, object crm.Object) (customDefs, error) {
	all, err := s.svc.CustomFields(ctx, a, object)
	if err != nil {
		return nil, err
	}
	var out customDefs
	for _, d := range all {
		if d.Active {
			out = append(out, d)
		}
	}
	return out, nil
}

// names are the form field names of the definitions.
func (defs customDefs) names() []string {
	out := make([]string, len(defs))
	for i, d := range defs {
		out[i] = "custom." + d.Key
	}
	return out
}

// labels name each custom field in the user's language, for messages.
func (defs customDefs) labels(lang string) map[string]string {
	out := make(map[string]string, len(defs))
	for _, d := range defs {
		out["custom."+d.Key] = d.LabelFor(lang)
	}
	return out
}

// customInput is custom values as typed: one string per field, several for
// multiple choice.
type customInput map[string][]string

// first is the typed value of a single-valued field.
func (in customInput) first(key string) string {
	if vs := in[key]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// readCustom reads the custom inputs of a submitted form.
func readCustom(r *http.Request, defs customDefs) customInput {
	in := customInput{}
	for _, d := range defs {
		in[d.Key] = r.PostForm["custom."+d.Key]
	}
	return in
}

// values turns typed input into values for the service: amounts in minor
// units, multiple choice as a list, an emptied field as nil (which removes
// the stored value on update). The form shows every active field, so every
// one is sent.
func (in customInput) values(defs customDefs) map[string]any {
	if len(defs) == 0 {
		return nil
	}
	out := make(map[string]any, len(defs))
	for _, d := range defs {
		if d.Type == "multi" {
			var list []string
			for _, v := range in[d.Key] {
				if v = strings.TrimSpace(v); v != "" {
					list = append(list, v)
				}
			}
			if len(list) == 0 {
				out[d.Key] = nil
			} else {
				out[d.Key] = list
			}
			continue
		}
		v := strings.TrimSpace(in.first(d.Key))
		switch {
		case v == "":
			out[d.Key] = nil
		case d.Type == "amount":
			if n, ok := parseMoney(v, 2); ok {
				out[d.Key] = strconv.FormatInt(n, 10)
			} else {
				out[d.Key] = "not an amount" // the service names the rule
			}
		default:
			out[d.Key] = v
		}
	}
	return out
}

// customInputOf shows stored values in a form: amounts in major units.
func customInputOf(defs customDefs, stored map[string]any) customInput {
	in := customInput{}
	for _, d := range defs {
		v, ok := stored[d.Key]
		if !ok || v == nil {
			continue
		}
		switch d.Type {
		case "multi":
			in[d.Key] = stringList(v)
		case "amount":
			if n, ok := customInt(v); ok {
				in[d.Key] = []string{formatMinor(n, 2, false)}
				continue
			}
			in[d.Key] = []string{fmt.Sprint(v)}
		default:
			in[d.Key] = []string{fmt.Sprint(v)}
		}
	}
	return in
}

func stringList(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, it := range x {
			out = append(out, fmt.Sprint(it))
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}

func customInt(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	case float64:
		return int64(x), x == float64(int64(x))
	case int64:
		return x, true
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// customFields are the form inputs of the definitions with the typed
// values and inline errors, labelled in the user's language.
func (p Page) customFields(defs customDefs, in customInput, errs FormErrors) []FieldView {
	out := make([]FieldView, 0, len(defs))
	for _, d := range defs {
		name := "custom." + d.Key
		fv := FieldView{Name: name, Label: d.LabelFor(p.Lang), Required: d.Required, Error: errs.For(name), Value: in.first(d.Key)}
		switch d.Type {
		case "text":
			fv.Max = 500
		case "number":
			fv.InputMode = "decimal"
		case "amount":
			fv.InputMode, fv.Hint = "decimal", p.T("hint.amount")
		case "date":
			fv.Type = "date"
		case "single":
			fv.Options = []Option{{Value: "", Label: p.T("form.none"), Selected: fv.Value == ""}}
			for _, o := range d.Options {
				fv.Options = append(fv.Options, Option{Value: o, Label: o, Selected: o == fv.Value})
			}
			if fv.Value != "" && !slices.Contains(d.Options, fv.Value) {
				// A value no longer among the options stays visible until changed.
				fv.Options = append(fv.Options, Option{Value: fv.Value, Label: fv.Value, Selected: true})
			}
		case "multi":
			fv.Multi, fv.Required, fv.Wide = true, false, true
			for _, o := range d.Options {
				fv.Options = append(fv.Options, Option{Value: o, Label: o, Selected: slices.Contains(in[d.Key], o)})
			}
		case "phone":
			fv.Type, fv.Max, fv.Autocomplete = "tel", 40, "off"
		case "email":
			fv.Type, fv.Max, fv.Autocomplete = "email", 200, "off"
		case "url":
			fv.InputMode, fv.Max, fv.Autocomplete = "url", 500, "off"
		}
		out = append(out, fv)
	}
	return out
}

// CustomValue is one custom field's value on a detail page or in a list.
type CustomValue struct {
	Label    string
	Text     string // "" shows a dash
	Href     string // a link for e-mail, phone and web addresses
	External bool   // Href leaves Custos (a web address)
}

// customValues shows the stored values of the definitions.
func (p Page) customValues(defs customDefs, stored map[string]any) []CustomValue {
	out := make([]CustomValue, 0, len(defs))
	for _, d := range defs {
		cv := CustomValue{Label: d.LabelFor(p.Lang), Text: customText(p.Lang, d, stored[d.Key])}
		if cv.Text != "" {
			switch d.Type {
			case "email":
				cv.Href = "mailto:" + cv.Text
			case "phone":
				cv.Href = "tel:" + cv.Text
			case "url":
				if u, err := url.Parse(cv.Text); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
					cv.Href, cv.External = cv.Text, true
				}
			}
		}
		out = append(out, cv)
	}
	return out
}

// customText formats one stored value for reading in the language.
func customText(lang string, d crm.CustomField, v any) string {
	if v == nil {
		return ""
	}
	switch d.Type {
	case "multi":
		sep := ", "
		if lang == i18n.ZH {
			sep = "、"
		}
		return strings.Join(stringList(v), sep)
	case "amount":
		if n, ok := customInt(v); ok {
			return formatMinor(n, 2, true)
		}
	}
	return fmt.Sprint(v)
}

// inList are the definitions shown as list columns.
func (defs customDefs) inList() customDefs {
	var out customDefs
	for _, d := range defs {
		if d.InList {
			out = append(out, d)
		}
	}
	return out
}

// choiceFilters are the list filters of single and multiple choice fields,
// read from the query ("custom.<key>"); values that are not options are
// dropped rather than sent to the store.
func (defs customDefs) choiceFilters(q url.Values) map[string]string {
	out := map[string]string{}
	for _, d := range defs {
		if d.Type != "single" && d.Type != "multi" {
			continue
		}
		if v := q.Get("custom." + d.Key); v != "" && slices.Contains(d.Options, v) {
			out[d.Key] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// customFilterSelects are the selects of the choice filters.
func (p Page) customFilterSelects(defs customDefs, chosen map[string]string) []FilterSelect {
	var out []FilterSelect
	for _, d := range defs {
		if d.Type != "single" && d.Type != "multi" {
			continue
		}
		label := d.LabelFor(p.Lang)
		fs := FilterSelect{Name: "custom." + d.Key, Label: label,
			Options: []Option{{Value: "", Label: p.Tf("list.any_custom", label), Selected: chosen[d.Key] == ""}}}
		for _, o := range d.Options {
			fs.Options = append(fs.Options, Option{Value: o, Label: o, Selected: chosen[d.Key] == o})
		}
		out = append(out, fs)
	}
	return out
}

// CustomList is the part of an object's list page that is the same for
// every object with custom fields: the columns an administrator chose to
// show in lists, filters on the choice fields read from the query string
// ("custom.<key>"), and the rep and department filter (Team) of objects
// the registry marks TeamFiltered.
type CustomList struct {
	Columns []string          // labels of the custom list columns
	Chosen  map[string]string // chosen choice filters, key → option
	Team    TeamPick
	// Drill are a report drill-down's filters the list was opened with:
	// hidden inputs of the filter form (a search keeps them) and named
	// above the results with a link to the list without them.
	Drill []DrillParam
	lang  string
	defs  customDefs // the object's active fields, for the filters
	cols  customDefs // those shown as columns
}

// customList loads an object's custom list columns and reads its filters.
// Fields hidden from the user by their role are neither; masked ones are
// columns (shown masked) but no filters, which the service refuses.
func (s *Server) customList(r *http.Request, a *access.Actor, object crm.Object) (CustomList, error) {
	all, err := s.activeCustomFields(r.Context(), a, object)
	if err != nil {
		return CustomList{}, err
	}
	var defs, filters customDefs
	for _, d := range all {
		switch acc := a.Field(object, "custom."+d.Key); {
		case acc.Visible():
			filters = append(filters, d)
			defs = append(defs, d)
		case acc != crm.FieldHidden:
			defs = append(defs, d)
		}
	}
	l := CustomList{Chosen: filters.choiceFilters(r.URL.Query()), lang: lang(r, a), defs: filters, cols: defs.inList()}
	if spec, ok := crm.Spec(object); ok && spec.TeamFiltered {
		if l.Team, err = s.teamPick(r, a); err != nil {
			return CustomList{}, err
		}
	}
	for _, d := range l.cols {
		l.Columns = append(l.Columns, d.LabelFor(l.lang))
	}
	return l, nil
}

// Cells are a record's values in the custom list columns.
func (l CustomList) Cells(stored map[string]any) []string {
	out := make([]string, len(l.cols))
	for i, d := range l.cols {
		out[i] = customText(l.lang, d, stored[d.Key])
	}
	return out
}

// selects are the filter form's selects of the choice fields.
func (l CustomList) selects(p Page) []FilterSelect {
	return append(l.Team.selects(p), p.customFilterSelects(l.defs, l.Chosen)...)
}

// params keeps the chosen filters in a list's paging links.
func (l CustomList) params(v url.Values) {
	for k, val := range l.Chosen {
		v.Set("custom."+k, val)
	}
	l.Team.params(v)
}
