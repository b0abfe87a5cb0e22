package service_test

import (
	"context"
	"strings"
	"testing"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// approvalOrg is the test organisation with East-1 managed by MgrEast, so
// "the department manager" means something.
func approvalOrg(t *testing.T, db *store.DB) *testorg.Org {
	t.Helper()
	o := testorg.New(t, db)
	d := o.East1
	d.ManagerID = o.MgrEast.UserID
	if _, err := o.Svc.UpdateDepartment(context.Background(), o.Admin, d); err != nil {
		t.Fatal(err)
	}
	return o
}

func setPolicy(t *testing.T, o *testorg.Org, p crm.ApprovalPolicy) {
	t.Helper()
	p.Enabled = true
	if o.Admin.SecondFactorAt.IsZero() {
		o.StepUp(t, o.Admin)
	}
	if _, err := o.Svc.SaveApprovalPolicy(context.Background(), o.Admin, p); err != nil {
		t.Fatalf("save policy %s: %v", p.Kind, err)
	}
}

// pendingID checks that err says "filed for approval" and returns the request.
func pendingID(t *testing.T, err error) int64 {
	t.Helper()
	var ce *crm.Error
	if !errorsAs(err, &ce) || ce.Code != crm.Pending || ce.Ref == 0 {
		t.Fatalf("error = %v, want a filed approval request", err)
	}
	return ce.Ref
}

func decide(t *testing.T, o *testorg.Org, a *access.Actor, id int64, approve bool) (crm.ApprovalRequest, error) {
	t.Helper()
	if a.SecondFactorAt.IsZero() {
		o.StepUp(t, a) // deciding needs a fresh second factor
	}
	d := service.Decision{Approve: approve}
	if !approve {
		d.Comment = "not now"
	}
	return o.Svc.DecideApproval(context.Background(), a, id, d)
}

func TestApprovalTransferTwoLevels(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := approvalOrg(t, db)
		setPolicy(t, o, crm.ApprovalPolicy{Kind: crm.ApproveTransfer, Steps: []crm.ApprovalStep{{Type: "manager"}, {Type: "role", RoleKey: "admin"}}})
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "无锡太湖机械"})

		id := pendingID(t, o.Svc.TransferRecord(ctx, o.Rep1, crm.ObjCustomer, c.ID, o.Rep3.UserID, 0))
		if got, _ := o.Svc.GetCustomer(ctx, o.Rep1, c.ID); got.OwnerID != o.Rep1.UserID {
			t.Fatalf("the transfer applied before approval: owner %d", got.OwnerID)
		}
		// Who sees what.
		list, err := o.Svc.ListApprovals(ctx, o.MgrEast)
		if err != nil || len(list.ToDecide) != 1 || list.ToDecide[0].ID != id {
			t.Fatalf("manager's list: %v %+v", err, list)
		}
		if list, _ := o.Svc.ListApprovals(ctx, o.Admin); len(list.ToDecide) != 0 {
			t.Fatalf("the second level sees the request before the first decided: %+v", list.ToDecide)
		}
		if mine, _ := o.Svc.ListApprovals(ctx, o.Rep1); len(mine.Requested) != 1 || len(mine.ToDecide) != 0 {
			t.Fatalf("requester's list: %+v", mine)
		}
		if _, err := o.Svc.GetApproval(ctx, o.Rep2, id); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("a bystander reads the request: %v", err)
		}

		// The requester never decides; nor does someone not at this level.
		_, err = decide(t, o, o.Rep1, id, true)
		wantCode(t, err, crm.Forbidden)
		_, err = decide(t, o, o.Admin, id, true)
		wantCode(t, err, crm.Forbidden)
		_, err = o.Svc.DecideApproval(ctx, o.MgrEast, id, service.Decision{Approve: true})
		wantCode(t, err, crm.StepUpRequired)
		o.StepUp(t, o.MgrEast)
		_, err = o.Svc.DecideApproval(ctx, o.MgrEast, id, service.Decision{Approve: false})
		wantField(t, err, "comment", "required")

		r, err := decide(t, o, o.MgrEast, id, true)
		if err != nil || r.Status != crm.ApprovalPending || r.Step != 1 {
			t.Fatalf("first level: %v %+v", err, r)
		}
		_, err = decide(t, o, o.MgrEast, id, true)
		wantCode(t, err, crm.Forbidden)
		r, err = decide(t, o, o.Admin, id, true)
		if err != nil || r.Status != crm.ApprovalApplied {
			t.Fatalf("last level: %v %+v", err, r)
		}
		if got, err := o.Svc.GetCustomer(ctx, o.Rep3, c.ID); err != nil || got.OwnerID != o.Rep3.UserID {
			t.Fatalf("after approval: %v owner %d", err, got.OwnerID)
		}
		_, err = decide(t, o, o.Admin, id, true)
		wantCode(t, err, crm.Conflict)
		for _, action := range []string{"approval.request", "approval.decide", "customer.transfer"} {
			if ev, _ := listEvents(db, action); len(ev) == 0 {
				t.Fatalf("no %s event", action)
			}
		}
	})
}

func TestApprovalStaleRejectedAndFailed(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := approvalOrg(t, db)
		setPolicy(t, o, crm.ApprovalPolicy{Kind: crm.ApproveKeyField, Steps: []crm.ApprovalStep{{Type: "manager"}},
			Fields: map[crm.Object][]string{crm.ObjCustomer: {"phone"}}})
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "常州龙城化工", Phone: "13800001111"})

		// Other fields change at once; the key field waits.
		c, err := o.Svc.UpdateCustomer(ctx, o.Rep1, c.ID, crm.CustomerUpdate{Version: c.Version, Level: new("A")})
		if err != nil {
			t.Fatal(err)
		}
		_, err = o.Svc.UpdateCustomer(ctx, o.Rep1, c.ID, crm.CustomerUpdate{Version: c.Version, Phone: new("13900002222")})
		stale := pendingID(t, err)
		// The record changes before the decision: approving it is refused.
		if _, err := o.Svc.UpdateCustomer(ctx, o.Rep1, c.ID, crm.CustomerUpdate{Version: c.Version, Industry: new("化工")}); err != nil {
			t.Fatal(err)
		}
		r, err := decide(t, o, o.MgrEast, stale, true)
		wantCode(t, err, crm.Conflict)
		if got, _ := o.Svc.GetApproval(ctx, o.Rep1, stale); got.Status != crm.ApprovalStale {
			t.Fatalf("stale request: %+v %+v", got, r)
		}
		if got, _ := o.Svc.GetCustomer(ctx, o.Rep1, c.ID); got.Phone != "+8613800001111" {
			t.Fatalf("phone changed: %s", got.Phone)
		}

		// Rejected: nothing changes.
		c, _ = o.Svc.GetCustomer(ctx, o.Rep1, c.ID)
		_, err = o.Svc.UpdateCustomer(ctx, o.Rep1, c.ID, crm.CustomerUpdate{Version: c.Version, Phone: new("13900002222")})
		rejected := pendingID(t, err)
		if r, err := decide(t, o, o.MgrEast, rejected, false); err != nil || r.Status != crm.ApprovalRejected {
			t.Fatalf("reject: %v %+v", err, r)
		}
		// Approved: the requester's change applies as it was asked.
		_, err = o.Svc.UpdateCustomer(ctx, o.Rep1, c.ID, crm.CustomerUpdate{Version: c.Version, Phone: new("13900002222")})
		approved := pendingID(t, err)
		if r, err := decide(t, o, o.MgrEast, approved, true); err != nil || r.Status != crm.ApprovalApplied {
			t.Fatalf("approve: %v %+v", err, r)
		}
		if got, _ := o.Svc.GetCustomer(ctx, o.Rep1, c.ID); got.Phone != "+8613900002222" || got.UpdatedBy != o.Rep1.UserID {
			t.Fatalf("approved change: %+v", got)
		}

		// Approved, but the requester may no longer make the change: failed.
		c, _ = o.Svc.GetCustomer(ctx, o.Rep1, c.ID)
		_, err = o.Svc.UpdateCustomer(ctx, o.Rep1, c.ID, crm.CustomerUpdate{Version: c.Version, Phone: new("13700003333")})
		failing := pendingID(t, err)
		if err := o.Svc.ReleaseCustomer(ctx, o.Rep1, c.ID); err != nil {
			t.Fatal(err)
		}
		r, err = decide(t, o, o.MgrEast, failing, true)
		if err == nil || r.Status != crm.ApprovalFailed || r.Result == "" {
			t.Fatalf("failed carry-out: %v %+v", err, r)
		}
	})
}

func TestApprovalWonAmountAndBulkDelete(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := approvalOrg(t, db)
		mgrRole := []crm.ApprovalStep{{Type: "role", RoleKey: "manager"}}
		setPolicy(t, o, crm.ApprovalPolicy{Kind: crm.ApproveWon, Steps: mgrRole})
		setPolicy(t, o, crm.ApprovalPolicy{Kind: crm.ApproveLargeAmount, Threshold: 100_000_000, Steps: mgrRole})
		setPolicy(t, o, crm.ApprovalPolicy{Kind: crm.ApproveBulkDelete, Threshold: 2, Steps: mgrRole})
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "南通江海纺织"})

		// A large deal waits for approval, then exists as the requester's.
		_, err := o.Svc.CreateOpportunity(ctx, o.Rep1, crm.OpportunityFields{CustomerID: c.ID, Name: "整厂改造", Amount: 500_000_000})
		big := pendingID(t, err)
		if page, _ := o.Svc.ListOpportunities(ctx, o.Rep1, crm.ListFilter{}); page.Total != 0 {
			t.Fatalf("large deal created before approval")
		}
		if _, err := decide(t, o, o.MgrWest, big, true); err != nil {
			t.Fatal(err)
		}
		page, _ := o.Svc.ListOpportunities(ctx, o.Rep1, crm.ListFilter{})
		if page.Total != 1 || page.Items[0].OwnerID != o.Rep1.UserID {
			t.Fatalf("large deal after approval: %+v", page)
		}
		opp := page.Items[0]

		// Winning waits too.
		stages, _ := o.Svc.Stages(ctx, o.Rep1)
		var won int64
		for _, st := range stages {
			if st.Kind == crm.StageWon {
				won = st.ID
			}
		}
		_, err = o.Svc.MoveOpportunity(ctx, o.Rep1, opp.ID, crm.StageMove{Version: opp.Version, StageID: won})
		win := pendingID(t, err)
		if _, err := decide(t, o, o.MgrEast, win, true); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := o.Svc.GetOpportunity(ctx, o.Rep1, opp.ID); got.StageID != won {
			t.Fatalf("won after approval: stage %d", got.StageID)
		}

		// Deleting up to the threshold is direct; above it waits.
		var ids []int64
		for _, n := range []string{"甲", "乙", "丙", "丁", "戊"} {
			ids = append(ids, o.Customer(t, o.Rep1, crm.CustomerFields{Name: "盐城" + n + "贸易"}).ID)
		}
		_, err = o.Svc.BulkDelete(ctx, o.Rep1, crm.ObjCustomer, ids[:2])
		wantCode(t, err, crm.StepUpRequired)
		o.StepUp(t, o.Rep1)
		o.StepUp(t, o.Rep2)
		if n, err := o.Svc.BulkDelete(ctx, o.Rep1, crm.ObjCustomer, ids[:2]); err != nil || n != 2 {
			t.Fatalf("small bulk delete: %d %v", n, err)
		}
		_, err = o.Svc.BulkDelete(ctx, o.Rep1, crm.ObjCustomer, append(ids[2:], c.ID))
		bulk := pendingID(t, err)
		if _, err := o.Svc.BulkDelete(ctx, o.Rep2, crm.ObjCustomer, ids[2:]); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("bulk delete of others' records: %v", err)
		}
		if _, err := decide(t, o, o.MgrEast, bulk, true); err != nil {
			t.Fatal(err)
		}
		if page, _ := o.Svc.ListCustomers(ctx, o.Rep1, crm.CustomerFilter{}); page.Total != 0 {
			t.Fatalf("customers left after approved bulk delete: %d", page.Total)
		}
	})
}

// TestApprovalShowsWhatTheRoleMay: a request carries the requested values;
// an approver sees them as their role's field rules allow — a hidden field's
// value is left out, a masked one masked — in the request, the inbox and
// the answer to a decision, and an amount they may not see is not in the
// summary either. Carrying the change out still uses the full values.
func TestApprovalShowsWhatTheRoleMay(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := approvalOrg(t, db)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "嘉兴南湖丝绸", Phone: "13800001111"})
		role := o.Roles["manager"]
		for obj, rules := range map[crm.Object]map[string]crm.FieldAccess{
			crm.ObjCustomer:    {"phone": crm.FieldMasked, "email": crm.FieldHidden},
			crm.ObjOpportunity: {"amount": crm.FieldHidden},
		} {
			g := role.Grants[obj]
			g.Fields = rules
			role.Grants[obj] = g
		}
		o.StepUp(t, o.Admin)
		if _, err := o.Svc.SaveRole(ctx, o.Admin, role); err != nil {
			t.Fatal(err)
		}
		setPolicy(t, o, crm.ApprovalPolicy{Kind: crm.ApproveKeyField, Fields: map[crm.Object][]string{crm.ObjCustomer: {"phone", "email"}},
			Steps: []crm.ApprovalStep{{Type: "manager"}}})
		setPolicy(t, o, crm.ApprovalPolicy{Kind: crm.ApproveLargeAmount, Threshold: 1000, Steps: []crm.ApprovalStep{{Type: "manager"}}})
		phone, email := "13900002222", "secret.buyer@nanhu.example"
		_, err := o.Svc.UpdateCustomer(ctx, o.Rep1, c.ID, crm.CustomerUpdate{Version: c.Version, Phone: &phone, Email: &email})
		change := pendingID(t, err)
		_, err = o.Svc.CreateOpportunity(ctx, o.Rep1, crm.OpportunityFields{CustomerID: c.ID, Name: "丝绸大单", Amount: 987654})
		big := pendingID(t, err)

		mgr := testorg.Actor(t, o.Svc, o.MgrEast.UserID)
		r, err := o.Svc.GetApproval(ctx, mgr, change)
		if err != nil {
			t.Fatal(err)
		}
		if p := string(r.Payload); !strings.Contains(p, `"phone":"139****2222"`) || strings.Contains(p, "00002222") || strings.Contains(p, "secret.buyer") {
			t.Fatalf("the approver's view of the change: %s", p)
		}
		list, err := o.Svc.ListApprovals(ctx, mgr)
		if err != nil || len(list.ToDecide) != 2 {
			t.Fatalf("inbox: %+v %v", list, err)
		}
		for _, r := range list.ToDecide {
			if p := string(r.Payload) + r.Summary; strings.Contains(p, "00002222") || strings.Contains(p, "secret.buyer") || strings.Contains(p, "987654") {
				t.Fatalf("the inbox shows a value the role may not see: %s", p)
			}
		}
		// The requester's own view keeps what sales may see: everything.
		mine, _ := o.Svc.GetApproval(ctx, o.Rep1, big)
		if !strings.Contains(string(mine.Payload), "987654") {
			t.Fatalf("the requester's request: %s", mine.Payload)
		}
		decided, err := decide(t, o, mgr, change, true)
		if err != nil || strings.Contains(string(decided.Payload), "secret.buyer") {
			t.Fatalf("decision: %s %v", decided.Payload, err)
		}
		got, _ := o.Svc.GetCustomer(ctx, o.Rep1, c.ID)
		if got.Phone != "+8613900002222" || got.Email != email {
			t.Fatalf("the change was carried out with the full values: %+v", got.CustomerFields)
		}
	})
}
