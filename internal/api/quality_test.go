package api_test

import (
	"strconv"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

func TestQualityAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := testorg.New(t, db)
		srv := newServer(t, o)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "富阳纸业"})
		o.Customer(t, o.Rep3, crm.CustomerFields{Name: "温州鞋业", Phone: "0577-88881234"})
		admin, rep1, mgr := token(t, o, o.Admin), token(t, o, o.Rep1), token(t, o, o.MgrEast)
		rep1ID := strconv.FormatInt(o.Rep1.UserID, 10)
		for _, sc := range []scenario{
			{name: "rep1's figures", token: rep1, method: "GET", path: "/api/v1/quality", wantStatus: 200,
				wantContains:    []string{`"stale_days":30`, `"object":"customer"`, `"id":` + rep1ID + `,"name":"User rep1","records":1,"completeness":10,"stale":0,"incomplete":1`},
				wantNotContains: []string{"User rep3"}},
			{name: "the manager's subtree", token: mgr, method: "GET", path: "/api/v1/quality", wantStatus: 200,
				wantContains: []string{"User rep1"}, wantNotContains: []string{"User rep3"}},
			{name: "drill-down", token: rep1, method: "GET", path: "/api/v1/quality/records?object=customer&issue=incomplete", wantStatus: 200,
				wantContains: []string{`"id":` + strconv.FormatInt(c.ID, 10) + `,"name":"富阳纸业"`, `"score":10`, `"incomplete":true`}},
			{name: "a bad issue", token: rep1, method: "GET", path: "/api/v1/quality/records?object=customer&issue=ugly", wantStatus: 422,
				wantContains: []string{`"field":"issue"`}},
			{name: "settings are the administrator's", token: rep1, method: "GET", path: "/api/v1/quality/settings", wantStatus: 403},
			{name: "settings", token: admin, method: "PUT", path: "/api/v1/quality/settings",
				body: `{"stale_days":14,"weights":{"customer":[{"field":"name","weight":1},{"field":"phone","weight":1}]}}`, wantStatus: 200,
				wantContains: []string{`"stale_days":14`, `"customer":[{"field":"name","weight":1},{"field":"phone","weight":1}]`}},
			{name: "a weight out of range", token: admin, method: "PUT", path: "/api/v1/quality/settings",
				body: `{"stale_days":14,"weights":{"customer":[{"field":"name","weight":101}]}}`, wantStatus: 422, wantContains: []string{`"field":"weight"`}},
			{name: "the new weights", token: admin, method: "GET", path: "/api/v1/quality", wantStatus: 200,
				wantContains: []string{`"total":{"records":2,"completeness":75,`}},
			{name: "push", token: admin, method: "POST", path: "/api/v1/quality/fixups", wantStatus: 200, wantContains: []string{`"created":1,"closed":0`}},
			{name: "again: nothing new", token: admin, method: "POST", path: "/api/v1/quality/fixups", wantStatus: 200, wantContains: []string{`"created":0,"closed":0`}},
			{name: "reps do not push", token: rep1, method: "POST", path: "/api/v1/quality/fixups", wantStatus: 403},
		} {
			sc.run(t, srv)
		}
	})
}
