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

// TestCompanyPlaceDuplicates: the bracketed-place forms of a company are
// refused as duplicates of its prefix form; two places are two companies;
// a name without its place is let through with a possible-duplicate
// warning that links the other record only for who may see it.
func TestCompanyPlaceDuplicates(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		o.Customer(t, o.Rep1, crm.CustomerFields{Name: "中铭科技（北京）有限公司"})
		for _, name := range []string{"北京中铭科技有限公司", "中铭（北京）科技有限公司", "北京市中铭科技有限公司", "中铭科技(北京市海淀区)有限公司"} {
			_, err := o.Svc.CreateCustomer(ctx, o.Rep2, service.CustomerInput{CustomerFields: crm.CustomerFields{Name: name}})
			wantCode(t, err, crm.Duplicate)
			var ce *crm.Error
			if !errorsAs(err, &ce) || len(ce.Fields) != 1 || ce.Fields[0].Field != "name" || ce.Fields[0].Param != "User rep1" {
				t.Errorf("%s: refused with %+v; want the name, owned by User rep1", name, err)
			}
		}

		chengdu := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "成都华信物流有限公司"})
		if len(chengdu.Warnings) != 0 {
			t.Errorf("first company: warnings %+v", chengdu.Warnings)
		}
		shenzhen, err := o.Svc.CreateCustomer(ctx, o.Rep2, service.CustomerInput{CustomerFields: crm.CustomerFields{Name: "深圳华信物流有限公司"}})
		if err != nil || len(shenzhen.Warnings) != 0 {
			t.Fatalf("another place: %v, warnings %+v; want a new customer without warnings", err, shenzhen.Warnings)
		}
		// rep2 may not see rep1's 成都 record: only its owner is named.
		bare, err := o.Svc.CreateCustomer(ctx, o.Rep2, service.CustomerInput{CustomerFields: crm.CustomerFields{Name: "华信物流有限公司"}})
		if err != nil {
			t.Fatalf("a name without its place is refused: %v", err)
		}
		want := crm.Warning{Code: crm.WarnPossibleDuplicate, Field: "name", Owner: "User rep1",
			Message: "possibly the same company as a record owned by User rep1; review it"}
		if len(bare.Warnings) != 1 || bare.Warnings[0] != want {
			t.Errorf("warnings %+v; want %+v", bare.Warnings, want)
		}

		// rep1 sees their own record: the warning links it, both ways.
		plain := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "蓝海网络技术有限公司"})
		placed, err := o.Svc.CreateCustomer(ctx, o.Rep1, service.CustomerInput{CustomerFields: crm.CustomerFields{Name: "蓝海网络技术（上海）有限公司"}})
		if err != nil || len(placed.Warnings) != 1 || placed.Warnings[0].RecordID != plain.ID || placed.Warnings[0].Object != crm.ObjCustomer {
			t.Fatalf("placed name after a bare one: %v, warnings %+v; want a link to %d", err, placed.Warnings, plain.ID)
		}
		ws, err := o.Svc.CustomerWarnings(ctx, o.Rep1, placed.ID)
		if err != nil || len(ws) != 1 || ws[0].RecordID != plain.ID {
			t.Errorf("CustomerWarnings: %v %+v", err, ws)
		}
		_, err = o.Svc.CustomerWarnings(ctx, o.Rep2, placed.ID)
		wantCode(t, err, crm.NotFound)

		// An edit that keeps the name gives no warning; a rename does.
		up, err := o.Svc.UpdateCustomer(ctx, o.Rep1, placed.ID, crm.CustomerUpdate{Version: placed.Version, Level: ptr("A")})
		if err != nil || len(up.Warnings) != 0 {
			t.Errorf("edit keeping the name: %v, warnings %+v", err, up.Warnings)
		}
		other := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "恒瑞医药有限公司"})
		up, err = o.Svc.UpdateCustomer(ctx, o.Rep1, other.ID, crm.CustomerUpdate{Version: other.Version, Name: ptr("杭州蓝海网络技术有限公司")})
		if err != nil || len(up.Warnings) != 1 || up.Warnings[0].RecordID != plain.ID {
			t.Errorf("rename: %v, warnings %+v; want a link to %d", err, up.Warnings, plain.ID)
		}
	})
}

// TestCustomerStandardValues: industry, province and city typed freely are
// stored as their standard values when they match one, else as typed.
func TestCustomerStandardValues(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := testorg.New(t, db)
		tests := []struct {
			in, want crm.CustomerFields
		}{
			{crm.CustomerFields{Name: "甲", Industry: "互联网", Province: "beijing", City: "北京"},
				crm.CustomerFields{Industry: "信息传输、软件和信息技术服务业", Province: "北京市", City: "北京市"}},
			{crm.CustomerFields{Name: "乙", Industry: "IT", City: "深圳"},
				crm.CustomerFields{Industry: "信息传输、软件和信息技术服务业", Province: "广东省", City: "深圳市"}},
			{crm.CustomerFields{Name: "丙", Industry: "互联网金融", Province: "火星", City: "奥林匹斯"},
				crm.CustomerFields{Industry: "互联网金融", Province: "火星", City: "奥林匹斯"}},
			{crm.CustomerFields{Name: "丁", Industry: "物流", Province: "四川", City: "深圳"},
				crm.CustomerFields{Industry: "交通运输、仓储和邮政业", Province: "四川省", City: "深圳市"}},
		}
		for _, tt := range tests {
			c := o.Customer(t, o.Rep1, tt.in)
			if c.Industry != tt.want.Industry || c.Province != tt.want.Province || c.City != tt.want.City {
				t.Errorf("%s: stored %q %q %q; want %q %q %q", tt.in.Name, c.Industry, c.Province, c.City,
					tt.want.Industry, tt.want.Province, tt.want.City)
			}
		}
	})
}

// TestPersonNameSpaces: a Chinese name typed with spaces is stored without
// them, for contacts and leads, and found by a search with or without.
func TestPersonNameSpaces(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		ct, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "罗 建华"})
		if err != nil || ct.Name != "罗建华" {
			t.Fatalf("contact: %v %q", err, ct.Name)
		}
		l, err := o.Svc.CreateLead(ctx, o.Rep1, crm.LeadFields{Name: "罗　建国", Company: "中铭 科技"})
		if err != nil || l.Name != "罗建国" || l.Company != "中铭 科技" {
			t.Fatalf("lead: %v %q %q", err, l.Name, l.Company)
		}
		en, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "John Smith"})
		if err != nil || en.Name != "John Smith" {
			t.Fatalf("English name: %v %q", err, en.Name)
		}
		for _, q := range []string{"罗建华", "罗 建华"} {
			res, err := o.Svc.Search(ctx, o.Rep1, q, 10)
			if err != nil || len(res.Contacts) != 1 || res.Contacts[0].ID != ct.ID {
				t.Errorf("search %q: %v %+v", q, err, res.Contacts)
			}
		}
		res, err := o.Svc.Search(ctx, o.Rep1, "罗建国", 10)
		if err != nil || len(res.Leads) != 1 {
			t.Errorf("lead search: %v %+v", err, res.Leads)
		}
		// The lead's name and company are indexed apart: 国中 spans them.
		if res, err := o.Svc.Search(ctx, o.Rep1, "国中", 10); err != nil || len(res.Leads) != 0 {
			t.Errorf("search across name and company: %v %+v", err, res.Leads)
		}
	})
}

// TestRenormalise: records indexed under the old rules — a bracketed company
// name keyed without its place, a name with spaces indexed without the
// bigrams across them — are re-indexed by the start-up upgrade, once.
func TestRenormalise(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		ctx := context.Background()
		raw := testdb.Raw(t, d, opt)
		o := testorg.New(t, db)
		if _, err := o.Svc.Renormalise(ctx); err != nil { // the organisation's own records
			t.Fatal(err)
		}
		// "中铭科技北京" is the key the old rules gave 中铭科技（北京）有限公司.
		old := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "中铭科技北京有限公司"})
		spaced := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "星河 物流有限公司"})
		for _, q := range []string{
			"UPDATE customers SET name = '中铭科技（北京）有限公司' WHERE id = " + itoa(old.ID),
			"DELETE FROM search_terms WHERE object = 'customer' AND record_id = " + itoa(spaced.ID),
			"DELETE FROM settings WHERE name = 'normaliser_version'",
		} {
			if _, err := raw.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		c, err := o.Svc.CreateCustomer(ctx, o.Rep2, service.CustomerInput{CustomerFields: crm.CustomerFields{Name: "北京中铭科技（海淀）有限公司"}})
		if err != nil {
			t.Fatalf("before the upgrade the old key hides the duplicate, got %v", err)
		}
		if err := o.Svc.DeleteCustomer(ctx, o.Rep2, c.ID); err != nil {
			t.Fatal(err)
		}
		n, err := o.Svc.Renormalise(ctx)
		if err != nil || n < 2 {
			t.Fatalf("renormalise: %d, %v", n, err)
		}
		_, err = o.Svc.CreateCustomer(ctx, o.Rep2, service.CustomerInput{CustomerFields: crm.CustomerFields{Name: "北京中铭科技有限公司"}})
		wantCode(t, err, crm.Duplicate)
		page, err := o.Svc.ListCustomers(ctx, o.Rep1, crm.CustomerFilter{Query: "星河物流"})
		if err != nil || page.Total != 1 || page.Items[0].ID != spaced.ID {
			t.Errorf("search after the upgrade: %v %+v", err, page.Items)
		}
		if n, err := o.Svc.Renormalise(ctx); n != 0 || err != nil {
			t.Errorf("second run: %d %v; want nothing to do", n, err)
		}
	})
}

// TestImportCompanyPlaces: the importer shares the entry's company keys: a
// bracketed place is a duplicate, another place is another company (also
// when a contact names its customer), and a core alone refuses nothing.
func TestImportCompanyPlaces(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := testorg.New(t, db)
		o.Customer(t, o.Rep1, crm.CustomerFields{Name: "成都华信物流有限公司"})
		o.Customer(t, o.Rep1, crm.CustomerFields{Name: "中铭科技（北京）有限公司"})
		csv := "客户名称\n深圳华信物流有限公司\n北京中铭科技有限公司\n华信物流（深圳）有限公司\n"
		p := importFile(t, o, o.Rep2, crm.ObjCustomer, "customers.csv", []byte(csv), crm.ImportOptions{})
		rows := rowsOf(t, o, o.Rep2, p.Import.ID)
		if rows[2].Planned != crm.RowCreate || rows[3].Planned != crm.RowDuplicate || rows[4].Planned != crm.RowDuplicate ||
			rows[4].DuplicateOf != "row 2" {
			t.Errorf("planned %+v / %+v / %+v; want create, duplicate of rep1's, duplicate of row 2", rows[2], rows[3], rows[4])
		}
		// A name without its place only warns: planned, with a reason to
		// review naming the owner (and the record, which rep1 may see).
		p = importFile(t, o, o.Rep1, crm.ObjCustomer, "core.csv", []byte("客户名称\n华信物流有限公司\n"), crm.ImportOptions{})
		if rows := rowsOf(t, o, o.Rep1, p.Import.ID); rows[2].Planned != crm.RowCreate || !strings.Contains(rows[2].Reason, "rep1") || rows[2].DuplicateOf == "" {
			t.Errorf("possible duplicate in the preview: %+v", rows[2])
		}
		im := commitImport(t, o, o.Rep1, p.Import.ID)
		if rows := rowsOf(t, o, o.Rep1, im.ID); im.Created != 1 || rows[2].Action != crm.RowCreate || !strings.Contains(rows[2].Reason, "rep1") {
			t.Errorf("possible duplicate in the commit: %+v %+v", im, rows[2])
		}
		// 深圳华信物流 does not exist: the contact is not hung on 成都华信物流.
		p = importFile(t, o, o.Rep1, crm.ObjContact, "contacts.csv", []byte("姓名,公司名称\n张伟,深圳华信物流有限公司\n"), crm.ImportOptions{})
		if rows := rowsOf(t, o, o.Rep1, p.Import.ID); rows[2].Planned != crm.RowFail {
			t.Errorf("contact of another place's company: %+v; want unknown customer", rows[2])
		}
	})
}
