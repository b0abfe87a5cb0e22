package service_test

import (
	"context"
	"strings"
	"testing"

	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

func TestLoginLockoutAndThrottle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c := service.Client{IP: "198.51.100.7", UserAgent: "test"}
		res, err := o.Svc.Login(ctx, "REP1 ", testorg.Password, c)
		if err != nil || res.Token == "" || res.CSRFToken == "" {
			t.Fatalf("good login: %v", err)
		}
		a, err := o.Svc.Authenticate(ctx, res.Token, c)
		if err != nil || a.UserID != o.Rep1.UserID {
			t.Fatalf("authenticate: %+v %v", a, err)
		}
		// Unknown user and wrong password: the same answer.
		_, errUnknown := o.Svc.Login(ctx, "nobody", "whatever-password", c)
		_, errWrong := o.Svc.Login(ctx, "rep2", "wrong-password", c)
		if errUnknown == nil || errWrong == nil || errUnknown.Error() != errWrong.Error() {
			t.Fatalf("unknown %v vs wrong %v", errUnknown, errWrong)
		}
		// Five failures lock the account, even for the right password.
		for i := 0; i < 4; i++ {
			o.Svc.Login(ctx, "rep2", "wrong-password", c)
		}
		_, err = o.Svc.Login(ctx, "rep2", testorg.Password, c)
		wantCode(t, err, crm.RateLimited)
		// Other accounts from another address are unaffected.
		if _, err := o.Svc.Login(ctx, "rep3", testorg.Password, service.Client{IP: "203.0.113.9"}); err != nil {
			t.Fatalf("rep3: %v", err)
		}
		// An address with many failures is throttled for every account.
		for i := 0; i < 30; i++ {
			o.Svc.Login(ctx, "nobody", "x", service.Client{IP: "192.0.2.200"})
		}
		_, err = o.Svc.Login(ctx, "rep3", testorg.Password, service.Client{IP: "192.0.2.200"})
		wantCode(t, err, crm.RateLimited)

		// Failures are audited as denied, without the password.
		var events []crm.AuditEvent
		db.ReadTx(ctx, func(tx *store.Tx) error {
			events, err = tx.ListAuditEvents(ctx, store.AuditFilter{Action: "login.failed", Limit: 500})
			return err
		})
		if len(events) == 0 || events[0].Outcome != "denied" {
			t.Fatalf("login.failed events: %+v", events)
		}
		for _, e := range events {
			if strings.Contains(string(e.Fields), "wrong-password") {
				t.Fatal("password in audit trail")
			}
		}
	})
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c := testorg.ClientForTest()
		s1, _ := o.Svc.Login(ctx, "rep1", testorg.Password, c)
		s2, _ := o.Svc.Login(ctx, "rep1", testorg.Password, c)
		a1, err := o.Svc.Authenticate(ctx, s1.Token, c)
		if err != nil {
			t.Fatal(err)
		}
		err = o.Svc.ChangePassword(ctx, a1, "wrong current", "a much better passphrase")
		wantCode(t, err, crm.Invalid)
		wantCode(t, o.Svc.ChangePassword(ctx, a1, testorg.Password, "short"), crm.Invalid)
		if err := o.Svc.ChangePassword(ctx, a1, testorg.Password, "a much better passphrase"); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.Authenticate(ctx, s1.Token, c); err != nil {
			t.Fatalf("own session ended: %v", err)
		}
		_, err = o.Svc.Authenticate(ctx, s2.Token, c)
		wantCode(t, err, crm.Unauthenticated)
		if _, err := o.Svc.Login(ctx, "rep1", "a much better passphrase", c); err != nil {
			t.Fatalf("login with new password: %v", err)
		}
		// Logout ends the session.
		if err := o.Svc.Logout(ctx, a1); err != nil {
			t.Fatal(err)
		}
		_, err = o.Svc.Authenticate(ctx, s1.Token, c)
		wantCode(t, err, crm.Unauthenticated)
	})
}

func TestBootstrapOnlyOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := testorg.New(t, db)
		res, err := o.Svc.Bootstrap(context.Background(), "HQ")
		if err != nil || res.Created || res.Password != "" {
			t.Fatalf("second bootstrap: %+v %v", res, err)
		}
		if len(o.AdminPassword) < 12 {
			t.Fatalf("one-time password too short: %d", len(o.AdminPassword))
		}
		u, err := o.Svc.Me(context.Background(), o.Admin)
		if err != nil || !u.MustChangePW {
			t.Fatalf("admin must change password: %+v %v", u, err)
		}
	})
}
