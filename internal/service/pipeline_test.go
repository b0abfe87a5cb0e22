package service_test

import (
	"context"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

func TestLeadConversion(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		l, err := o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "陈静", Company: "宁波海纳机械有限公司", Mobile: "13600001234", Email: "chen@haina.cn", Source: "exhibition"})
		if err != nil {
			t.Fatal(err)
		}
		// 撞单 across objects: the lead's mobile blocks a contact elsewhere.
		_, err = o.Svc.CreateContact(ctx, o.Rep3, crm.ContactFields{Name: "x", Mobile: "136 0000 1234"})
		wantCode(t, err, crm.Duplicate)
		_, err = o.Svc.CreateLead(ctx, o.Rep3, crm.LeadFields{Name: "y", Company: "宁波海纳机械"})
		var ce *crm.Error
		if !errorsAs(err, &ce) || ce.Fields[0].Field != "company" {
			t.Fatalf("duplicate company on lead: %v", err)
		}
		// Others cannot convert it.
		_, err = o.Svc.ConvertLead(ctx, o.Rep2, l.ID, crm.LeadConversion{Version: l.Version})
		wantCode(t, err, crm.NotFound)
		// A bad opportunity rolls the whole conversion back.
		_, err = o.Svc.ConvertLead(ctx, o.Rep1, l.ID, crm.LeadConversion{Version: l.Version, Opportunity: &crm.OpportunityFields{Name: "", Amount: -1}})
		if !errorsAs(err, &ce) || ce.Code != crm.Invalid || ce.Fields[0].Field != "opportunity.name" {
			t.Fatalf("bad opportunity: %v", err)
		}
		if page, _ := o.Svc.ListCustomers(ctx, o.Rep1, crm.CustomerFilter{}); page.Total != 0 {
			t.Fatalf("failed conversion left a customer behind")
		}
		conv, err := o.Svc.ConvertLead(ctx, o.Rep1, l.ID, crm.LeadConversion{Version: l.Version,
			Opportunity: &crm.OpportunityFields{Name: "产线改造", Amount: 12_000_000, Currency: "CNY"}})
		if err != nil {
			t.Fatal(err)
		}
		if conv.Status != "converted" || conv.CustomerID == 0 || conv.ContactID == 0 || conv.OpportunityID == 0 {
			t.Fatalf("conversion links: %+v", conv)
		}
		c, err := o.Svc.GetCustomer(ctx, o.Rep1, conv.CustomerID)
		if err != nil || c.Name != "宁波海纳机械有限公司" || c.Source != "exhibition" {
			t.Fatalf("customer: %+v %v", c, err)
		}
		ct, err := o.Svc.GetContact(ctx, o.Rep1, conv.ContactID)
		if err != nil || ct.Mobile != "+8613600001234" || ct.CustomerID != c.ID {
			t.Fatalf("contact: %+v %v", ct, err)
		}
		_, err = o.Svc.ConvertLead(ctx, o.Rep1, l.ID, crm.LeadConversion{Version: conv.Version})
		wantCode(t, err, crm.Conflict)
		_, err = o.Svc.UpdateLead(ctx, o.Rep1, l.ID, crm.LeadUpdate{Version: conv.Version, Notes: ptr("x")})
		wantCode(t, err, crm.Conflict)
	})
}

func TestOpportunityStages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "成都天府物流"})
		stages, err := o.Svc.Stages(ctx, o.Rep1)
		if err != nil || len(stages) != 6 || stages[0].Name != "初步接洽" || stages[5].Kind != crm.StageLost {
			t.Fatalf("default stages: %+v %v", stages, err)
		}
		opp, err := o.Svc.CreateOpportunity(ctx, o.Rep1, crm.OpportunityFields{CustomerID: c.ID, Name: "仓储系统", Amount: 50_000_00, ExpectedCloseDate: "2027-03-31"})
		if err != nil || opp.StageID != stages[0].ID || opp.Probability != 10 || opp.Currency != "CNY" {
			t.Fatalf("create: %+v %v", opp, err)
		}
		_, err = o.Svc.CreateOpportunity(ctx, o.Rep1, crm.OpportunityFields{CustomerID: c.ID, Name: "x", Currency: "rmb", ExpectedCloseDate: "2027-02-30"})
		var ce *crm.Error
		if !errorsAs(err, &ce) || len(ce.Fields) != 2 {
			t.Fatalf("bad currency and date: %v", err)
		}
		_, err = o.Svc.CreateOpportunity(ctx, o.Rep3, crm.OpportunityFields{CustomerID: c.ID, Name: "steal"})
		if !errorsAs(err, &ce) || ce.Fields[0].Field != "customer_id" {
			t.Fatalf("opportunity on a foreign customer: %v", err)
		}
		moved, err := o.Svc.MoveOpportunity(ctx, o.Rep1, opp.ID, crm.StageMove{Version: opp.Version, StageID: stages[2].ID})
		if err != nil || moved.Probability != 50 || moved.ClosedAt != nil {
			t.Fatalf("move: %+v %v", moved, err)
		}
		_, err = o.Svc.MoveOpportunity(ctx, o.Rep1, opp.ID, crm.StageMove{Version: opp.Version, StageID: stages[3].ID})
		wantCode(t, err, crm.Conflict) // stale
		_, err = o.Svc.MoveOpportunity(ctx, o.Rep1, opp.ID, crm.StageMove{Version: moved.Version, StageID: stages[5].ID})
		if !errorsAs(err, &ce) || ce.Fields[0].Field != "lost_reason" {
			t.Fatalf("lost without reason: %v", err)
		}
		lost, err := o.Svc.MoveOpportunity(ctx, o.Rep1, opp.ID, crm.StageMove{Version: moved.Version, StageID: stages[5].ID, LostReason: "预算取消"})
		if err != nil || lost.ClosedAt == nil || lost.LostReason != "预算取消" {
			t.Fatalf("lost: %+v %v", lost, err)
		}
		_, hist, err := o.Svc.GetOpportunity(ctx, o.MgrEast, opp.ID)
		if err != nil || len(hist) != 3 || hist[1].FromStageID != stages[0].ID || hist[2].ToStageID != stages[5].ID {
			t.Fatalf("history: %+v %v", hist, err)
		}
		_, _, err = o.Svc.GetOpportunity(ctx, o.Rep2, opp.ID)
		wantCode(t, err, crm.NotFound)
		page, err := o.Svc.ListOpportunities(ctx, o.Rep1, crm.ListFilter{StageID: stages[5].ID})
		if err != nil || page.Total != 1 {
			t.Fatalf("list by stage: %+v %v", page, err)
		}
	})
}
