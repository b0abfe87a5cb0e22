package web

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/store"
	"custos/internal/testdb"
)

// upload posts a multipart form with a file, as the browser sends the
// wizard's form (the CSRF field first).
func (s *site) upload(b *browser, path string, form url.Values, name string, file []byte, header map[string]string) *httptest.ResponseRecorder {
	s.t.Helper()
	body, ct := multipartForm(form, "file", name, string(file))
	req := httptest.NewRequest("POST", path, bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	return rec
}

// TestImportWizard walks the wizard on both databases: upload a GBK file,
// see the guessed encoding, the suggested mapping and the problem rows,
// map again, commit, follow the progress, download the problem rows, and
// undo, asked first about a record edited since.
func TestImportWizard(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		mustCreateCustomer(t, o.svc, o.rep2, crm.CustomerFields{Name: "温州旧识贸易有限公司", Phone: "13957700001"})
		browsers := map[string]*browser{"rep1": s.signIn("rep1", testPassword), "rep2": s.signIn("rep2", testPassword)}
		o.t.User(t, "auditor1", o.hq.ID, "auditor")
		auditor := s.signIn("auditor1", testPassword)
		zh := map[string]string{"Accept-Language": "zh-CN"}
		utf8 := "客户名称,电话,邮箱,级别\n" +
			"嘉兴向导样例有限公司,13800000011,a@example.com,重要\n" +
			"湖州向导样例有限公司,13800000012,不是邮箱,一般\n" +
			"温州另一家贸易公司,13957700001,,一般\n"
		gbk, err := simplifiedchinese.GBK.NewEncoder().String(utf8)
		noErr(t, err)

		rep1 := browsers["rep1"]
		form := url.Values{"csrf": {rep1.csrf}, "object": {"customer"}, "source": {"旧系统"}}
		rec := s.upload(rep1, "/imports", form, "客户.csv", []byte(gbk), zh)
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/imports/") {
			t.Fatalf("upload: %d %s", rec.Code, excerpt(rec.Body.String()))
		}
		page := rec.Header().Get("Location")

		empty := s.upload(rep1, "/imports", form, "空.csv", nil, zh)
		noCSRF := s.upload(rep1, "/imports", url.Values{"object": {"customer"}}, "a.csv", []byte(gbk), nil)
		viaHeader := s.upload(rep1, "/imports", url.Values{"object": {"customer"}}, "b.csv", []byte(utf8), map[string]string{httpx.CSRFHeader: rep1.csrf})
		refused := s.upload(auditor, "/imports", url.Values{"csrf": {auditor.csrf}, "object": {"customer"}}, "c.csv", []byte(utf8), nil)
		for _, c := range []struct {
			name   string
			rec    *httptest.ResponseRecorder
			status int
			want   string
		}{
			{"an empty file names the file", empty, http.StatusUnprocessableEntity, "为空，或表头下没有数据行"},
			{"no CSRF token", noCSRF, http.StatusForbidden, ""},
			{"the token in the htmx header", viaHeader, http.StatusSeeOther, ""},
			{"no right to create customers", refused, http.StatusForbidden, ""},
		} {
			if c.rec.Code != c.status || !strings.Contains(c.rec.Body.String(), c.want) {
				t.Errorf("%s: %d, want %d with %q: %s", c.name, c.rec.Code, c.status, c.want, excerpt(c.rec.Body.String()))
			}
		}

		runScenarios(t, s, browsers, []scenario{
			{name: "the menu has the wizard", actor: "rep1", method: "GET", path: "/", header: zh, wantStatus: 200, wantContains: []string{`<a href="/imports"`, "导入"}},
			{name: "the list and the templates", actor: "rep1", method: "GET", path: "/imports", header: zh, wantStatus: 200,
				wantContains: []string{"客户.csv", `enctype="multipart/form-data"`, "/imports/template?format=xlsx&amp;lang=zh-CN&amp;object=customer", "中文表头（CSV）"}},
			{name: "the preview", actor: "rep1", method: "GET", path: page, header: zh, wantStatus: 200, wantContains: []string{
				"自动识别为：gb18030", `<option value="gb18030" selected>`, `data-header="客户名称"`, `<option value="name" selected>`,
				`<option value="phone" selected>`, "客户级别：必须是以下之一：A, B, C, D", `data-count="failed">3<`, page + "/errors?format=csv",
				`name="values.level"`, `action="` + page + `/commit"`}},
			{name: "someone else's import", actor: "rep2", method: "GET", path: page, wantStatus: 404, wantNotContains: []string{"客户.csv"}},
			{name: "a form that is not multipart", actor: "rep1", method: "POST", path: "/imports", body: url.Values{"object": {"customer"}}, wantStatus: 415},
			{name: "a target that is no field", actor: "rep1", method: "POST", path: page + "/preview", header: zh,
				body: url.Values{"map": {"nonsense", "phone", "email", "level"}, "encoding": {"gb18030"}}, wantStatus: 422, wantContains: []string{"列 客户名称：映射到的 nonsense 不是此对象可导入的字段"}},
			{name: "map the levels and save the mapping", actor: "rep1", method: "POST", path: page + "/preview",
				body: url.Values{"map": {"name", "phone", "", "level"}, "encoding": {"gb18030"}, "owner_rule": {"importer"},
					"values.level": {"重要 = A\n一般 → B"}, "mapping_name": {"旧系统客户"}}, wantStatus: 303, wantLocation: page},
			{name: "the new preview", actor: "rep1", method: "GET", path: page, header: zh, wantStatus: 200,
				wantContains:    []string{"一般 = B\n重要 = A", `<option value="旧系统客户">`, "已存在，负责人", "疑似重复", `data-count="created">2<`},
				wantNotContains: []string{"电子邮箱：不是有效的电子邮箱"}},
			{name: "commit", actor: "rep1", method: "POST", path: page + "/commit", wantStatus: 303, wantLocation: page},
			{name: "queued: the page polls its progress", actor: "rep1", method: "GET", path: page, header: zh, wantStatus: 200,
				wantContains: []string{`hx-get="` + page + `/progress"`, `hx-trigger="every 1s"`, "<progress"}},
			{name: "someone else's commit", actor: "rep2", method: "POST", path: page + "/commit", wantStatus: 404},
		})
		rec = s.do(rep1, "GET", page+"/progress", nil, map[string]string{"HX-Request": "true"})
		if rec.Code != 200 || rec.Header().Get("HX-Refresh") != "" || !strings.Contains(rec.Body.String(), `id="import-progress"`) {
			t.Fatalf("progress while queued: %d %v %s", rec.Code, rec.Header(), rec.Body.String())
		}
		noErr(t, o.svc.RunQueuedImports(ctx, "test", nil))
		rec = s.do(rep1, "GET", page+"/progress", nil, map[string]string{"HX-Request": "true"})
		if rec.Code != 200 || rec.Header().Get("HX-Refresh") != "true" {
			t.Fatalf("progress when done: %d %v", rec.Code, rec.Header())
		}
		rec = s.do(rep1, "GET", page+"/errors?format=csv", nil, zh)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "温州另一家贸易公司") || !strings.Contains(rec.Header().Get("Content-Disposition"), "errors.csv") {
			t.Fatalf("errors download: %d %s", rec.Code, rec.Body.String())
		}

		// Someone edits a created record; the undo asks about it first.
		list, err := o.svc.ListCustomers(ctx, o.rep1, crm.CustomerFilter{Query: "嘉兴向导"})
		noErr(t, err)
		if len(list.Items) != 1 || list.Items[0].Level != "A" {
			t.Fatalf("imported customers: %+v", list.Items)
		}
		edited := list.Items[0]
		_, err = o.svc.UpdateCustomer(ctx, o.rep1, edited.ID, crm.CustomerUpdate{Version: edited.Version, Industry: ptr("纺织")})
		noErr(t, err)
		runScenarios(t, s, browsers, []scenario{
			{name: "done", actor: "rep1", method: "GET", path: page, header: zh, wantStatus: 200,
				wantContains: []string{`data-count="created">2<`, `data-count="duplicates">1<`, page + "/undo"}, wantNotContains: []string{`hx-trigger="every 1s"`}},
			{name: "undo asks about the edited record", actor: "rep1", method: "GET", path: page + "/undo", header: zh, wantStatus: 200,
				wantContains: []string{"以下记录在导入后被修改过", "/customers/" + id(edited.ID), `name="confirm" value="1"`}},
			{name: "undo keeping it", actor: "rep1", method: "POST", path: page + "/undo", header: zh, body: url.Values{"confirm": {"0"}}, wantStatus: 200,
				wantContains: []string{"1 条记录已移入回收站", "已保留", "/customers/" + id(edited.ID)}},
			{name: "undone", actor: "rep1", method: "GET", path: "/imports", header: zh, wantStatus: 200, wantContains: []string{"已撤销"}},
			{name: "the kept record stays", actor: "rep1", method: "GET", path: "/customers", wantStatus: 200,
				wantContains: []string{"嘉兴向导样例有限公司"}, wantNotContains: []string{"湖州向导样例有限公司"}},
			{name: "a template", actor: "rep1", method: "GET", path: "/imports/template?object=contact&lang=en&format=csv", wantStatus: 200,
				wantContains: []string{"Name"}},
		})
		if m := regexp.MustCompile(`<a href="/imports"`).FindString(s.do(auditor, "GET", "/", nil, nil).Body.String()); m != "" {
			t.Errorf("the auditor's menu offers imports")
		}
	})
}
