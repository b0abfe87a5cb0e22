package service_test

import (
	"context"
	"sync"
	"testing"

	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
)

// concurrently runs fn n times at the same moment and returns the errors.
// On PostgreSQL each call is a transaction of its own on its own
// connection, exactly as two server instances would run them.
func concurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// exactlyOne checks that one call succeeded and every other was refused
// with the same code and key.
func exactlyOne(t *testing.T, what string, errs []error, code crm.Code, key string) {
	t.Helper()
	ok := 0
	for _, err := range errs {
		var ce *crm.Error
		switch {
		case err == nil:
			ok++
		case !errorsAs(err, &ce) || ce.Code != code || ce.Key != key:
			t.Errorf("%s: a loser got %v; want %s/%s", what, err, code, key)
		}
	}
	if ok != 1 {
		t.Errorf("%s: %d of %d calls succeeded; want exactly one", what, ok, len(errs))
	}
}

// TestRacesInTheService covers the check-then-act use cases the HTTP race
// test does not reach: approval decisions, privacy completions and
// offboarding, each sent 20 times at once, several rounds.
func TestRacesInTheService(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newPrivacyOrg(t, db, service.Options{})
		d := o.East1
		d.ManagerID = o.MgrEast.UserID
		if _, err := o.Svc.UpdateDepartment(ctx, o.Admin, d); err != nil {
			t.Fatal(err)
		}
		setPolicy(t, o.Org, crm.ApprovalPolicy{Kind: crm.ApproveTransfer, Steps: []crm.ApprovalStep{{Type: "manager"}}})
		o.StepUp(t, o.MgrEast)
		o.StepUp(t, o.Admin)
		for round := range 3 {
			c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "竞态审批有限公司" + string(rune('A'+round))})
			id := pendingID(t, o.Svc.TransferRecord(ctx, o.Rep1, crm.ObjCustomer, c.ID, o.Rep2.UserID, 0))
			before, _ := listEvents(db, "approval.decide")
			exactlyOne(t, "approval", concurrently(20, func(int) error {
				_, err := o.Svc.DecideApproval(ctx, o.MgrEast, id, service.Decision{Approve: true})
				return err
			}), crm.Conflict, "approval_decided")
			if after, _ := listEvents(db, "approval.decide"); len(after)-len(before) != 1 {
				t.Errorf("approval: %d decide events; want 1", len(after)-len(before))
			}

			ct, err := o.Svc.CreateContact(ctx, o.Admin, crm.ContactFields{CustomerID: c.ID, Name: "竞态联系人"})
			if err != nil {
				t.Fatal(err)
			}
			r, err := o.Svc.FilePrivacyRequest(ctx, o.Officer, crm.PrivacyRequestInput{Object: crm.ObjContact, RecordID: ct.ID, Kind: crm.RequestAccess})
			if err != nil {
				t.Fatal(err)
			}
			before, _ = listEvents(db, "privacy.request.complete")
			exactlyOne(t, "privacy request", concurrently(20, func(int) error {
				_, err := o.Svc.CompletePrivacyRequest(ctx, o.Officer, r.ID, service.PrivacyCompletion{Status: crm.RequestRefused, Reason: "identity not verified"})
				return err
			}), crm.Conflict, "request_closed")
			if after, _ := listEvents(db, "privacy.request.complete"); len(after)-len(before) != 1 {
				t.Errorf("privacy request: %d complete events; want 1", len(after)-len(before))
			}
		}

		// A unique custom value, 20 customers at once: the value is a
		// duplicate-check key like a phone, locked the same way.
		if _, err := o.Svc.SaveCustomField(ctx, o.Admin, crm.CustomField{Object: crm.ObjCustomer, Key: "tax_no", Label: "税号", Type: "text", Unique: true}); err != nil {
			t.Fatal(err)
		}
		exactlyOne(t, "unique custom value", concurrently(20, func(i int) error {
			_, err := o.Svc.CreateCustomer(ctx, o.Rep1, service.CustomerInput{CustomerFields: crm.CustomerFields{
				Name: "唯一税号有限公司" + string(rune('A'+i)), Custom: map[string]any{"tax_no": "91310000MA1FL0001X"}}})
			return err
		}), crm.Duplicate, "duplicate")

		// Offboarding one user 20 times at once hands their records over
		// once; the others find the user gone already.
		leaver := o.User(t, "leaver", o.East1.ID, "sales")
		o.Customer(t, leaver, crm.CustomerFields{Name: "离职交接有限公司"})
		before, _ := listEvents(db, "user.offboard")
		exactlyOne(t, "offboarding", concurrently(20, func(int) error {
			_, err := o.Svc.Offboard(ctx, o.Admin, leaver.UserID, service.Handover{CustomersTo: o.Rep2.UserID, OthersTo: o.Rep2.UserID})
			return err
		}), crm.Conflict, "already_offboarded")
		if after, _ := listEvents(db, "user.offboard"); len(after)-len(before) != 1 {
			t.Errorf("offboarding: %d offboard events; want 1", len(after)-len(before))
		}
	})
}
