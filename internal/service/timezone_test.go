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

// TestTimeZone stores a user's time zone, refuses names that are no IANA
// zone, and answers each actor's location: their own, else the
// organisation's default.
func TestTimeZone(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		for _, bad := range []string{"Mars/Olympus", "Local", "../etc/passwd", "+08:00"} {
			err := o.Svc.SetTimeZone(ctx, o.Rep1, bad)
			var ce *crm.Error
			if !errorsAs(err, &ce) || ce.Code != crm.Invalid || len(ce.Fields) != 1 || ce.Fields[0].Field != "time_zone" {
				t.Errorf("time zone %q: %v, want a time_zone field error", bad, err)
			}
		}
		if err := o.Svc.SetTimeZone(ctx, o.Rep1, " Asia/Shanghai "); err != nil {
			t.Fatal(err)
		}
		rep1 := testorg.Actor(t, o.Svc, o.Rep1.UserID)
		if rep1.TimeZone != "Asia/Shanghai" || o.Svc.Location(rep1).String() != "Asia/Shanghai" {
			t.Fatalf("rep1's zone: %q, location %v", rep1.TimeZone, o.Svc.Location(rep1))
		}
		if me, _ := o.Svc.Me(ctx, rep1); me.TimeZone != "Asia/Shanghai" {
			t.Errorf("Me: %+v", me)
		}
		// An administrator's edit of the user keeps the user's own choice.
		if _, err := o.Svc.UpdateUser(ctx, o.Admin, rep1.UserID, service.UserUpdate{DisplayName: ptr("Rep One")}); err != nil {
			t.Fatal(err)
		}
		if me, _ := o.Svc.Me(ctx, rep1); me.TimeZone != "Asia/Shanghai" {
			t.Errorf("after an admin edit: %+v", me)
		}
		// Without a choice, the default: the server's own zone, or the
		// organisation's configured one.
		if loc := o.Svc.Location(o.Rep2); loc != time.Local {
			t.Errorf("rep2 without a choice: %v, want the server's zone", loc)
		}
		ny, err := service.LoadTimeZone("America/New_York")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := service.LoadTimeZone("Nowhere/City"); err == nil {
			t.Error("LoadTimeZone accepted an unknown zone")
		}
		if loc, err := service.LoadTimeZone(""); err != nil || loc != time.Local {
			t.Errorf("empty default: %v %v", loc, err)
		}
		org := service.New(db, service.Options{Vault: testorg.NewVault(t), Argon2: testorg.CheapArgon, TimeZone: ny})
		if org.Location(o.Rep2).String() != "America/New_York" || org.Location(rep1).String() != "Asia/Shanghai" {
			t.Errorf("with an organisation default: rep2 %v, rep1 %v", org.Location(o.Rep2), org.Location(rep1))
		}
		// Clearing the choice follows the default again.
		if err := o.Svc.SetTimeZone(ctx, rep1, ""); err != nil {
			t.Fatal(err)
		}
		if a := testorg.Actor(t, org, rep1.UserID); a.TimeZone != "" || org.Location(a).String() != "America/New_York" {
			t.Errorf("after clearing: %q %v", a.TimeZone, org.Location(a))
		}
	})
}
