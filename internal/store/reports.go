package store

import (
	"context"
	"database/sql"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"custos/internal/crm"
)

// Report queries (issue 16). Every one is an aggregate computed by the
// database: rows are counted and summed where they lie, never loaded to be
// counted — from the report counts (report_counts.go) where they can
// answer, else from the records. A report counts the records whose owner
// is within the reader's owner scope for the object (a rep's own, a
// manager's team's), not every record the reader may open: a colleague's
// follow-up on the rep's customer is the colleague's work. Each returns
// rows grouped by what the report shows; the service shapes them.

// ReportQuery is the scope and the filters every report query shares.
type ReportQuery struct {
	// Scopes holds, per object, the actor's scope: Own and Customer for
	// the objects hanging off a customer (as ChildScope renders them), Own
	// alone for the others.
	Scopes map[crm.Object]ChildScope
	// People is the scope of the users a report names (sign-ins, activity,
	// pool claims): the actor's customer scope applied to the user.
	People Scope
	// Start and End bound the period, End excluded.
	Start, End time.Time
	// DeptPath keeps records whose owner is in that department or below.
	DeptPath string
	OwnerID  int64
	// Customer narrows to records whose customer has these field values
	// (level, source, industry); an object with the field itself (a lead's
	// source) is narrowed by its own.
	Customer map[string]string
	Currency string
	// Exact counts the records even where the report counts could answer
	// (the tests compare the two).
	Exact bool
}

// Applies reports whether the customer filters can narrow records of o: a
// lead has no customer and no level, so a level filter leaves no leads to
// count (the report says the figure is not available rather than 0).
func (q ReportQuery) Applies(o crm.Object) bool {
	spec, _ := crm.Spec(o)
	if o == crm.ObjCustomer || spec.Parent == crm.ObjCustomer {
		return true
	}
	for name := range q.Customer {
		if _, ok := spec.Field(name); !ok {
			return false
		}
	}
	return true
}

// ownerFilter renders the department and owner filters on an owner column.
func (q ReportQuery) ownerFilter(col string, a *args) string {
	w := ""
	if q.DeptPath != "" {
		w += " AND " + ownerCond(Scope{Kind: crm.ScopeSubtree, DeptPath: q.DeptPath}, col, a)
	}
	if q.OwnerID != 0 {
		w += " AND " + col + " = " + a.add(q.OwnerID)
	}
	return w
}

// customerFilter renders the customer field filters for a record of o
// aliased alias (or, with customerCol, for the customer a row names).
func (q ReportQuery) customerFilter(o crm.Object, alias, customerCol string, a *args) string {
	if len(q.Customer) == 0 {
		return ""
	}
	spec, _ := crm.Spec(o)
	w := ""
	var via []string
	for _, name := range slices.Sorted(maps.Keys(q.Customer)) {
		v := q.Customer[name]
		if f, ok := spec.Field(name); ok && customerCol == "" {
			w += " AND " + alias + "." + f.Column + " = " + a.add(v)
			continue
		}
		cs, _ := crm.Spec(crm.ObjCustomer)
		f, _ := cs.Field(name)
		via = append(via, "rc."+f.Column+" = "+a.add(v))
	}
	if len(via) > 0 {
		col := customerCol
		if col == "" {
			col = alias + ".customer_id"
		}
		w += " AND EXISTS (SELECT 1 FROM customers rc WHERE rc.id = " + col + " AND " + strings.Join(via, " AND ") + ")"
	}
	return w
}

// where renders the condition keeping the live records of o whose owner
// is within the actor's owner scope for o, and the filters (not the
// period, not the currency).
func (q ReportQuery) where(o crm.Object, a *args) string {
	al := q.alias(o)
	return ownerCond(q.Scopes[o].Own, al+".owner_id", a) + " AND " + al + ".deleted_at IS NULL" + q.ownerFilter(al+".owner_id", a) +
		q.customerFilter(o, al, "", a)
}

func (q ReportQuery) alias(o crm.Object) string {
	spec, _ := crm.Spec(o)
	return spec.Alias
}

// oppWhere is where for opportunities, with the currency filter.
func (q ReportQuery) oppWhere(a *args) string {
	w := q.where(crm.ObjOpportunity, a)
	if q.Currency != "" {
		w += " AND o.currency = " + a.add(q.Currency)
	}
	return w
}

// period renders "col within [Start, End)".
func (q ReportQuery) period(col string, a *args) string {
	return col + " >= " + a.add(ms(q.Start)) + " AND " + col + " < " + a.add(ms(q.End))
}

// buckets renders a VALUES table of numbered time ranges (columns
// column1: the bucket's index, column2 and column3: its bounds in Unix
// milliseconds, the end excluded), so rows are bucketed by calendar
// weeks or months of the actor's time zone on both databases alike. The
// casts give PostgreSQL the parameters' type.
func buckets(bounds []time.Time, a *args) string {
	rows := make([]string, 0, len(bounds))
	for i := 0; i+1 < len(bounds); i++ {
		rows = append(rows, "(CAST("+a.add(i)+" AS BIGINT), CAST("+a.add(ms(bounds[i]))+" AS BIGINT), CAST("+a.add(ms(bounds[i+1]))+" AS BIGINT))")
	}
	return "(VALUES " + strings.Join(rows, ", ") + ") b"
}

// query runs a report query and hands each row to scan.
func (tx *Tx) query(ctx context.Context, op, query string, a args, scan func(scanner) error) error {
	rows, err := tx.q.QueryContext(ctx, query, a...)
	if err != nil {
		return mapErr(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return mapErr(op, err)
		}
	}
	return mapErr(op, rows.Err())
}

// The owner-led indexes covering what the reports read of the deals
// (migration 0047).
const (
	oppsByStage         = "opportunities_live_owner_stage"
	oppsByExpectedClose = "opportunities_live_owner_close"
	oppsByClosing       = "opportunities_live_owner_closed"
	oppsByCreation      = "opportunities_live_owner_created"
	oppsByReach         = "opportunities_live_owner_reach"
)

// opportunities names the deals' table, aliased o, for a report read
// through index: on SQLite, which has no statistics to choose by and
// otherwise picks an owner index that does not cover the read and fetches
// every deal of the team from the table, with INDEXED BY; PostgreSQL
// chooses by its statistics.
func (tx *Tx) opportunities(index string) string {
	if tx.d == SQLite {
		return "opportunities o INDEXED BY " + index
	}
	return "opportunities o"
}

// StageSum is a count and amounts of opportunities in one stage (or of one
// kind), in one currency. Weighted is the sum of amount × the stage's
// probability, each deal's share rounded down to a minor unit.
type StageSum struct {
	StageID  int64
	Kind     string
	Key      string // the month ("2026-01") or reason the row is about, where one is
	Currency string
	Count    int64
	Amount   int64
	Weighted int64
}

// FunnelReach counts, for the opportunities created in the period, how
// many got no further than each stage position (the furthest open or won
// stage in their history): reaching a stage means reaching it or one
// after it. lost counts those of the cohort now in a lost stage.
func (tx *Tx) FunnelReach(ctx context.Context, q ReportQuery) (furthest map[int]int64, lost int64, err error) {
	var a args
	w := q.oppWhere(&a) + " AND " + q.period("o.created_at", &a)
	furthest = map[int]int64{}
	// reached_position (migration 0047) is the furthest open or won stage
	// of each deal's history, kept with it.
	// Grouped by owner first, in the order of the index, then summed: one
	// pass without a sort of the whole cohort.
	err = tx.query(ctx, "funnel", "SELECT x.p, SUM(x.n) FROM (SELECT o.owner_id, o.reached_position AS p, COUNT(*) AS n FROM "+tx.opportunities(oppsByReach)+
		" WHERE "+w+" AND o.reached_position IS NOT NULL GROUP BY o.owner_id, o.reached_position) x GROUP BY x.p", a, func(r scanner) error {
		var p int
		var n int64
		err := r.Scan(&p, &n)
		furthest[p] = n
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	var b args
	w = q.oppWhere(&b) + " AND " + q.period("o.created_at", &b)
	err = tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+tx.opportunities(oppsByCreation)+" JOIN stages st ON st.id = o.stage_id WHERE "+w+
		" AND st.kind = 'lost'", b...).Scan(&lost)
	return furthest, lost, mapErr("funnel lost", err)
}

// PipelineByStage sums the open opportunities by stage and currency.
func (tx *Tx) PipelineByStage(ctx context.Context, q ReportQuery) ([]StageSum, error) {
	var a args
	// Grouped by owner first, in the order of the index, then summed: one
	// pass without a sort of every deal.
	return tx.stageSums(ctx, "pipeline", `SELECT x.stage_id, 'open', '', x.currency, SUM(x.n), SUM(x.amount), SUM(x.weighted) FROM (
		SELECT o.owner_id, o.stage_id, o.currency, COUNT(*) AS n, SUM(o.amount) AS amount, SUM(o.amount * st.probability / 100) AS weighted
		FROM `+tx.opportunities(oppsByStage)+` JOIN stages st ON st.id = o.stage_id WHERE `+q.oppWhere(&a)+` AND st.kind = 'open'
		GROUP BY o.owner_id, o.stage_id, o.currency) x GROUP BY x.stage_id, x.currency`, a)
}

// ForecastOpen sums the open opportunities expected to close in the period
// (calendar dates from..to, both included) by month and currency.
func (tx *Tx) ForecastOpen(ctx context.Context, q ReportQuery, from, to string) ([]StageSum, error) {
	var a args
	w := q.oppWhere(&a) + " AND st.kind = 'open' AND o.expected_close_date >= " + a.add(from) + " AND o.expected_close_date <= " + a.add(to)
	return tx.stageSums(ctx, "forecast", `SELECT 0, 'open', substr(o.expected_close_date, 1, 7), o.currency, COUNT(*), SUM(o.amount),
		SUM(o.amount * st.probability / 100) FROM `+tx.opportunities(oppsByExpectedClose)+` JOIN stages st ON st.id = o.stage_id WHERE `+w+`
		GROUP BY substr(o.expected_close_date, 1, 7), o.currency`, a)
}

// WonByBucket sums the opportunities won in each bucket (bounds: the
// buckets' starts and the last one's end), by currency; Key is the
// bucket's index.
func (tx *Tx) WonByBucket(ctx context.Context, q ReportQuery, bounds []time.Time) ([]StageSum, error) {
	if rows, ok, err := tx.Counts(ctx, q, q.Scopes[crm.ObjOpportunity].Own, MetricWon, bounds); ok || err != nil {
		return countSums(rows, MetricWon, func(c CountRow) (int64, string) { return 0, strconv.Itoa(c.Bucket) }), err
	}
	var a args
	b := buckets(bounds, &a)
	return tx.stageSums(ctx, "won", `SELECT 0, 'won', CAST(b.column1 AS TEXT), o.currency, COUNT(*), SUM(o.amount), SUM(o.amount)
		FROM `+tx.opportunities(oppsByClosing)+` JOIN stages st ON st.id = o.stage_id JOIN `+b+` ON o.closed_at >= b.column2 AND o.closed_at < b.column3
		WHERE `+q.oppWhere(&a)+` AND st.kind = 'won' GROUP BY b.column1, o.currency`, a)
}

// ClosedByKind sums the opportunities closed (won or lost) in the period
// by kind and currency.
func (tx *Tx) ClosedByKind(ctx context.Context, q ReportQuery) ([]StageSum, error) {
	period := []time.Time{q.Start, q.End}
	won, ok, err := tx.Counts(ctx, q, q.Scopes[crm.ObjOpportunity].Own, MetricWon, period)
	if ok && err == nil {
		var lost []CountRow
		lost, _, err = tx.Counts(ctx, q, q.Scopes[crm.ObjOpportunity].Own, MetricLost, period)
		none := func(CountRow) (int64, string) { return 0, "" }
		return append(countSums(won, MetricWon, none), countSums(lost, MetricLost, none)...), err
	}
	if err != nil {
		return nil, err
	}
	var a args
	w := q.oppWhere(&a) + " AND st.kind IN ('won', 'lost') AND " + q.period("o.closed_at", &a)
	return tx.stageSums(ctx, "win rate", `SELECT 0, st.kind, '', o.currency, COUNT(*), SUM(o.amount), 0
		FROM `+tx.opportunities(oppsByClosing)+` JOIN stages st ON st.id = o.stage_id WHERE `+w+` GROUP BY st.kind, o.currency`, a)
}

// LostReasons counts the opportunities lost in the period by reason, the
// most frequent first (at most 50 reasons).
func (tx *Tx) LostReasons(ctx context.Context, q ReportQuery) ([]StageSum, error) {
	var a args
	w := q.oppWhere(&a) + " AND st.kind = 'lost' AND " + q.period("o.closed_at", &a)
	return tx.stageSums(ctx, "lost reasons", `SELECT 0, 'lost', o.lost_reason, '', COUNT(*), 0, 0
		FROM `+tx.opportunities(oppsByClosing)+` JOIN stages st ON st.id = o.stage_id WHERE `+w+` GROUP BY o.lost_reason ORDER BY COUNT(*) DESC, o.lost_reason LIMIT 50`, a)
}

// countSums shapes report counts of won or lost deals as StageSums, with
// the owner and key each row is about.
func countSums(rows []CountRow, kind string, about func(CountRow) (int64, string)) []StageSum {
	by := map[StageSum]*StageSum{}
	var order []StageSum
	for _, c := range rows {
		id, key := about(c)
		k := StageSum{StageID: id, Kind: kind, Key: key, Currency: c.Detail}
		if by[k] == nil {
			by[k] = &StageSum{StageID: id, Kind: kind, Key: key, Currency: c.Detail}
			order = append(order, k)
		}
		by[k].Count += c.N
		by[k].Amount += c.Amount
		by[k].Weighted += c.Amount
	}
	out := []StageSum{}
	for _, k := range order {
		out = append(out, *by[k])
	}
	return out
}

func (tx *Tx) stageSums(ctx context.Context, op, query string, a args) ([]StageSum, error) {
	out := []StageSum{}
	err := tx.query(ctx, op, query, a, func(r scanner) error {
		var s StageSum
		var amount, weighted sql.NullInt64
		err := r.Scan(&s.StageID, &s.Kind, &s.Key, &s.Currency, &s.Count, &amount, &weighted)
		s.Amount, s.Weighted = amount.Int64, weighted.Int64
		out = append(out, s)
		return err
	})
	return out, err
}

// CycleStats describes how long the opportunities won in the period took
// from creation to won, in milliseconds.
type CycleStats struct {
	Count  int64
	Mean   float64
	Median float64
}

// SalesCycle measures creation → won of the opportunities won in the
// period: the count, the mean and the median (the middle value, or the
// mean of the two middle ones, read by the database in order).
func (tx *Tx) SalesCycle(ctx context.Context, q ReportQuery) (CycleStats, error) {
	var c CycleStats
	var a args
	w := q.oppWhere(&a) + " AND st.kind = 'won' AND " + q.period("o.closed_at", &a)
	from := " FROM " + tx.opportunities(oppsByClosing) + " JOIN stages st ON st.id = o.stage_id WHERE " + w
	var mean sql.NullFloat64
	if err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*), CAST(AVG(o.closed_at - o.created_at) AS DOUBLE PRECISION)"+from, a...).Scan(&c.Count, &mean); err != nil {
		return c, mapErr("sales cycle", err)
	}
	c.Mean = mean.Float64
	if c.Count == 0 {
		return c, nil
	}
	b := append(args{}, a...)
	query := "SELECT o.closed_at - o.created_at" + from + " ORDER BY 1 LIMIT " + b.add(2-c.Count%2) + " OFFSET " + b.add((c.Count-1)/2)
	var sum, n int64
	err := tx.query(ctx, "sales cycle median", query, b, func(r scanner) error {
		var d int64
		err := r.Scan(&d)
		sum, n = sum+d, n+1
		return err
	})
	if n > 0 {
		c.Median = float64(sum) / float64(n)
	}
	return c, err
}

// StageTime is the mean time (milliseconds) the opportunities won in the
// period spent in one stage, over Count stays.
type StageTime struct {
	StageID int64
	Count   int64
	Mean    float64
}

// TimeInStages measures, from the stage history of the opportunities won
// in the period, how long each stay in a stage lasted: from the change
// into it to the next change. From the report counts (stays per owner,
// closing hour and stage) where they answer, else from the stays' ends kept
// with the history (left_at, migration 0047): one pass over the won deals'
// changes with a sum per stage, no sort; q.Exact orders the history itself
// (LEAD).
func (tx *Tx) TimeInStages(ctx context.Context, q ReportQuery) ([]StageTime, error) {
	if q.Exact {
		return tx.timeInStagesExact(ctx, q)
	}
	stages, err := tx.ListStages(ctx)
	if err != nil {
		return nil, err
	}
	if rows, ok, err := tx.Counts(ctx, q, q.Scopes[crm.ObjOpportunity].Own, metricStay, []time.Time{q.Start, q.End}); ok || err != nil {
		n, sum := map[string]int64{}, map[string]int64{}
		for _, c := range rows {
			n[c.Detail] += c.N
			sum[c.Detail] += c.Amount
		}
		out := []StageTime{}
		for _, st := range stages {
			if k := strconv.FormatInt(st.ID, 10); n[k] > 0 {
				out = append(out, StageTime{StageID: st.ID, Count: n[k], Mean: float64(sum[k]) / float64(n[k])})
			}
		}
		return out, err
	}
	if len(stages) == 0 {
		return []StageTime{}, nil
	}
	var a args
	cols := make([]string, 0, 2*len(stages))
	for _, st := range stages {
		id := a.add(st.ID)
		cols = append(cols, "CAST(SUM(CASE WHEN sc.to_stage_id = "+id+" THEN 1 ELSE 0 END) AS BIGINT)",
			"CAST(SUM(CASE WHEN sc.to_stage_id = "+id+" THEN sc.left_at - sc.changed_at ELSE 0 END) AS BIGINT)")
	}
	w := q.oppWhere(&a) + " AND st.kind = 'won' AND " + q.period("o.closed_at", &a)
	vals := make([]sql.NullInt64, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	err = tx.q.QueryRowContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+tx.opportunities(oppsByClosing)+
		" CROSS JOIN opportunity_stage_changes sc JOIN stages st ON st.id = o.stage_id WHERE sc.opportunity_id = o.id AND sc.left_at IS NOT NULL AND "+w,
		a...).Scan(ptrs...)
	out := []StageTime{}
	for i, st := range stages {
		if n := vals[2*i].Int64; n > 0 {
			out = append(out, StageTime{StageID: st.ID, Count: n, Mean: float64(vals[2*i+1].Int64) / float64(n)})
		}
	}
	return out, mapErr("time in stages", err)
}

// timeInStagesExact is TimeInStages from the order of the history itself.
func (tx *Tx) timeInStagesExact(ctx context.Context, q ReportQuery) ([]StageTime, error) {
	var a args
	w := q.oppWhere(&a) + " AND st.kind = 'won' AND " + q.period("o.closed_at", &a)
	out := []StageTime{}
	err := tx.query(ctx, "time in stages", `SELECT h.to_stage_id, COUNT(*), CAST(SUM(h.next_at - h.changed_at) AS BIGINT) FROM (
		SELECT sc.to_stage_id, sc.changed_at, LEAD(sc.changed_at) OVER (PARTITION BY sc.opportunity_id ORDER BY sc.changed_at, sc.id) AS next_at
		FROM opportunity_stage_changes sc WHERE sc.opportunity_id IN (SELECT o.id FROM `+tx.opportunities(oppsByClosing)+` JOIN stages st ON st.id = o.stage_id WHERE `+w+`)) h
		WHERE h.next_at IS NOT NULL GROUP BY h.to_stage_id`, a, func(r scanner) error {
		var s StageTime
		var sum int64
		err := r.Scan(&s.StageID, &s.Count, &sum)
		s.Mean = float64(sum) / float64(s.Count)
		out = append(out, s)
		return err
	})
	return out, err
}

// WonByOwner sums the opportunities won in the period by owner and currency
// (StageID holds the owner).
func (tx *Tx) WonByOwner(ctx context.Context, q ReportQuery) ([]StageSum, error) {
	if rows, ok, err := tx.Counts(ctx, q, q.Scopes[crm.ObjOpportunity].Own, MetricWon, []time.Time{q.Start, q.End}); ok || err != nil {
		return countSums(rows, MetricWon, func(c CountRow) (int64, string) { return c.OwnerID, "" }), err
	}
	var a args
	w := q.oppWhere(&a) + " AND st.kind = 'won' AND " + q.period("o.closed_at", &a)
	return tx.stageSums(ctx, "won by owner", `SELECT o.owner_id, 'won', '', o.currency, COUNT(*), SUM(o.amount), 0
		FROM `+tx.opportunities(oppsByClosing)+` JOIN stages st ON st.id = o.stage_id WHERE `+w+` GROUP BY o.owner_id, o.currency`, a)
}

// CreatedByOwner counts the records of o created in the period, by owner.
func (tx *Tx) CreatedByOwner(ctx context.Context, q ReportQuery, o crm.Object) (map[int64]int64, error) {
	if rows, ok, err := tx.createdCounts(ctx, q, o, []time.Time{q.Start, q.End}); ok || err != nil {
		out := map[int64]int64{}
		for _, c := range rows {
			if c.OwnerID != 0 { // no owner: the pool's
				out[c.OwnerID] += c.N
			}
		}
		return out, err
	}
	spec, _ := crm.Spec(o)
	var a args
	w := q.where(o, &a) + " AND " + q.period(spec.Alias+".created_at", &a)
	out := map[int64]int64{}
	err := tx.query(ctx, "created by owner", "SELECT "+spec.Alias+".owner_id, COUNT(*) FROM "+spec.Table+" "+spec.Alias+" WHERE "+w+
		" AND "+spec.Alias+".owner_id IS NOT NULL GROUP BY "+spec.Alias+".owner_id", a, func(r scanner) error {
		var owner, n int64
		err := r.Scan(&owner, &n)
		out[owner] = n
		return err
	})
	return out, err
}

// CreatedByBucket counts the records of o created in each bucket (bounds:
// the buckets' starts and the last one's end), by the bucket's index.
func (tx *Tx) CreatedByBucket(ctx context.Context, q ReportQuery, o crm.Object, bounds []time.Time) (map[int]int64, error) {
	if rows, ok, err := tx.createdCounts(ctx, q, o, bounds); ok || err != nil {
		out := map[int]int64{}
		for _, c := range rows {
			out[c.Bucket] += c.N
		}
		return out, err
	}
	spec, _ := crm.Spec(o)
	var a args
	b := buckets(bounds, &a)
	al := spec.Alias
	out := map[int]int64{}
	err := tx.query(ctx, "created by bucket", "SELECT b.column1, COUNT(*) FROM "+spec.Table+" "+al+" JOIN "+b+" ON "+al+".created_at >= b.column2 AND "+
		al+".created_at < b.column3 WHERE "+q.where(o, &a)+" GROUP BY b.column1", a, func(r scanner) error {
		var i int
		var n int64
		err := r.Scan(&i, &n)
		out[i] = n
		return err
	})
	return out, err
}

// ReportUser is a user a report names.
type ReportUser struct {
	ID         int64
	Name       string
	DeptID     int64
	DeptName   string
	Disabled   bool
	Registered time.Time
}

// ReportUsers returns the users within the People scope and the owner
// filters, and any others named by ids (owners of records the actor sees
// through their customers), ordered by id.
func (tx *Tx) ReportUsers(ctx context.Context, q ReportQuery, ids []int64) ([]ReportUser, error) {
	var a args
	w := ownerCond(q.People, "u.id", &a) + q.ownerFilter("u.id", &a)
	if len(ids) > 0 {
		w = "(" + w + ") OR " + inList("u.id", ids, &a)
	}
	out := []ReportUser{}
	err := tx.query(ctx, "report users", "SELECT u.id, u.display_name, u.department_id, d.name, u.disabled, u.created_at FROM users u JOIN departments d ON d.id = u.department_id WHERE "+
		w+" ORDER BY u.id", a, func(r scanner) error {
		var u ReportUser
		var created int64
		err := r.Scan(&u.ID, &u.Name, &u.DeptID, &u.DeptName, &u.Disabled, &created)
		u.Registered = fromMS(created)
		out = append(out, u)
		return err
	})
	return out, err
}

// UserActivity is one user's activity in the period.
type UserActivity struct {
	SignIns, ActiveDays, Created, Updated int64
}

// ActivityByUser counts, for the users within the People scope and the
// owner filters, their sign-ins, the days they signed in or changed a
// record (days of the zone at offset), and the record versions they made
// (version 1: created, later: updated).
func (tx *Tx) ActivityByUser(ctx context.Context, q ReportQuery, offset time.Duration) (map[int64]*UserActivity, error) {
	out := map[int64]*UserActivity{}
	get := func(id int64) *UserActivity {
		if out[id] == nil {
			out[id] = &UserActivity{}
		}
		return out[id]
	}
	if done, err := tx.countActivity(ctx, q, offset, get); done || err != nil {
		return out, err
	}
	var a args
	err := tx.query(ctx, "sign-ins", "SELECT s.user_id, COUNT(*) FROM sign_ins s WHERE "+q.period("s.at", &a)+" AND "+ownerCond(q.People, "s.user_id", &a)+
		q.ownerFilter("s.user_id", &a)+" GROUP BY s.user_id", a, func(r scanner) error {
		var id, n int64
		err := r.Scan(&id, &n)
		get(id).SignIns = n
		return err
	})
	if err != nil {
		return nil, err
	}
	var b args
	err = tx.query(ctx, "record versions", "SELECT v.actor_id, SUM(CASE WHEN v.version = 1 THEN 1 ELSE 0 END), SUM(CASE WHEN v.version > 1 THEN 1 ELSE 0 END) FROM record_versions v WHERE "+
		q.period("v.at", &b)+" AND "+ownerCond(q.People, "v.actor_id", &b)+q.ownerFilter("v.actor_id", &b)+" GROUP BY v.actor_id", b, func(r scanner) error {
		var id, c, u int64
		err := r.Scan(&id, &c, &u)
		get(id).Created, get(id).Updated = c, u
		return err
	})
	if err != nil {
		return nil, err
	}
	var c args
	off := c.add(offset.Milliseconds())
	sIn := "SELECT s.user_id AS uid, (s.at + " + off + ") / 86400000 AS d FROM sign_ins s WHERE " + q.period("s.at", &c) + " AND " +
		ownerCond(q.People, "s.user_id", &c) + q.ownerFilter("s.user_id", &c)
	vIn := "SELECT v.actor_id, (v.at + " + off + ") / 86400000 FROM record_versions v WHERE " + q.period("v.at", &c) + " AND " +
		ownerCond(q.People, "v.actor_id", &c) + q.ownerFilter("v.actor_id", &c)
	err = tx.query(ctx, "active days", "SELECT x.uid, COUNT(DISTINCT x.d) FROM ("+sIn+" UNION ALL "+vIn+") x GROUP BY x.uid", c, func(r scanner) error {
		var id, n int64
		err := r.Scan(&id, &n)
		get(id).ActiveDays = n
		return err
	})
	return out, err
}

// countActivity is ActivityByUser from the report counts; done is false
// when they cannot answer.
func (tx *Tx) countActivity(ctx context.Context, q ReportQuery, offset time.Duration, get func(int64) *UserActivity) (done bool, err error) {
	days, ok, err := tx.activeDays(ctx, q, offset)
	if !ok || err != nil {
		return false, err
	}
	for id, n := range days {
		get(id).ActiveDays = n
	}
	period := []time.Time{q.Start, q.End}
	for _, m := range []string{metricSignIn, metricCreated, metricUpdated} {
		rows, _, err := tx.Counts(ctx, q, q.People, m, period)
		if err != nil {
			return true, err
		}
		for _, c := range rows {
			x := get(c.OwnerID)
			switch m {
			case metricSignIn:
				x.SignIns += c.N
			case metricCreated:
				x.Created += c.N
			default:
				x.Updated += c.N
			}
		}
	}
	return true, nil
}

// FollowUpDue counts, by owner, the customers whose next follow-up is
// before now (overdue) and those without a follow-up since idleSince
// (never followed up counts from their creation).
func (tx *Tx) FollowUpDue(ctx context.Context, q ReportQuery, now, idleSince time.Time) (overdue, idle map[int64]int64, err error) {
	// Two counts, each a range of an owner's index (customers_live_owner_next,
	// customers_live_owner_idle), rather than one pass over every customer.
	count := func(op, cond string, at time.Time) (map[int64]int64, error) {
		var a args
		out := map[int64]int64{}
		// Owners listed from users, each a range of the index (for an
		// all-records reader "owner_id IS NOT NULL" read the whole index
		// through the other one and fetched every customer).
		err := tx.query(ctx, op, "SELECT c.owner_id, COUNT(*) FROM customers c WHERE "+q.where(crm.ObjCustomer, &a)+" AND c.owner_id IN (SELECT id FROM users) AND "+
			cond+" < "+a.add(ms(at))+" GROUP BY c.owner_id", a, func(r scanner) error {
			var id, n int64
			err := r.Scan(&id, &n)
			out[id] = n
			return err
		})
		return out, err
	}
	if overdue, err = count("follow-ups overdue", "COALESCE(c.next_follow_up_at, 9007199254740991)", now); err != nil {
		return nil, nil, err
	}
	idle, err = count("customers idle", "COALESCE(c.last_followed_up_at, c.created_at)", idleSince)
	return overdue, idle, err
}

// PoolMoves counts the customers that entered and left the public pool in
// the period, moves scoped by the owner on their owned side, and the
// claims by claimer.
func (tx *Tx) PoolMoves(ctx context.Context, q ReportQuery) (entered, left int64, claims map[int64]int64, err error) {
	var a args
	w := q.period("pm.at", &a) + " AND " + ownerCond(q.People, "pm.owner_id", &a) + q.ownerFilter("pm.owner_id", &a) +
		q.customerFilter(crm.ObjCustomer, "", "pm.customer_id", &a)
	claims = map[int64]int64{}
	err = tx.query(ctx, "pool moves", "SELECT pm.kind, pm.owner_id, COUNT(*) FROM pool_moves pm WHERE "+w+" GROUP BY pm.kind, pm.owner_id", a, func(r scanner) error {
		var kind string
		var owner, n int64
		err := r.Scan(&kind, &owner, &n)
		if kind == PoolEnter {
			entered += n
		} else {
			left += n
			claims[owner] = n
		}
		return err
	})
	return entered, left, claims, err
}

// PoolSize counts the live customers in the public pool now, with the
// customer filters.
func (tx *Tx) PoolSize(ctx context.Context, q ReportQuery) (int64, error) {
	var a args
	var n int64
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM customers c WHERE c.owner_id IS NULL AND c.deleted_at IS NULL"+
		q.customerFilter(crm.ObjCustomer, "c", "", &a), a...).Scan(&n)
	return n, mapErr("pool size", err)
}
