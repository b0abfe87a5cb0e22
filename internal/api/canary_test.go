package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"custos/internal/api"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/store"
	"custos/internal/testdb"
	tm "custos/internal/testmatrix"
)

// TestFieldRuleCanary requests every GET route of the API — lists,
// searches by every canary value and by name, details, the recycle bins
// with deleted records, approval requests carrying new values, timelines —
// as a user whose role hides every sensitive field of customers, contacts
// and leads, and as one whose role masks them: no canary value may appear
// in any answer (the masked form may).
func TestFieldRuleCanary(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		c := tm.NewCanary(t, db)
		a := api.New(c.Org.Svc, httpx.Config{}, nil)
		mux := http.NewServeMux()
		a.Register(mux)
		h := httpx.Middleware(mux)
		for _, rule := range tm.CanaryUsers {
			requests, get := c.Sweep(rule, h, a.Routes(), map[string][]string{"{name}": crm.Reports})
			// The test sees the records: the customer, its approval request
			// and the deleted contact are there, shaped; the auditor sees the
			// trail of their creation.
			id := func(key string) string { return strconv.FormatInt(c.IDs[key], 10) }
			if rule == tm.CanaryAuditor {
				if code, body := get("/api/v1/audit-events?object=customer&record_id=" + id("customer")); code != http.StatusOK ||
					!strings.Contains(body, `"customer.create"`) {
					t.Errorf("the auditor does not see the customer's creation in the trail (%d): %s", code, body)
				}
				t.Logf("%s: %d GET requests", rule, requests)
				continue
			}
			for _, p := range []string{"/api/v1/customers/" + id("customer"), "/api/v1/approvals/" + id("approval_customer"),
				"/api/v1/contacts/" + id("contact"), "/api/v1/leads/" + id("lead")} {
				if code, body := get(p); code != http.StatusOK {
					t.Errorf("%s: %s answers %d: %s", rule, p, code, body)
				}
			}
			// A campaign's records of each object, named by the reader's rules.
			for _, o := range []string{"customer", "contact", "lead"} {
				path := "/api/v1/quality/campaigns/" + id("campaign") + "/records?object=" + o
				code, body := get(path)
				c.Check(rule, "campaign records", path, body)
				if code != http.StatusOK || !strings.Contains(body, id(o)) {
					t.Errorf("%s: %s answers %d without the %s: %s", rule, path, code, o, body)
				}
			}
			if _, body := get("/api/v1/recycle-bin/contacts"); !strings.Contains(body, `"id":`+id("deleted_contact")) {
				t.Errorf("%s: the deleted contact is not in the recycle bin: %s", rule, body)
			}
			if _, body := get("/api/v1/customers/" + id("customer")); rule == tm.CanaryMasked && !strings.Contains(body, c.MaskedForms()[0]) {
				t.Errorf("%s: the customer's phone is not shown masked: %s", rule, body)
			}
			c.CheckComparisons(rule, get, "/api/v1/duplicates/")
			// Filters and sorts by a ruled field are refused, naming it.
			c.CheckFilters(rule, get, []tm.FilterProbe{
				{Path: "/api/v1/customers?level=A", Field: "level"},
				{Path: "/api/v1/customers?status=active", Field: "status"},
				{Path: "/api/v1/customers?sort=name", Field: "sort"},
				{Path: "/api/v1/customers?custom.canary=x", Field: "custom.canary"},
				{Path: "/api/v1/pool?sort=name", Field: "sort"},
				{Path: "/api/v1/recycle-bin/customers?level=B", Field: "level"},
				{Path: "/api/v1/contacts?custom.canary=x", Field: "custom.canary"},
				{Path: "/api/v1/leads?custom.canary=x", Field: "custom.canary"},
				{Path: "/api/v1/opportunities?sort=amount", Field: "sort"},
				{Path: "/api/v1/contracts?sort=amount", Field: "sort"},
				{Path: "/api/v1/reports/funnel?level=A", Field: "level"},
			}, func(p tm.FilterProbe) string { return `"field":"` + p.Field + `"` })
			t.Logf("%s: %d GET requests", rule, requests)
		}
	})
}
