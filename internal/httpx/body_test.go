package httpx

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"custos/internal/crm"
)

// Inner is exported: encoding/json cannot fill an embedded pointer to an
// unexported struct.
type Inner struct {
	Name string `json:"name"`
}

type embedded struct {
	Shared string `json:"shared"`
	Hidden string `json:"-"`
	Plain  string
}

type target struct {
	embedded
	*Inner
	Version int64             `json:"version"`
	Amount  *int64            `json:"amount,omitempty"`
	Ratio   float64           `json:"ratio"`
	Flag    bool              `json:"flag"`
	Tags    []string          `json:"tags"`
	Due     *time.Time        `json:"due,omitempty"`
	Custom  map[string]any    `json:"custom"`
	Nested  *Inner            `json:"nested"`
	Labels  map[string]string `json:"labels"`
	Any     any               `json:"any"`
	small   int
}

// TestDecodeJSON checks the strict reading rule by rule, below the routes:
// each body is either accepted or refused naming the field and the rule.
func TestDecodeJSON(t *testing.T) {
	cases := []struct {
		name, body, field, rule string // field "" means accepted
	}{
		{"all fields", `{"name":"a","shared":"b","Plain":"c","version":2,"amount":3,"ratio":1.5,"flag":true,"tags":["x"],` +
			`"due":"2026-01-31T14:30:00+08:00","custom":{"k":[1,"2",{"a":null}]},"nested":{"name":"n"},"labels":{"a":"b"},"any":{"x":1}}`, "", ""},
		{"nulls leave fields alone", `{"name":null,"amount":null,"due":null,"tags":null,"nested":null}`, "", ""},
		{"promoted field in another case", `{"Name":"a"}`, "Name", "unknown"},
		{"a field's Go name is not its JSON name", `{"Version":1}`, "Version", "unknown"},
		{"json:\"-\" is no key", `{"Hidden":"x"}`, "Hidden", "unknown"},
		{"unexported field is no key", `{"small":1}`, "small", "unknown"},
		{"nested unknown", `{"nested":{"NAME":"x"}}`, "nested.NAME", "unknown"},
		{"duplicate in a map", `{"labels":{"a":"1","a":"2"}}`, "labels.a", "duplicate_key"},
		{"duplicate in an untyped value", `{"any":{"x":1,"x":2}}`, "any.x", "duplicate_key"},
		{"duplicate in a list of objects", `{"custom":{"k":[{"a":1,"a":1}]}}`, "custom.k.a", "duplicate_key"},
		{"integer overflow", `{"version":9223372036854775808}`, "version", "integer"},
		{"fraction for an integer", `{"amount":1.5}`, "amount", "integer"},
		{"exponent for an integer", `{"version":1e3}`, "version", "integer"},
		{"string for a float", `{"ratio":"1.5"}`, "ratio", "number"},
		{"number for a bool", `{"flag":1}`, "flag", "boolean"},
		{"object for a list", `{"tags":{}}`, "tags", "list"},
		{"number in a list of text", `{"tags":["a",2]}`, "tags", "text"},
		{"list for an object", `{"nested":[]}`, "nested", "object"},
		{"time without zone", `{"due":"2026-01-31T14:30:00"}`, "due", "rfc3339"},
		{"time as a number", `{"due":1700000000}`, "due", "rfc3339"},
		{"time in year 1", `{"due":"0001-01-01T00:00:00Z"}`, "due", "year_range"},
		{"time past 2200", `{"due":"2201-01-01T00:00:00Z"}`, "due", "year_range"},
		{"U+FFFD sent as such", "{\"name\":\"a\uFFFD \\ufffd \\uFFFD\"}", "", ""},
		{"escaped backslash then ufffd", `{"name":"\\ufffd"}`, "", ""},
		{"lone high surrogate", `{"name":"\ud83d"}`, "name", "encoding"},
		{"lone surrogate hidden beside a sent U+FFFD", `{"name":"\ud800\\ufffd"}`, "name", "encoding"},
		{"invalid UTF-8 deep", "{\"custom\":{\"k\":[\"ok\",\"\xe4\xb8\"]}}", "custom.k", "encoding"},
		{"overlong encoding", "{\"name\":\"\xc0\xaf\"}", "name", "encoding"},
		{"empty", ``, "body", "required"},
		{"truncated in a field", `{"nested":{"name":"x"`, "nested", "truncated"},
		{"syntax error", `{"name" "x"}`, "name", "json"},
		{"trailing data", `{"name":"x"} x`, "body", "json"},
		{"a string for the body", `"x"`, "body", "object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
			var v target
			err := DecodeJSON(r, &v, 1<<20)
			if c.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			ce, ok := err.(*crm.Error)
			if !ok || len(ce.Fields) != 1 {
				t.Fatalf("want a field error, got %v", err)
			}
			if f := ce.Fields[0]; f.Field != c.field || f.Rule != c.rule {
				t.Errorf("got %s/%s, want %s/%s", f.Field, f.Rule, c.field, c.rule)
			}
			if ce.Code != crm.Invalid {
				t.Errorf("code %s", ce.Code)
			}
		})
	}
}

func TestBodyLimitsAndTypes(t *testing.T) {
	cases := []struct {
		contentType string
		body        string
		want        crm.Code
	}{
		{"", `{}`, ""},
		{"application/json", `{}`, ""},
		{"application/json;charset=utf-8", `{}`, ""},
		{"application/merge-patch+json", `{}`, ""},
		{"application/json; charset=gb2312", `{}`, crm.UnsupportedMediaType},
		{"application/json; charset=iso-8859-1", `{}`, crm.UnsupportedMediaType},
		{"text/plain", `{}`, crm.UnsupportedMediaType},
		{"application/x-www-form-urlencoded", `{}`, crm.UnsupportedMediaType},
		{"application/json; charset=", `{}`, crm.UnsupportedMediaType},
		{"application/json", `{"name":"` + strings.Repeat("x", 100) + `"}`, crm.TooLarge},
	}
	for _, c := range cases {
		r := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
		if c.contentType != "" {
			r.Header.Set("Content-Type", c.contentType)
		}
		var v struct {
			Name string `json:"name"`
		}
		err := DecodeJSON(r, &v, 64)
		if got := crm.ErrorCode(err); err != nil && got != c.want || err == nil && c.want != "" {
			t.Errorf("%q with %d bytes: %v, want %s", c.contentType, len(c.body), err, c.want)
		}
	}
}
