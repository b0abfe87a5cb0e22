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

// TestMassAssignment sends the fields a client must never set — owner,
// authorship, times, deletion mark, id, role and admin flags, the version
// on a create — to every create and update of a record. Each is refused by
// name, and the record is unchanged.
func TestMassAssignment(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		srv := newServer(t, o)
		rep1 := token(t, o, o.Rep1)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "乐清电器"})
		ct, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: c.ID, Name: "周一"})
		if err != nil {
			t.Fatal(err)
		}
		lead, err := o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "周二"})
		if err != nil {
			t.Fatal(err)
		}
		opp, err := o.Svc.CreateOpportunity(ctx, o.Rep1, crm.OpportunityFields{CustomerID: c.ID, Name: "开关"})
		if err != nil {
			t.Fatal(err)
		}
		contract, err := o.Svc.CreateContract(ctx, o.Rep1, crm.ContractFields{CustomerID: c.ID, Number: "YQ-1", Name: "开关合同"})
		if err != nil {
			t.Fatal(err)
		}
		task, err := o.Svc.CreateTask(ctx, o.Rep1, crm.TaskFields{Title: "回访"})
		if err != nil {
			t.Fatal(err)
		}
		fu, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "call", Content: "电话", CustomerID: c.ID})
		if err != nil {
			t.Fatal(err)
		}
		cid := strconv.FormatInt(c.ID, 10)
		writes := []struct {
			method, path, valid string // valid: a body the endpoint accepts
		}{
			{"POST", "/api/v1/customers", `"name":"新客户"`},
			{"PATCH", "/api/v1/customers/" + cid, `"version":1`},
			{"POST", "/api/v1/contacts", `"name":"新联系人","customer_id":` + cid},
			{"PATCH", "/api/v1/contacts/" + strconv.FormatInt(ct.ID, 10), `"version":1`},
			{"POST", "/api/v1/leads", `"name":"新线索"`},
			{"PATCH", "/api/v1/leads/" + strconv.FormatInt(lead.ID, 10), `"version":1`},
			{"POST", "/api/v1/opportunities", `"name":"新商机","customer_id":` + cid},
			{"PATCH", "/api/v1/opportunities/" + strconv.FormatInt(opp.ID, 10), `"version":1`},
			{"POST", "/api/v1/contracts", `"number":"YQ-2","name":"新合同","customer_id":` + cid},
			{"PATCH", "/api/v1/contracts/" + strconv.FormatInt(contract.ID, 10), `"version":1`},
			{"POST", "/api/v1/tasks", `"title":"新任务"`},
			{"PATCH", "/api/v1/tasks/" + strconv.FormatInt(task.ID, 10), `"version":1`},
			{"POST", "/api/v1/follow-ups", `"kind":"note","content":"记录","customer_id":` + cid},
			{"PATCH", "/api/v1/follow-ups/" + strconv.FormatInt(fu.ID, 10), `"version":1`},
		}
		forbidden := []string{`"id":99`, `"created_by":1`, `"updated_by":1`, `"created_at":"2020-01-01T00:00:00Z"`,
			`"updated_at":"2020-01-01T00:00:00Z"`, `"deleted_at":"2020-01-01T00:00:00Z"`, `"role_id":1`, `"admin":true`,
			`"owner_name":"x"`, `"department_id":1`}
		for _, w := range writes {
			extra := forbidden
			if strings.HasPrefix(w.method, "PATCH") {
				extra = append(extra, `"owner_id":1`) // ownership moves only by claim, release or hand-over
			}
			if w.method == "POST" {
				extra = append(extra, `"version":7`)
			}
			for _, f := range extra {
				name := strings.Trim(strings.SplitN(f, ":", 2)[0], `"`)
				if w.method == "POST" && name == "version" && strings.Contains(w.valid, "version") {
					continue
				}
				scenario{name: w.method + " " + w.path + " with " + name, token: rep1, method: w.method, path: w.path,
					body: "{" + w.valid + "," + f + "}", wantStatus: 422,
					wantContains: []string{`"field":"` + name + `"`}}.run(t, srv)
			}
		}
		// Nothing changed hands or times.
		got, _ := o.Svc.GetCustomer(ctx, o.Rep1, c.ID)
		if got.OwnerID != o.Rep1.UserID || got.Version != 1 || got.CreatedBy != o.Rep1.UserID {
			t.Fatalf("customer after refused writes: %+v", got.Record)
		}
	})
}
