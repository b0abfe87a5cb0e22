package crm

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Text checks a free-text field: trimmed value, required or not, at most max
// characters (runes, so Chinese text counts characters, not bytes). It
// returns the trimmed value so callers store exactly what was validated.
func (p *Problems) Text(field, value string, required bool, max int) string {
	v := strings.TrimSpace(value)
	switch {
	case v == "" && required:
		p.Add(field, "required")
	case utf8.RuneCountInString(v) > max:
		p.Add(field, "too_long", strconv.Itoa(max))
	case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
		p.Add(field, "format")
	}
	return v
}

// Enum checks that a non-empty value is one of allowed.
func (p *Problems) Enum(field, value string, required bool, allowed []string) string {
	v := strings.TrimSpace(value)
	if v == "" {
		if required {
			p.Add(field, "required")
		}
		return v
	}
	if !slices.Contains(allowed, v) {
		p.Add(field, "enum", strings.Join(allowed, ", "))
	}
	return v
}

// URL checks an optional http(s) address; a bare host gets "https://".
func (p *Problems) URL(field, value string) string {
	v := strings.TrimSpace(value)
	if v == "" {
		return v
	}
	if !strings.Contains(v, "://") {
		v = "https://" + v
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !strings.Contains(u.Host, ".") || len(v) > 500 {
		p.Add(field, "format")
	}
	return v
}

// Date checks an optional calendar date in YYYY-MM-DD form within the
// plausible years (CheckDate).
func (p *Problems) Date(field, value string, required bool) string {
	v := strings.TrimSpace(value)
	if v == "" {
		if required {
			p.Add(field, "required")
		}
		return v
	}
	switch rule := CheckDate(v); rule {
	case "year_range":
		p.Add(field, rule, YearRange)
	case "date":
		p.Add(field, rule)
	}
	return v
}

// Tags cleans a tag list: trimmed, empty ones dropped, duplicates removed, at
// most max tags of at most 30 characters each.
func (p *Problems) Tags(field string, tags []string, max int) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t == "" || slices.Contains(out, t) {
			continue
		}
		if utf8.RuneCountInString(t) > 30 {
			p.Add(field, "too_long", "30")
			return out
		}
		out = append(out, t)
	}
	if len(out) > max {
		p.Add(field, "too_many", strconv.Itoa(max))
	}
	return out
}
