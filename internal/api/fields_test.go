package api_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestFieldRulesAPI: the API returns what the role may see, names the
// masked and hidden fields, refuses changes to them by name and reveals a
// masked value on request.
func TestFieldRulesAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		srv := newServer(t, o)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "上海云杉软件", Phone: "13912345678", CreditCode: "91350100M000100Y43"})
		role := o.Roles["manager"]
		g := role.Grants[crm.ObjCustomer]
		g.Fields = map[string]crm.FieldAccess{"phone": crm.FieldMasked, "credit_code": crm.FieldHidden}
		g.Reveal = true
		role.Grants[crm.ObjCustomer] = g
		o.StepUp(t, o.Admin) // changing a role needs a fresh second factor
		if _, err := o.Svc.SaveRole(ctx, o.Admin, role); err != nil {
			t.Fatal(err)
		}
		mgr := token(t, o, o.MgrEast)
		path := "/api/v1/customers/" + strconv.FormatInt(c.ID, 10)
		en := map[string]string{"Accept-Language": "en"}
		for _, sc := range []scenario{
			{name: "masked and hidden", token: mgr, method: "GET", path: path, wantStatus: 200,
				wantContains:    []string{`"phone":"139****5678"`, `"masked_fields":["phone"]`, `"hidden_fields":["credit_code"]`},
				wantNotContains: []string{"12345678", "M000100"}},
			{name: "list", token: mgr, method: "GET", path: "/api/v1/customers", wantStatus: 200,
				wantContains: []string{`"phone":"139****5678"`}, wantNotContains: []string{"12345678", "M000100"}},
			{name: "search by hidden credit code finds nothing", token: mgr, method: "GET", path: "/api/v1/search?q=91350100M000100Y43", wantStatus: 200,
				wantNotContains: []string{"云杉"}},
			{name: "echo is no change", token: mgr, method: "PATCH", path: path, body: `{"version":1,"phone":"139****5678","credit_code":"","industry":"软件"}`,
				wantStatus: 200, wantContains: []string{`"version":2`, `"phone":"139****5678"`}, wantNotContains: []string{"12345678"}},
			{name: "change refused by name", token: mgr, method: "PATCH", path: path, header: en, body: `{"version":2,"phone":"13800000000"}`,
				wantStatus: 422, wantContains: []string{`"field":"phone"`, `"rule":"read_only"`, "may not be changed by your role"}},
			{name: "reveal", token: mgr, method: "POST", path: path + "/reveal", body: `{"field":"phone"}`, wantStatus: 200,
				wantContains: []string{`"value":"+8613912345678"`}},
			{name: "reveal hidden refused", token: mgr, method: "POST", path: path + "/reveal", body: `{"field":"credit_code"}`, wantStatus: 403,
				wantNotContains: []string{"M000100"}},
			{name: "reveal unknown field", token: mgr, method: "POST", path: path + "/reveal", body: `{"field":"owner_id"}`, wantStatus: 422},
			{name: "reveal out of scope is not found", token: token(t, o, o.Rep3), method: "POST", path: path + "/reveal", body: `{"field":"phone"}`, wantStatus: 404},
		} {
			sc.run(t, srv)
		}
		if got, _ := o.Svc.GetCustomer(ctx, o.Rep1, c.ID); got.Phone != "+8613912345678" || got.CreditCode != "91350100M000100Y43" {
			t.Fatalf("stored values changed: %+v", got.CustomerFields)
		}
	})
}

func TestOffboardAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := testorg.New(t, db)
		srv := newServer(t, o)
		o.Customer(t, o.Rep1, crm.CustomerFields{Name: "宁波港湾物流"})
		admin, rep1, rep2 := token(t, o, o.Admin), token(t, o, o.Rep1), token(t, o, o.Rep2)
		user := "/api/v1/users/" + strconv.FormatInt(o.Rep1.UserID, 10)
		run := func(scs ...scenario) {
			for _, sc := range scs {
				sc.run(t, srv)
			}
		}
		run(
			scenario{name: "counts", token: admin, method: "GET", path: user + "/handover", wantStatus: 200, wantContains: []string{`"customer":1`}},
			scenario{name: "sales may not offboard", token: rep2, method: "POST", path: user + "/offboard", body: `{"customers_to":0}`, wantStatus: 403},
			scenario{name: "unknown field", token: admin, method: "POST", path: user + "/offboard", body: `{"to":1}`, wantStatus: 422},
			// Offboarding needs a fresh second factor, which a token cannot give.
			scenario{name: "not with a token", token: admin, method: "POST", path: user + "/offboard", body: `{"customers_to":0}`,
				wantStatus: 403, wantContains: []string{`"code":"step_up_required"`}},
		)
		o.StepUp(t, o.Admin)
		if _, err := o.Svc.Offboard(context.Background(), o.Admin, o.Rep1.UserID, service.Handover{CustomersTo: o.Rep2.UserID}); err != nil {
			t.Fatal(err)
		}
		run(
			scenario{name: "token refused at once", token: rep1, method: "GET", path: "/api/v1/customers", wantStatus: 401},
			scenario{name: "taker sees the customer", token: rep2, method: "GET", path: "/api/v1/customers", wantStatus: 200, wantContains: []string{"港湾"}},
			scenario{name: "activity", token: admin, method: "GET", path: user + "/activity?days=90", wantStatus: 200, wantContains: []string{`"action":"customer.create"`}},
			scenario{name: "activity bad days", token: admin, method: "GET", path: user + "/activity?days=0", wantStatus: 422},
		)
	})
}

func TestApprovalsAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		srv := newServer(t, o)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "嘉兴南湖电器"})
		admin, rep1, rep3, mgrW := token(t, o, o.Admin), token(t, o, o.Rep1), token(t, o, o.Rep3), token(t, o, o.MgrWest)
		cust := "/api/v1/customers/" + strconv.FormatInt(c.ID, 10)
		rep3ID := strconv.FormatInt(o.Rep3.UserID, 10)
		en := map[string]string{"Accept-Language": "en"}
		run := func(scs ...scenario) {
			for _, sc := range scs {
				sc.run(t, srv)
			}
		}
		run(
			scenario{name: "policies need admin", token: rep1, method: "PUT", path: "/api/v1/approval-policies/transfer", body: `{"enabled":true,"steps":[{"type":"role","role_key":"manager"}]}`, wantStatus: 403},
			scenario{name: "policies need a second factor", token: admin, method: "PUT", path: "/api/v1/approval-policies/transfer", body: `{"enabled":true,"steps":[{"type":"role","role_key":"manager"}]}`,
				wantStatus: 403, wantContains: []string{`"code":"step_up_required"`}},
			scenario{name: "policy list", token: admin, method: "GET", path: "/api/v1/approval-policies", wantStatus: 200, wantContains: []string{`"kind":"bulk_export"`}},
		)
		o.StepUp(t, o.Admin)
		_, err := o.Svc.SaveApprovalPolicy(ctx, o.Admin, crm.ApprovalPolicy{Kind: crm.ApproveTransfer, Enabled: true})
		if ce := (*crm.Error)(nil); !errors.As(err, &ce) || ce.Fields[0].Field != "steps" {
			t.Fatalf("policy without steps: %v", err)
		}
		if _, err := o.Svc.SaveApprovalPolicy(ctx, o.Admin, crm.ApprovalPolicy{Kind: crm.ApproveTransfer, Enabled: true,
			Steps: []crm.ApprovalStep{{Type: "role", RoleKey: "manager"}}}); err != nil {
			t.Fatal(err)
		}
		run(
			scenario{name: "transfer is filed", token: rep1, method: "POST", path: cust + "/transfer", header: en, body: `{"to":` + rep3ID + `,"version":1}`, wantStatus: 202,
				wantContains: []string{`"status":"pending_approval"`, `"approval_request_id":1`, "needs approval"}},
			scenario{name: "not applied yet", token: rep3, method: "GET", path: cust, wantStatus: 404},
			scenario{name: "requester sees it", token: rep1, method: "GET", path: "/api/v1/approvals", wantStatus: 200, wantContains: []string{`"requested":[{"id":1`}},
			scenario{name: "approver sees it", token: mgrW, method: "GET", path: "/api/v1/approvals/1", wantStatus: 200, wantContains: []string{`"status":"pending"`}},
			scenario{name: "self approval refused", token: rep1, method: "POST", path: "/api/v1/approvals/1/decision", body: `{"approve":true}`, wantStatus: 403},
			scenario{name: "bystander cannot read it", token: rep3, method: "GET", path: "/api/v1/approvals/1", wantStatus: 404},
			scenario{name: "deciding needs a second factor", token: mgrW, method: "POST", path: "/api/v1/approvals/1/decision", body: `{"approve":true,"comment":"ok"}`,
				wantStatus: 403, wantContains: []string{`"code":"step_up_required"`}},
		)
		o.StepUp(t, o.MgrWest)
		if r, err := o.Svc.DecideApproval(ctx, o.MgrWest, 1, service.Decision{Approve: true}); err != nil || r.Status != crm.ApprovalApplied {
			t.Fatalf("approve: %v %+v", err, r)
		}
		run(
			scenario{name: "applied", token: rep3, method: "GET", path: cust, wantStatus: 200, wantContains: []string{"南湖"}},
			scenario{name: "bulk delete needs a second factor", token: rep3, method: "POST", path: "/api/v1/customers/bulk-delete", body: `{"ids":[` + strconv.FormatInt(c.ID, 10) + `]}`,
				wantStatus: 403, wantContains: []string{`"code":"step_up_required"`}},
		)
	})
}

func TestSharesAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := testorg.New(t, db)
		srv := newServer(t, o)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "绍兴黄酒集团"})
		rep1, rep3 := token(t, o, o.Rep1), token(t, o, o.Rep3)
		cust := "/api/v1/customers/" + strconv.FormatInt(c.ID, 10)
		rep3ID := strconv.FormatInt(o.Rep3.UserID, 10)
		for _, sc := range []scenario{
			{name: "not shared yet", token: rep3, method: "GET", path: cust, wantStatus: 404},
			{name: "bad level", token: rep1, method: "POST", path: cust + "/shares", body: `{"user_id":` + rep3ID + `,"level":"own"}`, wantStatus: 422, wantContains: []string{`"field":"level"`}},
			{name: "share", token: rep1, method: "POST", path: cust + "/shares", body: `{"user_id":` + rep3ID + `,"level":"read"}`, wantStatus: 201, wantContains: []string{`"level":"read"`}},
			{name: "shared read", token: rep3, method: "GET", path: cust, wantStatus: 200, wantContains: []string{"黄酒"}},
			{name: "shared list", token: rep3, method: "GET", path: "/api/v1/customers", wantStatus: 200, wantContains: []string{"黄酒"}},
			{name: "no edit on a read share", token: rep3, method: "PATCH", path: cust, body: `{"version":1,"level":"A"}`, wantStatus: 404},
			{name: "sharee cannot list the shares", token: rep3, method: "GET", path: cust + "/shares", wantStatus: 404},
			{name: "owner lists them", token: rep1, method: "GET", path: cust + "/shares", wantStatus: 200, wantContains: []string{`"user_name":"User rep3"`}},
			{name: "my grants", token: rep1, method: "GET", path: "/api/v1/shares", wantStatus: 200, wantContains: []string{`"id":1`}},
			{name: "revoke", token: rep1, method: "POST", path: "/api/v1/shares/revoke", body: `{"ids":[1]}`, wantStatus: 204},
			{name: "gone", token: rep3, method: "GET", path: cust, wantStatus: 404},
		} {
			sc.run(t, srv)
		}
	})
}

func TestAuditAPI(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		raw := testdb.Raw(t, d, opt)
		o := testorg.New(t, db)
		srv := newServer(t, o)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "金华火腿"})
		auditor := token(t, o, o.User(t, "auditor1", o.HQ.ID, "auditor"))
		rep1, rep3 := token(t, o, o.Rep1), token(t, o, o.Rep3)
		hist := "/api/v1/customers/" + strconv.FormatInt(c.ID, 10) + "/history"
		for _, sc := range []scenario{
			{name: "trail", token: auditor, method: "GET", path: "/api/v1/audit-events?action=customer.create", wantStatus: 200, wantContains: []string{`"action":"customer.create"`},
				wantNotContains: []string{`"archived_through"`}},
			{name: "bad since", token: auditor, method: "GET", path: "/api/v1/audit-events?since=yesterday", wantStatus: 422, wantContains: []string{`"field":"since"`}},
			{name: "no trail for reps", token: rep1, method: "GET", path: "/api/v1/audit-events", wantStatus: 403},
			{name: "history", token: rep1, method: "GET", path: hist, wantStatus: 200, wantContains: []string{`"action":"customer.create"`}},
			{name: "history of others", token: rep3, method: "GET", path: hist, wantStatus: 404},
			{name: "auditor reads no customer", token: auditor, method: "GET", path: "/api/v1/customers/" + strconv.FormatInt(c.ID, 10), wantStatus: 403},
		} {
			sc.run(t, srv)
		}
		// Once events are archived, the trail and the history say up to when.
		if _, err := raw.Exec(`INSERT INTO audit_segments (number, first_seq, last_seq, events, first_at, last_at, prev, head, sha256, file, note, created_at)
			VALUES (1, 1, 40, 40, 1420070400000, 1420156800000, '', 'h', 's', '000001-1-40.jsonl.gz', 'n', 1420156800000)`); err != nil {
			t.Fatal(err)
		}
		archived := []string{`"archived_through":"2015-01-02T00:00:00Z"`, `"archived_seq":40`}
		scenario{name: "trail after an archive", token: auditor, method: "GET", path: "/api/v1/audit-events", wantStatus: 200, wantContains: archived}.run(t, srv)
		scenario{name: "history after an archive", token: rep1, method: "GET", path: hist, wantStatus: 200, wantContains: archived}.run(t, srv)
	})
}
