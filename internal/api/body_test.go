package api_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestRequestBodies sends what a careless or hostile client sends — bytes
// that are not UTF-8 (GBK), a charset other than UTF-8, keys in another
// case or twice, values of the wrong type, implausible dates and
// currencies, oversize and broken bodies — and checks each is refused with
// the right status, the field named by its JSON name, a sentence in the
// user's language, no Go internals, and that nothing of it was stored.
func TestRequestBodies(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		srv := newServer(t, o)
		rep1 := token(t, o, o.Rep1)
		for _, d := range []crm.CustomField{
			{Object: crm.ObjCustomer, Key: "tier", Label: "客户等级", LabelEn: "Tier", Type: "single", Options: []string{"金", "银"}},
			{Object: crm.ObjCustomer, Key: "signed", Label: "签约日期", LabelEn: "Signed on", Type: "date"},
		} {
			if _, err := o.Svc.SaveCustomField(ctx, o.Admin, d); err != nil {
				t.Fatal(err)
			}
		}
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "宁波海曙贸易"})
		cid := strconv.FormatInt(c.ID, 10)
		zh := map[string]string{"Accept-Language": "zh-CN"}
		en := map[string]string{"Accept-Language": "en"}
		gbk := map[string]string{"Content-Type": "application/json; charset=GBK"}
		// Go's words that must never reach a client.
		internals := []string{"service.", "crm.", "Go value", "unexpected EOF", "2006-01-02", "json:", "reflect", "invalid character", "rule."}
		big := `{"name":"` + strings.Repeat("a", 2<<20) + `"}`

		scenarios := []scenario{
			// 6. Not UTF-8: refused by field, never stored as U+FFFD.
			{name: "GBK bytes in a value", token: rep1, method: "POST", path: "/api/v1/customers", header: zh,
				body: "{\"name\":\"\xc9\xcf\xba\xa3\xd4\xc6\xc9\xbc\"}", wantStatus: 422,
				wantContains: []string{`"field":"name"`, `"rule":"encoding"`, "名称：不是有效的 UTF-8 文本"}},
			{name: "invalid UTF-8 nested in custom", token: rep1, method: "POST", path: "/api/v1/customers", header: en,
				body: "{\"name\":\"Nested\",\"custom\":{\"tier\":\"\xff\"}}", wantStatus: 422,
				wantContains: []string{`"field":"custom.tier"`, `"rule":"encoding"`, "is not valid UTF-8 text"}},
			{name: "invalid UTF-8 in a key", token: rep1, method: "POST", path: "/api/v1/customers",
				body: "{\"na\xffme\":\"x\"}", wantStatus: 422, wantContains: []string{`"field":"body"`, `"rule":"encoding"`}},
			{name: "lone surrogate escape", token: rep1, method: "POST", path: "/api/v1/customers",
				body: `{"name":"A\ud800B"}`, wantStatus: 422, wantContains: []string{`"field":"name"`, `"rule":"encoding"`}},
			{name: "lone surrogate in a PATCH", token: rep1, method: "PATCH", path: "/api/v1/customers/" + cid,
				body: `{"version":1,"industry":"\udc00"}`, wantStatus: 422, wantContains: []string{`"field":"industry"`, `"rule":"encoding"`}},
			{name: "a surrogate pair is fine", token: rep1, method: "POST", path: "/api/v1/customers",
				body: `{"name":"Smile \ud83d\ude00"}`, wantStatus: 201, wantContains: []string{"Smile 😀"}},
			{name: "GBK declared", token: rep1, method: "POST", path: "/api/v1/customers", header: mergeHeaders(gbk, en),
				body: `{"name":"Declared"}`, wantStatus: 415,
				wantContains: []string{`"status":415`, `"code":"unsupported_media_type"`, "UTF-8", `"field":"content_type"`}},
			{name: "GBK declared, zh", token: rep1, method: "POST", path: "/api/v1/customers", header: mergeHeaders(gbk, zh),
				body: `{"name":"Declared"}`, wantStatus: 415, wantContains: []string{"请以 UTF-8 编码的 JSON"}},
			{name: "not JSON declared", token: rep1, method: "POST", path: "/api/v1/customers", header: map[string]string{"Content-Type": "text/plain"},
				body: `{"name":"Plain"}`, wantStatus: 415},
			{name: "UTF-8 declared in capitals", token: rep1, method: "POST", path: "/api/v1/customers", header: map[string]string{"Content-Type": "application/json; charset=UTF-8"},
				body: `{"name":"Declared UTF-8"}`, wantStatus: 201},

			// 7. Exact keys, each once; unknown keys still refused.
			{name: "key in capitals", token: rep1, method: "POST", path: "/api/v1/customers", header: en,
				body: `{"NAME":"Shouting"}`, wantStatus: 422, wantContains: []string{`"field":"NAME"`, `"rule":"unknown"`}},
			{name: "version in another case", token: rep1, method: "PATCH", path: "/api/v1/customers/" + cid,
				body: `{"Version":1,"industry":"x"}`, wantStatus: 422, wantContains: []string{`"field":"Version"`, `"rule":"unknown"`}},
			{name: "duplicate key", token: rep1, method: "POST", path: "/api/v1/customers", header: en,
				body: `{"name":"First","name":"Second"}`, wantStatus: 422,
				wantContains: []string{`"field":"name"`, `"rule":"duplicate_key"`, "Name: appears more than once"}},
			{name: "duplicate key nested", token: rep1, method: "POST", path: "/api/v1/customers",
				body: `{"name":"Twice","custom":{"tier":"金","tier":"银"}}`, wantStatus: 422,
				wantContains: []string{`"field":"custom.tier"`, `"rule":"duplicate_key"`}},
			{name: "duplicate key in a nested object of a convert", token: rep1, method: "POST", path: "/api/v1/leads/1/convert",
				body: `{"version":1,"opportunity":{"name":"a","name":"b"}}`, wantStatus: 422,
				wantContains: []string{`"field":"opportunity.name"`, `"rule":"duplicate_key"`}},
			{name: "unknown key", token: rep1, method: "POST", path: "/api/v1/customers",
				body: `{"name":"Unknown","bogus":1}`, wantStatus: 422, wantContains: []string{`"field":"bogus"`, `"rule":"unknown"`}},

			// 8. Plausible dates, ISO 4217 currencies.
			{name: "currency not ISO 4217", token: rep1, method: "POST", path: "/api/v1/opportunities", header: en,
				body: `{"name":"Deal","customer_id":` + cid + `,"currency":"ZZZ"}`, wantStatus: 422,
				wantContains: []string{`"field":"currency"`, "must be a three-letter ISO 4217 code"}},
			{name: "year 1 close date", token: rep1, method: "POST", path: "/api/v1/opportunities", header: zh,
				body: `{"name":"Deal","customer_id":` + cid + `,"expected_close_date":"0001-01-01"}`, wantStatus: 422,
				wantContains: []string{`"field":"expected_close_date"`, `"rule":"year_range"`, "年份必须在 1900–2200 之间"}},
			{name: "year 1 due time", token: rep1, method: "POST", path: "/api/v1/tasks", header: en,
				body: `{"title":"Call","due_at":"0001-01-01T00:00:00Z"}`, wantStatus: 422,
				wantContains: []string{`"field":"due_at"`, `"rule":"year_range"`, "must lie within the years 1900–2200"}},
			{name: "year 9999 custom date, by its label", token: rep1, method: "POST", path: "/api/v1/customers", header: en,
				body: `{"name":"Far future","custom":{"signed":"9999-12-31"}}`, wantStatus: 422,
				wantContains: []string{`"field":"custom.signed"`, "Signed on: must lie within the years 1900–2200"}},
			{name: "a plausible deal", token: rep1, method: "POST", path: "/api/v1/opportunities",
				body: `{"name":"Deal","customer_id":` + cid + `,"currency":"HKD","expected_close_date":"2027-03-31"}`, wantStatus: 201},

			// 9. Plain messages in the user's language, JSON names, no internals.
			{name: "an array for an object", token: rep1, method: "POST", path: "/api/v1/customers", header: en,
				body: `[]`, wantStatus: 422, wantContains: []string{`"field":"body"`, `"rule":"object"`, "Request body: must be an object"}, wantNotContains: internals},
			{name: "number for text", token: rep1, method: "POST", path: "/api/v1/customers", header: zh,
				body: `{"name":5}`, wantStatus: 422, wantContains: []string{`"field":"name"`, "名称：必须是文本"}, wantNotContains: internals},
			{name: "text for a number", token: rep1, method: "PATCH", path: "/api/v1/customers/" + cid, header: en,
				body: `{"version":"1"}`, wantStatus: 422, wantContains: []string{`"field":"version"`, "Version: must be a whole number"}, wantNotContains: internals},
			{name: "fraction for minor units", token: rep1, method: "POST", path: "/api/v1/opportunities", header: en,
				body: `{"name":"Deal","customer_id":` + cid + `,"amount":12.5}`, wantStatus: 422, wantContains: []string{`"field":"amount"`, `"rule":"integer"`}, wantNotContains: internals},
			{name: "text for a list", token: rep1, method: "POST", path: "/api/v1/customers", header: en,
				body: `{"name":"Tags","tags":"a,b"}`, wantStatus: 422, wantContains: []string{`"field":"tags"`, "must be a list"}, wantNotContains: internals},
			{name: "not a time", token: rep1, method: "POST", path: "/api/v1/tasks", header: en,
				body: `{"title":"Call","due_at":"tomorrow"}`, wantStatus: 422,
				wantContains: []string{`"field":"due_at"`, `"rule":"rfc3339"`, "2026-01-31T14:30:00+08:00"}, wantNotContains: internals},
			{name: "oversize body", token: rep1, method: "POST", path: "/api/v1/customers", header: en,
				body: big, wantStatus: 413, wantContains: []string{`"status":413`, `"code":"too_large"`, "at most 1 MB"}, wantNotContains: internals},
			{name: "truncated body", token: rep1, method: "POST", path: "/api/v1/customers", header: zh,
				body: `{"name":"Cut`, wantStatus: 422, wantContains: []string{`"rule":"truncated"`, "请求正文不是有效的 JSON"}, wantNotContains: internals},
			{name: "malformed body", token: rep1, method: "POST", path: "/api/v1/customers", header: en,
				body: `{name:"x"}`, wantStatus: 422, wantContains: []string{`"rule":"json"`, "is not valid JSON (at byte"}, wantNotContains: internals},
			{name: "empty body", token: rep1, method: "POST", path: "/api/v1/customers", header: en,
				body: ` `, wantStatus: 422, wantContains: []string{`"field":"body"`, "Request body: is required"}, wantNotContains: internals},
			{name: "data after the document", token: rep1, method: "POST", path: "/api/v1/customers",
				body: `{"name":"One"}{"name":"Two"}`, wantStatus: 422, wantContains: []string{`"rule":"json"`}, wantNotContains: internals},
			{name: "bad limit is named", token: rep1, method: "GET", path: "/api/v1/customers?limit=abc", header: zh,
				wantStatus: 422, wantContains: []string{"每页条数：必须是数字"}, wantNotContains: []string{"field.limit"}},
			{name: "empty task title says task", token: rep1, method: "POST", path: "/api/v1/tasks", header: zh,
				body: `{"title":""}`, wantStatus: 422, wantContains: []string{"任务内容：必填"}, wantNotContains: []string{"职位"}},
			{name: "custom field errors by label", token: rep1, method: "POST", path: "/api/v1/customers", header: zh,
				body: `{"name":"Copper","custom":{"tier":"铜"}}`, wantStatus: 422,
				wantContains: []string{`"field":"custom.tier"`, "客户等级：必须是以下之一：金, 银"}},
			{name: "custom field errors by English label", token: rep1, method: "POST", path: "/api/v1/customers", header: en,
				body: `{"name":"Copper","custom":{"tier":"铜"}}`, wantStatus: 422, wantContains: []string{"Tier: must be one of: 金, 银"}},
			{name: "sort error lists the sorts", token: rep1, method: "GET", path: "/api/v1/customers?sort=bogus", header: en,
				wantStatus: 422, wantContains: []string{`"field":"sort"`, "Sort: must be one of: ", "next_follow_up", "updated"}},
		}
		for _, sc := range scenarios {
			sc.run(t, srv)
		}

		// Nothing refused was stored, and nothing garbled.
		page, err := o.Svc.ListCustomers(ctx, o.Rep1, crm.CustomerFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range page.Items {
			names = append(names, c.Name)
			if strings.ContainsRune(c.Name+c.Industry, '\uFFFD') {
				t.Errorf("garbled text stored: %q", c.Name)
			}
		}
		if len(names) != 3 { // the fixture, the surrogate pair and the declared UTF-8
			t.Errorf("customers stored: %q", names)
		}
		got, err := o.Svc.GetCustomer(ctx, o.Rep1, c.ID)
		if err != nil || got.Version != 1 {
			t.Errorf("the refused updates changed the customer: %+v, %v", got, err)
		}
	})
}
