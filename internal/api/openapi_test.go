package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"custos/internal/api"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

var update = flag.Bool("update", false, "rewrite testdata/openapi-examples.json from the real calls of TestOpenAPI")

const examplesFile = "testdata/openapi-examples.json"

// TestOpenAPI fetches the served document without credentials, validates
// it with kin-openapi (OpenAPI 3.1, JSON Schema 2020-12), fails when a
// route of the table or a field of the registry is missing from it, then
// makes real calls (create, read, list, change of every collection, a 422
// and a 404) and validates each request and answer against the document.
// The answers are the document's examples: -update records them; without
// it, a recorded example whose shape differs from today's answer fails.
func TestOpenAPI(t *testing.T) {
	written := false
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := testorg.New(t, db)
		srv := newServer(t, o)
		ctx := context.Background()

		// Served to anyone, revalidated by ETag.
		res, err := http.Get(srv.URL + api.OpenAPIPath)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || res.Header.Get("ETag") == "" {
			t.Fatalf("GET %s: %d %v", api.OpenAPIPath, res.StatusCode, res.Header)
		}
		req, _ := http.NewRequest("GET", srv.URL+api.OpenAPIPath, nil)
		req.Header.Set("If-None-Match", res.Header.Get("ETag"))
		if res2, err := http.DefaultClient.Do(req); err != nil || res2.StatusCode != http.StatusNotModified {
			t.Fatalf("revalidation: %v %v", res2, err)
		}

		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(body)
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		if !doc.IsOpenAPI31OrLater() {
			t.Fatalf("openapi %q, want 3.1", doc.OpenAPI)
		}
		if err := doc.Validate(ctx); err != nil {
			t.Fatalf("the document is not valid OpenAPI 3.1: %v", err)
		}

		// Every route of the table, every field of the registry.
		routes := api.New(o.Svc, httpx.Config{}, nil).Routes()
		for _, rt := range routes {
			item := doc.Paths.Value(rt.Pattern)
			if item == nil || item.GetOperation(rt.Method) == nil {
				t.Errorf("route %s %s is missing from the document", rt.Method, rt.Pattern)
			}
		}
		for _, s := range crm.Specs() {
			name := api.SchemaName(s.Name)
			rec := doc.Components.Schemas[name]
			if rec == nil {
				t.Errorf("object %s has no schema %s", s.Name, name)
				continue
			}
			for _, f := range s.Fields {
				// A field no export shows (a link no use case sets yet) is
				// not in the answers either.
				if f.Exportable && rec.Value.Properties[f.Name] == nil {
					t.Errorf("field %s.%s is missing from schema %s", s.Name, f.Name, name)
				}
			}
			for _, suffix := range []string{"Page", "Create", "Update"} {
				if doc.Components.Schemas[name+suffix] == nil {
					t.Errorf("object %s has no schema %s", s.Name, name+suffix)
				}
			}
		}

		// Real calls, validated both ways.
		v := &validator{t: t, doc: doc, srv: srv.URL, token: token(t, o, o.Rep1), examples: map[string]api.RecordedExample{}}
		v.realCalls()
		// Every report, as rep1, over a fixed period.
		for _, name := range crm.Reports {
			v.call("GET", "/api/v1/reports/"+name, "/api/v1/reports/"+name+"?from=2026-01-01&to=2026-03-31&interval=month", "", 200)
		}
		// An import (uploaded through the service: the validator sends
		// JSON): its status, problem rows, a new preview, the commit.
		file := "客户名称,电话\n开放接口导入样例,12\n"
		p, err := o.Svc.PreviewImport(ctx, o.Rep1, service.ImportRequest{Object: crm.ObjCustomer, FileName: "openapi.csv",
			File: strings.NewReader(file), Size: int64(len(file))})
		if err != nil {
			t.Fatal(err)
		}
		imp := "/api/v1/imports/" + strconv.FormatInt(p.Import.ID, 10)
		v.call("GET", "/api/v1/imports", "/api/v1/imports", "", 200)
		v.call("GET", "/api/v1/imports/{id}", imp, "", 200)
		v.call("GET", "/api/v1/imports/{id}/errors", imp+"/errors", "", 200)
		v.call("POST", "/api/v1/imports/{id}/preview", imp+"/preview", `{"mapping":{"客户名称":"name","电话":"phone"}}`, 200)
		v.call("POST", "/api/v1/imports/{id}/commit", imp+"/commit", "", 202)
		// The duplicate review: an administrator asks for a scan of rep1's two look-alike
		// contacts; rep1 lists, compares and merges them, reads the history,
		// undoes the merge and dismisses the pair.
		dup := [2]crm.Contact{o.LookAlike(t, o.Rep1, "John Smith", "7364009"), o.LookAlike(t, o.Rep1, "Jon Smith", "7364009")}
		rep1Token := v.token
		v.token = token(t, o, o.Admin)
		v.call("POST", "/api/v1/duplicates/{object}/scan", "/api/v1/duplicates/contacts/scan", "", 202)
		v.token = rep1Token
		if _, err := o.Svc.RunDueDuplicateScans(ctx, 0); err != nil { // as serve's background job
			t.Fatal(err)
		}
		idA, idB := strconv.FormatInt(dup[0].ID, 10), strconv.FormatInt(dup[1].ID, 10)
		v.call("GET", "/api/v1/duplicates/{object}", "/api/v1/duplicates/contacts?limit=10", "", 200)
		v.call("GET", "/api/v1/duplicates/{object}/compare", "/api/v1/duplicates/contacts/compare?survivor="+idA+"&merged="+idB, "", 200)
		m := v.call("POST", "/api/v1/contacts/merge", "/api/v1/contacts/merge",
			`{"survivor_id":`+idA+`,"merged_id":`+idB+`,"survivor_version":1,"merged_version":1,"fields":{"name":"merged"}}`, 200)
		v.call("GET", "/api/v1/merges/{object}", "/api/v1/merges/contacts", "", 200)
		v.call("POST", "/api/v1/merges/{id}/undo", "/api/v1/merges/"+fmt.Sprint(m["id"])+"/undo", "", 200)
		v.call("POST", "/api/v1/duplicates/{object}/dismiss", "/api/v1/duplicates/contacts/dismiss", `{"id_a":`+idA+`,"id_b":`+idB+`}`, 204)
		if *update {
			if !written {
				b, err := json.MarshalIndent(v.examples, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(examplesFile, append(b, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				written = true
			}
			return
		}
		b, err := os.ReadFile(examplesFile)
		if err != nil {
			t.Fatal(err)
		}
		var recorded map[string]api.RecordedExample
		if err := json.Unmarshal(b, &recorded); err != nil {
			t.Fatal(err)
		}
		for key, now := range v.examples {
			was, ok := recorded[key]
			if !ok {
				t.Errorf("%s: no recorded example; run go test ./internal/api -run TestOpenAPI -update", key)
				continue
			}
			if got, want := shape(now.Request), shape(was.Request); got != want {
				t.Errorf("%s: the request example's shape changed:\n now %s\n was %s\n(run with -update)", key, got, want)
			}
			for status, body := range now.Responses {
				if got, want := shape(body), shape(was.Responses[status]); got != want {
					t.Errorf("%s %s: the answer's shape changed:\n now %s\n was %s\n(run with -update)", key, status, got, want)
				}
			}
		}
		for key := range recorded {
			if _, ok := v.examples[key]; !ok {
				t.Errorf("%s: a recorded example no call makes any more (run with -update)", key)
			}
		}
	})
}

type validator struct {
	t        *testing.T
	doc      *openapi3.T
	srv      string
	token    string
	examples map[string]api.RecordedExample
}

// call sends a real request for the route pattern (path is the pattern
// with its wildcards filled in), checks the status, validates request and
// answer against the document, records both, and returns the answer.
func (v *validator) call(method, pattern, path, body string, wantStatus int) map[string]any {
	t := v.t
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, v.srv+path, rd)
	req.Header.Set("Authorization", "Bearer "+v.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != wantStatus {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, wantStatus, got)
	}

	item := v.doc.Paths.Value(pattern)
	if item == nil || item.GetOperation(method) == nil {
		t.Fatalf("%s %s is not in the document", method, pattern)
	}
	params := map[string]string{}
	ps, vs := strings.Split(pattern, "/"), strings.Split(path, "/")
	for i, p := range ps {
		if strings.HasPrefix(p, "{") && i < len(vs) {
			params[strings.Trim(p, "{}")] = strings.SplitN(vs[i], "?", 2)[0]
		}
	}
	vreq, _ := http.NewRequest(method, v.srv+path, bytes.NewReader([]byte(body)))
	if body != "" {
		vreq.Header.Set("Content-Type", "application/json")
	}
	in := &openapi3filter.RequestValidationInput{
		Request: vreq, PathParams: params,
		Route:   &routers.Route{Spec: v.doc, Path: pattern, PathItem: item, Method: method, Operation: item.GetOperation(method)},
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if wantStatus < 400 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			t.Errorf("%s %s: the request does not match the document: %v", method, pattern, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	out.SetBodyBytes(got)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s: the %d answer does not match the document: %v\n%s", method, pattern, res.StatusCode, err, got)
	}

	key := method + " " + pattern
	ex := v.examples[key]
	if ex.Responses == nil {
		ex.Responses = map[string]json.RawMessage{}
	}
	if body != "" && wantStatus < 400 {
		ex.Request = json.RawMessage(body)
	}
	if len(got) > 0 {
		ex.Responses[strconv.Itoa(res.StatusCode)] = compact(t, got)
	}
	v.examples[key] = ex
	var m map[string]any
	json.Unmarshal(got, &m)
	return m
}

func compact(t *testing.T, b []byte) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	return buf.Bytes()
}

// realCalls creates, reads, lists and changes a record of each collection,
// and makes a call the API refuses (422) and one about a missing record.
func (v *validator) realCalls() {
	id := func(m map[string]any) string { return fmt.Sprint(int64(m["id"].(float64))) }
	crud := func(path, create, patch string) map[string]any {
		rec := v.call("POST", "/api/v1/"+path, "/api/v1/"+path, create, 201)
		v.call("GET", "/api/v1/"+path+"/{id}", "/api/v1/"+path+"/"+id(rec), "", 200)
		v.call("PATCH", "/api/v1/"+path+"/{id}", "/api/v1/"+path+"/"+id(rec), patch, 200)
		return rec
	}
	list := func(path, query string) {
		v.call("GET", "/api/v1/"+path, "/api/v1/"+path+query, "", 200)
	}
	cus := crud("customers", `{"name":"开放接口样例公司","level":"A","phone":"021-68888888","email":"Info@Example.com","tags":["重点"]}`,
		`{"version":1,"city":"上海","website":"https://example.com"}`)
	list("customers", "?sort=name&limit=5")
	c := id(cus)
	con := crud("contacts", `{"customer_id":`+c+`,"name":"李雷","title":"采购经理","mobile":"13800138000","email":"li.lei@example.com"}`,
		`{"version":1,"wechat":"lilei88"}`)
	list("contacts", "?customer_id="+c)
	crud("leads", `{"name":"韩梅梅","company":"样例科技","mobile":"13900139000","source":"website"}`, `{"version":1,"title":"总监"}`)
	list("leads", "?limit=5")
	crud("opportunities", `{"customer_id":`+c+`,"name":"年度采购","amount":1200000,"currency":"CNY","expected_close_date":"2027-03-31"}`,
		`{"version":1,"amount":1500000}`)
	list("opportunities", "?customer_id="+c)
	crud("follow-ups", `{"customer_id":`+c+`,"contact_id":`+id(con)+`,"kind":"call","content":"电话沟通需求","occurred_at":"2026-12-01T10:00:00+08:00","next_at":"2026-12-08T10:00:00+08:00"}`,
		`{"version":1,"content":"电话沟通需求与报价"}`)
	list("follow-ups", "?customer_id="+c)
	crud("tasks", `{"title":"发送报价","customer_id":`+c+`,"due_at":"2026-12-10T18:00:00+08:00"}`, `{"version":1,"notes":"附产品手册"}`)
	list("tasks", "?all=true")

	v.call("POST", "/api/v1/customers", "/api/v1/customers", `{"name":"","phone":"12"}`, 422)
	v.call("GET", "/api/v1/customers/{id}", "/api/v1/customers/999999999", "", 404)
	v.call("GET", "/api/v1/me", "/api/v1/me", "", 200)
	v.call("GET", "/api/v1/stages", "/api/v1/stages", "", 200)
	v.call("DELETE", "/api/v1/tasks/{id}", "/api/v1/tasks/"+id(v.call("POST", "/api/v1/tasks", "/api/v1/tasks", `{"title":"临时"}`, 201)), "", 204)
}

// shape is a JSON value with its data left out: object keys (sorted) with
// the shapes of their values, an array as the shape of its first element,
// and the JSON type of a scalar. Ids, times and names differ between runs
// and databases; keys and types may not.
func shape(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return "invalid"
	}
	return shapeOf(v)
}

func shapeOf(v any) string {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ":" + shapeOf(x[k])
		}
		return "{" + strings.Join(parts, ",") + "}"
	case []any:
		if len(x) == 0 {
			return "[]"
		}
		return "[" + shapeOf(x[0]) + "]"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return "?"
}
