package service_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// replay writes events as if users had acted at the given times.
func replay(t *testing.T, db *store.DB, events []crm.AuditEvent) {
	t.Helper()
	err := db.WriteTx(context.Background(), func(tx *store.Tx) error {
		for i := range events {
			if err := tx.InsertAuditEvent(context.Background(), &events[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func burst(n int, e crm.AuditEvent, vary func(i int, e *crm.AuditEvent)) []crm.AuditEvent {
	out := make([]crm.AuditEvent, n)
	for i := range out {
		out[i] = e
		if vary != nil {
			vary(i, &out[i])
		}
	}
	return out
}

func as(a *access.Actor, kind string, at time.Time, action string) crm.AuditEvent {
	return crm.AuditEvent{At: at, ActorKind: kind, ActorID: a.UserID, ActorName: a.Name, Action: action, Outcome: "ok", IP: "10.0.0.5"}
}

func TestAnomalyAlerts(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testorg.NewClock()
		day := time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)
		clock.Set(day)
		o := testorg.NewWith(t, db, service.Options{Argon2: testorg.CheapArgon, Now: clock.Now, TimeZone: time.UTC})
		views := func(a *access.Actor, n int, at time.Time) []crm.AuditEvent {
			return burst(n, as(a, "user", at, "customer.view"), func(i int, e *crm.AuditEvent) {
				e.Object, e.RecordID = string(crm.ObjCustomer), int64(i+1)
			})
		}
		// An ordinary working morning: nothing fires.
		replay(t, db, append(append(append(views(o.Rep1, 60, day.Add(-20*time.Minute)),
			burst(5, as(o.Rep1, "user", day.Add(-10*time.Minute), "search.phone"), nil)...),
			burst(3, crm.AuditEvent{At: day.Add(-5 * time.Minute), ActorKind: "user", ActorName: "rep2", Action: "login.failed", Outcome: "denied"}, nil)...),
			as(o.Rep1, "user", day.Add(-30*24*time.Hour), "login"), as(o.Rep1, "user", day.Add(-2*time.Minute), "login")))
		if raised, err := o.Svc.EvaluateAlerts(ctx); err != nil || len(raised) != 0 {
			t.Fatalf("normal use raised alerts: %v %+v", err, raised)
		}

		// Sensitive searches suspend the user, as configured.
		o.StepUp(t, o.Admin)
		if err := o.Svc.SaveAlertRule(ctx, o.Admin, service.AlertRule{Key: "sensitive_search", Enabled: true, Threshold: 20, Suspend: true}); err != nil {
			t.Fatal(err)
		}
		night := time.Date(2026, 11, 23, 23, 30, 0, 0, time.UTC)
		clock.Set(night)
		at := night.Add(-15 * time.Minute)
		token := as(o.Rep1, "token", at, "customer.list")
		replay(t, db, slices.Concat(
			views(o.Rep1, 201, at), // mass viewing, and after hours
			burst(21, as(o.Rep2, "user", at, "search.phone"), nil),
			burst(11, crm.AuditEvent{At: at, ActorKind: "user", ActorName: "rep3", ActorID: o.Rep3.UserID, Action: "login.failed", Outcome: "denied"}, nil),
			[]crm.AuditEvent{func() crm.AuditEvent { e := as(o.Rep1, "user", at, "login"); e.IP = "203.0.113.9"; return e }()},
			burst(501, token, nil),
		))
		raised, err := o.Svc.EvaluateAlerts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, al := range raised {
			got[al.Rule] = al.UserID
		}
		want := map[string]int64{"mass_view": o.Rep1.UserID, "sensitive_search": o.Rep2.UserID, "failed_signin": o.Rep3.UserID,
			"new_network": o.Rep1.UserID, "after_hours": o.Rep1.UserID, "api_burst": o.Rep1.UserID}
		for rule, user := range want {
			if got[rule] != user {
				t.Errorf("rule %s: fired for %d, want %d (all: %+v)", rule, got[rule], user, raised)
			}
		}
		if _, err := o.Svc.UserActor(ctx, o.Rep2.UserID); err == nil {
			t.Fatal("the suspending rule did not disable rep2")
		}
		if _, err := o.Svc.UserActor(ctx, o.Rep1.UserID); err != nil {
			t.Fatalf("a rule without suspend disabled rep1: %v", err)
		}
		// Evaluating again in the same hour raises nothing new.
		if again, err := o.Svc.EvaluateAlerts(ctx); err != nil || len(again) != 0 {
			t.Fatalf("duplicate alerts: %v %+v", err, again)
		}
		open, err := o.Svc.SecurityAlerts(ctx, o.Admin, "open")
		if err != nil || len(open) != 6 {
			t.Fatalf("open alerts: %v %d", err, len(open))
		}
		if _, err := o.Svc.SecurityAlerts(ctx, o.Rep1, ""); !crm.IsCode(err, crm.Forbidden) {
			t.Fatalf("a rep reads the alerts: %v", err)
		}
		if err := o.Svc.ReviewAlert(ctx, o.Admin, open[0].ID); err != nil {
			t.Fatal(err)
		}
		if open, _ := o.Svc.SecurityAlerts(ctx, o.Admin, "open"); len(open) != 5 {
			t.Fatalf("after review: %d open", len(open))
		}
		if ev, _ := listEvents(db, "user.suspend"); len(ev) != 1 || ev[0].ActorKind != "system" {
			t.Fatalf("suspension not audited as the job: %+v", ev)
		}

		// With no event since the last evaluation nothing is judged again,
		// even in a new clock hour whose window still holds the burst (an
		// idle server reads one page a minute); the next event is.
		if again, err := o.Svc.EvaluateAlerts(ctx); err != nil || len(again) != 0 {
			t.Fatalf("after review: %v %+v", err, again)
		}
		clock.Set(night.Add(35 * time.Minute))
		if again, err := o.Svc.EvaluateAlerts(ctx); err != nil || len(again) != 0 {
			t.Fatalf("nothing happened, yet alerts were raised again: %v %+v", err, again)
		}
		replay(t, db, views(o.Rep1, 1, night.Add(34*time.Minute)))
		again, err := o.Svc.EvaluateAlerts(ctx)
		if err != nil || !slices.ContainsFunc(again, func(al crm.SecurityAlert) bool { return al.Rule == "mass_view" && al.UserID == o.Rep1.UserID }) {
			t.Fatalf("a new view in the new hour: %v %+v", err, again)
		}
	})
}
