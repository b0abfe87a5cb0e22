package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// TestExportPages: the list shows its export buttons (with its filters) to
// a role that may export and not to one that may not; the button answers
// the watermarked file; the export log lists it; an administrator traces
// the file back to it and a foreign file to nothing.
func TestExportPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		for i := range 12 {
			mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: fmt.Sprintf("Lake Side %d Trading Co", i),
				Address: fmt.Sprintf("No. %d West Lake Road Xihu District", i+1)})
		}
		mgr, rep1 := s.signIn("mgr.east", testPassword), s.signIn("rep1", testPassword)
		browsers := map[string]*browser{"mgr": mgr, "rep1": rep1, "admin": signInAdmin(t, s, o)}
		var file string
		runScenarios(t, s, browsers, []scenario{
			{name: "the list offers its export with its filters", actor: "mgr", method: "GET", path: "/customers?q=Lake&cursor=",
				wantStatus: http.StatusOK, wantContains: []string{`href="/export/customers?format=csv&amp;q=Lake"`, "format=xlsx"}},
			{name: "no export button without the permission", actor: "rep1", method: "GET", path: "/customers",
				wantStatus: http.StatusOK, wantNotContains: []string{"/export/customers"}},
			{name: "no export without the permission", actor: "rep1", method: "GET", path: "/export/customers?format=csv",
				wantStatus: http.StatusForbidden},
			{name: "the export", actor: "mgr", method: "GET", path: "/export/customers?format=csv&q=Lake", wantStatus: http.StatusOK,
				wantContains: []string{"Custos export #1", "User mgr.east"}, check: func(t *testing.T) {
					rec := s.do(mgr, "GET", "/export/customers?format=csv&q=Lake", nil, nil)
					if cd := rec.Header().Get("Content-Disposition"); !strings.Contains(cd, "custos-customer-export-2.csv") {
						t.Errorf("Content-Disposition %q", cd)
					}
					file = rec.Body.String()
				}},
			{name: "an unknown list", actor: "mgr", method: "GET", path: "/export/contracts", wantStatus: http.StatusNotFound},
			{name: "the log: one's own", actor: "mgr", method: "GET", path: "/exports", wantStatus: http.StatusOK,
				wantContains: []string{"User mgr.east", `&#34;q&#34;:&#34;***&#34;`}, wantNotContains: []string{"Lake", `id="trace"`}},
			{name: "the log: others' are not one's own", actor: "rep1", method: "GET", path: "/exports", wantStatus: http.StatusOK,
				wantNotContains: []string{"User mgr.east"}},
		})
		trace := func(b *browser, name, body string) (int, string) {
			rec := s.upload(b, "/exports/trace", url.Values{"csrf": {b.csrf}}, name, []byte(body), map[string]string{"Accept-Language": "en"})
			return rec.Code, rec.Body.String()
		}
		if code, body := trace(browsers["admin"], "leak.csv", file); code != http.StatusOK || !strings.Contains(body, "export #2") ||
			!strings.Contains(body, "User mgr.east") {
			t.Errorf("trace of the export: %d %s", code, excerpt(body))
		}
		if code, body := trace(browsers["admin"], "other.csv", "name\nLake Side 1 Trading Co\n"); code != http.StatusOK || !strings.Contains(body, "No match") {
			t.Errorf("trace of a foreign file: %d %s", code, excerpt(body))
		}
		if code, _ := trace(mgr, "leak.csv", file); code != http.StatusForbidden {
			t.Errorf("trace by a manager: %d", code)
		}
	})
}

// TestRoleFormReadsExport: the role form's export checkbox and row
// threshold per object; a threshold that is no number is refused by the
// role's validation, naming the field.
func TestRoleFormReadsExport(t *testing.T) {
	form := url.Values{"read.customer": {"on"}, "export.customer": {"on"}, "export_rows.customer": {" 500 "},
		"read.lead": {"on"}, "export_rows.lead": {"many"}, "key": {"k"}, "name": {"n"}}
	r, _ := http.NewRequest("POST", "/admin/roles", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	role := readRole(r)
	if g := role.Grants[crm.ObjCustomer]; !g.Export || g.ExportRows != 500 {
		t.Errorf("customer grant %+v", g)
	}
	if g := role.Grants[crm.ObjContact]; g.Export || g.ExportRows != 0 {
		t.Errorf("contact grant %+v", g)
	}
	err := role.Validate()
	if fe := fieldErrors(err); len(fe) != 1 || fe[0].Field != "grants.lead.export_rows" {
		t.Errorf("a threshold that is no number: %v", err)
	}
}
