package service_test

import (
	"context"
	"encoding/json"
	"testing"

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
