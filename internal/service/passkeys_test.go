package service_test

import (
	"context"
	"encoding/json"
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

// registerPasskey registers a passkey of au for the session actor a
// through the real begin and finish calls.
func registerPasskey(t *testing.T, o *testorg.Org, a *access.Actor, au *testorg.Authenticator, name string) service.PasskeyRegistration {
	t.Helper()
	ctx := context.Background()
	opts, err := o.Svc.BeginPasskeyRegistration(ctx, a)
	if err != nil {
		t.Fatalf("begin registration: %v", err)
	}
	reg, err := o.Svc.FinishPasskeyRegistration(ctx, a, name, au.Create(t, opts))
	if err != nil {
		t.Fatalf("finish registration: %v", err)
	}
	return reg
}

// passkeyAnswer begins a passkey check in a's session and answers it with au.
func passkeyAnswer(t *testing.T, o *testorg.Org, a *access.Actor, au *testorg.Authenticator) []byte {
	t.Helper()
	opts, err := o.Svc.BeginPasskeyCheck(context.Background(), a)
	if err != nil {
		t.Fatalf("begin passkey check: %v", err)
	}
	return au.Get(t, opts)
}

// lastEvent is the newest audit event of an action, with its fields.
func lastEvent(t *testing.T, db *store.DB, action string) (crm.AuditEvent, map[string]any) {
	t.Helper()
	ev := actionEvents(t, db, action)
	if len(ev) == 0 {
		t.Fatalf("no %s event", action)
	}
	var f map[string]any
	json.Unmarshal(ev[0].Fields, &f)
	return ev[0], f
}

// TestPasskeySignIn: a passkey registered on its own turns the second
// factor on (with recovery codes), the password then opens only a pending
// session, and the passkey completes it; a replayed answer and an answer
// from another session are refused, and every event is audited.
func TestPasskeySignIn(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := testorg.ClientForTest()
		o := testorg.New(t, db)
		_, a := signIn(t, o, "rep1", testorg.Password)
		au := testorg.NewAuthenticator()

		// Without JavaScript no answer arrives: the field says why.
		opts, err := o.Svc.BeginPasskeyRegistration(ctx, a)
		if err != nil || !strings.Contains(string(opts), `"challenge"`) || !strings.Contains(string(opts), `"id":"custos.test"`) {
			t.Fatalf("creation options: %s %v", opts, err)
		}
		wantField(t, errOnly(o.Svc.FinishPasskeyRegistration(ctx, a, "Laptop", nil)), "passkey", "needs_browser")
		wantField(t, errOnly(o.Svc.FinishPasskeyRegistration(ctx, a, " ", []byte("{}"))), "name", "required")
		answer := au.Create(t, opts)
		reg, err := o.Svc.FinishPasskeyRegistration(ctx, a, "  Laptop  ", answer)
		if err != nil {
			t.Fatal(err)
		}
		if reg.Passkey.Name != "Laptop" || !reg.Passkey.Usable || len(reg.RecoveryCodes) != service.RecoveryCodeCount || !a.MFAEnrolled {
			t.Fatalf("registration: %+v enrolled %v", reg, a.MFAEnrolled)
		}
		if reg.Passkey.AAGUID != "63757374-6f73-2d74-6573-742d61757468" {
			t.Fatalf("aaguid %q", reg.Passkey.AAGUID)
		}
		// The same answer again: its challenge is spent.
		wantKey(t, errOnly(o.Svc.FinishPasskeyRegistration(ctx, a, "Again", answer)), crm.Invalid, "passkey_refused")
		if _, f := lastEvent(t, db, "passkey.register"); f["reason"] != "challenge" {
			t.Fatalf("refused registration audited as %v", f)
		}
		st, err := o.Svc.MFA(ctx, a)
		if err != nil || !st.Enrolled || st.TOTP || st.Passkeys != 1 || st.UsablePasskeys != 1 || st.RecoveryCodesLeft != service.RecoveryCodeCount {
			t.Fatalf("status %+v %v", st, err)
		}

		// A passkey alone counts as a second factor: the password opens a pending session.
		res, pending := signIn(t, o, "rep1", testorg.Password)
		if !res.MFARequired || !pending.MFAPending {
			t.Fatalf("password alone signed in: %+v", res)
		}
		if st, err := o.Svc.MFA(ctx, pending); err != nil || st.UsablePasskeys != 1 {
			t.Fatalf("pending session's methods: %+v %v", st, err)
		}
		login := passkeyAnswer(t, o, pending, au)
		done, err := o.Svc.CompleteLoginPasskey(ctx, pending, login)
		if err != nil {
			t.Fatal(err)
		}
		full, err := o.Svc.Authenticate(ctx, done.Token, c)
		if err != nil || full.MFAPending || !full.MFAEnrolled || full.SecondFactorAt.IsZero() {
			t.Fatalf("signed in: %+v %v", full, err)
		}
		if e, f := lastEvent(t, db, "login"); e.ActorID != a.UserID || f["method"] != "passkey" || f["passkey"] != float64(reg.Passkey.ID) {
			t.Fatalf("login event %+v %v", e, f)
		}
		keys, _ := o.Svc.ListPasskeys(ctx, full)
		if len(keys) != 1 || keys[0].LastUsedAt.IsZero() {
			t.Fatalf("last use not recorded: %+v", keys)
		}

		// Replayed: the same answer in another pending session, without and
		// with a challenge of its own, is refused and counted as a failure.
		_, pending2 := signIn(t, o, "rep1", testorg.Password)
		wantKey(t, errOnly(o.Svc.CompleteLoginPasskey(ctx, pending2, login)), crm.Invalid, "passkey_refused")
		if _, f := lastEvent(t, db, "login.failed"); f["method"] != "passkey" || f["reason"] != "challenge" {
			t.Fatalf("replay audited as %v", f)
		}
		if _, err := o.Svc.BeginPasskeyCheck(ctx, pending2); err != nil {
			t.Fatal(err)
		}
		wantKey(t, errOnly(o.Svc.CompleteLoginPasskey(ctx, pending2, login)), crm.Invalid, "passkey_refused")
		if _, f := lastEvent(t, db, "login.failed"); f["reason"] != "verification" || f["passkey"] != float64(reg.Passkey.ID) {
			t.Fatalf("replay against a new challenge audited as %v", f)
		}
		// A challenge belongs to the session that began it.
		_, pending3 := signIn(t, o, "rep1", testorg.Password)
		other := passkeyAnswer(t, o, pending3, au)
		wantKey(t, errOnly(o.Svc.CompleteLoginPasskey(ctx, pending2, other)), crm.Invalid, "passkey_refused")
		// Recovery codes work for a user whose only factor is a passkey.
		if _, err := o.Svc.CompleteLogin(ctx, pending2, reg.RecoveryCodes[0]); err != nil {
			t.Fatalf("recovery code: %v", err)
		}
		if n := len(actionEvents(t, db, "login.failed")); n != 3 {
			t.Fatalf("%d login.failed events, want 3", n)
		}

		// An authenticator app beside the passkey keeps the recovery codes,
		// and turning it off again keeps the second factor on.
		f := o.EnrolMFA(t, full)
		if f.Recovery != nil {
			t.Fatalf("new recovery codes beside a passkey: %v", f.Recovery)
		}
		if err := o.Svc.DisableTOTP(ctx, full, reg.RecoveryCodes[1]); err != nil {
			t.Fatal(err)
		}
		if st, _ := o.Svc.MFA(ctx, full); !st.Enrolled || st.TOTP || st.RecoveryCodesLeft != service.RecoveryCodeCount-2 || !full.MFAEnrolled {
			t.Fatalf("after turning the app off: %+v", st)
		}

		// No key material or challenge in the audit trail.
		var creation struct{ PublicKey struct{ Challenge string } }
		json.Unmarshal(opts, &creation)
		for _, e := range actionEvents(t, db, "") {
			for _, secret := range append([]string{creation.PublicKey.Challenge}, reg.RecoveryCodes...) {
				if strings.Contains(string(e.Fields), secret) {
					t.Fatalf("%s event holds a secret: %s", e.Action, e.Fields)
				}
			}
		}
	})
}

// TestPasskeyStepUp: a passkey gives a fresh second factor exactly where a
// code does; renaming is plain, removing needs step-up, the last factor of
// a role that requires MFA stays, and removing the last one otherwise
// turns the second factor off.
func TestPasskeyStepUp(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testorg.NewClock()
		o := testorg.NewWithClock(t, db, clock)
		_, a := signIn(t, o, "admin", o.AdminPassword)
		au := testorg.NewAuthenticator()
		reg := registerPasskey(t, o, a, au, "Phone")

		clock.Advance(service.StepUpWindow + time.Second)
		wantKey(t, errOnly(o.Svc.SaveRole(ctx, a, o.Roles["sales"])), crm.StepUpRequired, "step_up_required")
		// So does an authenticator app beside the passkey.
		en, err := o.Svc.BeginTOTP(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		wantKey(t, errOnly(o.Svc.ConfirmTOTP(ctx, a, testorg.Code(t, en.Secret, clock.Now()))), crm.StepUpRequired, "step_up_required")
		// A second passkey on an account with a factor needs step-up too.
		second := testorg.NewAuthenticator()
		opts, err := o.Svc.BeginPasskeyRegistration(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		wantKey(t, errOnly(o.Svc.FinishPasskeyRegistration(ctx, a, "Key", second.Create(t, opts))), crm.StepUpRequired, "step_up_required")

		if err := o.Svc.StepUpPasskey(ctx, a, passkeyAnswer(t, o, a, au)); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.SaveRole(ctx, a, o.Roles["sales"]); err != nil {
			t.Fatalf("after a passkey step-up: %v", err)
		}
		if _, f := lastEvent(t, db, "step_up"); f["method"] != "passkey" {
			t.Fatalf("step_up event %v", f)
		}
		// The registration refused above kept its challenge for this retry.
		key2, err := o.Svc.FinishPasskeyRegistration(ctx, a, "Key", second.Create(t, opts))
		if err != nil || key2.RecoveryCodes != nil {
			t.Fatalf("second passkey: %+v %v", key2, err)
		}
		wantField(t, o.Svc.RenamePasskey(ctx, a, reg.Passkey.ID, strings.Repeat("长", 61)), "name", "too_long")
		if err := o.Svc.RenamePasskey(ctx, a, reg.Passkey.ID, "工作手机"); err != nil {
			t.Fatal(err)
		}
		_, rep := signIn(t, o, "rep1", testorg.Password)
		wantCode(t, o.Svc.RenamePasskey(ctx, rep, reg.Passkey.ID, "mine"), crm.NotFound) // another user's
		if _, f := lastEvent(t, db, "passkey.rename"); f["name"].(map[string]any)["to"] != "工作手机" {
			t.Fatalf("rename event %v", f)
		}

		clock.Advance(service.StepUpWindow + time.Second)
		wantKey(t, o.Svc.RemovePasskey(ctx, a, key2.Passkey.ID), crm.StepUpRequired, "step_up_required")
		if err := o.Svc.StepUpPasskey(ctx, a, passkeyAnswer(t, o, a, second)); err != nil {
			t.Fatal(err)
		}
		if err := o.Svc.RemovePasskey(ctx, a, key2.Passkey.ID); err != nil {
			t.Fatal(err)
		}
		// The administrator role does not require MFA: the last one goes,
		// and with it the recovery codes.
		if err := o.Svc.RemovePasskey(ctx, a, reg.Passkey.ID); err != nil {
			t.Fatal(err)
		}
		if st, _ := o.Svc.MFA(ctx, a); st.Enrolled || st.RecoveryCodesLeft != 0 || a.MFAEnrolled {
			t.Fatalf("after removing every passkey: %+v", st)
		}
		removed := 0
		for _, e := range actionEvents(t, db, "passkey.remove") {
			if e.Outcome == "ok" {
				removed++
			} else if e.Outcome != "denied" {
				t.Fatalf("passkey.remove %+v", e)
			}
		}
		if removed != 2 {
			t.Fatalf("%d passkey.remove events", removed)
		}

		// A role that requires MFA keeps its users' last factor.
		sales := o.Roles["sales"]
		sales.RequireMFA = true
		o.StepUp(t, o.Admin)
		if _, err := o.Svc.SaveRole(ctx, o.Admin, sales); err != nil {
			t.Fatal(err)
		}
		_, rep = signIn(t, o, "rep1", testorg.Password)
		if !rep.MustEnrolMFA() {
			t.Fatal("rep1 need not enrol")
		}
		repKey := registerPasskey(t, o, rep, testorg.NewAuthenticator(), "Key")
		wantKey(t, o.Svc.RemovePasskey(ctx, rep, repKey.Passkey.ID), crm.Forbidden, "mfa_required_by_role")
		if rep.MustEnrolMFA() {
			t.Fatal("a passkey does not count for a role that requires MFA")
		}
		// An administrator's reset of the second factor removes passkeys too.
		o.StepUp(t, o.Admin)
		if err := o.Svc.ResetUserMFA(ctx, o.Admin, rep.UserID); err != nil {
			t.Fatal(err)
		}
		if testorg.Actor(t, o.Svc, rep.UserID).MFAEnrolled {
			t.Fatal("passkey survived the reset")
		}
	})
}

// TestPasskeyRefusals: an answer signed for another origin, an expired
// challenge and a signature counter that goes backwards (a cloned
// authenticator) are refused and audited; the clone blocks the passkey,
// which still counts as a second factor so the password alone opens nothing.
func TestPasskeyRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testorg.NewClock()
		o := testorg.NewWithClock(t, db, clock)
		_, a := signIn(t, o, "rep2", testorg.Password)
		au := testorg.NewAuthenticator()
		reg := registerPasskey(t, o, a, au, "Key")

		// A phishing page at another origin relays the challenge: refused.
		phished := au.Clone()
		phished.Origin = "https://custos.test.evil.example"
		wantKey(t, o.Svc.StepUpPasskey(ctx, a, passkeyAnswer(t, o, a, phished)), crm.Invalid, "passkey_refused")
		if e, f := lastEvent(t, db, "step_up.failed"); e.Outcome != "denied" || f["reason"] != "verification" || !strings.Contains(f["detail"].(string), "origin") {
			t.Fatalf("wrong origin audited as %+v %v", e, f)
		}

		// An answer after the ceremony expired.
		opts, err := o.Svc.BeginPasskeyCheck(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(6 * time.Minute)
		wantKey(t, o.Svc.StepUpPasskey(ctx, a, au.Get(t, opts)), crm.Invalid, "passkey_refused")
		if _, f := lastEvent(t, db, "step_up.failed"); f["reason"] != "challenge" {
			t.Fatalf("expired challenge audited as %v", f)
		}
		if n := len(actionEvents(t, db, "step_up.failed")); n != 2 {
			t.Fatalf("%d failures recorded", n)
		}

		// The clone lags one behind the original once that is used.
		clone := au.Clone()
		if err := o.Svc.StepUpPasskey(ctx, a, passkeyAnswer(t, o, a, au)); err != nil {
			t.Fatal(err)
		}
		wantKey(t, o.Svc.StepUpPasskey(ctx, a, passkeyAnswer(t, o, a, clone)), crm.Invalid, "passkey_refused")
		if _, f := lastEvent(t, db, "step_up.failed"); f["reason"] != "sign_count" || f["blocked"] != true || f["passkey"] != float64(reg.Passkey.ID) {
			t.Fatalf("counter regression audited as %v", f)
		}
		keys, _ := o.Svc.ListPasskeys(ctx, a)
		if len(keys) != 1 || keys[0].BlockedAt.IsZero() || keys[0].Usable {
			t.Fatalf("passkey not blocked: %+v", keys)
		}
		// Blocked: the original is not offered any more, and the password
		// alone still opens only a pending session.
		wantKey(t, errOnly(o.Svc.BeginPasskeyCheck(ctx, a)), crm.Conflict, "no_passkey")
		res, pending := signIn(t, o, "rep2", testorg.Password)
		if !res.MFARequired {
			t.Fatal("a blocked passkey let the password alone sign in")
		}
		wantKey(t, errOnly(o.Svc.BeginPasskeyCheck(ctx, pending)), crm.Conflict, "no_passkey")
		if _, err := o.Svc.CompleteLogin(ctx, pending, reg.RecoveryCodes[0]); err != nil {
			t.Fatalf("recovery code with a blocked passkey: %v", err)
		}
		if n := len(actionEvents(t, db, "step_up.failed")); n != 3 {
			t.Fatalf("%d failures recorded", n)
		}
		// API tokens cannot run a ceremony.
		ta, err := o.Svc.AuthenticateToken(ctx, o.Token(t, a), testorg.ClientForTest())
		if err != nil {
			t.Fatal(err)
		}
		wantKey(t, errOnly(o.Svc.BeginPasskeyCheck(ctx, ta)), crm.Forbidden, "session_required")
	})
}

// TestRelyingParty: the public URL gives the passkeys' relying party; an
// IP address, a path or a bad scheme is refused at start-up.
func TestRelyingParty(t *testing.T) {
	for _, tc := range []struct{ url, rpID, origin string }{
		{"https://CRM.Example.com", "crm.example.com", "https://crm.example.com"},
		{"http://localhost:8080/", "localhost", "http://localhost:8080"},
		{"https://127.0.0.1:8443", "", ""},
		{"https://crm.example.com/custos", "", ""},
		{"ftp://crm.example.com", "", ""},
		{"crm.example.com", "", ""},
	} {
		rpID, origin, err := service.RelyingParty(tc.url)
		if rpID != tc.rpID || origin != tc.origin || (err == nil) != (tc.rpID != "") {
			t.Errorf("%s: %q %q %v", tc.url, rpID, origin, err)
		}
	}
}
