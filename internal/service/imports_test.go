package service_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// importFile previews a file as a and returns the preview.
func importFile(t *testing.T, o *testorg.Org, a *access.Actor, object crm.Object, name string, data []byte, opts crm.ImportOptions) service.ImportPreview {
	t.Helper()
	p, err := o.Svc.PreviewImport(context.Background(), a, service.ImportRequest{Object: object, FileName: name,
		File: bytes.NewReader(data), Size: int64(len(data)), Options: opts})
	if err != nil {
		t.Fatalf("preview %s: %v", name, err)
	}
	return p
}

// commitImport commits a previewed import and runs the job to its end.
func commitImport(t *testing.T, o *testorg.Org, a *access.Actor, id int64) crm.Import {
	t.Helper()
	ctx := context.Background()
	if _, err := o.Svc.CommitImport(ctx, a, id); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if err := o.Svc.RunImport(ctx, id, "test", nil); err != nil {
		t.Fatalf("run: %v", err)
	}
	im, err := o.Svc.GetImport(ctx, a, id)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

func rowsOf(t *testing.T, o *testorg.Org, a *access.Actor, id int64) map[int]crm.ImportRow {
	t.Helper()
	rows, err := o.Svc.ImportRows(context.Background(), a, id, 0, 1000, false)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]crm.ImportRow{}
	for _, r := range rows {
		out[r.Line] = r
	}
	return out
}

func TestImportContacts(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c1 := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "深圳蓝海电子有限公司"})
		// rep3's contact: outside rep1's scope, named only by its owner.
		c3 := o.Customer(t, o.Rep3, crm.CustomerFields{Name: "成都华信物流有限公司"})
		if _, err := o.Svc.CreateContact(ctx, o.Rep3, crm.ContactFields{CustomerID: c3.ID, Name: "王芳", Mobile: "13900002222"}); err != nil {
			t.Fatal(err)
		}
		csv := "编号,姓名,手机,邮箱,公司名称,职位\n" +
			"E1,张伟,139 0000 1111,Zhang.Wei@LanHai.cn,深圳蓝海电子有限公司,经理\n" + // line 2: created
			"E2,李娜,bad-phone,,深圳蓝海电子有限公司,\n" + // line 3: invalid phone
			"E3,王芳二,+86 139-0000-2222,,深圳蓝海电子有限公司,\n" + // line 4: duplicate of rep3's contact
			"E4,张伟同名,13900001111,,深圳蓝海电子有限公司,\n" + // line 5: duplicate of line 2 within the file
			"E5,赵磊,,,不存在的公司,\n" // line 6: unknown customer
		p := importFile(t, o, o.Rep1, crm.ObjContact, "contacts.csv", []byte(csv), crm.ImportOptions{})
		want := map[string]string{"编号": "external_id", "姓名": "name", "手机": "mobile", "邮箱": "email", "公司名称": "customer", "职位": "title"}
		for h, target := range want {
			if p.Suggested[h] != target {
				t.Errorf("suggested %s → %q, want %q (all: %v)", h, p.Suggested[h], target, p.Suggested)
			}
		}
		if p.Import.Total != 5 || p.Import.Created != 1 || p.Import.Failed != 2 || p.Import.Duplicates != 2 {
			t.Fatalf("preview counts: %+v", p.Import)
		}
		rows := rowsOf(t, o, o.Rep1, p.Import.ID)
		if rows[2].Planned != crm.RowCreate || rows[3].Planned != crm.RowFail || !strings.Contains(rows[3].Reason, "手机") {
			t.Errorf("rows 2-3: %+v %+v", rows[2], rows[3])
		}
		if rows[4].Planned != crm.RowDuplicate || rows[4].DuplicateOf != "" || !strings.Contains(rows[4].Reason, "rep3") {
			t.Errorf("row 4 (someone else's): %+v", rows[4])
		}
		if rows[5].Planned != crm.RowDuplicate || rows[5].DuplicateOf != "E1" {
			t.Errorf("row 5 (within the file): %+v", rows[5])
		}
		if rows[6].Planned != crm.RowFail {
			t.Errorf("row 6 (unknown customer): %+v", rows[6])
		}
		// Nothing was written by the preview.
		if page, _ := o.Svc.ListContacts(ctx, o.Rep1, crm.ListFilter{CustomerID: c1.ID}); page.Total != 0 {
			t.Fatalf("preview wrote %d contacts", page.Total)
		}
		// The error report keeps the original cells, for problem rows only.
		problems, err := o.Svc.ImportRows(ctx, o.Rep1, p.Import.ID, 0, 100, true)
		if err != nil || len(problems) != 4 || problems[0].Raw[1] != "李娜" {
			t.Fatalf("problem rows: %+v %v", problems, err)
		}
		// Another rep cannot see or commit it.
		if _, err := o.Svc.CommitImport(ctx, o.Rep2, p.Import.ID); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("rep2 commits rep1's import: %v", err)
		}

		im := commitImport(t, o, o.Rep1, p.Import.ID)
		if im.Status != crm.ImportDone || im.Created != 1 || im.Failed != 2 || im.Duplicates != 2 || im.DoneRows != 5 {
			t.Fatalf("committed: %+v", im)
		}
		rows = rowsOf(t, o, o.Rep1, im.ID)
		ct, err := o.Svc.GetContact(ctx, o.Rep1, rows[2].RecordID)
		if err != nil || ct.Mobile != "+8613900001111" || ct.Email != "zhang.wei@lanhai.cn" || ct.CustomerID != c1.ID || ct.OwnerID != o.Rep1.UserID {
			t.Fatalf("imported contact: %+v %v", ct, err)
		}
		if rows[5].Action != crm.RowDuplicate || rows[5].DuplicateOf != "E1" {
			t.Errorf("row 5 at commit: %+v", rows[5])
		}

		// A second round from the same source updates what the first made.
		round2 := "编号,姓名,职位\nE1,张伟,总监\nE6,钱七,\n"
		p2 := importFile(t, o, o.Rep1, crm.ObjContact, "round2.csv", []byte(round2), crm.ImportOptions{})
		if p2.Import.Updated != 1 || p2.Import.Created != 1 {
			t.Fatalf("round 2 plan: %+v", p2.Import)
		}
		commitImport(t, o, o.Rep1, p2.Import.ID)
		ct, _ = o.Svc.GetContact(ctx, o.Rep1, ct.ID)
		if ct.Title != "总监" || ct.Mobile != "+8613900001111" || ct.Version != 2 {
			t.Fatalf("updated by round 2: %+v", ct)
		}

		// Undo of the first round: the contact was edited since, so it is
		// kept unless confirmed.
		u, err := o.Svc.UndoImport(ctx, o.Rep1, im.ID, false)
		if err != nil || u.Deleted != 0 || len(u.Changed) != 1 {
			t.Fatalf("undo: %+v %v", u, err)
		}
		if _, err := o.Svc.UndoImport(ctx, o.Rep1, im.ID, true); !crm.IsCode(err, crm.Conflict) {
			t.Fatalf("undo twice: %v", err)
		}
	})
}

func TestImportGBKCustomersUndo(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		text := "客户名称,级别,行业,负责人\n北京中铭科技有限公司,重要,软件,rep2\n上海新客户有限公司,B 类,制造,rep1\n"
		gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		opts := crm.ImportOptions{OwnerRule: crm.OwnerColumn, Values: map[string]map[string]string{"level": {"重要": "A"}}}
		p := importFile(t, o, o.MgrEast, crm.ObjCustomer, "客户.csv", gbk, opts)
		if p.File.Encoding != "gb18030" || p.Import.Created != 2 {
			t.Fatalf("GBK preview: %+v %+v", p.File, p.Import)
		}
		im := commitImport(t, o, o.MgrEast, p.Import.ID)
		rows := rowsOf(t, o, o.MgrEast, im.ID)
		c, err := o.Svc.GetCustomer(ctx, o.MgrEast, rows[2].RecordID)
		if err != nil || c.Name != "北京中铭科技有限公司" || c.Level != "A" || c.OwnerID != o.Rep2.UserID || c.Status != "prospect" {
			t.Fatalf("imported customer: %+v %v", c, err)
		}
		c2, _ := o.Svc.GetCustomer(ctx, o.MgrEast, rows[3].RecordID)
		if c2.Level != "B" || c2.OwnerID != o.Rep1.UserID {
			t.Fatalf("label B 类 and owner rep1: %+v", c2)
		}
		// A rep may not give records to someone outside their scope.
		p3 := importFile(t, o, o.Rep1, crm.ObjCustomer, "x.csv", []byte("名称,负责人\n某公司,rep3\n"), crm.ImportOptions{OwnerRule: crm.OwnerColumn})
		if p3.Import.Failed != 1 {
			t.Fatalf("owner outside scope: %+v", p3.Import)
		}

		u, err := o.Svc.UndoImport(ctx, o.MgrEast, im.ID, false)
		if err != nil || u.Deleted != 2 {
			t.Fatalf("undo: %+v %v", u, err)
		}
		if _, err := o.Svc.GetCustomer(ctx, o.MgrEast, c.ID); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("undone customer still live: %v", err)
		}
		bin, err := o.Svc.ListRecycledCustomers(ctx, o.MgrEast, crm.CustomerFilter{})
		if err != nil || bin.Total != 2 {
			t.Fatalf("recycle bin: %d %v", bin.Total, err)
		}
		if im, _ := o.Svc.GetImport(ctx, o.MgrEast, im.ID); im.Status != crm.ImportUndone {
			t.Fatalf("status after undo: %s", im.Status)
		}
	})
}

func TestImportBadFiles(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		for _, tc := range []struct {
			name, data, field string
		}{
			{"empty", "", "file"},
			{"header only", "名称,级别\n", "file"},
			{"binary", "\x00\x01\x02PK garbage\x00\xff\xfe", "file"},
		} {
			_, err := o.Svc.PreviewImport(ctx, o.Rep1, service.ImportRequest{Object: crm.ObjCustomer, FileName: tc.name + ".csv",
				File: strings.NewReader(tc.data), Size: int64(len(tc.data))})
			var ce *crm.Error
			if !errorsAs(err, &ce) || ce.Code != crm.Invalid || len(ce.Fields) == 0 || ce.Fields[0].Field != tc.field {
				t.Errorf("%s: %v", tc.name, err)
			}
		}
		// A mapping to a field that does not exist names its column.
		data := "名称\n某公司\n"
		_, err := o.Svc.PreviewImport(ctx, o.Rep1, service.ImportRequest{Object: crm.ObjCustomer, FileName: "m.csv",
			File: strings.NewReader(data), Size: int64(len(data)), Options: crm.ImportOptions{Mapping: map[string]string{"名称": "nope"}}})
		var ce *crm.Error
		if !errorsAs(err, &ce) || ce.Fields[0].Field != "mapping.名称" {
			t.Fatalf("bad mapping: %v", err)
		}
		// Follow-ups are not importable yet: a clear refusal, not a crash.
		if _, err := o.Svc.PreviewImport(ctx, o.Rep1, service.ImportRequest{Object: crm.ObjTask, FileName: "t.csv",
			File: strings.NewReader(data), Size: int64(len(data))}); !crm.IsCode(err, crm.Invalid) {
			t.Fatalf("tasks: %v", err)
		}
		// Formula-leading values are stored as typed.
		formula := "名称,网站\n\"=HYPERLINK(\"\"x\"\") 公司\",\n"
		p := importFile(t, o, o.Rep1, crm.ObjCustomer, "f.csv", []byte(formula), crm.ImportOptions{})
		im := commitImport(t, o, o.Rep1, p.Import.ID)
		rows := rowsOf(t, o, o.Rep1, im.ID)
		c, err := o.Svc.GetCustomer(ctx, o.Rep1, rows[2].RecordID)
		if err != nil || c.Name != "=HYPERLINK(\"x\") 公司" {
			t.Fatalf("formula value: %+v %v", c, err)
		}
	})
}

// TestImportResumes: a runner that dies after its first batch leaves the
// import running under its lease; once the lease runs out another runner
// goes on from the next row, and no row is written twice.
func TestImportResumes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testorg.NewClock()
		o := testorg.NewWithClock(t, db, clock)
		var b strings.Builder
		b.WriteString("编号,名称\n")
		const n = 450
		for i := range n {
			fmt.Fprintf(&b, "C%d,测试客户%d有限公司\n", i, i)
		}
		p := importFile(t, o, o.Rep1, crm.ObjCustomer, "big.csv", []byte(b.String()), crm.ImportOptions{})
		if _, err := o.Svc.CommitImport(ctx, o.Rep1, p.Import.ID); err != nil {
			t.Fatal(err)
		}
		dying, die := context.WithCancel(ctx)
		err := o.Svc.RunImport(dying, p.Import.ID, "first", func(crm.Import) { die() })
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("first runner: %v", err)
		}
		im, _ := o.Svc.GetImport(ctx, o.Rep1, p.Import.ID)
		if im.Status != crm.ImportRunning || im.DoneRows != 200 || im.Created != 200 {
			t.Fatalf("after the first batch: %+v", im)
		}
		// The first runner's lease still holds: another does nothing.
		if err := o.Svc.RunQueuedImports(ctx, "second", nil); err != nil {
			t.Fatal(err)
		}
		if im, _ = o.Svc.GetImport(ctx, o.Rep1, p.Import.ID); im.DoneRows != 200 {
			t.Fatalf("second runner ran under a live lease: %+v", im)
		}
		clock.Advance(2 * time.Minute)
		if err := o.Svc.RunQueuedImports(ctx, "second", nil); err != nil {
			t.Fatal(err)
		}
		im, _ = o.Svc.GetImport(ctx, o.Rep1, p.Import.ID)
		if im.Status != crm.ImportDone || im.DoneRows != n || im.Created != n || im.Duplicates != 0 {
			t.Fatalf("resumed: %+v", im)
		}
		page, err := o.Svc.ListCustomers(ctx, o.Rep1, crm.CustomerFilter{})
		if err != nil || page.Total != n {
			t.Fatalf("customers: %d %v", page.Total, err)
		}
		// After ImportKeepDays the import's key and what it sealed go.
		if k, err := o.Svc.ForgetOldImports(ctx); err != nil || k != 0 {
			t.Fatalf("forgot a fresh import: %d %v", k, err)
		}
		clock.Advance((service.ImportKeepDays + 1) * 24 * time.Hour)
		if k, err := o.Svc.ForgetOldImports(ctx); err != nil || k != 1 {
			t.Fatalf("forget: %d %v", k, err)
		}
		ring, err := o.Vault.DataKeys(ctx, []string{im.DataKey})
		if err != nil || !ring.Erased(im.DataKey) {
			t.Fatalf("the import's key survived: %v", err)
		}
		if rows, err := o.Svc.ImportRows(ctx, o.Rep1, im.ID, 0, 10, true); err != nil || len(rows) != 0 {
			t.Fatalf("rows after forgetting: %v %v", rows, err)
		}
		// A failed import nobody resumes is forgotten as well.
		p2 := importFile(t, o, o.Rep1, crm.ObjCustomer, "left.csv", []byte("名称\n搁置公司\n"), crm.ImportOptions{})
		if _, err := o.Svc.CommitImport(ctx, o.Rep1, p2.Import.ID); err != nil {
			t.Fatal(err)
		}
		err = db.WriteTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.MoveImport(ctx, p2.Import.ID, crm.ImportRunning, o.Now(), crm.ImportQueued); err != nil {
				return err
			}
			return tx.FailImport(ctx, p2.Import.ID, "stopped", o.Now())
		})
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance((service.ImportKeepDays + 1) * 24 * time.Hour)
		if k, err := o.Svc.ForgetOldImports(ctx); err != nil || k != 1 {
			t.Fatalf("forget the failed import: %d %v", k, err)
		}
	})
}

// TestImportLinksByExternalID migrates customers, their contacts and
// their follow-up history in rounds: later files link to earlier ones by
// external id, and a history row imported before is skipped.
func TestImportLinksByExternalID(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		run := func(object crm.Object, csv string) crm.Import {
			t.Helper()
			p := importFile(t, o, o.Rep1, object, string(object)+".csv", []byte(csv), crm.ImportOptions{})
			return commitImport(t, o, o.Rep1, p.Import.ID)
		}
		if im := run(crm.ObjCustomer, "客户编号,客户名称\nK1,杭州甲公司\nK2,杭州乙公司\n"); im.Created != 2 {
			t.Fatalf("customers: %+v", im)
		}
		// The customer's external id is "客户编号" in both files.
		if im := run(crm.ObjContact, "编号,姓名,客户编号\nP1,孙一,K2\n"); im.Created != 1 {
			t.Fatalf("contacts: %+v", im)
		}
		history := "编号,联系人编号,跟进方式,内容,跟进时间,下次跟进时间\nF1,P1,电话,聊了报价,2026-11-02 10:30,2026-12-20\n"
		if im := run(crm.ObjFollowUp, history); im.Created != 1 {
			rows := rowsOf(t, o, o.Rep1, im.ID)
			t.Fatalf("follow-ups: %+v %+v", im, rows)
		}
		second := run(crm.ObjFollowUp, history)
		if second.Skipped != 1 || second.Created != 0 {
			t.Fatalf("history imported twice: %+v", second)
		}
		page, err := o.Svc.ListCustomers(ctx, o.Rep1, crm.CustomerFilter{Query: "杭州乙公司"})
		if err != nil || page.Total != 1 {
			t.Fatalf("customer: %+v %v", page, err)
		}
		c := page.Items[0]
		if c.LastFollowedUpAt == nil || c.NextFollowUpAt == nil || c.NextFollowUpAt.Format("2006-01-02") != "2026-12-19" && c.NextFollowUpAt.Format("2006-01-02") != "2026-12-20" {
			t.Fatalf("follow-up dates on the customer: %+v", c)
		}
		fus, err := o.Svc.ListFollowUps(ctx, o.Rep1, c.ID)
		if err != nil || len(fus) != 1 || fus[0].Content != "聊了报价" || fus[0].Kind != "call" {
			t.Fatalf("follow-ups: %+v %v", fus, err)
		}
		// Undoing the history's import takes the follow-up to the recycle bin.
		var first int64
		if all, _ := o.Svc.ListImports(ctx, o.Rep1, 10); len(all) >= 2 {
			first = all[1].ID // newest first: the second round, then the first
		}
		u, err := o.Svc.UndoImport(ctx, o.Rep1, first, false)
		if err != nil || u.Deleted != 1 {
			t.Fatalf("undo of the history: %+v %v", u, err)
		}
		if fus, _ := o.Svc.ListFollowUps(ctx, o.Rep1, c.ID); len(fus) != 0 {
			t.Fatalf("follow-ups after undo: %+v", fus)
		}
	})
}

// TestImportTemplateMapsBack: every object's template, in both languages,
// maps back column by column through the suggested mapping.
func TestImportTemplateMapsBack(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		for _, obj := range service.ImportObjects() {
			for _, lang := range []string{"zh-CN", "en"} {
				header, err := o.Svc.ImportTemplate(ctx, o.Admin, obj, lang)
				if err != nil {
					t.Fatal(err)
				}
				m := service.SuggestMapping(obj, header, nil)
				for _, h := range header {
					if m[h] == "" {
						t.Errorf("%s %s: column %q maps to nothing (%v)", obj, lang, h, header)
					}
				}
			}
		}
	})
}

// TestImportNeedsApproval: above the bulk-import policy's threshold a
// commit waits for a second person, then runs.
func TestImportNeedsApproval(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := approvalOrg(t, db)
		setPolicy(t, o, crm.ApprovalPolicy{Kind: crm.ApproveBulkImport, Threshold: 1, Steps: []crm.ApprovalStep{{Type: "manager"}}})
		p := importFile(t, o, o.Rep1, crm.ObjCustomer, "two.csv", []byte("名称\n甲审批公司\n乙审批公司\n"), crm.ImportOptions{})
		_, err := o.Svc.CommitImport(ctx, o.Rep1, p.Import.ID)
		req := pendingID(t, err)
		if im, _ := o.Svc.GetImport(ctx, o.Rep1, p.Import.ID); im.Status != crm.ImportAwaitingApproval {
			t.Fatalf("status while waiting: %s", im.Status)
		}
		if _, err := o.Svc.CommitImport(ctx, o.Rep1, p.Import.ID); !crm.IsCode(err, crm.Conflict) {
			t.Fatalf("second commit while waiting: %v", err)
		}
		if _, err := decide(t, o, o.MgrEast, req, true); err != nil {
			t.Fatal(err)
		}
		if err := o.Svc.RunQueuedImports(ctx, "test", nil); err != nil {
			t.Fatal(err)
		}
		if im, _ := o.Svc.GetImport(ctx, o.Rep1, p.Import.ID); im.Status != crm.ImportDone || im.Created != 2 {
			t.Fatalf("after approval: %+v", im)
		}
	})
}

// TestImportJoinsNameColumns: a name split over two columns (姓, 名 or given
// name and surname) is joined; a Chinese one without the space.
func TestImportJoinsNameColumns(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		csv := "姓,名,手机\n张,伟,13911112222\ngiven,surname,\n"
		opts := crm.ImportOptions{Mapping: map[string]string{"姓": "name", "名": "name", "手机": "mobile"}}
		p := importFile(t, o, o.Rep1, crm.ObjLead, "names.csv", []byte(csv), opts)
		im := commitImport(t, o, o.Rep1, p.Import.ID)
		rows := rowsOf(t, o, o.Rep1, im.ID)
		for line, want := range map[int]string{2: "张伟", 3: "given surname"} {
			l, err := o.Svc.GetLead(ctx, o.Rep1, rows[line].RecordID)
			if err != nil || l.Name != want {
				t.Errorf("row %d: %q %v, want %q", line, l.Name, err, want)
			}
		}
		// A choice cannot take two columns.
		_, err := o.Svc.PreviewImport(ctx, o.Rep1, service.ImportRequest{Object: crm.ObjCustomer, FileName: "x.csv",
			File: strings.NewReader("a,b\nA,B\n"), Size: 8, Options: crm.ImportOptions{Mapping: map[string]string{"a": "level", "b": "level"}}})
		if !crm.IsCode(err, crm.Invalid) {
			t.Fatalf("two columns to a choice: %v", err)
		}
	})
}

// TestImportBatchLooksUpOnce: a commit batch looks up the customers its
// rows name in one query and holds back its terms, versions, events and
// external ids until its end; what a row wrote is still what the next row
// of the same batch finds — a customer it created (by any spelling of the
// name), the record an external id became — and what a failed row wrote
// is not.
func TestImportBatchLooksUpOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c3 := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "成都华信物流有限公司"})
		if _, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{CustomerID: c3.ID, Name: "王芳", Mobile: "13900002222"}); err != nil {
			t.Fatal(err)
		}
		csv := "编号,姓名,手机,客户\n" +
			"E1,张伟,13900001111,华信科技（北京）有限公司\n" + // line 2: creates the customer
			"E2,李娜,13900001112,华信科技(北京)有限公司\n" + // line 3: the same customer, other brackets
			"E3,赵磊,13900002222,深圳新海有限公司\n" + // line 4: creates a customer, then is a duplicate: both go
			"E4,钱七,13900001114,深圳新海有限公司\n" + // line 5: creates that customer again
			"E1,张伟,13900001111,华信科技（北京）有限公司\n" + // line 6: E1 again: the record line 2 made
			"E5,孙八,13900001115,成都华信物流有限公司\n" // line 7: an existing customer
		p := importFile(t, o, o.Rep1, crm.ObjContact, "c.csv", []byte(csv), crm.ImportOptions{CreateCustomers: true})
		im := commitImport(t, o, o.Rep1, p.Import.ID)
		rows := rowsOf(t, o, o.Rep1, im.ID)
		if im.Created != 4 || im.Duplicates != 1 || im.Updated != 1 || im.Failed != 0 {
			t.Fatalf("committed: %+v, rows %+v", im, rows)
		}
		customerOf := func(line int) int64 {
			t.Helper()
			ct, err := o.Svc.GetContact(ctx, o.Rep1, rows[line].RecordID)
			if err != nil {
				t.Fatalf("line %d: %+v %v", line, rows[line], err)
			}
			return ct.CustomerID
		}
		if customerOf(2) == 0 || customerOf(2) != customerOf(3) {
			t.Errorf("lines 2 and 3 name one customer: %d, %d", customerOf(2), customerOf(3))
		}
		if rows[4].Action != crm.RowDuplicate || rows[4].RecordID != 0 {
			t.Errorf("line 4: %+v", rows[4])
		}
		made, err := o.Svc.GetCustomer(ctx, o.Rep1, customerOf(5))
		if err != nil || made.Name != "深圳新海有限公司" {
			t.Errorf("line 5's customer (line 4's was rolled back): %+v %v", made, err)
		}
		if rows[6].Action != crm.RowUpdate || rows[6].RecordID != rows[2].RecordID {
			t.Errorf("line 6 (E1 again): %+v, line 2 %+v", rows[6], rows[2])
		}
		if customerOf(7) != c3.ID {
			t.Errorf("line 7: customer %d, want %d", customerOf(7), c3.ID)
		}
		page, err := o.Svc.ListCustomers(ctx, o.Rep1, crm.CustomerFilter{Limit: 50})
		if err != nil || page.Total != 3 {
			t.Fatalf("customers: %d (want 3) %v", page.Total, err)
		}
		for _, id := range []int64{rows[2].RecordID, rows[3].RecordID, rows[5].RecordID, rows[7].RecordID} {
			if vs, err := o.Svc.Versions(ctx, o.Rep1, crm.ObjContact, id); err != nil || len(vs) == 0 {
				t.Errorf("contact %d: versions %d %v", id, len(vs), err)
			}
		}
		// The search terms held back were written: a name finds its contact.
		found, err := o.Svc.ListContacts(ctx, o.Rep1, crm.ListFilter{Query: "孙八"})
		if err != nil || found.Total != 1 {
			t.Errorf("search 孙八: %d %v", found.Total, err)
		}
	})
}
