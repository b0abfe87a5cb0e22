package web

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// TestCampaignPages: a manager starts a campaign for their subtree from
// the form (a rep is offered none and refused), an owner confirms a record
// from their review list, every form carries the CSRF token, and the
// progress page counts it.
func TestCampaignPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		c := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "富阳纸业"})
		mustCreateCustomer(t, o.svc, o.rep3, crm.CustomerFields{Name: "温州鞋业"})
		rep1 := strconv.FormatInt(o.rep1.UserID, 10)
		id := strconv.FormatInt(c.ID, 10)
		browsers := map[string]*browser{"rep1": s.signIn("rep1", testPassword), "mgr": s.signIn("mgr.east", testPassword)}
		due := time.Now().In(o.svc.Location(o.mgrEast)).Add(7 * 24 * time.Hour).Format("2006-01-02T15:04")
		start := url.Values{"name": {"一季度复核"}, "objects": {"customer"}, "selection": {"all"}, "due_at": {due}, "recur_months": {"3"}}
		runScenarios(t, s, browsers, []scenario{
			{name: "the quality page links to campaigns and counts duplicates", actor: "rep1", method: "GET", path: "/quality", wantStatus: http.StatusOK,
				wantContains: []string{`href="/quality/campaigns"`, "疑似重复"}},
			{name: "no form for a rep", actor: "rep1", method: "GET", path: "/quality/campaigns", wantStatus: http.StatusOK,
				wantContains: []string{"暂无复核活动"}, wantNotContains: []string{`action="/quality/campaigns"`}},
			{name: "a rep may not start one", actor: "rep1", method: "POST", path: "/quality/campaigns", body: start, wantStatus: http.StatusForbidden},
			{name: "the form for a manager", actor: "mgr", method: "GET", path: "/quality/campaigns", wantStatus: http.StatusOK,
				wantContains: []string{`action="/quality/campaigns"`, `name="csrf"`, `type="datetime-local"`, "East-1"}, wantNotContains: []string{">West<"}},
			{name: "bad input, each field named", actor: "mgr", method: "POST", path: "/quality/campaigns",
				body: url.Values{"name": {""}, "selection": {"below"}, "below_score": {"x"}, "due_at": {"tomorrow"}}, wantStatus: http.StatusUnprocessableEntity,
				wantContains: []string{"名称", "对象", "完整度低于", "截止时间"}},
			{name: "without the CSRF token", actor: "mgr", method: "POST", path: "/quality/campaigns", body: start, noCSRF: true, wantStatus: http.StatusForbidden},
			{name: "start", actor: "mgr", method: "POST", path: "/quality/campaigns", body: start, wantStatus: http.StatusSeeOther, wantLocation: "/quality/campaigns/1"},
			{name: "the progress", actor: "mgr", method: "GET", path: "/quality/campaigns/1", wantStatus: http.StatusOK,
				wantContains: []string{"一季度复核", "User rep1", "0 / 1", "每 3 个月重复"}, wantNotContains: []string{"User rep3"}},
			{name: "rep1's task", actor: "rep1", method: "GET", path: "/tasks", wantStatus: http.StatusOK, wantContains: []string{"复核“一季度复核”中的 1 条记录", `href="/quality/campaigns/1"`}},
			{name: "rep1's review list", actor: "rep1", method: "GET", path: "/quality/campaigns/1/records?object=customer&unreviewed=true&owner_id=" + rep1,
				wantStatus: http.StatusOK, wantContains: []string{"富阳纸业", `action="/quality/campaigns/1/confirm"`, `name="csrf"`, "/customers/" + id + "/edit", "确认无误"},
				wantNotContains: []string{"温州鞋业"}},
			{name: "confirm without the CSRF token", actor: "rep1", method: "POST", path: "/quality/campaigns/1/confirm",
				body: url.Values{"object": {"customer"}, "ids": {id}}, noCSRF: true, wantStatus: http.StatusForbidden},
			{name: "confirm", actor: "rep1", method: "POST", path: "/quality/campaigns/1/confirm",
				body: url.Values{"object": {"customer"}, "ids": {id}, "owner_id": {rep1}}, wantStatus: http.StatusSeeOther,
				wantLocation: "/quality/campaigns/1/records?object=customer&owner_id=" + rep1 + "&unreviewed=true&confirmed=1"},
			{name: "confirmed", actor: "rep1", method: "GET", path: "/quality/campaigns/1/records?object=customer&owner_id=" + rep1 + "&confirmed=1",
				wantStatus: http.StatusOK, wantContains: []string{"已确认 1 条记录。", "已确认 ·"}},
			{name: "counted", actor: "mgr", method: "GET", path: "/quality/campaigns/1", wantStatus: http.StatusOK, wantContains: []string{"1 / 1"}},
			{name: "English", actor: "rep1", method: "GET", path: "/quality/campaigns/1", header: map[string]string{"Accept-Language": "en"},
				wantStatus: http.StatusOK, wantContains: []string{"My review list"}},
			{name: "a campaign that is not there", actor: "rep1", method: "GET", path: "/quality/campaigns/99", wantStatus: http.StatusNotFound},
		})
	})
}
