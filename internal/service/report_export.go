package service

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/i18n"
	"custos/internal/store"
	"custos/internal/transfer"
)

// Report exports (issue 16: "report exports go through the export control
// of the copies issue"). A report leaves as a file under the same control
// as a list: the role's export right (on the object the report is about),
// the hourly export allowance, an export row in the export log, an audit
// event stored before a byte is written, the visible watermark and the
// invisible fingerprint that `custos trace` reads. A report holds figures,
// not records — no record ids, no personal data but the names of the
// people ranked — so it is never held for bulk-export approval: its rows
// are reps and stages, not customers.

// reportObjects is the object each report is about: its export needs the
// role's export right on that object.
var reportObjects = map[string]crm.Object{
	"funnel": crm.ObjOpportunity, "pipeline": crm.ObjOpportunity, "forecast": crm.ObjOpportunity,
	"win-rate": crm.ObjOpportunity, "cycle": crm.ObjOpportunity, "leaderboard": crm.ObjOpportunity,
	"trends": crm.ObjCustomer, "activity": crm.ObjFollowUp, "pool": crm.ObjCustomer,
}

// ReportObject is the object the report called name is about: exporting
// it needs the export right on that object.
func ReportObject(name string) (crm.Object, bool) {
	o, ok := reportObjects[name]
	return o, ok
}

// reportTable is one block of a report's file: a header and its rows.
type reportTable struct {
	head []string
	rows [][]string
}

// ReportExport is a report to write as a file.
type ReportExport struct {
	Name   string // one of crm.Reports
	Filter crm.ReportFilter
	Format string // csv (default) or xlsx
	Lang   string
}

// ExportReport writes a report as CSV or XLSX to w, watermarked and
// fingerprinted, and records it in the export log and the audit trail.
func (s *Service) ExportReport(ctx context.Context, a *access.Actor, r ReportExport, w io.Writer) (ExportFile, error) {
	o, ok := reportObjects[r.Name]
	if !ok {
		return ExportFile{}, crm.ErrNotFound("report")
	}
	kind := crm.Object("report." + r.Name)
	if err := s.require(ctx, a, o, crm.ActRead); err != nil {
		return ExportFile{}, err
	}
	if !a.Role.Reports || !a.Role.Grant(o).Export || a.Kind == access.KindSystem {
		s.auditDenied(ctx, a, string(kind)+".export", kind, 0)
		return ExportFile{}, crm.ErrForbidden()
	}
	if r.Format == "" {
		r.Format = FileCSV
	}
	if r.Format != FileCSV && r.Format != FileXLSX {
		return ExportFile{}, &crm.Error{Code: crm.Invalid, Message: "unknown file format",
			Fields: []crm.FieldError{{Field: "format", Rule: "enum", Param: FileCSV + ", " + FileXLSX}}}
	}
	if err := s.checkExportRate(ctx, a, kind); err != nil {
		return ExportFile{}, err
	}
	lang := i18n.Pick(r.Lang, "")
	tables, applied, err := s.reportTables(ctx, a, r.Name, r.Filter, lang)
	if err != nil {
		return ExportFile{}, err
	}
	rows := 0
	for _, t := range tables {
		rows += len(t.rows)
	}
	seed, sealedSeed, err := s.newExportSeed(ctx)
	if err != nil {
		return ExportFile{}, err
	}
	e := crm.Export{UserID: a.UserID, UserName: a.Name, Object: kind, Filter: string(mustJSON(applied)), Format: r.Format,
		Rows: rows, Seed: sealedSeed, Status: crm.ExportDone, CreatedAt: s.clock()}
	if err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertExport(ctx, &e); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, s.exportEvent(a, e, nil))
	}); err != nil {
		return ExportFile{}, err
	}
	wr, f, err := newFileWriter(w, r.Format, "report")
	if err != nil {
		return ExportFile{}, err
	}
	out := ExportFile{Export: e, Name: fmt.Sprintf("custos-report-%s-%d%s", r.Name, e.ID, f.Name), ContentType: f.ContentType}
	stamp := exportStamp(e)
	if err := setExportProps(wr, e); err != nil {
		return out, err
	}
	fp := transfer.NewFingerprint(seed)
	mark := func(cells []string) []string {
		marked := make([]string, len(cells))
		for i, c := range cells {
			marked[i] = fp.Mark(c)
		}
		return marked
	}
	period := i18n.T(lang, "report.from") + " " + applied.From + " · " + i18n.T(lang, "report.to") + " " + applied.To
	if err := wr.WriteRow([]string{i18n.T(lang, "object."+string(kind)), period}); err != nil {
		return out, err
	}
	for _, t := range tables {
		if err := wr.WriteRow(nil); err != nil {
			return out, err
		}
		if err := wr.WriteRow(mark(t.head)); err != nil {
			return out, err
		}
		for _, row := range t.rows {
			if err := wr.WriteRow(mark(row)); err != nil {
				return out, err
			}
		}
	}
	if err := wr.WriteRow(nil); err != nil {
		return out, err
	}
	if err := wr.WriteRow([]string{stamp}); err != nil {
		return out, err
	}
	return out, wr.Close()
}

// reportTables runs the report as the actor (scoped, field rules applied,
// audited as a report read) and lays it out as tables, with the filters
// as applied (defaults filled in).
func (s *Service) reportTables(ctx context.Context, a *access.Actor, name string, f crm.ReportFilter, lang string) ([]reportTable, crm.ReportFilter, error) {
	t := func(key string) string { return i18n.T(lang, "report.col."+key) }
	stage := func(r StageRef) string {
		if lang == "en" && r.NameEn != "" {
			return r.NameEn
		}
		return r.Name
	}
	switch name {
	case "funnel":
		r, err := s.FunnelReport(ctx, a, f)
		tb := reportTable{head: []string{t("stage"), t("reached"), t("conversion")}}
		for _, x := range r.Steps {
			tb.rows = append(tb.rows, []string{stage(x.StageRef), itoa(x.Reached), percent(x.Conversion)})
		}
		sum := reportTable{head: []string{t("cohort"), t("lost")}, rows: [][]string{{itoa(r.Cohort), itoa(r.Lost)}}}
		return []reportTable{sum, tb}, r.Filter, err
	case "pipeline":
		r, err := s.PipelineReport(ctx, a, f)
		tb := reportTable{head: []string{t("stage"), t("probability"), t("currency"), t("count"), t("amount"), t("weighted")}}
		for _, x := range r.Stages {
			for _, m := range x.Sums {
				tb.rows = append(tb.rows, []string{stage(x.StageRef), strconv.Itoa(x.Probability) + "%", m.Currency, itoa(m.Count), money(m.Amount), money(m.Weighted)})
			}
		}
		return []reportTable{tb}, r.Filter, err
	case "forecast":
		r, err := s.ForecastReport(ctx, a, f)
		tb := reportTable{head: []string{t("month"), t("currency"), t("open_count"), t("amount"), t("weighted"), t("won_count"), t("won_amount")}}
		for _, x := range r.Months {
			for _, c := range currencies(x.Open, x.Won) {
				o, w := sumFor(x.Open, c, r.AmountsShown), sumFor(x.Won, c, r.AmountsShown)
				tb.rows = append(tb.rows, []string{x.Month, c, itoa(o.Count), money(o.Amount), money(o.Weighted), itoa(w.Count), money(w.Amount)})
			}
		}
		return []reportTable{tb}, r.Filter, err
	case "win-rate":
		r, err := s.WinRateReport(ctx, a, f)
		sum := reportTable{head: []string{t("won_count"), t("lost_count"), t("win_rate")}, rows: [][]string{{itoa(r.Won), itoa(r.Lost), percent(r.Rate)}}}
		tb := reportTable{head: []string{t("currency"), t("won_count"), t("won_amount"), t("lost_count"), t("lost_amount"), t("amount_rate")}}
		for _, c := range r.Currencies {
			tb.rows = append(tb.rows, []string{c.Currency, itoa(c.Won.Count), money(c.Won.Amount), itoa(c.Lost.Count), money(c.Lost.Amount), percent(c.AmountRate)})
		}
		reasons := reportTable{head: []string{t("lost_reason"), t("count")}}
		for _, x := range r.LostReasons {
			reasons.rows = append(reasons.rows, []string{x.Reason, itoa(x.Count)})
		}
		return []reportTable{sum, tb, reasons}, r.Filter, err
	case "cycle":
		r, err := s.CycleReport(ctx, a, f)
		sum := reportTable{head: []string{t("won_count"), t("mean_days"), t("median_days")}, rows: [][]string{{itoa(r.Won), decimal(r.MeanDays), decimal(r.MedianDays)}}}
		tb := reportTable{head: []string{t("stage"), t("stays"), t("mean_days")}}
		for _, x := range r.Stages {
			tb.rows = append(tb.rows, []string{stage(x.StageRef), itoa(x.Stays), decimal(&x.MeanDays)})
		}
		return []reportTable{sum, tb}, r.Filter, err
	case "leaderboard":
		r, err := s.LeaderboardReport(ctx, a, f)
		reps := reportTable{head: []string{t("rep"), t("department"), t("won_count"), t("won_amount"), t("new_customers"), t("follow_ups")}}
		for _, x := range r.Reps {
			reps.rows = append(reps.rows, []string{x.Name, x.DeptName, itoa(wonCount(x)), moneyList(x.Won), itoa(x.NewCustomers), itoa(x.FollowUps)})
		}
		depts := reportTable{head: []string{t("department"), t("won_count"), t("won_amount"), t("new_customers"), t("follow_ups")}}
		for _, x := range r.Departments {
			depts.rows = append(depts.rows, []string{x.DeptName, itoa(wonCount(x)), moneyList(x.Won), itoa(x.NewCustomers), itoa(x.FollowUps)})
		}
		return []reportTable{reps, depts}, r.Filter, err
	case "trends":
		r, err := s.TrendsReport(ctx, a, f)
		tb := reportTable{head: []string{t("period"), t("customers"), t("leads"), t("follow_ups")}}
		loc := s.Location(a)
		row := func(label string, c TrendCounts) []string {
			if label == "" {
				label = c.Start.In(loc).Format(time.DateOnly) + " – " + c.End.In(loc).Add(-time.Nanosecond).Format(time.DateOnly)
			}
			leads := "—"
			if c.Leads != nil {
				leads = itoa(*c.Leads)
			}
			return []string{label, itoa(c.Customers), leads, itoa(c.FollowUps)}
		}
		for _, b := range r.Buckets {
			tb.rows = append(tb.rows, row("", b))
		}
		tb.rows = append(tb.rows, row(t("total"), r.Total), row(t("previous"), r.Previous))
		if r.Baseline != nil {
			tb.rows = append(tb.rows, row(t("baseline"), *r.Baseline))
		}
		return []reportTable{tb}, r.Filter, err
	case "activity":
		r, err := s.AdoptionReport(ctx, a, f)
		head := []string{t("sign_ins"), t("active_days"), t("follow_ups"), t("created"), t("updated"), t("overdue"), t("idle")}
		cells := func(x ActivityRow) []string {
			return []string{itoa(x.SignIns), itoa(x.ActiveDays), itoa(x.FollowUps), itoa(x.Created), itoa(x.Updated), itoa(x.Overdue), itoa(x.Idle)}
		}
		reps := reportTable{head: append([]string{t("rep"), t("department")}, head...)}
		for _, x := range r.Reps {
			reps.rows = append(reps.rows, append([]string{x.Name, x.DeptName}, cells(x)...))
		}
		depts := reportTable{head: append([]string{t("department")}, head...)}
		for _, x := range r.Departments {
			depts.rows = append(depts.rows, append([]string{x.DeptName}, cells(x)...))
		}
		return []reportTable{reps, depts}, r.Filter, err
	case "pool":
		r, err := s.PoolReport(ctx, a, f)
		sum := reportTable{head: []string{t("entered"), t("left"), t("in_pool")}, rows: [][]string{{itoa(r.Entered), itoa(r.Left), itoa(r.InPool)}}}
		claims := reportTable{head: []string{t("rep"), t("department"), t("claims")}}
		for _, x := range r.Claims {
			claims.rows = append(claims.rows, []string{x.Name, x.DeptName, itoa(x.Count)})
		}
		return []reportTable{sum, claims}, r.Filter, err
	}
	return nil, f, crm.ErrNotFound("report")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// money is an amount as a file shows it (majorUnits), "—" when hidden.
func money(v *int64) string {
	if v == nil {
		return "—"
	}
	return majorUnits(*v)
}

// moneyList is one amount per currency ("CNY 12.00; USD 3.00"), "—" when
// the amounts are hidden, "0" without any.
func moneyList(ms []MoneySum) string {
	if len(ms) == 0 {
		return "0"
	}
	var parts []string
	for _, m := range ms {
		if m.Amount == nil {
			return "—"
		}
		parts = append(parts, m.Currency+" "+money(m.Amount))
	}
	return strings.Join(parts, "; ")
}

func percent(v *float64) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v*100, 'f', 1, 64) + "%"
}

func decimal(v *float64) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v, 'f', 1, 64)
}

// currencies lists the currencies of two sets of sums, in order.
func currencies(a, b []MoneySum) []string {
	var out []string
	for _, m := range append(slices.Clone(a), b...) {
		if !slices.Contains(out, m.Currency) {
			out = append(out, m.Currency)
		}
	}
	return out
}

// sumFor is the sum in one currency, or none: zero deals, and zero amounts
// when amounts are shown (hidden amounts stay "—").
func sumFor(ms []MoneySum, currency string, shown bool) MoneySum {
	for _, m := range ms {
		if m.Currency == currency {
			return m
		}
	}
	out := MoneySum{Currency: currency}
	if shown {
		out.Amount, out.Weighted = new(int64), new(int64)
	}
	return out
}
