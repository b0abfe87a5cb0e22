package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"custos/internal/crm"
)

// MergeMove is one row a merge re-pointed from the merged record to the
// survivor: its table, the column and the row's id (Ref instead of ID for
// an external id, whose key is its source and value).
type MergeMove struct {
	Table  string `json:"t"`
	Column string `json:"c"`
	ID     int64  `json:"id,omitempty"`
	Source string `json:"s,omitempty"`
	Ref    string `json:"r,omitempty"`
}

// MergeDetail is what a merge did beyond its columns, for its undo: the
// fields the survivor took, the rows re-pointed, the rows re-sealed under
// the survivor's key, the consents withdrawn as duplicates of the
// survivor's and whether a legal hold was carried over.
type MergeDetail struct {
	Fields    []string        `json:"fields"`
	Moves     []MergeMove     `json:"moves"`
	Resealed  []crm.PersonRef `json:"resealed"`
	Withdrawn []int64         `json:"withdrawn"`
	HoldAdded bool            `json:"hold_added"`
}

// MergeRow is a merge as stored.
type MergeRow struct {
	crm.Merge
	SurvivorKey, MergedKey      string
	VersionBefore, VersionAfter int64
	Detail                      MergeDetail
}

// mergeLinks are, per merged object, the columns of other tables that
// point at a record of it: the registry's reference fields. Rows in the
// recycle bin move too, so a later restore lands on the survivor.
var mergeLinks = func() map[crm.Object][][2]string {
	out := map[crm.Object][][2]string{}
	for _, s := range crm.Specs() {
		for _, f := range s.Fields {
			if f.Type == crm.TypeRef {
				out[f.Ref] = append(out[f.Ref], [2]string{s.Table, f.Column})
			}
		}
	}
	return out
}()

// MoveMergedLinks re-points every row that links to the merged record
// (from) to the survivor (to): the linking columns, its shares (those the
// survivor has not for the same user or department), its external ids and
// the consents and privacy requests filed against it. It returns the rows
// it moved.
func (tx *Tx) MoveMergedLinks(ctx context.Context, o crm.Object, from, to int64) ([]MergeMove, error) {
	var out []MergeMove
	move := func(table, column, q string, a ...any) error {
		ids, err := tx.queryIDs(ctx, "merge: move "+table, q, a...)
		for _, id := range ids {
			out = append(out, MergeMove{Table: table, Column: column, ID: id})
		}
		return err
	}
	for _, l := range mergeLinks[o] {
		if err := move(l[0], l[1], "UPDATE "+l[0]+" SET "+l[1]+" = $1 WHERE "+l[1]+" = $2 RETURNING id", to, from); err != nil {
			return nil, err
		}
	}
	err := move("record_shares", "record_id", `UPDATE record_shares SET record_id = $1 WHERE object = $2 AND record_id = $3
		AND NOT EXISTS (SELECT 1 FROM record_shares s WHERE s.object = $2 AND s.record_id = $1
			AND s.user_id IS NOT DISTINCT FROM record_shares.user_id AND s.dept_id IS NOT DISTINCT FROM record_shares.dept_id)
		RETURNING id`, to, string(o), from)
	if err != nil {
		return nil, err
	}
	for _, table := range []string{"consents", "privacy_requests"} {
		q := "UPDATE " + table + " SET record_id = $1 WHERE object = $2 AND record_id = $3 RETURNING id"
		if err := move(table, "record_id", q, to, string(o), from); err != nil {
			return nil, err
		}
	}
	rows, err := tx.q.QueryContext(ctx, `UPDATE external_ids SET record_id = $1 WHERE object = $2 AND record_id = $3
		RETURNING source, external_id`, to, string(o), from)
	if err != nil {
		return nil, mapErr("merge: move external ids", err)
	}
	defer rows.Close()
	for rows.Next() {
		m := MergeMove{Table: "external_ids", Column: "record_id"}
		if err := rows.Scan(&m.Source, &m.Ref); err != nil {
			return nil, mapErr("merge: move external ids", err)
		}
		out = append(out, m)
	}
	return out, mapErr("merge: move external ids", rows.Err())
}

// UnmoveMergedLinks puts the rows a merge moved back on the merged record
// (from), those still on the survivor (to); a row re-pointed since stays.
func (tx *Tx) UnmoveMergedLinks(ctx context.Context, o crm.Object, moves []MergeMove, from, to int64) error {
	for _, m := range moves {
		if !mergeColumn(o, m) {
			return fmt.Errorf("store: undo of a merge: %s.%s is not a column a merge moves", m.Table, m.Column)
		}
		var err error
		if m.Table == "external_ids" {
			_, err = tx.q.ExecContext(ctx, `UPDATE external_ids SET record_id = $1 WHERE object = $2 AND source = $3
				AND external_id = $4 AND record_id = $5`, from, string(o), m.Source, m.Ref, to)
		} else {
			_, err = tx.q.ExecContext(ctx, "UPDATE "+m.Table+" SET "+m.Column+" = $1 WHERE id = $2 AND "+m.Column+" = $3",
				from, m.ID, to)
		}
		if err != nil {
			return mapErr("merge: undo "+m.Table, err)
		}
	}
	return nil
}

// mergeColumn checks a stored move against the columns a merge of o
// moves, so an undo only ever writes those (the names go into SQL).
func mergeColumn(o crm.Object, m MergeMove) bool {
	switch m.Table {
	case "record_shares", "consents", "privacy_requests", "external_ids":
		return m.Column == "record_id"
	}
	return slices.Contains(mergeLinks[o], [2]string{m.Table, m.Column})
}

// MoveConsentKeys re-keys a merged person's consents, privacy requests and
// legal hold to the survivor's key. A live consent the survivor already
// holds for the same purpose and channel wins: the merged one is withdrawn
// (at, by) and its id returned. added reports a legal hold carried over.
func (tx *Tx) MoveConsentKeys(ctx context.Context, from, to string, at time.Time, by int64) (withdrawn []int64, added bool, err error) {
	withdrawn, err = tx.queryIDs(ctx, "merge: withdraw duplicate consents", `UPDATE consents SET withdrawn_at = $1, withdrawn_by = $2
		WHERE person_key = $3 AND withdrawn_at IS NULL AND EXISTS (SELECT 1 FROM consents c WHERE c.person_key = $4
			AND c.withdrawn_at IS NULL AND c.purpose = consents.purpose AND c.channel = consents.channel) RETURNING id`,
		ms(at), by, from, to)
	if err != nil {
		return nil, false, err
	}
	if err := tx.setConsentKeys(ctx, from, to, nil); err != nil {
		return nil, false, err
	}
	res, err := tx.q.ExecContext(ctx, `INSERT INTO legal_holds (person_key, reason, set_by, set_at)
		SELECT $1, reason, set_by, set_at FROM legal_holds WHERE person_key = $2 ON CONFLICT (person_key) DO NOTHING`, to, from)
	if err != nil {
		return nil, false, mapErr("merge: carry the legal hold", err)
	}
	n, err := res.RowsAffected()
	return withdrawn, n > 0, mapErr("merge: carry the legal hold", err)
}

// UnmoveConsentKeys gives the consents and privacy requests filed against
// the merged people (back on their records by now) their key again
// (survivor's key → merged key), revives the consents the merge withdrew
// (unless the person has since given a live one of the same kind) and
// drops a legal hold the merge carried over.
func (tx *Tx) UnmoveConsentKeys(ctx context.Context, people []crm.PersonRef, mergedKey, survivorKey string, withdrawn []int64, holdAdded bool) error {
	for _, p := range people {
		if err := tx.setConsentKeys(ctx, survivorKey, mergedKey, &p); err != nil {
			return err
		}
	}
	for _, id := range withdrawn {
		if _, err := tx.q.ExecContext(ctx, `UPDATE consents SET withdrawn_at = NULL, withdrawn_by = 0 WHERE id = $1
			AND NOT EXISTS (SELECT 1 FROM consents c WHERE c.person_key = consents.person_key AND c.withdrawn_at IS NULL
				AND c.purpose = consents.purpose AND c.channel = consents.channel)`, id); err != nil {
			return mapErr("merge: undo withdrawn consents", err)
		}
	}
	if holdAdded {
		if _, err := tx.q.ExecContext(ctx, "DELETE FROM legal_holds WHERE person_key = $1", survivorKey); err != nil {
			return mapErr("merge: undo the legal hold", err)
		}
	}
	return nil
}

// setConsentKeys moves consents and privacy requests from one key to
// another: all of them, or (only non-nil) those filed against one record.
func (tx *Tx) setConsentKeys(ctx context.Context, from, to string, only *PersonRef) error {
	for _, table := range []string{"consents", "privacy_requests"} {
		q, a := "UPDATE "+table+" SET person_key = $1 WHERE person_key = $2", []any{to, from}
		if only != nil {
			q, a = q+" AND object = $3 AND record_id = $4", append(a, string(only.Object), only.ID)
		}
		if _, err := tx.q.ExecContext(ctx, q, a...); err != nil {
			return mapErr("merge: re-key "+table, err)
		}
	}
	return nil
}

// InsertMerge records a merge and sets its id.
func (tx *Tx) InsertMerge(ctx context.Context, m *MergeRow) error {
	detail, err := json.Marshal(m.Detail)
	if err != nil {
		return err
	}
	err = tx.q.QueryRowContext(ctx, `INSERT INTO merges (object, survivor_id, merged_id, survivor_key, merged_key,
		version_before, version_after, detail, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		string(m.Object), m.SurvivorID, m.MergedID, m.SurvivorKey, m.MergedKey, m.VersionBefore, m.VersionAfter, string(detail),
		m.CreatedBy, ms(m.CreatedAt)).Scan(&m.ID)
	return mapErr("insert merge", err)
}

// MarkMergeUndone records who undid a merge, once: false if it was undone
// already.
func (tx *Tx) MarkMergeUndone(ctx context.Context, id, by int64, at time.Time) (bool, error) {
	res, err := tx.q.ExecContext(ctx, "UPDATE merges SET undone_by = $1, undone_at = $2 WHERE id = $3 AND undone_at IS NULL", by, ms(at), id)
	if err != nil {
		return false, mapErr("undo merge", err)
	}
	n, err := res.RowsAffected()
	return n == 1, mapErr("undo merge", err)
}

const mergeColumns = `m.id, m.object, m.survivor_id, m.merged_id, m.survivor_key, m.merged_key, m.version_before,
	m.version_after, m.detail, m.created_by, m.created_at, m.undone_by, m.undone_at`

func scanMerge(r scanner) (MergeRow, error) {
	var m MergeRow
	var object, detail string
	var created int64
	var undoneBy, undoneAt sql.NullInt64
	err := r.Scan(&m.ID, &object, &m.SurvivorID, &m.MergedID, &m.SurvivorKey, &m.MergedKey, &m.VersionBefore, &m.VersionAfter,
		&detail, &m.CreatedBy, &created, &undoneBy, &undoneAt)
	if err != nil {
		return m, err
	}
	m.Object, m.CreatedAt, m.UndoneBy, m.UndoneAt = crm.Object(object), fromMS(created), undoneBy.Int64, fromNullMS(undoneAt)
	if err := json.Unmarshal([]byte(detail), &m.Detail); err != nil {
		return m, err
	}
	m.Fields, m.Moved = m.Detail.Fields, len(m.Detail.Moves)
	return m, nil
}

// GetMerge reads one merge, locked until the transaction ends (an undo
// decides on it).
func (tx *Tx) GetMerge(ctx context.Context, id int64) (MergeRow, error) {
	if err := tx.lockRow(ctx, "merges", id); err != nil {
		return MergeRow{}, err
	}
	m, err := scanMerge(tx.q.QueryRowContext(ctx, "SELECT "+mergeColumns+" FROM merges m WHERE m.id = $1", id))
	return m, mapErr("merge", err)
}

// ListMerges returns an object's merges, newest first, whose survivor or
// merged record lies within the scope (either in the recycle bin or not).
func (tx *Tx) ListMerges(ctx context.Context, o crm.Object, scope NameScope, limit int) ([]MergeRow, error) {
	table, ok := nameTables[o]
	if !ok {
		return nil, crm.ErrNotFound(string(o))
	}
	var a args
	cond := "m.object = " + a.add(string(o)) + " AND EXISTS (SELECT 1 FROM " + table + " t WHERE t.id = m.survivor_id AND " +
		scope.condOn(o, "t", &a) + ")"
	rows, err := tx.q.QueryContext(ctx, "SELECT "+mergeColumns+" FROM merges m WHERE "+cond+
		" ORDER BY m.id DESC LIMIT "+a.add(pageLimit(limit)), a...)
	if err != nil {
		return nil, mapErr("merges", err)
	}
	defer rows.Close()
	var out []MergeRow
	for rows.Next() {
		m, err := scanMerge(rows)
		if err != nil {
			return nil, mapErr("scan merge", err)
		}
		out = append(out, m)
	}
	return out, mapErr("merges", rows.Err())
}

// MergedKeysInto returns the data keys of the people merged into those
// under keys, and into them in turn: an erasure of a survivor reaches
// every key a merge emptied into it (copies in backups included).
func (tx *Tx) MergedKeysInto(ctx context.Context, keys []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, k := range keys {
		seen[k] = true
	}
	for len(keys) > 0 {
		var a args
		rows, err := tx.q.QueryContext(ctx, "SELECT merged_key FROM merges WHERE merged_key <> '' AND undone_at IS NULL AND "+
			inList("survivor_key", keys, &a), a...)
		if err != nil {
			return nil, mapErr("merged keys", err)
		}
		var next []string
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, mapErr("merged keys", err)
			}
			if !seen[k] {
				seen[k] = true
				next = append(next, k)
				out = append(out, k)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, mapErr("merged keys", err)
		}
		keys = next
	}
	return out, nil
}

// SetDupPairStatus moves an object's candidate pairs that hold id from one
// status to another: open to merged or dismissed, merged back to open.
func (tx *Tx) SetDupPairStatus(ctx context.Context, o crm.Object, id int64, from, to string) (int64, error) {
	res, err := tx.q.ExecContext(ctx, "UPDATE dup_pairs SET status = $1 WHERE object = $2 AND status = $3 AND (id_a = $4 OR id_b = $4)",
		to, string(o), from, id)
	if err != nil {
		return 0, mapErr("duplicate pair status", err)
	}
	n, err := res.RowsAffected()
	return n, mapErr("duplicate pair status", err)
}

// DismissDupPair marks one open pair as not a duplicate; false if no open
// pair of the two exists.
func (tx *Tx) DismissDupPair(ctx context.Context, o crm.Object, idA, idB int64) (bool, error) {
	res, err := tx.q.ExecContext(ctx, `UPDATE dup_pairs SET status = $1 WHERE object = $2 AND status = $3
		AND id_a = $4 AND id_b = $5`, crm.DupPairDismissed, string(o), crm.DupPairOpen, min(idA, idB), max(idA, idB))
	if err != nil {
		return false, mapErr("dismiss duplicate pair", err)
	}
	n, err := res.RowsAffected()
	return n > 0, mapErr("dismiss duplicate pair", err)
}

// CountMergedLinks counts, per table, the rows a merge of the record
// would re-point (recycled ones too), for the comparison before a merge.
func (tx *Tx) CountMergedLinks(ctx context.Context, o crm.Object, id int64) (map[string]int, error) {
	out := map[string]int{}
	count := func(table, q string, a ...any) error {
		var n int
		if err := tx.q.QueryRowContext(ctx, q, a...).Scan(&n); err != nil {
			return mapErr("count "+table, err)
		}
		if n > 0 {
			out[table] += n
		}
		return nil
	}
	for _, l := range mergeLinks[o] {
		if err := count(l[0], "SELECT COUNT(*) FROM "+l[0]+" WHERE "+l[1]+" = $1", id); err != nil {
			return nil, err
		}
	}
	for _, table := range []string{"record_shares", "consents", "privacy_requests", "external_ids"} {
		if err := count(table, "SELECT COUNT(*) FROM "+table+" WHERE object = $1 AND record_id = $2", string(o), id); err != nil {
			return nil, err
		}
	}
	return out, nil
}
