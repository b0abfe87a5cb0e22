package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"custos/internal/crm"
)

// GetApprovalPolicy returns the policy of a kind; a kind never configured
// is disabled.
func (tx *Tx) GetApprovalPolicy(ctx context.Context, kind crm.ApprovalKind) (crm.ApprovalPolicy, error) {
	p := crm.ApprovalPolicy{Kind: kind}
	var fields, steps string
	err := tx.q.QueryRowContext(ctx, "SELECT enabled, threshold, fields, steps FROM approval_policies WHERE kind = $1", string(kind)).
		Scan(&p.Enabled, &p.Threshold, &fields, &steps)
	if err == sql.ErrNoRows {
		return p, nil
	}
	if err != nil {
		return p, mapErr("approval policy", err)
	}
	if err := json.Unmarshal([]byte(fields), &p.Fields); err != nil {
		return p, fmt.Errorf("store: decode policy fields: %w", err)
	}
	if err := json.Unmarshal([]byte(steps), &p.Steps); err != nil {
		return p, fmt.Errorf("store: decode policy steps: %w", err)
	}
	return p, nil
}

// SaveApprovalPolicy stores a policy, replacing the kind's previous one.
func (tx *Tx) SaveApprovalPolicy(ctx context.Context, p crm.ApprovalPolicy, now time.Time) error {
	fields, err := json.Marshal(p.Fields)
	if err != nil {
		return err
	}
	steps, err := json.Marshal(p.Steps)
	if err != nil {
		return err
	}
	_, err = tx.q.ExecContext(ctx, `INSERT INTO approval_policies (kind, enabled, threshold, fields, steps, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind) DO UPDATE SET enabled = excluded.enabled,
		threshold = excluded.threshold, fields = excluded.fields, steps = excluded.steps, updated_at = excluded.updated_at`,
		string(p.Kind), p.Enabled, p.Threshold, string(fields), string(steps), ms(now))
	return mapErr("save approval policy", err)
}

// InsertApprovalRequest stores a new request.
func (tx *Tx) InsertApprovalRequest(ctx context.Context, r *crm.ApprovalRequest) error {
	ids, steps, decisions, err := encodeRequest(r)
	if err != nil {
		return err
	}
	err = tx.q.QueryRowContext(ctx, `INSERT INTO approval_requests (kind, object, record_id, record_version, record_ids, payload,
		summary, requester_id, status, step, steps, decisions, result, created_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) RETURNING id`,
		string(r.Kind), string(r.Object), r.RecordID, r.RecordVersion, ids, string(r.Payload), r.Summary, r.RequesterID,
		r.Status, r.Step, steps, decisions, r.Result, ms(r.CreatedAt)).Scan(&r.ID)
	return mapErr("insert approval request", err)
}

// UpdateApprovalRequest stores a request's progress. It refuses (as
// stale) when the request is no longer in the state the caller read, so
// two approvers deciding at once cannot both move it.
func (tx *Tx) UpdateApprovalRequest(ctx context.Context, r *crm.ApprovalRequest, wasStatus string, wasStep int) error {
	_, steps, decisions, err := encodeRequest(r)
	if err != nil {
		return err
	}
	res, err := tx.q.ExecContext(ctx, `UPDATE approval_requests SET status = $1, step = $2, steps = $3, decisions = $4, result = $5,
		decided_at = $6 WHERE id = $7 AND status = $8 AND step = $9`,
		r.Status, r.Step, steps, decisions, r.Result, msPtr(r.DecidedAt), r.ID, wasStatus, wasStep)
	if err != nil {
		return mapErr("update approval request", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return crm.ErrStale()
	}
	return nil
}

func encodeRequest(r *crm.ApprovalRequest) (ids, steps, decisions string, err error) {
	if len(r.RecordIDs) > 0 {
		b, err := json.Marshal(r.RecordIDs)
		if err != nil {
			return "", "", "", err
		}
		ids = string(b)
	}
	s, err := json.Marshal(r.Steps)
	if err != nil {
		return "", "", "", err
	}
	if r.Decisions == nil {
		r.Decisions = []crm.ApprovalDecision{}
	}
	d, err := json.Marshal(r.Decisions)
	return ids, string(s), string(d), err
}

const approvalCols = `r.id, r.kind, r.object, r.record_id, r.record_version, r.record_ids, r.payload, r.summary, r.requester_id,
	COALESCE(u.display_name, ''), r.status, r.step, r.steps, r.decisions, r.result, r.created_at, r.decided_at`

func scanApproval(row scanner) (crm.ApprovalRequest, error) {
	var r crm.ApprovalRequest
	var kind, object, ids, payload, steps, decisions string
	var created int64
	var decided sql.NullInt64
	if err := row.Scan(&r.ID, &kind, &object, &r.RecordID, &r.RecordVersion, &ids, &payload, &r.Summary, &r.RequesterID,
		&r.RequesterName, &r.Status, &r.Step, &steps, &decisions, &r.Result, &created, &decided); err != nil {
		return r, err
	}
	r.Kind, r.Object, r.Payload = crm.ApprovalKind(kind), crm.Object(object), json.RawMessage(payload)
	r.CreatedAt, r.DecidedAt = fromMS(created), fromNullMS(decided)
	if ids != "" {
		if err := json.Unmarshal([]byte(ids), &r.RecordIDs); err != nil {
			return r, err
		}
	}
	if err := json.Unmarshal([]byte(steps), &r.Steps); err != nil {
		return r, err
	}
	return r, json.Unmarshal([]byte(decisions), &r.Decisions)
}

// GetApprovalRequest returns one request.
func (tx *Tx) GetApprovalRequest(ctx context.Context, id int64) (crm.ApprovalRequest, error) {
	r, err := scanApproval(tx.q.QueryRowContext(ctx, "SELECT "+approvalCols+
		" FROM approval_requests r LEFT JOIN users u ON u.id = r.requester_id WHERE r.id = $1", id))
	return r, mapErr("approval request", err)
}

// ApprovalFilter narrows a listing: by status, by requester, or both.
type ApprovalFilter struct {
	Status      string
	RequesterID int64
	Limit       int
}

// ListApprovalRequests returns requests newest first.
func (tx *Tx) ListApprovalRequests(ctx context.Context, f ApprovalFilter) ([]crm.ApprovalRequest, error) {
	var a args
	where := "TRUE"
	if f.Status != "" {
		where += " AND r.status = " + a.add(f.Status)
	}
	if f.RequesterID != 0 {
		where += " AND r.requester_id = " + a.add(f.RequesterID)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 200
	}
	rows, err := tx.q.QueryContext(ctx, "SELECT "+approvalCols+" FROM approval_requests r LEFT JOIN users u ON u.id = r.requester_id WHERE "+
		where+" ORDER BY r.id DESC LIMIT "+a.add(f.Limit), a...)
	if err != nil {
		return nil, mapErr("list approval requests", err)
	}
	defer rows.Close()
	var out []crm.ApprovalRequest
	for rows.Next() {
		r, err := scanApproval(rows)
		if err != nil {
			return nil, mapErr("scan approval request", err)
		}
		out = append(out, r)
	}
	return out, mapErr("list approval requests", rows.Err())
}

// UsersWithRole returns the ids of the active users holding a role.
func (tx *Tx) UsersWithRole(ctx context.Context, roleKey string) ([]int64, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT u.id FROM users u JOIN roles r ON r.id = u.role_id
		WHERE r.role_key = $1 AND NOT u.disabled ORDER BY u.id`, roleKey)
	if err != nil {
		return nil, mapErr("users with role", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr("users with role", err)
		}
		out = append(out, id)
	}
	return out, mapErr("users with role", rows.Err())
}

// SetApprovalPayload replaces the change a request carries (re-sealed
// under a new key by a re-encryption).
func (tx *Tx) SetApprovalPayload(ctx context.Context, id int64, payload []byte) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE approval_requests SET payload = $1 WHERE id = $2", string(payload), id)
	return mapErr("set approval payload", err)
}
