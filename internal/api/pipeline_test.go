package api_test

import (
	"encoding/json"
	"strconv"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestPipelineAPI walks a lead through conversion and its opportunity
// through the stages, as an integration would.
func TestPipelineAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := testorg.New(t, db)
		srv := newServer(t, o)
		rep1, rep2 := token(t, o, o.Rep1), token(t, o, o.Rep2)

		body := scenario{name: "create lead", token: rep1, method: "POST", path: "/api/v1/leads",
			body: `{"name":"刘洋","company":"武汉光谷智造","mobile":"15800001111"}`, wantStatus: 201}.run(t, srv)
		var lead struct{ ID, Version int64 }
		json.Unmarshal([]byte(body), &lead)
		id := strconv.FormatInt(lead.ID, 10)
		scenario{name: "other rep cannot convert", token: rep2, method: "POST", path: "/api/v1/leads/" + id + "/convert",
			body: `{"version":1}`, wantStatus: 404}.run(t, srv)
		body = scenario{name: "convert", token: rep1, method: "POST", path: "/api/v1/leads/" + id + "/convert",
			body: `{"version":1,"opportunity":{"name":"智能产线","amount":8800000,"currency":"CNY"}}`, wantStatus: 200,
			wantContains: []string{`"status":"converted"`}}.run(t, srv)
		var conv struct {
			OpportunityID int64 `json:"opportunity_id"`
			ContactID     int64 `json:"contact_id"`
		}
		json.Unmarshal([]byte(body), &conv)
		opp := strconv.FormatInt(conv.OpportunityID, 10)
		scenario{name: "stages", token: rep1, method: "GET", path: "/api/v1/stages", wantStatus: 200, wantContains: []string{"商务谈判", "Negotiation"}}.run(t, srv)
		scenario{name: "sales cannot change stages", token: rep1, method: "POST", path: "/api/v1/stages", body: `{"name":"x","kind":"open"}`, wantStatus: 403}.run(t, srv)
		scenario{name: "stage move unknown field", token: rep1, method: "POST", path: "/api/v1/opportunities/" + opp + "/stage", body: `{"version":1,"stage":4}`, wantStatus: 422}.run(t, srv)
		scenario{name: "stage move", token: rep1, method: "POST", path: "/api/v1/opportunities/" + opp + "/stage", body: `{"version":1,"stage_id":4}`,
			wantStatus: 200, wantContains: []string{`"stage_id":4`, `"probability":70`}}.run(t, srv)
		scenario{name: "opportunity detail with history", token: rep1, method: "GET", path: "/api/v1/opportunities/" + opp, wantStatus: 200,
			wantContains: []string{`"stage_history"`, `"to_stage_id":4`}}.run(t, srv)
		scenario{name: "other rep opportunities", token: rep2, method: "GET", path: "/api/v1/opportunities", wantStatus: 200,
			wantContains: []string{`"total":0`}, wantNotContains: []string{"智能产线"}}.run(t, srv)
		scenario{name: "contact from lead", token: rep1, method: "GET", path: "/api/v1/contacts/" + strconv.FormatInt(conv.ContactID, 10), wantStatus: 200,
			wantContains: []string{"刘洋", "+8615800001111"}}.run(t, srv)
		scenario{name: "task", token: rep1, method: "POST", path: "/api/v1/tasks", body: `{"title":"发合同","due_at":"2030-01-01T09:00:00Z"}`, wantStatus: 201}.run(t, srv)
		scenario{name: "my tasks", token: rep1, method: "GET", path: "/api/v1/tasks", wantStatus: 200, wantContains: []string{"发合同"}}.run(t, srv)
		admin := token(t, o, o.Admin)
		scenario{name: "define custom field", token: admin, method: "POST", path: "/api/v1/custom-fields",
			body: `{"object":"customer","key":"tier","label":"等级","type":"single","options":["gold","silver"]}`, wantStatus: 201}.run(t, srv)
		scenario{name: "sales cannot define", token: rep1, method: "POST", path: "/api/v1/custom-fields",
			body: `{"object":"customer","key":"x","label":"x","type":"text"}`, wantStatus: 403}.run(t, srv)
		scenario{name: "custom value", token: rep1, method: "POST", path: "/api/v1/customers",
			body: `{"name":"贵阳数谷","custom":{"tier":"gold"}}`, wantStatus: 201, wantContains: []string{`"custom":{"tier":"gold"}`}}.run(t, srv)
		scenario{name: "custom bad value", token: rep1, method: "POST", path: "/api/v1/customers", header: map[string]string{"Accept-Language": "en"},
			body: `{"name":"贵阳数谷二","custom":{"tier":"bronze"}}`, wantStatus: 422, wantContains: []string{`"field":"custom.tier"`}}.run(t, srv)
		scenario{name: "custom filter", token: rep1, method: "GET", path: "/api/v1/customers?custom.tier=gold", wantStatus: 200,
			wantContains: []string{`"total":1`, "贵阳数谷"}}.run(t, srv)
		scenario{name: "global search", token: rep1, method: "GET", path: "/api/v1/search?q=%E5%88%98%E6%B4%8B", wantStatus: 200,
			wantContains: []string{`"kind":"name"`, "刘洋"}}.run(t, srv)
		scenario{name: "global search other rep", token: rep2, method: "GET", path: "/api/v1/search?q=15800001111", wantStatus: 200,
			wantContains: []string{`"kind":"phone"`}, wantNotContains: []string{"刘洋"}}.run(t, srv)
		body = scenario{name: "task to edit", token: rep1, method: "POST", path: "/api/v1/tasks", body: `{"title":"报价单"}`, wantStatus: 201}.run(t, srv)
		var task struct{ ID int64 }
		json.Unmarshal([]byte(body), &task)
		tid := strconv.FormatInt(task.ID, 10)
		scenario{name: "task update", token: rep1, method: "PATCH", path: "/api/v1/tasks/" + tid, body: `{"version":1,"title":"报价单 v2"}`, wantStatus: 200, wantContains: []string{"报价单 v2", `"version":2`}}.run(t, srv)
		scenario{name: "task other rep", token: rep2, method: "GET", path: "/api/v1/tasks/" + tid, wantStatus: 404}.run(t, srv)
		scenario{name: "task delete", token: rep1, method: "DELETE", path: "/api/v1/tasks/" + tid, wantStatus: 204}.run(t, srv)
		scenario{name: "task gone", token: rep1, method: "GET", path: "/api/v1/tasks/" + tid, wantStatus: 404}.run(t, srv)
		scenario{name: "task bin", token: rep1, method: "GET", path: "/api/v1/recycle-bin/tasks", wantStatus: 200, wantContains: []string{"报价单 v2", `"purge_at":`}}.run(t, srv)
		scenario{name: "task bin other rep", token: rep2, method: "GET", path: "/api/v1/recycle-bin/tasks", wantStatus: 200, wantNotContains: []string{"报价单"}}.run(t, srv)
		scenario{name: "task restore", token: rep1, method: "POST", path: "/api/v1/tasks/" + tid + "/restore", wantStatus: 204}.run(t, srv)
		scenario{name: "unknown bin", token: rep1, method: "GET", path: "/api/v1/recycle-bin/nope", wantStatus: 404}.run(t, srv)
		scenario{name: "lead delete", token: rep1, method: "DELETE", path: "/api/v1/leads/" + id, wantStatus: 204}.run(t, srv)
		scenario{name: "bad due_before", token: rep1, method: "GET", path: "/api/v1/tasks?due_before=tomorrow", wantStatus: 422}.run(t, srv)
	})
}

// TestStageCriteriaAPI: an administrator sets a stage's criteria through
// the API; a move past the stage is refused with 422, a field error per
// missing thing and the sentence in the reader's language, until a linked
// task is done.
func TestStageCriteriaAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := testorg.New(t, db)
		srv := newServer(t, o)
		rep, admin := token(t, o, o.Rep1), token(t, o, o.Admin)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "合肥高新区科睿仪器"})
		x := o.Opportunity(t, o.Rep1, crm.OpportunityFields{CustomerID: c.ID, Name: "质谱仪采购"})
		opp := strconv.FormatInt(x.ID, 10)

		scenario{name: "criteria of a stage without any", token: rep, method: "GET", path: "/api/v1/stages/1/criteria", wantStatus: 200,
			wantContains: []string{`"stage_id":1`, `"fields":[]`, `"tasks":[]`, `"contract":false`}}.run(t, srv)
		scenario{name: "criteria of no stage", token: rep, method: "GET", path: "/api/v1/stages/999/criteria", wantStatus: 404}.run(t, srv)
		scenario{name: "sales cannot set criteria", token: rep, method: "PUT", path: "/api/v1/stages/1/criteria",
			body: `{"fields":["amount"]}`, wantStatus: 403}.run(t, srv)
		scenario{name: "bad criteria", token: admin, method: "PUT", path: "/api/v1/stages/1/criteria",
			body: `{"fields":["owner"],"tasks":[{"title":"","count":1}]}`, wantStatus: 422,
			wantContains: []string{`"field":"fields"`, `"rule":"unknown_field"`, `"field":"tasks.0.title"`}}.run(t, srv)
		scenario{name: "set criteria", token: admin, method: "PUT", path: "/api/v1/stages/1/criteria",
			body: `{"fields":["amount","expected_close_date"],"tasks":[{"title":"需求调研"}],"contract":false}`, wantStatus: 200,
			wantContains: []string{`"fields":["amount","expected_close_date"]`, `"count":1`}}.run(t, srv)
		scenario{name: "move refused", token: rep, method: "POST", path: "/api/v1/opportunities/" + opp + "/stage",
			header: map[string]string{"Accept-Language": "zh-CN"}, body: `{"version":1,"stage_id":2}`, wantStatus: 422,
			wantContains: []string{`"detail":"离开「初步接洽」前需要：金额、预计成交日期、已完成的任务「需求调研」"`,
				`"field":"amount","rule":"stage_exit"`, `"field":"expected_close_date","rule":"stage_exit"`, `"field":"tasks","rule":"stage_exit"`,
				`"message":"金额：离开「初步接洽」前必填"`}}.run(t, srv)
		scenario{name: "move refused in English", token: rep, method: "POST", path: "/api/v1/opportunities/" + opp + "/stage",
			header: map[string]string{"Accept-Language": "en"}, body: `{"version":1,"stage_id":2}`, wantStatus: 422,
			wantContains: []string{`"detail":"Before leaving Initial contact: Amount, Expected close date, a completed task “需求调研” are required"`,
				`"message":"Amount: required before leaving Initial contact"`}}.run(t, srv)
		scenario{name: "fill the fields", token: rep, method: "PATCH", path: "/api/v1/opportunities/" + opp,
			body: `{"version":1,"amount":1200000,"expected_close_date":"2027-04-30"}`, wantStatus: 200}.run(t, srv)
		body := scenario{name: "task about the opportunity", token: rep, method: "POST", path: "/api/v1/tasks",
			body: `{"title":"需求调研（实验室）","opportunity_id":` + opp + `}`, wantStatus: 201,
			wantContains: []string{`"opportunity_id":` + opp, `"customer_id":` + strconv.FormatInt(c.ID, 10)}}.run(t, srv)
		var task struct{ ID int64 }
		json.Unmarshal([]byte(body), &task)
		scenario{name: "still a task short", token: rep, method: "POST", path: "/api/v1/opportunities/" + opp + "/stage",
			header: map[string]string{"Accept-Language": "zh-CN"}, body: `{"version":2,"stage_id":2}`, wantStatus: 422,
			wantContains: []string{`"detail":"离开「初步接洽」前需要：已完成的任务「需求调研」"`}, wantNotContains: []string{`"field":"amount"`}}.run(t, srv)
		scenario{name: "task done", token: rep, method: "POST", path: "/api/v1/tasks/" + strconv.FormatInt(task.ID, 10) + "/done", wantStatus: 204}.run(t, srv)
		scenario{name: "the opportunity's tasks", token: rep, method: "GET", path: "/api/v1/tasks?all=true&opportunity_id=" + opp, wantStatus: 200,
			wantContains: []string{"需求调研（实验室）", `"done":true`}}.run(t, srv)
		scenario{name: "move allowed", token: rep, method: "POST", path: "/api/v1/opportunities/" + opp + "/stage",
			body: `{"version":2,"stage_id":2}`, wantStatus: 200, wantContains: []string{`"stage_id":2`}}.run(t, srv)
	})
}
