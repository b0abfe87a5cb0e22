package service_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestCustomerDetail: the customer page's use case reads the customer and
// its sections in one snapshot, within each section's scope, and records
// one view event naming every record shown — which the exposure report
// reads like the separate events it replaces.
func TestCustomerDetail(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		ctx := context.Background()
		raw := testdb.Raw(t, d, opt)
		o := testorg.New(t, db)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "留园机电", Phone: "13800001234"})
		ct, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: c.ID, Name: "贾宝玉", Mobile: "13900004321"})
		if err != nil {
			t.Fatal(err)
		}
		opp, err := o.Svc.CreateOpportunity(ctx, o.Rep1, crm.OpportunityFields{CustomerID: c.ID, Name: "年度框架"})
		if err != nil {
			t.Fatal(err)
		}
		fu, err := o.Svc.CreateFollowUp(ctx, o.Rep1, crm.FollowUpInput{Kind: "call", Content: "约了下周面谈", ContactID: ct.ID})
		if err != nil {
			t.Fatal(err)
		}
		task, err := o.Svc.CreateTask(ctx, o.Rep1, crm.TaskFields{Title: "寄合同", CustomerID: c.ID})
		if err != nil {
			t.Fatal(err)
		}
		contract, err := o.Svc.CreateContract(ctx, o.Rep1, crm.ContractFields{CustomerID: c.ID, OpportunityID: opp.ID, Number: "LY-2026-01",
			Name: "年度框架合同", Amount: 880000})
		if err != nil {
			t.Fatal(err)
		}
		// Another customer's contract is not in this customer's section.
		other := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "拙政园建材"})
		if _, err := o.Svc.CreateContract(ctx, o.Rep1, crm.ContractFields{CustomerID: other.ID, Number: "ZZ-1", Name: "别家合同"}); err != nil {
			t.Fatal(err)
		}
		before := countRows(t, raw, "SELECT COUNT(*) FROM audit_events")

		got, err := o.Svc.CustomerDetail(ctx, o.MgrEast, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Customer.Name != c.Name || len(got.Contacts) != 1 || got.Contacts[0].Name != "贾宝玉" || len(got.Opportunities) != 1 ||
			len(got.FollowUps) != 1 || got.FollowUps[0].Content != fu.Content || len(got.Tasks) != 1 || got.Tasks[0].ID != task.ID ||
			len(got.Contracts) != 1 || got.Contracts[0].Number != contract.Number ||
			!got.ShowContacts || !got.ShowOpportunities || !got.ShowContracts || !got.ShowFollowUps || !got.ShowTasks {
			t.Fatalf("detail: %+v", got)
		}
		if n := countRows(t, raw, "SELECT COUNT(*) FROM audit_events") - before; n != 1 {
			t.Fatalf("the detail wrote %d audit events, want one", n)
		}
		fields := rawString(t, raw, "SELECT fields FROM audit_events WHERE action = 'customer.view' AND record_id = $1", c.ID)
		var shown struct {
			Seen []string
			With map[crm.Object]struct{ IDs []int64 }
		}
		if err := json.Unmarshal([]byte(fields), &shown); err != nil || !slices.Contains(shown.Seen, "phone") ||
			!slices.Equal(shown.With[crm.ObjContact].IDs, []int64{ct.ID}) || !slices.Equal(shown.With[crm.ObjOpportunity].IDs, []int64{opp.ID}) ||
			!slices.Equal(shown.With[crm.ObjFollowUp].IDs, []int64{fu.ID}) || !slices.Equal(shown.With[crm.ObjTask].IDs, []int64{task.ID}) ||
			!slices.Equal(shown.With[crm.ObjContract].IDs, []int64{contract.ID}) {
			t.Fatalf("the view event: %v %s", err, fields)
		}

		// The exposure report reads the sections: the contact was listed to
		// the manager, with the fields shown.
		o.StepUp(t, o.Admin)
		rep, err := o.Svc.ExposureReport(ctx, o.Admin, service.ExposureQuery{Since: o.Now().Add(-time.Hour), ActorID: o.MgrEast.UserID})
		if err != nil {
			t.Fatal(err)
		}
		var contactRow *service.ExposureRow
		for i, r := range rep.Rows {
			if r.Object == crm.ObjContact && r.RecordID == ct.ID {
				contactRow = &rep.Rows[i]
			}
		}
		if contactRow == nil || !slices.Equal(contactRow.Kinds, []string{"listed"}) || !slices.Contains(contactRow.Fields, "mobile") {
			t.Fatalf("exposure of the contact shown on the page: %+v", rep.Rows)
		}

		// Another rep sees nothing; a pool customer shows no sections.
		_, err = o.Svc.CustomerDetail(ctx, o.Rep2, c.ID)
		wantCode(t, err, crm.NotFound)
		if err := o.Svc.ReleaseCustomer(ctx, o.Rep1, c.ID); err != nil {
			t.Fatal(err)
		}
		pool, err := o.Svc.CustomerDetail(ctx, o.Rep2, c.ID)
		if err != nil || pool.ShowContacts || pool.Contacts != nil || pool.ShowContracts || pool.Contracts != nil || pool.FollowUps != nil ||
			pool.Customer.Phone == c.Phone {
			t.Fatalf("a pool customer's detail: %v %+v", err, pool)
		}
	})
}
