package httpx

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"custos/internal/crm"
)

// DecodeJSON reads the JSON body of r into v, strictly, so that what is
// stored is exactly what the client meant. encoding/json on its own folds
// the case of keys ({"NAME":…} sets Name), lets a repeated key win silently,
// turns invalid UTF-8 and lone surrogate escapes into U+FFFD, and explains
// failures in Go's terms (type names, time layouts, "unexpected EOF"). So:
//
//   - the body is declared as JSON in UTF-8, or not declared at all (else 415);
//   - it is at most limit bytes (else 413);
//   - every string is valid UTF-8, escapes included (else 422 naming the field);
//   - every key is the exact JSON name of a field of the target, once per
//     object (else 422 naming the key: rule "unknown" or "duplicate_key");
//   - every value has its field's type, and times are RFC 3339 within
//     crm.MinYear–crm.MaxYear (else 422 naming the field by its JSON path);
//   - nothing follows the document.
//
// A pass over the tokens checks all that against the target's type before
// encoding/json fills v. Every failure is a *crm.Error whose fields speak
// the client's JSON names and rules the catalog translates.
func DecodeJSON(r *http.Request, v any, limit int64) error {
	if err := jsonMediaType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	if r.ContentLength > limit {
		return tooLarge(limit)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return bodyProblem("bad_request", "body", "unreadable", "", "reading the body: "+err.Error())
	}
	if int64(len(body)) > limit {
		return tooLarge(limit)
	}
	return DecodeJSONBytes(body, v)
}

// DecodeJSONBytes decodes a JSON document already read (a part of a
// multipart body) into v with the checks of DecodeJSON.
func DecodeJSONBytes(body []byte, v any) error {
	if err := checkJSON(body, reflect.TypeOf(v)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields() // the check above already refuses them; kept as a second lock
	if err := dec.Decode(v); err != nil {
		// Only a type with its own UnmarshalJSON can still refuse here;
		// its words are Go's, so the client gets the plain rule.
		return bodyProblem("invalid", "body", "format", "", "decoding: "+err.Error())
	}
	return nil
}

// jsonMediaType accepts a body declared as JSON (application/json or
// application/*+json) in UTF-8, or not declared at all. Any other charset is
// refused rather than read as UTF-8 and stored garbled.
func jsonMediaType(header string) error {
	if header == "" {
		return nil
	}
	mt, params, err := mime.ParseMediaType(header)
	isJSON := err == nil && (mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
	if !isJSON || !utf8Charset(params) {
		return &crm.Error{Code: crm.UnsupportedMediaType, Key: "media_type_json", Message: "send the body as application/json in UTF-8",
			Fields: []crm.FieldError{{Field: "content_type", Rule: "media_type"}}}
	}
	return nil
}

// utf8Charset reports whether a media type's parameters declare UTF-8 or
// no charset at all.
func utf8Charset(params map[string]string) bool {
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8") || strings.EqualFold(cs, "utf8")
}

// ParseForm reads the form of a state-changing request strictly: a body
// over limit is 413, a charset other than UTF-8 is 415, and a name or value
// that is not valid UTF-8 text is 422 naming it — Go's form parser passes
// such bytes through, and they would be stored as they came.
func ParseForm(w http.ResponseWriter, r *http.Request, limit int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if _, params, err := mime.ParseMediaType(ct); err == nil && !utf8Charset(params) {
			return &crm.Error{Code: crm.UnsupportedMediaType, Key: "media_type_form", Message: "send the form in UTF-8",
				Fields: []crm.FieldError{{Field: "content_type", Rule: "media_type"}}}
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return tooLarge(limit)
		}
		return bodyProblem("bad_request", "body", "unreadable", "", "parsing the form: "+err.Error())
	}
	for name, values := range r.Form {
		if !utf8.ValidString(name) {
			return bodyProblem("encoding", "body", "encoding", "", "a form field name is not UTF-8")
		}
		for _, v := range values {
			if !utf8.ValidString(v) {
				return bodyProblem("encoding", name, "encoding", "", "form field "+name+" is not UTF-8")
			}
		}
	}
	return nil
}

// tooLarge refuses a body over limit bytes.
func tooLarge(limit int64) error {
	size := strconv.FormatInt(limit, 10) + " B"
	switch {
	case limit >= 1<<20 && limit%(1<<20) == 0:
		size = strconv.FormatInt(limit>>20, 10) + " MB"
	case limit >= 1<<10 && limit%(1<<10) == 0:
		size = strconv.FormatInt(limit>>10, 10) + " KB"
	}
	return &crm.Error{Code: crm.TooLarge, Key: "body_too_large", Message: "request body over " + size,
		Fields: []crm.FieldError{{Field: "body", Rule: "too_large", Param: size}}}
}

// bodyProblem is an Invalid error about one field of a body; message is
// for the log only (the user's sentence comes from key and rule).
func bodyProblem(key, field, rule, param, message string) error {
	return &crm.Error{Code: crm.Invalid, Key: key, Message: "the request body is not valid: " + message,
		Fields: []crm.FieldError{{Field: field, Rule: rule, Param: param}}}
}

var (
	timeType        = reflect.TypeFor[time.Time]()
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// jsonCheck walks a body's tokens beside the Go type they will fill.
type jsonCheck struct {
	dec  *json.Decoder
	body []byte
	end  int64 // where the last token read ended
}

// checkJSON checks body against the type t will be decoded into (see
// DecodeJSON). It stops at the first problem.
func checkJSON(body []byte, t reflect.Type) error {
	c := &jsonCheck{dec: json.NewDecoder(bytes.NewReader(body)), body: body}
	c.dec.UseNumber()
	if err := c.value(t, ""); err != nil {
		return err
	}
	if _, err := c.dec.Token(); err != io.EOF {
		return bodyProblem("bad_json", "body", "json", strconv.FormatInt(c.end, 10), "data after the JSON document")
	}
	return nil
}

// token reads the next token, refusing a string whose raw bytes are not
// UTF-8 or that decoded to more U+FFFD than it spelled out (a lone
// surrogate escape such as \ud800). path names the field for the error.
func (c *jsonCheck) token(path string) (json.Token, error) {
	tok, err := c.dec.Token()
	if err != nil {
		var se *json.SyntaxError
		switch {
		case err == io.EOF && path == "":
			return nil, bodyProblem("bad_json", "body", "required", "", "empty body")
		case errors.As(err, &se):
			return nil, bodyProblem("bad_json", fieldOf(path), "json", strconv.FormatInt(se.Offset, 10), se.Error())
		default: // io.ErrUnexpectedEOF and the like: the document stops early
			return nil, bodyProblem("bad_json", fieldOf(path), "truncated", "", err.Error())
		}
	}
	start := c.end
	c.end = c.dec.InputOffset()
	if s, ok := tok.(string); ok && !cleanText(c.body[start:c.end], s) {
		return nil, bodyProblem("invalid", fieldOf(path), "encoding", "", "text that is not UTF-8")
	}
	return tok, nil
}

// cleanText reports whether a string token's raw bytes are UTF-8 and every
// U+FFFD in its decoded text s was sent as such, literally or as \ufffd.
func cleanText(raw []byte, s string) bool {
	if !utf8.Valid(raw) {
		return false
	}
	replaced := strings.Count(s, "\uFFFD")
	if replaced == 0 {
		return true
	}
	sent := bytes.Count(raw, []byte("\uFFFD"))
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' || i+1 >= len(raw) {
			continue
		}
		if raw[i+1] == 'u' && i+6 <= len(raw) && strings.EqualFold(string(raw[i+2:i+6]), "fffd") {
			sent++
		}
		i++ // skip the escaped character, so "\\ufffd" is no escape
	}
	return replaced <= sent
}

// fieldOf names a path for an error: the whole body when it is empty.
func fieldOf(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// value checks the next value against t (nil: anything goes).
func (c *jsonCheck) value(t reflect.Type, path string) error {
	tok, err := c.token(path)
	if err != nil {
		return err
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && t.Kind() == reflect.Interface {
		t = nil
	}
	custom := t != nil && t != timeType && (reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler))
	if custom {
		t = nil // it reads its own JSON; only the encoding and duplicate keys are checked
	}
	switch tok := tok.(type) {
	case nil:
		return nil // null leaves any field as it is
	case json.Delim:
		if tok == '{' {
			return c.object(t, path)
		}
		return c.array(t, path)
	case string:
		switch {
		case t == timeType:
			return checkTime(tok, path)
		case t == nil || t.Kind() == reflect.String || custom || t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
			return nil
		}
	case json.Number:
		if t == nil {
			return nil
		}
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if _, err := strconv.ParseInt(tok.String(), 10, t.Bits()); err != nil {
				return typeProblem(t, path)
			}
			return nil
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if _, err := strconv.ParseUint(tok.String(), 10, t.Bits()); err != nil {
				return typeProblem(t, path)
			}
			return nil
		case reflect.Float32, reflect.Float64:
			if _, err := strconv.ParseFloat(tok.String(), t.Bits()); err != nil {
				return typeProblem(t, path)
			}
			return nil
		}
	case bool:
		if t == nil || t.Kind() == reflect.Bool {
			return nil
		}
	}
	return typeProblem(t, path)
}

// checkTime accepts an RFC 3339 time within the plausible years.
func checkTime(s, path string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return bodyProblem("invalid", fieldOf(path), "rfc3339", "", "not an RFC 3339 time")
	}
	if rule := crm.CheckTime(t); rule != "" {
		return bodyProblem("invalid", fieldOf(path), rule, crm.YearRange, "implausible year")
	}
	return nil
}

// object checks an object's members; the '{' has been read. A struct takes
// exactly its fields' JSON names; a map or an untyped value any key; each
// key once.
func (c *jsonCheck) object(t reflect.Type, path string) error {
	var fields map[string]reflect.Type
	var elem reflect.Type
	switch {
	case t == nil:
	case t.Kind() == reflect.Map:
		elem = t.Elem()
	case t.Kind() == reflect.Struct && t != timeType:
		fields = map[string]reflect.Type{}
		jsonFields(t, fields)
	default:
		return typeProblem(t, path)
	}
	seen := map[string]bool{}
	for c.dec.More() {
		tok, err := c.token(path)
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		at := key
		if path != "" {
			at = path + "." + key
		}
		if seen[key] {
			return bodyProblem("invalid", at, "duplicate_key", "", "key "+strconv.Quote(key)+" repeated")
		}
		seen[key] = true
		ft := elem
		if fields != nil {
			var ok bool
			if ft, ok = fields[key]; !ok {
				return bodyProblem("invalid", at, "unknown", "", "unknown key "+strconv.Quote(key))
			}
		}
		if err := c.value(ft, at); err != nil {
			return err
		}
	}
	_, err := c.token(path)
	return err
}

// array checks a list's elements; the '[' has been read. Elements are named
// by the list's path: the client knows which one from its own data.
func (c *jsonCheck) array(t reflect.Type, path string) error {
	var elem reflect.Type
	if t != nil {
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return typeProblem(t, path)
		}
		elem = t.Elem()
	}
	for c.dec.More() {
		if err := c.value(elem, path); err != nil {
			return err
		}
	}
	_, err := c.token(path)
	return err
}

// jsonFields adds the JSON names of struct t's fields as encoding/json
// sees them, including those promoted from embedded structs (a field of
// the outer struct wins over a promoted one of the same name).
func jsonFields(t reflect.Type, out map[string]reflect.Type) {
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				embedded = append(embedded, ft)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, taken := out[name]; !taken {
			out[name] = f.Type
		}
	}
	for _, e := range embedded {
		jsonFields(e, out)
	}
}

// typeProblem says which kind of value the field needs, in the client's
// terms: a number, text, a list, never a Go type.
func typeProblem(t reflect.Type, path string) error {
	rule := "format"
	switch {
	case t == timeType:
		rule = "rfc3339"
	case t == nil:
	default:
		switch t.Kind() {
		case reflect.Bool:
			rule = "boolean"
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			rule = "integer"
		case reflect.Float32, reflect.Float64:
			rule = "number"
		case reflect.String:
			rule = "text"
		case reflect.Slice, reflect.Array:
			rule = "list"
		case reflect.Map, reflect.Struct:
			rule = "object"
		}
	}
	return bodyProblem("invalid", fieldOf(path), rule, "", fmt.Sprintf("wrong type at %q", fieldOf(path)))
}
