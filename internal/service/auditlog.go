package service

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// The audit viewer (issue 5): administrators and auditors read the whole
// trail with filters; anyone who may see a record reads its history, with
// the values of fields their role may not see left out. Reading the trail
// is itself audited.

// AuditQuery filters the trail.
type AuditQuery struct {
	ActorID  int64      `json:"actor_id,omitempty"`
	Object   crm.Object `json:"object,omitempty"`
	RecordID int64      `json:"record_id,omitempty"`
	Action   string     `json:"action,omitempty"`
	Outcome  string     `json:"outcome,omitempty"`
	Since    time.Time  `json:"since,omitzero"`
	Until    time.Time  `json:"until,omitzero"`
	Before   int64      `json:"before,omitempty"` // cursor: events older than this id
	Limit    int        `json:"limit,omitempty"`
}

// AuditPage is one page of the trail, newest first; Next is the cursor of
// the next page (0 on the last).
type AuditPage struct {
	Items []crm.AuditEvent `json:"items"`
	Next  int64            `json:"next_cursor,omitempty"`
	// ArchivedThrough, when events have been archived, is the time of the
	// newest archived event: events up to it (log positions up to
	// ArchivedSeq) were moved out of the database into signed segment files
	// (custos audit archive) and are not listed here.
	ArchivedThrough *time.Time `json:"archived_through,omitempty"`
	ArchivedSeq     int64      `json:"archived_seq,omitempty"`
}

// AuditTrail returns a page of the trail to an administrator or an auditor.
func (s *Service) AuditTrail(ctx context.Context, a *access.Actor, q AuditQuery) (AuditPage, error) {
	if !a.CanAudit() {
		s.auditDenied(ctx, a, "audit.view", "", 0)
		return AuditPage{}, crm.ErrForbidden()
	}
	var p crm.Problems
	q.Outcome = p.Enum("outcome", q.Outcome, false, []string{"ok", "denied"})
	if err := p.Err(); err != nil {
		return AuditPage{}, err
	}
	page, err := s.auditPage(ctx, store.AuditFilter{ActorID: q.ActorID, Object: string(q.Object), RecordID: q.RecordID,
		Action: strings.TrimSpace(q.Action), Outcome: q.Outcome, Since: q.Since, Until: q.Until, BeforeID: q.Before}, q.Limit)
	if err != nil {
		return AuditPage{}, err
	}
	// What was looked for is recorded; what was shown is the trail itself.
	e := s.event(a, "audit.view", "", 0)
	e.Fields = mustJSON(q)
	if err := s.db.WriteTx(ctx, func(tx *store.Tx) error { return s.insertEvent(ctx, tx, e) }); err != nil {
		return AuditPage{}, err
	}
	return page, nil
}

func (s *Service) auditPage(ctx context.Context, f store.AuditFilter, limit int) (AuditPage, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	f.Limit = limit + 1
	var page AuditPage
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if page.Items, err = tx.ListAuditEvents(ctx, f); err != nil {
			return err
		}
		seg, ok, err := tx.LastAuditSegment(ctx)
		if ok {
			page.ArchivedThrough, page.ArchivedSeq = &seg.LastAt, seg.LastSeq
		}
		return err
	})
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.Next = page.Items[limit-1].ID
	}
	if page.Items == nil {
		page.Items = []crm.AuditEvent{}
	}
	return page, err
}

// RecordHistory returns who viewed and changed a record, newest first, to
// anyone who may see the record (auditors: any record). Changes of fields
// the reader's role hides or masks show that they changed, not the values.
func (s *Service) RecordHistory(ctx context.Context, a *access.Actor, o crm.Object, id, before int64) (AuditPage, error) {
	if !a.CanAudit() {
		if err := s.require(ctx, a, o, crm.ActRead); err != nil {
			return AuditPage{}, err
		}
		if err := s.db.ReadTx(ctx, func(tx *store.Tx) error { _, err := s.readInScope(ctx, tx, a, o, id); return err }); err != nil {
			return AuditPage{}, err
		}
	}
	page, err := s.auditPage(ctx, store.AuditFilter{Object: string(o), RecordID: id, BeforeID: before}, 50)
	if err != nil {
		return AuditPage{}, err
	}
	if !a.CanAudit() {
		for i := range page.Items {
			page.Items[i].Fields = s.shapeChanges(a, o, page.Items[i].Fields)
		}
	}
	return page, s.auditRead(ctx, a, string(o)+".history", o, id, nil)
}

// shapeChanges drops the values of changed fields the actor may not see.
func (s *Service) shapeChanges(a *access.Actor, o crm.Object, fields json.RawMessage) json.RawMessage {
	var changes map[string]json.RawMessage
	if len(fields) == 0 || json.Unmarshal(fields, &changes) != nil {
		return fields
	}
	for name := range changes {
		if name != "custom" && !a.Field(o, name).Visible() {
			changes[name] = json.RawMessage(`{"changed":true}`)
		}
	}
	// Custom values change as one map: withhold it whole when the role may
	// not see one of the custom fields.
	if _, ok := changes["custom"]; ok && hidesCustom(a, o) {
		changes["custom"] = json.RawMessage(`{"changed":true}`)
	}
	return mustJSON(changes)
}

func hidesCustom(a *access.Actor, o crm.Object) bool {
	for f, acc := range a.Role.Grant(o).Fields {
		if strings.HasPrefix(f, "custom.") && !acc.Visible() {
			return true
		}
	}
	return false
}
