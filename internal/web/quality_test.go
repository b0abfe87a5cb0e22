package web

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// TestQualityPages: each reader sees the quality of what they own within
// their scope, drills into it, and administrators set the weights and push
// fix-up tasks.
func TestQualityPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "富阳纸业"})
		mustCreateCustomer(t, o.svc, o.rep3, crm.CustomerFields{Name: "温州鞋业", Phone: "0577-88881234"})
		o.t.User(t, "auditor1", o.hq.ID, "auditor")
		rep1 := strconv.FormatInt(o.rep1.UserID, 10)
		rep3 := strconv.FormatInt(o.rep3.UserID, 10)
		browsers := map[string]*browser{"rep1": s.signIn("rep1", testPassword), "auditor": s.signIn("auditor1", testPassword),
			"admin": signInAdmin(t, s, o)}
		full := url.Values{"stale_days": {"45"}, "w.customer.name": {"1"}, "w.customer.phone": {"2"}, "w.contact.name": {"1"},
			"w.lead.name": {"1"}, "w.opportunity.amount": {"1"}}
		runScenarios(t, s, browsers, []scenario{
			{name: "rep1's own figures", actor: "rep1", method: "GET", path: "/quality", wantStatus: http.StatusOK,
				wantContains:    []string{"数据质量", "User rep1", "issue=incomplete&amp;object=customer&amp;owner_id=" + rep1, "10.0"},
				wantNotContains: []string{"User rep3", `action="/quality/settings"`, `action="/quality/fixups"`}},
			{name: "the administrator's, with the settings", actor: "admin", method: "GET", path: "/quality", wantStatus: http.StatusOK,
				wantContains: []string{"User rep1", "User rep3", `action="/quality/settings"`, `name="w.customer.credit_code"`, "立即推送修正任务"}},
			{name: "drill-down", actor: "rep1", method: "GET", path: "/quality/records?object=customer&issue=incomplete", wantStatus: http.StatusOK,
				wantContains: []string{"富阳纸业", "不完整"}, wantNotContains: []string{"温州鞋业"}},
			{name: "not into another's records", actor: "rep1", method: "GET", path: "/quality/records?object=customer&issue=all&owner_id=" + rep3,
				wantStatus: http.StatusOK, wantContains: []string{"没有记录"}, wantNotContains: []string{"温州鞋业"}},
			{name: "an unknown object", actor: "rep1", method: "GET", path: "/quality/records?object=task", wantStatus: http.StatusUnprocessableEntity,
				wantContains: []string{"对象"}},
			{name: "not for auditors", actor: "auditor", method: "GET", path: "/quality", wantStatus: http.StatusForbidden},
			{name: "reps push nothing", actor: "rep1", method: "POST", path: "/quality/fixups", wantStatus: http.StatusForbidden},
			{name: "push", actor: "admin", method: "POST", path: "/quality/fixups", wantStatus: http.StatusSeeOther, wantLocation: "/quality?created=1&closed=0"},
			{name: "what it did", actor: "admin", method: "GET", path: "/quality?created=1&closed=0", wantStatus: http.StatusOK,
				wantContains: []string{"修正任务：新建 1 个，关闭 0 个。"}},
			{name: "rep1's task", actor: "rep1", method: "GET", path: "/tasks", wantStatus: http.StatusOK, wantContains: []string{"请补充 客户 #"}},
			{name: "bad days", actor: "admin", method: "POST", path: "/quality/settings", body: url.Values{"stale_days": {"0"}, "w.customer.name": {"1"}},
				wantStatus: http.StatusUnprocessableEntity, wantContains: []string{"多少天未跟进视为陈旧：必须在 1–3650 范围内"}},
			{name: "save", actor: "admin", method: "POST", path: "/quality/settings", body: full, wantStatus: http.StatusSeeOther, wantLocation: "/quality"},
			{name: "saved", actor: "admin", method: "GET", path: "/quality", wantStatus: http.StatusOK,
				wantContains: []string{`value="45"`, `name="w.customer.phone" type="number" min="0" max="100" value="2"`}},
		})
	})
}
