package store

import (
	"context"
	"encoding/json"

	"custos/internal/crm"
)

// RecordVersion is crm.RecordVersion: the type lives with the domain so no surface needs the store.
type RecordVersion = crm.RecordVersion

// InsertVersion keeps one version of a record.
func (tx *Tx) InsertVersion(ctx context.Context, o crm.Object, id int64, v RecordVersion) error {
	if tx.bulk != nil {
		tx.bulk.versions = append(tx.bulk.versions, versionRow{o, id, v})
		return nil
	}
	_, err := tx.q.ExecContext(ctx, `INSERT INTO record_versions (object, record_id, version, fields, actor_id, actor_name, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, string(o), id, v.Version, string(v.Fields), v.ActorID, v.ActorName, ms(v.At))
	return mapErr("insert version", err)
}

// ListVersions returns a record's versions, newest first (at most 200):
// what a reader pages through.
func (tx *Tx) ListVersions(ctx context.Context, o crm.Object, id int64) ([]RecordVersion, error) {
	return tx.versions(ctx, o, id, " LIMIT 200")
}

// AllVersions returns every version of a record, newest first: for what
// must reach each one (re-sealing under another key, finding an old
// version to restore).
func (tx *Tx) AllVersions(ctx context.Context, o crm.Object, id int64) ([]RecordVersion, error) {
	return tx.versions(ctx, o, id, "")
}

func (tx *Tx) versions(ctx context.Context, o crm.Object, id int64, limit string) ([]RecordVersion, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT version, fields, actor_id, actor_name, at FROM record_versions
		WHERE object = $1 AND record_id = $2 ORDER BY version DESC`+limit, string(o), id)
	if err != nil {
		return nil, mapErr("list versions", err)
	}
	defer rows.Close()
	var out []RecordVersion
	for rows.Next() {
		var v RecordVersion
		var fields string
		var at int64
		if err := rows.Scan(&v.Version, &fields, &v.ActorID, &v.ActorName, &at); err != nil {
			return nil, mapErr("scan version", err)
		}
		v.Fields, v.At = json.RawMessage(fields), fromMS(at)
		out = append(out, v)
	}
	return out, mapErr("list versions", rows.Err())
}
