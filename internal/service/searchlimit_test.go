package service_test

import (
	"context"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestSensitiveSearchLimit: searches by a phone or e-mail — global or in a
// list — share an hourly allowance per actor; past it they are refused (and
// the refusal audited) while name searches go on; an hour later the door
// opens again.
func TestSensitiveSearchLimit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
		o := testorg.NewWith(t, db, service.Options{Argon2: testorg.CheapArgon, SensitiveSearchesPerHour: 3, Now: func() time.Time { return now }})
		// The contact is entered two hours earlier, outside this hour's
		// window, so only the searches below weigh.
		now = now.Add(-2 * time.Hour)
		if _, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "马超", Mobile: "13512345678"}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(2 * time.Hour)
		if _, err := o.Svc.Search(ctx, o.Rep1, "13512345678", 10); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.ListContacts(ctx, o.Rep1, crm.ListFilter{Query: "135 1234 5679"}); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.Search(ctx, o.Rep1, "mc@example.com", 10); err != nil {
			t.Fatal(err)
		}
		_, err := o.Svc.ListContacts(ctx, o.Rep1, crm.ListFilter{Query: "13512345670"})
		wantKey(t, err, crm.RateLimited, "search_limit")
		_, err = o.Svc.Search(ctx, o.Rep1, "13512345671", 10)
		wantKey(t, err, crm.RateLimited, "search_limit")
		if res, err := o.Svc.Search(ctx, o.Rep1, "马超", 10); err != nil || len(res.Contacts) != 1 {
			t.Errorf("name search past the limit: %v %+v", err, res)
		}
		if _, err := o.Svc.Search(ctx, o.Rep2, "13512345678", 10); err != nil {
			t.Errorf("another user's allowance: %v", err)
		}
		trail, err := o.Svc.AuditTrail(ctx, o.Admin, service.AuditQuery{ActorID: o.Rep1.UserID, Outcome: "denied"})
		if err != nil || len(trail.Items) != 2 || trail.Items[0].Action != "search.phone" {
			t.Errorf("refusals in the audit trail: %v %+v", err, trail.Items)
		}
		now = now.Add(61 * time.Minute)
		if _, err := o.Svc.Search(ctx, o.Rep1, "13512345678", 10); err != nil {
			t.Errorf("an hour later: %v", err)
		}
	})
}

// TestEntryDuplicateCheckIsALookup: the duplicate check at entry (撞单)
// answers "this phone exists, owned by X" for the whole organisation, so a
// check by a phone, e-mail or credit code is audited by kind — a duplicate
// found too, though the refused create rolls back — and one that finds a
// duplicate counts toward the sensitive-search limit. Past the limit a create with a phone is refused with
// the limit's 429 and nothing is written; an edit keeping its phone and a
// create without one look nothing up.
func TestEntryDuplicateCheckIsALookup(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
		o := testorg.NewWith(t, db, service.Options{Argon2: testorg.CheapArgon, SensitiveSearchesPerHour: 3, Now: func() time.Time { return now }})
		if _, err := o.Svc.CreateCustomer(ctx, o.Rep2, service.CustomerInput{CustomerFields: crm.CustomerFields{Name: "别人的客户", Phone: "13900001111"}}); err != nil {
			t.Fatal(err)
		}
		// 1: a duplicate found.
		_, err := o.Svc.CreateCustomer(ctx, o.Rep1, service.CustomerInput{CustomerFields: crm.CustomerFields{Name: "试探一", Phone: "139 0000 1111"}})
		wantCode(t, err, crm.Duplicate)
		// Audited, not counted: a new mobile (no duplicate: the contact is
		// written under rep1's name). Not even audited: an edit keeping the
		// mobile, a create without a phone.
		ct, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "张三", Mobile: "13900002222"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.UpdateContact(ctx, o.Rep1, ct.ID, crm.ContactUpdate{Version: ct.Version, Title: ptr("经理")}); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.CreateCustomer(ctx, o.Rep1, service.CustomerInput{CustomerFields: crm.CustomerFields{Name: "无电话"}}); err != nil {
			t.Fatal(err)
		}
		// 2: a search by phone; 3: a contact whose mobile is the customer's phone.
		if _, err := o.Svc.Search(ctx, o.Rep1, "13900003333", 10); err != nil {
			t.Fatal(err)
		}
		_, err = o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "试探", Mobile: "13900001111"})
		wantCode(t, err, crm.Duplicate)
		// Past the limit: refused as the limit, not answered as a duplicate.
		_, err = o.Svc.CreateCustomer(ctx, o.Rep1, service.CustomerInput{CustomerFields: crm.CustomerFields{Name: "试探二", Phone: "13900001111"}})
		wantKey(t, err, crm.RateLimited, "search_limit")
		if got := httpx.Status(err); got != http.StatusTooManyRequests {
			t.Errorf("status %d, want 429", got)
		}
		_, err = o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "李四", Company: "某公司", Email: "li@example.com"})
		wantKey(t, err, crm.RateLimited, "search_limit")
		page, err := o.Svc.ListCustomers(ctx, o.Rep1, crm.CustomerFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Items {
			if c.Name == "试探二" {
				t.Fatal("a create refused by the limit was written")
			}
		}
		if _, err := o.Svc.CreateCustomer(ctx, o.Rep1, service.CustomerInput{CustomerFields: crm.CustomerFields{Name: "仍无电话"}}); err != nil {
			t.Errorf("a create without a phone past the limit: %v", err)
		}

		trail, err := o.Svc.AuditTrail(ctx, o.Admin, service.AuditQuery{ActorID: o.Rep1.UserID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, e := range trail.Items {
			if strings.Contains(e.Action, "entry_check") {
				got[e.Action+" "+e.Outcome]++
				if strings.Contains(string(e.Fields), "1111") || strings.Contains(string(e.Fields), "example.com") {
					t.Errorf("the value in the audit trail: %s", e.Fields)
				}
			}
		}
		want := map[string]int{"customer.entry_check.phone ok": 1, "contact.entry_check_clear.phone ok": 1, "contact.entry_check.phone ok": 1,
			"customer.entry_check.phone denied": 1, "lead.entry_check.email denied": 1}
		if !maps.Equal(got, want) {
			t.Errorf("entry checks in the audit trail: %v, want %v", got, want)
		}
		now = now.Add(61 * time.Minute)
		_, err = o.Svc.CreateCustomer(ctx, o.Rep1, service.CustomerInput{CustomerFields: crm.CustomerFields{Name: "试探三", Phone: "13900001111"}})
		wantCode(t, err, crm.Duplicate)
	})
}
