package demo_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/demo"
	"custos/internal/quality"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

func newService(t testing.TB, db *store.DB) *service.Service {
	t.Helper()
	svc := service.New(db, service.Options{Vault: testorg.NewVault(t), Argon2: testorg.CheapArgon})
	if _, err := svc.Bootstrap(context.Background(), "总部"); err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestGenerate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		admin := access.System("demo-test")
		var progress bytes.Buffer
		sum, err := demo.Generate(ctx, svc, admin, demo.Options{Customers: 40, Seed: 7, Progress: &progress, Password: "demo-password-1"})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%+v", sum)
		if sum.Customers != 40 || sum.Skipped != 0 {
			t.Errorf("customers = %d, skipped = %d; want 40, 0", sum.Customers, sum.Skipped)
		}
		if sum.PoolCustomers == 0 || sum.Contacts < 40 || sum.FollowUps == 0 || sum.Leads == 0 || sum.Tasks == 0 {
			t.Errorf("summary lacks records: %+v", sum)
		}
		if sum.Overdue == 0 || sum.DueToday == 0 || sum.DueLater == 0 {
			t.Errorf("next follow-ups not spread: %+v", sum)
		}
		if !strings.Contains(progress.String(), "demo: done: 40 customers") {
			t.Errorf("progress = %q", progress.String())
		}

		// Every stage holds an opportunity; a lost one has its reason.
		stages, err := svc.Stages(ctx, admin)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range stages {
			page, err := svc.ListOpportunities(ctx, admin, crm.ListFilter{StageID: st.ID, Limit: 200})
			if err != nil {
				t.Fatal(err)
			}
			if page.Total == 0 {
				t.Errorf("no opportunity in stage %s", st.Name)
			}
			for _, o := range page.Items {
				if st.Kind == crm.StageLost && o.LostReason == "" {
					t.Errorf("lost opportunity %d has no reason", o.ID)
				}
			}
		}

		// The pool holds customers; overdue, due-today and future follow-ups exist.
		pool, err := svc.ListCustomers(ctx, admin, crm.CustomerFilter{Pool: true})
		if err != nil {
			t.Fatal(err)
		}
		if pool.Total != sum.PoolCustomers || pool.Total == 0 {
			t.Errorf("pool holds %d customers, summary says %d", pool.Total, sum.PoolCustomers)
		}
		all, err := svc.ListCustomers(ctx, admin, crm.CustomerFilter{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		if all.Total != 40 {
			t.Errorf("admin sees %d customers, want 40", all.Total)
		}
		now := time.Now()
		var overdue, future, credit int
		for _, c := range all.Items {
			if c.NextFollowUpAt != nil && c.NextFollowUpAt.Before(now.Add(-24*time.Hour)) {
				overdue++
			}
			if c.NextFollowUpAt != nil && c.NextFollowUpAt.After(now.Add(24*time.Hour)) {
				future++
			}
			if c.CreditCode != "" {
				credit++
				if _, err := quality.CreditCode(c.CreditCode); err != nil {
					t.Errorf("customer %s: invalid credit code %s", c.Name, c.CreditCode)
				}
			}
		}
		if overdue == 0 || future == 0 || credit == 0 {
			t.Errorf("overdue = %d, future = %d, with credit code = %d; want some of each", overdue, future, credit)
		}

		// A sales rep sees exactly their own customers.
		var rep demo.Person
		for _, p := range sum.People {
			if p.Role == "sales" && p.Customers > 0 {
				rep = p
				break
			}
		}
		repID := userID(t, svc, admin, rep.Username)
		repActor, err := svc.UserActor(ctx, repID)
		if err != nil {
			t.Fatal(err)
		}
		mine, err := svc.ListCustomers(ctx, repActor, crm.CustomerFilter{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		if mine.Total != rep.Customers || len(mine.Items) != rep.Customers {
			t.Errorf("rep %s sees %d customers, owns %d", rep.Username, mine.Total, rep.Customers)
		}
		for _, c := range mine.Items {
			if c.OwnerID != repID {
				t.Errorf("rep %s sees customer %d of owner %d", rep.Username, c.ID, c.OwnerID)
			}
		}
		// The generated password signs the rep in.
		if _, err := svc.Login(ctx, rep.Username, "demo-password-1", testorg.ClientForTest()); err != nil {
			t.Errorf("login as %s: %v", rep.Username, err)
		}
	})
}

func TestGenerateBenchShape(t *testing.T) {
	db := testdb.Open(t, store.SQLite)
	ctx := context.Background()
	svc := newService(t, db)
	admin := access.System("demo-test")
	sum, err := demo.Generate(ctx, svc, admin, demo.Options{Customers: 200, FollowUpsPerCustomer: 2, BenchShape: true, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if sum.FollowUps != 400 || sum.PoolCustomers != 4 || sum.BenchRep != demo.BenchRep {
		t.Errorf("follow-ups = %d, pool = %d, bench rep = %q", sum.FollowUps, sum.PoolCustomers, sum.BenchRep)
	}
	rep, err := svc.UserActor(ctx, userID(t, svc, admin, demo.BenchRep))
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := svc.UserActor(ctx, userID(t, svc, admin, demo.BenchManager))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		a    *access.Actor
		want int
	}{{rep, 6}, {mgr, 60}} {
		page, err := svc.ListCustomers(ctx, c.a, crm.CustomerFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != c.want {
			t.Errorf("%s sees %d customers, want %d", c.a.Name, page.Total, c.want)
		}
	}
}

// TestGenerateIsDeterministic checks that one seed gives the same records.
func TestGenerateIsDeterministic(t *testing.T) {
	names := func() []string {
		db := testdb.Open(t, store.SQLite)
		svc := newService(t, db)
		admin := access.System("demo-test")
		if _, err := demo.Generate(context.Background(), svc, admin, demo.Options{Customers: 15, Seed: 11, Concurrency: 1}); err != nil {
			t.Fatal(err)
		}
		page, err := svc.ListCustomers(context.Background(), admin, crm.CustomerFilter{Sort: "name", Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range page.Items {
			out = append(out, c.Name+" "+c.Phone+" "+c.Email)
		}
		return out
	}
	a, b := names(), names()
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("two runs with one seed differ:\n%v\n%v", a, b)
	}
}

func userID(t *testing.T, svc *service.Service, a *access.Actor, username string) int64 {
	t.Helper()
	dir, err := svc.Directory(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range dir.Users {
		if u.Username == username {
			return u.ID
		}
	}
	t.Fatalf("no user %q", username)
	return 0
}

// BenchmarkGenerate measures generation through the service layer; it
// reports service calls and follow-ups per second.
func BenchmarkGenerate(b *testing.B) {
	var calls, followUps int64
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		db, err := store.Open(context.Background(), store.Options{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		svc := newService(b, db)
		b.StartTimer()
		sum, err := demo.Generate(context.Background(), svc, access.System("bench"), demo.Options{Customers: 300,
			FollowUpsPerCustomer: 10, BenchShape: true, Password: "bench-password-1"})
		db.Close()
		if err != nil {
			b.Fatal(err)
		}
		calls, followUps, elapsed = calls+sum.Calls, followUps+int64(sum.FollowUps), elapsed+sum.Elapsed
	}
	b.ReportMetric(float64(calls)/elapsed.Seconds(), "calls/s")
	b.ReportMetric(float64(followUps)/elapsed.Seconds(), "follow-ups/s")
}
