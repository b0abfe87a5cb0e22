package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// Approvals (issue 3): a risky change is not made but filed as a request;
// approvers decide level after level, never the requester; the last
// approval carries the change out through its normal use case, as the
// requester, with the version the requester saw — so a record that changed
// meanwhile is refused as stale instead of being overwritten.

// approvalNeeded stops a use case's transaction when its change needs
// approval; the transaction rolls back and fileApproval stores the request
// in its own.
type approvalNeeded struct{ req crm.ApprovalRequest }

func (e *approvalNeeded) Error() string { return "approval needed: " + string(e.req.Kind) }

// approvedKey marks a context that carries out an approved request, so the
// use case does not ask for approval again.
type approvedKey struct{}

func carryingOut(ctx context.Context) bool { return ctx.Value(approvedKey{}) != nil }

// activePolicy returns the kind's policy when it applies to this call.
func activePolicy(ctx context.Context, tx *store.Tx, kind crm.ApprovalKind) (crm.ApprovalPolicy, bool, error) {
	if carryingOut(ctx) {
		return crm.ApprovalPolicy{}, false, nil
	}
	p, err := tx.GetApprovalPolicy(ctx, kind)
	return p, err == nil && p.Enabled, err
}

// needApproval builds the error that files a request for a change.
func needApproval(p crm.ApprovalPolicy, o crm.Object, id, version int64, payload any, summary string) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	return &approvalNeeded{crm.ApprovalRequest{Kind: p.Kind, Object: o, RecordID: id, RecordVersion: version,
		Payload: b, Summary: summary, Steps: p.Steps}}
}

// filed turns an approvalNeeded from a use case into a stored request and
// the Pending answer; any other error passes through.
func (s *Service) filed(ctx context.Context, a *access.Actor, err error) error {
	var need *approvalNeeded
	if !errors.As(err, &need) {
		return err
	}
	r := need.req
	r.RequesterID, r.Status, r.CreatedAt = a.UserID, crm.ApprovalPending, s.clock()
	err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := s.sealRequest(ctx, tx, &r); err != nil {
			return err
		}
		if err := tx.InsertApprovalRequest(ctx, &r); err != nil {
			return err
		}
		if err := s.notifyApprovers(ctx, tx, r); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "approval.request", r.Object, r.RecordID, map[string]any{
			"request_id": r.ID, "kind": r.Kind, "record_ids": r.RecordIDs})
	})
	if err != nil {
		return err
	}
	return &crm.Error{Code: crm.Pending, Key: "pending_approval", Ref: r.ID,
		Message: fmt.Sprintf("the change needs approval; request %d was filed", r.ID)}
}

// ApprovalPolicies returns the policy of every kind (administrators).
func (s *Service) ApprovalPolicies(ctx context.Context, a *access.Actor) ([]crm.ApprovalPolicy, error) {
	if err := s.requireAdmin(ctx, a, "approval_policy.list"); err != nil {
		return nil, err
	}
	var out []crm.ApprovalPolicy
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		for _, k := range crm.ApprovalKinds {
			p, err := tx.GetApprovalPolicy(ctx, k)
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// SaveApprovalPolicy sets the policy of one kind (administrators).
func (s *Service) SaveApprovalPolicy(ctx context.Context, a *access.Actor, p crm.ApprovalPolicy) (crm.ApprovalPolicy, error) {
	if err := s.requireAdmin(ctx, a, "approval_policy.save"); err != nil {
		return p, err
	}
	if err := s.requireStepUp(ctx, a, "approval_policy.save"); err != nil {
		return p, err
	}
	if err := p.Validate(); err != nil {
		return p, err
	}
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		before, err := tx.GetApprovalPolicy(ctx, p.Kind)
		if err != nil {
			return err
		}
		for _, st := range p.Steps {
			if st.Type == "role" {
				if _, err := tx.GetRoleByKey(ctx, st.RoleKey); err != nil {
					return refError(err, "steps")
				}
			}
		}
		if err := tx.SaveApprovalPolicy(ctx, p, s.clock()); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "approval_policy.save", "", 0, diff(before, p))
	})
	return p, err
}

// Approvals lists what the actor may decide now and what they asked for.
type Approvals struct {
	ToDecide  []crm.ApprovalRequest `json:"to_decide"`
	Requested []crm.ApprovalRequest `json:"requested"`
}

// ListApprovals returns the pending requests waiting for the actor's
// decision and the actor's own requests, newest first.
func (s *Service) ListApprovals(ctx context.Context, a *access.Actor) (Approvals, error) {
	out := Approvals{ToDecide: []crm.ApprovalRequest{}, Requested: []crm.ApprovalRequest{}}
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		pending, err := tx.ListApprovalRequests(ctx, store.ApprovalFilter{Status: crm.ApprovalPending, Limit: 500})
		if err != nil {
			return err
		}
		for _, r := range pending {
			ok, err := s.mayDecide(ctx, tx, a, r)
			if err != nil {
				return err
			}
			if ok {
				if err := s.openRequest(ctx, tx, &r); err != nil {
					return err
				}
				out.ToDecide = append(out.ToDecide, r)
			}
		}
		mine, err := tx.ListApprovalRequests(ctx, store.ApprovalFilter{RequesterID: a.UserID, Limit: 100})
		for i := range mine {
			if err := s.openRequest(ctx, tx, &mine[i]); err != nil {
				return err
			}
		}
		if mine != nil {
			out.Requested = mine
		}
		return err
	})
	for i := range out.ToDecide {
		s.shapeRequest(a, &out.ToDecide[i])
	}
	for i := range out.Requested {
		s.shapeRequest(a, &out.Requested[i])
	}
	return out, err
}

// shapeRequest applies the reader's field rules to the change a request
// carries, as shape does to records: the requested value of a field the
// reader's role hides is left out, of one it masks is masked. An approver
// decides without seeing what their role may not see.
func (s *Service) shapeRequest(a *access.Actor, r *crm.ApprovalRequest) {
	var change map[string]any
	if json.Unmarshal(r.Payload, &change) != nil || change == nil {
		return
	}
	rule := func(field string, v any) (any, bool) {
		switch a.Field(r.Object, field) {
		case crm.FieldHidden:
			return nil, false
		case crm.FieldMasked:
			str, ok := v.(string)
			if !ok {
				return nil, false
			}
			kind := maskKind(r.Object, field)
			if strings.HasPrefix(field, "custom.") {
				kind = customValueMask(str)
			}
			return s.norm.Mask(kind, str), true
		}
		return v, true
	}
	for field, v := range change {
		if custom, ok := v.(map[string]any); ok && field == "custom" {
			for k, cv := range custom {
				if shown, ok := rule("custom."+k, cv); ok {
					custom[k] = shown
				} else {
					delete(custom, k)
				}
			}
			continue
		}
		if shown, ok := rule(field, v); ok {
			change[field] = shown
		} else {
			delete(change, field)
		}
	}
	r.Payload = mustJSON(change)
	if r.Kind == crm.ApproveLargeAmount && !a.Field(crm.ObjOpportunity, "amount").Visible() {
		r.Summary = "opportunity amount above the threshold" // the amount is the role's to see or not
	}
}

// GetApproval returns one request to its requester or to one of its
// approvers (at any level); to anyone else it does not exist.
func (s *Service) GetApproval(ctx context.Context, a *access.Actor, id int64) (crm.ApprovalRequest, error) {
	var r crm.ApprovalRequest
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if r, err = tx.GetApprovalRequest(ctx, id); err == nil {
			err = s.openRequest(ctx, tx, &r)
		}
		if err != nil {
			return err
		}
		if r.RequesterID == a.UserID || a.IsAdmin() {
			return nil
		}
		for step := range r.Steps {
			ids, err := s.approvers(ctx, tx, r, step)
			if err != nil || slices.Contains(ids, a.UserID) {
				return err
			}
		}
		return crm.ErrNotFound("approval request")
	})
	s.shapeRequest(a, &r)
	return r, err
}

// mayDecide reports whether the actor approves at the request's current
// level. The requester never does.
func (s *Service) mayDecide(ctx context.Context, tx *store.Tx, a *access.Actor, r crm.ApprovalRequest) (bool, error) {
	if r.Status != crm.ApprovalPending || r.RequesterID == a.UserID || a.Kind == access.KindSystem {
		return false, nil
	}
	ids, err := s.approvers(ctx, tx, r, r.Step)
	return slices.Contains(ids, a.UserID), err
}

// approvers lists who decides a level: the manager of the requester's
// department — or, when that is the requester or nobody, the next manager
// up the tree — or every active user with the level's role.
func (s *Service) approvers(ctx context.Context, tx *store.Tx, r crm.ApprovalRequest, step int) ([]int64, error) {
	if step < 0 || step >= len(r.Steps) {
		return nil, nil
	}
	st := r.Steps[step]
	if st.Type == "role" {
		return tx.UsersWithRole(ctx, st.RoleKey)
	}
	if st.Type == "owner" {
		owner, err := tx.RecordOwner(ctx, r.Object, r.RecordID)
		if err != nil || owner == 0 {
			return nil, err
		}
		return []int64{owner}, nil
	}
	u, err := tx.GetUser(ctx, r.RequesterID)
	if err != nil {
		return nil, err
	}
	for dept := u.DepartmentID; dept != 0; {
		d, err := tx.GetDepartment(ctx, dept)
		if err != nil {
			return nil, err
		}
		if d.ManagerID != 0 && d.ManagerID != r.RequesterID {
			if m, err := tx.GetUser(ctx, d.ManagerID); err == nil && !m.Disabled {
				return []int64{m.ID}, nil
			}
		}
		dept = d.ParentID
	}
	return nil, nil
}

// Decision is an approver's answer.
type Decision struct {
	Approve bool   `json:"approve"`
	Comment string `json:"comment"`
}

// DecideApproval records an approver's decision at the request's current
// level. A rejection ends the request; an approval moves it to the next
// level or, at the last, carries the change out. A record that changed
// since the request makes the request stale and the decision is refused.
func (s *Service) DecideApproval(ctx context.Context, a *access.Actor, id int64, d Decision) (decided crm.ApprovalRequest, err error) {
	defer func() { s.shapeRequest(a, &decided) }()
	var p crm.Problems
	d.Comment = p.Text("comment", d.Comment, !d.Approve, 500)
	if err := p.Err(); err != nil {
		return crm.ApprovalRequest{}, err
	}
	if err := s.requireStepUp(ctx, a, "approval.decide"); err != nil {
		return crm.ApprovalRequest{}, err
	}
	var r crm.ApprovalRequest
	var carryOut, stale bool
	err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.LockApprovalRequest(ctx, id); err != nil {
			return err
		}
		var err error
		if r, err = tx.GetApprovalRequest(ctx, id); err == nil {
			err = s.openRequest(ctx, tx, &r)
		}
		if err != nil {
			return err
		}
		if r.RequesterID == a.UserID {
			return &crm.Error{Code: crm.Forbidden, Key: "self_approval", Message: "you cannot decide your own request"}
		}
		ok, err := s.mayDecide(ctx, tx, a, r)
		if err != nil {
			return err
		}
		if !ok {
			if r.Status != crm.ApprovalPending {
				return &crm.Error{Code: crm.Conflict, Key: "approval_decided", Message: "this request has already been decided"}
			}
			return crm.ErrForbidden()
		}
		wasStatus, wasStep := r.Status, r.Step
		now := s.clock()
		if stale, err = s.requestStale(ctx, tx, r); err != nil || stale {
			if err != nil {
				return err
			}
			// The stale mark is kept; the decision itself is refused below.
			r.Status, r.DecidedAt, r.Result = crm.ApprovalStale, &now, "the record changed after the request"
			if err := tx.UpdateApprovalRequest(ctx, &r, wasStatus, wasStep); err != nil {
				return err
			}
			return s.notifyDecided(ctx, tx, r)
		}
		r.Decisions = append(r.Decisions, crm.ApprovalDecision{Step: r.Step, ApproverID: a.UserID, ApproverName: a.Name,
			Approve: d.Approve, Comment: d.Comment, At: now})
		switch {
		case !d.Approve:
			r.Status, r.DecidedAt = crm.ApprovalRejected, &now
		case r.Step+1 < len(r.Steps):
			r.Step++
		default:
			r.Status, r.DecidedAt, carryOut = crm.ApprovalApproved, &now, true
		}
		if err := tx.UpdateApprovalRequest(ctx, &r, wasStatus, wasStep); err != nil {
			return err
		}
		// The next level's approvers, or a requester turned down, hear of
		// it now; an approval carried out is told when it has been.
		switch {
		case r.Status == crm.ApprovalPending:
			err = s.notifyApprovers(ctx, tx, r)
		case !carryOut:
			err = s.notifyDecided(ctx, tx, r)
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "approval.decide", r.Object, r.RecordID, map[string]any{
			"request_id": r.ID, "approve": d.Approve, "step": wasStep, "status": r.Status})
	})
	if err == nil && stale {
		s.auditApprovalOutcome(ctx, a, r)
		return r, crm.ErrStale()
	}
	if err != nil || !carryOut {
		if err == nil && r.Status == crm.ApprovalRejected && r.Kind == crm.ApproveBulkExport {
			err = s.endRequestedExport(ctx, r.ID)
		}
		return r, err
	}
	return s.carryOut(ctx, a, r)
}

// requestStale reports whether the record changed since the request.
func (s *Service) requestStale(ctx context.Context, tx *store.Tx, r crm.ApprovalRequest) (bool, error) {
	if r.RecordID == 0 || r.RecordVersion == 0 {
		return false, nil
	}
	v, err := tx.CurrentVersion(ctx, r.Object, r.RecordID)
	if crm.IsCode(err, crm.NotFound) {
		return true, nil
	}
	return v != r.RecordVersion, err
}

// carryOut applies an approved request as its requester. When the change
// can no longer be made (the requester lost access, the record changed),
// the request is marked failed with the reason, and nothing changes.
func (s *Service) carryOut(ctx context.Context, approver *access.Actor, r crm.ApprovalRequest) (crm.ApprovalRequest, error) {
	requester, err := s.UserActor(ctx, r.RequesterID)
	if err == nil {
		requester.IP, requester.UserAgent, requester.RequestID = approver.IP, approver.UserAgent, approver.RequestID
		// An access request is the owner giving what is theirs: the share or
		// hand-over is made by the approver, to the requester.
		actor := requester
		if r.Kind == crm.ApproveAccess {
			actor = approver
		}
		err = s.apply(context.WithValue(ctx, approvedKey{}, r.ID), actor, r)
	}
	r.Status = crm.ApprovalApplied
	if err != nil {
		r.Status, r.Result = crm.ApprovalFailed, err.Error()
	}
	uerr := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.UpdateApprovalRequest(ctx, &r, crm.ApprovalApproved, r.Step); err != nil {
			return err
		}
		return s.notifyDecided(ctx, tx, r)
	})
	if err != nil {
		s.auditApprovalOutcome(ctx, approver, r)
		if r.Kind == crm.ApproveBulkExport {
			uerr = errors.Join(uerr, s.endRequestedExport(ctx, r.ID))
		}
	}
	return r, errors.Join(err, uerr)
}

// auditApprovalOutcome records a request that ended without its change.
func (s *Service) auditApprovalOutcome(ctx context.Context, a *access.Actor, r crm.ApprovalRequest) {
	e := s.event(a, "approval."+r.Status, r.Object, r.RecordID)
	e.Fields = mustJSON(map[string]any{"request_id": r.ID, "result": r.Result})
	if err := s.db.WriteTx(ctx, func(tx *store.Tx) error { return s.insertEvent(ctx, tx, e) }); err != nil {
		s.logger.Error("audit approval outcome", "request_id", r.ID, "err", err)
	}
}

// apply runs the request's use case with its payload.
func (s *Service) apply(ctx context.Context, a *access.Actor, r crm.ApprovalRequest) error {
	switch r.Kind {
	case crm.ApproveTransfer:
		var t transferPayload
		if err := json.Unmarshal(r.Payload, &t); err != nil {
			return err
		}
		return s.TransferRecord(ctx, a, r.Object, r.RecordID, t.To, r.RecordVersion)
	case crm.ApproveBulkDelete:
		_, err := s.BulkDelete(ctx, a, r.Object, r.RecordIDs)
		return err
	case crm.ApproveWon:
		var mv crm.StageMove
		if err := json.Unmarshal(r.Payload, &mv); err != nil {
			return err
		}
		_, err := s.MoveOpportunity(ctx, a, r.RecordID, mv)
		return err
	case crm.ApproveKeyField, crm.ApproveLargeAmount:
		return s.updateFromJSON(ctx, a, r.Object, r.RecordID, r.Payload)
	case crm.ApproveAccess:
		var p accessPayload
		if err := json.Unmarshal(r.Payload, &p); err != nil {
			return err
		}
		if p.Access == AccessHandover {
			return s.TransferRecord(ctx, a, r.Object, r.RecordID, r.RequesterID, r.RecordVersion)
		}
		_, err := s.ShareRecord(ctx, a, r.Object, r.RecordID, ShareInput{UserID: r.RequesterID, Level: "edit"})
		return err
	case crm.ApproveBulkExport:
		var p exportPayload
		if err := json.Unmarshal(r.Payload, &p); err != nil {
			return err
		}
		return s.carryOutExport(ctx, a, r.ID, p)
	case crm.ApproveBulkImport:
		var c importCommit
		if err := json.Unmarshal(r.Payload, &c); err != nil {
			return err
		}
		_, err := s.CommitImport(ctx, a, c.ImportID)
		return err
	}
	return fmt.Errorf("service: no way to carry out %s", r.Kind)
}

// keyFieldsChanged reports whether an update changes a field the key-field
// policy marks for the object ("custom.<key>" for custom fields).
func keyFieldsChanged(p crm.ApprovalPolicy, o crm.Object, changes map[string]change) bool {
	for _, f := range p.Fields[o] {
		if key, ok := strings.CutPrefix(f, "custom."); ok {
			c, ok := changes["custom"]
			from, _ := c.From.(map[string]any)
			to, _ := c.To.(map[string]any)
			if ok && !reflect.DeepEqual(from[key], to[key]) {
				return true
			}
			continue
		}
		if _, ok := changes[f]; ok {
			return true
		}
	}
	return false
}

// holdKeyFields files an update for approval when it changes a key field.
func holdKeyFields(ctx context.Context, tx *store.Tx, o crm.Object, id, version int64, up any, changes map[string]change) error {
	p, active, err := activePolicy(ctx, tx, crm.ApproveKeyField)
	if err != nil || !active || !keyFieldsChanged(p, o, changes) {
		return err
	}
	names := make([]string, 0, len(changes))
	for k := range changes {
		names = append(names, k)
	}
	slices.Sort(names)
	return needApproval(p, o, id, version, up, fmt.Sprintf("change %v of %s %d", names, o, id))
}

// holdLargeAmount files a create (id 0) or an update for approval when it
// brings an opportunity's amount above the policy's threshold; previous is
// the stored amount (-1 on create), so other edits of a large deal pass.
func holdLargeAmount(ctx context.Context, tx *store.Tx, id, version int64, payload any, amount, previous int64) error {
	p, active, err := activePolicy(ctx, tx, crm.ApproveLargeAmount)
	if err != nil || !active || amount <= p.Threshold || amount == previous {
		return err
	}
	return needApproval(p, crm.ObjOpportunity, id, version, payload, fmt.Sprintf("opportunity amount %d", amount))
}
