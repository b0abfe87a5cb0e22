package web

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// TestFormBodies sends the forms a careless client sends — values that are
// not UTF-8 (GBK bytes), a charset other than UTF-8, an oversize body,
// implausible dates and currencies — through the real router: each is
// refused with its status and a sentence in the user's language, and
// nothing of it is stored.
func TestFormBodies(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		c := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "温州瓯海机械"})
		browsers := map[string]*browser{"rep1": s.signIn("rep1", testPassword)}
		en := map[string]string{"Accept-Language": "en"}
		gbk := "\xc9\xcf\xba\xa3" // 上海 in GBK
		cid := strconv.FormatInt(c.ID, 10)

		runScenarios(t, s, browsers, []scenario{
			{name: "GBK bytes in a customer name", actor: "rep1", method: "POST", path: "/customers",
				body: url.Values{"name": {gbk + "贸易"}}, wantStatus: 422, wantContains: []string{"提交的文字不是有效的 UTF-8 编码"}},
			{name: "GBK bytes in a task title, English", actor: "rep1", method: "POST", path: "/tasks", header: en,
				body: url.Values{"title": {"Call " + gbk}}, wantStatus: 422, wantContains: []string{"not valid UTF-8"}},
			{name: "a form declared in GBK", actor: "rep1", method: "POST", path: "/customers",
				header: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=GBK"},
				body:   url.Values{"name": {"声明为GBK"}}, wantStatus: 415, wantContains: []string{"请以 UTF-8 编码提交表单"}},
			{name: "an oversize form", actor: "rep1", method: "POST", path: "/customers", header: en,
				body: url.Values{"name": {"Big"}, "notes": {strings.Repeat("a", maxForm)}}, wantStatus: 413, wantContains: []string{"at most 1 MB"}},
			{name: "sign-in with GBK bytes", method: "POST", path: "/login",
				body: url.Values{"username": {gbk}, "password": {"x"}}, wantStatus: 422},
			{name: "a currency that is not ISO 4217", actor: "rep1", method: "POST", path: "/opportunities", header: en,
				body: url.Values{"name": {"Deal"}, "customer_id": {cid}, "currency": {"ZZZ"}}, wantStatus: 422,
				wantContains: []string{"must be a three-letter ISO 4217 code"}},
			{name: "a close date in year 1", actor: "rep1", method: "POST", path: "/opportunities",
				body: url.Values{"name": {"年份"}, "customer_id": {cid}, "expected_close_date": {"0001-01-01"}}, wantStatus: 422,
				wantContains: []string{"年份必须在 1900–2200 之间"}},
			{name: "a due time in year 1", actor: "rep1", method: "POST", path: "/tasks", header: en,
				body: url.Values{"title": {"Ancient"}, "due_at": {"0001-01-01T09:00"}}, wantStatus: 422,
				wantContains: []string{"must lie within the years 1900–2200"}},
			{name: "an empty task title says task", actor: "rep1", method: "POST", path: "/tasks",
				body: url.Values{"title": {""}}, wantStatus: 422, wantContains: []string{"任务内容：必填"}, wantNotContains: []string{"职位"}},
		})

		page, err := o.svc.ListCustomers(ctx, o.rep1, crm.CustomerFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 {
			t.Errorf("refused forms stored customers: %d", len(page.Items))
		}
		opps, err := o.svc.ListOpportunities(ctx, o.rep1, crm.ListFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(opps.Items) != 0 {
			t.Errorf("refused forms stored opportunities: %d", len(opps.Items))
		}
	})
}
