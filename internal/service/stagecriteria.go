package service

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// Stage exit criteria (issue 17 §3): per stage, the fields, completed tasks
// and signed contract an opportunity needs before it moves past an open
// stage or into a won stage. They are checked in MoveOpportunity, the one
// use case that changes a stage, so the web board and detail page, the
// API, the importer and approved moves all get the same refusal.

// StageCriteria returns a stage's criteria (empty when it has none). Like
// the stages themselves they are no secret: a rep reads what a move needs.
func (s *Service) StageCriteria(ctx context.Context, a *access.Actor, stageID int64) (crm.StageCriteria, error) {
	var out crm.StageCriteria
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		if _, err := anyStage(ctx, tx, stageID); err != nil {
			return err
		}
		all, err := tx.ListStageCriteria(ctx)
		out = criteriaOf(all, stageID)
		return err
	})
	return out, err
}

// SaveStageCriteria replaces a stage's criteria (administrators only, like
// the stages), audited with what changed.
func (s *Service) SaveStageCriteria(ctx context.Context, a *access.Actor, c crm.StageCriteria) (crm.StageCriteria, error) {
	if err := s.requireAdmin(ctx, a, "stage.criteria"); err != nil {
		return c, err
	}
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		st, err := anyStage(ctx, tx, c.StageID)
		if err != nil {
			return err
		}
		customs, err := tx.ListCustomFields(ctx, crm.ObjOpportunity)
		if err != nil {
			return err
		}
		if err := c.Validate(st, customs); err != nil {
			return err
		}
		all, err := tx.ListStageCriteria(ctx)
		if err != nil {
			return err
		}
		before := criteriaOf(all, c.StageID)
		if err := tx.SaveStageCriteria(ctx, c, a.UserID, s.clock()); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "stage.criteria", "", c.StageID, map[string]change{
			"fields": {From: before.Fields, To: c.Fields}, "tasks": {From: before.Tasks, To: c.Tasks},
			"contract": {From: before.Contract, To: c.Contract}})
	})
	return c, err
}

// anyStage finds a stage, active or not, or answers not found.
func anyStage(ctx context.Context, tx *store.Tx, id int64) (crm.Stage, error) {
	stages, err := tx.ListStages(ctx)
	if err != nil {
		return crm.Stage{}, err
	}
	if i := slices.IndexFunc(stages, func(st crm.Stage) bool { return st.ID == id }); i >= 0 {
		return stages[i], nil
	}
	return crm.Stage{}, crm.ErrNotFound("stage")
}

// criteriaOf picks one stage's criteria out of all, empty if it has none.
func criteriaOf(all []crm.StageCriteria, stageID int64) crm.StageCriteria {
	if i := slices.IndexFunc(all, func(c crm.StageCriteria) bool { return c.StageID == stageID }); i >= 0 {
		return all[i]
	}
	return crm.StageCriteria{StageID: stageID, Fields: []string{}, Tasks: []crm.TaskCriterion{}}
}

// stageGate is one stage a move must satisfy: an open stage it moves past
// (exit) or the won stage it enters.
type stageGate struct {
	stage crm.Stage
	enter bool
}

// stagesPassed returns, in pipeline order, the stages whose criteria a
// move from `from` to `to` must meet. Into a lost stage: none. Into an
// open stage: every open stage from `from` (included) up to `to` (not
// included), so skipping ahead checks each stage skipped; a move back
// passes none. Into a won stage: every open stage from `from` on, then the
// won stage itself. A closed deal reopened or won again passes every open
// stage before its target, as it had never been through them. Inactive
// stages are out of the pipeline and pass no criteria, except the stage
// the deal sits in.
func stagesPassed(stages []crm.Stage, from, to crm.Stage) []stageGate {
	if to.Kind == crm.StageLost {
		return nil
	}
	at := func(id int64) int { return slices.IndexFunc(stages, func(st crm.Stage) bool { return st.ID == id }) }
	start, end := 0, len(stages)
	if from.Kind == crm.StageOpen {
		start = at(from.ID)
	}
	if to.Kind == crm.StageOpen {
		end = at(to.ID)
	}
	var out []stageGate
	for i := max(start, 0); i < end; i++ {
		st := stages[i]
		if st.Kind == crm.StageOpen && (st.Active || st.ID == from.ID) {
			out = append(out, stageGate{stage: st})
		}
	}
	if to.Kind == crm.StageWon {
		out = append(out, stageGate{stage: to, enter: true})
	}
	return out
}

// checkStageCriteria refuses a move of o from `from` to `to` while a
// stage it passes lacks something, naming everything missing at every
// stage passed: one field error per missing thing, its Param the stage.
func checkStageCriteria(ctx context.Context, tx *store.Tx, o crm.Opportunity, from, to crm.Stage) error {
	if to.Kind == crm.StageLost {
		return nil
	}
	all, err := tx.ListStageCriteria(ctx)
	if err != nil || len(all) == 0 {
		return err
	}
	stages, err := tx.ListStages(ctx)
	if err != nil {
		return err
	}
	var gates []stageGate
	for _, g := range stagesPassed(stages, from, to) {
		if !criteriaOf(all, g.stage.ID).Empty() {
			gates = append(gates, g)
		}
	}
	if len(gates) == 0 {
		return nil
	}
	customs, err := tx.ListCustomFields(ctx, crm.ObjOpportunity)
	if err != nil {
		return err
	}
	values, err := opportunityValues(o)
	if err != nil {
		return err
	}
	var titles []string
	var signed, readTasks, readContract bool
	var p crm.Problems
	for _, g := range gates {
		c := criteriaOf(all, g.stage.ID)
		rule := "stage_exit"
		if g.enter {
			rule = "stage_enter"
		}
		miss := func(fe crm.FieldError) {
			fe.Rule, fe.Param, fe.ParamEn = rule, g.stage.Name, g.stage.Label("en")
			p = append(p, fe)
		}
		for _, f := range c.Fields {
			key, custom := strings.CutPrefix(f, "custom.")
			if !custom {
				if blankValue(values[f]) {
					miss(crm.FieldError{Field: f})
				}
				continue
			}
			i := slices.IndexFunc(customs, func(d crm.CustomField) bool { return d.Key == key && d.Active })
			if i < 0 {
				continue // a field switched off since cannot be filled
			}
			if blankValue(o.Custom[key]) {
				miss(crm.FieldError{Field: f, Label: customs[i].Label, LabelEn: customs[i].LabelEn})
			}
		}
		if len(c.Tasks) > 0 && !readTasks {
			if titles, err = tx.DoneTaskTitles(ctx, o.ID); err != nil {
				return err
			}
			readTasks = true
		}
		for _, k := range c.Tasks {
			n := 0
			for _, t := range titles {
				if strings.HasPrefix(strings.TrimSpace(t), k.Title) {
					n++
				}
			}
			if n < k.Count {
				miss(taskMissing(k, n))
			}
		}
		if c.Contract && !readContract {
			if signed, err = tx.HasSignedContract(ctx, o.ID); err != nil {
				return err
			}
			readContract = true
		}
		if c.Contract && !signed {
			miss(crm.FieldError{Field: "contract", LabelKey: "stage.criteria_contract"})
		}
	}
	if len(p) == 0 {
		return nil
	}
	return &crm.Error{Code: crm.Invalid, Key: "stage_criteria", Message: "the opportunity does not meet the criteria of the stages it would pass", Fields: p}
}

// taskMissing names a task criterion not met: its title and how many of
// how many the opportunity has, in both languages.
func taskMissing(k crm.TaskCriterion, have int) crm.FieldError {
	zh := "已完成的任务「" + k.Title + "」"
	en := "completed task “" + k.Title + "”"
	if k.Count > 1 {
		zh = strconv.Itoa(k.Count) + " 个" + zh + "（现有 " + strconv.Itoa(have) + " 个）"
		en = strconv.Itoa(k.Count) + " " + strings.Replace(en, "task", "tasks", 1) + " (" + strconv.Itoa(have) + " so far)"
	} else {
		en = "a " + en
	}
	return crm.FieldError{Field: "tasks", Label: zh, LabelEn: en}
}

// opportunityValues are an opportunity's built-in fields by their JSON
// names, the registry's names for them.
func opportunityValues(o crm.Opportunity) (map[string]any, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// blankValue reports a value a required field must not have: none, blank text,
// zero (an amount of 0 is no amount), no choice.
func blankValue(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case float64:
		return x == 0
	case int64:
		return x == 0
	case int:
		return x == 0
	case bool:
		return !x
	case []any:
		return len(x) == 0
	case []string:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}
