package service_test

import (
	"context"
	"encoding/json"
	"slices"
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

func ptr[T any](v T) *T { return &v }

// TestScopeIsolation proves that a sales rep can never read, list, search,
// count, update, delete, release or restore another user's customer, and
// that managers see exactly their subtree.
func TestScopeIsolation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c1 := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "北京星辰科技有限公司", Phone: "13800138000", Email: "Info@XingChen.cn"})
		c3 := o.Customer(t, o.Rep3, crm.CustomerFields{Name: "West Trading Ltd"})

		// rep2 (same department as rep1, sales = own scope) sees nothing of c1.
		_, err := o.Svc.GetCustomer(ctx, o.Rep2, c1.ID)
		wantCode(t, err, crm.NotFound)
		_, err = o.Svc.UpdateCustomer(ctx, o.Rep2, c1.ID, crm.CustomerUpdate{Version: c1.Version, Name: ptr("stolen")})
		wantCode(t, err, crm.NotFound)
		wantCode(t, o.Svc.DeleteCustomer(ctx, o.Rep2, c1.ID), crm.NotFound)
		wantCode(t, o.Svc.ReleaseCustomer(ctx, o.Rep2, c1.ID), crm.NotFound)
		for _, q := range []string{"", "星辰", "科技", "13800138000", "+86 138 0013 8000", "info@xingchen.cn"} {
			page, err := o.Svc.ListCustomers(ctx, o.Rep2, crm.CustomerFilter{Query: q})
			if err != nil {
				t.Fatalf("list %q: %v", q, err)
			}
			if len(page.Items) != 0 || page.Total != 0 {
				t.Errorf("rep2 list %q: got %d items, total %d; want none", q, len(page.Items), page.Total)
			}
			// rep1 finds their own customer by the same query.
			page, err = o.Svc.ListCustomers(ctx, o.Rep1, crm.CustomerFilter{Query: q})
			if err != nil || page.Total != 1 || page.Items[0].ID != c1.ID {
				t.Errorf("rep1 list %q: %+v, %v; want c1", q, page, err)
			}
		}
		// rep1's own update still works: the refusals above changed nothing.
		got, err := o.Svc.GetCustomer(ctx, o.Rep1, c1.ID)
		if err != nil || got.Name != "北京星辰科技有限公司" || got.Version != 1 {
			t.Fatalf("c1 after refused writes: %+v %v", got, err)
		}

		visible := func(a *access.Actor) []int64 {
			t.Helper()
			page, err := o.Svc.ListCustomers(ctx, a, crm.CustomerFilter{})
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, c := range page.Items {
				ids = append(ids, c.ID)
			}
			slices.Sort(ids)
			return ids
		}
		cases := []struct {
			name  string
			actor *access.Actor
			want  []int64
		}{
			{"manager east sees its subtree", o.MgrEast, []int64{c1.ID}},
			{"manager west sees its own department", o.MgrWest, []int64{c3.ID}},
			{"admin sees all", o.Admin, []int64{c1.ID, c3.ID}},
			{"rep3 sees own", o.Rep3, []int64{c3.ID}},
		}
		for _, tc := range cases {
			if got := visible(tc.actor); !slices.Equal(got, tc.want) {
				t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
			}
		}
		if _, err := o.Svc.GetCustomer(ctx, o.MgrWest, c1.ID); !crm.IsCode(err, crm.NotFound) {
			t.Errorf("manager west reads east customer: %v", err)
		}
		// A manager can edit within the subtree.
		if _, err := o.Svc.UpdateCustomer(ctx, o.MgrEast, c1.ID, crm.CustomerUpdate{Version: 1, Level: ptr("A")}); err != nil {
			t.Errorf("manager east edits c1: %v", err)
		}
	})
}

// TestDepartmentScope covers the "own department" scope and that department
// visibility follows the owner's current department.
func TestDepartmentScope(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		o.StepUp(t, o.Admin) // changing roles needs a fresh second factor
		role, err := o.Svc.SaveRole(ctx, o.Admin, crm.Role{Key: "team", Name: "Team", Grants: map[crm.Object]crm.ObjectGrant{
			crm.ObjCustomer: {Read: true, Scope: crm.ScopeDepartment}}})
		if err != nil {
			t.Fatal(err)
		}
		lead := o.User(t, "team.lead", o.East1.ID, "sales")
		if _, err := o.Svc.UpdateUser(ctx, o.Admin, lead.UserID, service.UserUpdate{RoleID: &role.ID}); err != nil {
			t.Fatal(err)
		}
		lead = testorg.Actor(t, o.Svc, lead.UserID)
		c1 := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "Alpha"})
		o.Customer(t, o.Rep3, crm.CustomerFields{Name: "Beta"})
		if page, _ := o.Svc.ListCustomers(ctx, lead, crm.CustomerFilter{}); page.Total != 1 || page.Items[0].ID != c1.ID {
			t.Fatalf("department scope: %+v", page)
		}
		// rep1 moves to West: their customers leave East-1's view with them.
		if _, err := o.Svc.UpdateUser(ctx, o.Admin, o.Rep1.UserID, service.UserUpdate{DepartmentID: &o.West.ID}); err != nil {
			t.Fatal(err)
		}
		if page, _ := o.Svc.ListCustomers(ctx, lead, crm.CustomerFilter{}); page.Total != 0 {
			t.Fatalf("after move: %+v", page)
		}
		// The team role cannot create customers.
		_, err = o.Svc.CreateCustomer(ctx, lead, service.CustomerInput{CustomerFields: crm.CustomerFields{Name: "Gamma"}})
		wantCode(t, err, crm.Forbidden)
	})
}

func TestCustomerWritePath(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "ＡＣＭＥ Co., Ltd.", Phone: "138-0013-8000", CreditCode: "91350100m000100y43", Tags: []string{"vip", " vip ", ""}})
		if c.Phone != "+8613800138000" || c.CreditCode != "91350100M000100Y43" || !slices.Equal(c.Tags, []string{"vip"}) || c.Status != "prospect" {
			t.Fatalf("normalised fields: %+v", c.CustomerFields)
		}

		// Bad input: every problem is named, nothing is stored.
		_, err := o.Svc.CreateCustomer(ctx, o.Rep1, service.CustomerInput{CustomerFields: crm.CustomerFields{
			Name: " ", Level: "Z", Phone: "12", Email: "x@", CreditCode: "91350100M000100Y44", Website: "ftp://x"}})
		var ce *crm.Error
		if !errorsAs(err, &ce) || ce.Code != crm.Invalid {
			t.Fatalf("invalid create: %v", err)
		}
		fields := map[string]string{}
		for _, f := range ce.Fields {
			fields[f.Field] = f.Rule
		}
		want := map[string]string{"name": "required", "level": "enum", "phone": "phone", "email": "email", "credit_code": "credit_code", "website": "format"}
		for f, r := range want {
			if fields[f] != r {
				t.Errorf("field %s: rule %q, want %q (all: %v)", f, fields[f], r, fields)
			}
		}

		// 撞单: the same phone, e-mail, credit code or company name is refused
		// across scopes, naming only the owner.
		dups := []crm.CustomerFields{
			{Name: "Other", Phone: "+86 138 0013 8000"},
			{Name: "acme inc"},
			{Name: "Other 2", CreditCode: "91350100M000100Y43"},
		}
		for _, f := range dups {
			_, err := o.Svc.CreateCustomer(ctx, o.Rep3, service.CustomerInput{CustomerFields: f})
			if !errorsAs(err, &ce) || ce.Code != crm.Duplicate || ce.Fields[0].Param != "User rep1" {
				t.Errorf("duplicate %+v: %v", f, err)
			}
			if strings.Contains(err.Error(), "ACME") {
				t.Errorf("duplicate answer leaks the other record: %v", err)
			}
		}

		// Optimistic concurrency: a stale version is refused, nothing overwritten.
		up, err := o.Svc.UpdateCustomer(ctx, o.Rep1, c.ID, crm.CustomerUpdate{Version: c.Version, Industry: ptr("制造业")})
		if err != nil || up.Version != 2 {
			t.Fatalf("update: %+v %v", up, err)
		}
		_, err = o.Svc.UpdateCustomer(ctx, o.Rep1, c.ID, crm.CustomerUpdate{Version: c.Version, Industry: ptr("零售")})
		if !errorsAs(err, &ce) || ce.Code != crm.Conflict || ce.Key != "stale_version" {
			t.Fatalf("stale update: %v", err)
		}
		got, _ := o.Svc.GetCustomer(ctx, o.Rep1, c.ID)
		if got.Industry != "制造业" {
			t.Fatalf("stale update overwrote: %q", got.Industry)
		}

		// Recycle bin: delete hides, restore brings back.
		if err := o.Svc.DeleteCustomer(ctx, o.Rep1, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.GetCustomer(ctx, o.Rep1, c.ID); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("deleted customer readable: %v", err)
		}
		bin, err := o.Svc.ListRecycledCustomers(ctx, o.Rep1, crm.CustomerFilter{})
		if err != nil || bin.Total != 1 {
			t.Fatalf("recycle bin: %+v %v", bin, err)
		}
		wantCode(t, o.Svc.RestoreCustomer(ctx, o.Rep2, c.ID), crm.NotFound)
		if err := o.Svc.RestoreCustomer(ctx, o.Rep1, c.ID); err != nil {
			t.Fatal(err)
		}

		// Every write left its audit event, with field changes.
		events := auditEvents(t, db, c.ID)
		var actions []string
		for _, e := range events {
			actions = append(actions, e.Action)
		}
		for _, a := range []string{"customer.create", "customer.update", "customer.view", "customer.delete", "customer.restore"} {
			if !slices.Contains(actions, a) {
				t.Errorf("missing audit event %s in %v", a, actions)
			}
		}
		for _, e := range events {
			if e.Action == "customer.update" {
				var f map[string]map[string]any
				json.Unmarshal(e.Fields, &f)
				if f["industry"]["to"] != "制造业" || e.ActorID != o.Rep1.UserID {
					t.Errorf("update event fields: %s", e.Fields)
				}
			}
		}
	})
}

func TestPoolClaimRelease(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "Pool Candidate"})
		wantCode(t, o.Svc.ClaimCustomer(ctx, o.Rep3, c.ID), crm.Conflict) // not in the pool
		if err := o.Svc.ReleaseCustomer(ctx, o.Rep1, c.ID); err != nil {
			t.Fatal(err)
		}
		pool, err := o.Svc.ListCustomers(ctx, o.Rep3, crm.CustomerFilter{Pool: true})
		if err != nil || pool.Total != 1 {
			t.Fatalf("pool for rep3: %+v %v", pool, err)
		}
		if mine, _ := o.Svc.ListCustomers(ctx, o.Rep1, crm.CustomerFilter{}); mine.Total != 0 {
			t.Fatalf("released customer still in rep1's list")
		}
		if err := o.Svc.ClaimCustomer(ctx, o.Rep3, c.ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, o.Svc.ClaimCustomer(ctx, o.Rep2, c.ID), crm.Conflict) // already claimed
		got, err := o.Svc.GetCustomer(ctx, o.Rep3, c.ID)
		if err != nil || got.OwnerID != o.Rep3.UserID {
			t.Fatalf("after claim: %+v %v", got, err)
		}
		wantCode(t, func() error { _, err := o.Svc.GetCustomer(ctx, o.Rep1, c.ID); return err }(), crm.NotFound)
		// Claimed, it is due within three days, not overdue at once.
		if got.NextFollowUpAt == nil || got.NextFollowUpAt.Before(time.Now().Add(service.ClaimFollowUpWithin-time.Minute)) {
			t.Errorf("claimed customer's next follow-up: %v", got.NextFollowUpAt)
		}
		overdue, err := o.Svc.ListCustomers(ctx, o.Rep3, crm.CustomerFilter{Due: crm.DueOverdue})
		if err != nil || overdue.Total != 0 {
			t.Errorf("the claimed customer is overdue at once: %+v %v", overdue, err)
		}
	})
}

// TestClaimKeepsAPlannedFollowUp: a next follow-up still ahead when the
// customer is claimed stays; one already past is replaced.
func TestClaimKeepsAPlannedFollowUp(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testorg.NewClock()
		o := testorg.NewWithClock(t, db, clock)
		start := clock.Now()
		ahead := start.Add(10 * 24 * time.Hour).Truncate(time.Second)
		past := start.Add(24 * time.Hour).Truncate(time.Second)
		planned := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "计划中"})
		lapsed := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "已过期"})
		for _, x := range []struct {
			id   int64
			next time.Time
		}{{planned.ID, ahead}, {lapsed.ID, past}} {
			if _, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "call", Content: "约下次", CustomerID: x.id, NextAt: &x.next}); err != nil {
				t.Fatal(err)
			}
			if err := o.Svc.ReleaseCustomer(ctx, o.Rep1, x.id); err != nil {
				t.Fatal(err)
			}
		}
		clock.Set(start.Add(5 * 24 * time.Hour))
		for _, id := range []int64{planned.ID, lapsed.ID} {
			if err := o.Svc.ClaimCustomer(ctx, o.Rep2, id); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := o.Svc.GetCustomer(ctx, o.Rep2, planned.ID); err != nil || got.NextFollowUpAt == nil || !got.NextFollowUpAt.Equal(ahead) {
			t.Errorf("a planned follow-up was replaced: %v %v", got.NextFollowUpAt, err)
		}
		want := clock.Now().Add(service.ClaimFollowUpWithin)
		if got, err := o.Svc.GetCustomer(ctx, o.Rep2, lapsed.ID); err != nil || got.NextFollowUpAt == nil || !got.NextFollowUpAt.Equal(want.Truncate(time.Millisecond)) {
			t.Errorf("a lapsed follow-up: %v, want %v (%v)", got.NextFollowUpAt, want, err)
		}
	})
}

func TestCursorPaging(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		for i := 0; i < 25; i++ {
			o.Customer(t, o.Rep1, crm.CustomerFields{Name: "客户" + string(rune('A'+i))})
		}
		for _, sort := range []string{"updated", "created", "name", "next_follow_up"} {
			seen := map[int64]bool{}
			cursor := ""
			var names []string
			for pages := 0; ; pages++ {
				page, err := o.Svc.ListCustomers(ctx, o.Rep1, crm.CustomerFilter{Sort: sort, Cursor: cursor, Limit: 10})
				if err != nil {
					t.Fatalf("%s: %v", sort, err)
				}
				for _, c := range page.Items {
					if seen[c.ID] {
						t.Fatalf("%s: customer %d twice", sort, c.ID)
					}
					seen[c.ID] = true
					names = append(names, c.Name)
				}
				if page.Next == "" {
					break
				}
				cursor = page.Next
			}
			if len(seen) != 25 {
				t.Errorf("%s: saw %d customers, want 25", sort, len(seen))
			}
			if sort == "name" && !slices.IsSorted(names) {
				t.Errorf("name order: %v", names)
			}
		}
		_, err := o.Svc.ListCustomers(ctx, o.Rep1, crm.CustomerFilter{Sort: "name", Cursor: "garbage"})
		wantCode(t, err, crm.Invalid)
	})
}

func auditEvents(t *testing.T, db *store.DB, recordID int64) []crm.AuditEvent {
	t.Helper()
	return eventsWhere(t, db, store.AuditFilter{RecordID: recordID, Limit: 500})
}
