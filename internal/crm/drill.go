package crm

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// DrillFilter holds the list filters a report's drill-down narrows by
// (issue 16), beside each list's own filters: a report names a figure's
// records as a list path and a query, and the list reads the query back
// with ParseDrillFilter, on the API and the web alike. Times are instants
// (RFC 3339), the end excluded, so a period cut in the reader's time zone
// is the same period for the list; dates are calendar dates, both ends
// included.
type DrillFilter struct {
	CreatedFrom *time.Time `json:"created_from,omitempty"`
	CreatedTo   *time.Time `json:"created_to,omitempty"`
	// Opportunities: closed in [ClosedFrom, ClosedTo), now in a stage of
	// StageKind, in Currency, expected to close within the dates, lost for
	// LostReason, having reached (in their stage history) an open or won
	// stage at ReachedPosition or later — as the funnel counts.
	ClosedFrom        *time.Time `json:"closed_from,omitempty"`
	ClosedTo          *time.Time `json:"closed_to,omitempty"`
	StageKind         string     `json:"stage_kind,omitempty"`
	Currency          string     `json:"currency,omitempty"`
	ExpectedCloseFrom string     `json:"expected_close_from,omitempty"`
	ExpectedCloseTo   string     `json:"expected_close_to,omitempty"`
	LostReason        string     `json:"lost_reason,omitempty"`
	ReachedPosition   *int       `json:"reached_position,omitempty"`
	// Level, Source and Industry are a customer's; on a record hanging off
	// a customer they are its customer's, on a lead its own (a lead has a
	// source, no level or industry).
	Level    string `json:"level,omitempty"`
	Source   string `json:"source,omitempty"`
	Industry string `json:"industry,omitempty"`
	// Customers: the next follow-up is before NextFollowUpBefore; the last
	// follow-up (or, never followed up, the creation) is before
	// LastFollowUpBefore — the activity report's overdue and idle.
	NextFollowUpBefore *time.Time `json:"next_follow_up_before,omitempty"`
	LastFollowUpBefore *time.Time `json:"last_follow_up_before,omitempty"`
}

// drillParams names, per query parameter of DrillFilter, the objects whose
// lists take it.
var drillParams = map[string][]Object{
	"created_from": {ObjCustomer, ObjLead, ObjOpportunity, ObjFollowUp}, "created_to": {ObjCustomer, ObjLead, ObjOpportunity, ObjFollowUp},
	"closed_from": {ObjOpportunity}, "closed_to": {ObjOpportunity}, "stage_kind": {ObjOpportunity}, "currency": {ObjOpportunity},
	"expected_close_from": {ObjOpportunity}, "expected_close_to": {ObjOpportunity}, "lost_reason": {ObjOpportunity},
	"reached_position": {ObjOpportunity},
	"level":            {ObjCustomer, ObjOpportunity, ObjFollowUp}, "industry": {ObjCustomer, ObjOpportunity, ObjFollowUp},
	"source":                {ObjCustomer, ObjLead, ObjOpportunity, ObjFollowUp},
	"next_follow_up_before": {ObjCustomer}, "last_follow_up_before": {ObjCustomer},
}

// DrillParams returns the drill-down parameters o's list takes, with what
// each does, for the API document.
func DrillParams(o Object) map[string]string {
	doc := map[string]string{
		"created_from": "created at or after this instant (RFC 3339)", "created_to": "created before this instant (RFC 3339)",
		"closed_from": "closed (won or lost) at or after this instant (RFC 3339)", "closed_to": "closed before this instant (RFC 3339)",
		"stage_kind": "now in a stage of this kind: open, won or lost", "currency": "in this currency (ISO 4217)",
		"expected_close_from": "expected to close on or after this date", "expected_close_to": "expected to close on or before this date",
		"lost_reason": "lost for this reason", "reached_position": "reached, in its stage history, an open or won stage at this position or later (the funnel)",
		"level": "the customer's level", "source": "the customer's source", "industry": "the customer's industry",
		"next_follow_up_before": "the next follow-up is before this instant (RFC 3339)",
		"last_follow_up_before": "not followed up since this instant (never followed up: created before it)",
	}
	if o == ObjLead {
		doc["source"] = "the lead's source"
	}
	out := map[string]string{}
	for name, objects := range drillParams {
		for _, x := range objects {
			if x == o {
				out[name] = doc[name]
			}
		}
	}
	return out
}

// ParseDrillFilter reads the drill-down parameters of a list's query. It
// checks their form; the list checks that it takes them (Check).
func ParseDrillFilter(q url.Values) (DrillFilter, error) {
	var f DrillFilter
	var p Problems
	instant := func(name string) *time.Time {
		v := q.Get(name)
		if v == "" {
			return nil
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			p.Add(name, "instant")
			return nil
		}
		return &t
	}
	f.CreatedFrom, f.CreatedTo = instant("created_from"), instant("created_to")
	f.ClosedFrom, f.ClosedTo = instant("closed_from"), instant("closed_to")
	f.NextFollowUpBefore, f.LastFollowUpBefore = instant("next_follow_up_before"), instant("last_follow_up_before")
	f.StageKind = p.Enum("stage_kind", q.Get("stage_kind"), false, []string{StageOpen, StageWon, StageLost})
	if f.Currency = q.Get("currency"); f.Currency != "" && !IsCurrency(f.Currency) {
		p.Add("currency", "currency")
	}
	f.ExpectedCloseFrom = p.Date("expected_close_from", q.Get("expected_close_from"), false)
	f.ExpectedCloseTo = p.Date("expected_close_to", q.Get("expected_close_to"), false)
	f.LostReason = p.Text("lost_reason", q.Get("lost_reason"), false, 200)
	if v := q.Get("reached_position"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			p.Add("reached_position", "integer")
		} else {
			f.ReachedPosition = &n
		}
	}
	f.Level = p.Enum("level", q.Get("level"), false, CustomerLevels)
	f.Source = p.Enum("source", q.Get("source"), false, CustomerSources)
	f.Industry = p.Text("industry", q.Get("industry"), false, 100)
	return f, p.Err()
}

// Query renders the filter as the query parameters ParseDrillFilter reads.
func (f DrillFilter) Query() url.Values {
	q := url.Values{}
	set := func(name, v string) {
		if v != "" {
			q.Set(name, v)
		}
	}
	at := func(name string, t *time.Time) {
		if t != nil {
			q.Set(name, t.Format(time.RFC3339Nano))
		}
	}
	at("created_from", f.CreatedFrom)
	at("created_to", f.CreatedTo)
	at("closed_from", f.ClosedFrom)
	at("closed_to", f.ClosedTo)
	at("next_follow_up_before", f.NextFollowUpBefore)
	at("last_follow_up_before", f.LastFollowUpBefore)
	set("stage_kind", f.StageKind)
	set("currency", f.Currency)
	set("expected_close_from", f.ExpectedCloseFrom)
	set("expected_close_to", f.ExpectedCloseTo)
	set("lost_reason", f.LostReason)
	if f.ReachedPosition != nil {
		q.Set("reached_position", strconv.Itoa(*f.ReachedPosition))
	}
	set("level", f.Level)
	set("source", f.Source)
	set("industry", f.Industry)
	return q
}

// IsZero reports whether the filter narrows nothing.
func (f DrillFilter) IsZero() bool { return f == DrillFilter{} }

// Check refuses the parameters o's list does not take: a drill-down that
// silently dropped one would list other records than its figure counts.
func (f DrillFilter) Check(o Object) error {
	var p Problems
	for _, name := range slices.Sorted(maps.Keys(f.Query())) {
		ok := false
		for _, x := range drillParams[name] {
			ok = ok || x == o
		}
		if !ok {
			p.Add(name, "not_filterable")
		}
	}
	return p.Err()
}

// CustomerFields names the customer fields the filter narrows by (level,
// source, industry), for the field rules.
func (f DrillFilter) CustomerFields() map[string]string {
	out := map[string]string{}
	for name, v := range map[string]string{"level": f.Level, "source": f.Source, "industry": f.Industry} {
		if v != "" {
			out[name] = v
		}
	}
	return out
}
