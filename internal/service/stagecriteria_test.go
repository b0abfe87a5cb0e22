package service_test

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"custos/internal/crm"
	"custos/internal/i18n"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// criteriaFixture is an organisation whose opportunities have a quote date
// (a custom field), with the default stages by name.
type criteriaFixture struct {
	o      *testorg.Org
	stages map[string]crm.Stage
	c      crm.Customer
}

func newCriteriaFixture(t *testing.T, db *store.DB) criteriaFixture {
	t.Helper()
	ctx := context.Background()
	o := testorg.New(t, db)
	if _, err := o.Svc.SaveCustomField(ctx, o.Admin, crm.CustomField{Object: crm.ObjOpportunity, Key: "quote_date", Label: "报价日期",
		LabelEn: "quote date", Type: "date"}); err != nil {
		t.Fatal(err)
	}
	all, err := o.Svc.Stages(ctx, o.Rep1)
	if err != nil {
		t.Fatal(err)
	}
	f := criteriaFixture{o: o, stages: map[string]crm.Stage{}}
	for _, st := range all {
		f.stages[st.Name] = st
	}
	f.c = o.Customer(t, o.Rep1, crm.CustomerFields{Name: "苏州工业园区博远精密"})
	return f
}

func (f criteriaFixture) set(t *testing.T, stage string, c crm.StageCriteria) {
	t.Helper()
	c.StageID = f.stages[stage].ID
	if _, err := f.o.Svc.SaveStageCriteria(context.Background(), f.o.Admin, c); err != nil {
		t.Fatalf("criteria of %s: %v", stage, err)
	}
}

// move moves x to the named stage and returns the service's answer.
func (f criteriaFixture) move(x crm.Opportunity, stage, reason string) (crm.Opportunity, error) {
	return f.o.Svc.MoveOpportunity(context.Background(), f.o.Rep1, x.ID, crm.StageMove{Version: x.Version, StageID: f.stages[stage].ID, LostReason: reason})
}

// wantMissing checks a refusal: the fields it names, in order, and its
// sentence in both languages.
func wantMissing(t *testing.T, err error, fields []string, zh, en string) {
	t.Helper()
	var ce *crm.Error
	if !errorsAs(err, &ce) || ce.Code != crm.Invalid || ce.Key != "stage_criteria" {
		t.Fatalf("want a stage criteria refusal, got %v", err)
	}
	var got []string
	for _, fe := range ce.Fields {
		got = append(got, fe.Field)
	}
	if !slices.Equal(got, fields) {
		t.Errorf("missing fields %v, want %v", got, fields)
	}
	if m := i18n.Message(i18n.ZH, err); m != zh {
		t.Errorf("zh message %q, want %q", m, zh)
	}
	if m := i18n.Message(i18n.EN, err); m != en {
		t.Errorf("en message %q, want %q", m, en)
	}
}

func TestStageExitCriteria(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newCriteriaFixture(t, db)
		o := f.o
		f.set(t, "方案报价", crm.StageCriteria{Fields: []string{"amount", "custom.quote_date"}, Tasks: []crm.TaskCriterion{{Title: "方案评审"}}})
		x := o.Opportunity(t, o.Rep1, crm.OpportunityFields{CustomerID: f.c.ID, Name: "五轴加工中心"})
		// Into the stage is free; past it is not.
		x = o.Move(t, o.Rep1, x, "需求分析", "")
		x = o.Move(t, o.Rep1, x, "方案报价", "")
		_, err := f.move(x, "商务谈判", "")
		wantMissing(t, err, []string{"amount", "custom.quote_date", "tasks"},
			"离开「方案报价」前需要：金额、报价日期、已完成的任务「方案评审」",
			"Before leaving Proposal: Amount, quote date, a completed task “方案评审” are required")
		if got, _, _ := o.Svc.GetOpportunity(ctx, o.Rep1, x.ID); got.StageID != f.stages["方案报价"].ID || got.Version != x.Version {
			t.Fatalf("a refused move changed the opportunity: %+v", got)
		}
		// A move back needs nothing.
		back, err := f.move(x, "需求分析", "")
		if err != nil {
			t.Fatalf("move back: %v", err)
		}
		x = o.Move(t, o.Rep1, back, "方案报价", "")

		// Filled in part: only the rest is named. A task of another
		// opportunity, an open one or one in the recycle bin does not count.
		x, err = o.Svc.UpdateOpportunity(ctx, o.Rep1, x.ID, crm.OpportunityUpdate{Version: x.Version, Amount: ptr(int64(80_000_00))})
		if err != nil {
			t.Fatal(err)
		}
		other := o.Opportunity(t, o.Rep1, crm.OpportunityFields{CustomerID: f.c.ID, Name: "备件年单"})
		done := func(opp int64, title string) crm.Task {
			k, err := o.Svc.CreateTask(ctx, o.Rep1, crm.TaskFields{Title: title, OpportunityID: opp})
			if err != nil {
				t.Fatalf("task %s: %v", title, err)
			}
			if err := o.Svc.SetTaskDone(ctx, o.Rep1, k.ID, true); err != nil {
				t.Fatal(err)
			}
			return k
		}
		done(other.ID, "方案评审")
		if _, err := o.Svc.CreateTask(ctx, o.Rep1, crm.TaskFields{Title: "方案评审", OpportunityID: x.ID}); err != nil {
			t.Fatal(err)
		}
		binned := done(x.ID, "方案评审 第一轮")
		if err := o.Svc.DeleteRecord(ctx, o.Rep1, crm.ObjTask, binned.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.move(x, "商务谈判", "")
		wantMissing(t, err, []string{"custom.quote_date", "tasks"},
			"离开「方案报价」前需要：报价日期、已完成的任务「方案评审」",
			"Before leaving Proposal: quote date, a completed task “方案评审” are required")

		// A task linked to the opportunity takes its customer; one of
		// another customer's opportunity is refused.
		k := done(x.ID, "方案评审：华东区")
		if k.CustomerID != f.c.ID || k.OpportunityID != x.ID {
			t.Fatalf("task links: %+v", k)
		}
		elsewhere := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "无锡新区恒达电子"})
		_, err = o.Svc.CreateTask(ctx, o.Rep1, crm.TaskFields{Title: "x", CustomerID: elsewhere.ID, OpportunityID: x.ID})
		wantCode(t, err, crm.Invalid)
		// Someone who may not see the opportunity cannot link a task to it.
		_, err = o.Svc.CreateTask(ctx, o.Rep3, crm.TaskFields{Title: "方案评审", OpportunityID: x.ID})
		wantCode(t, err, crm.Invalid)

		_, err = f.move(x, "商务谈判", "")
		wantMissing(t, err, []string{"custom.quote_date"}, "离开「方案报价」前需要：报价日期", "Before leaving Proposal: quote date is required")
		x, err = o.Svc.UpdateOpportunity(ctx, o.Rep1, x.ID, crm.OpportunityUpdate{Version: x.Version, Custom: map[string]any{"quote_date": "2027-01-15"}})
		if err != nil {
			t.Fatal(err)
		}
		x, err = f.move(x, "商务谈判", "")
		if err != nil || x.StageID != f.stages["商务谈判"].ID {
			t.Fatalf("move once filled: %+v %v", x, err)
		}
	})
}

func TestStageCriteriaSkipLostWon(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newCriteriaFixture(t, db)
		o := f.o
		f.set(t, "需求分析", crm.StageCriteria{Fields: []string{"expected_close_date"}})
		f.set(t, "方案报价", crm.StageCriteria{Fields: []string{"amount"}, Tasks: []crm.TaskCriterion{{Title: "拜访", Count: 2}}})
		f.set(t, "赢单", crm.StageCriteria{Contract: true})
		x := o.Opportunity(t, o.Rep1, crm.OpportunityFields{CustomerID: f.c.ID, Name: "产线自动化改造"})

		// Skipping ahead checks every stage passed, in order; the stage it
		// starts from has none and the target's own are not yet due.
		_, err := f.move(x, "商务谈判", "")
		wantMissing(t, err, []string{"expected_close_date", "amount", "tasks"},
			"离开「需求分析」前需要：预计成交日期；离开「方案报价」前需要：金额、2 个已完成的任务「拜访」（现有 0 个）",
			"Before leaving Needs analysis: Expected close date is required; Before leaving Proposal: Amount, 2 completed tasks “拜访” (0 so far) are required")
		_, err = f.move(x, "需求分析", "")
		if err != nil {
			t.Fatalf("the next stage has no criteria to leave: %v", err)
		}
		x, _, _ = o.Svc.GetOpportunity(ctx, o.Rep1, x.ID)

		// Lost is always allowed (with its reason, as before).
		_, err = f.move(x, "输单", "")
		var ce *crm.Error
		if !errorsAs(err, &ce) || ce.Fields[0].Field != "lost_reason" {
			t.Fatalf("lost without a reason: %v", err)
		}
		lost, err := f.move(x, "输单", "预算取消")
		if err != nil || lost.ClosedAt == nil {
			t.Fatalf("lost: %+v %v", lost, err)
		}
		// Reopened or won straight from lost, it passes every open stage.
		_, err = f.move(lost, "赢单", "")
		wantMissing(t, err, []string{"expected_close_date", "amount", "tasks", "contract"},
			"离开「需求分析」前需要：预计成交日期；离开「方案报价」前需要：金额、2 个已完成的任务「拜访」（现有 0 个）；进入「赢单」前需要：已签合同",
			"Before leaving Needs analysis: Expected close date is required; Before leaving Proposal: Amount, 2 completed tasks “拜访” (0 so far) are required; Before entering Won: a signed contract is required")
		if _, err := f.move(lost, "初步接洽", ""); err != nil {
			t.Fatalf("reopen into the first stage: %v", err)
		}
		x, _, _ = o.Svc.GetOpportunity(ctx, o.Rep1, x.ID)

		// Everything but the contract: won needs a signed one.
		x, err = o.Svc.UpdateOpportunity(ctx, o.Rep1, x.ID, crm.OpportunityUpdate{Version: x.Version, Amount: ptr(int64(300_000_00)), ExpectedCloseDate: ptr("2027-06-30")})
		if err != nil {
			t.Fatal(err)
		}
		for _, title := range []string{"拜访工厂", "拜访总部"} {
			k, err := o.Svc.CreateTask(ctx, o.Rep1, crm.TaskFields{Title: title, OpportunityID: x.ID})
			if err == nil {
				err = o.Svc.SetTaskDone(ctx, o.Rep1, k.ID, true)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		x = o.Move(t, o.Rep1, x, "商务谈判", "")
		_, err = f.move(x, "赢单", "")
		wantMissing(t, err, []string{"contract"}, "进入「赢单」前需要：已签合同", "Before entering Won: a signed contract is required")
		k, err := o.Svc.CreateContract(ctx, o.Rep1, crm.ContractFields{CustomerID: f.c.ID, OpportunityID: x.ID, Number: "HT-2027-001", Name: "产线改造合同", Status: "draft"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.move(x, "赢单", "")
		wantMissing(t, err, []string{"contract"}, "进入「赢单」前需要：已签合同", "Before entering Won: a signed contract is required")
		if _, err := o.Svc.UpdateContract(ctx, o.Rep1, k.ID, crm.ContractUpdate{Version: k.Version, Status: ptr("signed")}); err != nil {
			t.Fatal(err)
		}
		won, err := f.move(x, "赢单", "")
		if err != nil || won.StageID != f.stages["赢单"].ID {
			t.Fatalf("won with a signed contract: %+v %v", won, err)
		}
	})
}

func TestStageCriteriaSettings(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newCriteriaFixture(t, db)
		o := f.o
		id := f.stages["方案报价"].ID
		_, err := o.Svc.SaveStageCriteria(ctx, o.MgrEast, crm.StageCriteria{StageID: id, Fields: []string{"amount"}})
		wantCode(t, err, crm.Forbidden)
		_, err = o.Svc.SaveStageCriteria(ctx, o.Admin, crm.StageCriteria{StageID: id, Fields: []string{"amount", "stage_id", "custom.nope", "probability"},
			Tasks: []crm.TaskCriterion{{Title: " "}, {Title: "评审", Count: 21}}})
		var ce *crm.Error
		if !errorsAs(err, &ce) {
			t.Fatalf("bad criteria: %v", err)
		}
		var got []string
		for _, fe := range ce.Fields {
			got = append(got, fe.Field+" "+fe.Rule+" "+fe.Param)
		}
		want := []string{"fields unknown_field stage_id", "fields unknown_field custom.nope", "fields unknown_field probability",
			"tasks.0.title required ", "tasks.1.count range 1-20"}
		if !slices.Equal(got, want) {
			t.Fatalf("problems %q, want %q", got, want)
		}
		_, err = o.Svc.SaveStageCriteria(ctx, o.Admin, crm.StageCriteria{StageID: f.stages["输单"].ID, Fields: []string{"amount"}})
		if !errorsAs(err, &ce) || ce.Fields[0].Rule != "criteria_lost" {
			t.Fatalf("criteria on a lost stage: %v", err)
		}
		_, err = o.Svc.SaveStageCriteria(ctx, o.Admin, crm.StageCriteria{StageID: 9999})
		wantCode(t, err, crm.NotFound)

		saved, err := o.Svc.SaveStageCriteria(ctx, o.Admin, crm.StageCriteria{StageID: id, Fields: []string{" amount", "custom.quote_date", "amount"},
			Tasks: []crm.TaskCriterion{{Title: " 方案评审 "}}, Contract: true})
		if err != nil {
			t.Fatal(err)
		}
		got2, err := o.Svc.StageCriteria(ctx, o.Rep1, id)
		if err != nil || !slices.Equal(got2.Fields, []string{"amount", "custom.quote_date"}) || len(got2.Tasks) != 1 ||
			got2.Tasks[0] != (crm.TaskCriterion{Title: "方案评审", Count: 1}) || !got2.Contract || saved.Fields[0] != "amount" {
			t.Fatalf("criteria read back: %+v %v", got2, err)
		}
		// Cleared, the stage asks for nothing again.
		if _, err := o.Svc.SaveStageCriteria(ctx, o.Admin, crm.StageCriteria{StageID: id}); err != nil {
			t.Fatal(err)
		}
		if got3, err := o.Svc.StageCriteria(ctx, o.Rep1, id); err != nil || !got3.Empty() {
			t.Fatalf("cleared criteria: %+v %v", got3, err)
		}
		// Each change is in the audit trail with what changed.
		evs, err := o.Svc.AuditTrail(ctx, o.Admin, service.AuditQuery{Action: "stage.criteria", Outcome: "ok"})
		if err != nil || len(evs.Items) != 2 || evs.Items[0].RecordID != id {
			t.Fatalf("audit events: %+v %v", evs, err)
		}
	})
}

// TestStageCriteriaImport: an imported opportunity lands in its row's stage
// (by id or by name in either language) through the stage move, so a row
// the criteria refuse fails with the move's reason, in the preview and in
// the commit, and leaves no record behind.
func TestStageCriteriaImport(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newCriteriaFixture(t, db)
		o := f.o
		f.set(t, "方案报价", crm.StageCriteria{Fields: []string{"amount", "custom.quote_date"}})
		f.set(t, "赢单", crm.StageCriteria{Contract: true})
		csv := "编号,客户,名称,金额,阶段,报价日期,输单原因\n" +
			"O1,苏州工业园区博远精密,无阶段项目,,,,\n" +
			"O2,苏州工业园区博远精密,报价中项目,,方案报价,,\n" +
			"O3,苏州工业园区博远精密,谈判项目缺字段,,商务谈判,,\n" +
			"O4,苏州工业园区博远精密,谈判项目,50000,Negotiation,2027-01-10,\n" +
			"O5,苏州工业园区博远精密,输掉的项目,,输单,,价格太高\n" +
			"O6,苏州工业园区博远精密,阶段不明项目,,不存在的阶段,,\n" +
			"O7,苏州工业园区博远精密,赢单项目,80000," + idOf(f.stages["赢单"]) + ",2027-02-01,\n"
		opts := crm.ImportOptions{Mapping: map[string]string{"编号": "external_id", "客户": "customer", "名称": "name", "金额": "amount",
			"阶段": "stage_id", "报价日期": "custom.quote_date", "输单原因": "lost_reason"}}
		p := importFile(t, o, o.Rep1, crm.ObjOpportunity, "商机.csv", []byte(csv), opts)
		missing := "离开「方案报价」前需要：金额、报价日期"
		wantRows := func(rows map[int]crm.ImportRow, action func(crm.ImportRow) string) {
			t.Helper()
			want := map[int][2]string{2: {crm.RowCreate, ""}, 3: {crm.RowCreate, ""}, 4: {crm.RowFail, missing}, 5: {crm.RowCreate, ""},
				6: {crm.RowCreate, ""}, 7: {crm.RowFail, "销售阶段：不存在"}, 8: {crm.RowFail, "进入「赢单」前需要：已签合同"}}
			for line, w := range want {
				if r := rows[line]; action(r) != w[0] || r.Reason != w[1] {
					t.Errorf("line %d: %s %q, want %s %q", line, action(r), r.Reason, w[0], w[1])
				}
			}
		}
		wantRows(rowsOf(t, o, o.Rep1, p.Import.ID), func(r crm.ImportRow) string { return r.Planned })
		im := commitImport(t, o, o.Rep1, p.Import.ID)
		if im.Created != 4 || im.Failed != 3 {
			t.Fatalf("import: %+v", im)
		}
		wantRows(rowsOf(t, o, o.Rep1, p.Import.ID), func(r crm.ImportRow) string { return r.Action })
		page, err := o.Svc.ListOpportunities(ctx, o.Rep1, crm.ListFilter{CustomerID: f.c.ID, Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		stageOf := map[string]int64{}
		for _, x := range page.Items {
			stageOf[x.Name] = x.StageID
		}
		want := map[string]int64{"无阶段项目": f.stages["初步接洽"].ID, "报价中项目": f.stages["方案报价"].ID, "谈判项目": f.stages["商务谈判"].ID,
			"输掉的项目": f.stages["输单"].ID}
		if len(stageOf) != len(want) {
			t.Errorf("opportunities imported: %v, want %v (a failed row left a record behind?)", stageOf, want)
		}
		for name, st := range want {
			if stageOf[name] != st {
				t.Errorf("%s in stage %d, want %d", name, stageOf[name], st)
			}
		}
	})
}

func idOf(st crm.Stage) string { return strconv.FormatInt(st.ID, 10) }
