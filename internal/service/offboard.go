package service

import (
	"context"
	"slices"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// Offboarding (issue 3): a departing salesperson loses access at once and
// their work is handed over in the same transaction, so no customer is left
// without someone following it up and the departing user cannot take the
// list along.

// Handover says who takes over a departing user's records.
type Handover struct {
	// CustomersTo takes the customers; 0 returns them to the public pool.
	CustomersTo int64 `json:"customers_to"`
	// OthersTo takes the contacts, unconverted leads, open opportunities and
	// open tasks; required when the user has any.
	OthersTo int64 `json:"others_to"`
}

// HandoverResult lists the records that moved, per object.
type HandoverResult struct {
	Moved map[crm.Object][]int64 `json:"moved"`
}

// handoverObjects are moved in this order (the registry's); customers
// first, so the audit trail reads as the hand-over was planned.
var handoverObjects = crm.ObjectsWhere(func(s crm.ObjectSpec) bool { return s.HandedOver })

// HandoverCounts counts what a user owns that a hand-over would move, for
// the offboarding form.
func (s *Service) HandoverCounts(ctx context.Context, a *access.Actor, userID int64) (map[crm.Object]int, error) {
	if err := s.requireAdmin(ctx, a, "user.handover_counts"); err != nil {
		return nil, err
	}
	out := map[crm.Object]int{}
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		for _, o := range handoverObjects {
			n, err := tx.CountOwned(ctx, o, userID)
			if err != nil {
				return err
			}
			out[o] = n
		}
		return nil
	})
	return out, err
}

// Offboard disables a user — ending every session and refusing every API
// token from the next request on — and hands their records over, all in
// one transaction with one audit event per object moved.
func (s *Service) Offboard(ctx context.Context, a *access.Actor, userID int64, h Handover) (HandoverResult, error) {
	if err := s.requireAdmin(ctx, a, "user.offboard"); err != nil {
		return HandoverResult{}, err
	}
	if err := s.requireStepUp(ctx, a, "user.offboard"); err != nil {
		return HandoverResult{}, err
	}
	res := HandoverResult{Moved: map[crm.Object][]int64{}}
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.LockUsers(ctx, userID, h.CustomersTo, h.OthersTo); err != nil {
			return err
		}
		u, err := tx.GetUser(ctx, userID)
		if err != nil {
			return err
		}
		if err := checkNotOffboarded(ctx, tx, u); err != nil {
			return err
		}
		if err := s.checkHandover(ctx, tx, a, u, h); err != nil {
			return err
		}
		now := s.clock()
		before := u
		u.Disabled, u.UpdatedAt = true, now
		if err := tx.UpdateUser(ctx, &u); err != nil {
			return err
		}
		if _, err := tx.DeleteUserSessions(ctx, u.ID, 0); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, "user.update", "", u.ID, diff(before, u)); err != nil {
			return err
		}
		if res.Moved, err = s.handOver(ctx, tx, a, u.ID, h); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "user.offboard", "", u.ID, h)
	})
	return res, err
}

// handOver moves a user's transferable records inside tx, with one
// transfer event per object moved.
func (s *Service) handOver(ctx context.Context, tx *store.Tx, a *access.Actor, userID int64, h Handover) (map[crm.Object][]int64, error) {
	moved := map[crm.Object][]int64{}
	now := s.clock()
	for _, o := range handoverObjects {
		to := h.OthersTo
		if o == crm.ObjCustomer {
			to = h.CustomersTo
		} else if to == 0 {
			continue // checkHandover made sure there is nothing to move
		}
		ids, err := tx.TransferOwner(ctx, o, userID, to, a.UserID, now)
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			continue
		}
		moved[o] = ids
		if o == crm.ObjCustomer && to == 0 {
			if err := tx.InsertPoolMoves(ctx, store.PoolEnter, userID, a.UserID, now, ids...); err != nil {
				return nil, err
			}
		}
		if err := s.notifyHandedOver(ctx, tx, a, to, o, ids); err != nil {
			return nil, err
		}
		e := s.event(a, string(o)+".transfer", o, 0)
		e.RecordIDs, e.Fields = ids, mustJSON(map[string]change{"owner_id": {From: userID, To: to}})
		if err := s.insertEvent(ctx, tx, e); err != nil {
			return nil, err
		}
	}
	return moved, nil
}

// checkNotOffboarded refuses to offboard a disabled user who owns nothing
// any more: that was done already (a disabled user who still owns records
// can be offboarded, to hand them over).
func checkNotOffboarded(ctx context.Context, tx *store.Tx, u crm.User) error {
	if !u.Disabled {
		return nil
	}
	for _, o := range handoverObjects {
		if n, err := tx.CountOwned(ctx, o, u.ID); err != nil || n > 0 {
			return err
		}
	}
	return &crm.Error{Code: crm.Conflict, Key: "already_offboarded", Message: "this user has been offboarded already: nothing is left to hand over"}
}

// checkHandover refuses a hand-over to the departing user, to a disabled or
// unknown user, or without a taker for records that need one.
func (s *Service) checkHandover(ctx context.Context, tx *store.Tx, a *access.Actor, u crm.User, h Handover) error {
	if u.ID == a.UserID {
		return &crm.Error{Code: crm.Invalid, Message: "you cannot offboard yourself", Fields: []crm.FieldError{{Field: "user_id", Rule: "self"}}}
	}
	var p crm.Problems
	for field, to := range map[string]int64{"customers_to": h.CustomersTo, "others_to": h.OthersTo} {
		if to == 0 {
			continue
		}
		t, err := tx.GetUser(ctx, to)
		switch {
		case crm.IsCode(err, crm.NotFound) || err == nil && (t.Disabled || t.ID == u.ID):
			p.Add(field, "not_assignable")
		case err != nil:
			return err
		}
	}
	if h.OthersTo == 0 {
		for _, o := range handoverObjects[1:] {
			n, err := tx.CountOwned(ctx, o, u.ID)
			if err != nil {
				return err
			}
			if n > 0 {
				p.Add("others_to", "required")
				break
			}
		}
	}
	return p.Err()
}

// ActivityLine sums one kind of action in an activity report.
type ActivityLine struct {
	Action  string `json:"action"`
	Kind    string `json:"kind"` // viewed, exported, changed, signed_in, other
	Events  int    `json:"events"`
	Records int    `json:"records"` // distinct records involved
}

// ActivityReport is what a user viewed, exported and changed in a period,
// read from the audit trail.
type ActivityReport struct {
	UserID    int64          `json:"user_id"`
	Since     time.Time      `json:"since"`
	Lines     []ActivityLine `json:"lines"`
	Truncated bool           `json:"truncated,omitempty"`
}

// maxActivityEvents bounds one report's scan of the audit trail.
const maxActivityEvents = 100_000

// UserActivity reports a user's last days (30 or 90, say) from the audit
// trail, for offboarding and reviews. Administrators and auditors may ask;
// asking is itself audited.
func (s *Service) UserActivity(ctx context.Context, a *access.Actor, userID int64, days int) (ActivityReport, error) {
	if !a.IsAdmin() && !a.CanAudit() {
		s.auditDenied(ctx, a, "user.activity", "", userID)
		return ActivityReport{}, crm.ErrForbidden()
	}
	if days <= 0 || days > 3650 {
		return ActivityReport{}, &crm.Error{Code: crm.Invalid, Message: "days out of range", Fields: []crm.FieldError{{Field: "days", Rule: "range", Param: "1-3650"}}}
	}
	rep := ActivityReport{UserID: userID, Since: s.clock().AddDate(0, 0, -days)}
	lines := map[string]*ActivityLine{}
	records := map[string]map[int64]bool{}
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		f := store.AuditFilter{ActorID: userID, Since: rep.Since, Limit: 500}
		for scanned := 0; ; {
			events, err := tx.ListAuditEvents(ctx, f)
			if err != nil || len(events) == 0 {
				return err
			}
			for _, e := range events {
				addActivity(lines, records, e)
			}
			if scanned += len(events); scanned >= maxActivityEvents {
				rep.Truncated = true
				return nil
			}
			f.BeforeID = events[len(events)-1].ID
		}
	})
	if err != nil {
		return ActivityReport{}, err
	}
	for action, l := range lines {
		l.Records = len(records[action])
		rep.Lines = append(rep.Lines, *l)
	}
	slices.SortFunc(rep.Lines, func(x, y ActivityLine) int {
		if c := strings.Compare(x.Kind, y.Kind); c != 0 {
			return c
		}
		return strings.Compare(x.Action, y.Action)
	})
	return rep, s.auditRead(ctx, a, "user.activity", "", userID, nil)
}

func addActivity(lines map[string]*ActivityLine, records map[string]map[int64]bool, e crm.AuditEvent) {
	l := lines[e.Action]
	if l == nil {
		l = &ActivityLine{Action: e.Action, Kind: activityKind(e.Action)}
		lines[e.Action] = l
		records[e.Action] = map[int64]bool{}
	}
	l.Events++
	if e.RecordID != 0 && e.Object != "" {
		records[e.Action][e.RecordID] = true
	}
	for _, id := range e.RecordIDs {
		records[e.Action][id] = true
	}
}

// activityKind sorts an audit action into what an offboarding report asks:
// what was viewed, exported or changed.
func activityKind(action string) string {
	_, verb, _ := strings.Cut(action, ".")
	switch verb {
	case "view", "list", "search", "names", "reveal", "recycle_bin", "name", "phone", "email", "credit_code":
		return "viewed"
	case "export":
		return "exported"
	case "create", "update", "delete", "restore", "claim", "release", "stage", "convert", "transfer", "done", "reopen", "merge":
		return "changed"
	}
	if strings.HasPrefix(action, "login") || strings.HasPrefix(action, "logout") {
		return "signed_in"
	}
	return "other"
}
