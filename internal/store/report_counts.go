package store

import (
	"context"
	"strings"
	"time"

	"custos/internal/crm"
)

// Report counts (migration 0047): per owner, the records created, the
// deals won and lost, the sign-ins and the record versions made in each
// hour and each UTC day, kept by triggers in the transaction of every
// change. A report over a period reads one row per owner and piece of the
// period instead of every record in it: the manager of 30,000 customers
// reads a few thousand rows for "the last 30 days", not 300,000
// follow-ups. A count belongs to the record's owner now, so a report
// counts the records of the people the reader sees (their owner scope),
// as the exact queries below do when the counts cannot answer.

// Report count metrics: what report_counts counts (migration 0047).
const (
	MetricWon      = "won"
	MetricLost     = "lost"
	metricStay     = "stay"
	metricSignIn   = "sign_in"
	metricCreated  = "created"
	metricUpdated  = "updated"
	hourMS         = int64(time.Hour / time.Millisecond)
	dayMS          = 24 * hourMS
	countAllOwners = "rc.owner_id IN (SELECT id FROM users UNION ALL SELECT 0)"
)

// recordMetric is the metric counting the records of o created (the
// names migration 0047's triggers write); an object without one is
// counted from its records.
var recordMetric = map[crm.Object]string{crm.ObjCustomer: "customer", crm.ObjLead: "lead", crm.ObjFollowUp: "follow_up"}

// createdCounts is Counts of the records of o created, ok false for an
// object the counts do not keep (an empty metric would answer 0).
func (tx *Tx) createdCounts(ctx context.Context, q ReportQuery, o crm.Object, bounds []time.Time) ([]CountRow, bool, error) {
	metric, kept := recordMetric[o]
	if !kept {
		return nil, false, nil
	}
	return tx.Counts(ctx, q, q.Scopes[o].Own, metric, bounds)
}

// countPiece is a span [from, to) of report counts at one grain (Unix
// milliseconds, multiples of grain), part of bucket.
type countPiece struct {
	bucket          int
	grain, from, to int64
}

// countPieces cuts each bucket of bounds (the buckets' starts and the last
// one's end) into the hours at its edges and the UTC days between. False
// when a bound is not on an hour: a zone whose offset is not whole hours
// (India's, Nepal's) cuts hours, and only the records can answer.
func countPieces(bounds []time.Time) ([]countPiece, bool) {
	var out []countPiece
	for i := 0; i+1 < len(bounds); i++ {
		s, e := ms(bounds[i]), ms(bounds[i+1])
		if s%hourMS != 0 || e%hourMS != 0 || s < 0 {
			return nil, false
		}
		ds, de := (s+dayMS-1)/dayMS*dayMS, e/dayMS*dayMS
		if ds >= de {
			out = append(out, countPiece{i, hourMS, s, e})
			continue
		}
		if s < ds {
			out = append(out, countPiece{i, hourMS, s, ds})
		}
		out = append(out, countPiece{i, dayMS, ds, de})
		if de < e {
			out = append(out, countPiece{i, hourMS, de, e})
		}
	}
	return out, true
}

// CountRow sums the report counts of one bucket, owner and detail (the
// currency of won and lost deals, the stage of stays).
type CountRow struct {
	Bucket    int
	OwnerID   int64
	Detail    string
	N, Amount int64
}

// countOwners renders "the count's owner is one the report counts": within
// the owner scope s and the report's department and owner filters. The
// owners are listed from users (with 0, no owner, for a reader of all
// records) so each is a range of the counts' key, not a scan of them all.
func (q ReportQuery) countOwners(s Scope, a *args) string {
	if s.Kind == crm.ScopeAll && q.DeptPath == "" && q.OwnerID == 0 {
		return countAllOwners
	}
	return "rc.owner_id IN (SELECT pu.id FROM users pu WHERE " + ownerCond(s, "pu.id", a) + q.ownerFilter("pu.id", a) + ")"
}

// countable reports whether the counts can answer q: not with a filter on
// a customer's fields (the counts are per owner, not per customer).
func (q ReportQuery) countable() bool { return len(q.Customer) == 0 && !q.Exact }

// Counts sums metric's report counts in each bucket of bounds by owner and
// detail, for the owners within s and the report's filters (a currency
// filter narrows won and lost). ok is false when the counts cannot answer
// and the records must be counted.
func (tx *Tx) Counts(ctx context.Context, q ReportQuery, s Scope, metric string, bounds []time.Time) (rows []CountRow, ok bool, err error) {
	pieces, ok := countPieces(bounds)
	if !ok || !q.countable() || (metric == metricStay && q.Currency != "") { // stays are not kept per currency
		return nil, false, nil
	}
	var a args
	vals := make([]string, len(pieces))
	for i, p := range pieces {
		vals[i] = "(CAST(" + a.add(p.bucket) + " AS BIGINT), CAST(" + a.add(p.grain) + " AS BIGINT), CAST(" + a.add(p.from) +
			" AS BIGINT), CAST(" + a.add(p.to) + " AS BIGINT))"
	}
	w := "rc.metric = " + a.add(metric) + " AND " + q.countOwners(s, &a)
	if q.Currency != "" && (metric == MetricWon || metric == MetricLost) {
		w += " AND rc.detail = " + a.add(q.Currency)
	}
	query := "SELECT p.column1, rc.owner_id, rc.detail, SUM(rc.n), SUM(rc.amount) FROM (VALUES " + strings.Join(vals, ", ") +
		") p JOIN report_counts rc ON rc.grain = p.column2 AND rc.at >= p.column3 AND rc.at < p.column4 WHERE " + w +
		" GROUP BY p.column1, rc.owner_id, rc.detail"
	rows = []CountRow{}
	err = tx.query(ctx, "report counts", query, a, func(r scanner) error {
		var c CountRow
		err := r.Scan(&c.Bucket, &c.OwnerID, &c.Detail, &c.N, &c.Amount)
		if c.N != 0 || c.Amount != 0 {
			rows = append(rows, c)
		}
		return err
	})
	return rows, err == nil, err
}

// activeDays counts, per user within the people scope, the days (of the
// zone at offset, whole hours) in the period with a sign-in or a record
// version of theirs, from the hourly counts. ok as for Counts.
func (tx *Tx) activeDays(ctx context.Context, q ReportQuery, offset time.Duration) (map[int64]int64, bool, error) {
	if _, ok := countPieces([]time.Time{q.Start, q.End}); !ok || !q.countable() || offset%time.Hour != 0 {
		return nil, false, nil
	}
	var a args
	off := a.add(offset.Milliseconds())
	w := "rc.metric IN ('" + metricSignIn + "', '" + metricCreated + "', '" + metricUpdated + "') AND rc.grain = " + a.add(hourMS) +
		" AND rc.at >= " + a.add(ms(q.Start)) + " AND rc.at < " + a.add(ms(q.End)) + " AND rc.n > 0 AND " + q.countOwners(q.People, &a)
	out := map[int64]int64{}
	err := tx.query(ctx, "active days", "SELECT rc.owner_id, COUNT(DISTINCT (rc.at + "+off+") / 86400000) FROM report_counts rc WHERE "+w+
		" GROUP BY rc.owner_id", a, func(r scanner) error {
		var id, n int64
		err := r.Scan(&id, &n)
		out[id] = n
		return err
	})
	return out, err == nil, err
}
