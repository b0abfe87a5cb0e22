package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// qualityWorld is a small organisation with customers whose completeness
// is known by hand (of the ten default fields):
//
//	rep1: full (10/10 = 100), phoneOnly (name + phone: 20)
//	rep2: bare (name only: 10, no way to reach it)
//	rep3: badCode (name + e-mail + a credit code with a wrong check
//	      character, written under the store as an older release or a
//	      database edit could have: 30, invalid)
type qualityWorld struct {
	o                              *testorg.Org
	clock                          *testorg.Clock
	full, phoneOnly, bare, badCode crm.Customer
}

func newQualityWorld(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) *qualityWorld {
	t.Helper()
	clock := testorg.NewClock()
	w := &qualityWorld{clock: clock, o: testorg.NewWithClock(t, db, clock)}
	o := w.o
	w.full = o.Customer(t, o.Rep1, crm.CustomerFields{Name: "厦门鹭岛食品有限公司", Phone: "0592-5551234", Email: "info@ludao.example",
		Industry: "食品", Province: "福建", City: "厦门", Address: "思明区湖滨南路 1 号", CreditCode: "91350100M000100Y43", Level: "A", Source: "referral"})
	w.phoneOnly = o.Customer(t, o.Rep1, crm.CustomerFields{Name: "泉州海丝贸易", Phone: "0595-22881234"})
	w.bare = o.Customer(t, o.Rep2, crm.CustomerFields{Name: "漳州无名商行"})
	w.badCode = o.Customer(t, o.Rep3, crm.CustomerFields{Name: "成都华信物流", Email: "hx@example.com", CreditCode: "91110108MA01ABCD1E"})
	raw := testdb.Raw(t, d, opt)
	if _, err := raw.Exec("UPDATE customers SET credit_code = '91110108MA01ABCD1X' WHERE id = $1", w.badCode.ID); err != nil {
		t.Fatal(err)
	}
	return w
}

// figures finds an object's figures in a report.
func figures(t *testing.T, rep service.QualityReport, o crm.Object) service.QualityObject {
	t.Helper()
	for _, qo := range rep.Objects {
		if qo.Object == o {
			return qo
		}
	}
	t.Fatalf("no %s in the report: %+v", o, rep)
	return service.QualityObject{}
}

func group(gs []service.QualityGroup, id int64) (service.QualityGroup, bool) {
	for _, g := range gs {
		if g.ID == id {
			return g, true
		}
	}
	return service.QualityGroup{}, false
}

func TestQualityScoresAndScope(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		ctx := context.Background()
		w := newQualityWorld(t, d, opt, db)
		o := w.o

		rep, err := o.Svc.QualityReport(ctx, o.Admin)
		if err != nil {
			t.Fatal(err)
		}
		if rep.StaleDays != crm.DefaultStaleDays {
			t.Errorf("stale days = %d", rep.StaleDays)
		}
		c := figures(t, rep, crm.ObjCustomer)
		// (100 + 20 + 10 + 30) / 4 = 40.
		if c.Total.Records != 4 || c.Total.Completeness != 40 || c.Total.Incomplete != 1 || c.Total.Invalid != 1 || c.Total.Stale != 0 {
			t.Errorf("total = %+v", c.Total)
		}
		if g, _ := group(c.Owners, o.Rep1.UserID); g.Records != 2 || g.Completeness != 60 || g.Name != "User rep1" {
			t.Errorf("rep1 = %+v", g)
		}
		// East-1 holds rep1 and rep2: (100 + 20 + 10) / 3 = 43.3.
		if g, _ := group(c.Departments, o.East1.ID); g.Records != 3 || g.Completeness != 43.3 || g.Incomplete != 1 {
			t.Errorf("East-1 = %+v", g)
		}
		if g, _ := group(c.Owners, o.Rep3.UserID); g.Completeness != 30 || g.Invalid != 1 {
			t.Errorf("rep3 = %+v", g)
		}

		// A rep sees their own; a manager their subtree.
		mine, err := o.Svc.QualityReport(ctx, o.Rep1)
		if err != nil {
			t.Fatal(err)
		}
		if c := figures(t, mine, crm.ObjCustomer); len(c.Owners) != 1 || c.Owners[0].ID != o.Rep1.UserID || c.Total.Records != 2 {
			t.Errorf("rep1's report = %+v", c)
		}
		east, err := o.Svc.QualityReport(ctx, o.MgrEast)
		if err != nil {
			t.Fatal(err)
		}
		if c := figures(t, east, crm.ObjCustomer); c.Total.Records != 3 {
			t.Errorf("the east manager's report = %+v", c)
		} else if _, ok := group(c.Owners, o.Rep3.UserID); ok {
			t.Error("the east manager sees rep3")
		}

		// Drill-down: within scope, named, audited like a list.
		recs, err := o.Svc.QualityRecords(ctx, o.MgrEast, service.QualityQuery{Object: crm.ObjCustomer, Issue: crm.IssueIncomplete})
		if err != nil || len(recs.Items) != 1 || recs.Items[0].ID != w.bare.ID || recs.Items[0].Name != "漳州无名商行" || recs.Items[0].Score != 10 {
			t.Fatalf("east incomplete = %+v %v", recs, err)
		}
		if recs, _ := o.Svc.QualityRecords(ctx, o.MgrEast, service.QualityQuery{Object: crm.ObjCustomer, Issue: crm.IssueInvalid}); len(recs.Items) != 0 {
			t.Errorf("the east manager drills into rep3's record: %+v", recs)
		}
		all, err := o.Svc.QualityRecords(ctx, o.Admin, service.QualityQuery{Object: crm.ObjCustomer, Issue: crm.IssueAll, Limit: 3})
		if err != nil || len(all.Items) != 3 || all.Next == 0 {
			t.Fatalf("first page = %+v %v", all, err)
		}
		events, err := o.Svc.AuditTrail(ctx, o.Admin, service.AuditQuery{Action: "quality.list"})
		if err != nil || len(events.Items) == 0 || len(events.Items[0].RecordIDs) == 0 {
			t.Errorf("drill-down audit = %+v %v", events, err)
		}
		_, err = o.Svc.QualityRecords(ctx, o.Admin, service.QualityQuery{Object: crm.ObjTask})
		wantCode(t, err, crm.Invalid)

		// After the window everyone is stale, until followed up.
		w.clock.Advance(31 * 24 * time.Hour)
		if _, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "call", Content: "回访", CustomerID: w.full.ID}); err != nil {
			t.Fatal(err)
		}
		rep, _ = o.Svc.QualityReport(ctx, o.Admin)
		if c := figures(t, rep, crm.ObjCustomer); c.Total.Stale != 3 {
			t.Errorf("stale after the window = %+v", c.Total)
		}

		// Weights are the administrator's: only the name and the phone.
		err = o.Svc.SaveQualitySettings(ctx, o.Admin, crm.QualitySettings{StaleDays: 60,
			Weights: map[crm.Object][]crm.QualityWeight{crm.ObjCustomer: {{Field: "name", Weight: 1}, {Field: "phone", Weight: 3}}}})
		if err != nil {
			t.Fatal(err)
		}
		rep, _ = o.Svc.QualityReport(ctx, o.Admin)
		// full 100, phoneOnly 100, bare 25, badCode 25; nobody stale at 60 days.
		if c := figures(t, rep, crm.ObjCustomer); c.Total.Completeness != 62.5 || c.Total.Stale != 0 {
			t.Errorf("with the administrator's weights = %+v", c.Total)
		}
		err = o.Svc.SaveQualitySettings(ctx, o.Admin, crm.QualitySettings{StaleDays: 0,
			Weights: map[crm.Object][]crm.QualityWeight{crm.ObjCustomer: {{Field: "last_followed_up_at", Weight: 1}}}})
		var ce *crm.Error
		if !errorsAs(err, &ce) || len(ce.Fields) != 2 {
			t.Errorf("bad settings = %v", err)
		}
		wantCode(t, o.Svc.SaveQualitySettings(ctx, o.MgrEast, crm.QualitySettings{StaleDays: 10}), crm.Forbidden)
		_, err = o.Svc.QualityReport(ctx, o.User(t, "auditor1", o.HQ.ID, "auditor"))
		wantCode(t, err, crm.Forbidden)
	})
}

// openFixups lists a user's open tasks that are fix-ups.
func openFixups(t *testing.T, o *testorg.Org, a *access.Actor) []crm.Task {
	t.Helper()
	return openTasksAbout(t, o, a, "/customers/")
}

// openTasksAbout lists a user's open tasks whose notes link to a page
// under prefix.
func openTasksAbout(t *testing.T, o *testorg.Org, a *access.Actor, prefix string) []crm.Task {
	t.Helper()
	tasks, err := o.Svc.ListTasks(context.Background(), a, service.TaskFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []crm.Task
	for _, k := range tasks {
		if strings.HasPrefix(k.Notes, prefix) {
			out = append(out, k)
		}
	}
	return out
}

func TestFixupTasks(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		ctx := context.Background()
		w := newQualityWorld(t, d, opt, db)
		o := w.o
		_, err := o.Svc.PushFixupTasks(ctx, o.Rep1)
		wantCode(t, err, crm.Forbidden)

		run, err := o.Svc.PushFixupTasks(ctx, o.Admin)
		if err != nil || run.Created != 2 || run.Closed != 0 {
			t.Fatalf("first run = %+v %v", run, err)
		}
		k := openFixups(t, o, o.Rep2)
		if len(k) != 1 || k[0].CustomerID != w.bare.ID {
			t.Fatalf("rep2's fix-ups = %+v", k)
		}
		if len(openFixups(t, o, o.Rep3)) != 1 || len(openFixups(t, o, o.Rep1)) != 0 {
			t.Error("rep3 should have one fix-up, rep1 none")
		}
		// Again: nothing new, at most one open fix-up per record and problem.
		if run, err := o.Svc.PushFixupTasks(ctx, access.System("quality fix-ups")); err != nil || run != (service.FixupRun{}) {
			t.Fatalf("second run = %+v %v", run, err)
		}
		// A task closed by hand stays the record's fix-up until it is fixed.
		if err := o.Svc.SetTaskDone(ctx, o.Rep3, openFixups(t, o, o.Rep3)[0].ID, true); err != nil {
			t.Fatal(err)
		}
		if run, _ := o.Svc.PushFixupTasks(ctx, o.Admin); run.Created != 0 {
			t.Errorf("a fix-up closed by hand came back: %+v", run)
		}

		// rep2 fixes the record: the next run closes the task.
		email := "contact@wuming.example"
		if _, err := o.Svc.UpdateCustomer(ctx, o.Rep2, w.bare.ID, crm.CustomerUpdate{Version: w.bare.Version, Email: &email}); err != nil {
			t.Fatal(err)
		}
		if run, err := o.Svc.PushFixupTasks(ctx, o.Admin); err != nil || run.Closed != 1 || run.Created != 0 {
			t.Fatalf("after the fix = %+v %v", run, err)
		}
		if k := openFixups(t, o, o.Rep2); len(k) != 0 {
			t.Errorf("rep2's fix-up is still open: %+v", k)
		}
		events, err := o.Svc.AuditTrail(ctx, o.Admin, service.AuditQuery{Action: "task.done"})
		if err != nil || len(events.Items) == 0 || events.Items[0].ActorName != "quality fix-ups" {
			t.Errorf("closing audited as the job = %+v %v", events, err)
		}

		// Past the window every record is stale: one task each.
		w.clock.Advance(31 * 24 * time.Hour)
		if run, _ := o.Svc.PushFixupTasks(ctx, o.Admin); run.Created != 4 {
			t.Errorf("stale run = %+v", run)
		}
		if k := openFixups(t, o, o.Rep1); len(k) != 2 {
			t.Errorf("rep1's stale fix-ups = %+v", k)
		}
	})
}

// TestFixupTasksRace: two runs at once (two instances on one PostgreSQL)
// create each fix-up once; the key settles it, not a prior read.
func TestFixupTasksRace(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		w := newQualityWorld(t, d, opt, db)
		other := service.New(db, service.Options{Argon2: testorg.CheapArgon, Vault: w.o.Vault, Now: w.clock.Now})
		runs := make(chan service.FixupRun, 2)
		errs := make(chan error, 2)
		for _, svc := range []*service.Service{w.o.Svc, other} {
			go func() {
				run, err := svc.PushFixupTasks(context.Background(), access.System("quality fix-ups"))
				runs <- run
				errs <- err
			}()
		}
		created := 0
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
			created += (<-runs).Created
		}
		if created != 2 || len(openFixups(t, w.o, w.o.Rep2)) != 1 || len(openFixups(t, w.o, w.o.Rep3)) != 1 {
			t.Fatalf("created %d fix-ups, want 2, one each", created)
		}
	})
}
