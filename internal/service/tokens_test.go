package service_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestTokenScopes: a token acts with its owner's role narrowed to its
// scopes, in every service call, and is never issued beyond the role.
func TestTokenScopes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		_, rep := signIn(t, o, "rep1", testorg.Password)
		c := testorg.ClientForTest()
		mine := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "Scoped Co"})

		for _, tc := range []struct {
			scopes []string
			rule   string
		}{
			{nil, "required"},
			{[]string{"customer:delete"}, "enum"},
			{[]string{"customer:read", "admin"}, "beyond_role"},
		} {
			_, err := o.Svc.CreateAPIToken(ctx, rep, service.TokenInput{Name: "x", Scopes: tc.scopes})
			var ce *crm.Error
			if !errorsAs(err, &ce) || len(ce.Fields) != 1 || ce.Fields[0].Field != "scopes" || ce.Fields[0].Rule != tc.rule {
				t.Fatalf("scopes %v: %v, want rule %s", tc.scopes, err, tc.rule)
			}
		}

		read, err := o.Svc.CreateAPIToken(ctx, rep, service.TokenInput{Name: "reader", Scopes: []string{" Customer:READ "}})
		if err != nil || len(read.Scopes) != 1 || read.Scopes[0] != "customer:read" {
			t.Fatalf("reader: %+v %v", read, err)
		}
		ta, err := o.Svc.AuthenticateToken(ctx, read.Secret, c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.GetCustomer(ctx, ta, mine.ID); err != nil {
			t.Fatalf("read with customer:read: %v", err)
		}
		_, err = o.Svc.CreateCustomer(ctx, ta, service.CustomerInput{CustomerFields: crm.CustomerFields{Name: "Nope"}})
		wantCode(t, err, crm.Forbidden)
		wantCode(t, o.Svc.DeleteCustomer(ctx, ta, mine.ID), crm.Forbidden)
		_, err = o.Svc.ListContacts(ctx, ta, crm.ListFilter{})
		wantCode(t, err, crm.Forbidden)
		// A token cannot mint tokens or manage the second factor.
		wantCode(t, errOnly(o.Svc.CreateAPIToken(ctx, ta, service.TokenInput{Name: "y", Scopes: []string{"customer:read"}})), crm.Forbidden)
		wantKey(t, errOnly(o.Svc.BeginTOTP(ctx, ta)), crm.Forbidden, "session_required")

		// customer:write includes read; the role is re-read on every request,
		// so narrowing the role narrows the token at once.
		write, err := o.Svc.CreateAPIToken(ctx, rep, service.TokenInput{Name: "writer", Scopes: []string{"customer:write"}})
		if err != nil {
			t.Fatal(err)
		}
		tw, _ := o.Svc.AuthenticateToken(ctx, write.Secret, c)
		if !tw.Can(crm.ObjCustomer, crm.ActRead) || !tw.Can(crm.ObjCustomer, crm.ActEdit) || tw.Can(crm.ObjTask, crm.ActRead) || tw.IsAdmin() {
			t.Fatalf("writer grants: %+v", tw.Role.Grants)
		}
		sales := o.Roles["sales"]
		g := sales.Grants[crm.ObjCustomer]
		g.Edit, g.Delete = false, false
		sales.Grants[crm.ObjCustomer] = g
		o.StepUp(t, o.Admin)
		if _, err := o.Svc.SaveRole(ctx, o.Admin, sales); err != nil {
			t.Fatal(err)
		}
		tw, _ = o.Svc.AuthenticateToken(ctx, write.Secret, c)
		if tw.Can(crm.ObjCustomer, crm.ActEdit) || !tw.Can(crm.ObjCustomer, crm.ActCreate) {
			t.Fatalf("token exceeds the narrowed role: %+v", tw.Role.Grant(crm.ObjCustomer))
		}
		ev := actionEvents(t, db, "api_token.create")
		if len(ev) != 3 || ev[0].Outcome != "ok" || string(ev[0].Fields) != `{"allowed_ips":null,"name":"writer","scopes":["customer:write"]}` ||
			ev[1].Outcome != "denied" || ev[1].ActorKind != "token" {
			t.Fatalf("api_token.create events: %+v", ev)
		}
	})
}

// TestTokenRefusals: expired, revoked, out-of-allow-list and disabled
// users' tokens are refused with the reason, and the refusal is audited;
// a token in use records when and from where.
func TestTokenRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testorg.NewClock()
		o := testorg.NewWithClock(t, db, clock)
		_, rep := signIn(t, o, "rep1", testorg.Password)
		scopes := testorg.TokenScopes(rep)
		from := func(ip string) service.Client { return service.Client{IP: ip, UserAgent: "script"} }

		// IP allow-list: addresses and prefixes, IPv4 and IPv6, canonical.
		_, err := o.Svc.CreateAPIToken(ctx, rep, service.TokenInput{Name: "bad", Scopes: scopes, AllowedIPs: []string{"10.0.0.0/33"}})
		wantCode(t, err, crm.Invalid)
		net, err := o.Svc.CreateAPIToken(ctx, rep, service.TokenInput{Name: "office", Scopes: scopes,
			AllowedIPs: []string{"203.0.113.77/24", "2001:db8::1", "::ffff:198.51.100.9"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := net.AllowedIPs; len(got) != 3 || got[0] != "203.0.113.0/24" || got[1] != "2001:db8::1/128" || got[2] != "198.51.100.9/32" {
			t.Fatalf("allow-list stored as %v", got)
		}
		for ip, ok := range map[string]bool{"203.0.113.5": true, "::ffff:203.0.113.200": true, "2001:db8::1": true, "198.51.100.9": true,
			"203.0.114.1": false, "2001:db8::2": false, "192.0.2.1": false, "": false} {
			_, err := o.Svc.AuthenticateToken(ctx, net.Secret, from(ip))
			if ok && err != nil || !ok && !crm.IsCode(err, crm.Unauthenticated) {
				t.Errorf("from %q: %v, want allowed %v", ip, err, ok)
			}
		}
		wantKey(t, errOnly(o.Svc.AuthenticateToken(ctx, net.Secret, from("192.0.2.1"))), crm.Unauthenticated, "token_ip")

		// Last use: when and from where (written at most once a minute).
		toks, _ := o.Svc.ListAPITokens(ctx, rep)
		if toks[0].ID != net.ID || toks[0].LastUsedAt.IsZero() || toks[0].LastUsedIP != "203.0.113.5" && toks[0].LastUsedIP != "::ffff:203.0.113.200" &&
			toks[0].LastUsedIP != "2001:db8::1" && toks[0].LastUsedIP != "198.51.100.9" {
			t.Fatalf("last use: %+v", toks[0])
		}

		// Expiry.
		in := clock.Now().Add(time.Hour)
		exp, err := o.Svc.CreateAPIToken(ctx, rep, service.TokenInput{Name: "short", Scopes: scopes, ExpiresAt: &in})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.AuthenticateToken(ctx, exp.Secret, from("192.0.2.1")); err != nil {
			t.Fatalf("before expiry: %v", err)
		}
		clock.Advance(time.Hour)
		wantKey(t, errOnly(o.Svc.AuthenticateToken(ctx, exp.Secret, from("192.0.2.1"))), crm.Unauthenticated, "token_expired")
		past := clock.Now().Add(-time.Second)
		wantCode(t, errOnly(o.Svc.CreateAPIToken(ctx, rep, service.TokenInput{Name: "old", Scopes: scopes, ExpiresAt: &past})), crm.Invalid)

		// Revoked.
		live := o.Token(t, rep)
		toks, _ = o.Svc.ListAPITokens(ctx, rep)
		if err := o.Svc.RevokeAPIToken(ctx, rep, toks[0].ID); err != nil {
			t.Fatal(err)
		}
		wantKey(t, errOnly(o.Svc.AuthenticateToken(ctx, live, from("192.0.2.1"))), crm.Unauthenticated, "token_revoked")

		// Refusals of known tokens are audited with the reason, never the secret.
		reasons := map[string]bool{}
		for _, e := range actionEvents(t, db, "api_token.refused") {
			if e.Outcome != "denied" || e.ActorID != rep.UserID || e.RecordID == 0 {
				t.Fatalf("refusal event %+v", e)
			}
			reasons[string(e.Fields)] = true
		}
		for _, want := range []string{`{"reason":"token_ip"}`, `{"reason":"token_expired"}`, `{"reason":"token_revoked"}`} {
			if !reasons[want] {
				t.Errorf("no refusal event %s in %v", want, reasons)
			}
		}
		// An unknown token is just "not signed in".
		wantKey(t, errOnly(o.Svc.AuthenticateToken(ctx, "cst_nonsense", from("192.0.2.1"))), crm.Unauthenticated, "")
	})
}

// TestSessions: users list and end their own sessions; administrators
// list and (with a fresh second factor) end anyone's; others' sessions are
// invisible; disabling a user ends every session and token at once.
func TestSessions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c := testorg.ClientForTest()
		s1, a1 := signIn(t, o, "rep1", testorg.Password)
		s2, a2 := signIn(t, o, "rep1", testorg.Password)
		s3, _ := signIn(t, o, "rep1", testorg.Password)
		_, other := signIn(t, o, "rep2", testorg.Password)

		list, err := o.Svc.ListSessions(ctx, a1, 0)
		if err != nil || len(list) != 3 {
			t.Fatalf("own sessions: %d %v", len(list), err)
		}
		current := 0
		for _, x := range list {
			if x.Current {
				current++
				if x.ID != a1.SessionID || x.IP != c.IP || x.UserAgent != c.UserAgent {
					t.Fatalf("current session %+v", x)
				}
			}
		}
		if current != 1 {
			t.Fatalf("%d sessions marked current", current)
		}
		// Someone else's sessions: not listed, not ended, not even there.
		wantCode(t, errOnly(o.Svc.ListSessions(ctx, other, o.Rep1.UserID)), crm.Forbidden)
		wantCode(t, o.Svc.EndSession(ctx, other, a2.SessionID), crm.NotFound)
		if _, err := o.Svc.Authenticate(ctx, s2.Token, c); err != nil {
			t.Fatal("another user ended my session")
		}
		// One's own: end one, then all the others.
		if err := o.Svc.EndSession(ctx, a1, a2.SessionID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, errOnly(o.Svc.Authenticate(ctx, s2.Token, c)), crm.Unauthenticated)
		if n, err := o.Svc.EndUserSessions(ctx, a1, a1.UserID); err != nil || n != 1 {
			t.Fatalf("end others: %d %v", n, err)
		}
		wantCode(t, errOnly(o.Svc.Authenticate(ctx, s3.Token, c)), crm.Unauthenticated)
		if _, err := o.Svc.Authenticate(ctx, s1.Token, c); err != nil {
			t.Fatal("the current session ended too")
		}
		// An administrator lists them (audited) and ends them.
		adminList, err := o.Svc.ListSessions(ctx, o.Admin, o.Rep1.UserID)
		if err != nil || len(adminList) != 1 || adminList[0].Current {
			t.Fatalf("admin list: %+v %v", adminList, err)
		}
		if ev := actionEvents(t, db, "session.list"); len(ev) != 2 || ev[0].RecordID != o.Rep1.UserID || ev[0].Outcome != "ok" || ev[1].Outcome != "denied" {
			t.Fatalf("session.list events %+v", ev)
		}
		o.StepUp(t, o.Admin)
		if err := o.Svc.EndSession(ctx, o.Admin, a1.SessionID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, errOnly(o.Svc.Authenticate(ctx, s1.Token, c)), crm.Unauthenticated)
		if ev := actionEvents(t, db, "session.end"); len(ev) != 3 || ev[0].ActorID != o.Admin.UserID || string(ev[0].Fields) != fmt.Sprintf(`{"user_id":%d}`, o.Rep1.UserID) ||
			ev[2].Outcome != "denied" {
			t.Fatalf("session.end events %+v", ev)
		}

		// Disabling a user ends every session and stops every token.
		s4, _ := signIn(t, o, "rep3", testorg.Password)
		tok := o.Token(t, o.Rep3)
		disabled := true
		if _, err := o.Svc.UpdateUser(ctx, o.Admin, o.Rep3.UserID, service.UserUpdate{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, errOnly(o.Svc.Authenticate(ctx, s4.Token, c)), crm.Unauthenticated)
		wantCode(t, errOnly(o.Svc.AuthenticateToken(ctx, tok, c)), crm.Unauthenticated)
		if list, err := o.Svc.ListSessions(ctx, o.Admin, o.Rep3.UserID); err != nil || len(list) != 0 {
			t.Fatalf("sessions of a disabled user: %+v %v", list, err)
		}
	})
}
