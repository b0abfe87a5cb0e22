package service_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/unicode/norm"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// export runs an export and returns the file.
func export(t *testing.T, o *testorg.Org, a *access.Actor, obj crm.Object, f service.ExportFilter, format string) (service.ExportFile, []byte, error) {
	t.Helper()
	var buf bytes.Buffer
	file, err := o.Svc.Export(context.Background(), a, service.ExportRequest{Object: obj, Filter: f, Format: format, Lang: "en"}, &buf)
	return file, buf.Bytes(), err
}

// csvRows reads an exported CSV (BOM, header, rows, watermark line).
func csvRows(t *testing.T, b []byte) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF"))))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// allowExport gives the sales role the export of objects, with field rules.
func allowExport(t *testing.T, o *testorg.Org, rules map[string]crm.FieldAccess, objs ...crm.Object) {
	t.Helper()
	r := o.Roles["sales"]
	for _, obj := range objs {
		g := r.Grants[obj]
		g.Export = true
		if obj == crm.ObjCustomer {
			g.Fields = rules
		}
		r.Grants[obj] = g
	}
	if o.Admin.SecondFactorAt.IsZero() {
		o.StepUp(t, o.Admin)
	}
	saved, err := o.Svc.SaveRole(context.Background(), o.Admin, r)
	if err != nil {
		t.Fatal(err)
	}
	o.Roles["sales"] = saved
}

// TestExportScopeAndFieldRules: an export is the list as its reader sees
// it — their scope, their field rules (masked stays masked, hidden is
// absent, header and all), the list's filters — only with the export
// permission, and audited with every record's id.
func TestExportScopeAndFieldRules(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		mine := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "Acme Trading Co", Phone: "13800138001", Address: "1 Secret Road", Level: "A"})
		other := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "Beta Foods Ltd", Level: "B"})
		west := o.Customer(t, o.Rep3, crm.CustomerFields{Name: "West Wind Co", Phone: "13800138003"})

		// Sales may not export until the role allows it.
		if _, _, err := export(t, o, o.Rep1, crm.ObjCustomer, service.ExportFilter{}, ""); !crm.IsCode(err, crm.Forbidden) {
			t.Fatalf("sales export without the permission: %v", err)
		}
		allowExport(t, o, map[string]crm.FieldAccess{"phone": crm.FieldMasked, "address": crm.FieldHidden}, crm.ObjCustomer)
		rep1 := testorg.Actor(t, o.Svc, o.Rep1.UserID)
		file, b, err := export(t, o, rep1, crm.ObjCustomer, service.ExportFilter{}, "csv")
		if err != nil {
			t.Fatal(err)
		}
		text := norm.NFKC.String(string(b))
		rows := csvRows(t, b)
		header := strings.Join(rows[0], "|")
		switch {
		case len(rows) != 4: // header, two customers, watermark
			t.Fatalf("rows: %q", rows)
		case !strings.Contains(text, "Acme Trading Co") || !strings.Contains(text, "Beta Foods Ltd"):
			t.Fatalf("own customers missing: %s", text)
		case strings.Contains(text, "West Wind"):
			t.Fatalf("another rep's customer exported: %s", text)
		case strings.Contains(text, "13800138001") || !strings.Contains(text, "138****8001"):
			t.Fatalf("masked phone not masked: %s", text)
		case strings.Contains(text, "Secret Road") || strings.Contains(header, "Address"):
			t.Fatalf("hidden address exported: %s", text)
		case !strings.Contains(rows[3][0], fmt.Sprintf("Custos export #%d", file.Export.ID)) || !strings.Contains(rows[3][0], "rep1"):
			t.Fatalf("visible watermark: %q", rows[3])
		}
		ev, f := lastEvent(t, db, "customer.export")
		if !slices.Equal(sorted(ev.RecordIDs), sorted([]int64{mine.ID, other.ID})) || f["export_id"] != float64(file.Export.ID) {
			t.Fatalf("export event: %v %v", ev.RecordIDs, f)
		}

		// The exposure report answers for this export: both records,
		// exported, the phone masked, the address not at all.
		rep, err := o.Svc.ExposureReport(ctx, o.Admin, service.ExposureQuery{EventID: ev.ID})
		if err != nil || len(rep.Rows) != 2 {
			t.Fatalf("exposure of the export: %v %+v", err, rep)
		}
		for _, r := range rep.Rows {
			if !slices.Contains(r.Kinds, "exported") || !slices.Contains(r.Masked, "phone") || slices.Contains(r.Fields, "address") ||
				!slices.Contains(r.Fields, "name") {
				t.Fatalf("exposure row: %+v", r)
			}
		}
		// The log keeps the filters without the search text.
		if _, _, err := export(t, o, rep1, crm.ObjCustomer, service.ExportFilter{ListFilter: crm.ListFilter{Query: "13800138001"}}, "csv"); err != nil {
			t.Fatal(err)
		}
		if log, _ := o.Svc.ListExports(ctx, rep1, 0, 1); len(log) != 1 || strings.Contains(log[0].Filter, "13800138001") || !strings.Contains(log[0].Filter, "***") {
			t.Fatalf("export log filter: %+v", log)
		}
		if ev, _ := lastEvent(t, db, "customer.export"); strings.Contains(string(ev.Fields), "13800138001") {
			t.Fatalf("the search text is in the audit trail: %s", ev.Fields)
		}
		// …and the export by a phone counts as the search by phone it is.
		if ev, f := lastEvent(t, db, "customer.search.phone"); ev.ActorID != rep1.UserID || f["export_id"] == nil ||
			strings.Contains(string(ev.Fields), "13800138001") {
			t.Fatalf("search event of the export: %+v %v", ev, f)
		}
		// The list's own filters.
		_, b, err = export(t, o, rep1, crm.ObjCustomer, service.ExportFilter{Level: "B"}, "csv")
		if err != nil || len(csvRows(t, b)) != 3 || !strings.Contains(norm.NFKC.String(string(b)), "Beta Foods") {
			t.Fatalf("filtered export: %v %s", err, b)
		}
		// A manager exports their subtree, in clear, and not the West.
		_, b, err = export(t, o, o.MgrEast, crm.ObjCustomer, service.ExportFilter{}, "xlsx")
		if err != nil {
			t.Fatal(err)
		}
		x, err := excelize.OpenReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		xrows, _ := x.GetRows(x.GetSheetList()[0])
		all := norm.NFKC.String(fmt.Sprint(xrows))
		props, _ := x.GetDocProps()
		if !strings.Contains(all, "+8613800138001") || !strings.Contains(all, "Secret Road") || strings.Contains(all, "West Wind") ||
			!strings.Contains(props.Title, "Custos export #") || props.Creator != o.MgrEast.Name {
			t.Fatalf("manager's xlsx export: %s / %+v", all, props)
		}
		_ = west
		// Contacts of a customer, follow-ups of a record, tasks: their lists.
		// Follow-ups without a record are those in scope (a report's
		// drill-down): West's are not the East manager's.
		if _, err := o.Svc.CreateFollowUp(context.Background(), o.Rep3, crm.FollowUpInput{Kind: "call", Content: "WestCall", CustomerID: west.ID}); err != nil {
			t.Fatal(err)
		}
		if _, b, err := export(t, o, o.MgrEast, crm.ObjFollowUp, service.ExportFilter{}, "csv"); err != nil || strings.Contains(string(b), "WestCall") {
			t.Fatalf("follow-ups without a record: %v %s", err, b)
		}
		if _, b, err := export(t, o, o.Admin, crm.ObjFollowUp, service.ExportFilter{}, "csv"); err != nil || !strings.Contains(string(b), "WestCall") {
			t.Fatalf("follow-ups without a record, the administrator: %v %s", err, b)
		}
		if _, _, err := export(t, o, o.MgrEast, crm.ObjFollowUp, service.ExportFilter{Parent: crm.ObjCustomer, ParentID: west.ID}, "csv"); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("follow-ups of a customer out of scope: %v", err)
		}
		if _, _, err := export(t, o, o.MgrEast, crm.ObjContract, service.ExportFilter{}, "csv"); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("an object without an export: %v", err)
		}
		if _, _, err := export(t, o, o.MgrEast, crm.ObjCustomer, service.ExportFilter{}, "pdf"); !crm.IsCode(err, crm.Invalid) {
			t.Fatalf("unknown format: %v", err)
		}
		// The export log: everyone's for administrators, one's own otherwise.
		// (Four lists, and the two follow-up lists without a record.)
		if log, err := o.Svc.ListExports(ctx, o.Admin, 0, 0); err != nil || len(log) != 6 {
			t.Fatalf("admin's export log: %d %v", len(log), err)
		}
		if log, err := o.Svc.ListExports(ctx, rep1, 0, 0); err != nil || len(log) != 3 {
			t.Fatalf("rep's export log: %d %v", len(log), err)
		}
	})
}

func sorted(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// TestExportApprovalStepUpDownloadOnce: above the threshold an export
// needs a fresh second factor, then approval; the approved file is the
// requester's, once, until it expires.
func TestExportApprovalStepUpDownloadOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testorg.NewClock()
		o := testorg.NewWithClock(t, db, clock)
		setPolicy(t, o, crm.ApprovalPolicy{Kind: crm.ApproveBulkExport, Threshold: 2, Steps: []crm.ApprovalStep{{Type: "role", RoleKey: "manager"}}})
		allowExport(t, o, nil, crm.ObjCustomer)
		rep1 := testorg.Actor(t, o.Svc, o.Rep1.UserID)
		for _, n := range []string{"Alpha Mills", "Bravo Steel", "Charlie Paper"} {
			o.Customer(t, rep1, crm.CustomerFields{Name: n})
		}
		// Up to the threshold: at once.
		if _, _, err := export(t, o, rep1, crm.ObjCustomer, service.ExportFilter{ListFilter: crm.ListFilter{Query: "Alpha"}}, "csv"); err != nil {
			t.Fatal(err)
		}
		// Above it: a fresh second factor first, then the request.
		_, _, err := export(t, o, rep1, crm.ObjCustomer, service.ExportFilter{}, "xlsx")
		wantCode(t, err, crm.StepUpRequired)
		o.StepUp(t, rep1)
		file, b, err := export(t, o, rep1, crm.ObjCustomer, service.ExportFilter{}, "xlsx")
		req := pendingID(t, err)
		if len(b) != 0 || file.Export.Status != crm.ExportPending || file.Export.ApprovalID != req {
			t.Fatalf("pending export: %+v, %d bytes", file.Export, len(b))
		}
		id := file.Export.ID
		var out bytes.Buffer
		if _, err := o.Svc.DownloadExport(ctx, rep1, id, &out); !crm.IsCode(err, crm.Conflict) {
			t.Fatalf("download before approval: %v", err)
		}
		if _, err := decide(t, o, o.MgrWest, req, true); err != nil {
			t.Fatal(err)
		}
		ev, f := lastEvent(t, db, "customer.export")
		if len(ev.RecordIDs) != 3 || f["approval_id"] != float64(req) || ev.ActorID != rep1.UserID {
			t.Fatalf("approved export's event: %+v %v", ev, f)
		}
		// Someone else, even an administrator, gets nothing.
		for _, a := range []*access.Actor{o.Rep2, o.Admin, o.MgrWest} {
			if _, err := o.Svc.DownloadExport(ctx, a, id, &out); !crm.IsCode(err, crm.NotFound) {
				t.Fatalf("download by user %d: %v", a.UserID, err)
			}
		}
		got, err := o.Svc.DownloadExport(ctx, rep1, id, &out)
		if err != nil || !strings.HasSuffix(got.Name, ".xlsx") || out.Len() == 0 {
			t.Fatalf("download: %+v %v", got, err)
		}
		x, err := excelize.OpenReader(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if rows, _ := x.GetRows("export"); len(rows) != 5 {
			t.Fatalf("approved file rows: %q", rows)
		}
		if _, err := o.Svc.DownloadExport(ctx, rep1, id, &out); !crm.IsCode(err, crm.Conflict) {
			t.Fatalf("second download: %v", err)
		}

		// A rejected request leaves no file to fetch.
		o.StepUp(t, rep1)
		_, _, err = export(t, o, rep1, crm.ObjCustomer, service.ExportFilter{}, "csv")
		rejected := pendingID(t, err)
		if _, err := decide(t, o, o.MgrWest, rejected, false); err != nil {
			t.Fatal(err)
		}
		if log, _ := o.Svc.ListExports(ctx, rep1, 0, 1); log[0].Status != crm.ExportRejected {
			t.Fatalf("rejected export: %+v", log[0])
		}

		// An approved file nobody fetches in time expires.
		o.StepUp(t, rep1)
		_, _, err = export(t, o, rep1, crm.ObjCustomer, service.ExportFilter{}, "csv")
		req2 := pendingID(t, err)
		if _, err := decide(t, o, o.MgrEast, req2, true); err != nil {
			t.Fatal(err)
		}
		log, _ := o.Svc.ListExports(ctx, rep1, 0, 1)
		clock.Advance(service.DefaultExportDownloadTime + time.Minute)
		if n, err := o.Svc.ExpireExports(ctx); err != nil || n != 1 {
			t.Fatalf("expire: %d %v", n, err)
		}
		if _, err := o.Svc.DownloadExport(ctx, rep1, log[0].ID, &out); !crm.IsCode(err, crm.Conflict) {
			t.Fatalf("download after expiry: %v", err)
		}
	})
}

// traceCustomers makes customers whose names and addresses carry marks.
func traceCustomers(t *testing.T, o *testorg.Org, a *access.Actor, n int) {
	t.Helper()
	words := []string{"Amber", "Birch", "Cedar", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Iris", "Juniper", "Kestrel", "Lotus",
		"Maple", "Nimbus", "Orchid", "Pioneer", "Quartz", "Raven", "Summit", "Tundra", "Umber", "Violet", "Willow", "Xenon", "Yarrow", "Zephyr"}
	cn := []string{"大山", "金石", "文华", "水木", "天工", "日月", "方正", "高远", "白云", "立人"}
	for i := range n {
		name := fmt.Sprintf("%s %s Trading %d Co", words[i%len(words)], words[(i*7+3)%len(words)], i)
		address := fmt.Sprintf("No. %d North Lake Road, Daxing, Beijing", i+1)
		if i%3 != 0 { // two in three Chinese, as a Chinese team's list would be
			name = fmt.Sprintf("%s%s科技(北京)有限公司", cn[i%len(cn)], cn[(i/len(cn))%len(cn)])
			address = fmt.Sprintf("北京市大兴区%s路%d号%d层", cn[i%len(cn)], i+1, i%9+1)
		}
		o.Customer(t, a, crm.CustomerFields{Name: name, Industry: "Wholesale and retail", City: "Beijing",
			Address: address, Phone: fmt.Sprintf("1380013%04d", 8000+i)})
	}
}

// excelCSV rewrites rows as Excel or WPS save a CSV: a byte-order mark,
// CRLF, every cell quoted, trailing spaces trimmed, numbers reformatted
// (12 → 12.00, a long number in scientific notation).
func excelCSV(rows [][]string) []byte {
	var b bytes.Buffer
	b.WriteString("\xEF\xBB\xBF")
	for _, r := range rows {
		for i, c := range r {
			c = strings.TrimRight(c, " ")
			if n, err := strconv.ParseFloat(c, 64); err == nil {
				if n > 1e10 {
					c = strconv.FormatFloat(n, 'E', 2, 64)
				} else {
					c = strconv.FormatFloat(n, 'f', 2, 64)
				}
			}
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"` + strings.ReplaceAll(c, `"`, `""`) + `"`)
		}
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// excelGBK saves rows as Excel does "CSV (Comma delimited)" on a Chinese
// Windows: code page 936 (GBK), no byte-order mark, a no-break space as a
// space (Windows' best fit), any other character GBK lacks as '?'. The
// test fails if that turned anything into '?': the marks must be GBK.
func excelGBK(t *testing.T, rows [][]string) []byte {
	t.Helper()
	enc := simplifiedchinese.GBK.NewEncoder()
	var b bytes.Buffer
	for _, r := range strings.TrimPrefix(string(excelCSV(rows)), "\uFEFF") {
		if r == '\u00a0' {
			r = ' '
		}
		c, err := enc.String(string(r))
		if err != nil {
			t.Fatalf("%q is not in GBK: a GBK copy would show '?'", r)
		}
		b.WriteString(c)
	}
	return b.Bytes()
}

// excelXLSX writes rows as a new workbook, numbers as numbers.
func excelXLSX(t *testing.T, rows [][]string) []byte {
	t.Helper()
	f := excelize.NewFile()
	for i, r := range rows {
		for j, c := range r {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			var v any = c
			if n, err := strconv.ParseFloat(c, 64); err == nil {
				v = n
			}
			if err := f.SetCellValue("Sheet1", cell, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func xlsxRows(t *testing.T, b []byte) [][]string {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := x.GetRows(x.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func trace(t *testing.T, o *testorg.Org, b []byte, name string) crm.TraceResult {
	t.Helper()
	res, err := o.Svc.Trace(context.Background(), o.Admin, bytes.NewReader(b), int64(len(b)), name)
	if err != nil {
		t.Fatalf("trace %s: %v", name, err)
	}
	return res
}

// TestExportTrace: a file leads back to its export — whole, as any 20
// rows cut from it (shuffled, without header or watermark line), saved
// again by a spreadsheet as CSV or XLSX — and not to another export of the
// very same list; a file Custos never made is no match, and so is a copy
// with its watermark line forged to claim an export.
func TestExportTrace(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := testorg.New(t, db)
		traceCustomers(t, o, o.MgrEast, 60)
		first, csvFile, err := export(t, o, o.MgrEast, crm.ObjCustomer, service.ExportFilter{}, "csv")
		if err != nil {
			t.Fatal(err)
		}
		second, xlsxFile, err := export(t, o, o.MgrEast, crm.ObjCustomer, service.ExportFilter{}, "xlsx")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := export(t, o, o.Admin, crm.ObjCustomer, service.ExportFilter{}, "csv"); err != nil {
			t.Fatal(err)
		}
		rows := csvRows(t, csvFile)
		// NFKC: the marks change no value.
		plain := norm.NFKC.String(string(csvFile))
		if !strings.Contains(plain, "Amber ") || !strings.Contains(plain, "北京市大兴区") || !strings.Contains(plain, "科技(北京)有限公司") {
			t.Fatalf("values changed: %.500s", plain)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		excerpt := func(all [][]string) [][]string {
			data := all[1 : len(all)-1] // no header, no watermark line
			start := rng.IntN(len(data) - 20)
			cut := slices.Clone(data[start : start+20])
			rng.Shuffle(len(cut), func(i, j int) { cut[i], cut[j] = cut[j], cut[i] })
			return cut
		}
		dropColumns := func(rows [][]string, keep ...int) [][]string {
			var out [][]string
			for _, r := range rows {
				var nr []string
				for _, k := range keep {
					nr = append(nr, r[k])
				}
				out = append(out, nr)
			}
			return out
		}
		xrows := xlsxRows(t, xlsxFile)
		for _, c := range []struct {
			name string
			file []byte
			want crm.Export
		}{
			{"whole.csv", csvFile, first.Export},
			{"whole.xlsx", xlsxFile, second.Export},
			{"excerpt.csv", excelCSV(excerpt(rows)), first.Export},
			{"excerpt-resaved.xlsx", excelXLSX(t, excerpt(rows)), first.Export},
			{"xlsx-excerpt-resaved.csv", excelCSV(excerpt(xrows)), second.Export},
			{"xlsx-excerpt-resaved.xlsx", excelXLSX(t, excerpt(xrows)), second.Export},
			{"whole-resaved.csv", excelCSV(rows), first.Export},
			{"two-columns.csv", excelCSV(dropColumns(excerpt(rows), 1, 7)), first.Export},
			{"excerpt-resaved-gbk.csv", excelGBK(t, excerpt(rows)), first.Export},
			{"xlsx-excerpt-resaved-gbk.csv", excelGBK(t, excerpt(xrows)), second.Export},
		} {
			res := trace(t, o, c.file, c.name)
			if !res.Match || res.ExportID != c.want.ID || res.UserID != o.MgrEast.UserID || res.Confidence < 0.999999 {
				t.Errorf("%s: %+v, want export %d", c.name, res, c.want.ID)
			}
		}

		// A file Custos never made: the same list typed out again.
		var foreign [][]string
		for _, r := range rows {
			var nr []string
			for _, cell := range r {
				nr = append(nr, norm.NFKC.String(cell))
			}
			foreign = append(foreign, nr)
		}
		for name, f := range map[string][]byte{"foreign.csv": excelCSV(foreign), "foreign.xlsx": excelXLSX(t, foreign),
			"other.csv": []byte("name,phone\nAcme Trading Co,13800000000\nZhang Wei Ltd,13900000000\n")} {
			if res := trace(t, o, f, name); res.Match || res.ExportID != 0 {
				t.Errorf("%s: %+v, want no match", name, res)
			}
		}
		// A forged watermark line claims an export; the fingerprint does not follow.
		forged := append(foreign, []string{fmt.Sprintf("Custos export #%d · forged", first.Export.ID)})
		if res := trace(t, o, excelCSV(forged), "forged.csv"); res.Match || res.Claimed != first.Export.ID {
			t.Errorf("forged: %+v", res)
		}
		// Only administrators trace, and every trace is audited.
		if _, err := o.Svc.Trace(context.Background(), o.MgrEast, bytes.NewReader(csvFile), int64(len(csvFile)), "x.csv"); !crm.IsCode(err, crm.Forbidden) {
			t.Fatalf("trace by a manager: %v", err)
		}
		evs := actionEvents(t, db, "export.trace")
		if len(evs) != 15 || evs[0].Outcome != "denied" || evs[1].ActorID != o.Admin.UserID || !strings.Contains(string(evs[1].Fields), "forged.csv") {
			t.Fatalf("trace events: %d %+v", len(evs), evs[:2])
		}
	})
}

// TestExportRateLimit: at most DefaultExportsPerHour exports an hour per
// user; the one past it is refused, audited, and the next hour allows again.
func TestExportRateLimit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		clock := testorg.NewClock()
		o := testorg.NewWithClock(t, db, clock)
		o.Customer(t, o.MgrEast, crm.CustomerFields{Name: "Rate Limit Co"})
		for i := range service.DefaultExportsPerHour {
			if _, _, err := export(t, o, o.MgrEast, crm.ObjCustomer, service.ExportFilter{}, "csv"); err != nil {
				t.Fatalf("export %d: %v", i, err)
			}
		}
		_, _, err := export(t, o, o.MgrEast, crm.ObjCustomer, service.ExportFilter{}, "csv")
		wantCode(t, err, crm.RateLimited)
		if ev, _ := lastEvent(t, db, "customer.export"); ev.Outcome != "denied" {
			t.Fatalf("refused export not audited: %+v", ev)
		}
		clock.Advance(time.Hour + time.Minute)
		if _, _, err := export(t, o, o.MgrEast, crm.ObjCustomer, service.ExportFilter{}, "csv"); err != nil {
			t.Fatalf("export an hour later: %v", err)
		}
	})
}
