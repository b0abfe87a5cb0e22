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
		var f crm.FollowUp
		var occurred, created, updated int64
		var next sql.NullInt64
		if err := rows.Scan(&f.ID, &f.OwnerID, &f.OwnerName, &f.Kind, &f.Content, &occurred, &next, &f.CustomerID, &f.ContactID,
			&f.CreatedBy, &f.UpdatedBy, &created, &updated, &f.Version); err != nil {
			return nil, mapErr("scan follow-up", err)
		}
		f.OccurredAt, f.NextAt, f.CreatedAt, f.UpdatedAt = fromMS(occurred), fromNullMS(next), fromMS(created), fromMS(updated)
		out = append(out, f)
	}
	return out, mapErr("list follow-ups", rows.Err())
}
