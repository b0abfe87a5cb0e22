package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"custos/internal/crm"
)

// ListStageCriteria returns the criteria of every stage that has some.
func (tx *Tx) ListStageCriteria(ctx context.Context) ([]crm.StageCriteria, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT stage_id, fields, tasks, contract FROM stage_criteria ORDER BY stage_id")
	if err != nil {
		return nil, mapErr("list stage criteria", err)
	}
	defer rows.Close()
	var out []crm.StageCriteria
	for rows.Next() {
		var c crm.StageCriteria
		var fields, tasks string
		if err := rows.Scan(&c.StageID, &fields, &tasks, &c.Contract); err != nil {
			return nil, mapErr("scan stage criteria", err)
		}
		if err := json.Unmarshal([]byte(fields), &c.Fields); err != nil {
			return nil, fmt.Errorf("store: stage %d criteria fields: %w", c.StageID, err)
		}
		if err := json.Unmarshal([]byte(tasks), &c.Tasks); err != nil {
			return nil, fmt.Errorf("store: stage %d criteria tasks: %w", c.StageID, err)
		}
		out = append(out, c)
	}
	return out, mapErr("list stage criteria", rows.Err())
}

// SaveStageCriteria stores a stage's criteria in place of its old ones.
func (tx *Tx) SaveStageCriteria(ctx context.Context, c crm.StageCriteria, by int64, at time.Time) error {
	fields, err := json.Marshal(c.Fields)
	if err != nil {
		return err
	}
	tasks, err := json.Marshal(c.Tasks)
	if err != nil {
		return err
	}
	_, err = tx.q.ExecContext(ctx, `INSERT INTO stage_criteria (stage_id, fields, tasks, contract, updated_by, updated_at) VALUES ($1,$2,$3,$4,$5,$6)
		ON CONFLICT (stage_id) DO UPDATE SET fields = EXCLUDED.fields, tasks = EXCLUDED.tasks, contract = EXCLUDED.contract,
		updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at`,
		c.StageID, string(fields), string(tasks), c.Contract, by, ms(at))
	return mapErr("save stage criteria", err)
}

// DoneTaskTitles returns the titles of the completed live tasks linked to
// an opportunity; the stage criteria match them by prefix.
func (tx *Tx) DoneTaskTitles(ctx context.Context, oppID int64) ([]string, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT title FROM tasks WHERE opportunity_id = $1 AND done = TRUE AND deleted_at IS NULL", oppID)
	if err != nil {
		return nil, mapErr("done tasks", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, mapErr("scan done task", err)
		}
		out = append(out, t)
	}
	return out, mapErr("done tasks", rows.Err())
}

// HasSignedContract reports whether an opportunity has a live contract in
// one of crm.SignedContractStatuses.
func (tx *Tx) HasSignedContract(ctx context.Context, oppID int64) (bool, error) {
	var a args
	in := ""
	for i, st := range crm.SignedContractStatuses {
		if i > 0 {
			in += ", "
		}
		in += a.add(st)
	}
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM contracts WHERE opportunity_id = "+a.add(oppID)+
		" AND deleted_at IS NULL AND status IN ("+in+")", a...).Scan(&n)
	return n > 0, mapErr("signed contract", err)
}
