package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestImportAPI uploads a file through the API, previews it, commits it,
// follows it to the end, downloads its problem rows and undoes it; and
// refuses what is not an upload, a file too large, and another user's
// import.
func TestImportAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		srv := newServer(t, o)
		rep1, rep2 := token(t, o, o.Rep1), token(t, o, o.Rep2)
		o.Customer(t, o.Rep2, crm.CustomerFields{Name: "宁波海曙旧客户有限公司", Phone: "13957410000"})
		file := "客户名称,电话,邮箱,备注\n" +
			"杭州导入样例有限公司,13800000001,a@example.com,新客户\n" +
			"=SUM(1;2) 公式客户,13800000002,不是邮箱,坏行\n" +
			"宁波海曙另一家公司,13957410000,,撞单\n"
		body, ct := importUpload(`{"object":"customer","source":"old-crm"}`, "客户.csv", file)
		en := map[string]string{"Accept-Language": "en"}
		upload := scenario{name: "upload", token: rep1, method: "POST", path: "/api/v1/imports", body: string(body),
			header: map[string]string{"Content-Type": ct}, wantStatus: 201,
			wantContains: []string{`"suggested_mapping":{`, `"客户名称":"name"`, `"encoding":"utf-8"`, `"format":"csv"`, `"status":"previewed"`,
				`"duplicate"`, `"failed"`, "已存在，负责人：User rep2"}}.run(t, srv)
		var preview service.ImportPreview
		if err := json.Unmarshal([]byte(upload), &preview); err != nil {
			t.Fatal(err)
		}
		id := strconv.FormatInt(preview.Import.ID, 10)
		if preview.Import.Created != 1 || preview.Import.Failed != 1 || preview.Import.Duplicates != 1 {
			t.Fatalf("preview counts: %+v", preview.Import.ImportCounts)
		}
		noOptions, noOptionsCT := importUpload("", "a.csv", file)
		twoFiles, twoFilesCT := importUpload(`{"object":"customer"}`, "a.csv", file)
		twoFiles = []byte(strings.Replace(string(twoFiles), "--"+strings.TrimPrefix(twoFilesCT, "multipart/form-data; boundary=")+"--",
			"--"+strings.TrimPrefix(twoFilesCT, "multipart/form-data; boundary=")+"\r\nContent-Disposition: form-data; name=\"other\"; filename=\"b.csv\"\r\n\r\nx\r\n"+
				"--"+strings.TrimPrefix(twoFilesCT, "multipart/form-data; boundary=")+"--", 1))
		badObject, badObjectCT := importUpload(`{"object":"user"}`, "a.csv", file)
		unknownKey, unknownKeyCT := importUpload(`{"object":"customer","owner":5}`, "a.csv", file)
		empty, emptyCT := importUpload(`{"object":"customer"}`, "a.csv", "")
		for _, sc := range []scenario{
			{name: "json instead of multipart", token: rep1, method: "POST", path: "/api/v1/imports", body: `{"object":"customer"}`,
				wantStatus: 415, wantContains: []string{`"field":"content_type"`}},
			{name: "broken multipart", token: rep1, method: "POST", path: "/api/v1/imports", body: "--x\r\nnot a part",
				header: map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, wantStatus: 422},
			{name: "no options", token: rep1, method: "POST", path: "/api/v1/imports", body: string(noOptions),
				header: map[string]string{"Content-Type": noOptionsCT}, wantStatus: 422, wantContains: []string{`"field":"options"`, `"rule":"required"`}},
			{name: "a second file", token: rep1, method: "POST", path: "/api/v1/imports", body: string(twoFiles),
				header: map[string]string{"Content-Type": twoFilesCT}, wantStatus: 422, wantContains: []string{`"field":"other"`, `"rule":"unknown"`}},
			{name: "no such object", token: rep1, method: "POST", path: "/api/v1/imports", body: string(badObject),
				header: map[string]string{"Content-Type": badObjectCT}, wantStatus: 422, wantContains: []string{`"field":"object"`, `"rule":"enum"`}},
			{name: "unknown option", token: rep1, method: "POST", path: "/api/v1/imports", body: string(unknownKey),
				header: map[string]string{"Content-Type": unknownKeyCT}, wantStatus: 422, wantContains: []string{`"field":"owner"`, `"rule":"unknown"`}},
			{name: "empty file", token: rep1, method: "POST", path: "/api/v1/imports", body: string(empty), header: map[string]string{"Content-Type": emptyCT, "Accept-Language": "en"},
				wantStatus: 422, wantContains: []string{`"field":"file"`, "empty"}},
			{name: "another user's import", token: rep2, method: "GET", path: "/api/v1/imports/" + id, wantStatus: 404},
			{name: "another user's errors", token: rep2, method: "GET", path: "/api/v1/imports/" + id + "/errors?format=csv", wantStatus: 404},
			{name: "another user's commit", token: rep2, method: "POST", path: "/api/v1/imports/" + id + "/commit", wantStatus: 404},
			{name: "missing import", token: rep1, method: "GET", path: "/api/v1/imports/987654", wantStatus: 404},
			{name: "status", token: rep1, method: "GET", path: "/api/v1/imports/" + id, wantStatus: 200,
				wantContains: []string{`"status":"previewed"`, `"progress":{"percent":0`, `"file_name":"客户.csv"`}},
			{name: "list", token: rep1, method: "GET", path: "/api/v1/imports", wantStatus: 200, wantContains: []string{`"file_name":"客户.csv"`}},
			{name: "others' list", token: rep2, method: "GET", path: "/api/v1/imports", wantStatus: 200, wantNotContains: []string{"客户.csv"}},
			{name: "errors as JSON", token: rep1, method: "GET", path: "/api/v1/imports/" + id + "/errors", header: en, wantStatus: 200,
				wantContains: []string{`"line":3`, `"raw":["=SUM(1;2) 公式客户"`, "电子邮箱：不是有效的电子邮箱"}, wantNotContains: []string{"杭州导入样例"}},
			{name: "errors in an unknown format", token: rep1, method: "GET", path: "/api/v1/imports/" + id + "/errors?format=pdf", wantStatus: 422,
				wantContains: []string{`"field":"format"`}},
			{name: "template zh", token: rep1, method: "GET", path: "/api/v1/imports/template?object=customer&lang=zh-CN", wantStatus: 200,
				wantContains: []string{"名称"}},
			{name: "template en xlsx", token: rep1, method: "GET", path: "/api/v1/imports/template?object=contact&lang=en&format=xlsx", wantStatus: 200},
			{name: "template of no object", token: rep1, method: "GET", path: "/api/v1/imports/template?object=user", wantStatus: 422},
		} {
			sc.run(t, srv)
		}

		// The error file: the original cells, neutralised, then the reason.
		res := get(t, srv.URL+"/api/v1/imports/"+id+"/errors?format=csv", rep1, en)
		if !strings.HasPrefix(res.contentType, "text/csv") || !strings.Contains(res.disposition, "import-"+id+"-errors.csv") {
			t.Fatalf("errors download: %s %s", res.contentType, res.disposition)
		}
		if !strings.Contains(res.body, "Line,A,B,C,D,Reason") || !strings.Contains(res.body, "3,'=SUM(1;2) 公式客户,13800000002,不是邮箱,坏行,") {
			t.Fatalf("errors CSV:\n%s", res.body)
		}
		if x := get(t, srv.URL+"/api/v1/imports/"+id+"/errors?format=xlsx", rep1, nil); !strings.Contains(x.contentType, "spreadsheetml") || !strings.HasPrefix(x.body, "PK") {
			t.Fatalf("errors XLSX: %s", x.contentType)
		}

		// Too large: refused by its declared length before the body is read.
		req := httptest.NewRequest("POST", "/api/v1/imports", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+rep1)
		req.Header.Set("Content-Type", ct)
		req.ContentLength = service.MaxImportBytes + 2<<20
		rec := httptest.NewRecorder()
		srv.Config.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), `"field":"file"`) {
			t.Fatalf("too large: %d %s", rec.Code, rec.Body.String())
		}

		// Other choices: a target that is no field is refused naming the
		// column; the preview is then made again with a good mapping.
		for _, sc := range []scenario{
			{name: "preview again without the notes column", token: rep1, method: "POST", path: "/api/v1/imports/" + id + "/preview",
				body: `{"mapping":{"客户名称":"name","电话":"phone","邮箱":"email"}}`, wantStatus: 200,
				wantContains: []string{`"mapping":{"客户名称":"name","电话":"phone","邮箱":"email"}`, `"failed":1`}},
			{name: "preview with a target that is no field", token: rep1, method: "POST", path: "/api/v1/imports/" + id + "/preview",
				body: `{"mapping":{"客户名称":"nonsense"}}`, wantStatus: 422, wantContains: []string{`"field":"mapping.客户名称"`, `"rule":"unknown_target"`}},
		} {
			sc.run(t, srv)
		}

		// Commit, run the job as serve would, and undo.
		scenario{name: "commit", token: rep1, method: "POST", path: "/api/v1/imports/" + id + "/commit", wantStatus: 202,
			wantContains: []string{`"status":"queued"`}}.run(t, srv)
		scenario{name: "commit twice", token: rep1, method: "POST", path: "/api/v1/imports/" + id + "/commit", wantStatus: 409}.run(t, srv)
		if err := o.Svc.RunQueuedImports(ctx, "test", nil); err != nil {
			t.Fatal(err)
		}
		scenario{name: "done", token: rep1, method: "GET", path: "/api/v1/imports/" + id, wantStatus: 200,
			wantContains: []string{`"status":"done"`, `"created":1`, `"percent":100`}}.run(t, srv)
		scenario{name: "the created customer", token: rep1, method: "GET", path: "/api/v1/customers?q=" + "%E6%9D%AD%E5%B7%9E", wantStatus: 200,
			wantContains: []string{"杭州导入样例有限公司"}}.run(t, srv)
		scenario{name: "undo by another user", token: rep2, method: "POST", path: "/api/v1/imports/" + id + "/undo", body: `{"confirm":false}`, wantStatus: 404}.run(t, srv)
		scenario{name: "undo", token: rep1, method: "POST", path: "/api/v1/imports/" + id + "/undo", body: `{"confirm":false}`, wantStatus: 200,
			wantContains: []string{`"deleted":1`}}.run(t, srv)
		scenario{name: "undo twice", token: rep1, method: "POST", path: "/api/v1/imports/" + id + "/undo", body: `{"confirm":true}`, wantStatus: 409}.run(t, srv)
		scenario{name: "gone from the list", token: rep1, method: "GET", path: "/api/v1/customers?q=" + "%E6%9D%AD%E5%B7%9E", wantStatus: 200,
			wantNotContains: []string{"杭州导入样例有限公司"}}.run(t, srv)
	})
}

type download struct{ contentType, disposition, body string }

func get(t *testing.T, url, tok string, header map[string]string) download {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
	return download{res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"), string(b)}
}
