package service

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/vault"
)

// Privacy rights (issue 4; PIPL Art. 44–47, GDPR Art. 15–17, 20): the
// register of requests a person makes about their data, carried out by a
// privacy officer (or an administrator) — access exports, corrections
// through the normal edit, erasure — and legal holds that stop erasure.
// Privacy officers reach every person whoever owns their records: a
// request is about the person, not about a salesperson's book. Every
// function is audited on the person's record, so the person's own access
// log shows what was done about them.

// DefaultPrivacyDeadlineDays is the time to answer a request when not
// configured: GDPR's one month (Art. 12(3)); PIPL asks for "timely".
const DefaultPrivacyDeadlineDays = 30

// PrivacyDeadlineDays is how many days a request has from its receipt
// unless filed with a deadline of its own.
func (s *Service) PrivacyDeadlineDays() int { return s.deadlineDays }

// requirePrivacy checks the privacy officer's permission and records a
// denial.
func (s *Service) requirePrivacy(ctx context.Context, a *access.Actor, action string) error {
	if a.CanPrivacy() {
		return nil
	}
	s.auditDenied(ctx, a, action, "", 0)
	return crm.ErrForbidden()
}

// officerActor is a privacy officer carrying out a request: their own
// identity (the audit trail names them) with every contact and lead within
// reach and no field rules, since a request concerns the whole person.
func officerActor(a *access.Actor) *access.Actor {
	b := *a
	b.Role.Grants = maps.Clone(a.Role.Grants)
	if b.Role.Grants == nil {
		b.Role.Grants = map[crm.Object]crm.ObjectGrant{}
	}
	for _, o := range []crm.Object{crm.ObjContact, crm.ObjLead} {
		b.Role.Grants[o] = crm.ObjectGrant{Read: true, Edit: true, Scope: crm.ScopeAll}
	}
	b.Shared = nil
	return &b
}

// errArchived refuses a change to an archived record.
func errArchived(o crm.Object) error {
	return &crm.Error{Code: crm.Conflict, Key: "archived",
		Message: fmt.Sprintf("the %s is archived after a long time without activity and is read-only; a privacy officer or an administrator can unarchive it", o)}
}

// legalHoldError refuses erasure or destruction of a held person, naming
// the hold.
func legalHoldError(h crm.LegalHold) error {
	return &crm.Error{Code: crm.Conflict, Key: "legal_hold",
		Message: "the person is under a legal hold (" + h.Reason + "): their data may not be erased or destroyed until it is lifted",
		Fields:  []crm.FieldError{{Field: "legal_hold", Rule: "legal_hold", Param: h.Reason}}}
}

// refuseHeld fails when the person is under a legal hold.
func refuseHeld(ctx context.Context, tx *store.Tx, key string) error {
	h, held, err := tx.GetLegalHold(ctx, key)
	if err != nil || !held {
		return err
	}
	return legalHoldError(h)
}

// auditHeld records an erasure a legal hold refused, as denied.
func (s *Service) auditHeld(ctx context.Context, a *access.Actor, action string, o crm.Object, id int64, err error) {
	var ce *crm.Error
	if errors.As(err, &ce) && ce.Key == "legal_hold" {
		s.auditDenied(ctx, a, action, o, id)
	}
}

// personKey returns the data key of the person behind a contact or lead
// (one in the recycle bin too); any other record is not found.
func personKey(ctx context.Context, tx *store.Tx, o crm.Object, id int64) (string, error) {
	if o != crm.ObjContact && o != crm.ObjLead {
		return "", crm.ErrNotFound(string(o))
	}
	key, err := tx.PersonKey(ctx, o, id)
	if err == nil && key == "" {
		err = crm.ErrNotFound(string(o))
	}
	return key, err
}

// PrivacyQuery filters the register: Status is open, overdue, done,
// refused or "" for all; Before pages (the previous page's Next).
type PrivacyQuery struct {
	Status string
	Before int64
	Limit  int
}

// PrivacyRequestPage is one page of the register, newest first, with the
// number of open requests past their deadline.
type PrivacyRequestPage struct {
	Items   []crm.PrivacyRequest `json:"items"`
	Next    int64                `json:"next_cursor,omitempty"`
	Overdue int                  `json:"overdue"`
}

// PrivacyRequests returns a page of the register (privacy officers).
func (s *Service) PrivacyRequests(ctx context.Context, a *access.Actor, q PrivacyQuery) (PrivacyRequestPage, error) {
	if err := s.requirePrivacy(ctx, a, "privacy.request.list"); err != nil {
		return PrivacyRequestPage{}, err
	}
	var p crm.Problems
	q.Status = p.Enum("status", q.Status, false, []string{crm.RequestOpen, "overdue", crm.RequestDone, crm.RequestRefused})
	if err := p.Err(); err != nil {
		return PrivacyRequestPage{}, err
	}
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	now := s.clock()
	page := PrivacyRequestPage{Items: []crm.PrivacyRequest{}}
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		items, err := tx.ListPrivacyRequests(ctx, store.PrivacyRequestFilter{Status: q.Status, Now: now, BeforeID: q.Before, Limit: q.Limit + 1})
		if err != nil {
			return err
		}
		if len(items) > q.Limit {
			items, page.Next = items[:q.Limit], items[q.Limit-1].ID
		}
		page.Items = append(page.Items, items...)
		page.Overdue, err = tx.CountOverduePrivacyRequests(ctx, now)
		return err
	})
	if err != nil {
		return PrivacyRequestPage{}, err
	}
	if err := s.openRequests(ctx, page.Items, now); err != nil {
		return PrivacyRequestPage{}, err
	}
	return page, s.auditRead(ctx, a, "privacy.request.list", "", 0, ids(page.Items, func(r crm.PrivacyRequest) int64 { return r.ID }))
}

// openRequests opens the people's names on requests and marks the overdue.
func (s *Service) openRequests(ctx context.Context, items []crm.PrivacyRequest, now time.Time) error {
	keys := make([]string, len(items))
	for i, r := range items {
		keys[i] = r.PersonKey
	}
	ring, err := s.vault.DataKeys(ctx, keys)
	if err != nil {
		return err
	}
	for i := range items {
		r := &items[i]
		r.Overdue = r.Status == crm.RequestOpen && r.DueAt.Before(now)
		if r.PersonName == "" {
			continue
		}
		name, err := openName(ring, r.PersonKey, r.PersonName)
		if err != nil {
			return s.sealError(err, r.Object, r.RecordID, "name")
		}
		r.PersonName = name
	}
	for i := range items {
		r := &items[i]
		if !vault.IsSealed(r.Notes) {
			continue
		}
		notes, err := ring.Open(r.PersonKey, requestNotes, r.Notes)
		if errors.Is(err, vault.ErrErased) {
			notes, err = "", nil
		}
		if err != nil {
			return s.sealError(err, r.Object, r.RecordID, requestNotes)
		}
		r.Notes = notes
	}
	return nil
}

// requestNotes names a request's notes as sealed: they are about the
// person (and may quote them), so they are sealed under the person's key
// and go with an erasure, while the register keeps when a request came,
// what it asked and how it ended.
const requestNotes = "request_notes"

// sealNotes seals a request's notes under the person's key ("" stays "").
func (s *Service) sealNotes(ctx context.Context, key, notes string) (string, error) {
	if notes == "" {
		return "", nil
	}
	return s.vault.Seal(ctx, key, requestNotes, notes)
}

// PrivacyRequest returns one request of the register (privacy officers);
// the view is audited on the person's record.
func (s *Service) PrivacyRequest(ctx context.Context, a *access.Actor, id int64) (crm.PrivacyRequest, error) {
	if err := s.requirePrivacy(ctx, a, "privacy.request.view"); err != nil {
		return crm.PrivacyRequest{}, err
	}
	r, err := s.readRequest(ctx, id)
	if err != nil {
		return r, err
	}
	one := []crm.PrivacyRequest{r}
	if err := s.openRequests(ctx, one, s.clock()); err != nil {
		return r, err
	}
	err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
		return s.audit(ctx, tx, a, "privacy.request.view", r.Object, r.RecordID, map[string]int64{"request_id": r.ID})
	})
	return one[0], err
}

// readRequest reads one request as stored (its person's name sealed).
func (s *Service) readRequest(ctx context.Context, id int64) (crm.PrivacyRequest, error) {
	var r crm.PrivacyRequest
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		r, err = tx.GetPrivacyRequest(ctx, id)
		return err
	})
	return r, err
}

// FilePrivacyRequest enters a request into the register (privacy
// officers): received now unless said otherwise, due after the configured
// number of days unless a deadline is given.
func (s *Service) FilePrivacyRequest(ctx context.Context, a *access.Actor, in crm.PrivacyRequestInput) (crm.PrivacyRequest, error) {
	if err := s.requirePrivacy(ctx, a, "privacy.request.create"); err != nil {
		return crm.PrivacyRequest{}, err
	}
	if err := in.Validate(); err != nil {
		return crm.PrivacyRequest{}, err
	}
	now := s.clock()
	r := crm.PrivacyRequest{Object: in.Object, RecordID: in.RecordID, Kind: in.Kind, ReceivedAt: now, Notes: in.Notes,
		Purpose: in.Purpose, Channel: in.Channel, CreatedBy: a.UserID, CreatedAt: now}
	if in.ReceivedAt != nil {
		if in.ReceivedAt.After(now) {
			return r, crm.Problems{{Field: "received_at", Rule: "future"}}.Err()
		}
		r.ReceivedAt = in.ReceivedAt.UTC().Truncate(time.Millisecond)
	}
	r.DueAt = r.ReceivedAt.AddDate(0, 0, s.deadlineDays)
	if in.DueAt != nil {
		r.DueAt = in.DueAt.UTC().Truncate(time.Millisecond)
	}
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		var err error
		if r.PersonKey, err = personKey(ctx, tx, in.Object, in.RecordID); err != nil {
			return refError(err, "record_id")
		}
		if r.Notes, err = s.sealNotes(ctx, r.PersonKey, r.Notes); err != nil {
			return err
		}
		if err := tx.InsertPrivacyRequest(ctx, &r); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, "privacy.request.create", r.Object, r.RecordID, map[string]any{
			"request_id": r.ID, "kind": r.Kind, "received_at": r.ReceivedAt, "due_at": r.DueAt}); err != nil {
			return err
		}
		r, err = tx.GetPrivacyRequest(ctx, r.ID)
		return err
	})
	if err != nil {
		return crm.PrivacyRequest{}, err
	}
	one := []crm.PrivacyRequest{r}
	err = s.openRequests(ctx, one, now)
	return one[0], err
}

// PrivacyCompletion closes a request: Status done (the request carried
// out) or refused (with a Reason); Notes, when given, replace the notes
// filed. Completing a correction applies Contact
// or Lead — the person's record named by ID (0: the request's record) —
// through the normal edit.
type PrivacyCompletion struct {
	Status  string             `json:"status"`
	Reason  string             `json:"reason,omitempty"`
	Notes   string             `json:"notes,omitempty"`
	Contact *ContactCorrection `json:"contact,omitempty"`
	Lead    *LeadCorrection    `json:"lead,omitempty"`
}

// ContactCorrection is a correction of one of the person's contacts.
type ContactCorrection struct {
	ID int64 `json:"id,omitempty"`
	crm.ContactUpdate
}

// LeadCorrection is a correction of one of the person's leads.
type LeadCorrection struct {
	ID int64 `json:"id,omitempty"`
	crm.LeadUpdate
}

// CompletePrivacyRequest carries out an open request and closes it, in one
// transaction with what it does (privacy officers): an erasure erases the
// person (a fresh second factor, and no legal hold), a correction applies
// the change through the normal edit (validation, duplicate check,
// versions, audit), a consent withdrawal withdraws the consents it names;
// an access request is answered with the export, a separate audited read.
// Refusing needs a reason.
func (s *Service) CompletePrivacyRequest(ctx context.Context, a *access.Actor, id int64, in PrivacyCompletion) (crm.PrivacyRequest, error) {
	if err := s.requirePrivacy(ctx, a, "privacy.request.complete"); err != nil {
		return crm.PrivacyRequest{}, err
	}
	var p crm.Problems
	in.Status = p.Enum("status", in.Status, true, []string{crm.RequestDone, crm.RequestRefused})
	in.Reason = p.Text("reason", in.Reason, in.Status == crm.RequestRefused, 500)
	in.Notes = p.Text("notes", in.Notes, false, 2000)
	if err := p.Err(); err != nil {
		return crm.PrivacyRequest{}, err
	}
	r, err := s.readRequest(ctx, id)
	if err != nil {
		return r, err
	}
	erase := r.Kind == crm.RequestErasure && in.Status == crm.RequestDone
	if erase {
		if err := s.requireStepUp(ctx, a, "privacy.erase"); err != nil {
			return r, err
		}
	}
	var key string
	err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.LockPrivacyRequest(ctx, id); err != nil {
			return err
		}
		var err error
		if r, err = tx.GetPrivacyRequest(ctx, id); err != nil {
			return err
		}
		if r.Status != crm.RequestOpen {
			return &crm.Error{Code: crm.Conflict, Key: "request_closed", Message: "the request is no longer open"}
		}
		done := map[string]any{"request_id": r.ID, "kind": r.Kind, "status": in.Status}
		if in.Status == crm.RequestDone {
			if err := s.carryOutRequest(ctx, tx, a, r, in, done, &key); err != nil {
				return err
			}
		} else {
			done["reason"] = in.Reason
		}
		now := s.clock()
		r.Status, r.Reason, r.CompletedAt, r.HandledBy = in.Status, in.Reason, &now, a.UserID
		if in.Notes != "" { // else the notes filed stay
			if r.Notes, err = s.sealNotes(ctx, r.PersonKey, in.Notes); err != nil {
				return err
			}
		}
		if err := tx.ClosePrivacyRequest(ctx, &r); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "privacy.request.complete", r.Object, r.RecordID, done)
	})
	if err != nil {
		if erase {
			s.auditHeld(ctx, a, "privacy.erase", r.Object, r.RecordID, err)
		}
		return crm.PrivacyRequest{}, err
	}
	if key != "" {
		if err := s.destroyKey(ctx, key); err != nil {
			return r, err
		}
	}
	return s.PrivacyRequest(ctx, a, id)
}

// carryOutRequest does what a privacy request asks, inside the transaction that closes
// it; what it did goes into done (the completion's audit fields). An
// erasure leaves the key to destroy in *key.
func (s *Service) carryOutRequest(ctx context.Context, tx *store.Tx, a *access.Actor, r crm.PrivacyRequest, in PrivacyCompletion, done map[string]any, key *string) error {
	switch r.Kind {
	case crm.RequestErasure:
		erased, k, err := s.erasePersonTx(ctx, tx, a, r.Object, r.RecordID)
		if err != nil {
			return err
		}
		*key, done["records"] = k, refsOf(erased)
	case crm.RequestCorrection:
		o, id, version, err := s.correct(ctx, tx, a, r, in)
		if err != nil {
			return err
		}
		done["record"], done["version"] = fmt.Sprintf("%s:%d", o, id), version
	case crm.RequestWithdrawal:
		withdrawn, err := tx.WithdrawConsents(ctx, r.PersonKey, r.Purpose, r.Channel, s.clock(), a.UserID)
		if err != nil {
			return err
		}
		done["consents_withdrawn"] = len(withdrawn)
		if len(withdrawn) > 0 {
			if err := s.audit(ctx, tx, a, "consent.withdraw", r.Object, r.RecordID, consentFields(withdrawn)); err != nil {
				return err
			}
		}
	}
	return nil
}

// correct applies a correction to one of the person's records as the
// officer, without approvals of key fields (the person's request and the
// officer's role are the authorisation; the change is audited as any
// edit). It returns the record changed and its new version.
func (s *Service) correct(ctx context.Context, tx *store.Tx, a *access.Actor, r crm.PrivacyRequest, in PrivacyCompletion) (crm.Object, int64, int64, error) {
	o, id := crm.ObjContact, int64(0)
	switch {
	case in.Contact != nil && in.Lead == nil:
		id = in.Contact.ID
	case in.Lead != nil && in.Contact == nil:
		o, id = crm.ObjLead, in.Lead.ID
	default:
		return "", 0, 0, crm.Problems{{Field: "contact", Rule: "one_of", Param: "contact, lead"}}.Err()
	}
	if id == 0 && o == r.Object {
		id = r.RecordID
	}
	// The record corrected must be the person's.
	if k, err := tx.PersonKey(ctx, o, id); err != nil || k != r.PersonKey || id == 0 {
		if err == nil {
			err = crm.Problems{{Field: string(o) + ".id", Rule: "other_person"}}.Err()
		}
		return "", 0, 0, err
	}
	officer := officerActor(a)
	if o == crm.ObjContact {
		t, err := updateTx(ctx, s, tx, officer, contactWrite, contactEdit(id, in.Contact.ContactUpdate, false))
		return o, id, t.Version, prefixFields(err, "contact.")
	}
	l, err := updateTx(ctx, s, tx, officer, leadWrite, leadEdit(id, in.Lead.LeadUpdate, false))
	return o, id, l.Version, prefixFields(err, "lead.")
}

// SetLegalHold puts a person under a legal hold, or changes its reason
// (privacy officers): until lifted, neither erasure nor retention destroys
// their data.
func (s *Service) SetLegalHold(ctx context.Context, a *access.Actor, o crm.Object, id int64, reason string) error {
	if err := s.requirePrivacy(ctx, a, "privacy.hold.set"); err != nil {
		return err
	}
	var p crm.Problems
	reason = p.Text("reason", reason, true, 500)
	if err := p.Err(); err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		key, err := personKey(ctx, tx, o, id)
		if err != nil {
			return err
		}
		before, _, err := tx.GetLegalHold(ctx, key)
		if err != nil {
			return err
		}
		if err := tx.PutLegalHold(ctx, key, crm.LegalHold{Reason: reason, SetBy: a.UserID, SetAt: s.clock()}); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "privacy.hold.set", o, id, map[string]change{"reason": {From: before.Reason, To: reason}})
	})
}

// ClearLegalHold lifts a person's legal hold (privacy officers).
func (s *Service) ClearLegalHold(ctx context.Context, a *access.Actor, o crm.Object, id int64) error {
	if err := s.requirePrivacy(ctx, a, "privacy.hold.clear"); err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		key, err := personKey(ctx, tx, o, id)
		if err != nil {
			return err
		}
		h, held, err := tx.GetLegalHold(ctx, key)
		if err != nil {
			return err
		}
		if !held {
			return &crm.Error{Code: crm.Conflict, Key: "no_legal_hold", Message: "the person is not under a legal hold"}
		}
		if _, err := tx.DeleteLegalHold(ctx, key); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "privacy.hold.clear", o, id, map[string]string{"reason": h.Reason})
	})
}

// UnarchiveRecord makes a contact or lead a retention policy archived
// editable again (privacy officers). It counts as activity, so the next
// retention run leaves it alone.
func (s *Service) UnarchiveRecord(ctx context.Context, a *access.Actor, o crm.Object, id int64) error {
	if err := s.requirePrivacy(ctx, a, string(o)+".unarchive"); err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if _, err := personKey(ctx, tx, o, id); err != nil {
			return err
		}
		if err := tx.UnarchiveRecord(ctx, o, id, s.clock(), a.UserID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, string(o)+".unarchive", o, id, nil)
	})
}
