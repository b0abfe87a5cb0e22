package crm

import (
	"strconv"
	"time"
)

// Reports names every report, in menu order; the API serves each at
// /api/v1/reports/<name>.
var Reports = []string{"funnel", "pipeline", "forecast", "win-rate", "cycle", "leaderboard", "trends", "activity", "pool"}

// Report intervals of the trend report.
const (
	IntervalWeek  = "week"
	IntervalMonth = "month"
)

// MaxReportDays bounds a report's period (and so the buckets of a trend).
const MaxReportDays = 1100

// ReportFilter narrows a report. Every report is also narrowed to the
// actor's record scope; these filters only narrow further. Dates are
// calendar dates in the actor's time zone, From and To both included.
type ReportFilter struct {
	From         string `json:"from,omitempty"`
	To           string `json:"to,omitempty"`
	DepartmentID int64  `json:"department_id,omitempty"` // the owners in this department and below
	OwnerID      int64  `json:"owner_id,omitempty"`
	// Level, Source and Industry narrow to records of customers with that
	// value (a lead by its own source).
	Level    string `json:"level,omitempty"`
	Source   string `json:"source,omitempty"`
	Industry string `json:"industry,omitempty"`
	Currency string `json:"currency,omitempty"`
	// Interval is the bucket of the trend report: week or month.
	Interval string `json:"interval,omitempty"`
	// Baseline is the last day of a period of the same length the trend
	// report compares with (e.g. the day before the roll-out).
	Baseline string `json:"baseline,omitempty"`
	// IdleDays is N in "customers without a follow-up for N days" (activity).
	IdleDays int `json:"idle_days,omitempty"`
}

// Validate checks the filter and fills the defaults that need no clock:
// interval month, 30 idle days.
func (f *ReportFilter) Validate() error {
	var p Problems
	f.From = p.Date("from", f.From, false)
	f.To = p.Date("to", f.To, false)
	f.Baseline = p.Date("baseline", f.Baseline, false)
	if len(p) == 0 && f.From != "" && f.To != "" {
		from, _ := time.Parse(time.DateOnly, f.From)
		to, _ := time.Parse(time.DateOnly, f.To)
		switch {
		case to.Before(from):
			p.Add("to", "before_start")
		case to.Sub(from) > MaxReportDays*24*time.Hour:
			p.Add("to", "range", "≤ "+strconv.Itoa(MaxReportDays)+" days")
		}
	}
	if f.DepartmentID < 0 {
		p.Add("department_id", "not_found")
	}
	if f.OwnerID < 0 {
		p.Add("owner_id", "not_found")
	}
	f.Level = p.Enum("level", f.Level, false, CustomerLevels)
	f.Source = p.Enum("source", f.Source, false, CustomerSources)
	f.Industry = p.Text("industry", f.Industry, false, 100)
	if f.Currency != "" && !IsCurrency(f.Currency) {
		p.Add("currency", "currency")
	}
	if f.Interval == "" {
		f.Interval = IntervalMonth
	}
	f.Interval = p.Enum("interval", f.Interval, true, []string{IntervalWeek, IntervalMonth})
	if f.IdleDays == 0 {
		f.IdleDays = 30
	}
	if f.IdleDays < 1 || f.IdleDays > 3650 {
		p.Add("idle_days", "range", "1-3650")
	}
	p.LabelAs("from", "report.from")
	p.LabelAs("to", "report.to")
	return p.Err()
}

// Money is a sum in minor units of one currency. Sums never mix currencies.
type Money struct {
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
}

// Report is what every report answers besides its figures: the filter it
// was computed under (defaults filled in), the period as instants, and
// whether amounts are shown at all (false when the actor's role hides or
// masks the amount field: then every amount is null, never 0).
type Report struct {
	Filter       ReportFilter `json:"filter"`
	Start        time.Time    `json:"start"`
	End          time.Time    `json:"end"` // exclusive
	AmountsShown bool         `json:"amounts_shown"`
	// Drill is the list (API path and query string) that yields the records
	// a figure counts; "" where no list filter expresses it.
	Drill string `json:"drill,omitempty"`
}
