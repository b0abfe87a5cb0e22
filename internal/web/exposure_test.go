package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// TestExposurePages: the trail's readers make exposure reports and download
// them; names only for administrators; reps may not.
func TestExposurePages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		since := url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
		c := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "金华火腿"})
		id := strconv.FormatInt(c.ID, 10)
		o.t.User(t, "auditor1", o.hq.ID, "auditor")
		browsers := map[string]*browser{"rep1": s.signIn("rep1", testPassword), "auditor": s.signIn("auditor1", testPassword),
			"admin": signInAdmin(t, s, o)}
		runScenarios(t, s, browsers, []scenario{
			{name: "rep1 opens the customer", actor: "rep1", method: "GET", path: "/customers/" + id, wantStatus: http.StatusOK},
			{name: "the form", actor: "auditor", method: "GET", path: "/exposure", wantStatus: http.StatusOK,
				wantContains: []string{`name="since"`, `name="event_id"`}, wantNotContains: []string{`id="exposure-report"`}},
			{name: "the auditor's report", actor: "auditor", method: "GET", path: "/exposure?since=" + since, wantStatus: http.StatusOK,
				wantContains:    []string{`id="exposure-report"`, "客户 #" + id, "查看", "/exposure/download?format=csv&amp;"},
				wantNotContains: []string{"金华火腿", `href="/customers/` + id + `"`}},
			{name: "an administrator's, named and linked", actor: "admin", method: "GET", path: "/exposure?since=" + since, wantStatus: http.StatusOK,
				wantContains: []string{"金华火腿", `href="/customers/` + id + `"`}},
			{name: "no start", actor: "auditor", method: "GET", path: "/exposure?since=", wantStatus: http.StatusUnprocessableEntity,
				wantContains: []string{"起始时间：必填"}},
			{name: "CSV", actor: "auditor", method: "GET", path: "/exposure/download?format=csv&since=" + since, wantStatus: http.StatusOK,
				wantContains: []string{"object,record_id,kinds", "customer," + id + ",viewed"}, wantNotContains: []string{"金华火腿"}},
			{name: "JSON", actor: "admin", method: "GET", path: "/exposure/download?format=json&since=" + since, wantStatus: http.StatusOK,
				wantContains: []string{`"name": "金华火腿"`, `"named": true`}},
			{name: "not for reps", actor: "rep1", method: "GET", path: "/exposure", wantStatus: http.StatusForbidden},
			{name: "nor their downloads", actor: "rep1", method: "GET", path: "/exposure/download?since=" + since, wantStatus: http.StatusForbidden},
		})
		rec := s.do(browsers["auditor"], "GET", "/exposure/download?format=csv&since="+since, nil, nil)
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || !strings.Contains(rec.Header().Get("Content-Disposition"), "attachment") {
			t.Fatalf("download headers: %q %q", ct, rec.Header().Get("Content-Disposition"))
		}
	})
}
