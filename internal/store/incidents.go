package store

import (
	"context"

	"custos/internal/crm"
)

const incidentCols = `i.id, i.title, i.severity, i.status, i.detected_at, i.description, i.exposure_query, i.created_by,
	COALESCE(u.display_name, ''), i.created_at, i.updated_at, i.version`

// InsertIncident stores a new incident (version 1) and sets its id.
func (tx *Tx) InsertIncident(ctx context.Context, in *crm.Incident) error {
	in.Version = 1
	err := tx.q.QueryRowContext(ctx, `INSERT INTO incidents (title, severity, status, detected_at, description, exposure_query,
		created_by, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1) RETURNING id`,
		in.Title, in.Severity, in.Status, ms(in.DetectedAt), in.Description, string(in.ExposureQuery), in.CreatedBy,
		ms(in.CreatedAt), ms(in.UpdatedAt)).Scan(&in.ID)
	return mapErr("insert incident", err)
}

// UpdateIncident stores an incident's fields and query if its version is
// still prev, and bumps the version; a stale version is a conflict.
func (tx *Tx) UpdateIncident(ctx context.Context, in *crm.Incident, prev int64) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE incidents SET title = $1, severity = $2, status = $3, detected_at = $4,
		description = $5, exposure_query = $6, updated_at = $7, version = version + 1 WHERE id = $8 AND version = $9`,
		in.Title, in.Severity, in.Status, ms(in.DetectedAt), in.Description, string(in.ExposureQuery), ms(in.UpdatedAt), in.ID, prev)
	if err := expectOne(res, err, "incident"); err != nil {
		if crm.IsCode(err, crm.NotFound) {
			return crm.ErrStale()
		}
		return err
	}
	in.Version = prev + 1
	return nil
}

// GetIncident returns one incident.
func (tx *Tx) GetIncident(ctx context.Context, id int64) (crm.Incident, error) {
	list, err := tx.queryIncidents(ctx, "WHERE i.id = $1", id)
	if err != nil {
		return crm.Incident{}, err
	}
	if len(list) == 0 {
		return crm.Incident{}, crm.ErrNotFound("incident")
	}
	return list[0], nil
}

// ListIncidents returns incidents, the latest detected first; status ""
// means all.
func (tx *Tx) ListIncidents(ctx context.Context, status string, limit int) ([]crm.Incident, error) {
	var a args
	where := ""
	if status != "" {
		where = "WHERE i.status = " + a.add(status)
	}
	return tx.queryIncidents(ctx, where+" ORDER BY i.detected_at DESC, i.id DESC LIMIT "+a.add(limit), a...)
}

func (tx *Tx) queryIncidents(ctx context.Context, tail string, a ...any) ([]crm.Incident, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT "+incidentCols+" FROM incidents i LEFT JOIN users u ON u.id = i.created_by "+tail, a...)
	if err != nil {
		return nil, mapErr("list incidents", err)
	}
	defer rows.Close()
	var out []crm.Incident
	for rows.Next() {
		var in crm.Incident
		var detected, created, updated int64
		var query string
		if err := rows.Scan(&in.ID, &in.Title, &in.Severity, &in.Status, &detected, &in.Description, &query, &in.CreatedBy,
			&in.CreatedByName, &created, &updated, &in.Version); err != nil {
			return nil, mapErr("scan incident", err)
		}
		in.DetectedAt, in.CreatedAt, in.UpdatedAt = fromMS(detected), fromMS(created), fromMS(updated)
		if query != "" {
			in.ExposureQuery = []byte(query)
		}
		out = append(out, in)
	}
	return out, mapErr("list incidents", rows.Err())
}

// InsertIncidentEntry adds a line to an incident's timeline.
func (tx *Tx) InsertIncidentEntry(ctx context.Context, e *crm.IncidentEntry) error {
	err := tx.q.QueryRowContext(ctx, `INSERT INTO incident_entries (incident_id, at, note, author_id, author_name, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, e.IncidentID, ms(e.At), e.Note, e.AuthorID, e.AuthorName, ms(e.CreatedAt)).Scan(&e.ID)
	return mapErr("insert incident entry", err)
}

// ListIncidentEntries returns an incident's timeline in time order.
func (tx *Tx) ListIncidentEntries(ctx context.Context, incidentID int64) ([]crm.IncidentEntry, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT id, incident_id, at, note, author_id, author_name, created_at FROM incident_entries
		WHERE incident_id = $1 ORDER BY at, id`, incidentID)
	if err != nil {
		return nil, mapErr("list incident entries", err)
	}
	defer rows.Close()
	out := []crm.IncidentEntry{}
	for rows.Next() {
		var e crm.IncidentEntry
		var at, created int64
		if err := rows.Scan(&e.ID, &e.IncidentID, &at, &e.Note, &e.AuthorID, &e.AuthorName, &created); err != nil {
			return nil, mapErr("scan incident entry", err)
		}
		e.At, e.CreatedAt = fromMS(at), fromMS(created)
		out = append(out, e)
	}
	return out, mapErr("list incident entries", rows.Err())
}
