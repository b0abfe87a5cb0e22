package service

import (
	"encoding/json"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"custos/internal/crm"
	"custos/internal/i18n"
	"custos/internal/transfer"
)

// importColumn is where one column of the file goes.
type importColumn struct {
	index  int
	header string
	target string
	spec   *crm.FieldSpec   // a field of the object
	custom *crm.CustomField // or a custom field
}

// field names the column's target in a row's problems.
func (c importColumn) field() string {
	switch {
	case c.spec != nil:
		return c.spec.Name
	case c.custom != nil:
		return c.custom.Key
	}
	return c.target
}

// oneLine reports a column of one line of text (a name, a title, an
// address, a link by name), where a "?" beside a Han character is not
// punctuation a person typed.
func (c importColumn) oneLine() bool {
	switch {
	case c.spec != nil:
		return c.spec.Type == crm.TypeText
	case c.custom != nil:
		return c.custom.Type == "text"
	}
	return true
}

// garbled reports text a legacy encoding has mangled: a replacement
// character anywhere, or, in one line of text, a question mark next to a
// Han character where a character was that the file's encoding could not
// hold (Excel saving a sheet as a GBK "CSV" turns every character outside
// GBK into "?"). Such a row is refused rather than stored with its "?";
// free text (notes) may hold a "?" someone typed, so only the replacement
// character counts there.
func garbled(s string, oneLine bool) bool {
	if strings.ContainsRune(s, utf8.RuneError) {
		return true
	}
	if !oneLine {
		return false
	}
	runes := []rune(s)
	for i, r := range runes {
		if r != '?' {
			continue
		}
		if (i > 0 && unicode.Is(unicode.Han, runes[i-1])) || (i+1 < len(runes) && unicode.Is(unicode.Han, runes[i+1])) {
			return true
		}
	}
	return false
}

// importPlan turns the cells of a row into the object's fields as JSON,
// the form every surface gives the service: the registry says what each
// field is, so no object needs code of its own here.
type importPlan struct {
	object crm.Object
	cols   []importColumn
	values map[string]map[string]string
	loc    *time.Location
	// hasExternal is set when a column carries external ids.
	hasExternal bool
}

// importRow is one row, converted.
type importRow struct {
	fields     map[string]any
	externalID string
	owner      string
	links      map[string]string // link target → value
}

// newImportPlan checks a mapping against the object's importable fields
// and custom fields; an unknown target names its column.
func newImportPlan(o crm.Object, header []string, opts crm.ImportOptions, customs []crm.CustomField, loc *time.Location) (*importPlan, error) {
	spec, _ := crm.Spec(o)
	p := &importPlan{object: o, values: opts.Values, loc: loc}
	var probs crm.Problems
	seen := map[string]string{}
	for i, h := range header {
		target := strings.TrimSpace(opts.Mapping[h])
		if target == "" || target == "-" {
			continue
		}
		col := importColumn{index: i, header: h, target: target}
		switch {
		case slices.Contains(crm.ImportTargets, target):
			p.hasExternal = p.hasExternal || target == "external_id"
		case strings.HasPrefix(target, "custom."):
			key := strings.TrimPrefix(target, "custom.")
			at := slices.IndexFunc(customs, func(c crm.CustomField) bool { return c.Key == key && c.Active })
			if at < 0 {
				probs.Add("mapping."+h, "unknown_target", target)
				continue
			}
			col.custom = &customs[at]
		default:
			f, ok := spec.Field(target)
			if !ok || !f.Importable {
				probs.Add("mapping."+h, "unknown_target", target)
				continue
			}
			col.spec = &f
		}
		if other, dup := seen[target]; dup && !joinable(col) {
			probs.Add("mapping."+h, "mapped_twice", other)
			continue
		}
		seen[target] = h
		p.cols = append(p.cols, col)
	}
	if len(p.cols) == 0 {
		probs.Add("mapping", "required")
	}
	return p, probs.Err()
}

// convert reads one row's cells; problems name the field (as the form
// would) and the column's header is in the param where it helps.
func (p *importPlan) convert(cells []string) (importRow, crm.Problems) {
	r := importRow{fields: map[string]any{}}
	var probs crm.Problems
	custom := map[string]any{}
	for _, c := range p.cols {
		raw := ""
		if c.index < len(cells) {
			// A file exported by Custos comes back as the text it stands
			// for, without its fingerprint's forms.
			raw = strings.TrimSpace(transfer.Unmark(cells[c.index]))
		}
		if raw == "" {
			continue
		}
		if joinable(c) {
			// Several columns of one text field (姓 and 名, given name and
			// surname) are joined in file order; a person's name loses the
			// space between Han characters in normalisation.
			if prev, ok := textOf(r.fields, custom, c); ok {
				raw = prev + " " + raw
			}
		}
		if garbled(raw, c.oneLine()) {
			probs.Add(c.field(), "garbled")
			continue
		}
		switch {
		case c.target == "external_id":
			r.externalID = raw
		case c.target == "owner":
			r.owner = raw
		case c.custom != nil:
			custom[c.custom.Key] = p.customValue(*c.custom, raw)
		case c.spec != nil:
			v, rule := p.fieldValue(*c.spec, raw)
			if rule == "enum" {
				probs.Add(c.spec.Name, rule, strings.Join(c.spec.Options, ", "))
				continue
			}
			if rule != "" {
				probs.Add(c.spec.Name, rule)
				continue
			}
			r.fields[c.spec.Name] = v
		default:
			if r.links == nil {
				r.links = map[string]string{}
			}
			r.links[c.target] = raw
		}
	}
	if len(custom) > 0 {
		r.fields["custom"] = custom
	}
	if len([]rune(r.externalID)) > 200 {
		probs.Add("external_id", "too_long", "200")
	}
	return r, probs
}

// customValue gives a custom field its raw text, except that a multiple
// choice is split into its items; the service's custom check validates.
func (p *importPlan) customValue(d crm.CustomField, raw string) any {
	if v, ok := p.values["custom."+d.Key][raw]; ok {
		raw = v
	}
	if d.Type == "multi" {
		return splitList(raw)
	}
	return raw
}

// fieldValue converts one cell to the JSON value of a field, or names the
// rule it breaks.
func (p *importPlan) fieldValue(f crm.FieldSpec, raw string) (any, string) {
	if v, ok := p.values[f.Name][raw]; ok {
		raw = v
	}
	switch f.Type {
	case crm.TypeEnum:
		return enumValue(f, raw)
	case crm.TypeTags:
		return splitList(raw), ""
	case crm.TypeMoney:
		return parseMoney(raw)
	case crm.TypePercent:
		n, err := strconv.ParseFloat(strings.TrimSuffix(raw, "%"), 64)
		if err != nil {
			return nil, "number"
		}
		return n, ""
	case crm.TypeBool:
		return parseBool(raw)
	case crm.TypeDate:
		d, ok := parseDate(raw)
		if !ok {
			return nil, "date"
		}
		return d.Format(time.DateOnly), ""
	case crm.TypeTime:
		t, ok := parseDateTime(raw, p.loc)
		if !ok {
			return nil, "datetime"
		}
		return t.UTC().Format(time.RFC3339), ""
	case crm.TypeStage:
		// A stage by its id, else by its name (方案报价, Proposal): the
		// opportunity's import resolves it (stageOfRow).
		if id, err := strconv.ParseInt(raw, 10, 64); err == nil && id > 0 {
			return id, ""
		}
		return raw, ""
	case crm.TypeRef:
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			return nil, "number"
		}
		return id, ""
	}
	return raw, ""
}

// enumValue accepts an option's code or its label in either language
// ("A", "A 类"); the value maps of the options come first.
func enumValue(f crm.FieldSpec, raw string) (any, string) {
	key := foldHeader(raw)
	for _, o := range f.Options {
		if foldHeader(o) == key {
			return o, ""
		}
		for _, lang := range []string{i18n.ZH, i18n.EN} {
			if foldHeader(i18n.T(lang, "enum."+f.Name+"."+o)) == key {
				return o, ""
			}
		}
	}
	return nil, "enum"
}

var listSeparators = regexp.MustCompile(`[,，;；、|]`)

func splitList(raw string) []string {
	out := []string{}
	for _, s := range listSeparators.Split(raw, -1) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parseMoney reads an amount as people type it in spreadsheets (¥1,234.50,
// 12.5万, USD 99) into minor units.
func parseMoney(raw string) (any, string) {
	s := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == ',' || r == '，' || strings.ContainsRune("¥￥$€£", r) {
			return -1
		}
		return r
	}, raw)
	s = strings.TrimLeft(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
	scale := 1.0
	for suffix, k := range map[string]float64{"万": 1e4, "亿": 1e8, "元": 1} {
		if rest, ok := strings.CutSuffix(s, suffix); ok {
			s, scale = rest, k
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return nil, "amount"
	}
	minor := math.Round(n * scale * 100)
	if minor > float64(crm.MaxAmount) {
		return nil, "amount"
	}
	return int64(minor), ""
}

func parseBool(raw string) (any, string) {
	switch strings.ToLower(raw) {
	case "1", "true", "yes", "y", "是", "已完成", "完成", "done", "√", "✓":
		return true, ""
	case "0", "false", "no", "n", "否", "未完成", "open":
		return false, ""
	}
	return nil, "bool"
}

// dateLayouts are the ways a date is written in the files teams bring.
var dateLayouts = []string{"2006-01-02", "2006/01/02", "2006.01.02", "20060102", "2006年01月02日"}

// parseDate accepts a date with one- or two-digit month and day.
func parseDate(raw string) (time.Time, bool) {
	s := padDate(raw)
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseDateTime accepts a date, or a date and a time of day, in the
// organisation's time zone, or an RFC 3339 time.
func parseDateTime(raw string, loc *time.Location) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t, true
	}
	day, clock, _ := strings.Cut(strings.Replace(raw, "T", " ", 1), " ")
	d, ok := parseDate(day)
	if !ok {
		return time.Time{}, false
	}
	h, m, sec := 0, 0, 0
	if clock = strings.TrimSpace(clock); clock != "" {
		parts := strings.Split(clock, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return time.Time{}, false
		}
		var err error
		vals := []*int{&h, &m, &sec}
		for i, part := range parts {
			if *vals[i], err = strconv.Atoi(part); err != nil {
				return time.Time{}, false
			}
		}
		if h > 23 || m > 59 || sec > 59 {
			return time.Time{}, false
		}
	}
	return time.Date(d.Year(), d.Month(), d.Day(), h, m, sec, 0, loc), true
}

var datePart = regexp.MustCompile(`\d+`)

// padDate writes one-digit months and days with two digits, so one layout
// reads 2026-3-5 and 2026-03-05 alike.
func padDate(s string) string {
	return datePart.ReplaceAllStringFunc(s, func(d string) string {
		if len(d) == 1 {
			return "0" + d
		}
		return d
	})
}

// rowJSON is the row's fields as the JSON body a surface would send.
func (r importRow) rowJSON() ([]byte, error) { return json.Marshal(r.fields) }

// joinable reports whether several columns may go to the column's target:
// free text is joined, anything else would be one value overwriting another.
func joinable(c importColumn) bool {
	switch {
	case c.spec != nil:
		return c.spec.Type == crm.TypeText || c.spec.Type == crm.TypeLongText
	case c.custom != nil:
		return c.custom.Type == "text"
	}
	return false
}

// textOf returns the text a joinable column's target already holds.
func textOf(fields, custom map[string]any, c importColumn) (string, bool) {
	var v any
	if c.custom != nil {
		v = custom[c.custom.Key]
	} else {
		v = fields[c.spec.Name]
	}
	s, ok := v.(string)
	return s, ok && s != ""
}
