package service_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/i18n"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestQualityDuplicates: a record counts as a possible duplicate only when
// the reader may see the other record of its pair, so neither the figure
// nor the drill-down tells of a hidden record. The scan's pairs are
// written under the service (the finder's own tests cover how it finds
// them): full–phoneOnly (both rep1's), bare–badCode (rep2's and rep3's),
// and full–bare dismissed.
func TestQualityDuplicates(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		ctx := context.Background()
		w := newQualityWorld(t, d, opt, db)
		o := w.o
		// Never scanned: nobody has possible duplicates.
		rep, err := o.Svc.QualityReport(ctx, o.Admin)
		if err != nil || figures(t, rep, crm.ObjCustomer).Total.Duplicates != 0 {
			t.Fatalf("before a scan = %+v %v", rep, err)
		}
		raw := testdb.Raw(t, d, opt)
		now := time.Now().UnixMilli()
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{"INSERT INTO dup_scans (id, object, status, threshold, started_at, finished_at) VALUES (1, 'customer', 'done', 0.8, $1, $1)", []any{now}},
			{"INSERT INTO dup_pairs (scan_id, object, id_a, id_b, score, reasons, status) VALUES (1, 'customer', $1, $2, 0.9, 'name', 'open')",
				[]any{w.full.ID, w.phoneOnly.ID}},
			{"INSERT INTO dup_pairs (scan_id, object, id_a, id_b, score, reasons, status) VALUES (1, 'customer', $1, $2, 0.9, 'name', 'open')",
				[]any{w.bare.ID, w.badCode.ID}},
			{"INSERT INTO dup_pairs (scan_id, object, id_a, id_b, score, reasons, status) VALUES (1, 'customer', $1, $2, 0.9, 'name', 'dismissed')",
				[]any{w.full.ID, w.bare.ID}},
		} {
			if _, err := raw.Exec(q.sql, q.args...); err != nil {
				t.Fatal(err)
			}
		}
		count := func(a *access.Actor) (total int, by map[int64]int) {
			t.Helper()
			rep, err := o.Svc.QualityReport(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			c := figures(t, rep, crm.ObjCustomer)
			by = map[int64]int{}
			for _, g := range c.Owners {
				by[g.ID] = g.Duplicates
			}
			for _, g := range c.Departments {
				by[-g.ID] = g.Duplicates
			}
			return c.Total.Duplicates, by
		}
		if n, by := count(o.Admin); n != 4 || by[o.Rep1.UserID] != 2 || by[o.Rep2.UserID] != 1 || by[-o.East1.ID] != 3 || by[-o.West.ID] != 1 {
			t.Errorf("the administrator's duplicates = %d %v", n, by)
		}
		// rep2 and both managers cannot see the other side of bare–badCode.
		for _, a := range []*access.Actor{o.Rep2, o.MgrWest} {
			if n, _ := count(a); n != 0 {
				t.Errorf("%s counts %d duplicates: the other record is hidden", a.Name, n)
			}
		}
		if n, by := count(o.MgrEast); n != 2 || by[o.Rep2.UserID] != 0 {
			t.Errorf("the east manager's duplicates = %d %v", n, by)
		}
		recs, err := o.Svc.QualityRecords(ctx, o.Rep2, service.QualityQuery{Object: crm.ObjCustomer, Issue: crm.IssueDuplicate})
		if err != nil || len(recs.Items) != 0 {
			t.Errorf("rep2 drills into a duplicate of a hidden record: %+v %v", recs, err)
		}
		recs, err = o.Svc.QualityRecords(ctx, o.Admin, service.QualityQuery{Object: crm.ObjCustomer, Issue: crm.IssueDuplicate, OwnerID: o.Rep1.UserID})
		if err != nil || len(recs.Items) != 2 || !recs.Items[0].Duplicate {
			t.Errorf("rep1's duplicates for the administrator = %+v %v", recs, err)
		}
		// A share lets rep2 see badCode: now the pair counts for them.
		if _, err := o.Svc.ShareRecord(ctx, o.Admin, crm.ObjCustomer, w.badCode.ID, service.ShareInput{UserID: o.Rep2.UserID, Level: "read"}); err != nil {
			t.Fatal(err)
		}
		if n, _ := count(testorg.Actor(t, o.Svc, o.Rep2.UserID)); n != 1 {
			t.Errorf("rep2 with the share counts %d duplicates, want 1", n)
		}
	})
}

// campaignTasks lists a user's open tasks of review campaigns.
func campaignTasks(t *testing.T, o *testorg.Org, a *access.Actor) []crm.Task {
	t.Helper()
	return openTasksAbout(t, o, a, "/quality/campaigns/")
}

func ownerGroup(rep service.CampaignReport, id int64) service.CampaignGroup {
	for _, g := range rep.Owners {
		if g.ID == id {
			return g
		}
	}
	return service.CampaignGroup{}
}

func TestCampaignStartScope(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		ctx := context.Background()
		w := newQualityWorld(t, d, opt, db)
		o := w.o
		start := crm.CampaignStart{Name: "Q1", Objects: []crm.Object{crm.ObjCustomer}, Selection: crm.SelectAll, DueAt: w.clock.Now().Add(14 * 24 * time.Hour)}

		// A sales rep (own records) may not start one; nor the auditor.
		_, err := o.Svc.StartCampaign(ctx, o.Rep1, start)
		wantCode(t, err, crm.Forbidden)
		_, err = o.Svc.StartCampaign(ctx, o.User(t, "auditor1", o.HQ.ID, "auditor"), start)
		wantCode(t, err, crm.Forbidden)

		// A manager only for their subtree.
		west := start
		west.DepartmentID = o.West.ID
		_, err = o.Svc.StartCampaign(ctx, o.MgrEast, west)
		var ce *crm.Error
		if !errorsAs(err, &ce) || ce.Code != crm.Invalid || ce.Fields[0].Field != "department_id" {
			t.Fatalf("the east manager starts a west campaign: %v", err)
		}
		east, err := o.Svc.StartCampaign(ctx, o.MgrEast, start)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := o.Svc.Campaign(ctx, o.Admin, east.ID)
		if err != nil || rep.Total != 3 || ownerGroup(rep, o.Rep3.UserID).Total != 0 || len(campaignTasks(t, o, o.Rep3)) != 0 {
			t.Fatalf("the east campaign = %+v %v", rep, err)
		}
		// A rep sees their own part; the west manager nothing of it.
		mine, err := o.Svc.Campaign(ctx, o.Rep1, east.ID)
		if err != nil || mine.Total != 2 || len(mine.Owners) != 1 {
			t.Errorf("rep1's part = %+v %v", mine, err)
		}
		if list, err := o.Svc.Campaigns(ctx, o.MgrWest); err != nil || len(list) != 0 {
			t.Errorf("the west manager lists %+v %v", list, err)
		}

		// Selections: below a score takes bare (10) and phoneOnly (20).
		below := start
		below.Selection, below.BelowScore = crm.SelectBelow, 25
		c, err := o.Svc.StartCampaign(ctx, o.Admin, below)
		if err != nil {
			t.Fatal(err)
		}
		if rep, _ := o.Svc.Campaign(ctx, o.Admin, c.ID); rep.Total != 2 || ownerGroup(rep, o.Rep2.UserID).Total != 1 {
			t.Errorf("below 25 = %+v", rep)
		}

		// Bad input names each field, in both languages.
		_, err = o.Svc.StartCampaign(ctx, o.Admin, crm.CampaignStart{Selection: "some", DueAt: w.clock.Now().Add(-time.Hour), RecurMonths: 99})
		if !errorsAs(err, &ce) || ce.Code != crm.Invalid {
			t.Fatalf("bad campaign = %v", err)
		}
		fields := map[string]bool{}
		for _, f := range ce.Fields {
			fields[f.Field] = true
			for _, lang := range []string{i18n.ZH, i18n.EN} {
				if msg := i18n.FieldMessage(lang, f); strings.Contains(msg, "field.") || strings.Contains(msg, "rule.") {
					t.Errorf("%s: untranslated %q", lang, msg)
				}
			}
		}
		for _, f := range []string{"name", "objects", "selection", "due_at", "recur_months"} {
			if !fields[f] {
				t.Errorf("no problem named %s: %v", f, ce.Fields)
			}
		}
		if msg := i18n.FieldMessage(i18n.ZH, crm.FieldError{Field: "department_id", Rule: "outside_scope"}); !strings.Contains(msg, "超出") {
			t.Errorf("zh outside_scope = %q", msg)
		}
	})
}

func TestCampaignReview(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		ctx := context.Background()
		w := newQualityWorld(t, d, opt, db)
		o := w.o
		c, err := o.Svc.StartCampaign(ctx, o.Admin, crm.CampaignStart{Name: "年度复核", Objects: []crm.Object{crm.ObjCustomer},
			Selection: crm.SelectAll, DueAt: w.clock.Now().Add(14 * 24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		// One task per owner, however often the job runs.
		for _, a := range []*access.Actor{o.Rep1, o.Rep2, o.Rep3} {
			if k := campaignTasks(t, o, a); len(k) != 1 {
				t.Fatalf("%s has %d campaign tasks", a.Name, len(k))
			}
		}
		if k := campaignTasks(t, o, o.Rep1)[0]; !strings.Contains(k.Title, "2") || !strings.Contains(k.Title, "年度复核") || k.DueAt == nil {
			t.Errorf("rep1's task = %+v", k)
		}
		if run, err := o.Svc.RunCampaigns(ctx, "one"); err != nil || run.Tasks.Created != 0 {
			t.Errorf("the job made more tasks: %+v %v", run, err)
		}

		// Confirm: only records in the campaign owned within the actor's
		// scope; another's is "not found", and nothing is marked.
		_, err = o.Svc.ConfirmReview(ctx, o.Rep2, c.ID, crm.ObjCustomer, []int64{w.bare.ID, w.full.ID})
		wantCode(t, err, crm.NotFound)
		if n, err := o.Svc.ConfirmReview(ctx, o.Rep1, c.ID, crm.ObjCustomer, []int64{w.full.ID}); err != nil || n != 1 {
			t.Fatalf("confirm = %d %v", n, err)
		}
		if n, err := o.Svc.ConfirmReview(ctx, o.Rep1, c.ID, crm.ObjCustomer, []int64{w.full.ID}); err != nil || n != 0 {
			t.Errorf("confirming again = %d %v", n, err)
		}
		_, err = o.Svc.ConfirmReview(ctx, o.Rep1, c.ID, crm.ObjTask, []int64{1})
		wantCode(t, err, crm.Invalid)

		// Correct: the normal edit marks the record reviewed; rep1 is done.
		phone := "0595-22889999"
		if _, err := o.Svc.UpdateCustomer(ctx, o.Rep1, w.phoneOnly.ID, crm.CustomerUpdate{Version: w.phoneOnly.Version, Phone: &phone}); err != nil {
			t.Fatal(err)
		}
		rep, err := o.Svc.Campaign(ctx, o.MgrEast, c.ID)
		if g := ownerGroup(rep, o.Rep1.UserID); err != nil || g.Total != 2 || g.Reviewed != 2 || rep.Total != 3 || rep.Reviewed != 2 {
			t.Fatalf("after confirm and correct = %+v %v", rep, err)
		}
		if k := campaignTasks(t, o, o.Rep1); len(k) != 0 {
			t.Errorf("rep1 is done but their task is open: %+v", k)
		}
		recs, err := o.Svc.CampaignRecords(ctx, o.Rep1, service.CampaignQuery{CampaignID: c.ID, Object: crm.ObjCustomer})
		if err != nil || len(recs.Items) != 2 || recs.Items[0].Outcome != crm.ReviewConfirmed || recs.Items[1].Outcome != crm.ReviewCorrected {
			t.Errorf("rep1's review list = %+v %v", recs, err)
		}
		events, err := o.Svc.AuditTrail(ctx, o.Admin, service.AuditQuery{Action: "customer.reviewed"})
		if err != nil || len(events.Items) != 2 {
			t.Errorf("reviews audited = %+v %v", events, err)
		}
		// Drill-down to the unreviewed records, within the reader's scope.
		left, err := o.Svc.CampaignRecords(ctx, o.MgrEast, service.CampaignQuery{CampaignID: c.ID, Object: crm.ObjCustomer, Unreviewed: true})
		if err != nil || len(left.Items) != 1 || left.Items[0].ID != w.bare.ID || left.Items[0].Name != "漳州无名商行" {
			t.Errorf("east unreviewed = %+v %v", left, err)
		}

		// Owner change: bare goes to rep1, who must now review it; rep2 is done.
		if err := o.Svc.TransferRecord(ctx, o.Admin, crm.ObjCustomer, w.bare.ID, o.Rep1.UserID, 0); err != nil {
			t.Fatal(err)
		}
		rep, _ = o.Svc.Campaign(ctx, o.Admin, c.ID)
		if g := ownerGroup(rep, o.Rep1.UserID); g.Total != 3 || g.Reviewed != 2 || ownerGroup(rep, o.Rep2.UserID).Total != 0 {
			t.Errorf("after the hand-over = %+v", rep)
		}
		run, err := o.Svc.RunCampaigns(ctx, "one")
		if err != nil || run.Tasks.Reopened != 1 || run.Tasks.Closed != 1 {
			t.Errorf("the job after the hand-over = %+v %v", run, err)
		}
		if len(campaignTasks(t, o, o.Rep1)) != 1 || len(campaignTasks(t, o, o.Rep2)) != 0 {
			t.Error("the task did not follow the record")
		}
		if _, err := o.Svc.ConfirmReview(ctx, o.Rep1, c.ID, crm.ObjCustomer, []int64{w.bare.ID}); err != nil {
			t.Fatal(err)
		}

		// The due date passes: the job closes the campaign and rep3's task;
		// rep3 is overdue and can review no more.
		w.clock.Advance(15 * 24 * time.Hour)
		rep, _ = o.Svc.Campaign(ctx, o.Admin, c.ID)
		if rep.Status != crm.CampaignClosed || rep.ClosedAt != nil || rep.OverdueOwners != 1 || !ownerGroup(rep, o.Rep3.UserID).Overdue {
			t.Errorf("past due, before the job = %+v", rep)
		}
		_, err = o.Svc.ConfirmReview(ctx, o.Rep3, c.ID, crm.ObjCustomer, []int64{w.badCode.ID})
		wantCode(t, err, crm.Conflict)
		run, err = o.Svc.RunCampaigns(ctx, "one")
		if err != nil || run.Closed != 1 || run.Tasks.Closed != 1 {
			t.Fatalf("closing run = %+v %v", run, err)
		}
		rep, _ = o.Svc.Campaign(ctx, o.Admin, c.ID)
		if rep.Status != crm.CampaignClosed || rep.ClosedAt == nil || rep.OverdueOwners != 1 || rep.Departments[0].Reviewed+rep.Departments[1].Reviewed != 3 {
			t.Errorf("closed = %+v", rep)
		}
		if len(campaignTasks(t, o, o.Rep3)) != 0 {
			t.Error("rep3's task is open after the campaign closed")
		}
		_, err = o.Svc.ConfirmReview(ctx, o.Rep3, c.ID, crm.ObjCustomer, []int64{w.badCode.ID})
		wantCode(t, err, crm.Conflict)
		if msg := i18n.Message(i18n.ZH, err); !strings.Contains(msg, "已结束") {
			t.Errorf("zh closed = %q", msg)
		}
		if msg := i18n.Message(i18n.EN, err); !strings.Contains(msg, "closed") {
			t.Errorf("en closed = %q", msg)
		}
		// An edit after closing changes nothing in the campaign.
		code := ""
		if _, err := o.Svc.UpdateCustomer(ctx, o.Rep3, w.badCode.ID, crm.CustomerUpdate{Version: w.badCode.Version, CreditCode: &code}); err != nil {
			t.Fatal(err)
		}
		if rep, _ := o.Svc.Campaign(ctx, o.Admin, c.ID); rep.Reviewed != 3 {
			t.Errorf("a closed campaign counted an edit: %+v", rep)
		}
		if run, _ := o.Svc.RunCampaigns(ctx, "one"); run.Closed != 0 {
			t.Errorf("closed twice: %+v", run)
		}
	})
}

// TestCampaignRecurrenceRace: two instances (two Service values on one
// database) run the job at once when a recurring campaign is due again:
// one next campaign starts, with one task per owner.
func TestCampaignRecurrenceRace(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		ctx := context.Background()
		w := newQualityWorld(t, d, opt, db)
		o := w.o
		first, err := o.Svc.StartCampaign(ctx, o.MgrEast, crm.CampaignStart{Name: "季度复核", Objects: []crm.Object{crm.ObjCustomer},
			Selection: crm.SelectAll, DueAt: w.clock.Now().Add(14 * 24 * time.Hour), RecurMonths: 3})
		if err != nil {
			t.Fatal(err)
		}
		w.clock.Set(first.NextStart().Add(time.Minute))
		other := service.New(db, service.Options{Argon2: testorg.CheapArgon, Vault: o.Vault, Now: w.clock.Now})
		var wg sync.WaitGroup
		runs := make([]service.CampaignRun, 2)
		errs := make([]error, 2)
		for i, svc := range []*service.Service{o.Svc, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runs[i], errs[i] = svc.RunCampaigns(context.Background(), []string{"instance-a", "instance-b"}[i])
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		// Once more, after both: nothing new.
		if run, err := other.RunCampaigns(ctx, "instance-b"); err != nil || run.Started != 0 {
			t.Errorf("a later run = %+v %v", run, err)
		}
		list, err := o.Svc.Campaigns(ctx, o.Admin)
		if err != nil {
			t.Fatal(err)
		}
		var next []service.CampaignReport
		for _, c := range list {
			if c.PreviousID == first.ID {
				next = append(next, c)
			}
		}
		if len(next) != 1 || runs[0].Started+runs[1].Started != 1 {
			t.Fatalf("next campaigns = %+v, runs %+v", next, runs)
		}
		n := next[0]
		if n.Status != crm.CampaignOpen || n.Total != 3 || n.DepartmentID != o.East.ID || !n.StartedAt.Equal(first.NextStart()) ||
			n.DueAt.Sub(n.StartedAt) != first.DueAt.Sub(first.StartedAt) {
			t.Errorf("the next campaign = %+v", n)
		}
		// The first closed at its due date; each owner has one open task (the next's).
		if c, _ := o.Svc.Campaign(ctx, o.Admin, first.ID); c.Status != crm.CampaignClosed {
			t.Errorf("the first campaign = %+v", c)
		}
		for _, a := range []*access.Actor{o.Rep1, o.Rep2} {
			if k := campaignTasks(t, o, a); len(k) != 1 || !strings.Contains(k[0].Notes, "/quality/campaigns/") {
				t.Errorf("%s's campaign tasks = %+v", a.Name, k)
			}
		}
	})
}
