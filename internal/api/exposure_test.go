package api_test

import (
	"net/url"
	"strconv"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

func TestExposureAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := testorg.New(t, db)
		srv := newServer(t, o)
		since := url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "金华火腿"})
		auditor, admin := token(t, o, o.User(t, "auditor1", o.HQ.ID, "auditor")), token(t, o, o.Admin)
		rep1 := token(t, o, o.Rep1)
		id := strconv.FormatInt(c.ID, 10)
		for _, sc := range []scenario{
			{name: "rep1 reads it", token: rep1, method: "GET", path: "/api/v1/customers/" + id, wantStatus: 200},
			{name: "the auditor's report", token: auditor, method: "GET", path: "/api/v1/exposure?since=" + since + "&actor_id=" + strconv.FormatInt(o.Rep1.UserID, 10),
				wantStatus: 200, wantContains: []string{`"object":"customer","record_id":` + id, `"kinds":["viewed"]`, `"kind":"token"`},
				wantNotContains: []string{"金华火腿", `"named"`}},
			{name: "an administrator's, named", token: admin, method: "GET", path: "/api/v1/exposure?since=" + since, wantStatus: 200,
				wantContains: []string{`"name":"金华火腿"`, `"named":true`}},
			{name: "as CSV", token: auditor, method: "GET", path: "/api/v1/exposure?format=csv&since=" + since, wantStatus: 200,
				wantContains: []string{"object,record_id,kinds,fields", "customer," + id + ",viewed,"}, wantNotContains: []string{"金华火腿"}},
			{name: "no window", token: auditor, method: "GET", path: "/api/v1/exposure", wantStatus: 422, wantContains: []string{`"field":"since"`}},
			{name: "bad time", token: auditor, method: "GET", path: "/api/v1/exposure?since=yesterday", wantStatus: 422, wantContains: []string{`"field":"since"`}},
			{name: "not an export", token: auditor, method: "GET", path: "/api/v1/exposure?event_id=1", wantStatus: 422, wantContains: []string{`"rule":"not_export"`}},
			{name: "no report for reps", token: rep1, method: "GET", path: "/api/v1/exposure?since=" + since, wantStatus: 403},
		} {
			sc.run(t, srv)
		}
	})
}
