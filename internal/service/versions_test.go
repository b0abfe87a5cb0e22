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

func TestVersionHistory(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "义乌小商品", Level: "C", Phone: "13600001111"})
		c, err := o.Svc.UpdateCustomer(ctx, o.Rep1, c.ID, crm.CustomerUpdate{Version: c.Version, Level: new("A"), Industry: new("批发")})
		if err != nil {
			t.Fatal(err)
		}
		c, err = o.Svc.UpdateCustomer(ctx, o.Rep1, c.ID, crm.CustomerUpdate{Version: c.Version, Phone: new("13600002222")})
		if err != nil {
			t.Fatal(err)
		}
		vs, err := o.Svc.Versions(ctx, o.Rep1, crm.ObjCustomer, c.ID)
		if err != nil || len(vs) != 3 || vs[0].Version != 3 || vs[2].ActorName != "User rep1" {
			t.Fatalf("versions: %v %+v", err, vs)
		}
		if !strings.Contains(string(vs[2].Fields), `"level":"C"`) || !strings.Contains(string(vs[0].Fields), "+8613600002222") {
			t.Fatalf("snapshots: %s / %s", vs[2].Fields, vs[0].Fields)
		}
		// Field rules shape old versions too.
		setFieldRules(t, o, "manager", crm.ObjCustomer, false, map[string]crm.FieldAccess{"phone": crm.FieldMasked, "level": crm.FieldHidden})
		mgr := testorg.Actor(t, o.Svc, o.MgrEast.UserID)
		mv, err := o.Svc.Versions(ctx, mgr, crm.ObjCustomer, c.ID)
		if err != nil || strings.Contains(string(mv[2].Fields), `"level"`) || !strings.Contains(string(mv[2].Fields), `136****1111`) || strings.Contains(string(mv[2].Fields), "13600001111") {
			t.Fatalf("manager's versions: %v %s", err, mv[2].Fields)
		}
		if _, err := o.Svc.Versions(ctx, o.Rep3, crm.ObjCustomer, c.ID); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("someone else's versions: %v", err)
		}

		// Restore one field, then a whole version; each is a new version.
		if err := o.Svc.RestoreVersion(ctx, o.Rep1, crm.ObjCustomer, c.ID, 1, c.Version, []string{"level"}); err != nil {
			t.Fatal(err)
		}
		got, _ := o.Svc.GetCustomer(ctx, o.Rep1, c.ID)
		if got.Level != "C" || got.Phone != "+8613600002222" || got.Version != 4 {
			t.Fatalf("after restoring level: %+v", got)
		}
		wantCode(t, o.Svc.RestoreVersion(ctx, o.Rep1, crm.ObjCustomer, c.ID, 1, c.Version, nil), crm.Conflict) // stale
		if err := o.Svc.RestoreVersion(ctx, o.Rep1, crm.ObjCustomer, c.ID, 1, got.Version, nil); err != nil {
			t.Fatal(err)
		}
		got, _ = o.Svc.GetCustomer(ctx, o.Rep1, c.ID)
		if got.Phone != "+8613600001111" || got.Industry != "" || got.Version != 5 {
			t.Fatalf("after restoring version 1: %+v", got.CustomerFields)
		}
		wantCode(t, o.Svc.RestoreVersion(ctx, o.Rep1, crm.ObjCustomer, c.ID, 9, got.Version, nil), crm.Invalid)
		wantCode(t, o.Svc.RestoreVersion(ctx, o.Rep1, crm.ObjCustomer, c.ID, 1, got.Version, []string{"owner_id"}), crm.Invalid)
		if ev, _ := listEvents(db, "customer.version_restore"); len(ev) != 2 {
			t.Fatalf("restore events: %d", len(ev))
		}
	})
}
