package service_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/quality"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestDuplicateFinderFebrl1 keeps the finder's accuracy on Febrl 1 above a
// floor on both databases (docs/accuracy.md has every set's figures).
func TestDuplicateFinderFebrl1(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := testorg.New(t, db)
		start := time.Now()
		set := loadFebrl(t, o, "dataset1.csv")
		loaded := time.Since(start)
		res := scanFebrl(t, o, set)
		t.Logf("febrl1: load %v, scan %v; %v", loaded, time.Since(start)-loaded, res)
		if res.f1 < 0.98 {
			t.Fatalf("febrl1 F1 %.4f below the floor 0.98: %v", res.f1, res)
		}
	})
}

// TestDuplicatePairsScoped: only administrators scan; a reader sees the
// pairs whose both records they may see, with titles; nothing of a value
// reaches the pairs or stays in the blocks; one scan per object at a time.
func TestDuplicatePairsScoped(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		for _, f := range []crm.CustomField{
			{Object: crm.ObjContact, Key: "dob", Label: "生日", Type: "date", Sensitive: true, Active: true},
			{Object: crm.ObjContact, Key: "id_no", Label: "证件号", Type: "text", Sensitive: true, Active: true},
		} {
			if _, err := o.Svc.SaveCustomField(ctx, o.Admin, f); err != nil {
				t.Fatal(err)
			}
		}
		mk := func(a *access.Actor, name, idNo string) int64 {
			c, err := o.Svc.CreateContact(ctx, a, crm.ContactFields{Name: name,
				Custom: map[string]any{"dob": "1980-03-12", "id_no": idNo}})
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		a1 := mk(o.Rep1, "John Smith", "7364009")
		a2 := mk(o.Rep1, "Jon Smith", "7364009")
		b1 := mk(o.Rep3, "Smith John", "7364090")
		mk(o.Rep3, "Mary Jones", "1234567")

		if _, err := o.Svc.ScanDuplicates(ctx, o.Rep1, crm.ObjContact, quality.DefaultMatchRules()); !crm.IsCode(err, crm.Forbidden) {
			t.Fatalf("a rep's scan: %v, want forbidden", err)
		}
		bad := quality.DefaultMatchRules()
		bad.Threshold = 2
		if _, err := o.Svc.ScanDuplicates(ctx, o.Admin, crm.ObjContact, bad); !crm.IsCode(err, crm.Invalid) ||
			!strings.Contains(fmt.Sprint(err.(*crm.Error).Fields), "threshold") {
			t.Fatalf("threshold 2: %v, want invalid threshold", err)
		}
		if page, err := o.Svc.DuplicatePairs(ctx, o.Admin, crm.ObjContact, service.DuplicateFilter{}); err != nil || len(page.Pairs) != 0 {
			t.Fatalf("pairs before any scan: %v %v", page.Pairs, err)
		}
		if _, err := o.Svc.ScanDuplicates(ctx, o.Admin, crm.ObjContact, quality.DefaultMatchRules()); err != nil {
			t.Fatal(err)
		}
		// A second scan replaces the first one's pairs.
		scan, err := o.Svc.ScanDuplicates(ctx, o.Admin, crm.ObjContact, quality.DefaultMatchRules())
		if err != nil {
			t.Fatal(err)
		}
		if scan.Records != 4 || scan.Pairs != 3 || scan.Status != crm.DupScanDone {
			t.Fatalf("scan %+v, want 4 records and 3 pairs", scan)
		}
		pairsOf := func(a *access.Actor) []service.DuplicatePair {
			page, err := o.Svc.DuplicatePairs(ctx, a, crm.ObjContact, service.DuplicateFilter{})
			if err != nil {
				t.Fatal(err)
			}
			return page.Pairs
		}
		all := pairsOf(o.Admin)
		if len(all) != 3 {
			t.Fatalf("admin sees %d pairs, want 3", len(all))
		}
		for _, p := range all {
			if p.TitleA == "" || p.TitleB == "" || !strings.Contains(p.TitleA+p.TitleB, "Smith") {
				t.Errorf("pair titles %q / %q", p.TitleA, p.TitleB)
			}
			if strings.Contains(p.Reasons, "Smith") || strings.Contains(p.Reasons, "7364") || strings.Contains(p.Reasons, "1980") {
				t.Errorf("reasons carry values: %q", p.Reasons)
			}
		}
		if got := pairsOf(o.Rep1); len(got) != 1 || got[0].IDA != a1 || got[0].IDB != a2 {
			t.Errorf("rep1 sees %+v, want only (%d, %d)", got, a1, a2)
		}
		if got := pairsOf(o.Rep3); len(got) != 0 {
			t.Errorf("rep3 sees %+v, want none (its pair's other record is rep1's)", got)
		}
		if got := pairsOf(o.MgrEast); len(got) != 1 {
			t.Errorf("East's manager sees %d pairs, want rep1's one", len(got))
		}
		page, _ := o.Svc.DuplicatePairs(ctx, o.Admin, crm.ObjContact, service.DuplicateFilter{})
		if len(page.Clusters) != 1 || !slices.Equal(page.Clusters[0], []int64{a1, a2, b1}) {
			t.Errorf("clusters %v, want one of the three Smiths", page.Clusters)
		}
		if page, _ := o.Svc.DuplicatePairs(ctx, o.Rep1, crm.ObjContact, service.DuplicateFilter{}); len(page.Clusters) != 1 || len(page.Clusters[0]) != 2 {
			t.Errorf("rep1's clusters %v, want their pair", page.Clusters)
		}

		raw := testdb.Raw(t, d, opt)
		var blocks int
		if err := raw.QueryRow("SELECT COUNT(*) FROM dup_blocks").Scan(&blocks); err != nil || blocks != 0 {
			t.Errorf("scratch blocks left: %d %v", blocks, err)
		}
		var pairs int
		if err := raw.QueryRow("SELECT COUNT(*) FROM dup_pairs").Scan(&pairs); err != nil || pairs != 3 {
			t.Errorf("stored pairs %d %v, want the last scan's 3", pairs, err)
		}
		var events int
		if err := raw.QueryRow("SELECT COUNT(*) FROM audit_events WHERE action = 'duplicates.scan' AND outcome = 'ok'").Scan(&events); err != nil || events != 2 {
			t.Errorf("scan events %d %v, want 2", events, err)
		}

		// A scan of the object running elsewhere holds the lease.
		now := o.Now()
		if err := db.WriteTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ClaimLease(ctx, "duplicates:contact", "elsewhere", now.Add(time.Hour), now)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.ScanDuplicates(ctx, o.Admin, crm.ObjContact, quality.DefaultMatchRules()); !crm.IsCode(err, crm.Conflict) {
			t.Fatalf("second scan: %v, want conflict", err)
		}
		if err := db.WriteTx(ctx, func(tx *store.Tx) error { return tx.ReleaseLease(ctx, "duplicates:contact", "elsewhere") }); err != nil {
			t.Fatal(err)
		}

		// Not a duplicate: dismissed, the pair leaves the list, and stays
		// dismissed when the next scan finds it again. Only someone who
		// may edit both records dismisses it.
		wantCode(t, o.Svc.DismissDuplicatePair(ctx, o.Rep3, crm.ObjContact, a1, a2), crm.NotFound)
		if err := o.Svc.DismissDuplicatePair(ctx, o.Rep1, crm.ObjContact, a2, a1); err != nil {
			t.Fatalf("dismiss: %v", err)
		}
		wantCode(t, o.Svc.DismissDuplicatePair(ctx, o.Rep1, crm.ObjContact, a1, a2), crm.NotFound)
		if got := pairsOf(o.Rep1); len(got) != 0 {
			t.Errorf("rep1 sees a dismissed pair: %+v", got)
		}
		if _, err := o.Svc.ScanDuplicates(ctx, o.Admin, crm.ObjContact, quality.DefaultMatchRules()); err != nil {
			t.Fatal(err)
		}
		if got := pairsOf(o.Admin); len(got) != 2 {
			t.Errorf("after a rescan the admin sees %d pairs, want the 2 not dismissed", len(got))
		}
	})
}
