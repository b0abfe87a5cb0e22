package service_test

import (
	"context"
	"slices"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

func TestCustomerNames(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		mine := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "宁波港湾物流"})
		theirs := o.Customer(t, o.Rep3, crm.CustomerFields{Name: "West Mining Ltd"})

		names, err := o.Svc.CustomerNames(ctx, o.Rep1, []int64{mine.ID, theirs.ID, mine.ID, 999999})
		if err != nil {
			t.Fatal(err)
		}
		if len(names) != 1 || names[mine.ID] != "宁波港湾物流" {
			t.Fatalf("rep1 names: %v (scope must hide rep3's customer)", names)
		}
		if names, err := o.Svc.CustomerNames(ctx, o.Admin, []int64{mine.ID, theirs.ID}); err != nil || len(names) != 2 {
			t.Fatalf("admin names: %v %v", names, err)
		}
		events, err := listEvents(db, "customer.names")
		if err != nil || len(events) != 2 {
			t.Fatalf("audit events: %d %v", len(events), err)
		}
		if got := events[len(events)-1].RecordIDs; !slices.Equal(got, []int64{mine.ID}) {
			t.Errorf("rep1's event records %v, want only the id shown", got)
		}
		many := make([]int64, 201)
		for i := range many {
			many[i] = int64(i + 1)
		}
		_, err = o.Svc.CustomerNames(ctx, o.Rep1, many)
		wantCode(t, err, crm.Invalid)

		noRead := *o.Rep1
		noRead.Role.Grants = map[crm.Object]crm.ObjectGrant{}
		_, err = o.Svc.CustomerNames(ctx, &noRead, []int64{mine.ID})
		wantCode(t, err, crm.Forbidden)
	})
}
