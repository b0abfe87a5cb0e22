package service_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestImportMatchesForm imports contacts that make their customers along the
// way into one database and enters the same people through the forms
// (CreateCustomer, CreateContact) into another, both under one vault (so
// the blind indexes are keyed alike), and compares what each left: the
// records (opened), their owners and versions, their duplicate keys and
// search terms, their first versions (opened) and their audit events — the
// import's carrying the import's id as request id. Each contact is sealed
// under a person key of its own in both.
func TestImportMatchesForm(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			vault := testorg.NewVault(t)
			dbI, rawI := testdb.OpenRaw(t, d)
			dbF, rawF := testdb.OpenRaw(t, d)
			oi := testorg.NewWith(t, dbI, service.Options{Argon2: testorg.CheapArgon, Vault: vault})
			of := testorg.NewWith(t, dbF, service.Options{Argon2: testorg.CheapArgon, Vault: vault})

			type person struct{ ext, name, mobile, email, title, customer string }
			var people []person
			csv := "联系人编号,姓名,手机,邮箱,职位,客户\n"
			for i := range 450 { // more than two batches
				p := person{fmt.Sprintf("P%d", i), fmt.Sprintf("张 %s伟", string(rune('甲'+i%10))), fmt.Sprintf("139 %04d %04d", i/100, i),
					fmt.Sprintf("Zhang%d@Example.CN", i), []string{"经理", "", "总监"}[i%3], fmt.Sprintf("上海华信%d科技有限公司", i%37)}
				if i%5 == 0 {
					p.email = ""
				}
				people = append(people, p)
				csv += strings.Join([]string{p.ext, p.name, p.mobile, p.email, p.title, p.customer}, ",") + "\n"
			}

			pv := importFile(t, oi, oi.Rep1, crm.ObjContact, "c.csv", []byte(csv), crm.ImportOptions{CreateCustomers: true})
			im := commitImport(t, oi, oi.Rep1, pv.Import.ID)
			if im.Created != len(people) || im.Failed+im.Duplicates != 0 {
				t.Fatalf("import: %+v", im)
			}
			rows := rowsOf(t, oi, oi.Rep1, im.ID)

			customers := map[string]int64{}
			for _, p := range people {
				if _, ok := customers[p.customer]; !ok {
					c, err := of.Svc.CreateCustomer(ctx, of.Rep1, service.CustomerInput{CustomerFields: crm.CustomerFields{Name: p.customer}})
					if err != nil {
						t.Fatal(err)
					}
					customers[p.customer] = c.ID
				}
				if _, err := of.Svc.CreateContact(ctx, of.Rep1, crm.ContactFields{CustomerID: customers[p.customer], Name: p.name,
					Mobile: p.mobile, Email: p.email, Title: p.title}); err != nil {
					t.Fatal(err)
				}
			}

			// The same records in the same order: ids are given in order in both.
			for _, o := range []crm.Object{crm.ObjCustomer, crm.ObjContact} {
				ai, af := leftBy(t, ctx, oi, rawI, oi.Rep1, o), leftBy(t, ctx, of, rawF, of.Rep1, o)
				if len(ai) != len(af) || len(ai) == 0 {
					t.Fatalf("%s: %d imported, %d entered", o, len(ai), len(af))
				}
				if f := ai[0]; len(f.Keys) == 0 || len(f.Terms) == 0 || len(f.Versions) != 1 || len(f.Audit) != 1 {
					t.Fatalf("%s: nothing to compare: %+v", o, f)
				}
				for i := range ai {
					want := "import-" + fmt.Sprint(im.ID)
					if ai[i].requestIDs != want || af[i].requestIDs != "" {
						t.Errorf("%s %d: request ids %q and %q", o, i, ai[i].requestIDs, af[i].requestIDs)
					}
					ai[i].requestIDs, af[i].requestIDs = "", ""
					if !reflect.DeepEqual(ai[i], af[i]) {
						t.Fatalf("%s %d differs:\nimported %+v\nentered  %+v", o, i, ai[i], af[i])
					}
				}
			}
			if rows[2].Action != crm.RowCreate || rows[2].ExternalID != "P0" || rows[2].RecordID == 0 {
				t.Errorf("row 2: %+v", rows[2])
			}
			for _, raw := range []*sql.DB{rawI, rawF} {
				var keys, contacts int
				if err := raw.QueryRow("SELECT COUNT(DISTINCT person_key), COUNT(*) FROM contacts WHERE person_key <> ''").Scan(&keys, &contacts); err != nil || keys != len(people) || contacts != len(people) {
					t.Errorf("person keys: %d for %d contacts (%v)", keys, contacts, err)
				}
			}
		})
	}
}

// left is what creating one record left in the database, with what differs
// by nature (ids, times, ciphertext) left out or opened.
type left struct {
	Record     string
	Owner      int64
	Version    int64
	Keys       []string
	Terms      []string
	Versions   []string
	Audit      []string
	requestIDs string
}

func leftBy(t *testing.T, ctx context.Context, o *testorg.Org, raw *sql.DB, a *access.Actor, obj crm.Object) []left {
	t.Helper()
	spec, _ := crm.Spec(obj)
	rs, err := raw.Query("SELECT id, owner_id, version FROM " + spec.Table + " ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	var out []left
	var ids []int64
	for rs.Next() {
		var l left
		var id int64
		if err := rs.Scan(&id, &l.Owner, &l.Version); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		out = append(out, l)
	}
	rs.Close()
	strs := func(q string, args ...any) []string {
		rs, err := raw.Query(q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		var s []string
		for rs.Next() {
			var v string
			if err := rs.Scan(&v); err != nil {
				t.Fatal(err)
			}
			s = append(s, v)
		}
		return s
	}
	for i, id := range ids {
		l := &out[i]
		var rec any
		var customer int64
		switch obj {
		case crm.ObjContact:
			c, err := o.Svc.GetContact(ctx, a, id)
			if err != nil {
				t.Fatal(err)
			}
			customer = c.CustomerID
			c.Record, c.CustomerID = crm.Record{}, 0
			rec = c
		default:
			c, err := o.Svc.GetCustomer(ctx, a, id)
			if err != nil {
				t.Fatal(err)
			}
			c.Record = crm.Record{}
			rec = c
		}
		b, _ := json.Marshal(rec)
		l.Record = string(b)
		if customer != 0 { // the customer by its name: ids differ
			l.Record += " of " + strs(fmt.Sprintf("SELECT name FROM customers WHERE id = %d", customer))[0]
		}
		l.Keys = strs("SELECT kind || ':' || key FROM dedup_keys WHERE object = $1 AND record_id = $2 ORDER BY 1", string(obj), id)
		l.Terms = strs("SELECT term FROM search_terms WHERE object = $1 AND record_id = $2 ORDER BY 1", string(obj), id)
		vs, err := o.Svc.Versions(ctx, a, obj, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			l.Versions = append(l.Versions, fmt.Sprintf("%d %d %s", v.Version, v.ActorID, v.Fields))
		}
		l.Audit = strs(`SELECT action || ' ' || actor_id || ' ' || outcome || ' ' || COALESCE(fields, '') FROM audit_events
			WHERE object = $1 AND record_id = $2 AND action NOT LIKE '%.view' AND action NOT LIKE '%.versions' ORDER BY id`, string(obj), id)
		l.requestIDs = strings.Join(strs(`SELECT DISTINCT request_id FROM audit_events
			WHERE object = $1 AND record_id = $2 AND action NOT LIKE '%.view' AND action NOT LIKE '%.versions'`, string(obj), id), ",")
	}
	return out
}

// TestImportFailsUnforeseen: rows the preview foresaw failing run in
// savepoints of their own from the first try; a row that fails only at the
// commit (an administrator entered the same mobile since the preview) makes its
// batch run again row by row. Either way every other row is created once,
// and the failing ones leave nothing.
func TestImportFailsUnforeseen(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "深圳蓝海电子有限公司"})
		csv := "编号,姓名,手机,公司名称\n" +
			"E1,张伟,13900001111,深圳蓝海电子有限公司\n" +
			"E2,李娜,bad-phone,深圳蓝海电子有限公司\n" + // foreseen: invalid
			"E3,王芳,13900003333,深圳蓝海电子有限公司\n" + // unforeseen: entered after the preview
			"E4,赵磊,13900004444,深圳蓝海电子有限公司\n"
		p := importFile(t, o, o.Rep1, crm.ObjContact, "c.csv", []byte(csv), crm.ImportOptions{})
		if p.Import.Created != 3 || p.Import.Failed != 1 {
			t.Fatalf("preview: %+v", p.Import)
		}
		if _, err := o.Svc.CreateContact(ctx, o.Admin, crm.ContactFields{CustomerID: c.ID, Name: "王芳", Mobile: "13900003333"}); err != nil {
			t.Fatal(err)
		}
		im := commitImport(t, o, o.Rep1, p.Import.ID)
		if im.Created != 2 || im.Failed != 1 || im.Duplicates != 1 {
			t.Fatalf("commit: %+v", im)
		}
		rows := rowsOf(t, o, o.Rep1, im.ID)
		if rows[2].Action != crm.RowCreate || rows[3].Action != crm.RowFail || rows[4].Action != crm.RowDuplicate || rows[5].Action != crm.RowCreate {
			t.Fatalf("rows: %+v", rows)
		}
		page, err := o.Svc.ListContacts(ctx, o.Admin, crm.ListFilter{CustomerID: c.ID})
		if err != nil || page.Total != 3 {
			t.Fatalf("contacts of the customer: %d %v", page.Total, err)
		}
	})
}
