package service_test

import (
	"context"
	"strings"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

func TestGlobalSearch(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "北京张伟科技有限公司"})
		if _, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: c.ID, Name: "张伟", Mobile: "13811112222", Email: "zw@example.cn"}); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "张伟明", Company: "上海某科技"}); err != nil {
			t.Fatal(err)
		}
		// A name with digits in it: the phone parser reads letters as keypad
		// digits, and this one once made the canary test search by phone.
		if _, err := o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "Qzcnryxw151a5057 Wen"}); err != nil {
			t.Fatal(err)
		}
		o.Customer(t, o.Rep3, crm.CustomerFields{Name: "张伟贸易（西部）"})

		for _, tc := range []struct {
			q                          string
			kind                       string
			customers, contacts, leads int
		}{
			{"张伟", "name", 1, 1, 1},
			{"科技", "name", 1, 0, 1},
			{"+86 138-1111-2222", "phone", 0, 1, 0},
			{"ZW@example.cn", "email", 0, 1, 0},
			{"王", "name", 0, 0, 0},
			{"Qzcnryxw151a5057 Wen", "name", 0, 0, 1},
			{"021-62345678 ext. 801", "phone", 0, 0, 0},
		} {
			res, err := o.Svc.Search(ctx, o.Rep1, tc.q, 10)
			if err != nil {
				t.Fatal(err)
			}
			if res.Kind != tc.kind || len(res.Customers) != tc.customers || len(res.Contacts) != tc.contacts || len(res.Leads) != tc.leads {
				t.Errorf("%q: kind %s, %d/%d/%d; want %s %d/%d/%d", tc.q, res.Kind, len(res.Customers), len(res.Contacts), len(res.Leads),
					tc.kind, tc.customers, tc.contacts, tc.leads)
			}
		}
		// rep3 finds only their own "张伟".
		res, _ := o.Svc.Search(ctx, o.Rep3, "张伟", 10)
		if len(res.Customers) != 1 || len(res.Contacts) != 0 || len(res.Leads) != 0 || !strings.Contains(res.Customers[0].Name, "西部") {
			t.Fatalf("rep3 search: %+v", res)
		}
		// The audit trail records the kind of search, never the value.
		events, err := listEvents(db, "search.phone")
		if err != nil || len(events) != 2 {
			t.Fatalf("search events: %v %v", events, err)
		}
		for _, e := range events {
			if strings.Contains(string(e.Fields), "1111") {
				t.Fatalf("searched value in audit: %s", e.Fields)
			}
		}
	})
}

func listEvents(db *store.DB, action string) ([]crm.AuditEvent, error) {
	var out []crm.AuditEvent
	err := db.ReadTx(context.Background(), func(tx *store.Tx) error {
		var err error
		out, err = tx.ListAuditEvents(context.Background(), store.AuditFilter{Action: action, Limit: 500})
		return err
	})
	return out, err
}
