package service_test

import (
	"context"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestContracts: a contract hangs off a customer the author may edit and
// optionally one of that customer's opportunities; its number is unique
// among the organisation's live contracts (case aside), its dates agree;
// its scope follows the customer; edits are versioned and audited.
func TestContracts(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "杭州西溪软件"})
		other := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "绍兴黄酒集团"})
		opp, err := o.Svc.CreateOpportunity(ctx, o.Rep1, crm.OpportunityFields{CustomerID: c.ID, Name: "年度订阅"})
		if err != nil {
			t.Fatal(err)
		}
		in := crm.ContractFields{CustomerID: c.ID, OpportunityID: opp.ID, Number: " HT-2026-001 ", Name: "年度订阅合同",
			Amount: 12_000_00, SignedOn: "2026-01-05", StartsOn: "2026-01-10", EndsOn: "2027-01-09", Notes: "首年"}
		k, err := o.Svc.CreateContract(ctx, o.Rep1, in)
		if err != nil {
			t.Fatal(err)
		}
		if k.Number != "HT-2026-001" || k.Currency != "CNY" || k.Status != "draft" || k.Version != 1 || k.OwnerID != o.Rep1.UserID {
			t.Fatalf("created %+v", k)
		}

		// Per-field problems, each named.
		for _, tc := range []struct {
			f           crm.ContractFields
			field, rule string
		}{
			{crm.ContractFields{CustomerID: c.ID, Number: "HT-2", Name: "x", StartsOn: "2026-05-01", EndsOn: "2026-04-30"}, "ends_on", "before_start"},
			{crm.ContractFields{CustomerID: c.ID, Number: "HT-3", Name: "x", SignedOn: "1800-01-01"}, "signed_on", "year_range"},
			{crm.ContractFields{CustomerID: c.ID, Number: "HT-4", Name: "x", Status: "lost"}, "status", "enum"},
			{crm.ContractFields{CustomerID: c.ID, Number: "HT-5", Name: "x", Currency: "XXQ"}, "currency", "currency"},
			{crm.ContractFields{CustomerID: other.ID, OpportunityID: opp.ID, Number: "HT-6", Name: "x"}, "opportunity_id", "other_customer"},
			{crm.ContractFields{CustomerID: c.ID, Name: "x"}, "number", "required"},
		} {
			_, err := o.Svc.CreateContract(ctx, o.Rep1, tc.f)
			wantField(t, err, tc.field, tc.rule)
		}
		// The duplicate names the owner, never the record.
		_, err = o.Svc.CreateContract(ctx, o.Rep3, crm.ContractFields{CustomerID: o.Customer(t, o.Rep3, crm.CustomerFields{Name: "嘉兴纺织"}).ID,
			Number: "ht-2026-001", Name: "撞号"})
		if ce := (*crm.Error)(nil); !errorsAs(err, &ce) || ce.Code != crm.Duplicate || ce.Fields[0].Field != "number" || ce.Fields[0].Param == "" {
			t.Fatalf("duplicate number across scopes: %v", err)
		}
		// Rep2 may not hang a contract off Rep1's customer.
		_, err = o.Svc.CreateContract(ctx, o.Rep2, crm.ContractFields{CustomerID: c.ID, Number: "HT-7", Name: "x"})
		wantField(t, err, "customer_id", "not_found")

		// Scope follows the customer: Rep3 (West) sees nothing, the East
		// manager sees it, and a list filters by customer, opportunity and status.
		wantCode(t, errOnly(o.Svc.GetContract(ctx, o.Rep3, k.ID)), crm.NotFound)
		if got, err := o.Svc.GetContract(ctx, o.MgrEast, k.ID); err != nil || got.CustomerName != c.Name || got.OpportunityID != opp.ID {
			t.Fatalf("manager's view: %+v %v", got, err)
		}
		for _, f := range []crm.ListFilter{{CustomerID: c.ID}, {OpportunityID: opp.ID}, {Status: "draft"}, {Query: "订阅"}, {Query: "HT-2026"}, {Sort: "amount"}} {
			page, err := o.Svc.ListContracts(ctx, o.Rep1, f)
			if err != nil || len(page.Items) != 1 || page.Total != 1 {
				t.Fatalf("list %+v: %+v %v", f, page, err)
			}
		}
		if page, err := o.Svc.ListContracts(ctx, o.Rep3, crm.ListFilter{}); err != nil || len(page.Items) != 0 {
			t.Fatalf("rep3's list: %+v %v", page, err)
		}
		if page, err := o.Svc.ListContracts(ctx, o.Rep1, crm.ListFilter{Status: "active"}); err != nil || len(page.Items) != 0 {
			t.Fatalf("active contracts: %+v %v", page, err)
		}

		// Edits: stale versions refused, versions kept, a version restored.
		_, err = o.Svc.UpdateContract(ctx, o.Rep1, k.ID, crm.ContractUpdate{Version: 7, Status: ptr("signed")})
		wantCode(t, err, crm.Conflict)
		k2, err := o.Svc.UpdateContract(ctx, o.Rep1, k.ID, crm.ContractUpdate{Version: 1, Status: ptr("signed"), Amount: ptr(int64(15_000_00)),
			OpportunityID: ptr(int64(0))})
		if err != nil || k2.Version != 2 || k2.Status != "signed" || k2.OpportunityID != 0 {
			t.Fatalf("update: %+v %v", k2, err)
		}
		vs, err := o.Svc.Versions(ctx, o.Rep1, crm.ObjContract, k.ID)
		if err != nil || len(vs) != 2 {
			t.Fatalf("versions: %+v %v", vs, err)
		}
		if err := o.Svc.RestoreVersion(ctx, o.Rep1, crm.ObjContract, k.ID, 1, 2, nil); err != nil {
			t.Fatal(err)
		}
		if got, _ := o.Svc.GetContract(ctx, o.Rep1, k.ID); got.Status != "draft" || got.Amount != 12_000_00 || got.OpportunityID != opp.ID || got.Version != 3 {
			t.Fatalf("restored version 1: %+v", got)
		}
		for _, action := range []string{"contract.create", "contract.update", "contract.view", "contract.list"} {
			if len(actionEvents(t, db, action)) == 0 {
				t.Errorf("no %s event", action)
			}
		}

		// Transfer to a colleague.
		if err := o.Svc.TransferRecord(ctx, o.MgrEast, crm.ObjContract, k.ID, o.Rep2.UserID, 3); err != nil {
			t.Fatal(err)
		}
		if got, err := o.Svc.GetContract(ctx, o.Rep2, k.ID); err != nil || got.OwnerID != o.Rep2.UserID {
			t.Fatalf("transferred: %+v %v", got, err)
		}
	})
}

// TestContractRecycleBin: a contract goes to the bin on its own or with its
// customer; while there its number is free, and it comes back only while
// no live contract has taken it and its customer is live; the purge
// removes it and an opportunity's purge unlinks the contracts naming it.
func TestContractRecycleBin(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testorg.NewClock()
		o := testorg.NewWithClock(t, db, clock)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "温州鞋业"})
		opp, err := o.Svc.CreateOpportunity(ctx, o.Rep1, crm.OpportunityFields{CustomerID: c.ID, Name: "鞋材"})
		if err != nil {
			t.Fatal(err)
		}
		k, err := o.Svc.CreateContract(ctx, o.Rep1, crm.ContractFields{CustomerID: c.ID, Number: "WZ-1", Name: "鞋材合同"})
		if err != nil {
			t.Fatal(err)
		}
		linked, err := o.Svc.CreateContract(ctx, o.Rep1, crm.ContractFields{CustomerID: c.ID, OpportunityID: opp.ID, Number: "WZ-2", Name: "鞋材二期"})
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Svc.DeleteContract(ctx, o.Rep1, k.ID); err != nil {
			t.Fatal(err)
		}
		if bin, err := o.Svc.RecycleBin(ctx, o.Rep1, crm.ObjContract, 20); err != nil || len(bin) != 1 || bin[0].Name != "鞋材合同" {
			t.Fatalf("bin: %+v %v", bin, err)
		}
		taker, err := o.Svc.CreateContract(ctx, o.Rep1, crm.ContractFields{CustomerID: c.ID, Number: "wz-1", Name: "占号"})
		if err != nil {
			t.Fatalf("the number of a recycled contract: %v", err)
		}
		wantCode(t, o.Svc.RestoreRecord(ctx, o.Rep1, crm.ObjContract, k.ID), crm.Duplicate)
		if err := o.Svc.DeleteContract(ctx, o.Rep1, taker.ID); err != nil {
			t.Fatal(err)
		}
		// With its customer in the bin, the contract waits for it.
		if err := o.Svc.DeleteCustomer(ctx, o.Rep1, c.ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, errOnly(o.Svc.GetContract(ctx, o.Rep1, linked.ID)), crm.NotFound)
		if err := o.Svc.RestoreRecord(ctx, o.Rep1, crm.ObjContract, k.ID); !crm.IsCode(err, crm.Conflict) {
			t.Fatalf("restore with the customer in the bin: %v", err)
		}
		if err := o.Svc.RestoreCustomer(ctx, o.Rep1, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.GetContract(ctx, o.Rep1, linked.ID); err != nil {
			t.Fatalf("came back with its customer: %v", err)
		}
		if err := o.Svc.RestoreRecord(ctx, o.Rep1, crm.ObjContract, k.ID); err != nil {
			t.Fatal(err)
		}
		// Purge: the deleted opportunity goes, the contract naming it stays
		// without the link; a deleted contract goes.
		if err := o.Svc.DeleteOpportunity(ctx, o.Rep1, opp.ID); err != nil {
			t.Fatal(err)
		}
		clock.Advance(91 * 24 * time.Hour)
		rep, err := o.Svc.PurgeRecycleBin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := o.Svc.GetContract(ctx, o.Rep1, linked.ID); err != nil || got.OpportunityID != 0 {
			t.Fatalf("after the opportunity's purge: %+v %v (%+v)", got, err, rep)
		}
		if err := o.Svc.RestoreRecord(ctx, o.Rep1, crm.ObjContract, taker.ID); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("restore of a purged contract: %v", err)
		}
	})
}
