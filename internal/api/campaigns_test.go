package api_test

import (
	"strconv"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestCampaignAPI: managers start campaigns for their subtree, reps may
// not; owners list and confirm their records; progress and drill-downs
// stay within each reader's scope.
func TestCampaignAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := testorg.New(t, db)
		srv := newServer(t, o)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "富阳纸业"})
		west := o.Customer(t, o.Rep3, crm.CustomerFields{Name: "温州鞋业", Phone: "0577-88881234"})
		admin, rep1, rep3, mgr := token(t, o, o.Admin), token(t, o, o.Rep1), token(t, o, o.Rep3), token(t, o, o.MgrEast)
		due := o.Now().Add(7 * 24 * time.Hour).UTC().Format(time.RFC3339)
		body := `{"name":"Q1","objects":["customer"],"selection":"all","due_at":"` + due + `"}`
		for _, sc := range []scenario{
			{name: "reps may not start one", token: rep1, method: "POST", path: "/api/v1/quality/campaigns", body: body, wantStatus: 403},
			{name: "bad input names the fields", token: mgr, method: "POST", path: "/api/v1/quality/campaigns",
				body: `{"name":"","objects":["task"],"selection":"all","due_at":"2020-01-01T00:00:00Z"}`, wantStatus: 422,
				wantContains: []string{`"field":"name"`, `"field":"objects"`, `"field":"due_at"`}},
			{name: "not another department", token: mgr, method: "POST", path: "/api/v1/quality/campaigns",
				body:       `{"name":"Q1","objects":["customer"],"selection":"all","due_at":"` + due + `","department_id":` + strconv.FormatInt(o.West.ID, 10) + `}`,
				wantStatus: 422, wantContains: []string{`"field":"department_id"`}},
			{name: "the manager starts one", token: mgr, method: "POST", path: "/api/v1/quality/campaigns", body: body, wantStatus: 201,
				wantContains: []string{`"id":1,`, `"status":"open"`, `"scope_kind":"subtree"`}},
			{name: "rep1's part", token: rep1, method: "GET", path: "/api/v1/quality/campaigns/1", wantStatus: 200,
				wantContains: []string{`"total":1,"reviewed":0`, "User rep1"}, wantNotContains: []string{"User rep3"}},
			{name: "rep3 has none of it", token: rep3, method: "GET", path: "/api/v1/quality/campaigns", wantStatus: 200, wantContains: []string{`"items":[]`}},
			{name: "rep1's list", token: rep1, method: "GET", path: "/api/v1/quality/campaigns/1/records?object=customer&unreviewed=true", wantStatus: 200,
				wantContains: []string{`"id":` + strconv.FormatInt(c.ID, 10) + `,"name":"富阳纸业"`}},
			{name: "not another's record", token: rep3, method: "POST", path: "/api/v1/quality/campaigns/1/confirm",
				body: `{"object":"customer","ids":[` + strconv.FormatInt(c.ID, 10) + `]}`, wantStatus: 404},
			{name: "not a record outside the campaign", token: rep3, method: "POST", path: "/api/v1/quality/campaigns/1/confirm",
				body: `{"object":"customer","ids":[` + strconv.FormatInt(west.ID, 10) + `]}`, wantStatus: 404},
			{name: "no ids", token: rep1, method: "POST", path: "/api/v1/quality/campaigns/1/confirm", body: `{"object":"customer","ids":[]}`,
				wantStatus: 422, wantContains: []string{`"field":"ids"`}},
			{name: "confirm", token: rep1, method: "POST", path: "/api/v1/quality/campaigns/1/confirm",
				body: `{"object":"customer","ids":[` + strconv.FormatInt(c.ID, 10) + `]}`, wantStatus: 200, wantContains: []string{`"reviewed":1`}},
			{name: "the progress", token: admin, method: "GET", path: "/api/v1/quality/campaigns/1", wantStatus: 200,
				wantContains: []string{`"total":1,"reviewed":1`}},
			{name: "a campaign that is not there", token: admin, method: "GET", path: "/api/v1/quality/campaigns/99", wantStatus: 404},
		} {
			sc.run(t, srv)
		}
	})
}
