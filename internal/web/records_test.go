package web

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
)

// signInAdmin signs the administrator in and changes the one-time password,
// so the browser may use every page.
func signInAdmin(t *testing.T, s *site, o *org) *browser {
	t.Helper()
	b := s.signIn("admin", o.adminPassword)
	rec := s.do(b, "POST", "/account/password", url.Values{"current_password": {o.adminPassword},
		"new_password": {"a new long password"}, "confirm_password": {"a new long password"}, "csrf": {b.csrf}}, nil)
	if rec.Code != 303 {
		t.Fatalf("admin password change: %d", rec.Code)
	}
	s.do(b, "GET", "/account", nil, nil) // a page with the CSRF token
	return b
}

// stageIDs returns the default stages by kind and position.
func stageIDs(t *testing.T, o *org) (open []int64, won, lost int64) {
	t.Helper()
	stages, err := o.svc.Stages(context.Background(), o.admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range stages {
		switch st.Kind {
		case crm.StageOpen:
			open = append(open, st.ID)
		case crm.StageWon:
			won = st.ID
		case crm.StageLost:
			lost = st.ID
		}
	}
	return open, won, lost
}

// TestRecordPages covers the contact, lead, opportunity, task, search,
// follow-up and pipeline administration pages against a real database, once
// per dialect: every page renders, scope holds, CSRF is required, forms
// keep input and explain errors, stage moves and conversion work.
func TestRecordPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		open, won, lost := stageIDs(t, o)

		c1 := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "北京星辰科技有限公司", CreditCode: "91350100M000100Y43"})
		c2 := mustCreateCustomer(t, o.svc, o.rep2, crm.CustomerFields{Name: "南京二号贸易有限公司"})
		contact1, err := o.svc.CreateContact(ctx, o.rep1, crm.ContactFields{CustomerID: c1.ID, Name: "王小明", Title: "采购经理",
			Mobile: "13900139000", Email: "wxm@xingchen.cn"})
		must(err)
		contact2, err := o.svc.CreateContact(ctx, o.rep2, crm.ContactFields{CustomerID: c2.ID, Name: "赵二宝", Mobile: "13700137000"})
		must(err)
		staleContact, err := o.svc.CreateContact(ctx, o.rep1, crm.ContactFields{CustomerID: c1.ID, Name: "陈旧联系人"})
		must(err)
		_, err = o.svc.UpdateContact(ctx, o.rep1, staleContact.ID, crm.ContactUpdate{Version: 1, Title: ptr("经理")})
		must(err)
		lead1, err := o.svc.CreateLead(ctx, o.rep1, crm.LeadFields{Name: "李雷", Company: "杭州线索科技有限公司", Mobile: "13600136000"})
		must(err)
		leadConv, err := o.svc.CreateLead(ctx, o.rep1, crm.LeadFields{Name: "韩梅梅", Company: "苏州转化科技有限公司", Source: "website"})
		must(err)
		lead2, err := o.svc.CreateLead(ctx, o.rep2, crm.LeadFields{Name: "钱二多", Company: "二号线索公司"})
		must(err)
		opp1, err := o.svc.CreateOpportunity(ctx, o.rep1, crm.OpportunityFields{CustomerID: c1.ID, Name: "星辰CRM项目", Amount: 1200000, Currency: "CNY"})
		must(err)
		opp2, err := o.svc.CreateOpportunity(ctx, o.rep2, crm.OpportunityFields{CustomerID: c2.ID, Name: "二号采购项目", Amount: 500, Currency: "USD"})
		must(err)
		yesterday := time.Now().Add(-24 * time.Hour)
		task1, err := o.svc.CreateTask(ctx, o.rep1, crm.TaskFields{Title: "寄送报价单", DueAt: &yesterday, CustomerID: c1.ID})
		must(err)
		_, err = o.svc.CreateTask(ctx, o.rep2, crm.TaskFields{Title: "二号的任务", CustomerID: c2.ID})
		must(err)
		_, err = o.svc.CreateFollowUp(ctx, o.rep1, crm.FollowUpInput{CustomerID: c1.ID, Kind: "visit", Content: "首次拜访星辰"})
		must(err)

		browsers := map[string]*browser{
			"rep1":  s.signIn("rep1", testPassword),
			"rep2":  s.signIn("rep2", testPassword),
			"mgr":   s.signIn("mgr.east", testPassword),
			"admin": signInAdmin(t, s, o),
		}
		htmx := map[string]string{"HX-Request": "true"}
		en := map[string]string{"Accept-Language": "en"}
		followUps := func(want int) func(t *testing.T) {
			return func(t *testing.T) {
				items, err := o.svc.ListFollowUps(ctx, o.rep1, c1.ID)
				if err != nil || len(items) != want {
					t.Errorf("follow-ups of c1: %d (%v), want %d", len(items), err, want)
				}
			}
		}
		oppState := func(id int64, stage int64, reason string) func(t *testing.T) {
			return func(t *testing.T) {
				opp, _, err := o.svc.GetOpportunity(ctx, o.admin, id)
				if err != nil || opp.StageID != stage || opp.LostReason != reason {
					t.Errorf("opportunity %d: stage %d reason %q (%v), want %d %q", id, opp.StageID, opp.LostReason, err, stage, reason)
				}
			}
		}
		oppURL := "/opportunities/" + id(opp1.ID)

		runScenarios(t, s, browsers, []scenario{
			// Customer detail: timeline, contacts, opportunities, tasks.
			{name: "customer page shows its timeline, contacts, opportunities and tasks", actor: "rep1", method: "GET", path: "/customers/" + id(c1.ID),
				wantStatus: 200, wantContains: []string{`id="timeline"`, "首次拜访星辰", "王小明", "星辰CRM项目", "¥12,000.00", "寄送报价单",
					`/contacts/new?customer_id=` + id(c1.ID), `/opportunities/new?customer_id=` + id(c1.ID), `/tasks/new?customer_id=` + id(c1.ID),
					`name="occurred_at" type="datetime-local"`}},
			{name: "rep2 cannot see rep1's timeline", actor: "rep2", method: "GET", path: "/customers/" + id(c1.ID), wantStatus: 404,
				wantNotContains: []string{"首次拜访星辰", "王小明"}},

			// Follow-ups.
			{name: "record a follow-up", actor: "rep1", method: "POST", path: "/customers/" + id(c1.ID) + "/follow-ups",
				body:       url.Values{"kind": {"call"}, "content": {"电话确认需求"}, "occurred_at": {time.Now().Add(-time.Hour).Format(localInputLayout)}},
				wantStatus: 303, wantLocation: "/customers/" + id(c1.ID) + "#timeline", check: followUps(2)},
			{name: "htmx follow-up swaps the timeline and the follow-up dates", actor: "rep1", method: "POST", path: "/customers/" + id(c1.ID) + "/follow-ups",
				header: htmx, body: url.Values{"kind": {"meeting"}, "content": {"会议纪要：下周报价"}, "next_at": {time.Now().Add(48 * time.Hour).Format(localInputLayout)}},
				wantStatus: 200, wantContains: []string{`<section class="card" id="timeline">`, "会议纪要：下周报价", "电话确认需求", "已记录",
					`id="followup-summary" hx-swap-oob="true"`},
				wantNotContains: []string{"<html", "会议纪要：下周报价</textarea>"}, check: followUps(3)},
			{name: "follow-up with bad input keeps it and explains", actor: "rep1", method: "POST", path: "/customers/" + id(c1.ID) + "/follow-ups",
				body:       url.Values{"kind": {"visit"}, "content": {""}, "occurred_at": {"garbage"}, "next_at": {"2020-01-01T10:00"}},
				wantStatus: 422, wantContains: []string{"部分字段填写有误", "跟进内容：必填", "跟进时间：必须是日期和时间", "下次跟进时间：必须晚于本次跟进时间",
					`value="garbage"`, `value="2020-01-01T10:00"`, `<option value="visit" selected>`, "北京星辰科技有限公司"},
				wantNotContains: []string{"field.", "rule."}, check: followUps(3)},
			{name: "htmx follow-up with bad input returns the form", actor: "rep1", method: "POST", path: "/customers/" + id(c1.ID) + "/follow-ups",
				header: map[string]string{"HX-Request": "true", "Accept-Language": "en"}, body: url.Values{"kind": {"fax"}, "content": {"typed text"}},
				wantStatus: 422, wantContains: []string{`id="timeline"`, "Kind: must be one of", "typed text</textarea>"},
				wantNotContains: []string{"<html"}, check: followUps(3)},
			{name: "rep2 cannot record on rep1's customer", actor: "rep2", method: "POST", path: "/customers/" + id(c1.ID) + "/follow-ups",
				body: url.Values{"kind": {"call"}, "content": {"x"}}, wantStatus: 404, wantNotContains: []string{"北京星辰科技有限公司"}, check: followUps(3)},

			// Contacts.
			{name: "contact list", actor: "rep1", method: "GET", path: "/contacts", wantStatus: 200,
				wantContains: []string{"王小明", "北京星辰科技有限公司"}, wantNotContains: []string{"赵二宝"}},
			{name: "contact search by exact mobile", actor: "rep1", method: "GET", path: "/contacts?q=13900139000", wantStatus: 200,
				wantContains: []string{"王小明", "共 1 条"}, wantNotContains: []string{"陈旧联系人"}},
			{name: "contact search by e-mail", actor: "rep1", method: "GET", path: "/contacts?q=WXM@xingchen.cn",
				header: map[string]string{"HX-Request": "true", "HX-Target": "results"}, wantStatus: 200,
				wantContains: []string{`<section id="results">`, "王小明"}, wantNotContains: []string{"<html"}},
			{name: "rep2's contact list never shows rep1's", actor: "rep2", method: "GET", path: "/contacts", wantStatus: 200,
				wantContains: []string{"赵二宝"}, wantNotContains: []string{"王小明", "陈旧联系人"}},
			{name: "rep2's contact search by rep1's mobile finds nothing", actor: "rep2", method: "GET", path: "/contacts?q=13900139000", wantStatus: 200,
				wantContains: []string{"共 0 条"}, wantNotContains: []string{"王小明"}},
			{name: "contact detail", actor: "rep1", method: "GET", path: "/contacts/" + id(contact1.ID), wantStatus: 200,
				wantContains: []string{"王小明", "采购经理", "8613900139000", "/customers/" + id(c1.ID)}},
			{name: "rep2 cannot see rep1's contact", actor: "rep2", method: "GET", path: "/contacts/" + id(contact1.ID), wantStatus: 404,
				wantNotContains: []string{"王小明", "13900139000"}},
			{name: "rep2 cannot edit rep1's contact", actor: "rep2", method: "GET", path: "/contacts/" + id(contact1.ID) + "/edit", wantStatus: 404,
				wantNotContains: []string{"王小明"}},
			{name: "new contact pre-filled with the customer", actor: "rep1", method: "GET", path: "/contacts/new?customer_id=" + id(c1.ID), wantStatus: 200,
				wantContains: []string{`<option value="` + id(c1.ID) + `" selected>北京星辰科技有限公司</option>`, `hx-get="/customers/options?empty=none"`}},
			{name: "new contact cannot pre-fill a stranger's customer", actor: "rep1", method: "GET", path: "/contacts/new?customer_id=" + id(c2.ID), wantStatus: 200,
				wantNotContains: []string{"南京二号贸易有限公司"}},
			{name: "customer picker options", actor: "rep1", method: "GET", path: "/customers/options?empty=none&picker_q=" + url.QueryEscape("星辰"), header: htmx,
				wantStatus: 200, wantContains: []string{`<option value="` + id(c1.ID) + `" selected>北京星辰科技有限公司</option>`, `<option value="">— 无 —</option>`},
				wantNotContains: []string{"<html"}},
			{name: "rep2's picker never offers rep1's customer", actor: "rep2", method: "GET", path: "/customers/options?empty=none&picker_q=" + url.QueryEscape("星辰"),
				wantStatus: 200, wantNotContains: []string{"北京星辰科技有限公司"}},
			{name: "create contact", actor: "rep1", method: "POST", path: "/contacts",
				body: url.Values{"customer_id": {id(c1.ID)}, "name": {"刘新人"}, "mobile": {"13500135000"}}, wantStatus: 303, wantLocation: "/contacts/"},
			{name: "create contact with bad input keeps it", actor: "rep1", method: "POST", path: "/contacts",
				body:       url.Values{"customer_id": {id(c1.ID)}, "name": {""}, "email": {"not mail"}, "title": {"总监"}},
				wantStatus: 422, wantContains: []string{"姓名：必填", "电子邮箱：", `value="not mail"`, `value="总监"`}},
			{name: "contact cannot join a stranger's customer", actor: "rep1", method: "POST", path: "/contacts",
				body: url.Values{"customer_id": {id(c2.ID)}, "name": {"越界"}}, wantStatus: 422, wantContains: []string{"客户：不存在"},
				wantNotContains: []string{"南京二号贸易有限公司"}},
			{name: "duplicate mobile names the owner", actor: "rep2", method: "POST", path: "/contacts",
				body: url.Values{"name": {"撞单"}, "mobile": {"13900139000"}}, wantStatus: 409, wantContains: []string{"已存在，负责人：User rep1"},
				wantNotContains: []string{"王小明"}},
			{name: "stale contact edit keeps input", actor: "rep1", method: "POST", path: "/contacts/" + id(staleContact.ID),
				body:       url.Values{"version": {"1"}, "customer_id": {id(c1.ID)}, "name": {"我的修改"}},
				wantStatus: 409, wantContains: []string{"该记录已被他人修改", `value="我的修改"`}},
			{name: "contact edit saves", actor: "rep1", method: "POST", path: "/contacts/" + id(staleContact.ID),
				body: url.Values{"version": {"2"}, "customer_id": {id(c1.ID)}, "name": {"新名字"}}, wantStatus: 303, wantLocation: "/contacts/" + id(staleContact.ID)},
			{name: "rep2 cannot delete rep1's contact", actor: "rep2", method: "POST", path: "/contacts/" + id(staleContact.ID) + "/delete", wantStatus: 404},
			{name: "delete contact", actor: "rep1", method: "POST", path: "/contacts/" + id(staleContact.ID) + "/delete", wantStatus: 303, wantLocation: "/contacts",
				check: func(t *testing.T) {
					if _, err := o.svc.GetContact(ctx, o.rep1, staleContact.ID); !crm.IsCode(err, crm.NotFound) {
						t.Errorf("deleted contact still shown: %v", err)
					}
				}},

			// Leads.
			{name: "lead list", actor: "rep1", method: "GET", path: "/leads", wantStatus: 200,
				wantContains: []string{"李雷", "杭州线索科技有限公司", "新线索"}, wantNotContains: []string{"钱二多"}},
			{name: "lead status filter", actor: "rep1", method: "GET", path: "/leads?status=converted", wantStatus: 200,
				wantContains: []string{"共 0 条"}, wantNotContains: []string{"李雷"}},
			{name: "lead search", actor: "rep1", method: "GET", path: "/leads?q=" + url.QueryEscape("线索科技"), wantStatus: 200,
				wantContains: []string{"李雷"}, wantNotContains: []string{"韩梅梅"}},
			{name: "rep2's lead list never shows rep1's", actor: "rep2", method: "GET", path: "/leads", wantStatus: 200,
				wantContains: []string{"钱二多"}, wantNotContains: []string{"李雷", "韩梅梅"}},
			{name: "lead detail", actor: "rep1", method: "GET", path: "/leads/" + id(lead1.ID), wantStatus: 200,
				wantContains: []string{"李雷", "杭州线索科技有限公司", "/leads/" + id(lead1.ID) + "/convert"}},
			{name: "rep2 cannot see rep1's lead", actor: "rep2", method: "GET", path: "/leads/" + id(lead1.ID), wantStatus: 404,
				wantNotContains: []string{"李雷"}},
			{name: "rep2 cannot convert rep1's lead", actor: "rep2", method: "GET", path: "/leads/" + id(lead1.ID) + "/convert", wantStatus: 404,
				wantNotContains: []string{"李雷"}},
			{name: "create lead", actor: "rep1", method: "POST", path: "/leads",
				body: url.Values{"name": {"新线索人"}, "company": {"厦门新线索有限公司"}, "source": {"exhibition"}}, wantStatus: 303, wantLocation: "/leads/"},
			{name: "create lead with bad input", actor: "rep1", method: "POST", path: "/leads",
				body: url.Values{"name": {""}, "mobile": {"12"}, "company": {"某公司"}}, wantStatus: 422,
				wantContains: []string{"姓名：必填", "手机：不是有效的电话号码", `value="某公司"`}},
			{name: "edit lead status", actor: "rep1", method: "POST", path: "/leads/" + id(lead1.ID),
				body:       url.Values{"version": {"1"}, "name": {"李雷"}, "company": {"杭州线索科技有限公司"}, "mobile": {"13600136000"}, "status": {"contacted"}},
				wantStatus: 303, wantLocation: "/leads/" + id(lead1.ID)},
			{name: "stale lead edit", actor: "rep1", method: "POST", path: "/leads/" + id(lead1.ID),
				body: url.Values{"version": {"1"}, "name": {"改名"}, "status": {"qualified"}}, wantStatus: 409, wantContains: []string{"该记录已被他人修改", `value="改名"`}},

			// Lead conversion through the form.
			{name: "conversion form", actor: "rep1", method: "GET", path: "/leads/" + id(leadConv.ID) + "/convert", wantStatus: 200,
				wantContains: []string{`name="version" value="1"`, "以线索公司名称新建客户", `name="opportunity.amount"`}},
			{name: "conversion with a bad amount", actor: "rep1", method: "POST", path: "/leads/" + id(leadConv.ID) + "/convert",
				body:       url.Values{"version": {"1"}, "opportunity.name": {"转化商机"}, "opportunity.amount": {"十万"}},
				wantStatus: 422, wantContains: []string{"商机 · 金额：必须是金额", `value="十万"`, `value="转化商机"`}},
			{name: "conversion into a stranger's customer", actor: "rep1", method: "POST", path: "/leads/" + id(leadConv.ID) + "/convert",
				body: url.Values{"version": {"1"}, "customer_id": {id(c2.ID)}}, wantStatus: 422, wantContains: []string{"客户：不存在"},
				wantNotContains: []string{"南京二号贸易有限公司"}},
			{name: "stale conversion", actor: "rep1", method: "POST", path: "/leads/" + id(leadConv.ID) + "/convert",
				body: url.Values{"version": {"7"}}, wantStatus: 409, wantContains: []string{"该记录已被他人修改"}},
			{name: "convert lead with an opportunity", actor: "rep1", method: "POST", path: "/leads/" + id(leadConv.ID) + "/convert",
				body: url.Values{"version": {"1"}, "opportunity.name": {"转化商机"}, "opportunity.amount": {"50,000"}, "opportunity.currency": {"cny"},
					"opportunity.expected_close_date": {"2030-06-30"}},
				wantStatus: 303, wantLocation: "/leads/" + id(leadConv.ID),
				check: func(t *testing.T) {
					l, err := o.svc.GetLead(ctx, o.rep1, leadConv.ID)
					if err != nil || l.Status != "converted" || l.CustomerID == 0 || l.ContactID == 0 || l.OpportunityID == 0 {
						t.Fatalf("converted lead: %+v %v", l, err)
					}
					opp, _, err := o.svc.GetOpportunity(ctx, o.rep1, l.OpportunityID)
					if err != nil || opp.Amount != 5000000 || opp.Currency != "CNY" || opp.CustomerName != "苏州转化科技有限公司" {
						t.Errorf("opportunity from conversion: %+v %v", opp, err)
					}
				}},
			{name: "converted lead links to what it became", actor: "rep1", method: "GET", path: "/leads/" + id(leadConv.ID), wantStatus: 200,
				wantContains:    []string{"该线索已转化", `href="/customers/`, `href="/contacts/`, `href="/opportunities/`},
				wantNotContains: []string{"/leads/" + id(leadConv.ID) + "/convert", "/leads/" + id(leadConv.ID) + "/edit"}},
			{name: "converting twice is refused", actor: "rep1", method: "POST", path: "/leads/" + id(leadConv.ID) + "/convert",
				body: url.Values{"version": {"2"}}, wantStatus: 409, wantContains: []string{"该线索已转化"}},

			// Opportunities: list, detail, form.
			{name: "opportunity list", actor: "rep1", method: "GET", path: "/opportunities", wantStatus: 200,
				wantContains: []string{"星辰CRM项目", "¥12,000.00", "初步接洽"}, wantNotContains: []string{"二号采购项目"}},
			{name: "opportunity list in English shows the currency code", actor: "rep1", method: "GET", path: "/opportunities", header: en,
				wantStatus: 200, wantContains: []string{"CNY 12,000.00", "Initial contact"}},
			{name: "opportunity stage filter", actor: "rep1", method: "GET", path: "/opportunities?stage=" + id(won), wantStatus: 200,
				wantContains: []string{"共 0 条"}, wantNotContains: []string{"星辰CRM项目"}},
			{name: "opportunity search", actor: "rep1", method: "GET", path: "/opportunities?q=CRM", wantStatus: 200, wantContains: []string{"星辰CRM项目"}},
			{name: "rep2's opportunities never show rep1's", actor: "rep2", method: "GET", path: "/opportunities", wantStatus: 200,
				wantContains: []string{"二号采购项目", "USD 5.00"}, wantNotContains: []string{"星辰CRM项目"}},
			{name: "rep2 cannot see rep1's opportunity", actor: "rep2", method: "GET", path: oppURL, wantStatus: 404, wantNotContains: []string{"星辰CRM项目"}},
			{name: "rep2 cannot edit rep1's opportunity", actor: "rep2", method: "GET", path: oppURL + "/edit", wantStatus: 404, wantNotContains: []string{"星辰CRM项目"}},
			{name: "new opportunity pre-filled with the customer", actor: "rep1", method: "GET", path: "/opportunities/new?customer_id=" + id(c1.ID), wantStatus: 200,
				wantContains: []string{`<option value="` + id(c1.ID) + `" selected>北京星辰科技有限公司</option>`, `value="CNY"`}},
			{name: "create opportunity", actor: "rep1", method: "POST", path: "/opportunities",
				body: url.Values{"customer_id": {id(c1.ID)}, "name": {"二期项目"}, "amount": {"¥8,800.5"}, "currency": {"CNY"}}, wantStatus: 303, wantLocation: "/opportunities/"},
			{name: "create opportunity with bad input keeps it", actor: "rep1", method: "POST", path: "/opportunities",
				body:       url.Values{"customer_id": {id(c1.ID)}, "name": {""}, "amount": {"12.345"}, "currency": {"yuan"}},
				wantStatus: 422, wantContains: []string{"名称：必填", "金额：必须是金额", "币种：必须是三位", `value="12.345"`}},
			{name: "edit form shows the amount in major units", actor: "rep1", method: "GET", path: oppURL + "/edit", wantStatus: 200,
				wantContains: []string{`value="12000.00"`, `name="version" value="1"`}, wantNotContains: []string{`name="customer_id"`}},
			{name: "edit opportunity", actor: "rep1", method: "POST", path: oppURL,
				body: url.Values{"version": {"1"}, "name": {"星辰CRM项目"}, "amount": {"15000"}, "currency": {"CNY"}}, wantStatus: 303, wantLocation: oppURL},
			{name: "stale opportunity edit", actor: "rep1", method: "POST", path: oppURL,
				body: url.Values{"version": {"1"}, "name": {"旧版本"}, "amount": {"1"}}, wantStatus: 409, wantContains: []string{"该记录已被他人修改", `value="旧版本"`}},

			// The board and stage moves.
			{name: "board", actor: "rep1", method: "GET", path: "/opportunities/board", wantStatus: 200,
				wantContains:    []string{`id="board"`, "初步接洽", "商务谈判", "赢单", "输单", "星辰CRM项目", "¥15,000.00", "User rep1", "需求分析 →", "输单原因"},
				wantNotContains: []string{"二号采购项目"}},
			{name: "rep2's board never shows rep1's", actor: "rep2", method: "GET", path: "/opportunities/board", wantStatus: 200,
				wantContains: []string{"二号采购项目"}, wantNotContains: []string{"星辰CRM项目", "转化商机"}},
			{name: "move to the next stage swaps the board", actor: "rep1", method: "POST", path: oppURL + "/stage", header: htmx,
				body:       url.Values{"version": {"2"}, "stage_id": {id(open[1])}, "from": {"board"}},
				wantStatus: 200, wantContains: []string{`<section id="board"`, "星辰CRM项目", "← 初步接洽"}, wantNotContains: []string{"<html"},
				check: oppState(opp1.ID, open[1], "")},
			{name: "a stale move is refused with the current board", actor: "rep1", method: "POST", path: oppURL + "/stage", header: htmx,
				body:       url.Values{"version": {"2"}, "stage_id": {id(open[2])}, "from": {"board"}},
				wantStatus: 409, wantContains: []string{`<section id="board"`, "该记录已被他人修改"}, wantNotContains: []string{"<html"},
				check: oppState(opp1.ID, open[1], "")},
			{name: "lost needs a reason", actor: "rep1", method: "POST", path: oppURL + "/stage", header: htmx,
				body:       url.Values{"version": {"3"}, "stage_id": {id(lost)}, "from": {"board"}, "lost_reason": {" "}},
				wantStatus: 422, wantContains: []string{"输单原因：必填"}, check: oppState(opp1.ID, open[1], "")},
			{name: "rep2 cannot move rep1's opportunity", actor: "rep2", method: "POST", path: oppURL + "/stage",
				body: url.Values{"version": {"3"}, "stage_id": {id(won)}, "from": {"board"}}, wantStatus: 404, check: oppState(opp1.ID, open[1], "")},
			{name: "move to lost with a reason", actor: "rep1", method: "POST", path: oppURL + "/stage",
				body:       url.Values{"version": {"3"}, "stage_id": {id(lost)}, "from": {"board"}, "lost_reason": {"预算取消"}},
				wantStatus: 303, wantLocation: "/opportunities/board", check: oppState(opp1.ID, lost, "预算取消")},
			{name: "detail shows the stage history", actor: "rep1", method: "GET", path: oppURL, wantStatus: 200,
				wantContains: []string{"阶段变更记录", "需求分析 → <strong>输单</strong>", "初步接洽 → <strong>需求分析</strong>", "User rep1", "预算取消", "← 商务谈判"}},
			{name: "reopen from the detail page", actor: "rep1", method: "POST", path: oppURL + "/stage",
				body: url.Values{"version": {"4"}, "stage_id": {id(open[3])}, "from": {"detail"}}, wantStatus: 303, wantLocation: oppURL,
				check: oppState(opp1.ID, open[3], "")},
			{name: "a stale move from the detail page", actor: "rep1", method: "POST", path: oppURL + "/stage",
				body: url.Values{"version": {"4"}, "stage_id": {id(won)}, "from": {"detail"}}, wantStatus: 409,
				wantContains: []string{"该记录已被他人修改", "星辰CRM项目"}, check: oppState(opp1.ID, open[3], "")},
			{name: "rep2 cannot delete rep1's opportunity", actor: "rep2", method: "POST", path: oppURL + "/delete", wantStatus: 404},

			// Tasks.
			{name: "home shows my open tasks, overdue highlighted", actor: "rep1", method: "GET", path: "/", wantStatus: 200,
				wantContains: []string{"我的待办任务", `class="task overdue"`, "寄送报价单", "北京星辰科技有限公司", "/tasks/" + id(task1.ID) + "/done"}},
			{name: "rep2's home never shows rep1's tasks", actor: "rep2", method: "GET", path: "/", wantStatus: 200,
				wantContains: []string{"二号的任务"}, wantNotContains: []string{"寄送报价单", "北京星辰科技有限公司"}},
			{name: "sales reps assign no one", actor: "rep1", method: "GET", path: "/tasks/new?customer_id=" + id(c1.ID), wantStatus: 200,
				wantContains: []string{`<option value="` + id(c1.ID) + `" selected>`}, wantNotContains: []string{`name="assignee_id"`}},
			{name: "managers choose the assignee", actor: "mgr", method: "GET", path: "/tasks/new", wantStatus: 200,
				wantContains: []string{`name="assignee_id"`, "User rep1", "User rep2"}, wantNotContains: []string{"User rep3"}},
			{name: "manager assigns a task", actor: "mgr", method: "POST", path: "/tasks",
				body: url.Values{"title": {"经理布置的任务"}, "assignee_id": {id(o.rep1.UserID)}, "due_at": {"2030-01-01T09:00"}}, wantStatus: 303, wantLocation: "/tasks"},
			{name: "manager cannot assign outside the subtree", actor: "mgr", method: "POST", path: "/tasks",
				body: url.Values{"title": {"越界"}, "assignee_id": {id(o.rep3.UserID)}}, wantStatus: 422, wantContains: []string{"执行人：", `value="越界"`}},
			{name: "create task on a customer", actor: "rep1", method: "POST", path: "/tasks",
				body: url.Values{"title": {"准备合同"}, "customer_id": {id(c1.ID)}, "due_at": {"2030-02-01T10:00"}}, wantStatus: 303,
				wantLocation: "/customers/" + id(c1.ID) + "#tasks"},
			{name: "task with bad input", actor: "rep1", method: "POST", path: "/tasks",
				body: url.Values{"title": {""}, "due_at": {"soon"}, "notes": {"记得带样品"}}, wantStatus: 422,
				wantContains: []string{"任务内容：必填", "截止时间：必须是日期和时间", "记得带样品</textarea>"}},
			{name: "task list", actor: "rep1", method: "GET", path: "/tasks", wantStatus: 200,
				wantContains: []string{"寄送报价单", "经理布置的任务", "准备合同"}, wantNotContains: []string{"二号的任务"}},
			{name: "rep2 cannot complete rep1's task", actor: "rep2", method: "POST", path: "/tasks/" + id(task1.ID) + "/done", wantStatus: 404},
			{name: "htmx done", actor: "rep1", method: "POST", path: "/tasks/" + id(task1.ID) + "/done", header: htmx,
				body: url.Values{"from": {"home"}}, wantStatus: 200, wantContains: []string{"已完成"}, wantNotContains: []string{"<html"},
				check: func(t *testing.T) {
					open, _ := o.svc.ListTasks(ctx, o.rep1, service.TaskFilter{})
					for _, k := range open {
						if k.ID == task1.ID {
							t.Error("task still open")
						}
					}
				}},
			{name: "all tasks include done ones", actor: "rep1", method: "GET", path: "/tasks?show=all", wantStatus: 200,
				wantContains: []string{"寄送报价单", "/tasks/" + id(task1.ID) + "/reopen"}},
			{name: "reopen without htmx returns to the list", actor: "rep1", method: "POST", path: "/tasks/" + id(task1.ID) + "/reopen",
				body: url.Values{"from": {"all"}}, wantStatus: 303, wantLocation: "/tasks?show=all"},

			// Global search.
			{name: "search by name", actor: "rep1", method: "GET", path: "/search?q=" + url.QueryEscape("星辰"), wantStatus: 200,
				wantContains: []string{"北京星辰科技有限公司", "按名称匹配"}},
			{name: "search by phone", actor: "rep1", method: "GET", path: "/search?q=139-0013-9000", wantStatus: 200,
				wantContains: []string{"王小明", "按电话号码匹配"}},
			{name: "search by e-mail", actor: "rep1", method: "GET", path: "/search?q=wxm@xingchen.cn", header: en, wantStatus: 200,
				wantContains: []string{"王小明", "matched by e-mail"}},
			{name: "search by credit code", actor: "rep1", method: "GET", path: "/search?q=91350100M000100Y43", wantStatus: 200,
				wantContains: []string{"北京星辰科技有限公司", "按统一社会信用代码匹配"}},
			{name: "search finds leads", actor: "rep1", method: "GET", path: "/search?q=" + url.QueryEscape("李雷"), wantStatus: 200, wantContains: []string{"李雷", "/leads/" + id(lead1.ID)}},
			{name: "rep2's search never shows rep1's records", actor: "rep2", method: "GET", path: "/search?q=" + url.QueryEscape("星辰"), wantStatus: 200,
				wantContains: []string{"找到 0 条"}, wantNotContains: []string{"北京星辰科技有限公司", "王小明"}},
			{name: "rep2's phone search never shows rep1's contact", actor: "rep2", method: "GET", path: "/search?q=13900139000", wantStatus: 200,
				wantNotContains: []string{"王小明"}},
			{name: "rep2's lead search", actor: "rep2", method: "GET", path: "/search?q=" + url.QueryEscape("李雷"), wantStatus: 200,
				wantNotContains: []string{"/leads/" + id(lead1.ID)}},

			// Administration of stages.
			{name: "sales may not see stages", actor: "rep1", method: "GET", path: "/admin/stages", wantStatus: 403, wantNotContains: []string{"初步接洽"}},
			{name: "sales may not add stages", actor: "rep1", method: "POST", path: "/admin/stages",
				body: url.Values{"name": {"偷加"}, "kind": {"open"}, "active": {"on"}}, wantStatus: 403},
			{name: "sales may not edit stages", actor: "rep1", method: "GET", path: "/admin/stages/" + id(open[0]), wantStatus: 403},
			{name: "admin adds a stage", actor: "admin", method: "POST", path: "/admin/stages",
				body:       url.Values{"name": {"样品测试"}, "name_en": {"Trial"}, "position": {"3"}, "probability": {"40"}, "kind": {"open"}, "active": {"on"}},
				wantStatus: 303, wantLocation: "/admin/stages"},
			{name: "stage with bad input", actor: "admin", method: "POST", path: "/admin/stages",
				body: url.Values{"name": {""}, "probability": {"150"}, "kind": {"open"}}, wantStatus: 422,
				wantContains: []string{"名称：必填", "赢率：必须在 0-100 范围内"}},
			{name: "stage with a non-number", actor: "admin", method: "POST", path: "/admin/stages",
				body: url.Values{"name": {"x"}, "probability": {"abc"}, "kind": {"maybe"}}, wantStatus: 422,
				wantContains: []string{"赢率：必须是数字", "阶段类型：必须是以下之一", `value="abc"`}},
			{name: "admin renames a stage", actor: "admin", method: "POST", path: "/admin/stages/" + id(open[0]),
				body:       url.Values{"name": {"初步沟通"}, "name_en": {"First call"}, "position": {"1"}, "probability": {"10"}, "kind": {"open"}, "active": {"on"}},
				wantStatus: 303, wantLocation: "/admin/stages"},
			{name: "the board follows the stages", actor: "rep1", method: "GET", path: "/opportunities/board", wantStatus: 200,
				wantContains: []string{"样品测试", "初步沟通"}, wantNotContains: []string{"初步接洽"}},
			{name: "unknown stage", actor: "admin", method: "GET", path: "/admin/stages/99999", wantStatus: 404},

			// Custom fields, defined on the admin page, then used in the customer form and list.
			{name: "sales may not see custom fields", actor: "rep1", method: "GET", path: "/admin/custom-fields", wantStatus: 403},
			{name: "sales may not define custom fields", actor: "rep1", method: "POST", path: "/admin/custom-fields",
				body: url.Values{"object": {"customer"}, "key": {"sneaky"}, "label": {"偷偷"}, "type": {"text"}}, wantStatus: 403},
			{name: "custom field with a bad key", actor: "admin", method: "POST", path: "/admin/custom-fields",
				body: url.Values{"object": {"customer"}, "key": {"Bad Key"}, "label": {"区域"}, "type": {"single"}}, wantStatus: 422,
				wantContains: []string{"标识：必须以小写字母开头", "选项：必填", `value="Bad Key"`}},
			{name: "admin defines a choice field", actor: "admin", method: "POST", path: "/admin/custom-fields",
				body: url.Values{"object": {"customer"}, "key": {"region"}, "label": {"区域"}, "label_en": {"Region"}, "type": {"single"},
					"options": {"华东\r\n华南\r\n\r\n"}, "required": {"on"}, "in_list": {"on"}}, wantStatus: 303, wantLocation: "/admin/custom-fields"},
			{name: "admin defines a contact field", actor: "admin", method: "POST", path: "/admin/custom-fields",
				body: url.Values{"object": {"contact"}, "key": {"hobby"}, "label": {"爱好"}, "type": {"multi"}, "options": {"高尔夫\n茶"}}, wantStatus: 303},
			{name: "admin defines an amount field", actor: "admin", method: "POST", path: "/admin/custom-fields",
				body: url.Values{"object": {"opportunity"}, "key": {"budget"}, "label": {"预算"}, "type": {"amount"}}, wantStatus: 303},
			{name: "the same key twice", actor: "admin", method: "POST", path: "/admin/custom-fields",
				body: url.Values{"object": {"customer"}, "key": {"region"}, "label": {"又一个"}, "type": {"text"}}, wantStatus: 422, wantContains: []string{"标识：已被占用"}},
			{name: "custom fields are listed per object", actor: "admin", method: "GET", path: "/admin/custom-fields", wantStatus: 200,
				wantContains: []string{"区域", "region", "单选", "爱好", "预算"}},
			{name: "the customer form shows the custom field", actor: "rep1", method: "GET", path: "/customers/new", wantStatus: 200,
				wantContains: []string{`name="custom.region"`, "区域", `<option value="华东">华东</option>`}},
			{name: "the customer form in English", actor: "rep1", method: "GET", path: "/customers/new", header: en, wantStatus: 200,
				wantContains: []string{"Region"}},
			{name: "a required custom field", actor: "rep1", method: "POST", path: "/customers",
				body: url.Values{"name": {"缺区域有限公司"}, "industry": {"制造"}}, wantStatus: 422,
				wantContains: []string{"区域：必填", `value="缺区域有限公司"`, `value="制造"`}, wantNotContains: []string{"custom.region：", "field."}},
			{name: "a custom value that is not an option", actor: "rep1", method: "POST", path: "/customers",
				body: url.Values{"name": {"火星有限公司"}, "custom.region": {"火星"}}, header: en, wantStatus: 422,
				wantContains: []string{"Region: must be one of", `<option value="火星" selected>火星</option>`}},
			{name: "create a customer with a custom value", actor: "rep1", method: "POST", path: "/customers",
				body: url.Values{"name": {"华东区域有限公司"}, "custom.region": {"华东"}}, wantStatus: 303, wantLocation: "/customers/"},
			{name: "custom column and filter in the list", actor: "rep1", method: "GET", path: "/customers?custom.region=" + url.QueryEscape("华东"), wantStatus: 200,
				wantContains:    []string{"华东区域有限公司", `<th class="opt">区域</th>`, `<select name="custom.region"`, `<option value="华东" selected>华东</option>`, "共 1 条"},
				wantNotContains: []string{"北京星辰科技有限公司"}},
			{name: "a filter value that is not an option is ignored", actor: "rep1", method: "GET", path: "/customers?custom.region=" + url.QueryEscape("火星"), wantStatus: 200,
				wantContains: []string{"北京星辰科技有限公司", "华东区域有限公司"}},
			{name: "the filter keeps scope", actor: "rep2", method: "GET", path: "/customers?custom.region=" + url.QueryEscape("华东"), wantStatus: 200,
				wantContains: []string{"共 0 条"}, wantNotContains: []string{"华东区域有限公司"}},
			{name: "contact with a multiple choice value", actor: "rep1", method: "POST", path: "/contacts",
				body: url.Values{"customer_id": {id(c1.ID)}, "name": {"爱喝茶的人"}, "custom.hobby": {"茶", "高尔夫"}}, wantStatus: 303},
			{name: "opportunity with a custom amount", actor: "rep1", method: "POST", path: "/opportunities",
				body: url.Values{"customer_id": {id(c1.ID)}, "name": {"有预算的项目"}, "custom.budget": {"1,234.5"}}, wantStatus: 303},
			{name: "opportunity with a bad custom amount", actor: "rep1", method: "POST", path: "/opportunities",
				body: url.Values{"customer_id": {id(c1.ID)}, "name": {"坏预算"}, "custom.budget": {"很多"}}, wantStatus: 422,
				wantContains: []string{"预算：", `value="很多"`}},
		})

		// The custom values show on the detail pages; an edited definition
		// is relabelled and a deactivated one leaves the forms.
		var regionID int64
		defs, _ := o.svc.CustomFields(ctx, o.admin, "")
		for _, d := range defs {
			if d.Key == "region" {
				regionID = d.ID
			}
		}
		page, err := o.svc.ListCustomers(ctx, o.rep1, crm.CustomerFilter{Query: "华东区域"})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("customer with custom value: %v %v", page.Items, err)
		}
		regional := page.Items[0]
		contacts, _ := o.svc.ListContacts(ctx, o.rep1, crm.ListFilter{Query: "爱喝茶的人"})
		opps, _ := o.svc.ListOpportunities(ctx, o.rep1, crm.ListFilter{Query: "有预算的项目"})
		if len(contacts.Items) != 1 || len(opps.Items) != 1 {
			t.Fatalf("records with custom values: %d contacts, %d opportunities", len(contacts.Items), len(opps.Items))
		}
		runScenarios(t, s, browsers, []scenario{
			{name: "customer detail shows the custom value", actor: "rep1", method: "GET", path: "/customers/" + id(regional.ID), wantStatus: 200,
				wantContains: []string{"<dt>区域</dt><dd>华东</dd>"}},
			{name: "customer edit form keeps the custom value", actor: "rep1", method: "GET", path: "/customers/" + id(regional.ID) + "/edit", wantStatus: 200,
				wantContains: []string{`<option value="华东" selected>华东</option>`}},
			{name: "contact detail shows the choices", actor: "rep1", method: "GET", path: "/contacts/" + id(contacts.Items[0].ID), wantStatus: 200,
				wantContains: []string{"<dt>爱好</dt><dd>茶、高尔夫</dd>"}},
			{name: "opportunity detail shows the custom amount", actor: "rep1", method: "GET", path: "/opportunities/" + id(opps.Items[0].ID), wantStatus: 200,
				wantContains: []string{"<dt>预算</dt><dd>1,234.50</dd>"}},
			{name: "opportunity edit shows the custom amount in major units", actor: "rep1", method: "GET", path: "/opportunities/" + id(opps.Items[0].ID) + "/edit",
				wantStatus: 200, wantContains: []string{`name="custom.budget" type="text" value="1234.50"`}},
			{name: "custom field edit page", actor: "admin", method: "GET", path: "/admin/custom-fields/" + id(regionID), wantStatus: 200,
				wantContains: []string{"<code>region</code>", "华东\n华南</textarea>"}, wantNotContains: []string{`name="key"`, `name="type"`}},
			{name: "admin relabels and deactivates the field", actor: "admin", method: "POST", path: "/admin/custom-fields/" + id(regionID),
				body: url.Values{"label": {"所属区域"}, "options": {"华东\n华南\n华北"}, "key": {"hijack"}, "type": {"text"}}, wantStatus: 303,
				check: func(t *testing.T) {
					defs, _ := o.svc.CustomFields(ctx, o.admin, crm.ObjCustomer)
					for _, d := range defs {
						if d.ID == regionID && (d.Key != "region" || d.Type != "single" || d.Active || d.Label != "所属区域" || len(d.Options) != 3) {
							t.Errorf("after edit: %+v", d)
						}
					}
				}},
			{name: "a deactivated field leaves the form", actor: "rep1", method: "GET", path: "/customers/new", wantStatus: 200,
				wantNotContains: []string{`name="custom.region"`}},
			{name: "a deactivated field no longer is required", actor: "rep1", method: "POST", path: "/customers",
				body: url.Values{"name": {"无区域有限公司"}}, wantStatus: 303},
			{name: "unknown custom field", actor: "admin", method: "GET", path: "/admin/custom-fields/99999", wantStatus: 404},
		})

		// Every new POST requires the CSRF token and changes nothing without it.
		var csrfCases []scenario
		for _, p := range []struct{ actor, path string }{
			{"rep1", "/customers/" + id(c1.ID) + "/follow-ups"},
			{"rep1", "/contacts"}, {"rep1", "/contacts/" + id(contact1.ID)}, {"rep1", "/contacts/" + id(contact1.ID) + "/delete"},
			{"rep1", "/leads"}, {"rep1", "/leads/" + id(lead1.ID)}, {"rep1", "/leads/" + id(lead1.ID) + "/convert"},
			{"rep1", "/opportunities"}, {"rep1", oppURL}, {"rep1", oppURL + "/stage"}, {"rep1", oppURL + "/delete"},
			{"rep1", "/tasks"}, {"rep1", "/tasks/" + id(task1.ID) + "/done"}, {"rep1", "/tasks/" + id(task1.ID) + "/reopen"},
			{"admin", "/admin/stages"}, {"admin", "/admin/stages/" + id(open[0])},
			{"admin", "/admin/custom-fields"}, {"admin", "/admin/custom-fields/" + id(regionID)},
		} {
			csrfCases = append(csrfCases, scenario{name: "CSRF " + p.path, actor: p.actor, method: "POST", path: p.path, noCSRF: true,
				body: url.Values{"name": {"forged"}, "title": {"forged"}, "kind": {"call"}, "content": {"forged"}, "version": {"1"},
					"stage_id": {id(won)}, "label": {"forged"}, "key": {"forged"}, "type": {"text"}, "object": {"customer"}},
				wantStatus: 403, wantContains: []string{"表单已过期"}})
		}
		runScenarios(t, s, browsers, csrfCases)
		for _, check := range []func(*testing.T){followUps(3), oppState(opp1.ID, open[3], "")} {
			check(t)
		}
		if _, err := o.svc.GetContact(ctx, o.rep1, contact1.ID); err != nil {
			t.Errorf("contact after forged delete: %v", err)
		}

		// Every new page renders for an administrator and a sales rep, in
		// both languages, without raw keys or inline script and style.
		pages := map[string][]string{
			"admin": {"/admin/stages", "/admin/stages/" + id(open[0]), "/admin/custom-fields", "/admin/custom-fields/" + id(regionID),
				"/opportunities/" + id(opp2.ID), "/contacts/" + id(contact2.ID), "/leads/" + id(lead2.ID)},
			"rep1": {"/", "/customers/" + id(c1.ID), "/customers/" + id(c1.ID) + "/edit", "/customers", "/contacts", "/contacts/new", "/contacts/" + id(contact1.ID),
				"/contacts/" + id(contact1.ID) + "/edit", "/leads", "/leads/new", "/leads/" + id(lead1.ID), "/leads/" + id(lead1.ID) + "/edit",
				"/leads/" + id(lead1.ID) + "/convert", "/leads/" + id(leadConv.ID), "/opportunities", "/opportunities/board", "/opportunities/new",
				oppURL, oppURL + "/edit", "/tasks", "/tasks?show=all", "/tasks/new", "/search", "/search?q=" + url.QueryEscape("星辰")},
		}
		pages["admin"] = append(pages["admin"], pages["rep1"]...)
		var cases []scenario
		for _, actor := range []string{"admin", "rep1"} {
			for _, lang := range []string{"zh-CN", "en"} {
				for _, p := range pages[actor] {
					cases = append(cases, scenario{name: actor + " " + lang + " " + p, actor: actor, method: "GET", path: p,
						header: map[string]string{"Accept-Language": lang}, wantStatus: 200,
						wantContains:    []string{"</html>", `hx-headers="{&#34;X-CSRF-Token&#34;:`},
						wantNotContains: []string{"field.", "rule.", "enum.", "ZgotmplZ", `style="`, "<script>", "<style", "%!"}})
				}
			}
		}
		runScenarios(t, s, browsers, cases)
	})
}

// TestMoney checks amounts typed and shown in major units against minor
// units stored.
func TestMoney(t *testing.T) {
	for _, tc := range []struct {
		minor    int64
		currency string
		zh, en   string
	}{
		{1200000, "CNY", "¥12,000.00", "CNY 12,000.00"},
		{5, "USD", "USD 0.05", "USD 0.05"},
		{123456789, "JPY", "JPY 123,456,789", "JPY 123,456,789"},
		{1234, "KWD", "KWD 1.234", "KWD 1.234"},
		{0, "CNY", "¥0.00", "CNY 0.00"},
	} {
		if got := formatMoney("zh-CN", tc.minor, tc.currency); got != tc.zh {
			t.Errorf("zh %d %s = %q, want %q", tc.minor, tc.currency, got, tc.zh)
		}
		if got := formatMoney("en", tc.minor, tc.currency); got != tc.en {
			t.Errorf("en %d %s = %q, want %q", tc.minor, tc.currency, got, tc.en)
		}
	}
	for in, want := range map[string]int64{"12000": 1200000, "12,000.5": 1200050, "¥12 000.00": 1200000, "１２．３": 1230, ".5": 50, "0": 0} {
		if got, ok := parseMoney(in, 2); !ok || got != want {
			t.Errorf("parseMoney(%q) = %d %v, want %d", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "-1", "1.234", "abc", "1e5", "1.2.3", ".", "1000000000000.01", "99999999999999999999"} {
		if got, ok := parseMoney(bad, 2); ok {
			t.Errorf("parseMoney(%q) = %d, want refused", bad, got)
		}
	}
	if got, ok := parseMoney("500", 0); !ok || got != 500 {
		t.Errorf("yen: %d %v", got, ok)
	}
}

// TestPrevPage follows next-page links three pages deep and back.
func TestPrevPage(t *testing.T) {
	v := makePager("/customers", url.Values{"q": {"a"}}, "", nil, "c2")
	if v.FirstURL != "" || v.PrevURL != "" || v.NextURL != "/customers?cursor=c2&q=a" {
		t.Fatalf("page 1: %+v", v)
	}
	v = makePager("/customers", url.Values{"q": {"a"}}, "c2", nil, "c3")
	if v.FirstURL != "/customers?q=a" || v.PrevURL != "" || v.NextURL != "/customers?cursor=c3&prev=c2&q=a" {
		t.Fatalf("page 2: %+v", v)
	}
	v = makePager("/customers", url.Values{"q": {"a"}}, "c3", []string{"c2"}, "")
	if v.PrevURL != "/customers?cursor=c2&q=a" || v.NextURL != "" {
		t.Fatalf("page 3: %+v", v)
	}
	q := url.Values{"prev": {"c2.c3"}}
	if got := readPrev(q); strings.Join(got, ",") != "c2,c3" {
		t.Errorf("readPrev: %v", got)
	}
	for _, bad := range []string{"a..b", "a.<script>", strings.Repeat("x", 9000)} {
		if got := readPrev(url.Values{"prev": {bad}}); got != nil {
			t.Errorf("readPrev(%q) = %v", bad, got)
		}
	}
}
