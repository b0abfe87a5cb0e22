package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// importHooks are what the importer needs of one object: its entry check
// without a write (the preview), its create and its update inside the
// batch's transaction. They are the object's own create and update use
// cases, so an imported row is validated, normalised, checked for
// duplicates, sealed, indexed, versioned and audited exactly as a form
// entry is.
type importHooks struct {
	// check validates fields (JSON) as entry does and returns the keys the
	// record would hold; it writes nothing.
	// links false skips the check of the records it links to.
	check func(ctx context.Context, s *Service, tx *store.Tx, a *access.Actor, fields []byte, links bool) ([]store.DedupKey, error)
	// create stores a record owned by owner (0: the actor) and returns its
	// id and the warnings its entry gave (a possible duplicate).
	create func(ctx context.Context, s *Service, tx *store.Tx, a *access.Actor, fields []byte, owner int64) (int64, []crm.Warning, error)
	// update sets the fields (JSON, only those in the row) of a record
	// (nil: a row imported before is skipped).
	update func(ctx context.Context, s *Service, tx *store.Tx, a *access.Actor, id int64, fields []byte) error
}

// ImportObjects lists the objects a file can be imported into, in the
// registry's order.
func ImportObjects() []crm.Object {
	return crm.ObjectsWhere(func(s crm.ObjectSpec) bool { return objectHooks[s.Name].imports != nil })
}

func decodeFields(fields []byte, v any) error {
	if err := json.Unmarshal(fields, v); err != nil {
		return fmt.Errorf("service: import row: %w", err)
	}
	return nil
}

// importWith builds the hooks of an object written by the generic create
// and update (write.go).
func importWith[T, F any, U interface{ Apply(F) F }](w recordWrite[T, F], wrap func(F) T) *importHooks {
	return &importHooks{
		check: func(ctx context.Context, s *Service, tx *store.Tx, a *access.Actor, fields []byte, links bool) ([]store.DedupKey, error) {
			var f F
			if err := decodeFields(fields, &f); err != nil {
				return nil, err
			}
			t := wrap(f)
			_, fp, custom := w.parts(&t)
			var none F
			if err := s.guardFields(a, w.object, &none, fp); err != nil {
				return nil, err
			}
			keys, err := w.validate(ctx, s, tx, fp, custom, nil)
			if err != nil {
				return nil, err
			}
			if links && w.links != nil {
				if err := checkLinks(ctx, tx, a, w.links(fp)); err != nil {
					return nil, err
				}
			}
			if w.checked != nil {
				keys = w.checked(keys)
			}
			return keys, nil
		},
		create: func(ctx context.Context, s *Service, tx *store.Tx, a *access.Actor, fields []byte, owner int64) (int64, []crm.Warning, error) {
			var f F
			if err := decodeFields(fields, &f); err != nil {
				return 0, nil, err
			}
			t := wrap(f)
			rec, fp, _ := w.parts(&t)
			var none F
			if err := s.guardFields(a, w.object, &none, fp); err != nil {
				return 0, nil, err
			}
			rec.OwnerID = owner
			err := createTx(ctx, s, tx, a, w, &t, s.clock(), nil)
			return rec.ID, nil, err
		},
		update: func(ctx context.Context, s *Service, tx *store.Tx, a *access.Actor, id int64, fields []byte) error {
			var up U
			if err := decodeFields(fields, &up); err != nil {
				return err
			}
			current, err := w.get(ctx, tx, a, id)
			if err != nil {
				return err
			}
			rec, _, _ := w.parts(&current)
			_, err = updateTx(ctx, s, tx, a, w, recordEdit[T]{id: id, version: rec.Version, payload: up, holds: true,
				apply: func(t *T) crm.Problems {
					_, f, _ := w.parts(t)
					*f = up.Apply(*f)
					return nil
				}})
			return err
		},
	}
}

// customerImport: customers have their own create and update (customers.go).
var customerImport = importHooks{
	check: func(ctx context.Context, s *Service, tx *store.Tx, a *access.Actor, fields []byte, _ bool) ([]store.DedupKey, error) {
		var f crm.CustomerFields
		if err := decodeCustomer(fields, &f); err != nil {
			return nil, err
		}
		if err := s.guardFields(a, crm.ObjCustomer, &crm.CustomerFields{}, &f); err != nil {
			return nil, err
		}
		// All keys: the importer checks duplicates on checkedKeys and warns
		// on a company name's core.
		return s.normalizeCustomerTx(ctx, tx, &f)
	},
	create: func(ctx context.Context, s *Service, tx *store.Tx, a *access.Actor, fields []byte, owner int64) (int64, []crm.Warning, error) {
		c := crm.Customer{}
		if err := decodeCustomer(fields, &c.CustomerFields); err != nil {
			return 0, nil, err
		}
		if err := s.guardFields(a, crm.ObjCustomer, &crm.CustomerFields{}, &c.CustomerFields); err != nil {
			return 0, nil, err
		}
		err := s.createCustomerTx(ctx, tx, a, &c, owner)
		return c.ID, c.Warnings, err
	},
	update: func(ctx context.Context, s *Service, tx *store.Tx, a *access.Actor, id int64, fields []byte) error {
		var up crm.CustomerUpdate
		if err := decodeFields(fields, &up); err != nil {
			return err
		}
		current, err := changeableCustomer(ctx, tx, a, id)
		if err != nil {
			return err
		}
		up.Version = current.Version
		_, err = s.updateCustomerTx(ctx, tx, a, id, up)
		return err
	},
}

// decodeCustomer reads a new customer's fields; one without a status
// starts as the form starts it, a prospect.
func decodeCustomer(fields []byte, f *crm.CustomerFields) error {
	if err := decodeFields(fields, f); err != nil {
		return err
	}
	if f.Status == "" {
		f.Status = crm.CustomerStatuses[0]
	}
	return nil
}

// followUpImport brings in follow-up history. A follow-up is history, not
// a record kept in step with another system: a row whose external id was
// imported before is skipped, never written twice.
var followUpImport = &importHooks{
	check: func(ctx context.Context, s *Service, tx *store.Tx, a *access.Actor, fields []byte, links bool) ([]store.DedupKey, error) {
		var in crm.FollowUpInput
		if err := decodeFields(fields, &in); err != nil {
			return nil, err
		}
		f, err := s.newFollowUp(a, in)
		if err == nil && links {
			_, err = s.resolveFollowUpLinks(ctx, tx, a, &f)
		}
		return nil, err
	},
	create: func(ctx context.Context, s *Service, tx *store.Tx, a *access.Actor, fields []byte, owner int64) (int64, []crm.Warning, error) {
		var in crm.FollowUpInput
		if err := decodeFields(fields, &in); err != nil {
			return 0, nil, err
		}
		f, err := s.newFollowUp(a, in)
		if err != nil {
			return 0, nil, err
		}
		if owner != 0 {
			f.OwnerID = owner
		}
		err = s.insertFollowUpTx(ctx, tx, a, &f)
		return f.ID, nil, err
	},
}

// taskImport brings in tasks; the owner rule picks their assignees, and a
// task imported before is skipped.
var taskImport = &importHooks{
	check: func(ctx context.Context, s *Service, tx *store.Tx, a *access.Actor, fields []byte, links bool) ([]store.DedupKey, error) {
		var f crm.TaskFields
		if err := decodeFields(fields, &f); err != nil {
			return nil, err
		}
		_, err := s.newTask(a, f)
		if err == nil && links {
			err = linkTask(ctx, tx, a, &f)
		}
		return nil, err
	},
	create: func(ctx context.Context, s *Service, tx *store.Tx, a *access.Actor, fields []byte, owner int64) (int64, []crm.Warning, error) {
		var f crm.TaskFields
		if err := decodeFields(fields, &f); err != nil {
			return 0, nil, err
		}
		if owner != 0 {
			f.AssigneeID = owner
		}
		k, err := s.newTask(a, f)
		if err == nil {
			err = s.insertTaskTx(ctx, tx, a, &k)
		}
		return k.ID, nil, err
	},
}

// opportunityImport is the generic import of opportunities plus their
// stage. A row with a stage (its id, or its name in either language) is
// created at the first open stage, as every opportunity is, and then moved
// there by the stage move itself (moveOpportunityTx) in the row's
// transaction: a stage whose criteria the row does not meet fails the row
// with the move's reason, and the row's savepoint leaves nothing of it. A
// re-imported row moves its record the same way.
func opportunityImport() *importHooks {
	base := importWith[crm.Opportunity, crm.OpportunityFields, crm.OpportunityUpdate](opportunityWrite,
		func(f crm.OpportunityFields) crm.Opportunity { return crm.Opportunity{OpportunityFields: f} })
	return &importHooks{
		check: func(ctx context.Context, s *Service, tx *store.Tx, a *access.Actor, fields []byte, links bool) ([]store.DedupKey, error) {
			rest, mv, err := stageOfRow(ctx, tx, fields)
			if err != nil {
				return nil, err
			}
			keys, err := base.check(ctx, s, tx, a, rest, links)
			if err != nil || mv == nil {
				return keys, err
			}
			// The preview judges the record the row would make: it has
			// no tasks or contracts yet.
			var o crm.Opportunity
			if err := decodeFields(rest, &o.OpportunityFields); err != nil {
				return nil, err
			}
			return keys, checkImportedMove(ctx, tx, o, *mv)
		},
		create: func(ctx context.Context, s *Service, tx *store.Tx, a *access.Actor, fields []byte, owner int64) (int64, []crm.Warning, error) {
			rest, mv, err := stageOfRow(ctx, tx, fields)
			if err != nil {
				return 0, nil, err
			}
			id, ws, err := base.create(ctx, s, tx, a, rest, owner)
			if err == nil && mv != nil {
				err = s.importMove(ctx, tx, a, id, *mv)
			}
			return id, ws, err
		},
		update: func(ctx context.Context, s *Service, tx *store.Tx, a *access.Actor, id int64, fields []byte) error {
			rest, mv, err := stageOfRow(ctx, tx, fields)
			if err == nil {
				err = base.update(ctx, s, tx, a, id, rest)
			}
			if err == nil && mv != nil {
				err = s.importMove(ctx, tx, a, id, *mv)
			}
			return err
		},
	}
}

// stageOfRow takes the stage and lost reason out of an opportunity row's
// fields: the rest for the create or update, the move (nil: no stage).
func stageOfRow(ctx context.Context, tx *store.Tx, fields []byte) ([]byte, *crm.StageMove, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(fields, &m); err != nil {
		return nil, nil, fmt.Errorf("service: import row: %w", err)
	}
	raw, ok := m["stage_id"]
	var mv crm.StageMove
	if r, has := m["lost_reason"]; has {
		if err := json.Unmarshal(r, &mv.LostReason); err != nil {
			return nil, nil, fmt.Errorf("service: import row: %w", err)
		}
	}
	delete(m, "stage_id")
	delete(m, "lost_reason")
	rest, err := json.Marshal(m)
	if err != nil || !ok {
		return rest, nil, err
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, nil, fmt.Errorf("service: import row: %w", err)
	}
	stages, err := tx.ListStages(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, st := range stages {
		if !st.Active {
			continue
		}
		switch x := v.(type) {
		case float64:
			ok = float64(st.ID) == x
		case string:
			ok = strings.EqualFold(strings.TrimSpace(x), st.Name) || st.NameEn != "" && strings.EqualFold(strings.TrimSpace(x), st.NameEn)
		default:
			ok = false
		}
		if ok {
			mv.StageID = st.ID
			return rest, &mv, nil
		}
	}
	return nil, nil, &crm.Error{Code: crm.Invalid, Message: "no such stage", Fields: []crm.FieldError{{Field: "stage_id", Rule: "not_found"}}}
}

// checkImportedMove is the preview of a row's move from the first open
// stage: its lost reason and the criteria of the stages it passes.
func checkImportedMove(ctx context.Context, tx *store.Tx, o crm.Opportunity, mv crm.StageMove) error {
	first, err := firstStage(ctx, tx)
	if err != nil {
		return err
	}
	to, err := stageByID(ctx, tx, mv.StageID, "stage_id")
	if err != nil || to.ID == first.ID {
		return err
	}
	var p crm.Problems
	p.Text("lost_reason", mv.LostReason, to.Kind == crm.StageLost, 500)
	if err := p.Err(); err != nil {
		return err
	}
	return checkStageCriteria(ctx, tx, o, first, to)
}

// importMove moves an imported opportunity to its row's stage at its
// current version. A move the approval policy would hold (won) fails the
// row: an import files no approval requests.
func (s *Service) importMove(ctx context.Context, tx *store.Tx, a *access.Actor, id int64, mv crm.StageMove) error {
	cur, err := tx.GetOpportunity(ctx, id, store.OpportunityQuery{Scope: childScope(a, crm.ObjOpportunity, true)})
	if err != nil {
		return err
	}
	mv.Version = cur.Version
	_, err = s.moveOpportunityTx(ctx, tx, a, id, mv)
	var need *approvalNeeded
	if errors.As(err, &need) {
		return &crm.Error{Code: crm.Invalid, Message: "marking an opportunity won needs approval",
			Fields: []crm.FieldError{{Field: "stage_id", Rule: "won_needs_approval"}}}
	}
	return err
}
