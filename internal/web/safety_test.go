package web

// Page tests of the safety features: field rules and reveal, offboarding,
// approvals, access review and job changes, the audit trail, versions.

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestFieldRulesInPages sets field rules through the role form and checks
// that the pages show the masked value, never the real one, and that the
// reveal button shows it to a role allowed to reveal.
func TestFieldRulesInPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		cust := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "杭州云栖科技"})
		ct, err := o.svc.CreateContact(ctx, o.rep1, crm.ContactFields{CustomerID: cust.ID, Name: "张伟", Mobile: "13812345678", Email: "zhang.wei@yunqi.cn"})
		if err != nil {
			t.Fatal(err)
		}

		admin := signInAdmin(t, s, o)
		// Changing a role needs a fresh second factor: the form carries a
		// code, as the step-up page re-submits it.
		f := o.t.EnrolMFA(t, o.admin)
		form := url.Values{"csrf": {admin.csrf}, "step_up_code": {f.Recovery[0]}, "name": {"Manager"}, "fr.contact.mobile": {"masked"},
			"fr.contact.email": {"hidden"}, "fr.contact.name": {"editable"}, "reveal.contact": {"on"}}
		for _, obj := range crm.Objects {
			for _, act := range []string{"read", "create", "edit", "delete"} {
				form.Set(act+"."+string(obj), "on")
			}
			form.Set("scope."+string(obj), "subtree")
		}
		path := "/admin/roles/" + strconv.FormatInt(o.roles["manager"].ID, 10)
		if rec := s.do(admin, "POST", path, form, nil); rec.Code != http.StatusSeeOther {
			t.Fatalf("save role: %d %s", rec.Code, rec.Body.String())
		}
		page := s.do(admin, "GET", path, nil, nil).Body.String()
		for _, want := range []string{`<option value="masked" selected>`, `<option value="hidden" selected>`, `name="reveal.contact" checked`} {
			if !strings.Contains(page, want) {
				t.Fatalf("role form does not show %s", want)
			}
		}

		mgr := s.signIn("mgr.east", testPassword)
		contactPath := "/contacts/" + strconv.FormatInt(ct.ID, 10)
		for _, p := range []string{contactPath, "/customers/" + strconv.FormatInt(cust.ID, 10), "/contacts", "/search?q=张伟"} {
			body := s.do(mgr, "GET", p, nil, nil).Body.String()
			if strings.Contains(body, "12345678") || strings.Contains(body, "zhang.wei") {
				t.Fatalf("%s shows a masked or hidden value", p)
			}
			if strings.HasPrefix(p, "/c") && p != "/contacts" && !strings.Contains(body, "138****5678") {
				t.Fatalf("%s does not show the masked mobile", p)
			}
		}
		revealPath := "/reveal/contact/" + strconv.FormatInt(ct.ID, 10)
		if rec := s.do(mgr, "POST", revealPath, url.Values{"field": {"mobile"}}, nil); rec.Code != http.StatusForbidden {
			t.Fatalf("reveal without CSRF token: %d", rec.Code)
		}
		rec := s.do(mgr, "POST", revealPath, url.Values{"field": {"mobile"}, "csrf": {mgr.csrf}}, map[string]string{"HX-Request": "true"})
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "8613812345678") || strings.Contains(rec.Body.String(), "<html") {
			t.Fatalf("reveal: %d %s", rec.Code, rec.Body.String())
		}
		rec = s.do(mgr, "POST", revealPath, url.Values{"field": {"email"}, "csrf": {mgr.csrf}}, nil)
		if rec.Code != http.StatusForbidden || strings.Contains(rec.Body.String(), "zhang.wei") {
			t.Fatalf("reveal of a hidden field: %d", rec.Code)
		}
		rep3 := s.signIn("rep3", testPassword)
		if rec := s.do(rep3, "POST", revealPath, url.Values{"field": {"mobile"}, "csrf": {rep3.csrf}}, nil); rec.Code != http.StatusNotFound {
			t.Fatalf("reveal outside the scope: %d", rec.Code)
		}
	})
}

// TestOffboardPage walks the hand-over form: a refused plan keeps the
// choices and names the field; the accepted one disables the user at once
// and shows the activity report.
func TestOffboardPage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "宁波港湾物流"})
		if _, err := o.svc.CreateLead(ctx, o.rep1, crm.LeadFields{Name: "周杰"}); err != nil {
			t.Fatal(err)
		}
		rep1 := s.signIn("rep1", testPassword)
		admin := signInAdmin(t, s, o)
		f := o.t.EnrolMFA(t, o.admin) // offboarding needs a fresh second factor
		path := "/admin/users/" + strconv.FormatInt(o.rep1.UserID, 10) + "/offboard"
		page := s.do(admin, "GET", path, nil, nil).Body.String()
		if !strings.Contains(page, "离职交接") || !strings.Contains(page, "公海") {
			t.Fatalf("offboard form: %s", page)
		}
		rec := s.do(admin, "POST", path, url.Values{"csrf": {admin.csrf}, "step_up_code": {f.Recovery[0]}, "customers_to": {""}, "others_to": {""}}, nil)
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "联系人、线索、商机和任务交给") {
			t.Fatalf("refused plan: %d", rec.Code)
		}
		if s.do(rep1, "GET", "/customers", nil, nil).Code != http.StatusOK {
			t.Fatal("a refused plan signed rep1 out")
		}
		rec = s.do(admin, "POST", path, url.Values{"csrf": {admin.csrf}, "customers_to": {""}, "others_to": {strconv.FormatInt(o.rep2.UserID, 10)}}, nil)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "customer.create") {
			t.Fatalf("offboard: %d %s", rec.Code, rec.Body.String())
		}
		if rec := s.do(rep1, "GET", "/customers", nil, nil); rec.Code != http.StatusSeeOther {
			t.Fatalf("rep1 after offboarding: %d", rec.Code)
		}
	})
}

// TestApprovalPages: a hand-over filed from the customer page shows its
// request; the approver decides on the request page; a rejection without a
// comment keeps the page with the field error.
func TestApprovalPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		o.t.StepUp(t, o.admin)
		if _, err := o.svc.SaveApprovalPolicy(ctx, o.admin, crm.ApprovalPolicy{Kind: crm.ApproveTransfer, Enabled: true,
			Steps: []crm.ApprovalStep{{Type: "role", RoleKey: "manager"}}}); err != nil {
			t.Fatal(err)
		}
		c := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "嘉兴南湖电器"})
		rep1 := s.signIn("rep1", testPassword)
		custPath := "/customers/" + strconv.FormatInt(c.ID, 10)
		if page := s.do(rep1, "GET", custPath, nil, nil).Body.String(); !strings.Contains(page, `action="`+custPath+`/transfer"`) {
			t.Fatal("no hand-over form on the customer page")
		}
		rec := s.do(rep1, "POST", custPath+"/transfer", url.Values{"csrf": {rep1.csrf}, "to": {strconv.FormatInt(o.rep2.UserID, 10)}, "version": {"1"}}, nil)
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/approvals/") {
			t.Fatalf("transfer: %d %s", rec.Code, rec.Header().Get("Location"))
		}
		reqPath := rec.Header().Get("Location")
		if page := s.do(rep1, "GET", reqPath, nil, nil).Body.String(); !strings.Contains(page, "待审批") || strings.Contains(page, `value="approve"`) {
			t.Fatal("the requester's view of the request")
		}
		mgr := s.signIn("mgr.east", testPassword)
		mgrMFA := o.t.EnrolMFA(t, o.mgrEast) // deciding needs a fresh second factor
		if page := s.do(mgr, "GET", "/", nil, nil).Body.String(); !strings.Contains(page, "1 个申请等待您审批") {
			t.Fatal("the approver's home page does not say a request waits")
		}
		if page := s.do(mgr, "GET", "/approvals", nil, nil).Body.String(); !strings.Contains(page, `href="`+reqPath+`"`) {
			t.Fatal("the approver's inbox lacks the request")
		}
		rec = s.do(mgr, "POST", reqPath+"/decision", url.Values{"csrf": {mgr.csrf}, "step_up_code": {mgrMFA.Recovery[0]}, "decision": {"reject"}}, nil)
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "意见") {
			t.Fatalf("reject without comment: %d", rec.Code)
		}
		if rec := s.do(mgr, "POST", reqPath+"/decision", url.Values{"csrf": {mgr.csrf}, "decision": {"approve"}}, nil); rec.Code != http.StatusSeeOther {
			t.Fatalf("approve: %d", rec.Code)
		}
		if page := s.do(rep1, "GET", "/", nil, nil).Body.String(); !strings.Contains(page, `href="`+reqPath+`"`) {
			t.Fatal("the requester's home page does not show the decided request")
		}
		if page := s.do(rep1, "GET", reqPath, nil, nil).Body.String(); !strings.Contains(page, "已生效") {
			t.Fatal("the request does not show as applied")
		}
		if got, err := o.svc.GetCustomer(ctx, o.rep2, c.ID); err != nil || got.OwnerID != o.rep2.UserID {
			t.Fatalf("after approval: %v %d", err, got.OwnerID)
		}
	})
}

// TestReviewAndJobPages: a manager reviews their department and revokes a
// subordinate's token there; an administrator previews a move and makes it.
func TestReviewAndJobPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		d := o.east
		d.ManagerID = o.mgrEast.UserID
		if _, err := o.svc.UpdateDepartment(ctx, o.admin, d); err != nil {
			t.Fatal(err)
		}
		o.t.Token(t, o.rep1)
		mgr := s.signIn("mgr.east", testPassword)
		page := s.do(mgr, "GET", "/review", nil, nil).Body.String()
		if !strings.Contains(page, "User rep1") || strings.Contains(page, "User rep3") || !strings.Contains(page, "需要复核") {
			t.Fatalf("review page: %s", page)
		}
		tokens, _ := o.svc.ListAPITokens(ctx, o.rep1)
		rec := s.do(mgr, "POST", "/review/tokens", url.Values{"csrf": {mgr.csrf}, "user_id": {strconv.FormatInt(o.rep1.UserID, 10)},
			"token_id": {strconv.FormatInt(tokens[0].ID, 10)}}, nil)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("revoke token: %d", rec.Code)
		}
		if rec := s.do(mgr, "POST", "/review/confirm", url.Values{"csrf": {mgr.csrf}}, nil); rec.Code != http.StatusSeeOther {
			t.Fatalf("confirm: %d", rec.Code)
		}
		if page := s.do(mgr, "GET", "/review", nil, nil).Body.String(); strings.Contains(page, "需要复核") {
			t.Fatal("still due after confirming")
		}
		rep3 := s.signIn("rep3", testPassword)
		if rec := s.do(rep3, "GET", "/review", nil, nil); rec.Code != http.StatusForbidden {
			t.Fatalf("a rep's review: %d", rec.Code)
		}

		admin := signInAdmin(t, s, o)
		f := o.t.EnrolMFA(t, o.admin)
		job := "/admin/users/" + strconv.FormatInt(o.rep1.UserID, 10) + "/job"
		page = s.do(admin, "GET", job+"?department_id="+strconv.FormatInt(o.west.ID, 10), nil, nil).Body.String()
		if !strings.Contains(page, "调岗后可见") {
			t.Fatalf("job preview: %s", page)
		}
		rec = s.do(admin, "POST", job, url.Values{"csrf": {admin.csrf}, "step_up_code": {f.Recovery[0]},
			"department_id": {strconv.FormatInt(o.west.ID, 10)}, "role_id": {"0"}}, nil)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("move: %d %s", rec.Code, rec.Body.String())
		}
		if a := testorg.Actor(t, o.svc, o.rep1.UserID); a.DeptID != o.west.ID {
			t.Fatalf("rep1 not moved: dept %d", a.DeptID)
		}
	})
}

// TestAuditPages: the auditor reads the trail and filters it; a rep may
// not; a record's history is on its page for those who may see it.
func TestAuditPages(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		raw := testdb.Raw(t, d, opt)
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		c := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "金华火腿"})
		o.t.User(t, "auditor1", o.hq.ID, "auditor")
		auditor := s.signIn("auditor1", testPassword)
		page := s.do(auditor, "GET", "/audit?action=customer.create", nil, nil)
		if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), "customer.create") || strings.Contains(page.Body.String(), "login.success") {
			t.Fatalf("filtered trail: %d", page.Code)
		}
		rep1 := s.signIn("rep1", testPassword)
		if rec := s.do(rep1, "GET", "/audit", nil, nil); rec.Code != http.StatusForbidden {
			t.Fatalf("a rep reads the trail: %d", rec.Code)
		}
		hist := "/history/customer/" + strconv.FormatInt(c.ID, 10)
		if body := s.do(rep1, "GET", "/customers/"+strconv.FormatInt(c.ID, 10), nil, nil).Body.String(); !strings.Contains(body, `href="`+hist+`"`) {
			t.Fatal("no history link on the customer page")
		}
		if body := s.do(rep1, "GET", hist, nil, nil).Body.String(); !strings.Contains(body, "customer.create") || !strings.Contains(body, "customer.view") {
			t.Fatalf("history: %s", body)
		}
		rep3 := s.signIn("rep3", testPassword)
		if rec := s.do(rep3, "GET", hist, nil, nil); rec.Code != http.StatusNotFound {
			t.Fatalf("history of someone else's customer: %d", rec.Code)
		}
		// Once events are archived, the pages say up to when.
		const note = "custos audit verify"
		if body := s.do(auditor, "GET", "/audit", nil, nil).Body.String(); strings.Contains(body, note) {
			t.Fatal("an archive note before anything was archived")
		}
		if _, err := raw.Exec(`INSERT INTO audit_segments (number, first_seq, last_seq, events, first_at, last_at, prev, head, sha256, file, note, created_at)
			VALUES (1, 1, 40, 40, 1420070400000, 1420156800000, '', 'h', 's', '000001-1-40.jsonl.gz', 'n', 1420156800000)`); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/audit", hist} {
			body := s.do(auditor, "GET", path, nil, nil).Body.String()
			if !strings.Contains(body, note) || !strings.Contains(body, "2015") {
				t.Fatalf("%s says nothing of the archive: %s", path, body)
			}
		}
	})
}

// TestVersionsPage: the versions page shows what changed, and restoring a
// field from it makes a new version.
func TestVersionsPage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		c := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "温岭泵业", Level: "C"})
		if _, err := o.svc.UpdateCustomer(ctx, o.rep1, c.ID, crm.CustomerUpdate{Version: 1, Level: new("A")}); err != nil {
			t.Fatal(err)
		}
		rep1 := s.signIn("rep1", testPassword)
		path := "/versions/customer/" + strconv.FormatInt(c.ID, 10)
		page := s.do(rep1, "GET", path, nil, nil).Body.String()
		if !strings.Contains(page, "<td>C</td><td>A</td>") || !strings.Contains(page, "恢复此值") {
			t.Fatalf("versions page: %s", page)
		}
		rec := s.do(rep1, "POST", path+"/1", url.Values{"csrf": {rep1.csrf}, "current": {"2"}, "field": {"level"}}, nil)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("restore: %d %s", rec.Code, rec.Body.String())
		}
		if got, _ := o.svc.GetCustomer(ctx, o.rep1, c.ID); got.Level != "C" || got.Version != 3 {
			t.Fatalf("after restore: %s v%d", got.Level, got.Version)
		}
		rep3 := s.signIn("rep3", testPassword)
		if rec := s.do(rep3, "GET", path, nil, nil); rec.Code != http.StatusNotFound {
			t.Fatalf("versions of someone else's customer: %d", rec.Code)
		}
	})
}

// TestCustomerPageReadsOnce: opening a customer's page with contacts,
// opportunities, follow-ups and tasks records one view event, and
// recording a follow-up from it records the follow-up and one view.
func TestCustomerPageReadsOnce(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		raw := testdb.Raw(t, d, opt)
		ctx := context.Background()
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		c := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "天一阁书局"})
		_, err := o.svc.CreateContact(ctx, o.rep1, crm.ContactFields{CustomerID: c.ID, Name: "范钦"})
		noErr(t, err)
		_, err = o.svc.CreateOpportunity(ctx, o.rep1, crm.OpportunityFields{CustomerID: c.ID, Name: "藏书整理"})
		noErr(t, err)
		_, err = o.svc.CreateFollowUp(ctx, o.rep1, crm.FollowUpInput{Kind: "call", Content: "约了看书", CustomerID: c.ID})
		noErr(t, err)
		_, err = o.svc.CreateContract(ctx, o.rep1, crm.ContractFields{CustomerID: c.ID, Number: "TYG-1", Name: "藏书整理合同"})
		noErr(t, err)
		rep1 := s.signIn("rep1", testPassword)
		events := func() []string {
			t.Helper()
			rows, err := raw.Query("SELECT action FROM audit_events ORDER BY id")
			noErr(t, err)
			defer rows.Close()
			var out []string
			for rows.Next() {
				var a string
				rows.Scan(&a)
				out = append(out, a)
			}
			return out
		}
		page := "/customers/" + strconv.FormatInt(c.ID, 10)
		before := len(events())
		body := s.do(rep1, "GET", page, nil, nil).Body.String()
		if !strings.Contains(body, "范钦") || !strings.Contains(body, "藏书整理") || !strings.Contains(body, "约了看书") || !strings.Contains(body, "藏书整理合同") {
			t.Fatalf("the page lacks a section:\n%s", excerpt(body))
		}
		if got := events()[before:]; !slices.Equal(got, []string{"customer.view"}) {
			t.Fatalf("opening the page recorded %v", got)
		}
		before = len(events())
		rec := s.do(rep1, "POST", page+"/follow-ups", url.Values{"kind": {"visit"}, "content": {"登门拜访"}, "csrf": {rep1.csrf}},
			map[string]string{"HX-Request": "true"})
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "登门拜访") {
			t.Fatalf("recording a follow-up: %d", rec.Code)
		}
		if got := events()[before:]; !slices.Equal(got, []string{"followup.create", "customer.view"}) {
			t.Fatalf("recording a follow-up recorded %v", got)
		}
	})
}
