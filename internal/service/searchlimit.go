package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/kernel"
	"custos/internal/store"
)

// Blind indexes answer exact questions — "is 138 0013 8000 anyone's
// phone?" — so an unlimited search would let someone guess the digits a
// mask hides. Searches by a phone, e-mail or credit code are recorded with
// their kind, watched by the sensitive_search anomaly rule, and limited per
// actor and hour (DESIGN.md §5).

// DefaultSensitiveSearchesPerHour is the default hourly limit per actor.
const DefaultSensitiveSearchesPerHour = 100

// UnlimitedSensitiveSearches as the limit turns the check off (custos
// bench, which searches by phone thousands of times as one user).
const UnlimitedSensitiveSearches = 1 << 30

// sensitiveSearchKinds are the exact search kinds by a sensitive value
// (kernel.SensitiveSearchKinds, which the anomaly rule weighs too).
var sensitiveSearchKinds = kernel.SensitiveSearchKinds

// sensitiveSearchActions lists every audit action of a sensitive search:
// the global search's and each list's.
func sensitiveSearchActions() []string {
	var out []string
	for _, k := range sensitiveSearchKinds {
		out = append(out, "search."+k)
		for _, o := range crm.ObjectsWhere(crm.ObjectSpec.Indexed) { // the objects a list searches
			out = append(out, string(o)+".search."+k, string(o)+".entry_check."+k)
		}
	}
	return out
}

// isSensitiveSearch reports whether an audit action is a search by a
// sensitive value (kernel.IsSensitiveSearch).
func isSensitiveSearch(action string) bool { return kernel.IsSensitiveSearch(action) }

// checkSearchRate refuses a sensitive search once the actor made the
// hour's allowance of them (refused attempts count too, so hammering does
// not reopen the door); the refusal is audited.
func (s *Service) checkSearchRate(ctx context.Context, a *access.Actor, action string) error {
	if a == nil || a.Kind == access.KindSystem || !isSensitiveSearch(action) || s.searchLimit >= UnlimitedSensitiveSearches {
		return nil
	}
	var n int
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.CountActorSearches(ctx, string(a.Kind), a.UserID, s.clock().Add(-time.Hour), sensitiveSearchActions(), s.searchLimit)
		return err
	})
	if err != nil || n < s.searchLimit {
		return err
	}
	s.auditDenied(ctx, a, action, "", 0)
	return s.searchLimitError()
}

func (s *Service) searchLimitError() error {
	return &crm.Error{Code: crm.RateLimited, Key: "search_limit",
		Message: fmt.Sprintf("at most %d searches by phone, e-mail or credit code an hour; try again later", s.searchLimit)}
}

// The duplicate check at entry (撞单) answers "this phone exists, owned by
// X" for the whole organisation, so typing phone after phone into the
// create form is the same oracle as searching by them. Every check by a
// phone, e-mail or credit code the record does not hold already (an edit
// that keeps its phone looks nothing up) is audited by kind, never value:
// "<object>.entry_check.<kind>" when it found a duplicate — the answer
// that tells something, which counts toward the sensitive-search limit
// like a search — and "<object>.entry_check_clear.<kind>" when it found
// none: then the record is written under the actor's name, which is no
// silent probe, and ordinary data entry (a rep typing in a trade fair's
// cards) is not throttled. Past the limit every such check is refused with
// the search limit's 429 and nothing is written. The audit event commits
// with the write; when the check refuses the write (a duplicate, or the
// limit) the transaction rolls back, so the refusal carries the event out
// and the use case writes it afterwards (auditEntryLookups): the answer was
// given either way.

// entryLookups are the sensitive duplicate checks one write made.
type entryLookups struct {
	s      *Service
	a      *access.Actor
	object crm.Object
	id     int64
	kinds  []string
	clear  bool // the check found no duplicate
}

// entryLookupRefusal is a write refused by its duplicate check (or by the
// limit before it), carrying the lookups to audit after the rollback.
type entryLookupRefusal struct {
	err    error
	looked *entryLookups
	denied bool // the limit refused the lookup itself
}

func (e *entryLookupRefusal) Error() string { return e.err.Error() }
func (e *entryLookupRefusal) Unwrap() error { return e.err }

// checkEntryLookups finds the sensitive keys a duplicate check is about to
// look up and refuses them past the actor's limit. System actors (imports
// run by the operator, jobs) are not limited.
func (s *Service) checkEntryLookups(ctx context.Context, tx *store.Tx, a *access.Actor, blind []store.DedupKey, o crm.Object, id int64) (*entryLookups, error) {
	if a == nil || a.Kind == access.KindSystem || importing(ctx) {
		return nil, nil
	}
	l := &entryLookups{s: s, a: a, object: o, id: id}
	for _, k := range blind {
		if k.Key == "" || !slices.Contains(sensitiveSearchKinds, k.Kind) || slices.Contains(l.kinds, k.Kind) {
			continue
		}
		if id != 0 {
			own, err := tx.HasDedupKey(ctx, string(o), id, k)
			if err != nil {
				return nil, err
			}
			if own {
				continue
			}
		}
		l.kinds = append(l.kinds, k.Kind)
	}
	if len(l.kinds) == 0 {
		return nil, nil
	}
	if s.searchLimit < UnlimitedSensitiveSearches {
		n, err := tx.CountActorSearches(ctx, string(a.Kind), a.UserID, s.clock().Add(-time.Hour), sensitiveSearchActions(), s.searchLimit)
		if err != nil {
			return nil, err
		}
		if n >= s.searchLimit {
			return nil, &entryLookupRefusal{err: s.searchLimitError(), looked: l, denied: true}
		}
	}
	return l, nil
}

// settle audits the lookups in the write's transaction when the check let
// the write go on, and hands them to the refusal when it found a duplicate.
func (l *entryLookups) settle(ctx context.Context, tx *store.Tx, err error) error {
	switch {
	case l == nil:
		return err
	case err == nil:
		l.clear = true
		return l.write(ctx, tx, false)
	case crm.IsCode(err, crm.Duplicate):
		return &entryLookupRefusal{err: err, looked: l}
	}
	return err
}

func (l *entryLookups) write(ctx context.Context, tx *store.Tx, denied bool) error {
	for _, k := range l.kinds {
		action := string(l.object) + ".entry_check." + k
		if l.clear {
			action = string(l.object) + ".entry_check_clear." + k
		}
		e := l.s.event(l.a, action, l.object, l.id)
		if denied {
			e.Outcome = "denied"
		}
		if err := l.s.insertEvent(ctx, tx, e); err != nil {
			return err
		}
	}
	return nil
}

// auditEntryLookups writes, after a write's transaction, the lookups that
// a duplicate check refusing the write made (the rollback took them). A
// use case that checks duplicates at entry calls it with its result.
func (s *Service) auditEntryLookups(ctx context.Context, err error) {
	var r *entryLookupRefusal
	if !errors.As(err, &r) {
		return
	}
	if werr := s.db.WriteTx(ctx, func(tx *store.Tx) error { return r.looked.write(ctx, tx, r.denied) }); werr != nil {
		s.logger.Error("audit entry lookups", "err", werr)
	}
}
