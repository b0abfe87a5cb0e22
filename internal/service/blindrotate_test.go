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

// TestRotateBlindIndex re-keys the blind index: afterwards every index row
// is under the new version, none of the old remains, the same rows exist,
// and search and the duplicate check find exactly what they found before.
func TestRotateBlindIndex(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		ctx := context.Background()
		raw := testdb.Raw(t, d, opt)
		o := testorg.New(t, db)
		o.Customer(t, o.Rep1, crm.CustomerFields{Name: "成都锦江酒业", Phone: "028-8888 6666"})
		if _, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "赵云", Email: "zilong@shu.example"}); err != nil {
			t.Fatal(err)
		}
		lead, err := o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "黄忠", Company: "定军山矿业", Mobile: "13612340000"})
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Svc.DeleteRecord(ctx, o.Rep1, crm.ObjLead, lead.ID); err != nil {
			t.Fatal(err)
		}
		count := func(q string) int {
			var n int
			if err := raw.QueryRow(q).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		rows := count("SELECT COUNT(*) FROM search_terms") + count("SELECT COUNT(*) FROM dedup_keys")

		done, err := o.Svc.RotateBlindIndex(ctx, o.Admin, 2, 0, nil)
		if err != nil || done != 3 {
			t.Fatalf("rotate: %d %v", done, err)
		}
		if n := count("SELECT COUNT(*) FROM search_terms WHERE term NOT LIKE 'b2:%'") + count("SELECT COUNT(*) FROM dedup_keys WHERE key NOT LIKE 'b2:%'"); n != 0 {
			t.Errorf("%d index rows not under the new version", n)
		}
		if after := count("SELECT COUNT(*) FROM search_terms") + count("SELECT COUNT(*) FROM dedup_keys"); after != rows {
			t.Errorf("index rows: %d before, %d after", rows, after)
		}
		for q, want := range map[string]string{"锦江": "customers", "02888886666": "customers", "赵云": "contacts", "zilong@shu.example": "contacts"} {
			res, err := o.Svc.Search(ctx, o.Rep1, q, 10)
			if err != nil || len(res.Customers)+len(res.Contacts) != 1 || want == "contacts" && len(res.Contacts) != 1 {
				t.Errorf("search %q after rotation: %v %+v", q, err, res)
			}
		}
		_, err = o.Svc.CreateContact(ctx, o.Rep2, crm.ContactFields{Name: "另一个", Email: "ZiLong@shu.example"})
		wantCode(t, err, crm.Duplicate)
		// The recycled lead came along: restoring it finds its number taken.
		if _, err := o.Svc.CreateContact(ctx, o.Rep2, crm.ContactFields{Name: "抢注", Mobile: "13612340000"}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, o.Svc.RestoreRecord(ctx, o.Rep1, crm.ObjLead, lead.ID), crm.Duplicate)
		if !strings.HasPrefix(o.Vault.SearchTerm("t", "x"), "b2:") {
			t.Error("searches do not use the new version")
		}
	})
}
