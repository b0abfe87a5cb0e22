package service_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// signIn opens a session with a password and returns it with its actor.
func signIn(t *testing.T, o *testorg.Org, username, password string) (service.LoginResult, *access.Actor) {
	t.Helper()
	ctx := context.Background()
	c := testorg.ClientForTest()
	res, err := o.Svc.Login(ctx, username, password, c)
	if err != nil {
		t.Fatalf("login %s: %v", username, err)
	}
	a, err := o.Svc.Authenticate(ctx, res.Token, c)
	if err != nil {
		t.Fatalf("authenticate %s: %v", username, err)
	}
	return res, a
}

// actionEvents returns every audit event with an action (all when ""),
// newest first.
func actionEvents(t *testing.T, db *store.DB, action string) []crm.AuditEvent {
	t.Helper()
	return eventsWhere(t, db, store.AuditFilter{Action: action, Limit: 10000})
}

// eventsWhere returns the audit events a filter selects, newest first.
func eventsWhere(t *testing.T, db *store.DB, f store.AuditFilter) []crm.AuditEvent {
	t.Helper()
	var out []crm.AuditEvent
	err := db.ReadTx(context.Background(), func(tx *store.Tx) error {
		var err error
		out, err = tx.ListAuditEvents(context.Background(), f)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func wantKey(t *testing.T, err error, code crm.Code, key string) {
	t.Helper()
	var ce *crm.Error
	if !errorsAs(err, &ce) || ce.Code != code || ce.Key != key {
		t.Fatalf("error = %v, want %s/%s", err, code, key)
	}
}

// TestTOTPSignIn covers enrolment, the pending session after the password,
// completing sign-in with an app code or a recovery code, replay refusal
// and single-use recovery codes, and that no secret reaches the audit.
func TestTOTPSignIn(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testorg.NewClock()
		o := testorg.NewWithClock(t, db, clock)
		c := testorg.ClientForTest()
		_, a := signIn(t, o, "rep1", testorg.Password)

		en, err := o.Svc.BeginTOTP(ctx, a)
		if err != nil || len(en.Secret) < 26 || !strings.HasPrefix(en.URI, "otpauth://totp/Custos:rep1?") || !strings.Contains(en.URI, en.Secret) {
			t.Fatalf("begin: %+v %v", en, err)
		}
		if again, err := o.Svc.PendingTOTP(ctx, a); err != nil || again.Secret != en.Secret {
			t.Fatalf("pending: %+v %v", again, err)
		}
		// Not enrolled until confirmed: the password alone still signs in.
		if res, _ := signIn(t, o, "rep1", testorg.Password); res.MFARequired {
			t.Fatal("an unconfirmed secret already asks for a second factor")
		}
		wantKey(t, errOnly(o.Svc.ConfirmTOTP(ctx, a, "000000")), crm.Invalid, "wrong_code")
		codes, err := o.Svc.ConfirmTOTP(ctx, a, testorg.Code(t, en.Secret, clock.Now()))
		if err != nil {
			t.Fatal(err)
		}
		format := regexp.MustCompile(`^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$`)
		seen := map[string]bool{}
		for _, rc := range codes {
			if !format.MatchString(rc) || seen[rc] {
				t.Fatalf("recovery codes %v", codes)
			}
			seen[rc] = true
		}
		if len(codes) != service.RecoveryCodeCount {
			t.Fatalf("%d recovery codes", len(codes))
		}
		wantCode(t, errOnly(o.Svc.BeginTOTP(ctx, a)), crm.Conflict) // enrolled: disable first

		// The password now opens only a pending session with no permissions.
		res, pending := signIn(t, o, "rep1", testorg.Password)
		if !res.MFARequired || !pending.MFAPending || pending.Can(crm.ObjCustomer, crm.ActRead) {
			t.Fatalf("pending session: %+v %+v", res, pending)
		}
		_, err = o.Svc.ListCustomers(ctx, pending, crm.CustomerFilter{})
		wantCode(t, err, crm.Forbidden)
		_, err = o.Svc.ListAPITokens(ctx, pending)
		wantCode(t, err, crm.Unauthenticated)

		// The code the enrolment used cannot be replayed; the next step's can.
		wantKey(t, errOnly(o.Svc.CompleteLogin(ctx, pending, testorg.Code(t, en.Secret, clock.Now()))), crm.Invalid, "wrong_code")
		next := testorg.Code(t, en.Secret, clock.Now().Add(30*time.Second))
		done, err := o.Svc.CompleteLogin(ctx, pending, next)
		if err != nil || done.Token == res.Token || done.User.ID != a.UserID {
			t.Fatalf("complete: %+v %v", done, err)
		}
		_, err = o.Svc.Authenticate(ctx, res.Token, c)
		wantCode(t, err, crm.Unauthenticated) // the password-only token stops working
		full, err := o.Svc.Authenticate(ctx, done.Token, c)
		if err != nil || full.MFAPending || !full.MFAEnrolled || !full.Can(crm.ObjCustomer, crm.ActRead) || full.SecondFactorAt.IsZero() {
			t.Fatalf("signed in: %+v %v", full, err)
		}
		// Replay of the same code in another sign-in within its window.
		_, pending2 := signIn(t, o, "rep1", testorg.Password)
		wantKey(t, errOnly(o.Svc.CompleteLogin(ctx, pending2, next)), crm.Invalid, "wrong_code")

		// A recovery code works once, typed in any case with or without dashes.
		if _, err := o.Svc.CompleteLogin(ctx, pending2, strings.ToUpper(strings.ReplaceAll(codes[0], "-", " "))); err != nil {
			t.Fatalf("recovery code: %v", err)
		}
		_, pending3 := signIn(t, o, "rep1", testorg.Password)
		wantKey(t, errOnly(o.Svc.CompleteLogin(ctx, pending3, codes[0])), crm.Invalid, "wrong_code")
		st, err := o.Svc.MFA(ctx, full)
		if err != nil || !st.Enrolled || st.RecoveryCodesLeft != service.RecoveryCodeCount-1 {
			t.Fatalf("status %+v %v", st, err)
		}

		// New recovery codes replace the old ones; disabling needs a code.
		clock.Advance(time.Minute)
		fresh, err := o.Svc.RegenerateRecoveryCodes(ctx, full, codes[1])
		if err != nil || len(fresh) != service.RecoveryCodeCount {
			t.Fatalf("regenerate: %v", err)
		}
		wantKey(t, o.Svc.DisableTOTP(ctx, full, codes[2]), crm.Invalid, "wrong_code") // an old code is gone
		if err := o.Svc.DisableTOTP(ctx, full, testorg.Code(t, en.Secret, clock.Now())); err != nil {
			t.Fatal(err)
		}
		if res, _ := signIn(t, o, "rep1", testorg.Password); res.MFARequired {
			t.Fatal("second factor still asked for after disabling")
		}

		// Neither the secret nor any code is in the audit trail.
		secrets := append([]string{en.Secret, next}, append(codes, fresh...)...)
		for _, e := range actionEvents(t, db, "") {
			for _, sec := range secrets {
				if strings.Contains(string(e.Fields), sec) || strings.Contains(strings.ToLower(string(e.Fields)), strings.ReplaceAll(sec, "-", "")) {
					t.Fatalf("secret in audit event %s: %s", e.Action, e.Fields)
				}
			}
		}
		if ev := actionEvents(t, db, "mfa.enrol"); len(ev) != 1 || ev[0].ActorID != a.UserID {
			t.Fatalf("mfa.enrol events: %+v", ev)
		}
	})
}

func errOnly[T any](_ T, err error) error { return err }

// TestSecondFactorThrottle: wrong codes count towards the same lockout as
// wrong passwords, and a correct password does not reset the count while
// the second factor is outstanding.
func TestSecondFactorThrottle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		f := o.EnrolMFA(t, o.Rep2)
		for i := 0; i < 3; i++ {
			_, p := signIn(t, o, "rep2", testorg.Password)
			wantCode(t, errOnly(o.Svc.CompleteLogin(ctx, p, "123456x")), crm.Invalid)
		}
		_, p := signIn(t, o, "rep2", testorg.Password) // does not reset the count
		for i := 0; i < 2; i++ {
			wantCode(t, errOnly(o.Svc.CompleteLogin(ctx, p, "000000")), crm.Invalid)
		}
		// Locked: even the right code and the right password are refused.
		wantKey(t, errOnly(o.Svc.CompleteLogin(ctx, p, f.Recovery[0])), crm.RateLimited, "account_locked")
		wantKey(t, errOnly(o.Svc.Login(ctx, "rep2", testorg.Password, testorg.ClientForTest())), crm.RateLimited, "account_locked")
		if ev := actionEvents(t, db, "login.failed"); len(ev) != 5 {
			t.Fatalf("%d login.failed events, want 5", len(ev))
		}
	})
}

// TestStepUp: every guarded operation is refused without a second factor
// verified in the last five minutes in this session, allowed with one, and
// refused to API tokens whatever their scopes.
func TestStepUp(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testorg.NewClock()
		o := testorg.NewWithClock(t, db, clock)
		admin := o.Admin
		salesRole := o.Roles["sales"]
		managerID := o.Roles["manager"].ID
		adminRoleID := o.Roles["admin"].ID
		_, repSession := signIn(t, o, "rep1", testorg.Password)
		person, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "待删除"})
		if err != nil {
			t.Fatal(err)
		}
		newAdmin := service.UserInput{User: crm.User{Username: "root2", DisplayName: "Root", DepartmentID: o.HQ.ID, RoleID: adminRoleID},
			Password: "long enough password"}
		guarded := []struct {
			name string
			call func(a *access.Actor) error
		}{
			{"save role", func(a *access.Actor) error { _, err := o.Svc.SaveRole(ctx, a, salesRole); return err }},
			{"change a user's role", func(a *access.Actor) error {
				_, err := o.Svc.UpdateUser(ctx, a, o.Rep3.UserID, service.UserUpdate{RoleID: &managerID})
				return err
			}},
			{"create an administrator", func(a *access.Actor) error { _, err := o.Svc.CreateUser(ctx, a, newAdmin); return err }},
			{"reset a password", func(a *access.Actor) error {
				return o.Svc.SetUserPassword(ctx, a, o.Rep2.UserID, "another long password")
			}},
			{"reset a second factor", func(a *access.Actor) error { return o.Svc.ResetUserMFA(ctx, a, o.Rep2.UserID) }},
			{"end another user's session", func(a *access.Actor) error { return o.Svc.EndSession(ctx, a, repSession.SessionID) }},
			{"end another user's sessions", func(a *access.Actor) error { _, err := o.Svc.EndUserSessions(ctx, a, o.Rep1.UserID); return err }},
			{"erase a person", func(a *access.Actor) error {
				_, err := o.Svc.ErasePerson(ctx, a, crm.ObjContact, person.ID)
				return err
			}},
			{"save a retention policy", func(a *access.Actor) error {
				return o.Svc.SaveRetentionPolicy(ctx, a, crm.RetentionPolicy{Object: crm.ObjLead, ArchiveMonths: 24})
			}},
		}
		o.EnrolMFA(t, o.Rep2) // so "reset a second factor" has one to reset

		// No second factor at all: enrol first.
		for _, g := range guarded {
			wantKey(t, g.call(admin), crm.StepUpRequired, "step_up_enrol")
		}
		// Not guarded: ordinary administration and one's own sessions.
		if _, err := o.Svc.UpdateUser(ctx, admin, o.Rep3.UserID, service.UserUpdate{RoleID: &salesRole.ID, Email: ptr("rep3@example.com")}); err != nil {
			t.Fatalf("unchanged role needs no step-up: %v", err)
		}
		if _, err := o.Svc.CreateUser(ctx, admin, service.UserInput{User: crm.User{Username: "rep9", DisplayName: "Rep", DepartmentID: o.West.ID,
			RoleID: salesRole.ID}, Password: "long enough password"}); err != nil {
			t.Fatalf("a sales user needs no step-up: %v", err)
		}
		if _, err := o.Svc.EndUserSessions(ctx, repSession, o.Rep1.UserID); err != nil {
			t.Fatalf("own sessions: %v", err)
		}

		// Enrolled, verified more than five minutes ago: refused.
		f := o.EnrolMFA(t, admin)
		clock.Advance(service.StepUpWindow + time.Second)
		for _, g := range guarded {
			wantKey(t, g.call(admin), crm.StepUpRequired, "step_up_required")
		}
		if ev := actionEvents(t, db, "role.save"); len(ev) == 0 || ev[0].Outcome != "denied" {
			t.Fatalf("refused step-up not audited: %+v", ev)
		}
		// A wrong code changes nothing.
		wantKey(t, o.Svc.StepUp(ctx, admin, "000000"), crm.Invalid, "wrong_code")
		wantKey(t, guarded[0].call(admin), crm.StepUpRequired, "step_up_required")

		// Fresh: allowed, for five minutes.
		if err := o.Svc.StepUp(ctx, admin, testorg.Code(t, f.Secret, clock.Now())); err != nil {
			t.Fatal(err)
		}
		clock.Advance(service.StepUpWindow - time.Second)
		_, repSession2 := signIn(t, o, "rep1", testorg.Password)
		guarded[5].call = func(a *access.Actor) error { return o.Svc.EndSession(ctx, a, repSession2.SessionID) }
		for _, g := range guarded {
			if err := g.call(admin); err != nil {
				t.Fatalf("%s with a fresh second factor: %v", g.name, err)
			}
		}
		if _, err := o.Svc.Authenticate(ctx, "", testorg.ClientForTest()); err == nil {
			t.Fatal("empty token")
		}

		// An API token never steps up, whatever its scopes.
		tok := o.Token(t, admin)
		ta, err := o.Svc.AuthenticateToken(ctx, tok, testorg.ClientForTest())
		if err != nil || !ta.IsAdmin() {
			t.Fatalf("admin token: %+v %v", ta, err)
		}
		wantKey(t, o.Svc.StepUp(ctx, ta, f.Recovery[0]), crm.StepUpRequired, "step_up_token")
		wantKey(t, guarded[0].call(ta), crm.StepUpRequired, "step_up_token")
		// System actors (the CLI) are not asked.
		if _, err := o.Svc.SaveRole(ctx, access.System("cli"), salesRole); err != nil {
			t.Fatalf("system actor: %v", err)
		}
	})
}

// TestStepUpIsPerSession: the time of the second factor is kept on the
// session, so it holds across requests of that session and no other.
func TestStepUpIsPerSession(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testorg.NewClock()
		o := testorg.NewWithClock(t, db, clock)
		o.StepUp(t, o.Admin) // enrols the administrator
		f := o.MFA[o.Admin.UserID]
		c := testorg.ClientForTest()
		if err := o.Svc.ChangePassword(ctx, o.Admin, o.AdminPassword, "the admin's own password"); err != nil {
			t.Fatal(err)
		}
		login := func() string {
			res, err := o.Svc.Login(ctx, "admin", "the admin's own password", c)
			if err != nil || !res.MFARequired {
				t.Fatalf("login: %+v %v", res, err)
			}
			p, _ := o.Svc.Authenticate(ctx, res.Token, c)
			code := f.Recovery[0]
			f.Recovery = f.Recovery[1:]
			done, err := o.Svc.CompleteLogin(ctx, p, code)
			if err != nil {
				t.Fatal(err)
			}
			return done.Token
		}
		a := login()
		b := login()
		clock.Advance(4 * time.Minute)
		b2, _ := o.Svc.Authenticate(ctx, b, c)
		if _, err := o.Svc.SaveRole(ctx, b2, o.Roles["sales"]); err != nil {
			t.Fatalf("sign-in's own second factor is fresh for five minutes: %v", err)
		}
		clock.Advance(2 * time.Minute)
		a2, _ := o.Svc.Authenticate(ctx, a, c)
		wantKey(t, errOnly(o.Svc.SaveRole(ctx, a2, o.Roles["sales"])), crm.StepUpRequired, "step_up_required")
		if err := o.Svc.StepUp(ctx, a2, f.Recovery[0]); err != nil {
			t.Fatal(err)
		}
		a3, _ := o.Svc.Authenticate(ctx, a, c) // a later request of the same session
		if _, err := o.Svc.SaveRole(ctx, a3, o.Roles["sales"]); err != nil {
			t.Fatalf("step-up kept on the session: %v", err)
		}
		b3, _ := o.Svc.Authenticate(ctx, b, c) // the other session is not stepped up
		wantKey(t, errOnly(o.Svc.SaveRole(ctx, b3, o.Roles["sales"])), crm.StepUpRequired, "step_up_required")
	})
}

// TestAdminResetsKeepMFA: an administrator's password reset never removes
// or bypasses the second factor; resetting the second factor is its own
// audited action, after which a role that requires MFA asks to enrol.
func TestAdminResetsKeepMFA(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		o.EnrolMFA(t, o.Rep1)
		o.StepUp(t, o.Admin)
		if err := o.Svc.SetUserPassword(ctx, o.Admin, o.Rep1.UserID, "reset by the admin"); err != nil {
			t.Fatal(err)
		}
		res, p := signIn(t, o, "rep1", "reset by the admin")
		if !res.MFARequired || !p.MFAPending || !res.User.MustChangePW {
			t.Fatalf("after a password reset: %+v %+v", res, p)
		}
		if !testorg.Actor(t, o.Svc, o.Rep1.UserID).MFAEnrolled {
			t.Fatal("password reset removed the second factor")
		}

		// The role now requires MFA; the admin resets rep1's second factor.
		sales := o.Roles["sales"]
		sales.RequireMFA = true
		if _, err := o.Svc.SaveRole(ctx, o.Admin, sales); err != nil {
			t.Fatal(err)
		}
		wantKey(t, o.Svc.ResetUserMFA(ctx, o.Admin, o.Admin.UserID), crm.Invalid, "invalid") // not one's own
		if err := o.Svc.ResetUserMFA(ctx, o.Admin, o.Rep1.UserID); err != nil {
			t.Fatal(err)
		}
		_, err := o.Svc.Authenticate(ctx, res.Token, testorg.ClientForTest())
		wantCode(t, err, crm.Unauthenticated) // the reset ends their sessions
		res, a := signIn(t, o, "rep1", "reset by the admin")
		if res.MFARequired || !a.MustEnrolMFA() {
			t.Fatalf("after an MFA reset: %+v must enrol %v", res, a.MustEnrolMFA())
		}
		if ev := actionEvents(t, db, "user.reset_mfa"); len(ev) != 1 || ev[0].RecordID != o.Rep1.UserID || ev[0].ActorID != o.Admin.UserID {
			t.Fatalf("user.reset_mfa events: %+v", ev)
		}
		// A role that requires MFA does not let its users turn it off.
		o.EnrolMFA(t, a)
		wantKey(t, o.Svc.DisableTOTP(ctx, a, o.MFA[a.UserID].Recovery[0]), crm.Forbidden, "mfa_required_by_role")
		if a.MustEnrolMFA() {
			t.Fatal("enrolled user still must enrol")
		}
	})
}

// TestAdministratorRequiresMFAByDefault: a new organisation's administrator
// role requires a second factor (issue 12 §5) and no other default role
// does, so its administrator must enrol before anything else. The
// organisation may turn it off: a role change that needs a fresh second
// factor and is audited as require_mfa going from true to false.
func TestAdministratorRequiresMFAByDefault(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.NewAsShipped(t, db, service.Options{Argon2: testorg.CheapArgon})
		for key, r := range o.Roles {
			if r.RequireMFA != (key == "admin") {
				t.Errorf("role %s requires MFA: %v", key, r.RequireMFA)
			}
		}
		if !o.Admin.MustEnrolMFA() {
			t.Fatal("a new organisation's administrator need not enrol a second factor")
		}

		relaxed := o.Roles["admin"]
		relaxed.RequireMFA = false
		_, err := o.Svc.SaveRole(ctx, o.Admin, relaxed)
		wantKey(t, err, crm.StepUpRequired, "step_up_enrol")
		if ev := actionEvents(t, db, "role.save"); len(ev) != 1 || ev[0].Outcome != "denied" {
			t.Fatalf("refused change not audited: %+v", ev)
		}
		o.StepUp(t, o.Admin)
		if _, err := o.Svc.SaveRole(ctx, o.Admin, relaxed); err != nil {
			t.Fatal(err)
		}
		ev, fields := lastEvent(t, db, "role.update")
		change, _ := fields["require_mfa"].(map[string]any)
		if ev.ActorID != o.Admin.UserID || ev.RecordID != relaxed.ID || change["from"] != true || change["to"] != false {
			t.Fatalf("turning it off audited as %+v %v", ev, fields)
		}
	})
}
