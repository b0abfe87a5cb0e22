package service

import (
	"context"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// recordWrite is what the generic create and update (createRecord,
// updateRecord) need of one object: typed hooks, no reflection, so every
// object takes the same steps in the same order — guardFields before the
// write; inside it validation, links, the duplicate check with its lock,
// approval holds, the stamp, the sealed write, the index rows, the version
// and the audit event. Customers stay apart (customers.go): their create
// may choose another owner, their normalisation reads the transaction, and
// their update refuses a missing version before reading the record.
type recordWrite[T, F any] struct {
	object crm.Object
	// parts returns the record's common part, its user-editable fields and
	// their custom values.
	parts func(t *T) (*crm.Record, *F, *map[string]any)
	// personal records hold a person's data, sealed under their data key
	// (made before the write opens unless the record brings one).
	personal bool
	// normalize validates and normalises the fields in place and returns
	// the duplicate keys; custom values are added by the generic step.
	normalize func(s *Service, f *F) ([]store.DedupKey, error)
	// checked narrows the keys to those checked for duplicates (nil: all).
	checked func([]store.DedupKey) []store.DedupKey
	// dupField renames the fields of a duplicate answer (nil: as they are).
	dupField func(error) error
	// links returns the records the fields point to, which the actor must
	// be allowed to link to (nil: none).
	links func(f *F) recordLinks
	// terms returns the record's search terms.
	terms func(t *T) []string
	// holdNew files a create (payload: the fields as given) for approval
	// (nil: none); holdEdit does so for
	// an update, before the key-field hold every update has.
	holdNew  func(ctx context.Context, tx *store.Tx, payload any, f *F) error
	holdEdit func(ctx context.Context, tx *store.Tx, id, version int64, up any, before, after *T) error
	// prepare sets what a new record takes from the database (nil: nothing).
	prepare func(ctx context.Context, tx *store.Tx, t *T) error
	// editable refuses an update of a record in a state that forbids it
	// (nil: any record may be edited).
	editable func(before *T) error
	// changes adds the changes of fields outside F to the audit diff.
	changes func(before, after *T, m map[string]change)
	// get reads the record to change within the actor's edit scope.
	get    func(ctx context.Context, tx *store.Tx, a *access.Actor, id int64) (T, error)
	insert func(ctx context.Context, tx *store.Tx, stored *T) error
	update func(ctx context.Context, tx *store.Tx, stored *T) error
}

// recordLinks are the records a record hangs off (0: none).
type recordLinks struct{ customer, opportunity int64 }

// checkLinks checks that the actor may hang a record off its customer
// (they must be able to edit it, so nobody attaches records to strangers'
// accounts) and that its opportunity, if any, is one of that customer's
// the actor may see.
func checkLinks(ctx context.Context, tx *store.Tx, a *access.Actor, l recordLinks) error {
	if err := linkCustomer(ctx, tx, a, l.customer); err != nil {
		return err
	}
	if l.opportunity == 0 {
		return nil
	}
	o, err := tx.GetOpportunity(ctx, l.opportunity, opportunityScope(a))
	if err != nil {
		return refError(err, "opportunity_id")
	}
	if o.CustomerID != l.customer {
		return &crm.Error{Code: crm.Invalid, Message: "the opportunity belongs to another customer",
			Fields: []crm.FieldError{{Field: "opportunity_id", Rule: "other_customer"}}}
	}
	return nil
}

// recordEdit is one update for updateRecord: the record, the version the
// editor saw, the update as filed for approval, and how it applies to a
// copy of the stored record (with problems of fields outside F).
type recordEdit[T any] struct {
	id, version int64
	payload     any
	apply       func(t *T) crm.Problems
	// holds false skips the approval holds: for a correction a privacy
	// officer makes on the person's request, which is itself the
	// authorisation.
	holds bool
}

// createRecord is the generic create use case: t holds the new record's
// fields (and any initial state); it comes back stored and shaped.
func createRecord[T, F any](ctx context.Context, s *Service, a *access.Actor, w recordWrite[T, F], t T) (T, error) {
	if err := s.require(ctx, a, w.object, crm.ActCreate); err != nil {
		var zero T
		return zero, err
	}
	rec, f, _ := w.parts(&t)
	var none F
	if err := s.guardFields(a, w.object, &none, f); err != nil {
		var zero T
		return zero, err
	}
	in := *f
	if w.personal && rec.DataKey == "" {
		var err error
		if rec.DataKey, err = s.newPersonKey(ctx); err != nil {
			var zero T
			return zero, err
		}
	}
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		return createTx(ctx, s, tx, a, w, &t, s.clock(), in)
	})
	s.auditEntryLookups(ctx, err)
	s.shape(a, &t)
	return t, s.filed(ctx, a, err)
}

// createTx validates, checks and stores a record owned by the actor inside
// tx, with its index rows, first version and audit event. payload is what
// an approval hold files; nil skips the hold (a lead's conversion).
func createTx[T, F any](ctx context.Context, s *Service, tx *store.Tx, a *access.Actor, w recordWrite[T, F], t *T, now timeT, payload any) error {
	rec, f, custom := w.parts(t)
	keys, err := w.validate(ctx, s, tx, f, custom, nil)
	if err != nil {
		return err
	}
	if err := w.check(ctx, s, tx, a, keys, 0, nil, f); err != nil {
		return err
	}
	if payload != nil && w.holdNew != nil {
		if err := w.holdNew(ctx, tx, payload, f); err != nil {
			return err
		}
	}
	if w.prepare != nil {
		if err := w.prepare(ctx, tx, t); err != nil {
			return err
		}
	}
	// Stamped when the write runs, as every create is. A record that comes
	// with an owner (an import's owner rule, checked by its caller) keeps it.
	owner := a.UserID
	if rec.OwnerID != 0 {
		owner = rec.OwnerID
	}
	rec.OwnerID, rec.CreatedBy, rec.UpdatedBy, rec.CreatedAt, rec.UpdatedAt = owner, a.UserID, a.UserID, now, now
	if err := w.write(ctx, s, tx, t, w.insert); err != nil {
		return err
	}
	if err := w.index(ctx, s, tx, t, keys, true); err != nil {
		return err
	}
	if err := w.keep(ctx, s, tx, a, t); err != nil {
		return err
	}
	var none F
	return s.audit(ctx, tx, a, string(w.object)+".create", w.object, rec.ID, auditDiff(w.object, none, *f))
}

// updateRecord is the generic update use case: it applies a partial update
// if the version is current, or files it for approval.
func updateRecord[T, F any](ctx context.Context, s *Service, a *access.Actor, w recordWrite[T, F], e recordEdit[T]) (T, error) {
	var t T
	if err := s.require(ctx, a, w.object, crm.ActEdit); err != nil {
		return t, err
	}
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		var err error
		t, err = updateTx(ctx, s, tx, a, w, e)
		return err
	})
	s.auditEntryLookups(ctx, err)
	s.shape(a, &t)
	return t, s.filed(ctx, a, err)
}

// updateTx is updateRecord inside tx.
func updateTx[T, F any](ctx context.Context, s *Service, tx *store.Tx, a *access.Actor, w recordWrite[T, F], e recordEdit[T]) (T, error) {
	var t T
	before, err := w.get(ctx, tx, a, e.id)
	if err == nil {
		err = s.openRecord(ctx, &before)
	}
	if err != nil {
		return t, err
	}
	brec, bf, _ := w.parts(&before)
	if err := checkVersion(e.version, brec.Version); err != nil {
		return t, err
	}
	if w.editable != nil {
		if err := w.editable(&before); err != nil {
			return t, err
		}
	}
	if brec.ArchivedAt != nil {
		return t, errArchived(w.object)
	}
	t = before
	more := e.apply(&t)
	rec, f, custom := w.parts(&t)
	if err := s.guardFields(a, w.object, bf, f); err != nil {
		return t, err
	}
	keys, err := w.validate(ctx, s, tx, f, custom, more)
	if err != nil {
		return t, err
	}
	if err := w.check(ctx, s, tx, a, keys, e.id, bf, f); err != nil {
		return t, err
	}
	if e.holds {
		if w.holdEdit != nil {
			if err := w.holdEdit(ctx, tx, e.id, brec.Version, e.payload, &before, &t); err != nil {
				return t, err
			}
		}
		if err := holdKeyFields(ctx, tx, w.object, e.id, brec.Version, e.payload, diff(*bf, *f)); err != nil {
			return t, err
		}
	}
	rec.UpdatedBy, rec.UpdatedAt = a.UserID, s.clock()
	if err := w.write(ctx, s, tx, &t, w.update); err != nil {
		return t, err
	}
	if err := w.index(ctx, s, tx, &t, keys, false); err != nil {
		return t, err
	}
	if err := w.keep(ctx, s, tx, a, &t); err != nil {
		return t, err
	}
	changes := auditDiff(w.object, *bf, *f)
	if w.changes != nil {
		w.changes(&before, &t, changes)
	}
	if err := s.audit(ctx, tx, a, string(w.object)+".update", w.object, e.id, changes); err != nil {
		return t, err
	}
	return t, s.reviewedByEdit(ctx, tx, a, w.object, e.id, rec.OwnerID)
}

// validate normalises the fields and custom values and returns the
// duplicate keys; problems of both, and more, are reported together.
func (w recordWrite[T, F]) validate(ctx context.Context, s *Service, tx *store.Tx, f *F, custom *map[string]any, more crm.Problems) ([]store.DedupKey, error) {
	keys, err := w.normalize(s, f)
	return s.withCustom(ctx, tx, w.object, custom, keys, joinProblems(err, more))
}

// check checks the links (on update only those that changed; before is
// nil on create) and then, under the keys' locks, for duplicates.
func (w recordWrite[T, F]) check(ctx context.Context, s *Service, tx *store.Tx, a *access.Actor, keys []store.DedupKey, id int64, before, after *F) error {
	if w.links != nil && (before == nil || w.links(before) != w.links(after)) {
		if err := checkLinks(ctx, tx, a, w.links(after)); err != nil {
			return err
		}
	}
	if w.checked != nil {
		keys = w.checked(keys)
	}
	err := s.checkNewDuplicate(ctx, tx, a, keys, w.object, id)
	if err != nil && w.dupField != nil {
		return w.dupField(err)
	}
	return err
}

// write stores the record with its personal fields and sensitive custom
// values sealed; t keeps its plaintext and gets its id and version.
func (w recordWrite[T, F]) write(ctx context.Context, s *Service, tx *store.Tx, t *T, put func(context.Context, *store.Tx, *T) error) error {
	rec, _, _ := w.parts(t)
	if w.personal {
		if err := s.ensureDataKey(ctx, rec); err != nil {
			return err
		}
	}
	stored, err := sealedCopy(ctx, s, tx, *t)
	if err == nil {
		err = put(ctx, tx, &stored)
	}
	srec, _, _ := w.parts(&stored)
	rec.ID, rec.Version = srec.ID, srec.Version
	return err
}

// index replaces the record's duplicate keys and search terms (fresh: a
// record just inserted, which has none).
func (w recordWrite[T, F]) index(ctx context.Context, s *Service, tx *store.Tx, t *T, keys []store.DedupKey, fresh bool) error {
	rec, _, _ := w.parts(t)
	if fresh {
		return s.indexNew(ctx, tx, w.object, rec.ID, keys, w.terms(t))
	}
	return s.writeIndex(ctx, tx, w.object, rec.ID, keys, w.terms(t))
}

// keep stores the record's version; a person's is sealed under their key.
func (w recordWrite[T, F]) keep(ctx context.Context, s *Service, tx *store.Tx, a *access.Actor, t *T) error {
	rec, f, _ := w.parts(t)
	key := ""
	if w.personal {
		key = rec.DataKey
	}
	return s.keepVersion(ctx, tx, a, w.object, rec.ID, rec.Version, key, *f)
}
