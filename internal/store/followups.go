package store

import (
	"context"
	"database/sql"

	"custos/internal/crm"
)

// InsertFollowUp stores a follow-up and sets its id.
func (tx *Tx) InsertFollowUp(ctx context.Context, f *crm.FollowUp) error {
	err := tx.q.QueryRowContext(ctx, `INSERT INTO follow_ups (owner_id, kind, content, occurred_at, next_at, customer_id, contact_id,
		opportunity_id, lead_id, created_by, updated_by, created_at, updated_at, version)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$10,$11,$11,1) RETURNING id`,
		f.OwnerID, f.Kind, f.Content, ms(f.OccurredAt), msPtr(f.NextAt), nullID(f.CustomerID), nullID(f.ContactID),
		nullID(f.OpportunityID), nullID(f.LeadID), f.CreatedBy, ms(f.CreatedAt)).Scan(&f.ID)
	f.Version = 1
	return mapErr("insert follow-up", err)
}

// followUpParents are the columns a follow-up hangs off, by the object
// they point at: the follow-up's references.
var followUpParents = func() map[crm.Object]string {
	s, _ := crm.Spec(crm.ObjFollowUp)
	out := map[crm.Object]string{}
	for _, f := range s.Fields {
		if f.Type == crm.TypeRef {
			out[f.Ref] = s.Alias + "." + f.Column
		}
	}
	return out
}()

// ListRecordFollowUps returns one page of a record's live follow-ups, newest
// first. The caller has already checked that the actor may see the record:
// the follow-ups of a visible record are visible (DESIGN.md §4).
func (tx *Tx) ListRecordFollowUps(ctx context.Context, parent crm.Object, id int64, after string, limit int) ([]crm.FollowUp, string, error) {
	col, ok := followUpParents[parent]
	if !ok {
		return nil, "", crm.ErrNotFound(string(parent))
	}
	var a args
	return runPage(ctx, tx, pageQuery[crm.FollowUp]{
		selectFrom: followUpSelect, where: col + " = " + a.add(id) + " AND f.deleted_at IS NULL", idCol: "f.id",
		sorts: map[string]sortSpec{"occurred": {expr: "f.occurred_at", desc: true}}, sortName: "occurred", after: after, limit: limit,
		scan: scanFollowUp,
		key:  func(f crm.FollowUp) (int64, int64, string) { return f.ID, ms(f.OccurredAt), "" },
	}, &a)
}

const followUpSelect = `SELECT f.id, f.owner_id, COALESCE(u.display_name, ''), f.kind, f.content, f.occurred_at, f.next_at,
		COALESCE(f.customer_id, 0), COALESCE(f.contact_id, 0), COALESCE(f.opportunity_id, 0), COALESCE(f.lead_id, 0), f.created_by,
		f.updated_by, f.created_at, f.updated_at, f.version FROM follow_ups f LEFT JOIN users u ON u.id = f.owner_id`

// GetFollowUp returns one live follow-up within the scope, or not found.
func (tx *Tx) GetFollowUp(ctx context.Context, id int64, s ChildScope) (crm.FollowUp, error) {
	var a args
	cond := s.cond("f", &a)
	row := tx.q.QueryRowContext(ctx, followUpSelect+" WHERE f.id = "+a.add(id)+" AND f.deleted_at IS NULL AND "+cond, a...)
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
		&f.OpportunityID, &f.LeadID, &f.CreatedBy, &f.UpdatedBy, &created, &updated, &f.Version)
	f.OccurredAt, f.NextAt, f.CreatedAt, f.UpdatedAt = fromMS(occurred), fromNullMS(next), fromMS(created), fromMS(updated)
	return f, err
}

// CountRecordFollowUps counts a record's live follow-ups.
func (tx *Tx) CountRecordFollowUps(ctx context.Context, parent crm.Object, id int64) (int, error) {
	col, ok := followUpParents[parent]
	if !ok {
		return 0, crm.ErrNotFound(string(parent))
	}
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM follow_ups f WHERE "+col+" = $1 AND f.deleted_at IS NULL", id).Scan(&n)
	return n, mapErr("count follow-ups", err)
}

// RecomputeCustomerFollowUp derives a customer's system-kept follow-up
// fields from its live follow-ups: the last one's time, and the next
// follow-up time the most recent of them planned (a backdated entry does not
// override a later plan; deleting the latest brings the previous plan back).
// It bumps no version, so it never causes a conflict.
func (tx *Tx) RecomputeCustomerFollowUp(ctx context.Context, customerID int64) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE customers SET
		last_followed_up_at = (SELECT MAX(f.occurred_at) FROM follow_ups f WHERE f.customer_id = $1 AND f.deleted_at IS NULL),
		next_follow_up_at = (SELECT f.next_at FROM follow_ups f WHERE f.customer_id = $1 AND f.deleted_at IS NULL
			ORDER BY f.occurred_at DESC, f.id DESC LIMIT 1)
		WHERE id = $1`, customerID)
	return mapErr("recompute customer follow-up", err)
}

// FollowUpCustomer returns the customer a follow-up belongs to (0: none).
func (tx *Tx) FollowUpCustomer(ctx context.Context, id int64) (int64, error) {
	var c int64
	err := tx.q.QueryRowContext(ctx, "SELECT COALESCE(customer_id, 0) FROM follow_ups WHERE id = $1", id).Scan(&c)
	return c, mapErr("follow-up", err)
}
