package service

import (
	"context"
	"encoding/json"
	"fmt"

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
