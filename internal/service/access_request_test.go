package service_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestRequestAccessAfterRefusal: refused as a duplicate, a salesperson asks
// the owner for a share or the record itself; the owner decides, and the
// requester learns nothing before that but who owns it.
func TestRequestAccessAfterRefusal(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "苏州金鸡湖软件有限公司"})
		refused := crm.CustomerFields{Name: "苏州金鸡湖软件有限公司", Status: "prospect"}
		_, err := o.Svc.CreateCustomer(ctx, o.Rep3, service.CustomerInput{CustomerFields: refused})
		wantCode(t, err, crm.Duplicate)
		fields, _ := json.Marshal(refused)

		ask := func(access string) int64 {
			t.Helper()
			return pendingID(t, o.Svc.RequestAccess(ctx, o.Rep3, service.AccessRequest{Object: crm.ObjCustomer, Fields: fields, Access: access}))
		}
		share := ask(service.AccessShare)
		if _, err := o.Svc.GetCustomer(ctx, o.Rep3, c.ID); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("the requester sees the record before the owner decided: %v", err)
		}
		// The owner decides; the requester's own manager does not.
		list, err := o.Svc.ListApprovals(ctx, o.Rep1)
		if err != nil || len(list.ToDecide) != 1 || list.ToDecide[0].ID != share {
			t.Fatalf("owner's approvals: %+v %v", list.ToDecide, err)
		}
		if list, _ := o.Svc.ListApprovals(ctx, o.MgrWest); len(list.ToDecide) != 0 {
			t.Fatalf("the requester's manager decides: %+v", list.ToDecide)
		}
		if r, err := decide(t, o, o.Rep1, share, true); err != nil || r.Status != crm.ApprovalApplied {
			t.Fatalf("decided: %+v %v", r, err)
		}
		// (An actor knows what is shared with them when it is made.)
		if _, err := o.Svc.GetCustomer(ctx, testorg.Actor(t, o.Svc, o.Rep3.UserID), c.ID); err != nil {
			t.Fatalf("shared after approval: %v", err)
		}

		handover := ask(service.AccessHandover)
		if _, err := decide(t, o, o.Rep1, handover, true); err != nil {
			t.Fatal(err)
		}
		if got, _ := o.Svc.GetCustomer(ctx, o.Rep3, c.ID); got.OwnerID != o.Rep3.UserID {
			t.Fatalf("owner after hand-over: %d", got.OwnerID)
		}
		// Values nobody holds: nothing to ask for.
		other, _ := json.Marshal(crm.CustomerFields{Name: "不存在的公司", Status: "prospect"})
		err = o.Svc.RequestAccess(ctx, o.Rep2, service.AccessRequest{Object: crm.ObjCustomer, Fields: other, Access: service.AccessShare})
		wantCode(t, err, crm.NotFound)
	})
}

// TestRequestAccessIsALookup: asking by values is a lookup by them, so it
// counts toward the hourly limit and is audited; it cannot be used to
// test phone numbers one after another.
func TestRequestAccessIsALookup(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now()
		o := testorg.NewWith(t, db, service.Options{Argon2: testorg.CheapArgon, SensitiveSearchesPerHour: 2, Now: func() time.Time { return now }})
		o.Customer(t, o.Rep1, crm.CustomerFields{Name: "常州限额测试公司", Phone: "13900005555"})
		probe := func(phone string) error {
			fields, _ := json.Marshal(crm.CustomerFields{Name: "探测" + phone, Status: "prospect", Phone: phone})
			return o.Svc.RequestAccess(ctx, o.Rep3, service.AccessRequest{Object: crm.ObjCustomer, Fields: fields, Access: service.AccessShare})
		}
		wantCode(t, probe("13900005554"), crm.NotFound)
		wantCode(t, probe("13900005556"), crm.NotFound)
		wantCode(t, probe("13900005555"), crm.RateLimited)
		page, err := o.Svc.AuditTrail(ctx, o.Admin, service.AuditQuery{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range page.Items {
			if e.Action == "customer.entry_check.phone" && e.ActorID == o.Rep3.UserID {
				n++
			}
		}
		if n < 2 {
			t.Fatalf("lookups audited: %d", n)
		}
	})
}
