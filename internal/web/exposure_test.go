package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/notify"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
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
				wantContains:    []string{`id="exposure-report"`, "客户 #" + id, "查看", "/exposure/download?since=", "format=csv"},
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

// TestIncidentPages: administrators record an incident, its timeline and
// its exposure report; auditors read them; reps see nothing.
func TestIncidentPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		c := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "温州鞋业"})
		o.t.User(t, "auditor1", o.hq.ID, "auditor")
		browsers := map[string]*browser{"rep1": s.signIn("rep1", testPassword), "auditor": s.signIn("auditor1", testPassword),
			"admin": signInAdmin(t, s, o)}
		loc := o.svc.Location(o.admin)
		hourAgo := time.Now().Add(-time.Hour).In(loc).Format("2006-01-02T15:04")
		runScenarios(t, s, browsers, []scenario{
			{name: "rep1 opens the customer", actor: "rep1", method: "GET", path: "/customers/" + id(c.ID), wantStatus: http.StatusOK},
			{name: "the list and form", actor: "admin", method: "GET", path: "/incidents", wantStatus: http.StatusOK,
				wantContains: []string{`action="/incidents"`, "没有记录的安全事件"}},
			{name: "a bad severity", actor: "admin", method: "POST", path: "/incidents", body: url.Values{"title": {"客户名单外泄"},
				"severity": {"huge"}, "status": {"open"}, "detected_at": {hourAgo}}, wantStatus: http.StatusUnprocessableEntity,
				wantContains: []string{"严重程度：必须是以下之一"}},
			{name: "record", actor: "admin", method: "POST", path: "/incidents", body: url.Values{"title": {"客户名单外泄"},
				"severity": {"critical"}, "status": {"open"}, "detected_at": {hourAgo}, "description": {"rep1 的账号异常"}},
				wantStatus: http.StatusSeeOther, wantLocation: "/incidents/1"},
			{name: "auditors do not record", actor: "auditor", method: "POST", path: "/incidents", body: url.Values{"title": {"x"},
				"severity": {"low"}, "detected_at": {hourAgo}}, wantStatus: http.StatusForbidden},
			{name: "a note", actor: "admin", method: "POST", path: "/incidents/1/timeline", body: url.Values{"note": {"重置了 rep1 的密码"}},
				wantStatus: http.StatusSeeOther},
			{name: "auditors write no notes", actor: "auditor", method: "POST", path: "/incidents/1/timeline", body: url.Values{"note": {"x"}},
				wantStatus: http.StatusForbidden},
			{name: "link a query", actor: "admin", method: "POST", path: "/incidents/1/exposure", body: url.Values{"since": {hourAgo},
				"actor_id": {id(o.rep1.UserID)}}, wantStatus: http.StatusSeeOther, wantLocation: "/incidents/1?report=1"},
			{name: "contain", actor: "admin", method: "POST", path: "/incidents/1", body: url.Values{"version": {"2"}, "title": {"客户名单外泄"},
				"severity": {"critical"}, "status": {"contained"}, "detected_at": {hourAgo}}, wantStatus: http.StatusSeeOther},
			{name: "the auditor reads it", actor: "auditor", method: "GET", path: "/incidents/1", wantStatus: http.StatusOK,
				wantContains:    []string{"客户名单外泄", "重置了 rep1 的密码", "open → contained", "/incidents/1/exposure?format=csv"},
				wantNotContains: []string{`action="/incidents/1/timeline"`, `action="/incidents/1"`}},
			{name: "and its report", actor: "auditor", method: "GET", path: "/incidents/1?report=1", wantStatus: http.StatusOK,
				wantContains: []string{`id="exposure-report"`, "客户 #" + id(c.ID)}, wantNotContains: []string{"温州鞋业"}},
			{name: "its CSV", actor: "auditor", method: "GET", path: "/incidents/1/exposure?format=csv", wantStatus: http.StatusOK,
				wantContains: []string{"customer," + id(c.ID) + ",viewed"}},
			{name: "reps see no incidents", actor: "rep1", method: "GET", path: "/incidents", wantStatus: http.StatusForbidden},
			{name: "nor one", actor: "rep1", method: "GET", path: "/incidents/1", wantStatus: http.StatusForbidden},
		})
	})
}

// TestAlertDeliveryOnSecurityPage: the security page says how each alert
// went out.
func TestAlertDeliveryOnSecurityPage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
		defer hook.Close()
		to := testorg.NewWith(t, db, service.Options{Argon2: testorg.CheapArgon,
			AlertDelivery: service.AlertDelivery{Webhook: &notify.Webhook{URL: hook.URL, Secret: []byte("0123456789abcdef")}}})
		o := &org{t: to, svc: to.Svc, admin: to.Admin, rep1: to.Rep1, adminPassword: to.AdminPassword, hq: to.HQ}
		err := db.WriteTx(ctx, func(tx *store.Tx) error {
			for range 31 {
				e := crm.AuditEvent{At: time.Now().Add(-time.Minute), ActorKind: "user", ActorID: o.rep1.UserID, ActorName: o.rep1.Name,
					Action: "search.phone", Outcome: "ok"}
				if err := tx.InsertAuditEvent(ctx, &e); err != nil {
					return err
				}
			}
			return nil
		})
		noErr(t, err)
		if raised, err := o.svc.EvaluateAlerts(ctx); err != nil || len(raised) != 1 {
			t.Fatalf("raise: %v %d", err, len(raised))
		}
		if _, err := o.svc.DeliverAlerts(ctx); err != nil {
			t.Fatal(err)
		}
		s := newSite(t, o.svc)
		admin := signInAdmin(t, s, o)
		page := s.do(admin, "GET", "/alerts", nil, nil).Body.String()
		if !strings.Contains(page, "Webhook:") || !strings.Contains(page, "已尝试 1 次") || !strings.Contains(page, "answered 503") {
			t.Fatalf("the security page does not show the delivery:\n%s", excerpt(page))
		}
	})
}
