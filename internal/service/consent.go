package service

import (
	"context"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// Consent, per person, purpose and channel. Whoever may change a contact or
// lead records its person's consent and its withdrawal — each one action, so
// withdrawing is never harder than granting — and privacy officers may for
// anyone. A lead and the contact it became share one set of consents.

// consentAccess checks the function permission for consents on an object:
// privacy officers always; others as for reading (edit false) or changing
// the record.
func (s *Service) consentAccess(ctx context.Context, a *access.Actor, o crm.Object, edit bool) error {
	if o != crm.ObjContact && o != crm.ObjLead {
		return crm.ErrNotFound(string(o))
	}
	if a.CanPrivacy() {
		return nil
	}
	act := crm.ActRead
	if edit {
		act = crm.ActEdit
	}
	return s.require(ctx, a, o, act)
}

// consentPerson returns the data key of the person behind the record, if
// the actor reaches it: privacy officers every record, others those their
// scope (or a share) lets them see, or change when edit.
func (s *Service) consentPerson(ctx context.Context, tx *store.Tx, a *access.Actor, o crm.Object, id int64, edit bool) (string, error) {
	if a.CanPrivacy() {
		return personKey(ctx, tx, o, id)
	}
	if o == crm.ObjContact {
		t, err := tx.GetContact(ctx, id, store.ContactQuery{Scope: childScope(a, crm.ObjContact, edit)})
		return t.DataKey, err
	}
	q := leadQuery(a)
	if edit {
		q = leadEditQuery(a)
	}
	l, err := tx.GetLead(ctx, id, q)
	return l.DataKey, err
}

// Consents lists the consents, live and withdrawn, of the person behind a
// contact or lead the actor may see; the read is audited.
func (s *Service) Consents(ctx context.Context, a *access.Actor, o crm.Object, id int64) ([]crm.Consent, error) {
	if err := s.consentAccess(ctx, a, o, false); err != nil {
		return nil, err
	}
	var out []crm.Consent
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		key, err := s.consentPerson(ctx, tx, a, o, id, false)
		if err != nil {
			return err
		}
		out, err = tx.PersonConsents(ctx, key)
		return err
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []crm.Consent{}
	}
	return out, s.auditRead(ctx, a, "consent.list", o, id, nil)
}

// GrantConsent records the person's consent to a purpose on a channel,
// given where Source says. A consent already live stays as it is.
func (s *Service) GrantConsent(ctx context.Context, a *access.Actor, o crm.Object, id int64, in crm.ConsentInput) (crm.Consent, error) {
	if err := s.consentAccess(ctx, a, o, true); err != nil {
		return crm.Consent{}, err
	}
	if err := in.Validate(); err != nil {
		return crm.Consent{}, err
	}
	var c crm.Consent
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		key, err := s.consentPerson(ctx, tx, a, o, id, true)
		if err != nil {
			return err
		}
		live, ok, err := tx.LiveConsent(ctx, key, in.Purpose, in.Channel)
		if err != nil || ok {
			c = live
			return err
		}
		c = crm.Consent{Object: o, RecordID: id, Purpose: in.Purpose, Channel: in.Channel, Source: in.Source,
			GrantedAt: s.clock(), GrantedBy: a.UserID}
		if err := tx.InsertConsent(ctx, key, &c); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "consent.grant", o, id, map[string]any{
			"consent_id": c.ID, "purpose": c.Purpose, "channel": c.Channel, "source": c.Source})
	})
	return c, err
}

// WithdrawConsent withdraws the person's consent to a purpose on a channel
// and returns the consents withdrawn (none when there was no live one:
// withdrawing twice changes nothing).
func (s *Service) WithdrawConsent(ctx context.Context, a *access.Actor, o crm.Object, id int64, in crm.ConsentInput) ([]crm.Consent, error) {
	if err := s.consentAccess(ctx, a, o, true); err != nil {
		return nil, err
	}
	in.Source = ""
	if err := in.Validate(); err != nil {
		return nil, err
	}
	withdrawn := []crm.Consent{}
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		key, err := s.consentPerson(ctx, tx, a, o, id, true)
		if err != nil {
			return err
		}
		got, err := tx.WithdrawConsents(ctx, key, in.Purpose, in.Channel, s.clock(), a.UserID)
		if err != nil || len(got) == 0 {
			return err
		}
		withdrawn = got
		return s.audit(ctx, tx, a, "consent.withdraw", o, id, consentFields(got))
	})
	return withdrawn, err
}

// consentFields describes consents in an audit event.
func consentFields(cs []crm.Consent) map[string]any {
	var list []map[string]any
	for _, c := range cs {
		list = append(list, map[string]any{"consent_id": c.ID, "purpose": c.Purpose, "channel": c.Channel})
	}
	return map[string]any{"consents": list}
}

// ConsentingPerson is a contact or lead whose person has a live consent.
type ConsentingPerson struct {
	Object crm.Object `json:"object"`
	ID     int64      `json:"id"`
}

// PeopleWithConsent lists the live contacts and leads within the actor's
// scope whose person has a live consent to the purpose on the channel —
// never one withdrawn, nor an erased person. The marketing export takes its
// recipients from here; the list is audited.
func (s *Service) PeopleWithConsent(ctx context.Context, a *access.Actor, purpose, channel string) ([]ConsentingPerson, error) {
	in := crm.ConsentInput{Purpose: purpose, Channel: channel}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var refs []crm.PersonRef
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		refs, err = tx.ConsentingPeople(ctx, in.Purpose, in.Channel, contactScope(a), a.SharedScope(crm.ObjLead, false))
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]ConsentingPerson, len(refs))
	shown := map[crm.Object][]int64{}
	for i, r := range refs {
		out[i] = ConsentingPerson{Object: r.Object, ID: r.ID}
		shown[r.Object] = append(shown[r.Object], r.ID)
	}
	err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
		return s.audit(ctx, tx, a, "consent.people", "", 0, map[string]any{"purpose": in.Purpose, "channel": in.Channel,
			"contacts": shown[crm.ObjContact], "leads": shown[crm.ObjLead]})
	})
	return out, err
}
