package service_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"custos/internal/crm"
	"custos/internal/quality"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testorg"
)

// The Febrl data sets (see shared/data/febrl/PROVENANCE.txt) measure the
// duplicate finder: each set is loaded as contacts of the organisation —
// name = given name and surname, the other columns custom fields (date of
// birth and social security id sensitive) — with rec_id as external id, and
// the pairs of a scan are held against the truth (rec-N-… records sharing N).

// febrlDir finds shared/data/febrl beside the repository (CI lays shared/
// beside its clone; a worktree has it further up).
func febrlDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", "data", "febrl")
		if _, err := os.Stat(filepath.Join(p, "dataset1.csv")); err == nil {
			return p
		}
		if filepath.Dir(d) == d {
			t.Fatalf("shared/data/febrl not found above %s", dir)
		}
	}
}

// febrlFields are the custom fields the columns other than the name become.
var febrlFields = []crm.CustomField{
	{Key: "street_number", Label: "门牌号", LabelEn: "Street number", Type: "text"},
	{Key: "address_1", Label: "地址1", LabelEn: "Address 1", Type: "text"},
	{Key: "address_2", Label: "地址2", LabelEn: "Address 2", Type: "text"},
	{Key: "suburb", Label: "区", LabelEn: "Suburb", Type: "text"},
	{Key: "postcode", Label: "邮编", LabelEn: "Postcode", Type: "text"},
	{Key: "state", Label: "州", LabelEn: "State", Type: "text"},
	{Key: "date_of_birth", Label: "出生日期", LabelEn: "Date of birth", Type: "date", Sensitive: true},
	{Key: "soc_sec_id", Label: "社保号", LabelEn: "Social security id", Type: "text", Sensitive: true},
}

// febrlSet is a loaded set: the external id of each record and how many
// true pairs it holds.
type febrlSet struct {
	cross bool // Febrl 4: only rec-N-org ↔ rec-N-dup-0 across the two files count
	truth int
	// dobDropped counts dates of birth that are not calendar dates: the
	// date field refuses them, so they are loaded without one.
	dobDropped int
	// nameless counts rows with neither given name nor surname: a contact
	// needs a name, so (as the importer fails such a row) they are not
	// loaded, and the truth counts only the records loaded.
	nameless int
}

// loadFebrl loads files as contacts through the service (custom field
// definitions too), and records each rec_id in external_ids under an
// import row, as the importer will.
func loadFebrl(t testing.TB, o *testorg.Org, files ...string) febrlSet {
	t.Helper()
	ctx := context.Background()
	for _, f := range febrlFields {
		f.Object, f.Active = crm.ObjContact, true
		if _, err := o.Svc.SaveCustomField(ctx, o.Admin, f); err != nil {
			t.Fatalf("custom field %s: %v", f.Key, err)
		}
	}
	im := crm.Import{Object: crm.ObjContact, Source: "febrl", FileName: strings.Join(files, "+"), FileHash: "-", DataKey: "-",
		Status: crm.ImportDone, CreatedBy: o.Admin.UserID, CreatedAt: o.Now()}
	if err := o.DB.WriteTx(ctx, func(tx *store.Tx) error { return tx.InsertImport(ctx, &im) }); err != nil {
		t.Fatal(err)
	}
	set := febrlSet{cross: len(files) == 2}
	entities := map[string]int{}
	type ext struct {
		id  string
		rec int64
	}
	var exts []ext
	for _, file := range files {
		fh, err := os.Open(filepath.Join(febrlDir(t), file))
		if err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(fh)
		r.TrimLeadingSpace = true
		rows, err := r.ReadAll()
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		head := rows[0]
		for _, row := range rows[1:] {
			v := map[string]string{}
			for i, c := range head {
				v[strings.TrimSpace(c)] = strings.TrimSpace(row[i])
			}
			custom := map[string]any{}
			for _, f := range febrlFields {
				val := v[f.Key]
				if f.Key == "date_of_birth" && len(val) == 8 {
					val = val[:4] + "-" + val[4:6] + "-" + val[6:]
					if crm.CheckDate(val) != "" {
						set.dobDropped++
						val = ""
					}
				}
				if val != "" {
					custom[f.Key] = val
				}
			}
			name := strings.TrimSpace(v["given_name"] + " " + v["surname"])
			if name == "" {
				set.nameless++
				continue
			}
			c, err := o.Svc.CreateContact(ctx, o.Admin, crm.ContactFields{Name: name, Custom: custom})
			if err != nil {
				t.Fatalf("%s %s: %v", file, v["rec_id"], err)
			}
			exts = append(exts, ext{v["rec_id"], c.ID})
			entities[febrlEntity(v["rec_id"])]++
		}
	}
	err := o.DB.WriteTx(ctx, func(tx *store.Tx) error {
		for _, e := range exts {
			if err := tx.PutExternalID(ctx, crm.ObjContact, "febrl", e.id, e.rec, im.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if set.cross {
		for _, n := range entities {
			if n > 1 {
				set.truth++
			}
		}
	} else {
		for _, n := range entities {
			set.truth += n * (n - 1) / 2
		}
	}
	return set
}

// febrlEntity is the N of rec-N-org and rec-N-dup-K.
func febrlEntity(recID string) string {
	parts := strings.Split(recID, "-")
	if len(parts) < 3 {
		return ""
	}
	return parts[1]
}

// febrlTrue reports whether two rec_ids are a true pair of the set.
func (s febrlSet) isTrue(x, y string) bool {
	if febrlEntity(x) != febrlEntity(y) {
		return false
	}
	if !s.cross {
		return true
	}
	org := func(id string) bool { return strings.HasSuffix(id, "-org") }
	dup0 := func(id string) bool { return strings.HasSuffix(id, "-dup-0") }
	return org(x) && dup0(y) || org(y) && dup0(x)
}

// febrlScore is a scan's accuracy against the truth.
type febrlScore struct {
	scan                  crm.DupScan
	tp, fp, truth         int
	precision, recall, f1 float64
}

func (s febrlScore) String() string {
	return fmt.Sprintf("records %d, candidates %d, pairs %d (tp %d, fp %d, truth %d): precision %.4f recall %.4f F1 %.4f",
		s.scan.Records, s.scan.Candidates, s.scan.Pairs, s.tp, s.fp, s.truth, s.precision, s.recall, s.f1)
}

// scanFebrl runs a scan at the default rules and scores every reported
// pair (read back through DuplicatePairs, as the CLI does).
func scanFebrl(t testing.TB, o *testorg.Org, set febrlSet) febrlScore {
	t.Helper()
	ctx := context.Background()
	scan, err := o.Svc.ScanDuplicates(ctx, o.Admin, crm.ObjContact, quality.DefaultMatchRules())
	if err != nil {
		t.Fatal(err)
	}
	res := febrlScore{scan: scan, truth: set.truth}
	f := service.DuplicateFilter{MinScore: quality.DefaultMatchThreshold, Limit: 1000}
	for {
		page, err := o.Svc.DuplicatePairs(ctx, o.Admin, crm.ObjContact, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Pairs {
			if set.isTrue(p.ExternalA, p.ExternalB) {
				res.tp++
			} else {
				res.fp++
			}
		}
		if len(page.Pairs) < f.Limit {
			break
		}
		last := page.Pairs[len(page.Pairs)-1].DupPair
		f.After = &last
	}
	if res.tp+res.fp > 0 {
		res.precision = float64(res.tp) / float64(res.tp+res.fp)
	}
	res.recall = float64(res.tp) / float64(res.truth)
	if res.precision+res.recall > 0 {
		res.f1 = 2 * res.precision * res.recall / (res.precision + res.recall)
	}
	return res
}
