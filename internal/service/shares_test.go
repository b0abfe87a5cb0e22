package service_test

import (
	"context"
	"testing"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

func TestSharing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
		clock := now
		o := testorg.New(t, db)
		svc := service.New(db, service.Options{Vault: o.Vault, Argon2: testorg.CheapArgon, Now: func() time.Time { return clock }})
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "绍兴黄酒集团"})
		ct, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: c.ID, Name: "鲁迅"})
		if err != nil {
			t.Fatal(err)
		}
		lead, err := o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "秋瑾"})
		if err != nil {
			t.Fatal(err)
		}
		actor := func(a *access.Actor) *access.Actor { return testorg.Actor(t, svc, a.UserID) }

		// Only the owner (or a manager above) shares, and not to nobody.
		_, err = svc.ShareRecord(ctx, actor(o.Rep2), crm.ObjCustomer, c.ID, service.ShareInput{UserID: o.Rep3.UserID, Level: "read"})
		wantCode(t, err, crm.NotFound)
		_, err = svc.ShareRecord(ctx, actor(o.Rep1), crm.ObjCustomer, c.ID, service.ShareInput{Level: "read"})
		wantField(t, err, "user_id", "one_of")
		past := now.Add(-time.Hour)
		_, err = svc.ShareRecord(ctx, actor(o.Rep1), crm.ObjCustomer, c.ID, service.ShareInput{UserID: o.Rep3.UserID, Level: "read", ExpiresAt: &past})
		wantField(t, err, "expires_at", "after_now")

		// A read share: rep3 sees the customer and its contact, changes nothing.
		if _, err := o.Svc.GetCustomer(ctx, actor(o.Rep3), c.ID); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("before sharing: %v", err)
		}
		until := now.Add(24 * time.Hour)
		read, err := svc.ShareRecord(ctx, actor(o.Rep1), crm.ObjCustomer, c.ID, service.ShareInput{UserID: o.Rep3.UserID, Level: "read", ExpiresAt: &until})
		if err != nil {
			t.Fatal(err)
		}
		rep3 := actor(o.Rep3)
		if _, err := svc.GetCustomer(ctx, rep3, c.ID); err != nil {
			t.Fatalf("shared customer: %v", err)
		}
		if page, _ := svc.ListCustomers(ctx, rep3, crm.CustomerFilter{}); page.Total != 1 {
			t.Fatalf("shared customer in the list: %d", page.Total)
		}
		if _, err := svc.GetContact(ctx, rep3, ct.ID); err != nil {
			t.Fatalf("contact of a shared customer: %v", err)
		}
		_, err = svc.UpdateCustomer(ctx, rep3, c.ID, crm.CustomerUpdate{Version: c.Version, Level: new("A")})
		wantCode(t, err, crm.NotFound)
		_, err = svc.UpdateContact(ctx, rep3, ct.ID, crm.ContactUpdate{Version: ct.Version, Title: new("作家")})
		wantCode(t, err, crm.NotFound)
		_, err = svc.CreateContact(ctx, rep3, crm.ContactFields{CustomerID: c.ID, Name: "许广平"})
		if ce := (*crm.Error)(nil); !errorsAs(err, &ce) || ce.Code != crm.Invalid {
			t.Fatalf("attach to a read-shared customer: %v", err)
		}
		if err := svc.DeleteCustomer(ctx, rep3, c.ID); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("delete a shared customer: %v", err)
		}

		// An edit share to a department: East-1 colleagues edit, never delete,
		// release or hand over.
		edit, err := svc.ShareRecord(ctx, actor(o.MgrEast), crm.ObjLead, lead.ID, service.ShareInput{DeptID: o.West.ID, Level: "edit"})
		if err != nil {
			t.Fatalf("manager shares a subordinate's lead: %v", err)
		}
		rep3 = actor(o.Rep3)
		if _, err := svc.UpdateLead(ctx, rep3, lead.ID, crm.LeadUpdate{Version: lead.Version, Company: new("鉴湖女校")}); err != nil {
			t.Fatalf("edit through an edit share: %v", err)
		}
		if err := svc.DeleteRecord(ctx, rep3, crm.ObjLead, lead.ID); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("delete through an edit share: %v", err)
		}
		if err := svc.TransferRecord(ctx, rep3, crm.ObjLead, lead.ID, o.Rep3.UserID, 0); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("transfer through an edit share: %v", err)
		}
		if _, err := svc.ShareRecord(ctx, rep3, crm.ObjLead, lead.ID, service.ShareInput{UserID: o.Rep2.UserID, Level: "read"}); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("a share passed on: %v", err)
		}
		// Someone outside the department sees nothing.
		if _, err := svc.GetLead(ctx, actor(o.Rep2), lead.ID); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("the share reached East-1: %v", err)
		}

		// Expiry: the read share ends by itself.
		clock = now.Add(25 * time.Hour)
		if _, err := svc.GetCustomer(ctx, actor(o.Rep3), c.ID); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("expired share still works: %v", err)
		}

		// Listing and bulk revoke.
		grants, err := svc.MyGrants(ctx, actor(o.Rep1))
		if err != nil || len(grants) != 1 || grants[0].ID != read.ID {
			t.Fatalf("rep1's grants: %v %+v", err, grants)
		}
		if err := svc.RevokeShares(ctx, actor(o.Rep3), []int64{edit.ID}); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("a stranger revokes: %v", err)
		}
		if err := svc.RevokeShares(ctx, actor(o.Rep1), []int64{read.ID, edit.ID}); err != nil {
			t.Fatalf("owner revokes both: %v", err)
		}
		if _, err := svc.GetLead(ctx, actor(o.Rep3), lead.ID); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("revoked share still works: %v", err)
		}
		if ev, _ := listEvents(db, "share.revoke"); len(ev) != 1 || len(ev[0].RecordIDs) != 2 {
			t.Fatalf("revoke event: %+v", ev)
		}
	})
}

// TestRevokeNeedsEdit: revoking a share changes who sees what, so a token
// that may only read revokes nothing — not the shares its owner granted,
// not those on records in its owner's scope; the owner's session may.
func TestRevokeNeedsEdit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		mine := o.Customer(t, o.MgrEast, crm.CustomerFields{Name: "温州瓯江五金"})
		reps := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "台州椒江模具"})
		var ids []int64
		for _, c := range []struct {
			by *access.Actor
			id int64
		}{{o.MgrEast, mine.ID}, {o.Rep1, reps.ID}} {
			sh, err := o.Svc.ShareRecord(ctx, c.by, crm.ObjCustomer, c.id, service.ShareInput{UserID: o.Rep3.UserID, Level: "read"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, sh.ID)
		}
		tok, err := o.Svc.CreateAPIToken(ctx, o.MgrEast, service.TokenInput{Name: "read", Scopes: []string{"customer:read"}})
		if err != nil {
			t.Fatal(err)
		}
		reader, err := o.Svc.AuthenticateToken(ctx, tok.Secret, testorg.ClientForTest())
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if err := o.Svc.RevokeShares(ctx, reader, []int64{id}); !crm.IsCode(err, crm.NotFound) {
				t.Fatalf("a read-only token revokes share %d: %v", id, err)
			}
		}
		if got, _ := o.Svc.MyGrants(ctx, o.MgrEast); len(got) != 1 {
			t.Fatalf("shares left: %+v", got)
		}
		if err := o.Svc.RevokeShares(ctx, o.MgrEast, ids); err != nil {
			t.Fatalf("the manager revokes their own and their subtree's: %v", err)
		}
	})
}
