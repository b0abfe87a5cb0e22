package web

import (
	"context"
	"net/url"
	"strconv"
	"testing"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// TestContractPages drives the contract pages through the real router:
// the list with its filters (customer, opportunity, status, search, sort)
// within the user's scope, the detail page, the forms with their errors in
// both languages and everything typed kept, the duplicate number named on
// its field, the edit of a role that sees the amount withheld, delete and
// the recycle bin.
func TestContractPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		id := func(n int64) string { return strconv.FormatInt(n, 10) }
		c1 := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "北京星辰科技有限公司"})
		c2 := mustCreateCustomer(t, o.svc, o.rep2, crm.CustomerFields{Name: "二号客户"})
		c3 := mustCreateCustomer(t, o.svc, o.rep3, crm.CustomerFields{Name: "三号客户"})
		opp, err := o.svc.CreateOpportunity(ctx, o.rep1, crm.OpportunityFields{CustomerID: c1.ID, Name: "星辰年度服务", Amount: 1200000})
		noErr(t, err)
		k1, err := o.svc.CreateContract(ctx, o.rep1, crm.ContractFields{CustomerID: c1.ID, OpportunityID: opp.ID, Number: "HT-001",
			Name: "星辰年度服务合同", Amount: 1200000, Status: "signed", SignedOn: "2026-01-05"})
		noErr(t, err)
		k2, err := o.svc.CreateContract(ctx, o.rep1, crm.ContractFields{CustomerID: c1.ID, Number: "HT-002", Name: "星辰二期合同", Amount: 500000})
		noErr(t, err)
		_, err = o.svc.CreateContract(ctx, o.rep2, crm.ContractFields{CustomerID: c2.ID, Number: "HT-900", Name: "二号合同"})
		noErr(t, err)

		// A role that sees contract amounts masked (withheld: a number has
		// no masked form), over the manager's subtree.
		sys := access.System("test")
		role := o.roles["manager"]
		role.ID, role.Key, role.Name = 0, "amount_masked", "amount_masked"
		grants := map[crm.Object]crm.ObjectGrant{}
		for obj, g := range role.Grants {
			if obj == crm.ObjContract {
				g.Fields = map[string]crm.FieldAccess{"amount": crm.FieldMasked}
			}
			grants[obj] = g
		}
		role.Grants = grants
		saved, err := o.svc.SaveRole(ctx, sys, role)
		noErr(t, err)
		o.t.Roles[saved.Key] = saved
		o.t.User(t, "viewer", o.east.ID, saved.Key)
		o.t.User(t, "reader.of.trails", o.hq.ID, "auditor")

		browsers := map[string]*browser{"rep1": s.signIn("rep1", testPassword), "rep2": s.signIn("rep2", testPassword),
			"rep3": s.signIn("rep3", testPassword), "viewer": s.signIn("viewer", testPassword),
			"auditor": s.signIn("reader.of.trails", testPassword)}
		en := map[string]string{"Accept-Language": "en"}
		k1URL, k2URL := "/contracts/"+id(k1.ID), "/contracts/"+id(k2.ID)
		amountOf := func(want int64) func(t *testing.T) {
			return func(t *testing.T) {
				k, err := o.svc.GetContract(ctx, o.rep1, k1.ID)
				if err != nil || k.Amount != want {
					t.Errorf("amount %d, want %d (%v)", k.Amount, want, err)
				}
			}
		}

		runScenarios(t, s, browsers, []scenario{
			// The list and its filters, within the user's scope.
			{name: "navigation names contracts", actor: "rep1", method: "GET", path: "/", wantStatus: 200,
				wantContains: []string{`<a href="/contracts">合同</a>`}},
			{name: "not for a role that does not read contracts", actor: "auditor", method: "GET", path: "/", wantStatus: 200,
				wantNotContains: []string{`href="/contracts"`}},
			{name: "list", actor: "rep1", method: "GET", path: "/contracts", wantStatus: 200,
				wantContains:    []string{"HT-001", "星辰年度服务合同", "北京星辰科技有限公司", "¥12,000.00", "已签订", "草稿", "共 2 条"},
				wantNotContains: []string{"二号合同"}},
			{name: "list in English", actor: "rep1", method: "GET", path: "/contracts", header: en, wantStatus: 200,
				wantContains: []string{"CNY 12,000.00", "Signed", "Draft", "Contract number"}},
			{name: "status filter", actor: "rep1", method: "GET", path: "/contracts?status=draft", wantStatus: 200,
				wantContains: []string{"星辰二期合同", "共 1 条"}, wantNotContains: []string{"星辰年度服务合同"}},
			{name: "search by name", actor: "rep1", method: "GET", path: "/contracts?q=" + url.QueryEscape("二期"), wantStatus: 200,
				wantContains: []string{"星辰二期合同"}, wantNotContains: []string{"星辰年度服务合同"}},
			{name: "customer filter kept in the filter form", actor: "rep1", method: "GET", path: "/contracts?customer_id=" + id(c1.ID), wantStatus: 200,
				wantContains: []string{"共 2 条", `<input type="hidden" name="customer_id" value="` + id(c1.ID) + `">`, "全部合同"}},
			{name: "a customer out of scope lists nothing", actor: "rep1", method: "GET", path: "/contracts?customer_id=" + id(c2.ID), wantStatus: 200,
				wantContains: []string{"共 0 条"}, wantNotContains: []string{"二号合同"}},
			{name: "opportunity filter", actor: "rep1", method: "GET", path: "/contracts?opportunity_id=" + id(opp.ID), wantStatus: 200,
				wantContains: []string{"星辰年度服务合同", "共 1 条"}, wantNotContains: []string{"星辰二期合同"}},
			{name: "sort by amount", actor: "rep1", method: "GET", path: "/contracts?sort=amount", wantStatus: 200,
				wantContains: []string{`<option value="amount" selected>`, "星辰二期合同"}},
			{name: "rep2 never sees rep1's contracts", actor: "rep2", method: "GET", path: "/contracts", wantStatus: 200,
				wantContains: []string{"二号合同"}, wantNotContains: []string{"星辰"}},

			// The detail page.
			{name: "detail", actor: "rep1", method: "GET", path: k1URL, wantStatus: 200,
				wantContains: []string{"HT-001", "¥12,000.00", "已签订", "2026-01-05", `href="/opportunities/` + id(opp.ID) + `"`,
					`href="/history/contract/` + id(k1.ID) + `"`, `href="/versions/contract/` + id(k1.ID) + `"`, k1URL + "/delete"}},
			{name: "rep2 cannot see rep1's contract", actor: "rep2", method: "GET", path: k1URL, wantStatus: 404, wantNotContains: []string{"星辰"}},
			{name: "versions page", actor: "rep1", method: "GET", path: "/versions/contract/" + id(k1.ID), wantStatus: 200},

			// Creating.
			{name: "new form pre-filled with the customer and its opportunities", actor: "rep1", method: "GET", path: "/contracts/new?customer_id=" + id(c1.ID),
				wantStatus: 200, wantContains: []string{`<option value="` + id(c1.ID) + `" selected>北京星辰科技有限公司</option>`,
					`<option value="` + id(opp.ID) + `">星辰年度服务</option>`, `value="CNY"`, `<option value="draft" selected>`}},
			{name: "create", actor: "rep1", method: "POST", path: "/contracts",
				body: url.Values{"customer_id": {id(c1.ID)}, "opportunity_id": {id(opp.ID)}, "number": {"HT-003"}, "name": {"星辰三期合同"},
					"amount": {"¥8,800.5"}, "currency": {"CNY"}, "status": {"draft"}}, wantStatus: 303, wantLocation: "/contracts/"},
			{name: "refused form keeps what was typed, errors by their fields", actor: "rep1", method: "POST", path: "/contracts",
				body: url.Values{"customer_id": {id(c1.ID)}, "opportunity_id": {id(opp.ID)}, "number": {""}, "name": {""}, "amount": {"十万"},
					"starts_on": {"2026-03-01"}, "ends_on": {"2026-02-01"}, "notes": {"付款分三期"}},
				wantStatus: 422, wantContains: []string{"合同编号：必填", "合同名称：必填", "金额：必须是金额", "结束日期：不能早于开始日期",
					`value="十万"`, `value="2026-03-01"`, `value="2026-02-01"`, "付款分三期", `<option value="` + id(opp.ID) + `" selected>`,
					`id="e-f-number"`, `id="e-f-ends_on"`}},
			{name: "refused form in English", actor: "rep1", method: "POST", path: "/contracts", header: en,
				body: url.Values{"customer_id": {id(c1.ID)}, "number": {""}, "name": {""}, "amount": {"lots"}, "starts_on": {"2026-03-01"},
					"ends_on": {"2026-02-01"}},
				wantStatus: 422, wantContains: []string{"Contract number: is required", "Contract name: is required",
					"Amount: must be an amount like 12000.50", "Ends on: cannot be before the start date", `value="lots"`}},
			{name: "a duplicate number is refused on the number field, naming its owner", actor: "rep3", method: "POST", path: "/contracts",
				body:       url.Values{"customer_id": {id(c3.ID)}, "number": {"ht-001"}, "name": {"三号合同"}, "amount": {"100"}},
				wantStatus: 409, wantContains: []string{`<p class="field-error" id="e-f-number">合同编号：已存在，负责人：User rep1</p>`,
					`value="ht-001"`, `value="三号合同"`, `value="100"`}, wantNotContains: []string{"星辰年度服务合同"}},
			{name: "the duplicate in English", actor: "rep3", method: "POST", path: "/contracts", header: en,
				body:       url.Values{"customer_id": {id(c3.ID)}, "number": {"HT-001"}, "name": {"Third"}},
				wantStatus: 409, wantContains: []string{"Contract number: already exists, owned by User rep1"}},

			// Editing.
			{name: "edit form shows the amount in major units and the customer's opportunities", actor: "rep1", method: "GET", path: k1URL + "/edit",
				wantStatus: 200, wantContains: []string{`value="12000.00"`, `name="version" value="1"`, `value="HT-001"`,
					`<input type="hidden" name="customer_id" value="` + id(c1.ID) + `">`, `<option value="` + id(opp.ID) + `" selected>星辰年度服务</option>`},
				wantNotContains: []string{`name="picker_q"`}},
			{name: "renumbering to a taken number is refused and keeps the form", actor: "rep1", method: "POST", path: k2URL,
				body: url.Values{"version": {"1"}, "customer_id": {id(c1.ID)}, "number": {"HT-001"}, "name": {"星辰二期合同"}, "amount": {"5000"},
					"status": {"draft"}},
				wantStatus: 409, wantContains: []string{`id="e-f-number"`, `value="HT-001"`, `<option value="` + id(opp.ID) + `">星辰年度服务</option>`}},
			{name: "edit", actor: "rep1", method: "POST", path: k1URL,
				body: url.Values{"version": {"1"}, "customer_id": {id(c1.ID)}, "opportunity_id": {id(opp.ID)}, "number": {"HT-001"},
					"name": {"星辰年度服务合同"}, "amount": {"15000"}, "currency": {"CNY"}, "status": {"active"}, "signed_on": {"2026-01-05"}},
				wantStatus: 303, wantLocation: k1URL, check: amountOf(1500000)},
			{name: "stale edit", actor: "rep1", method: "POST", path: k1URL,
				body: url.Values{"version": {"1"}, "number": {"HT-001"}, "name": {"旧版本"}, "amount": {"1"}}, wantStatus: 409,
				wantContains: []string{"该记录已被他人修改", `value="旧版本"`}},

			// A withheld amount: shown withheld, kept by an edit that sends it back empty.
			{name: "masked amount withheld in the list", actor: "viewer", method: "GET", path: "/contracts", wantStatus: 200,
				wantContains:    []string{"星辰年度服务合同", `<span class="masked" title="您的角色只能看到脱敏值">***</span>`},
				wantNotContains: []string{"15,000.00", "5,000.00"}},
			{name: "masked amount withheld on the detail page", actor: "viewer", method: "GET", path: k1URL, wantStatus: 200,
				wantContains: []string{`class="masked"`}, wantNotContains: []string{"15,000.00", "¥0.00"}},
			{name: "masked amount withheld on the customer page", actor: "viewer", method: "GET", path: "/customers/" + id(c1.ID), wantStatus: 200,
				wantContains: []string{"星辰年度服务合同", `class="masked"`}, wantNotContains: []string{"15,000.00"}},
			{name: "masked amount empty in the edit form", actor: "viewer", method: "GET", path: k1URL + "/edit", wantStatus: 200,
				wantContains: []string{`name="amount" type="text" value=""`}, wantNotContains: []string{"15000.00"}},
			{name: "an edit by the masked role keeps the amount", actor: "viewer", method: "POST", path: k1URL,
				body: url.Values{"version": {"2"}, "customer_id": {id(c1.ID)}, "opportunity_id": {id(opp.ID)}, "number": {"HT-001"},
					"name": {"星辰年度服务合同"}, "amount": {""}, "currency": {"CNY"}, "status": {"expired"}, "signed_on": {"2026-01-05"}},
				wantStatus: 303, wantLocation: k1URL, check: amountOf(1500000)},
			{name: "the masked role cannot sort by the amount", actor: "viewer", method: "GET", path: "/contracts?sort=amount", wantStatus: 422},

			// Delete and the recycle bin.
			{name: "delete", actor: "rep1", method: "POST", path: k2URL + "/delete", wantStatus: 303, wantLocation: "/contracts"},
			{name: "the recycle bin lists it", actor: "rep1", method: "GET", path: "/recycle-bin/contracts", wantStatus: 200,
				wantContains: []string{"星辰二期合同", "/recycle-bin/contracts/" + id(k2.ID) + "/restore"}},
			{name: "restore", actor: "rep1", method: "POST", path: "/recycle-bin/contracts/" + id(k2.ID) + "/restore", wantStatus: 303,
				wantLocation: "/recycle-bin/contracts"},
			{name: "restored into the list", actor: "rep1", method: "GET", path: "/contracts?q=" + url.QueryEscape("二期"), wantStatus: 200,
				wantContains: []string{"星辰二期合同"}},
		})
	})
}
