package service_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/transfer"
)

// fileRows reads an exported file back, its fingerprint folded away.
func fileRows(t *testing.T, f service.ExportFile, data []byte) [][]string {
	t.Helper()
	var rows [][]string
	err := transfer.EachRow(bytes.NewReader(data), int64(len(data)), f.Name, func(cells []string) {
		row := make([]string, len(cells))
		for i, c := range cells {
			row[i] = transfer.Unmark(c)
		}
		rows = append(rows, row)
	})
	if err != nil {
		t.Fatalf("read %s: %v", f.Name, err)
	}
	return rows
}

func hasRow(rows [][]string, want ...string) bool {
	return slices.ContainsFunc(rows, func(r []string) bool { return slices.Equal(r, want) })
}

// TestReportExport: a report leaves as a file only under the export
// control of the lists — the export right, the export log, the audit
// trail, the visible watermark — with the report's scope and field rules.
func TestReportExport(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newReportWorld(t, db)
		o := w.o
		export := func(a *access.Actor, name, format string, f crm.ReportFilter) (service.ExportFile, [][]string, error) {
			t.Helper()
			var buf bytes.Buffer
			file, err := o.Svc.ExportReport(ctx, a, service.ReportExport{Name: name, Filter: f, Format: format, Lang: "en"}, &buf)
			if err != nil {
				return file, nil, err
			}
			return file, fileRows(t, file, buf.Bytes()), nil
		}
		// The East manager's pipeline in English: East's open deals only (o1,
		// o8, o2, o5), amounts in major units, per currency, never West's o6.
		file, rows, err := export(o.MgrEast, "pipeline", "csv", crm.ReportFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(file.Name, "custos-report-pipeline-") || !strings.HasSuffix(file.Name, ".csv") {
			t.Errorf("file name %q", file.Name)
		}
		for _, want := range [][]string{
			{"Stage", "Probability", "Currency", "Count", "Amount", "Weighted"},
			{"Initial contact", "10%", "CNY", "1", "100000.00", "10000.00"},
			{"Initial contact", "10%", "USD", "1", "1000.00", "100.00"},
			{"Negotiation", "70%", "CNY", "1", "400000.00", "280000.00"},
		} {
			if !hasRow(rows, want...) {
				t.Errorf("pipeline lacks %q:\n%q", want, rows)
			}
		}
		stamp := rows[len(rows)-1]
		if len(stamp) != 1 || !strings.Contains(stamp[0], "Custos export #") || !strings.Contains(stamp[0], "mgr.east") {
			t.Errorf("no visible watermark on the last row: %q", stamp)
		}
		// In the export log (read by an administrator) and in the audit trail.
		log, err := o.Svc.ListExports(ctx, o.Admin, 0, 10)
		if err != nil || len(log) == 0 || log[0].ID != file.Export.ID || log[0].Object != "report.pipeline" || log[0].UserID != o.MgrEast.UserID {
			t.Fatalf("export log: %v %+v", err, log)
		}
		if n := len(actionEvents(t, db, "report.pipeline.export")); n != 1 {
			t.Errorf("%d report.pipeline.export events", n)
		}

		// XLSX, the leaderboard in Chinese: the reps the manager's scope holds.
		var buf bytes.Buffer
		x, err := o.Svc.ExportReport(ctx, o.MgrEast, service.ReportExport{Name: "leaderboard", Filter: w.march, Format: "xlsx", Lang: "zh-CN"}, &buf)
		if err != nil {
			t.Fatal(err)
		}
		rows = fileRows(t, x, buf.Bytes())
		if !hasRow(rows, "销售", "部门", "赢单数", "赢单金额", "新客户", "跟进") || !hasRow(rows, "User rep1", "East-1", "1", "USD 50000.00", "1", "1") ||
			!hasRow(rows, "User rep2", "East-1", "0", "0", "2", "0") {
			t.Errorf("leaderboard xlsx: %q", rows)
		}
		if slices.ContainsFunc(rows, func(r []string) bool { return len(r) > 0 && r[0] == "User rep3" }) {
			t.Errorf("the East manager's file ranks West's rep3: %q", rows)
		}

		// Hidden amounts stay hidden in the file.
		hidden := withFieldRule(t, o, o.MgrEast, crm.ObjOpportunity, "amount", crm.FieldHidden)
		if _, rows, err = export(hidden, "forecast", "csv", w.march); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if len(r) == 7 && r[0] == "2026-03" && (r[3] != "—" || r[4] != "—" || r[6] != "—") {
				t.Errorf("a hidden amount in the file: %q", r)
			}
		}

		// Refusals: a rep has no export right; unknown reports and formats.
		if _, _, err := export(o.Rep1, "pipeline", "csv", crm.ReportFilter{}); !crm.IsCode(err, crm.Forbidden) {
			t.Errorf("a rep exported a report: %v", err)
		}
		if _, _, err := export(o.MgrEast, "nothing", "csv", crm.ReportFilter{}); !crm.IsCode(err, crm.NotFound) {
			t.Errorf("unknown report: %v", err)
		}
		var ce *crm.Error
		if _, _, err := export(o.MgrEast, "pool", "pdf", crm.ReportFilter{}); !errors.As(err, &ce) || len(ce.Fields) != 1 || ce.Fields[0].Field != "format" {
			t.Errorf("pdf: %v", err)
		}
		if _, _, err := export(o.MgrEast, "trends", "csv", crm.ReportFilter{From: "2026-03-31", To: "2026-03-01"}); !errors.As(err, &ce) || ce.Fields[0].Field != "to" {
			t.Errorf("a period that ends before it starts: %v", err)
		}
	})
}
