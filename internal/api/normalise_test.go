package api_test

import (
	"strconv"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestCustomerAPINormalisation: a bracketed-place form of a company is a
// duplicate; a name without its place is created, and the answer carries
// the possible-duplicate warning, with the record's id only for a caller
// who may see it; free-text industry, province and city come back standard.
func TestCustomerAPINormalisation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := testorg.New(t, db)
		srv := newServer(t, o)
		rep1, rep2 := token(t, o, o.Rep1), token(t, o, o.Rep2)
		o.Customer(t, o.Rep1, crm.CustomerFields{Name: "中铭科技（北京）有限公司"})
		placed := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "成都华信物流有限公司"})
		id := strconv.FormatInt(placed.ID, 10)
		mine := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "成都蓝海网络技术有限公司"})

		for _, sc := range []scenario{
			{name: "a bracketed place is the same company", token: rep2, method: "POST", path: "/api/v1/customers",
				header: map[string]string{"Accept-Language": "en"},
				body:   `{"name":"中铭（北京）科技有限公司"}`, wantStatus: 409, wantContains: []string{"already exists, owned by User rep1"}},
			{name: "another place is another company", token: rep2, method: "POST", path: "/api/v1/customers",
				body: `{"name":"深圳华信物流有限公司"}`, wantStatus: 201, wantNotContains: []string{`"warnings"`}},
			{name: "without its place: created, with a warning naming the owner", token: rep2, method: "POST", path: "/api/v1/customers",
				body: `{"name":"华信物流有限公司"}`, wantStatus: 201,
				wantContains:    []string{`"warnings":[{"code":"possible_duplicate","field":"name","message":"possibly the same company as a record owned by User rep1; review it","owner":"User rep1"}]`},
				wantNotContains: []string{`"record_id":` + id}},
			{name: "a record the caller sees is given; standard values", token: rep1, method: "POST", path: "/api/v1/customers",
				body: `{"name":"蓝海网络技术有限公司","industry":"软件","province":"Sichuan","city":"成都"}`, wantStatus: 201,
				wantContains: []string{`"industry":"信息传输、软件和信息技术服务业"`, `"province":"四川省"`, `"city":"成都市"`,
					`"object":"customer","record_id":` + strconv.FormatInt(mine.ID, 10)}},
		} {
			sc.run(t, srv)
		}
	})
}
