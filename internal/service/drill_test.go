package service_test

import (
	"context"
	"testing"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// TestDrillFiltersHonourFieldRules: a drill-down filter on a field the
// role may not see in the clear is refused (422 on the field), as the
// reports refuse it: the customer's level on a child list, the lead's own
// source, the opportunity's lost reason, currency and expected close.
func TestDrillFiltersHonourFieldRules(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newReportWorld(t, db)
		o := w.o
		opps := func(d crm.DrillFilter) func(*access.Actor) error {
			return func(a *access.Actor) error {
				_, err := o.Svc.ListOpportunities(ctx, a, crm.ListFilter{Drill: d})
				return err
			}
		}
		for _, tc := range []struct {
			name  string
			obj   crm.Object
			field string
			acc   crm.FieldAccess
			list  func(*access.Actor) error
			want  string
		}{
			{"the customer's level on opportunities", crm.ObjCustomer, "level", crm.FieldHidden, opps(crm.DrillFilter{Level: "A"}), "level"},
			{"the customer's industry on follow-ups", crm.ObjCustomer, "industry", crm.FieldMasked, func(a *access.Actor) error {
				_, err := o.Svc.ListFollowUpsBy(ctx, a, crm.ListFilter{Drill: crm.DrillFilter{Industry: "制造业"}})
				return err
			}, "industry"},
			{"the customer's own source", crm.ObjCustomer, "source", crm.FieldHidden, func(a *access.Actor) error {
				_, err := o.Svc.ListCustomers(ctx, a, crm.CustomerFilter{Drill: crm.DrillFilter{Source: "website"}})
				return err
			}, "source"},
			{"the lead's own source", crm.ObjLead, "source", crm.FieldMasked, func(a *access.Actor) error {
				_, err := o.Svc.ListLeads(ctx, a, crm.ListFilter{Drill: crm.DrillFilter{Source: "website"}})
				return err
			}, "source"},
			{"the lost reason", crm.ObjOpportunity, "lost_reason", crm.FieldHidden, opps(crm.DrillFilter{LostReason: "价格"}), "lost_reason"},
			{"the expected close date", crm.ObjOpportunity, "expected_close_date", crm.FieldHidden, opps(crm.DrillFilter{ExpectedCloseFrom: "2026-03-01"}), "expected_close_from"},
		} {
			err := tc.list(withFieldRule(t, o, o.Rep1, tc.obj, tc.field, tc.acc))
			var ce *crm.Error
			if !errorsAs(err, &ce) || ce.Code != crm.Invalid || len(ce.Fields) != 1 || ce.Fields[0].Field != tc.want || ce.Fields[0].Rule != "not_visible" {
				t.Errorf("%s: %v", tc.name, err)
			}
		}
		// The same filters on visible fields answer.
		if _, err := o.Svc.ListOpportunities(ctx, o.Rep1, crm.ListFilter{Drill: crm.DrillFilter{Level: "A", LostReason: "价格"}}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestDrillLeftOutWhenTheListWouldRefuseIt: a report never links a reader
// to a list that would refuse them — with the expected close date hidden,
// the forecast's open deals have no drill-down (the won ones keep theirs),
// and a lead source hidden leaves the trend's leads without one.
func TestDrillLeftOutWhenTheListWouldRefuseIt(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newReportWorld(t, db)
		o := w.o
		a := withFieldRule(t, o, o.Rep1, crm.ObjOpportunity, "expected_close_date", crm.FieldHidden)
		fc, err := o.Svc.ForecastReport(ctx, a, w.march)
		if err != nil || len(fc.Months) != 1 || fc.Months[0].OpenDrill != "" || fc.Months[0].WonDrill == "" {
			t.Fatalf("forecast, close date hidden: %+v %v", fc.Months, err)
		}
		if fc, _ = o.Svc.ForecastReport(ctx, o.Rep1, w.march); fc.Months[0].OpenDrill == "" {
			t.Errorf("forecast: no open drill-down: %+v", fc.Months)
		}
		a = withFieldRule(t, o, o.Rep1, crm.ObjLead, "source", crm.FieldHidden)
		f := w.march
		f.Source = "website"
		tr, err := o.Svc.TrendsReport(ctx, a, f)
		if err != nil || tr.Total.LeadsDrill != "" || tr.Total.CustomersDrill == "" {
			t.Fatalf("trends, lead source hidden: %+v %v", tr.Total, err)
		}
	})
}
