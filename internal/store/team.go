package store

import (
	"context"
	"time"
)

// TeamQuery asks for the team's numbers: per owner within Owners (the
// actor's owner scope of each object), narrowed by the owner and department
// filters, at the times the service worked out in the actor's zone.
type TeamQuery struct {
	Customers, Tasks, Opportunities Scope
	OwnerID, DeptID                 int64
	DayStart, DayEnd, Now           time.Time
	StalledBefore                   time.Time
}

// TeamCounts are one owner's numbers on the manager's home page.
type TeamCounts struct {
	OwnerID      int64
	Overdue      int // customers whose next follow-up was before today
	DueToday     int // customers whose next follow-up is today
	TasksOverdue int // open tasks past their due time
	Stalled      int // open opportunities with nothing happening (stalledCond)
}

// TeamCounts counts per owner, in SQL, each number under the scope of its
// object: every query is a range of an owner index per owner in scope
// (customers_live_owner_next, tasks_live_owner_due, opportunities_live_owner),
// so a manager's 30,000 customers are counted without being read.
func (tx *Tx) TeamCounts(ctx context.Context, q TeamQuery) (map[int64]*TeamCounts, error) {
	out := map[int64]*TeamCounts{}
	get := func(id int64) *TeamCounts {
		c := out[id]
		if c == nil {
			c = &TeamCounts{OwnerID: id}
			out[id] = c
		}
		return c
	}
	var a args
	start, end := a.add(ms(q.DayStart)), a.add(ms(q.DayEnd))
	err := tx.groupCounts(ctx, `SELECT c.owner_id, SUM(CASE WHEN c.next_follow_up_at < `+start+` THEN 1 ELSE 0 END), COUNT(*) FROM customers c
		WHERE c.deleted_at IS NULL AND c.owner_id IS NOT NULL AND COALESCE(c.next_follow_up_at, `+noTimeSQL+`) < `+end+
		" AND "+ownerCond(q.Customers, "c.owner_id", &a)+teamCond("c.owner_id", q.OwnerID, q.DeptID, &a)+" GROUP BY c.owner_id", a,
		func(id int64, n []int) { c := get(id); c.Overdue, c.DueToday = n[0], n[1]-n[0] })
	if err != nil {
		return nil, err
	}
	a = nil
	err = tx.groupCounts(ctx, `SELECT k.owner_id, COUNT(*) FROM tasks k WHERE k.deleted_at IS NULL AND k.done = FALSE
		AND COALESCE(k.due_at, `+noTimeSQL+`) < `+a.add(ms(q.Now))+" AND "+ownerCond(q.Tasks, "k.owner_id", &a)+
		teamCond("k.owner_id", q.OwnerID, q.DeptID, &a)+" GROUP BY k.owner_id", a,
		func(id int64, n []int) { get(id).TasksOverdue = n[0] })
	if err != nil {
		return nil, err
	}
	a = nil
	err = tx.groupCounts(ctx, "SELECT o.owner_id, COUNT(*) FROM opportunities o WHERE o.deleted_at IS NULL AND "+
		stalledCond("o", ms(q.StalledBefore), &a)+" AND "+ownerCond(q.Opportunities, "o.owner_id", &a)+
		teamCond("o.owner_id", q.OwnerID, q.DeptID, &a)+" GROUP BY o.owner_id", a,
		func(id int64, n []int) { get(id).Stalled = n[0] })
	return out, err
}

// groupCounts runs a query of (owner id, counts...) rows.
func (tx *Tx) groupCounts(ctx context.Context, query string, a args, row func(id int64, n []int)) error {
	rows, err := tx.q.QueryContext(ctx, query, a...)
	if err != nil {
		return mapErr("team counts", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return mapErr("team counts", err)
	}
	for rows.Next() {
		var id int64
		n := make([]int, len(cols)-1)
		dst := []any{&id}
		for i := range n {
			dst = append(dst, &n[i])
		}
		if err := rows.Scan(dst...); err != nil {
			return mapErr("scan team counts", err)
		}
		row(id, n)
	}
	return mapErr("team counts", rows.Err())
}

// TeamUsers are the live users within an owner scope, narrowed by the
// owner and department filters: the rows of the team table and the
// choices of the rep filter.
func (tx *Tx) TeamUsers(ctx context.Context, s Scope, ownerID, deptID int64) ([]TeamUser, error) {
	var a args
	rows, err := tx.q.QueryContext(ctx, "SELECT users.id, users.display_name, users.username, COALESCE(users.department_id, 0) FROM users WHERE NOT users.disabled AND "+
		ownerCond(s, "users.id", &a)+teamCond("users.id", ownerID, deptID, &a)+" ORDER BY "+tx.orderText("users.display_name")+", users.id", a...)
	if err != nil {
		return nil, mapErr("team users", err)
	}
	defer rows.Close()
	var out []TeamUser
	for rows.Next() {
		var u TeamUser
		if err := rows.Scan(&u.ID, &u.Name, &u.Username, &u.DeptID); err != nil {
			return nil, mapErr("scan team user", err)
		}
		out = append(out, u)
	}
	return out, mapErr("team users", rows.Err())
}

// TeamUser is one person in a scope.
type TeamUser struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Username string `json:"username"`
	DeptID   int64  `json:"department_id"`
}

// StageTotal is one stage's opportunities in one currency: their count,
// the sum of their amounts and of amount × the stage's probability / 100.
type StageTotal struct {
	StageID  int64  `json:"stage_id"`
	Currency string `json:"currency"`
	Count    int    `json:"count"`
	Amount   int64  `json:"amount"`
	Weighted int64  `json:"weighted"`
}

// OpportunityStageTotals sums the opportunities a query reaches per stage
// and currency, in SQL under the scope; amounts of different currencies
// are never added together.
func (tx *Tx) OpportunityStageTotals(ctx context.Context, q OpportunityQuery) ([]StageTotal, error) {
	var a args
	w := q.where(tx, &a)
	rows, err := tx.q.QueryContext(ctx, `SELECT o.stage_id, o.currency, COUNT(*), CAST(COALESCE(SUM(o.amount), 0) AS BIGINT),
		CAST(COALESCE(SUM(o.amount * s.probability), 0) AS BIGINT) FROM opportunities o JOIN stages s ON s.id = o.stage_id WHERE `+w+
		" GROUP BY o.stage_id, o.currency ORDER BY o.stage_id, "+tx.orderText("o.currency"), a...)
	if err != nil {
		return nil, mapErr("stage totals", err)
	}
	defer rows.Close()
	var out []StageTotal
	for rows.Next() {
		var t StageTotal
		if err := rows.Scan(&t.StageID, &t.Currency, &t.Count, &t.Amount, &t.Weighted); err != nil {
			return nil, mapErr("scan stage totals", err)
		}
		t.Weighted /= 100 // probability is a percentage; minor units are whole
		out = append(out, t)
	}
	return out, mapErr("stage totals", rows.Err())
}
