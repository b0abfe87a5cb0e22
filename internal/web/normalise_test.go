package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// TestCustomerFormNormalisation: the customer form suggests the standard
// lists; a bracketed-place form of an existing company is refused as a
// duplicate; a save that lets a possible duplicate through leads to the
// customer's page with the warning, linking the other record only for a
// user who may see it.
func TestCustomerFormNormalisation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "中铭科技（北京）有限公司"})
		plain := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "蓝海网络技术有限公司"})
		plainURL := "/customers/" + strconv.FormatInt(plain.ID, 10)
		browsers := map[string]*browser{"rep1": s.signIn("rep1", testPassword), "rep2": s.signIn("rep2", testPassword)}

		// Saved with a warning: the answer leads to the review.
		save := func(actor, name string) string {
			t.Helper()
			b := browsers[actor]
			rec := s.do(b, "POST", "/customers", url.Values{"name": {name}, "status": {"prospect"}, "csrf": {b.csrf}}, nil)
			loc := rec.Header().Get("Location")
			if rec.Code != http.StatusSeeOther || !strings.HasSuffix(loc, "?review=duplicates") {
				t.Fatalf("save %s: %d, Location %q; want the page with its review", name, rec.Code, loc)
			}
			return loc
		}
		mine := save("rep1", "上海蓝海网络技术有限公司")
		theirs := save("rep2", "杭州蓝海网络技术有限公司")

		runScenarios(t, s, browsers, []scenario{
			{name: "the form suggests the standard lists", actor: "rep1", method: "GET", path: "/customers/new", wantStatus: 200,
				wantContains: []string{`list="industries"`, `<datalist id="industries">`, "信息传输、软件和信息技术服务业", `<option value="深圳市">`,
					`<option value="内蒙古自治区">`}},
			{name: "a bracketed place is the same company", actor: "rep2", method: "POST", path: "/customers",
				body: url.Values{"name": {"北京中铭科技有限公司"}, "status": {"prospect"}}, wantStatus: 409,
				wantContains: []string{"已存在，负责人：User rep1"}},
			{name: "the warning links a record the user may see", actor: "rep1", method: "GET", path: mine, wantStatus: 200,
				wantContains: []string{"可能与 User rep1 负责的一条记录是同一家公司", `href="` + plainURL + `"`, "查看该记录"}},
			{name: "else it names only the owner", actor: "rep2", method: "GET", path: theirs, wantStatus: 200,
				header:       map[string]string{"Accept-Language": "en"},
				wantContains: []string{"Possibly the same company as a record owned by User rep1"}, wantNotContains: []string{plainURL}},
			{name: "no review asked, no warning", actor: "rep1", method: "GET", path: strings.TrimSuffix(mine, "?review=duplicates"), wantStatus: 200,
				wantNotContains: []string{"同一家公司"}},
			{name: "free text is stored as the standard value", actor: "rep1", method: "POST", path: "/customers",
				body: url.Values{"name": {"标准值测试"}, "status": {"prospect"}, "industry": {"互联网"}, "city": {"深圳"}}, wantStatus: 303,
				check: func(t *testing.T) {
					page, err := o.svc.ListCustomers(t.Context(), o.rep1, crm.CustomerFilter{Query: "标准值测试"})
					if err != nil || len(page.Items) != 1 || page.Items[0].Industry != "信息传输、软件和信息技术服务业" ||
						page.Items[0].Province != "广东省" || page.Items[0].City != "深圳市" {
						t.Errorf("stored: %v %+v", err, page.Items)
					}
				}},
		})
	})
}
