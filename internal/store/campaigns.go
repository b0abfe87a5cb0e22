package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"custos/internal/crm"
)

// Data review campaigns (issue 14 §4, schema 37): a campaign's row, the
// records it took when it started (review_items) and the one task per
// owner (review_tasks). Who reviews an item is its record's current owner,
// joined at read time, so a record that changes owner follows the new one.

const campaignCols = `id, name, objects, selection, below_score, scope_kind, department_id, started_by, started_at, due_at,
	recur_months, previous_id, status, closed_at`

func scanCampaign(row interface{ Scan(...any) error }) (crm.Campaign, error) {
	var c crm.Campaign
	var objects, selection, kind string
	var dept, prev, closed, by sql.NullInt64
	var started, due int64
	err := row.Scan(&c.ID, &c.Name, &objects, &selection, &c.BelowScore, &kind, &dept, &by, &started, &due,
		&c.RecurMonths, &prev, &c.Status, &closed)
	for _, o := range strings.Split(objects, ",") {
		c.Objects = append(c.Objects, crm.Object(o))
	}
	c.Selection, c.ScopeKind, c.DepartmentID, c.PreviousID, c.StartedBy = crm.CampaignSelection(selection), crm.Scope(kind), dept.Int64, prev.Int64, by.Int64
	c.StartedAt, c.DueAt, c.ClosedAt = fromMS(started), fromMS(due), fromNullMS(closed)
	return c, err
}

// InsertCampaign stores a new campaign and sets its id. A campaign that
// recurs from another (PreviousID) is inserted at most once: false when
// its predecessor already has a successor (another run or instance won).
func (tx *Tx) InsertCampaign(ctx context.Context, c *crm.Campaign) (bool, error) {
	names := make([]string, len(c.Objects))
	for i, o := range c.Objects {
		names[i] = string(o)
	}
	var dept, prev, by any
	if c.StartedBy != 0 { // a system job has no user
		by = c.StartedBy
	}
	if c.DepartmentID != 0 {
		dept = c.DepartmentID
	}
	if c.PreviousID != 0 {
		prev = c.PreviousID
	}
	c.Status = crm.CampaignOpen
	err := tx.q.QueryRowContext(ctx, `INSERT INTO review_campaigns (name, objects, selection, below_score, scope_kind, department_id,
		started_by, started_at, due_at, recur_months, previous_id, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT DO NOTHING RETURNING id`, c.Name, strings.Join(names, ","), string(c.Selection), c.BelowScore, string(c.ScopeKind), dept,
		by, ms(c.StartedAt), ms(c.DueAt), c.RecurMonths, prev, c.Status).Scan(&c.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, mapErr("insert campaign", err)
}

// GetCampaign returns a campaign.
func (tx *Tx) GetCampaign(ctx context.Context, id int64) (crm.Campaign, error) {
	c, err := scanCampaign(tx.q.QueryRowContext(ctx, "SELECT "+campaignCols+" FROM review_campaigns WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, crm.ErrNotFound("campaign")
	}
	return c, mapErr("get campaign", err)
}

// CampaignQuery narrows ListCampaigns: open ones (Open), open ones due at or before DueBy
// (when set), recurring ones without a successor (Recurring), at most
// Limit, newest first.
type CampaignQuery struct {
	Open      bool
	DueBy     time.Time
	Recurring bool
	Limit     int
}

// ListCampaigns returns campaigns, newest first.
func (tx *Tx) ListCampaigns(ctx context.Context, q CampaignQuery) ([]crm.Campaign, error) {
	var a args
	where := []string{"TRUE"}
	if q.Open || !q.DueBy.IsZero() {
		where = append(where, "status = "+a.add(crm.CampaignOpen))
	}
	if !q.DueBy.IsZero() {
		where = append(where, "due_at <= "+a.add(ms(q.DueBy)))
	}
	if q.Recurring {
		where = append(where, "recur_months > 0 AND NOT EXISTS (SELECT 1 FROM review_campaigns n WHERE n.previous_id = review_campaigns.id)")
	}
	if q.Limit <= 0 {
		q.Limit = 200
	}
	rows, err := tx.q.QueryContext(ctx, "SELECT "+campaignCols+" FROM review_campaigns WHERE "+strings.Join(where, " AND ")+
		" ORDER BY id DESC LIMIT "+a.add(q.Limit), a...)
	if err != nil {
		return nil, mapErr("list campaigns", err)
	}
	defer rows.Close()
	var out []crm.Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, mapErr("list campaigns", err)
		}
		out = append(out, c)
	}
	return out, mapErr("list campaigns", rows.Err())
}

// CloseCampaign closes an open campaign: false when it was closed already
// (another run or instance closed it first).
func (tx *Tx) CloseCampaign(ctx context.Context, id int64, at time.Time) (bool, error) {
	res, err := tx.q.ExecContext(ctx, "UPDATE review_campaigns SET status = $1, closed_at = $2 WHERE id = $3 AND status = $4",
		crm.CampaignClosed, ms(at), id, crm.CampaignOpen)
	if err != nil {
		return false, mapErr("close campaign", err)
	}
	n, err := res.RowsAffected()
	return n == 1, mapErr("close campaign", err)
}

// AddCampaignItems puts into a campaign the object's live owned records
// within the scope that the spec selects (BelowScore), only the stale ones
// when stale is set, of owners who are active users; it returns how many.
// One statement: the campaign's records are taken all at once.
func (tx *Tx) AddCampaignItems(ctx context.Context, campaignID int64, q QualitySpec, s Scope, stale bool) (int64, error) {
	var a args
	inner, err := tx.qualitySelect(q, s, &a)
	if err != nil {
		return 0, err
	}
	where := "r.owner_id IN (SELECT id FROM users WHERE NOT disabled)"
	if stale {
		where += " AND r.stale = 1"
	}
	res, err := tx.q.ExecContext(ctx, "INSERT INTO review_items (campaign_id, object, record_id) SELECT "+a.add(campaignID)+", "+
		a.add(string(q.Object))+", r.id FROM ("+inner+") r WHERE "+where, a...)
	if err != nil {
		return 0, mapErr("add campaign items", err)
	}
	n, err := res.RowsAffected()
	return n, mapErr("add campaign items", err)
}

// CampaignOwner is one owner's part of a campaign: their live records in
// it (of one object) and how many of them are reviewed.
type CampaignOwner struct {
	OwnerID  int64
	DeptID   int64
	Total    int
	Reviewed int
}

// campaignFrom renders the items of a campaign's object joined to their
// live records owned within the scope (alias i for the item, t for the
// record).
func campaignFrom(campaignID int64, o crm.Object, s Scope, a *args) (string, error) {
	spec, ok := crm.Spec(o)
	if !ok {
		return "", fmt.Errorf("store: campaign of unknown object %q", o)
	}
	return " FROM review_items i JOIN " + spec.Table + " t ON t.id = i.record_id WHERE i.campaign_id = " + a.add(campaignID) +
		" AND i.object = " + a.add(string(o)) + " AND t.deleted_at IS NULL AND t.owner_id IS NOT NULL AND " + ownerCond(s, "t.owner_id", a), nil
}

// CampaignProgress counts a campaign's records of o per current owner
// within the scope, with each owner's current department.
func (tx *Tx) CampaignProgress(ctx context.Context, campaignID int64, o crm.Object, s Scope) ([]CampaignOwner, error) {
	var a args
	from, err := campaignFrom(campaignID, o, s, &a)
	if err != nil {
		return nil, err
	}
	rows, err := tx.q.QueryContext(ctx, `SELECT t.owner_id, COALESCE(u.department_id, 0), COUNT(*),
		SUM(CASE WHEN i.reviewed_at IS NULL THEN 0 ELSE 1 END)`+strings.Replace(from, " WHERE ", " JOIN users u ON u.id = t.owner_id WHERE ", 1)+
		" GROUP BY t.owner_id, u.department_id ORDER BY t.owner_id", a...)
	if err != nil {
		return nil, mapErr("campaign progress", err)
	}
	defer rows.Close()
	var out []CampaignOwner
	for rows.Next() {
		var c CampaignOwner
		if err := rows.Scan(&c.OwnerID, &c.DeptID, &c.Total, &c.Reviewed); err != nil {
			return nil, mapErr("campaign progress", err)
		}
		out = append(out, c)
	}
	return out, mapErr("campaign progress", rows.Err())
}

// CampaignItem is one record of a campaign: its current owner and whether,
// when, by whom and how it was reviewed.
type CampaignItem struct {
	RecordID   int64
	OwnerID    int64
	ReviewedAt *time.Time
	ReviewedBy int64
	Outcome    string
}

// CampaignFilter narrows CampaignItems: one object's records of a
// campaign within Scope, of an owner or of the owners of a department,
// only unreviewed (Unreviewed) or only those among IDs, after a record id,
// at most Limit.
type CampaignFilter struct {
	CampaignID int64
	Object     crm.Object
	Scope      Scope
	OwnerID    int64
	DeptID     int64
	Unreviewed bool
	IDs        []int64
	After      int64
	Limit      int
}

// CampaignItems lists a campaign's records by the filter, in id order.
func (tx *Tx) CampaignItems(ctx context.Context, f CampaignFilter) ([]CampaignItem, error) {
	var a args
	from, err := campaignFrom(f.CampaignID, f.Object, f.Scope, &a)
	if err != nil {
		return nil, err
	}
	from += " AND i.record_id > " + a.add(f.After)
	if f.OwnerID != 0 {
		from += " AND t.owner_id = " + a.add(f.OwnerID)
	}
	if f.DeptID != 0 {
		from += " AND t.owner_id IN (SELECT id FROM users WHERE department_id = " + a.add(f.DeptID) + ")"
	}
	if f.Unreviewed {
		from += " AND i.reviewed_at IS NULL"
	}
	if len(f.IDs) > 0 {
		from += " AND " + inList("i.record_id", f.IDs, &a)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := tx.q.QueryContext(ctx, "SELECT i.record_id, t.owner_id, i.reviewed_at, COALESCE(i.reviewed_by, 0), COALESCE(i.outcome, '')"+from+
		" ORDER BY i.record_id LIMIT "+a.add(limit), a...)
	if err != nil {
		return nil, mapErr("campaign items", err)
	}
	defer rows.Close()
	var out []CampaignItem
	for rows.Next() {
		var it CampaignItem
		var at sql.NullInt64
		if err := rows.Scan(&it.RecordID, &it.OwnerID, &at, &it.ReviewedBy, &it.Outcome); err != nil {
			return nil, mapErr("campaign items", err)
		}
		it.ReviewedAt = fromNullMS(at)
		out = append(out, it)
	}
	return out, mapErr("campaign items", rows.Err())
}

// ReviewMark is a record marked reviewed in a campaign.
type ReviewMark struct {
	CampaignID int64
	RecordID   int64
}

// MarkReviewed marks the unreviewed records among ids reviewed, in the
// campaign given or (campaignID 0) in every open campaign holding them
// whose due date is after at,
// and returns those it marked: a record marked already is left as it was,
// so a repeated confirmation changes nothing.
func (tx *Tx) MarkReviewed(ctx context.Context, campaignID int64, o crm.Object, ids []int64, by int64, at time.Time, outcome string) ([]ReviewMark, error) {
	var out []ReviewMark
	for _, chunk := range chunks(ids) {
		var a args
		q := "UPDATE review_items SET reviewed_at = " + a.add(ms(at)) + ", reviewed_by = " + a.add(by) + ", outcome = " + a.add(outcome) +
			" WHERE object = " + a.add(string(o)) + " AND " + inList("record_id", chunk, &a) + " AND reviewed_at IS NULL AND campaign_id IN " +
			"(SELECT id FROM review_campaigns WHERE status = " + a.add(crm.CampaignOpen) + " AND due_at > " + a.add(ms(at))
		if campaignID != 0 {
			q += " AND id = " + a.add(campaignID)
		}
		rows, err := tx.q.QueryContext(ctx, q+") RETURNING campaign_id, record_id", a...)
		if err != nil {
			return nil, mapErr("mark reviewed", err)
		}
		for rows.Next() {
			var m ReviewMark
			if err := rows.Scan(&m.CampaignID, &m.RecordID); err != nil {
				rows.Close()
				return nil, mapErr("mark reviewed", err)
			}
			out = append(out, m)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, mapErr("mark reviewed", err)
		}
	}
	return out, nil
}

// UnreviewedByOwner counts a campaign's unreviewed live records per
// current owner, over its objects (in no reader's scope: the job and the
// owners' tasks need every owner).
func (tx *Tx) UnreviewedByOwner(ctx context.Context, c crm.Campaign, ownerID int64) (map[int64]int, error) {
	out := map[int64]int{}
	for _, o := range c.Objects {
		var a args
		from, err := campaignFrom(c.ID, o, Scope{Kind: crm.ScopeAll}, &a)
		if err != nil {
			return nil, err
		}
		from += " AND i.reviewed_at IS NULL"
		if ownerID != 0 {
			from += " AND t.owner_id = " + a.add(ownerID)
		}
		rows, err := tx.q.QueryContext(ctx, "SELECT t.owner_id, COUNT(*)"+from+" GROUP BY t.owner_id", a...)
		if err != nil {
			return nil, mapErr("unreviewed by owner", err)
		}
		for rows.Next() {
			var owner int64
			var n int
			if err := rows.Scan(&owner, &n); err != nil {
				rows.Close()
				return nil, mapErr("unreviewed by owner", err)
			}
			out[owner] += n
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, mapErr("unreviewed by owner", err)
		}
	}
	return out, nil
}

// ReviewTask is an owner's task of a campaign.
type ReviewTask struct {
	OwnerID int64
	TaskID  int64
}

// ClaimReviewTask records that the owner's task of the campaign is being
// made, unless it exists: false when another run (or instance) holds it.
// The key settles a race, not a prior read.
func (tx *Tx) ClaimReviewTask(ctx context.Context, campaignID, ownerID int64) (bool, error) {
	res, err := tx.q.ExecContext(ctx, "INSERT INTO review_tasks (campaign_id, owner_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", campaignID, ownerID)
	if err != nil {
		return false, mapErr("claim review task", err)
	}
	n, err := res.RowsAffected()
	return n == 1, mapErr("claim review task", err)
}

// SetReviewTask links a claimed owner's task.
func (tx *Tx) SetReviewTask(ctx context.Context, campaignID int64, t ReviewTask) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE review_tasks SET task_id = $1 WHERE campaign_id = $2 AND owner_id = $3", t.TaskID, campaignID, t.OwnerID)
	return mapErr("set review task", err)
}

// ReviewTasks returns a campaign's owners' tasks (of one owner when
// ownerID is set).
func (tx *Tx) ReviewTasks(ctx context.Context, campaignID, ownerID int64) ([]ReviewTask, error) {
	var a args
	q := "SELECT owner_id, COALESCE(task_id, 0) FROM review_tasks WHERE campaign_id = " + a.add(campaignID)
	if ownerID != 0 {
		q += " AND owner_id = " + a.add(ownerID)
	}
	rows, err := tx.q.QueryContext(ctx, q+" ORDER BY owner_id", a...)
	if err != nil {
		return nil, mapErr("review tasks", err)
	}
	defer rows.Close()
	var out []ReviewTask
	for rows.Next() {
		var t ReviewTask
		if err := rows.Scan(&t.OwnerID, &t.TaskID); err != nil {
			return nil, mapErr("review tasks", err)
		}
		out = append(out, t)
	}
	return out, mapErr("review tasks", rows.Err())
}
