package api

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/service"
)

// The OpenAPI document (issue 13 §4) is generated, not written: from the
// route table (Routes, with each route's httpx.Doc) and from the record
// registry (crm.Specs: one schema per object, its list page and its input
// shapes). A route or an object added there appears here without an edit.
// The document is built once, when the routes are registered, and served
// as bytes. openapi_test.go validates it with kin-openapi, checks that no
// route and no registry field is missing, and validates real answers
// against it; the examples come from those real calls (testdata).

// OpenAPIPath is where the document is served.
const OpenAPIPath = "/api/v1/openapi.json"

// openAPIExamples are the request and response examples recorded from real
// calls by TestOpenAPIExamples (go test ./internal/api -run
// TestOpenAPIExamples -update), keyed by "METHOD pattern".
//
//go:embed testdata/openapi-examples.json
var openAPIExamples []byte

// RecordedExample is what real calls of one route sent and got: the body
// of the successful request (if any) and the answer body per status.
type RecordedExample struct {
	Request   json.RawMessage            `json:"request,omitempty"`
	Responses map[string]json.RawMessage `json:"responses"`
}

// openAPIDoc is the served document with its validator.
type openAPIDoc struct {
	body []byte
	etag string
}

// buildOpenAPI renders the document for routes. It fails only on a
// recorded example file that is not JSON, which a test catches first.
func buildOpenAPI(routes []httpx.Route) (openAPIDoc, error) {
	var ex map[string]RecordedExample
	if err := json.Unmarshal(openAPIExamples, &ex); err != nil {
		return openAPIDoc{}, fmt.Errorf("api: openapi examples: %w", err)
	}
	doc := OpenAPIDocument(routes, ex)
	body, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		return openAPIDoc{}, fmt.Errorf("api: openapi document: %w", err)
	}
	sum := sha256.Sum256(body)
	return openAPIDoc{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}, nil
}

// serveOpenAPI serves the document without authentication: it describes
// routes and the shape of records, never data, and is the same for every
// installation of a version (custom field definitions are not in it). It
// changes only with the binary, so clients may keep it and revalidate with
// its ETag.
func (api *API) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	doc := api.openapi
	w.Header().Set("ETag", doc.etag)
	w.Header().Set("Cache-Control", "public, no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, doc.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(doc.body)
}

// schema is a JSON Schema (2020-12, as OpenAPI 3.1 has it) or any other
// object of the document.
type schema = map[string]any

// OpenAPIDocument returns the OpenAPI 3.1 document of routes, with the
// recorded examples merged in.
func OpenAPIDocument(routes []httpx.Route, examples map[string]RecordedExample) schema {
	g := &generator{schemas: schema{}, examples: examples}
	g.components()
	paths := schema{}
	for _, rt := range routes {
		item, _ := paths[rt.Pattern].(schema)
		if item == nil {
			item = schema{}
			paths[rt.Pattern] = item
		}
		item[strings.ToLower(rt.Method)] = g.operation(rt)
	}
	return schema{
		"openapi":           "3.1.0",
		"jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
		"info": schema{
			"title":   "Custos API",
			"version": "v1",
			"description": "The JSON API of Custos. Generated from the route table and the record registry; " +
				"see docs/api.md for what each route does. Errors are RFC 9457 problem details.",
		},
		"paths": paths,
		"components": schema{
			"schemas": g.schemas,
			"securitySchemes": schema{
				"bearerToken": schema{"type": "http", "scheme": "bearer",
					"description": "A personal API token (cst_…), scoped and expiring; it acts with its owner's role intersected with its scopes."},
				"sessionCookie": schema{"type": "apiKey", "in": "cookie", "name": httpx.SessionCookie,
					"description": "The browser session of a signed-in user."},
				"csrfHeader": schema{"type": "apiKey", "in": "header", "name": httpx.CSRFHeader,
					"description": "The session's CSRF token: required with the session cookie on every state-changing request."},
			},
		},
	}
}

type generator struct {
	schemas  schema
	examples map[string]RecordedExample
}

func ref(name string) schema { return schema{"$ref": "#/components/schemas/" + name} }

// SchemaName is the name of an object's record schema in the document
// (its list page, create and update bodies add Page, Create and Update):
// its registry name in title case.
func SchemaName(o crm.Object) string {
	s := string(o)
	return strings.ToUpper(s[:1]) + s[1:]
}

// components adds the shared schemas and, per registry object, its record,
// list page and input shapes.
func (g *generator) components() {
	p := reflectSchema(reflect.TypeFor[Problem]())
	p["description"] = "RFC 9457 problem details (application/problem+json); errors[] names each rejected field with its rule."
	g.schemas["Problem"] = p
	g.schemas["PendingApproval"] = schema{
		"type":        "object",
		"description": "202 Accepted: the change was filed for approval; nothing changed yet.",
		"required":    []string{"status", "approval_request_id", "detail"},
		"properties": schema{
			"status":              schema{"const": string(crm.Pending)},
			"approval_request_id": schema{"type": "integer", "format": "int64"},
			"detail":              schema{"type": "string"},
		},
	}
	for _, s := range crm.Specs() {
		name := SchemaName(s.Name)
		g.schemas[name] = recordSchema(s)
		g.schemas[name+"Page"] = pageSchema(s, ref(name))
		g.schemas[name+"Create"] = inputSchema(s, false)
		g.schemas[name+"Update"] = inputSchema(s, true)
	}
}

// recordSchema is a record as the API returns it: every key of its Go type
// (the columns every record has, crm.Record, read-only; the object's fields
// as the registry describes them; the names it shows of linked records),
// and nothing else.
func recordSchema(s crm.ObjectSpec) schema {
	out := goSchema(crm.NewRecord(s.Name), s, true, false)
	props := out["properties"].(schema)
	for name := range reflectSchema(reflect.TypeFor[crm.Record]())["properties"].(schema) {
		props[name].(schema)["readOnly"] = true
	}
	out["title"] = SchemaName(s.Name)
	out["description"] = fmt.Sprintf("A %s record as the API returns it, shaped by the reader's field rules: a masked value "+
		"(named in masked_fields) is shown as its mask, a hidden one (hidden_fields) is withheld.", s.Name)
	out["x-custos-object"] = string(s.Name)
	return out
}

// pageSchema is a list's answer. A paged object's list is the cursor page
// (service.Page); the other lists answer at least their items.
func pageSchema(s crm.ObjectSpec, item schema) schema {
	out := reflectSchema(reflect.TypeFor[service.Page[struct{}]]())
	out["properties"].(schema)["items"] = schema{"type": "array", "items": item}
	if !s.Paged {
		out["required"] = []string{"items"}
	}
	out["description"] = "Pass next_cursor back as cursor for the next page; total stops at 2,000 (total_capped)."
	return out
}

// inputSchema is the body of a create, or of a partial update (which must
// carry the version it was read at), from the fields a user sets.
func inputSchema(s crm.ObjectSpec, update bool) schema {
	props := schema{}
	var required []string
	if update {
		props["version"] = schema{"type": "integer", "format": "int64", "description": "the version read; a stale one is refused (409)"}
		required = append(required, "version")
	}
	for _, f := range s.Fields {
		if !f.System {
			props[f.Name] = fieldSchema(f, true)
		}
	}
	if s.Custom {
		props["custom"] = customSchema()
	}
	out := schema{"type": "object", "properties": props, "additionalProperties": false}
	if required != nil {
		out["required"] = required
	}
	return out
}

func customSchema() schema {
	return schema{"type": "object", "additionalProperties": true,
		"description": "custom field values by key, as the object's custom field definitions (GET /api/v1/custom-fields) describe them"}
}

// orEmpty accepts s or the empty string (a field not set).
func orEmpty(s schema) schema {
	return schema{"type": "string", "anyOf": []any{s, schema{"const": ""}}}
}

// fieldSchema is a registry field's schema; in an answer, a masked value
// (it has a star) stands in for a field the reader sees masked.
func fieldSchema(f crm.FieldSpec, input bool) schema {
	var s schema
	switch f.Type {
	case crm.TypeEnum:
		s = schema{"type": "string", "enum": append(slices.Clone(f.Options), "")}
	case crm.TypeEmail:
		s = orEmpty(schema{"type": "string", "format": "email"})
	case crm.TypeURL:
		s = schema{"type": "string"}
	case crm.TypeDate:
		s = orEmpty(schema{"type": "string", "format": "date"})
	case crm.TypeCurrency:
		s = orEmpty(schema{"type": "string", "pattern": "^[A-Z]{3}$"})
	case crm.TypeTags:
		s = schema{"type": []string{"array", "null"}, "items": schema{"type": "string"}}
	case crm.TypeTime:
		s = schema{"type": []string{"string", "null"}, "format": "date-time"}
	case crm.TypeMoney:
		s = schema{"type": "integer", "format": "int64", "description": "minor units of the currency"}
	case crm.TypePercent:
		s = schema{"type": "integer", "minimum": 0, "maximum": 100}
	case crm.TypeBool:
		s = schema{"type": "boolean"}
	case crm.TypeRef, crm.TypeStage:
		s = schema{"type": []string{"integer", "null"}, "format": "int64", "minimum": 0}
	default: // text, long text, phone, credit code
		s = schema{"type": "string"}
	}
	if !input && f.RuleField && f.Mask != crm.MaskNone {
		s = schema{"anyOf": []any{s, schema{"type": "string", "pattern": `\*`, "description": "masked"}}}
	}
	if f.System && !input {
		s["readOnly"] = true
	}
	if f.Type == crm.TypeRef && f.Ref != "" {
		s["x-custos-ref"] = string(f.Ref)
	}
	if f.Sensitive {
		s["x-custos-sensitive"] = true
	}
	if f.Type == crm.TypePhone {
		s["description"] = "a phone number, stored in E.164"
	}
	return s
}

// routeObject finds the registry object a route's pattern is about:
// /api/v1/<path>[/{id}[/<action>]].
func routeObject(pattern string) (crm.ObjectSpec, []string, bool) {
	rest, ok := strings.CutPrefix(pattern, "/api/v1/")
	if !ok {
		return crm.ObjectSpec{}, nil, false
	}
	segs := strings.Split(rest, "/")
	for _, s := range crm.Specs() {
		if segs[0] == s.Path && (len(segs) == 1 || segs[1] == "{id}") {
			return s, segs[1:], true
		}
	}
	return crm.ObjectSpec{}, nil, false
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// operation describes one route.
func (g *generator) operation(rt httpx.Route) schema {
	d := rt.Doc
	op := schema{"operationId": operationID(rt)}
	var req, resp schema
	status := d.Status
	respond := true
	spec, rest, isObj := routeObject(rt.Pattern)
	if isObj {
		name := SchemaName(spec.Name)
		op["tags"] = []string{spec.Path}
		switch {
		case len(rest) == 0 && rt.Method == http.MethodGet:
			resp = ref(name + "Page")
			op["parameters"] = listParams(spec)
			op["summary"] = "List " + spec.Path
		case len(rest) == 0 && rt.Method == http.MethodPost:
			req, resp = g.input(name+"Create", d.Request, spec), ref(name)
			if status == 0 {
				status = http.StatusCreated
			}
			op["summary"] = "Create a " + string(spec.Name)
		case len(rest) == 1 && rt.Method == http.MethodGet:
			resp = ref(name)
			op["summary"] = "Read a " + string(spec.Name)
		case len(rest) == 1 && rt.Method == http.MethodPatch:
			req, resp = g.input(name+"Update", d.Request, spec), ref(name)
			op["summary"] = "Change a " + string(spec.Name) + " (partial update)"
		case len(rest) == 2 && rt.Method == http.MethodPost && d.Response == nil && !d.Record && (d.Status == 0 || d.Status == http.StatusNoContent):
			// An action on a record (restore, claim, transfer…) answers 204.
			respond = false
			op["summary"] = strings.ToUpper(rest[1][:1]) + rest[1][1:] + " a " + string(spec.Name)
		}
		if d.Record {
			resp = ref(name)
		}
	} else if segs := strings.Split(strings.TrimPrefix(rt.Pattern, "/api/v1/"), "/"); segs[0] != "" {
		op["tags"] = []string{segs[0]}
	}
	if d.Summary != "" {
		op["summary"] = d.Summary
	}
	if _, ok := op["summary"]; !ok {
		op["summary"] = rt.Method + " " + strings.TrimPrefix(rt.Pattern, "/api/v1")
	}
	if d.Request != nil && req == nil {
		req = goSchema(d.Request, spec, isObj, true)
	}
	if d.Response != nil {
		resp = goSchema(d.Response, spec, isObj, false)
	}
	if rt.Method == http.MethodDelete && d.Response == nil {
		respond = false
	}
	if status == 0 {
		status = http.StatusOK
		if !respond {
			status = http.StatusNoContent
		}
	}
	if resp == nil && respond && status != http.StatusNoContent {
		resp = schema{"description": "see docs/api.md"}
	}

	// Path parameters, and the query parameters of Doc.Query.
	params, _ := op["parameters"].([]any)
	if d.Query != nil {
		params = append(params, queryParams(d.Query)...)
	}
	for _, m := range pathParam.FindAllStringSubmatch(rt.Pattern, -1) {
		p := schema{"name": m[1], "in": "path", "required": true, "schema": schema{"type": "string"}}
		if m[1] == "id" || m[1] == "version" || m[1] == "token" {
			p["schema"] = schema{"type": "integer", "format": "int64", "minimum": 1}
		}
		params = append(params, p)
	}
	if params != nil {
		op["parameters"] = params
	}

	key := rt.Method + " " + rt.Pattern
	ex, hasEx := g.examples[key]
	switch {
	case req != nil && d.Multipart:
		// An upload: the file and the choices (JSON) as parts of a form.
		form := schema{"type": "object", "required": []string{"file", "options"}, "properties": schema{
			"file":    schema{"type": "string", "contentMediaType": "application/octet-stream", "description": "the CSV or XLSX file"},
			"options": req,
		}}
		op["requestBody"] = schema{"required": true, "content": schema{"multipart/form-data": schema{"schema": form,
			"encoding": schema{"options": schema{"contentType": "application/json"}}}}}
	case req != nil:
		media := schema{"schema": req}
		if hasEx && len(ex.Request) > 0 {
			media["example"] = ex.Request
		}
		op["requestBody"] = schema{"required": true, "content": schema{"application/json": media}}
	}
	responses := schema{}
	success := schema{"description": http.StatusText(status)}
	if resp != nil {
		media := schema{"schema": resp}
		if b := ex.Responses[fmt.Sprint(status)]; hasEx && len(b) > 0 {
			media["example"] = b
		}
		success["content"] = schema{"application/json": media}
	}
	if d.File {
		success["content"] = schema{
			"text/csv": schema{"schema": schema{"type": "string"}},
			"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": schema{"schema": schema{"type": "string", "contentMediaType": "application/octet-stream"}},
		}
	}
	responses[fmt.Sprint(status)] = success
	if d.Approval {
		responses["202"] = schema{"description": "Filed for approval", "content": schema{"application/json": schema{"schema": ref("PendingApproval")}}}
	}
	problem := func(desc string) schema {
		media := schema{"schema": ref("Problem")}
		return schema{"description": desc, "content": schema{"application/problem+json": media}}
	}
	responses["default"] = problem("An error: RFC 9457 problem details (see docs/api.md, Errors)")
	for code, b := range ex.Responses {
		if code >= "400" {
			pr := problem("An error, as a real call got it")
			pr["content"].(schema)["application/problem+json"].(schema)["example"] = b
			responses[code] = pr
		}
	}
	op["responses"] = responses

	// Who may call it.
	safe := httpx.IsSafeMethod(rt.Method)
	session := schema{"sessionCookie": []string{}}
	if !safe {
		session["csrfHeader"] = []string{}
	}
	switch d.Auth {
	case httpx.AuthNone:
		op["security"] = []any{}
	case httpx.AuthSession:
		op["security"] = []any{session}
		op["x-custos-session-only"] = true
	default:
		op["security"] = []any{schema{"bearerToken": []string{}}, session}
	}
	switch d.StepUp {
	case httpx.StepUpAlways:
		op["x-custos-step-up"] = "always"
	case httpx.StepUpSometimes:
		op["x-custos-step-up"] = "sometimes"
	}
	if d.StepUp != httpx.StepUpNever {
		op["description"] = "Needs step-up (" + op["x-custos-step-up"].(string) + "): a second factor verified in this browser session " +
			"in the last minutes (POST /api/v1/account/step-up), else 403 step_up_required; never possible with an API token."
	}
	return op
}

// operationID is a stable id from the method and the pattern.
func operationID(rt httpx.Route) string {
	p := strings.TrimPrefix(rt.Pattern, "/api/v1/")
	p = strings.NewReplacer("{", "", "}", "", "/", "_", "-", "_", ".", "_").Replace(p)
	return strings.ToLower(rt.Method) + "_" + p
}

// queryParams are the query parameters of a struct's JSON-tagged fields:
// integers for int fields, strings for the others.
func queryParams(v any) []any {
	var out []any
	t := reflect.TypeOf(v)
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		sch := schema{"type": "string"}
		switch f.Type.Kind() {
		case reflect.Int, reflect.Int64:
			sch = schema{"type": "integer"}
		}
		out = append(out, schema{"name": name, "in": "query", "schema": sch})
	}
	return out
}

// listParams are a collection list's query parameters.
func listParams(s crm.ObjectSpec) []any {
	var out []any
	param := func(name, desc string, sch schema) {
		out = append(out, schema{"name": name, "in": "query", "description": desc, "schema": sch})
	}
	if s.Paged {
		if s.Indexed() {
			param("q", "search: name words or Chinese bigrams, or an exact phone, e-mail or credit code", schema{"type": "string"})
		}
		if len(s.Sorts) > 0 {
			param("sort", "the order; a field your role sees hidden or masked is refused", schema{"type": "string", "enum": s.Sorts})
		}
		param("cursor", "next_cursor of the page before", schema{"type": "string"})
	}
	param("limit", "page size (at most 200)", schema{"type": "integer", "minimum": 0, "maximum": 200})
	for _, f := range s.Fields {
		if !f.Filterable || (!s.Paged && f.Type != crm.TypeRef) {
			continue
		}
		sch := fieldSchema(f, true)
		if f.Type == crm.TypeRef || f.Type == crm.TypeStage {
			sch = schema{"type": "integer", "format": "int64", "minimum": 0}
		}
		param(f.Name, "only records with this "+f.Name, sch)
	}
	drill := crm.DrillParams(s.Name)
	// The follow-up list without a record is filtered by team too.
	if s.TeamFiltered || len(drill) > 0 {
		id := schema{"type": "integer", "format": "int64", "minimum": 0}
		param("owner_id", "only records owned by this user (narrows your scope, never widens it)", id)
		param("department_id", "only records owned by people in this department or below it (narrows your scope, never widens it)", id)
	}
	for _, name := range slices.Sorted(maps.Keys(s.ListFilters)) {
		param(name, s.ListFilters[name], schema{"type": "string"})
	}
	// A report's drill-down filters (crm.DrillFilter), but those the
	// object's own fields already named.
	for _, name := range slices.Sorted(maps.Keys(drill)) {
		if !slices.ContainsFunc(out, func(p any) bool { return p.(schema)["name"] == name }) {
			param(name, "report drill-down: "+drill[name], schema{"type": "string"})
		}
	}
	return out
}

// input is the reference to a collection's create or update body: the
// registry's shape, or, when the route names the type its handler decodes,
// that type's keys described by the registry's fields.
func (g *generator) input(name string, v any, s crm.ObjectSpec) schema {
	if v != nil {
		g.schemas[name] = goSchema(v, s, true, true)
	}
	return ref(name)
}

// goSchema is the schema of a Go value's type; the properties named like
// a field of the route's object take the registry's description. A
// request body refuses unknown keys, as httpx.DecodeJSON does.
func goSchema(v any, s crm.ObjectSpec, isObj, input bool) schema {
	out := reflectSchema(reflect.TypeOf(v))
	props, ok := out["properties"].(schema)
	if ok && isObj {
		for _, f := range s.Fields {
			if _, ok := props[f.Name]; ok {
				props[f.Name] = fieldSchema(f, input)
			}
		}
		if _, ok := props["custom"]; ok && s.Custom {
			props["custom"] = customSchema()
		}
	}
	if ok && isObj && !input {
		out["additionalProperties"] = false // an answer holds what its type says, no more
	}
	if ok && input {
		out["additionalProperties"] = false
		// A body's keys are optional to the decoder; the service says
		// which it requires (422 naming the field).
		delete(out, "required")
		if isObj {
			if _, ok := props["version"]; ok {
				out["required"] = []string{"version"}
			}
		}
	}
	return out
}

var (
	timeType    = reflect.TypeFor[time.Time]()
	rawJSONType = reflect.TypeFor[json.RawMessage]()
	actorType   = reflect.TypeFor[access.Actor]()
)

// reflectSchema is the JSON Schema of what encoding/json makes of t.
// It serves the documentation only; no security decision reads it.
func reflectSchema(t reflect.Type) schema { return reflectDepth(t, 0) }

func reflectDepth(t reflect.Type, depth int) schema {
	if depth > 8 || t == actorType {
		return schema{}
	}
	nullable := func(s schema) schema {
		if typ, ok := s["type"].(string); ok {
			s["type"] = []string{typ, "null"}
		}
		return s
	}
	switch {
	case t == timeType:
		return schema{"type": "string", "format": "date-time"}
	case t == rawJSONType:
		return schema{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(reflectDepth(t.Elem(), depth+1))
	case reflect.Bool:
		return schema{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return schema{"type": "integer", "format": "int64"}
	case reflect.Float32, reflect.Float64:
		return schema{"type": "number"}
	case reflect.String:
		return schema{"type": "string"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return schema{"type": "string", "contentEncoding": "base64"}
		}
		return nullable(schema{"type": "array", "items": reflectDepth(t.Elem(), depth+1)})
	case reflect.Map:
		return nullable(schema{"type": "object", "additionalProperties": reflectDepth(t.Elem(), depth+1)})
	case reflect.Struct:
		props := schema{}
		var required []string
		addStruct(t, props, &required, depth)
		out := schema{"type": "object", "properties": props}
		if len(required) > 0 {
			slices.Sort(required)
			out["required"] = required
		}
		return out
	}
	return schema{} // an interface: any JSON
}

// addStruct adds t's JSON properties, those of embedded structs promoted.
func addStruct(t reflect.Type, props schema, required *[]string, depth int) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addStruct(ft, props, required, depth)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = reflectDepth(f.Type, depth+1)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			*required = append(*required, name)
		}
	}
}
