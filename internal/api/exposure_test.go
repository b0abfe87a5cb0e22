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

func TestIncidentsAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := testorg.New(t, db)
		srv := newServer(t, o)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "宁波港口"})
		auditor, admin, rep1 := token(t, o, o.User(t, "auditor1", o.HQ.ID, "auditor")), token(t, o, o.Admin), token(t, o, o.Rep1)
		since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		inc := "/api/v1/incidents/1"
		for _, sc := range []scenario{
			{name: "rep1 reads", token: rep1, method: "GET", path: "/api/v1/customers/" + strconv.FormatInt(c.ID, 10), wantStatus: 200},
			{name: "create", token: admin, method: "POST", path: "/api/v1/incidents", body: `{"title":"令牌泄露","severity":"critical","detected_at":"` + since + `"}`,
				wantStatus: 201, wantContains: []string{`"id":1`, `"status":"open"`, `"version":1`}},
			{name: "invalid", token: admin, method: "POST", path: "/api/v1/incidents", body: `{"title":"x","severity":"huge","detected_at":"` + since + `"}`,
				wantStatus: 422, wantContains: []string{`"field":"severity"`}},
			{name: "auditors do not record", token: auditor, method: "POST", path: "/api/v1/incidents", body: `{"title":"x","severity":"low","detected_at":"` + since + `"}`, wantStatus: 403},
			{name: "auditors read", token: auditor, method: "GET", path: "/api/v1/incidents", wantStatus: 200, wantContains: []string{"令牌泄露"}},
			{name: "reps do not", token: rep1, method: "GET", path: inc, wantStatus: 403},
			{name: "stale", token: admin, method: "PATCH", path: inc, body: `{"version":7,"status":"contained"}`, wantStatus: 409},
			{name: "contain", token: admin, method: "PATCH", path: inc, body: `{"version":1,"status":"contained"}`, wantStatus: 200, wantContains: []string{`"version":2`}},
			{name: "note", token: admin, method: "POST", path: inc + "/timeline", body: `{"note":"吊销了令牌"}`, wantStatus: 201, wantContains: []string{`"author_id":1`}},
			{name: "no report linked yet", token: auditor, method: "GET", path: inc + "/exposure", wantStatus: 422, wantContains: []string{`"field":"exposure_query"`}},
			{name: "link", token: admin, method: "PUT", path: inc + "/exposure-query", body: `{"since":"` + since + `","actor_id":` + strconv.FormatInt(o.Rep1.UserID, 10) + `}`,
				wantStatus: 200, wantContains: []string{`"exposure_query":{"since":`, `"until":`}},
			{name: "the incident", token: auditor, method: "GET", path: inc, wantStatus: 200, wantContains: []string{`"timeline":[`, "吊销了令牌", "open → contained", `"exposure_query"`}},
			{name: "its report", token: auditor, method: "GET", path: inc + "/exposure", wantStatus: 200,
				wantContains: []string{`"record_id":` + strconv.FormatInt(c.ID, 10)}, wantNotContains: []string{"宁波港口"}},
			{name: "its CSV", token: auditor, method: "GET", path: inc + "/exposure?format=csv", wantStatus: 200, wantContains: []string{"customer," + strconv.FormatInt(c.ID, 10) + ",viewed"}},
		} {
			sc.run(t, srv)
		}
	})
}
