package web

import (
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"custos/internal/httpx"
	"custos/internal/store"
	"custos/internal/testdb"
	tm "custos/internal/testmatrix"
)

// TestFieldRuleCanary requests every GET route of the web pages — lists,
// searches by every canary value and by name, details, edit and conversion
// forms, the recycle bins with deleted records, approval requests carrying
// new values, timelines, pickers — as a user whose role hides every
// sensitive field of customers, contacts and leads, and as one whose role
// masks them: no canary value may appear on any page (the masked form may).
func TestFieldRuleCanary(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		c := tm.NewCanary(t, db)
		srv, err := New(c.Org.Svc, httpx.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		srv.Register(mux)
		h := httpx.Middleware(mux)
		var assets []string
		for name := range srv.assets.files {
			assets = append(assets, name)
		}
		for _, rule := range tm.CanaryUsers {
			requests, get := c.Sweep(rule, h, srv.Routes(), map[string][]string{"{path...}": assets})
			// The test sees the records: the customer (with its contact and
			// timeline), its approval request and the deleted contact; the
			// auditor sees the trail of their creation.
			id := func(key string) string { return strconv.FormatInt(c.IDs[key], 10) }
			if rule == tm.CanaryAuditor {
				if code, body := get("/history/customer/" + id("customer")); code != http.StatusOK || !strings.Contains(body, "customer.create") {
					t.Errorf("the auditor does not see the customer's history (%d): %s", code, body)
				}
				t.Logf("%s: %d GET requests", rule, requests)
				continue
			}
			code, page := get("/customers/" + id("customer"))
			if code != http.StatusOK || !strings.Contains(page, "/contacts/"+id("contact")) {
				t.Errorf("%s: the customer page (%d) does not show its contact: %s", rule, code, page)
			}
			if rule == tm.CanaryMasked && !strings.Contains(page, c.MaskedForms()[0]) {
				t.Errorf("%s: the customer's phone is not shown masked", rule)
			}
			for _, p := range []string{"/approvals/" + id("approval_customer"), "/contacts/" + id("contact") + "/edit", "/leads/" + id("lead") + "/convert"} {
				if code, body := get(p); code != http.StatusOK {
					t.Errorf("%s: %s answers %d: %s", rule, p, code, body)
				}
			}
			// A contract's amount is a number: masked, it is withheld, not shown as zero.
			code, page = get("/contracts/" + id("contract"))
			if code != http.StatusOK || strings.Contains(page, "20.00") || rule == tm.CanaryMasked && !strings.Contains(page, `class="masked"`) {
				t.Errorf("%s: the contract page (%d) does not withhold the amount: %s", rule, code, page)
			}
			if _, body := get("/contracts"); !strings.Contains(body, "金丝雀合同") || strings.Contains(body, "20.00") {
				t.Errorf("%s: the contract list does not show the contract without its amount: %s", rule, body)
			}
			// A campaign's records of each object, named by the reader's rules.
			for _, o := range []string{"customer", "contact", "lead"} {
				path := "/quality/campaigns/" + id("campaign") + "/records?object=" + o
				code, body := get(path)
				c.Check(rule, "campaign records", path, body)
				if code != http.StatusOK || !strings.Contains(body, id(o)) {
					t.Errorf("%s: %s answers %d without the %s: %s", rule, path, code, o, body)
				}
			}
			if _, body := get("/recycle-bin/contacts"); !strings.Contains(body, "/recycle-bin/contacts/"+id("deleted_contact")+"/restore") {
				t.Errorf("%s: the deleted contact is not in the recycle bin", rule)
			}
			c.CheckComparisons(rule, get, "/duplicates/")
			// Filters and sorts by a ruled field are refused, naming it.
			c.CheckFilters(rule, get, []tm.FilterProbe{
				{Path: "/customers?level=A", Field: "level"},
				{Path: "/customers?status=active", Field: "status"},
				{Path: "/customers?sort=name", Field: "sort"},
				{Path: "/pool?sort=name", Field: "sort"},
				{Path: "/opportunities?sort=amount", Field: "sort"},
				{Path: "/contracts?sort=amount", Field: "sort"},
			}, func(p tm.FilterProbe) string {
				if p.Field == "sort" {
					return "cannot sort by"
				}
				return "cannot be filtered on"
			})
			t.Logf("%s: %d GET requests", rule, requests)
		}
	})
}
