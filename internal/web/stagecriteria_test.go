package web

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
)

// TestStageCriteriaPages: an administrator sets a stage's criteria on the
// stage's page (a bad line refused with what was typed kept); a rep's move
// past the stage is refused on the board, the message on the card, and on
// the opportunity's page, in either language, and nothing moves.
func TestStageCriteriaPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		_, err := o.svc.SaveCustomField(ctx, o.admin, crm.CustomField{Object: crm.ObjOpportunity, Key: "quote_date", Label: "报价日期",
			LabelEn: "quote date", Type: "date"})
		noErr(t, err)
		stages, err := o.svc.Stages(ctx, o.rep1)
		noErr(t, err)
		proposal, negotiation, lost := stages[2], stages[3], stages[5]
		c := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "杭州滨江云图科技"})
		x, err := o.svc.CreateOpportunity(ctx, o.rep1, crm.OpportunityFields{CustomerID: c.ID, Name: "云图数据平台"})
		noErr(t, err)
		x, err = o.svc.MoveOpportunity(ctx, o.rep1, x.ID, crm.StageMove{Version: x.Version, StageID: proposal.ID})
		noErr(t, err)
		browsers := map[string]*browser{"admin": signInAdmin(t, s, o), "rep1": s.signIn("rep1", testPassword)}
		stageURL, oppURL := "/admin/stages/"+id(proposal.ID), "/opportunities/"+id(x.ID)
		htmx, en := map[string]string{"HX-Request": "true"}, map[string]string{"Accept-Language": "en"}
		stays := func(t *testing.T) {
			got, _, err := o.svc.GetOpportunity(ctx, o.rep1, x.ID)
			if err != nil || got.StageID != proposal.ID || got.Version != x.Version {
				t.Errorf("a refused move changed the opportunity: %+v %v", got, err)
			}
		}
		version := id(x.Version)
		want := "离开「方案报价」前需要：金额、报价日期、已完成的任务「方案评审」"

		runScenarios(t, s, browsers, []scenario{
			{name: "the stage page offers the criteria", actor: "admin", method: "GET", path: stageURL, wantStatus: 200,
				wantContains: []string{"阶段条件", `action="` + stageURL + `/criteria"`, `name="fields" value="amount"`, `name="fields" value="custom.quote_date"`,
					"报价日期", `name="tasks"`, `name="contract"`}},
			{name: "a lost stage takes none", actor: "admin", method: "GET", path: "/admin/stages/" + id(lost.ID), wantStatus: 200,
				wantContains: []string{"输单阶段不设条件"}, wantNotContains: []string{`name="tasks"`}},
			{name: "sales may not set criteria", actor: "rep1", method: "POST", path: stageURL + "/criteria",
				body: url.Values{"fields": {"amount"}}, wantStatus: 403},
			{name: "not without the CSRF token", actor: "admin", method: "POST", path: stageURL + "/criteria", noCSRF: true,
				body: url.Values{"fields": {"amount"}}, wantStatus: 403, check: func(t *testing.T) {
					if c, err := o.svc.StageCriteria(ctx, o.admin, proposal.ID); err != nil || !c.Empty() {
						t.Errorf("criteria saved without the token: %+v %v", c, err)
					}
				}},
			{name: "a bad task count is refused, what was typed kept", actor: "admin", method: "POST", path: stageURL + "/criteria",
				body: url.Values{"fields": {"amount"}, "tasks": {"方案评审 ×99"}}, wantStatus: 422,
				wantContains: []string{"必须在 1-20 范围内", "方案评审 ×99", `value="amount" checked`}},
			{name: "criteria saved", actor: "admin", method: "POST", path: stageURL + "/criteria",
				body: url.Values{"fields": {"amount", "custom.quote_date"}, "tasks": {"方案评审\r\n\r\n"}}, wantStatus: 303, wantLocation: stageURL},
			{name: "and shown", actor: "admin", method: "GET", path: stageURL, wantStatus: 200,
				wantContains: []string{`value="amount" checked`, `value="custom.quote_date" checked`, ">方案评审</textarea>"}},

			{name: "a move past the stage is refused on the card", actor: "rep1", method: "POST", path: oppURL + "/stage", header: htmx,
				body: url.Values{"version": {version}, "stage_id": {id(negotiation.ID)}, "from": {"board"}}, wantStatus: 422,
				wantContains: []string{`<section id="board"`, want}, wantNotContains: []string{"<html", "金额：离开"}, check: func(t *testing.T) {
					stays(t)
				}},
			{name: "and on the opportunity's page, in English", actor: "rep1", method: "POST", path: oppURL + "/stage", header: en,
				body: url.Values{"version": {version}, "stage_id": {id(negotiation.ID)}, "from": {"detail"}}, wantStatus: 422,
				wantContains: []string{"Before leaving Proposal: Amount, quote date, a completed task “方案评审” are required", "云图数据平台"},
				check:        stays},
			// The opportunity's page says what the stage asks and adds
			// tasks linked to it.
			{name: "the page says what the stage needs", actor: "rep1", method: "GET", path: oppURL, wantStatus: 200,
				wantContains: []string{"离开「方案报价」需要：金额、报价日期、1 个已完成的任务「方案评审」",
					`href="/tasks/new?customer_id=` + id(c.ID) + `&amp;opportunity_id=` + id(x.ID) + `"`}},
			{name: "a new task from the page carries the opportunity", actor: "rep1", method: "GET",
				path: "/tasks/new?customer_id=" + id(c.ID) + "&opportunity_id=" + id(x.ID), wantStatus: 200,
				wantContains: []string{`<input type="hidden" name="opportunity_id" value="` + id(x.ID) + `">`, `href="` + oppURL + `"`}},
			{name: "the task is linked and back on the page", actor: "rep1", method: "POST", path: "/tasks",
				body: url.Values{"title": {"方案评审"}, "customer_id": {id(c.ID)}, "opportunity_id": {id(x.ID)}}, wantStatus: 303,
				wantLocation: oppURL + "#tasks", check: func(t *testing.T) {
					tasks, err := o.svc.ListTasks(ctx, o.rep1, service.TaskFilter{OpportunityID: x.ID, All: true})
					if err != nil || len(tasks) != 1 || tasks[0].OpportunityID != x.ID || tasks[0].Title != "方案评审" {
						t.Errorf("tasks of the opportunity: %+v %v", tasks, err)
					}
				}},
			{name: "listed on the opportunity", actor: "rep1", method: "GET", path: oppURL, wantStatus: 200,
				wantContains: []string{`id="tasks"`, "<strong>方案评审</strong>"}},
			{name: "moving to lost is allowed", actor: "rep1", method: "POST", path: oppURL + "/stage",
				body: url.Values{"version": {version}, "stage_id": {id(lost.ID)}, "from": {"board"}, "lost_reason": {"客户选择自研"}}, wantStatus: 303},
		})
		// The alert sits in the refused card, not above the board.
		rec := s.do(browsers["rep1"], "POST", oppURL+"/stage", url.Values{"csrf": {browsers["rep1"].csrf}, "version": {id(x.Version + 1)},
			"stage_id": {id(negotiation.ID)}, "from": {"board"}}, htmx)
		body := rec.Body.String()
		card := strings.Index(body, "云图数据平台</a></h3>")
		alert := strings.Index(body, "离开「方案报价」前需要")
		if rec.Code != 422 || card < 0 || alert < card || strings.Contains(body[card:alert], "</article>") {
			t.Fatalf("the refusal is not on the card (status %d, card at %d, alert at %d)\n%s", rec.Code, card, alert, excerpt(body))
		}
	})
}
