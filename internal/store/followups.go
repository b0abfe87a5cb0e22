package store

import (
	"context"
	"database/sql"

	"custos/internal/crm"
)

// InsertFollowUp stores a follow-up and sets its id.
func (tx *Tx) InsertFollowUp(ctx context.Context, f *crm.FollowUp) error {
	err := tx.q.QueryRowContext(ctx, `INSERT INTO follow_ups (owner_id, kind, content, occurred_at, next_at, customer_id, contact_id,
		created_by, updated_by, created_at, updated_at, version) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8,$9,$9,1) RETURNING id`,
		f.OwnerID, f.Kind, f.Content, ms(f.OccurredAt), msPtr(f.NextAt), f.CustomerID, nullID(f.ContactID),
		f.CreatedBy, ms(f.CreatedAt)).Scan(&f.ID)
	f.Version = 1
	return mapErr("insert follow-up", err)
}

// ListCustomerFollowUps returns a customer's live follow-ups, newest first.
// The caller has already checked that the actor may see the customer: the
// follow-ups of a visible customer are visible (DESIGN.md §4).
func (tx *Tx) ListCustomerFollowUps(ctx context.Context, customerID int64, limit int) ([]crm.FollowUp, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT f.id, f.owner_id, COALESCE(u.display_name, ''), f.kind, f.content, f.occurred_at, f.next_at,
		f.customer_id, COALESCE(f.contact_id, 0), f.created_by, f.updated_by, f.created_at, f.updated_at, f.version
		FROM follow_ups f LEFT JOIN users u ON u.id = f.owner_id
		WHERE f.customer_id = $1 AND f.deleted_at IS NULL ORDER BY f.occurred_at DESC, f.id DESC LIMIT $2`, customerID, pageLimit(limit))
	if err != nil {
		return nil, mapErr("list follow-ups", err)
	}
	defer rows.Close()
	out := []crm.FollowUp{}
	for rows.Next() {
		f, err := scanFollowUp(rows)
		if err != nil {
			return nil, mapErr("scan follow-up", err)
		}
		out = append(out, f)
	}
	return out, mapErr("list follow-ups", rows.Err())
}

// GetFollowUp returns one live follow-up within the scope, or not found.
func (tx *Tx) GetFollowUp(ctx context.Context, id int64, s ChildScope) (crm.FollowUp, error) {
	var a args
	cond := s.cond("f", &a)
	row := tx.q.QueryRowContext(ctx, `SELECT f.id, f.owner_id, COALESCE(u.display_name, ''), f.kind, f.content, f.occurred_at, f.next_at,
		f.customer_id, COALESCE(f.contact_id, 0), f.created_by, f.updated_by, f.created_at, f.updated_at, f.version
		FROM follow_ups f LEFT JOIN users u ON u.id = f.owner_id WHERE f.id = `+a.add(id)+" AND f.deleted_at IS NULL AND "+cond, a...)
	f, err := scanFollowUp(row)
	return f, mapErr("follow-up", err)
}

// UpdateFollowUp stores a follow-up's kind and content if the version is current.
func (tx *Tx) UpdateFollowUp(ctx context.Context, f *crm.FollowUp) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE follow_ups SET kind=$1, content=$2, updated_by=$3, updated_at=$4, version = version + 1
		WHERE id = $5 AND version = $6 AND deleted_at IS NULL`, f.Kind, f.Content, f.UpdatedBy, ms(f.UpdatedAt), f.ID, f.Version)
	return staleOrNil(res, err, "follow-up", &f.Version)
}

func scanFollowUp(row scanner) (crm.FollowUp, error) {
	var f crm.FollowUp
	var occurred, created, updated int64
	var next sql.NullInt64
	err := row.Scan(&f.ID, &f.OwnerID, &f.OwnerName, &f.Kind, &f.Content, &occurred, &next, &f.CustomerID, &f.ContactID,
		&f.CreatedBy, &f.UpdatedBy, &created, &updated, &f.Version)
	f.OccurredAt, f.NextAt, f.CreatedAt, f.UpdatedAt = fromMS(occurred), fromNullMS(next), fromMS(created), fromMS(updated)
	return f, err
}
