package service

import (
	"cmp"
	"context"
	"fmt"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/quality"
	"custos/internal/store"
)

func opportunityScope(a *access.Actor) store.OpportunityQuery {
	return store.OpportunityQuery{Scope: childScope(a, crm.ObjOpportunity, false)}
}

// Stages returns the pipeline stages in order.
func (s *Service) Stages(ctx context.Context, a *access.Actor) ([]crm.Stage, error) {
	var out []crm.Stage
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.ListStages(ctx)
		return err
	})
	return out, err
}

// SaveStage creates (ID 0) or changes a pipeline stage (administrators only).
func (s *Service) SaveStage(ctx context.Context, a *access.Actor, st crm.Stage) (crm.Stage, error) {
	if err := s.requireAdmin(ctx, a, "stage.save"); err != nil {
		return st, err
	}
	if err := st.Validate(); err != nil {
		return st, err
	}
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.SaveStage(ctx, &st); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "stage.save", "", st.ID, diff(crm.Stage{}, st))
	})
	return st, err
}

// stageByID finds a stage, or a field error naming field.
func stageByID(ctx context.Context, tx *store.Tx, id int64, field string) (crm.Stage, error) {
	stages, err := tx.ListStages(ctx)
	if err != nil {
		return crm.Stage{}, err
	}
	for _, st := range stages {
		if st.ID == id && st.Active {
			return st, nil
		}
	}
	return crm.Stage{}, &crm.Error{Code: crm.Invalid, Message: "no such stage", Fields: []crm.FieldError{{Field: field, Rule: "not_found"}}}
}

// firstStage is the first active open stage, where new opportunities start.
func firstStage(ctx context.Context, tx *store.Tx) (crm.Stage, error) {
	stages, err := tx.ListStages(ctx)
	if err != nil {
		return crm.Stage{}, err
	}
	for _, st := range stages {
		if st.Active && st.Kind == crm.StageOpen {
			return st, nil
		}
	}
	return crm.Stage{}, crm.Errorf(crm.Conflict, "the pipeline has no open stage; an administrator must add one")
}

// opportunityWrite is the opportunity's part of the generic create and
// update: a large amount is held for approval, and a new opportunity
// starts at the first open stage.
var opportunityWrite = recordWrite[crm.Opportunity, crm.OpportunityFields]{
	object: crm.ObjOpportunity,
	parts: func(o *crm.Opportunity) (*crm.Record, *crm.OpportunityFields, *map[string]any) {
		return &o.Record, &o.OpportunityFields, &o.Custom
	},
	normalize: func(_ *Service, f *crm.OpportunityFields) ([]store.DedupKey, error) { return nil, f.Validate().Err() },
	links:     func(f *crm.OpportunityFields) recordLinks { return recordLinks{customer: f.CustomerID} },
	terms:     func(o *crm.Opportunity) []string { return quality.SearchTerms(o.Name) },
	holdNew: func(ctx context.Context, tx *store.Tx, payload any, f *crm.OpportunityFields) error {
		return holdLargeAmount(ctx, tx, 0, 0, payload, f.Amount, -1)
	},
	holdEdit: func(ctx context.Context, tx *store.Tx, id, version int64, up any, before, after *crm.Opportunity) error {
		return holdLargeAmount(ctx, tx, id, version, up, after.Amount, before.Amount)
	},
	prepare: func(ctx context.Context, tx *store.Tx, o *crm.Opportunity) error {
		st, err := firstStage(ctx, tx)
		o.StageID, o.Probability = st.ID, st.Probability
		return err
	},
	get: func(ctx context.Context, tx *store.Tx, a *access.Actor, id int64) (crm.Opportunity, error) {
		return tx.GetOpportunity(ctx, id, store.OpportunityQuery{Scope: childScope(a, crm.ObjOpportunity, true)})
	},
	insert: func(ctx context.Context, tx *store.Tx, o *crm.Opportunity) error { return tx.InsertOpportunity(ctx, o) },
	update: func(ctx context.Context, tx *store.Tx, o *crm.Opportunity) error { return tx.UpdateOpportunity(ctx, o) },
}

// CreateOpportunity stores a new opportunity at the first open stage.
func (s *Service) CreateOpportunity(ctx context.Context, a *access.Actor, f crm.OpportunityFields) (crm.Opportunity, error) {
	return createRecord(ctx, s, a, opportunityWrite, crm.Opportunity{OpportunityFields: f})
}

// GetOpportunity returns an opportunity the actor may see, with its stage
// history, and records the view.
func (s *Service) GetOpportunity(ctx context.Context, a *access.Actor, id int64) (crm.Opportunity, []crm.StageChange, error) {
	type detail struct {
		o    crm.Opportunity
		hist []crm.StageChange
	}
	d, err := viewOne(ctx, s, a, crm.ObjOpportunity, id, func(tx *store.Tx) (detail, error) {
		o, err := tx.GetOpportunity(ctx, id, opportunityScope(a))
		if err != nil {
			return detail{}, err
		}
		hist, err := tx.ListStageChanges(ctx, id)
		return detail{o, hist}, err
	})
	s.shape(a, &d.o)
	return d.o, d.hist, err
}

// UpdateOpportunity applies a partial update if the version is current.
func (s *Service) UpdateOpportunity(ctx context.Context, a *access.Actor, id int64, up crm.OpportunityUpdate) (crm.Opportunity, error) {
	return updateRecord(ctx, s, a, opportunityWrite, recordEdit[crm.Opportunity]{id: id, version: up.Version, payload: up, holds: true,
		apply: func(o *crm.Opportunity) crm.Problems { o.OpportunityFields = up.Apply(o.OpportunityFields); return nil }})
}

// MoveOpportunity changes an opportunity's stage, storing the change with
// its time. Moving to a lost stage needs a reason; a won or lost stage
// closes the opportunity, an open stage reopens it. A move forward (or
// into won) needs what the criteria of the stages it passes ask for.
func (s *Service) MoveOpportunity(ctx context.Context, a *access.Actor, id int64, mv crm.StageMove) (crm.Opportunity, error) {
	if err := s.require(ctx, a, crm.ObjOpportunity, crm.ActEdit); err != nil {
		return crm.Opportunity{}, err
	}
	var o crm.Opportunity
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		var err error
		o, err = s.moveOpportunityTx(ctx, tx, a, id, mv)
		return err
	})
	s.shape(a, &o)
	return o, s.filed(ctx, a, err)
}

// moveOpportunityTx is MoveOpportunity inside tx (the importer moves the
// records it writes there): it checks the stage criteria of every stage
// the move passes (stagecriteria.go) and, for a won stage, the approval
// policy, whose approvalNeeded error the caller files or refuses.
func (s *Service) moveOpportunityTx(ctx context.Context, tx *store.Tx, a *access.Actor, id int64, mv crm.StageMove) (crm.Opportunity, error) {
	if err := tx.LockRecord(ctx, crm.ObjOpportunity, id); err != nil {
		return crm.Opportunity{}, err
	}
	before, err := tx.GetOpportunity(ctx, id, store.OpportunityQuery{Scope: childScope(a, crm.ObjOpportunity, true)})
	if err == nil {
		err = s.openRecord(ctx, &before)
	}
	if err != nil {
		return crm.Opportunity{}, err
	}
	if err := checkVersion(mv.Version, before.Version); err != nil {
		return crm.Opportunity{}, err
	}
	st, err := stageByID(ctx, tx, mv.StageID, "stage_id")
	if err != nil {
		return crm.Opportunity{}, err
	}
	var p crm.Problems
	reason := p.Text("lost_reason", mv.LostReason, st.Kind == crm.StageLost, 500)
	if err := p.Err(); err != nil {
		return crm.Opportunity{}, err
	}
	if st.ID == before.StageID {
		return before, nil // nothing moves; no event
	}
	from, err := anyStage(ctx, tx, before.StageID)
	if err != nil {
		return crm.Opportunity{}, err
	}
	if err := checkStageCriteria(ctx, tx, before, from, st); err != nil {
		return crm.Opportunity{}, err
	}
	if st.Kind == crm.StageWon {
		if p, active, err := activePolicy(ctx, tx, crm.ApproveWon); err != nil || active {
			return crm.Opportunity{}, cmp.Or(err, needApproval(p, crm.ObjOpportunity, id, before.Version, mv, fmt.Sprintf("mark opportunity %d won", id)))
		}
	}
	now := s.clock()
	o := before
	o.StageID, o.Probability, o.StageChangedAt, o.UpdatedBy, o.UpdatedAt = st.ID, st.Probability, now, a.UserID, now
	o.LostReason, o.ClosedAt = "", nil
	if st.Kind != crm.StageOpen {
		o.ClosedAt = &now
	}
	if st.Kind == crm.StageLost {
		o.LostReason = reason
	}
	if err := tx.MoveOpportunity(ctx, &o, before.StageID); err != nil {
		return crm.Opportunity{}, err
	}
	return o, s.audit(ctx, tx, a, "opportunity.stage", crm.ObjOpportunity, id, map[string]change{
		"stage_id": {From: before.StageID, To: st.ID}, "lost_reason": {From: before.LostReason, To: o.LostReason}})
}

// DeleteOpportunity moves an opportunity to the recycle bin.
func (s *Service) DeleteOpportunity(ctx context.Context, a *access.Actor, id int64) error {
	return s.DeleteRecord(ctx, a, crm.ObjOpportunity, id)
}

// ListOpportunities returns a page of the opportunities the actor may see.
func (s *Service) ListOpportunities(ctx context.Context, a *access.Actor, f crm.ListFilter) (OpportunityPage, error) {
	q := opportunityScope(a)
	q.Filter = f
	if err := s.opportunityStalled(&q); err != nil {
		return OpportunityPage{}, err
	}
	return listRecords(ctx, s, a, f, recordList[crm.Opportunity]{object: crm.ObjOpportunity,
		search: func(_ *store.DedupKey, terms []string) { q.Terms = terms }, // opportunities have no exact keys
		custom: func(m []store.CustomMatch) { q.Custom = m },
		list:   func(tx *store.Tx) ([]crm.Opportunity, string, error) { return tx.ListOpportunities(ctx, q) },
		count:  func(tx *store.Tx) (int, error) { return tx.CountOpportunities(ctx, q) },
		id:     func(o crm.Opportunity) int64 { return o.ID }})
}
