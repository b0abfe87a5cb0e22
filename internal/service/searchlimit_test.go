package service_test

import (
	"context"
	"testing"
	"time"

	"custos/internal/crm"
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
		if _, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "马超", Mobile: "13512345678"}); err != nil {
			t.Fatal(err)
		}
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
