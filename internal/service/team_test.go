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

// teamWorld is a hand-counted team: East-1's Rep1 and Rep2 under MgrEast,
// West's Rep3 outside their scope.
type teamWorld struct {
	o      *testorg.Org
	stages []crm.Stage
	// Opportunities by name.
	opps map[string]crm.Opportunity
	// Customers by name.
	cust map[string]crm.Customer
}

// newTeamWorld builds at base-30 days and leaves the clock at base, a
// weekday 10:00 in the organisation's zone:
//
//	Rep1: 逾期 (next follow-up yesterday), 今天 (today 12:00), 明天 (tomorrow),
//	      an overdue open task, an overdue done task, a task due tomorrow,
//	      opportunities A (stalled), B (a follow-up 2 days ago), C (won 3 days ago)
//	Rep2: 二逾期 (next follow-up 2 days ago); opportunity D (moved 3 days ago)
//	Rep3: 西逾期 (yesterday), an overdue task, opportunity E (stalled, USD)
func newTeamWorld(t *testing.T, db *store.DB) *teamWorld {
	t.Helper()
	ctx := context.Background()
	clock := testorg.NewClock()
	o := testorg.NewWithClock(t, db, clock)
	loc := o.Svc.DefaultLocation()
	y, m, d := time.Now().In(loc).Date()
	base := time.Date(y, m, d, 10, 0, 0, 0, loc)
	clock.Set(base.AddDate(0, 0, -30))
	w := &teamWorld{o: o, opps: map[string]crm.Opportunity{}, cust: map[string]crm.Customer{}}
	var err error
	if w.stages, err = o.Svc.Stages(ctx, o.Admin); err != nil {
		t.Fatal(err)
	}
	at := func(dt time.Duration) *time.Time { x := base.Add(dt); return &x }
	day := 24 * time.Hour
	customer := func(a *access.Actor, name string, next *time.Time) crm.Customer {
		c := o.Customer(t, a, crm.CustomerFields{Name: name})
		if next != nil {
			if _, err := o.Svc.CreateFollowUp(ctx, a, crm.FollowUpInput{Kind: "call", Content: "电话", CustomerID: c.ID, NextAt: next}); err != nil {
				t.Fatalf("follow-up: %v", err)
			}
		}
		w.cust[name] = c
		return c
	}
	opp := func(a *access.Actor, name string, c crm.Customer, amount int64, currency string) {
		x, err := o.Svc.CreateOpportunity(ctx, a, crm.OpportunityFields{CustomerID: c.ID, Name: name, Amount: amount, Currency: currency})
		if err != nil {
			t.Fatalf("opportunity %s: %v", name, err)
		}
		w.opps[name] = x
	}
	task := func(a *access.Actor, title string, due *time.Time) crm.Task {
		k, err := o.Svc.CreateTask(ctx, a, crm.TaskFields{Title: title, DueAt: due})
		if err != nil {
			t.Fatalf("task: %v", err)
		}
		return k
	}
	customer(o.Rep1, "逾期客户", at(-day))
	customer(o.Rep1, "今天客户", at(2*time.Hour))
	customer(o.Rep1, "明天客户", at(day))
	plain := customer(o.Rep1, "商机客户", nil)
	customer(o.Rep2, "二逾期客户", at(-2*day))
	west := customer(o.Rep3, "西逾期客户", at(-day))
	task(o.Rep1, "逾期任务", at(-day))
	done := task(o.Rep1, "已完成任务", at(-day))
	task(o.Rep1, "明天任务", at(day))
	task(o.Rep3, "西部任务", at(-day))
	opp(o.Rep1, "A", plain, 100_00, "CNY")
	opp(o.Rep1, "B", plain, 200_00, "CNY")
	opp(o.Rep1, "C", plain, 300_00, "USD")
	opp(o.Rep2, "D", w.cust["二逾期客户"], 400_00, "USD")
	opp(o.Rep3, "E", west, 500_00, "USD")

	clock.Set(base.Add(-3 * day))
	w.move(t, o.Rep1, "C", w.stageOf(crm.StageWon))
	w.move(t, o.Rep2, "D", w.stages[1].ID)
	clock.Set(base.Add(-2 * day))
	if _, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "visit", Content: "拜访", CustomerID: plain.ID, OpportunityID: w.opps["B"].ID}); err != nil {
		t.Fatal(err)
	}
	clock.Set(base)
	if err := o.Svc.SetTaskDone(ctx, o.Rep1, done.ID, true); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *teamWorld) stageOf(kind string) int64 {
	for _, st := range w.stages {
		if st.Kind == kind {
			return st.ID
		}
	}
	return 0
}

func (w *teamWorld) move(t *testing.T, a *access.Actor, name string, stage int64) {
	t.Helper()
	x := w.opps[name]
	moved, err := w.o.Svc.MoveOpportunity(context.Background(), a, x.ID, crm.StageMove{Version: x.Version, StageID: stage})
	if err != nil {
		t.Fatalf("move %s: %v", name, err)
	}
	w.opps[name] = moved
}

type teamCount struct{ overdue, today, tasks, stalled int }

func teamCounts(t *testing.T, sum service.TeamSummary) map[int64]teamCount {
	t.Helper()
	out := map[int64]teamCount{}
	for _, r := range sum.Rows {
		if r.Overdue == nil || r.DueToday == nil || r.TasksOverdue == nil || r.Stalled == nil {
			t.Fatalf("row %d lacks a number: %+v", r.User.ID, r)
		}
		out[r.User.ID] = teamCount{*r.Overdue, *r.DueToday, *r.TasksOverdue, *r.Stalled}
	}
	return out
}

// TestTeamSummary compares the manager's team numbers with the hand count
// of newTeamWorld, on both databases: a manager counts their subtree only,
// an administrator everyone, a rep has no team, and the filters narrow.
func TestTeamSummary(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newTeamWorld(t, db)
		o := w.o
		sum, err := o.Svc.Team(ctx, o.MgrEast, service.TeamFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if sum.StalledDays != service.DefaultStalledDays {
			t.Errorf("stalled days = %d", sum.StalledDays)
		}
		want := map[int64]teamCount{
			o.MgrEast.UserID: {},
			o.Rep1.UserID:    {overdue: 1, today: 1, tasks: 1, stalled: 1},
			o.Rep2.UserID:    {overdue: 1},
		}
		if got := teamCounts(t, sum); !mapsEqual(got, want) {
			t.Errorf("manager east: %+v, want %+v", got, want)
		}
		sum, err = o.Svc.Team(ctx, o.Admin, service.TeamFilter{})
		if err != nil {
			t.Fatal(err)
		}
		got := teamCounts(t, sum)
		if got[o.Rep3.UserID] != (teamCount{overdue: 1, tasks: 1, stalled: 1}) || got[o.Rep1.UserID] != want[o.Rep1.UserID] {
			t.Errorf("administrator: %+v", got)
		}
		_, err = o.Svc.Team(ctx, o.Rep1, service.TeamFilter{})
		wantCode(t, err, crm.Forbidden)

		// Filters narrow: a department or a rep outside the scope reaches nobody.
		for _, f := range []service.TeamFilter{{DeptID: o.West.ID}, {OwnerID: o.Rep3.UserID}, {DeptID: 999_999}} {
			sum, err = o.Svc.Team(ctx, o.MgrEast, f)
			if err != nil || len(sum.Rows) != 0 {
				t.Errorf("manager east filtered %+v: %+v %v", f, sum.Rows, err)
			}
		}
		sum, err = o.Svc.Team(ctx, o.Admin, service.TeamFilter{DeptID: o.East.ID})
		if got := teamCounts(t, sum); err != nil || len(got) != 3 || got[o.Rep1.UserID] != want[o.Rep1.UserID] {
			t.Errorf("administrator, East: %+v %v", got, err)
		}
		sum, err = o.Svc.Team(ctx, o.MgrEast, service.TeamFilter{OwnerID: o.Rep2.UserID})
		if got := teamCounts(t, sum); err != nil || len(got) != 1 || got[o.Rep2.UserID] != want[o.Rep2.UserID] {
			t.Errorf("manager east, Rep2: %+v %v", got, err)
		}
		_, err = o.Svc.Team(ctx, o.MgrEast, service.TeamFilter{DeptID: -1})
		wantField(t, err, "department_id", "format")

		// The choices offer only what is in scope.
		ch, err := o.Svc.TeamChoices(ctx, o.MgrEast)
		if err != nil {
			t.Fatal(err)
		}
		var users, depts []int64
		for _, u := range ch.Users {
			users = append(users, u.ID)
		}
		for _, d := range ch.Departments {
			depts = append(depts, d.ID)
		}
		if slices.Contains(users, o.Rep3.UserID) || !slices.Contains(users, o.Rep2.UserID) ||
			!slices.Equal(depts, []int64{o.East.ID, o.East1.ID}) {
			t.Errorf("choices of manager east: users %v departments %v", users, depts)
		}
		if ch, err := o.Svc.TeamChoices(ctx, o.Rep1); err != nil || len(ch.Users)+len(ch.Departments) != 0 {
			t.Errorf("a rep has choices: %+v %v", ch, err)
		}
	})
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestTeamFilters checks that each number's drill-down list holds what the
// number counts, and that the rep and department filters of every list
// narrow the scope but never widen it, with keyset paging intact.
func TestTeamFilters(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newTeamWorld(t, db)
		o := w.o
		names := func(p service.CustomerPage, err error) []string {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, c := range p.Items {
				out = append(out, c.Name)
			}
			slices.Sort(out)
			return out
		}
		check := func(label string, got []string, want ...string) {
			t.Helper()
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s: %v, want %v", label, got, want)
			}
		}
		check("Rep1 overdue", names(o.Svc.ListCustomers(ctx, o.MgrEast, crm.CustomerFilter{OwnerID: o.Rep1.UserID, Due: crm.DueOverdue})), "逾期客户")
		check("Rep1 today", names(o.Svc.ListCustomers(ctx, o.MgrEast, crm.CustomerFilter{OwnerID: o.Rep1.UserID, Due: crm.DueToday})), "今天客户")
		check("East overdue", names(o.Svc.ListCustomers(ctx, o.MgrEast, crm.CustomerFilter{DeptID: o.East.ID, Due: crm.DueOverdue})), "逾期客户", "二逾期客户")
		check("HQ overdue for manager east", names(o.Svc.ListCustomers(ctx, o.MgrEast, crm.CustomerFilter{DeptID: o.HQ.ID, Due: crm.DueOverdue})), "逾期客户", "二逾期客户")
		check("West for manager east", names(o.Svc.ListCustomers(ctx, o.MgrEast, crm.CustomerFilter{DeptID: o.West.ID})))
		check("Rep3 for manager east", names(o.Svc.ListCustomers(ctx, o.MgrEast, crm.CustomerFilter{OwnerID: o.Rep3.UserID})))
		check("Rep2 for Rep1", names(o.Svc.ListCustomers(ctx, o.Rep1, crm.CustomerFilter{OwnerID: o.Rep2.UserID})))
		check("West for admin", names(o.Svc.ListCustomers(ctx, o.Admin, crm.CustomerFilter{DeptID: o.West.ID})), "西逾期客户")
		_, err := o.Svc.ListCustomers(ctx, o.MgrEast, crm.CustomerFilter{Due: "soon"})
		wantField(t, err, "due", "enum")

		// Keyset paging through a department's customers, two at a time.
		var paged []string
		f := crm.CustomerFilter{DeptID: o.East1.ID, Limit: 2, Sort: "name"}
		for range 10 {
			p, err := o.Svc.ListCustomers(ctx, o.MgrEast, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range p.Items {
				paged = append(paged, c.Name)
			}
			if p.Total != 5 {
				t.Errorf("East-1 total = %d", p.Total)
			}
			if f.Cursor = p.Next; f.Cursor == "" {
				break
			}
		}
		slices.Sort(paged)
		check("East-1 paged", paged, "逾期客户", "今天客户", "明天客户", "商机客户", "二逾期客户")

		oppNames := func(a *access.Actor, f crm.ListFilter) []string {
			t.Helper()
			p, err := o.Svc.ListOpportunities(ctx, a, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, x := range p.Items {
				out = append(out, x.Name)
			}
			slices.Sort(out)
			return out
		}
		check("stalled, manager east", oppNames(o.MgrEast, crm.ListFilter{StalledDays: service.DefaultStalledDays}), "A")
		check("stalled, admin", oppNames(o.Admin, crm.ListFilter{StalledDays: service.DefaultStalledDays}), "A", "E")
		check("stalled 2 days, Rep1", oppNames(o.Rep1, crm.ListFilter{StalledDays: 1}), "A", "B")
		check("East, admin", oppNames(o.Admin, crm.ListFilter{DeptID: o.East.ID}), "A", "B", "C", "D")
		check("West, manager east", oppNames(o.MgrEast, crm.ListFilter{DeptID: o.West.ID}))
		check("Rep3, manager east", oppNames(o.MgrEast, crm.ListFilter{OwnerID: o.Rep3.UserID}))
		_, err = o.Svc.ListOpportunities(ctx, o.MgrEast, crm.ListFilter{StalledDays: -1})
		wantField(t, err, "stalled_days", "range")
		_, err = o.Svc.ListContacts(ctx, o.MgrEast, crm.ListFilter{OwnerID: -2})
		wantField(t, err, "owner_id", "format")

		taskTitles := func(a *access.Actor, f service.TaskFilter) []string {
			t.Helper()
			ks, err := o.Svc.ListTasks(ctx, a, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, k := range ks {
				out = append(out, k.Title)
			}
			slices.Sort(out)
			return out
		}
		check("overdue tasks of Rep1", taskTitles(o.MgrEast, service.TaskFilter{OwnerID: o.Rep1.UserID, Overdue: true}), "逾期任务")
		check("overdue tasks of HQ, manager east", taskTitles(o.MgrEast, service.TaskFilter{DeptID: o.HQ.ID, Overdue: true}), "逾期任务")
		check("overdue tasks of HQ, admin", taskTitles(o.Admin, service.TaskFilter{DeptID: o.HQ.ID, Overdue: true}), "逾期任务", "西部任务")
		check("tasks of Rep3, manager east", taskTitles(o.MgrEast, service.TaskFilter{OwnerID: o.Rep3.UserID, All: true}))
		check("my tasks, Rep1", taskTitles(o.Rep1, service.TaskFilter{}), "逾期任务", "明天任务")
	})
}

// TestOpportunityTotals sums per stage and currency, under the scope and
// the filters, and gives no sums to a role that may not see amounts.
func TestOpportunityTotals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newTeamWorld(t, db)
		o := w.o
		first, second, won := w.stages[0].ID, w.stages[1].ID, w.stageOf(crm.StageWon)
		type key struct {
			stage    int64
			currency string
		}
		type sum struct {
			count            int
			amount, weighted int64
		}
		sums := func(a *access.Actor, f crm.ListFilter) map[key]sum {
			t.Helper()
			tot, err := o.Svc.OpportunityTotals(ctx, a, f)
			if err != nil || tot.AmountsHidden {
				t.Fatalf("totals: %+v %v", tot, err)
			}
			out := map[key]sum{}
			for _, s := range tot.Stages {
				out[key{s.StageID, s.Currency}] = sum{s.Count, *s.Amount, *s.Weighted}
			}
			return out
		}
		p1, p2 := int64(w.stages[0].Probability), int64(w.stages[1].Probability)
		want := map[key]sum{
			{first, "CNY"}:  {2, 300_00, 300_00 * p1 / 100},
			{won, "USD"}:    {1, 300_00, 300_00},
			{second, "USD"}: {1, 400_00, 400_00 * p2 / 100},
		}
		if got := sums(o.MgrEast, crm.ListFilter{}); !mapsEqual(got, want) {
			t.Errorf("manager east: %+v, want %+v", got, want)
		}
		want[key{first, "USD"}] = sum{1, 500_00, 500_00 * p1 / 100}
		if got := sums(o.Admin, crm.ListFilter{}); !mapsEqual(got, want) {
			t.Errorf("administrator: %+v, want %+v", got, want)
		}
		if got := sums(o.Admin, crm.ListFilter{DeptID: o.West.ID}); !mapsEqual(got, map[key]sum{{first, "USD"}: {1, 500_00, 500_00 * p1 / 100}}) {
			t.Errorf("administrator, West: %+v", got)
		}
		if got := sums(o.MgrEast, crm.ListFilter{DeptID: o.West.ID}); len(got) != 0 {
			t.Errorf("manager east, West: %+v", got)
		}
		if got := sums(o.Rep1, crm.ListFilter{}); len(got) != 2 || got[key{first, "CNY"}].count != 2 {
			t.Errorf("Rep1: %+v", got)
		}
		hidden := setFieldRules(t, o, "manager", crm.ObjOpportunity, false, map[string]crm.FieldAccess{"amount": crm.FieldHidden}, o.MgrEast)[0]
		tot, err := o.Svc.OpportunityTotals(ctx, hidden, crm.ListFilter{})
		if err != nil || !tot.AmountsHidden || len(tot.Stages) != 3 {
			t.Fatalf("hidden amounts: %+v %v", tot, err)
		}
		for _, s := range tot.Stages {
			if s.Amount != nil || s.Weighted != nil || s.Count == 0 {
				t.Errorf("hidden amounts summed: %+v", s)
			}
		}
	})
}
