package service

import (
	"context"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// CreateFollowUp records a follow-up on a customer the actor may edit and
// keeps the customer's last_followed_up_at and next_follow_up_at. Those are
// system-kept fields: they bump no version, so a colleague editing the
// customer at the same moment gets no conflict. The new follow-up's next
// time replaces the customer's (none clears it): the due follow-up is done.
func (s *Service) CreateFollowUp(ctx context.Context, a *access.Actor, in crm.FollowUpInput) (crm.FollowUp, error) {
	if err := s.require(ctx, a, crm.ObjFollowUp, crm.ActCreate); err != nil {
		return crm.FollowUp{}, err
	}
	now := s.clock()
	if err := in.Validate(now); err != nil {
		return crm.FollowUp{}, err
	}
	f := crm.FollowUp{Kind: in.Kind, Content: in.Content, OccurredAt: in.OccurredAt.UTC().Truncate(1e6), CustomerID: in.CustomerID}
	if in.NextAt != nil {
		next := in.NextAt.UTC().Truncate(1e6)
		f.NextAt = &next
	}
	f.OwnerID, f.CreatedBy, f.UpdatedBy, f.CreatedAt, f.UpdatedAt = a.UserID, a.UserID, a.UserID, now, now
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if _, err := editableCustomer(ctx, tx, a, in.CustomerID, false); err != nil {
			return refError(err, "customer_id")
		}
		if err := tx.InsertFollowUp(ctx, &f); err != nil {
			return err
		}
		if err := tx.TouchCustomerFollowUp(ctx, f.CustomerID, f.OccurredAt, f.NextAt); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "followup.create", crm.ObjFollowUp, f.ID,
			map[string]any{"customer_id": f.CustomerID, "kind": f.Kind, "next_at": f.NextAt})
	})
	return f, err
}

// ListFollowUps returns the timeline of a customer the actor may see.
func (s *Service) ListFollowUps(ctx context.Context, a *access.Actor, customerID int64) ([]crm.FollowUp, error) {
	if err := s.require(ctx, a, crm.ObjFollowUp, crm.ActRead); err != nil {
		return nil, err
	}
	var out []crm.FollowUp
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		// Pool customers are excluded: their history is shown once claimed.
		if _, err := tx.GetCustomer(ctx, customerID, store.CustomerQuery{Scope: a.Scope(crm.ObjCustomer)}); err != nil {
			return err
		}
		var err error
		out, err = tx.ListCustomerFollowUps(ctx, customerID, 200)
		return err
	})
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(out))
	for i, f := range out {
		ids[i] = f.ID
	}
	if err := s.auditRead(ctx, a, "followup.list", crm.ObjCustomer, customerID, ids); err != nil {
		return nil, err
	}
	return out, nil
}

func followUpScope(a *access.Actor) store.ChildScope {
	return store.ChildScope{Own: a.Scope(crm.ObjFollowUp), Customer: a.Scope(crm.ObjCustomer)}
}

// GetFollowUp returns a follow-up the actor may see and records the view.
func (s *Service) GetFollowUp(ctx context.Context, a *access.Actor, id int64) (crm.FollowUp, error) {
	return viewOne(ctx, s, a, crm.ObjFollowUp, id, func(tx *store.Tx) (crm.FollowUp, error) {
		return tx.GetFollowUp(ctx, id, followUpScope(a))
	})
}

// UpdateFollowUp corrects a follow-up's kind or content if the version is current.
func (s *Service) UpdateFollowUp(ctx context.Context, a *access.Actor, id int64, up crm.FollowUpUpdate) (crm.FollowUp, error) {
	if err := s.require(ctx, a, crm.ObjFollowUp, crm.ActEdit); err != nil {
		return crm.FollowUp{}, err
	}
	var f crm.FollowUp
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		before, err := tx.GetFollowUp(ctx, id, followUpScope(a))
		if err != nil {
			return err
		}
		if err := checkVersion(up.Version, before.Version); err != nil {
			return err
		}
		f = before
		setIf(&f.Kind, up.Kind)
		setIf(&f.Content, up.Content)
		var p crm.Problems
		f.Kind = p.Enum("kind", f.Kind, true, crm.FollowUpKinds)
		f.Content = p.Text("content", f.Content, true, 5000)
		if err := p.Err(); err != nil {
			return err
		}
		f.UpdatedBy, f.UpdatedAt = a.UserID, s.clock()
		if err := tx.UpdateFollowUp(ctx, &f); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "followup.update", crm.ObjFollowUp, id,
			map[string]change{"kind": {From: before.Kind, To: f.Kind}, "content": {Changed: before.Content != f.Content}})
	})
	return f, err
}
