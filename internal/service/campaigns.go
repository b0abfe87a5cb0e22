package service

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/i18n"
	"custos/internal/store"
)

// Data review campaigns (issue 14 §4). An administrator, or a manager for
// their part of the tree, starts a campaign: the records of some objects
// in their scope (all, those below a completeness score, or the stale
// ones) are fixed in review_items, and each owner gets one task. Owners
// confirm a record unchanged or correct it through its normal edit; either
// marks it reviewed, audited. Who reviews a record is its current owner,
// so a record handed over follows its new owner. At its due date the
// campaign closes (the maintenance job), closing the tasks left open; a
// recurring campaign starts its next one every few months.

// campaignJob names the system actor and the lease of the campaign job.
const campaignJob = "review campaigns"

// campaignLease is how long one run of the job holds its lease.
const campaignLease = 10 * time.Minute

// errCampaignClosed refuses a review after the due date.
var errCampaignClosed = &crm.Error{Code: crm.Conflict, Key: "campaign_closed", Message: "the review campaign is closed: its due date has passed"}

// campaignScope is where a campaign takes its records from and whose
// records it covers: the starter's scope kind narrowed to the campaign's
// department and those below it.
func campaignScope(ctx context.Context, tx *store.Tx, c crm.Campaign) (store.Scope, error) {
	if c.DepartmentID == 0 {
		return store.Scope{Kind: crm.ScopeAll}, nil
	}
	d, err := tx.GetDepartment(ctx, c.DepartmentID)
	if err != nil {
		return store.Scope{}, err
	}
	if c.ScopeKind == crm.ScopeDepartment {
		return store.Scope{Kind: crm.ScopeDepartment, DeptID: d.ID}, nil
	}
	return store.Scope{Kind: crm.ScopeSubtree, DeptID: d.ID, DeptPath: d.Path}, nil
}

// CampaignStarterKind says whether the actor may start a campaign over
// the objects and in which scope kind it takes records: administrators
// all, managers — a scope of their department or their subtree, with the
// right to edit, on every object — theirs. Sales (their own records) may
// not start one. Surfaces ask it to offer the form.
func CampaignStarterKind(a *access.Actor, objects []crm.Object) (crm.Scope, bool) {
	if a.IsAdmin() {
		return crm.ScopeAll, true
	}
	kind := crm.ScopeAll
	for _, o := range objects {
		g := a.Scope(o)
		if !a.Can(o, crm.ActEdit) || g.Kind != crm.ScopeSubtree && g.Kind != crm.ScopeDepartment && g.Kind != crm.ScopeAll {
			return "", false
		}
		if slices.Index(crm.Scopes, g.Kind) < slices.Index(crm.Scopes, kind) {
			kind = g.Kind
		}
	}
	return kind, len(objects) > 0
}

// starterKind is CampaignStarterKind refusing, audited. It runs before the
// write opens: the refusal is audited in a transaction of its own.
func (s *Service) starterKind(ctx context.Context, a *access.Actor, objects []crm.Object) (crm.Scope, error) {
	kind, ok := CampaignStarterKind(a, objects)
	if !ok {
		s.auditDenied(ctx, a, "campaign.start", "", 0)
		return "", crm.ErrForbidden()
	}
	return kind, nil
}

// starterDepartment checks the campaign's department against the
// starter's scope: any for administrators (none: all), for a manager theirs
// (the default) or one within their subtree.
func starterDepartment(ctx context.Context, tx *store.Tx, a *access.Actor, c *crm.Campaign) error {
	if c.ScopeKind == crm.ScopeAll && c.DepartmentID == 0 {
		return nil
	}
	if c.DepartmentID == 0 {
		c.DepartmentID = a.DeptID
	}
	d, err := tx.GetDepartment(ctx, c.DepartmentID)
	if err != nil {
		return refError(err, "department_id")
	}
	if c.ScopeKind == crm.ScopeDepartment && d.ID != a.DeptID || c.ScopeKind == crm.ScopeSubtree && !strings.HasPrefix(d.Path, a.DeptPath) {
		var p crm.Problems
		p.Add("department_id", "outside_scope")
		return p.Err()
	}
	return nil
}

// StartCampaign starts a review campaign (administrators, managers for
// their subtree): it takes the selected records, gives each of their
// owners one task and audits the start, all in one transaction.
func (s *Service) StartCampaign(ctx context.Context, a *access.Actor, cs crm.CampaignStart) (crm.Campaign, error) {
	c := crm.Campaign{CampaignStart: cs}
	if !a.Can(crm.ObjCustomer, crm.ActRead) {
		s.auditDenied(ctx, a, "campaign.start", "", 0)
		return c, crm.ErrForbidden()
	}
	if err := c.Validate(s.clock()).Err(); err != nil {
		return c, err
	}
	var err error
	if c.ScopeKind, err = s.starterKind(ctx, a, c.Objects); err != nil {
		return c, err
	}
	c.DueAt = c.DueAt.UTC().Truncate(time.Millisecond)
	err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := starterDepartment(ctx, tx, a, &c); err != nil {
			return err
		}
		c.StartedBy, c.StartedAt = a.UserID, s.clock()
		_, err := s.startCampaignTx(ctx, tx, a, &c)
		return err
	})
	return c, err
}

// startCampaignTx inserts the campaign (false: a recurrence another run
// inserted first), takes its records, makes the owners' tasks and audits
// the start with the counts.
func (s *Service) startCampaignTx(ctx context.Context, tx *store.Tx, a *access.Actor, c *crm.Campaign) (bool, error) {
	if ok, err := tx.InsertCampaign(ctx, c); err != nil || !ok {
		return false, err
	}
	set, err := s.qualitySettingsTx(ctx, tx)
	if err != nil {
		return false, err
	}
	scope, err := campaignScope(ctx, tx, *c)
	if err != nil {
		return false, err
	}
	counts := map[string]int64{}
	for _, o := range c.Objects {
		spec := s.qualitySpec(set, o)
		if c.Selection == crm.SelectBelow {
			spec.BelowScore = c.BelowScore
		}
		if counts[string(o)], err = tx.AddCampaignItems(ctx, c.ID, spec, scope, c.Selection == crm.SelectStale); err != nil {
			return false, err
		}
	}
	if _, err := s.syncCampaignTasks(ctx, tx, *c, 0); err != nil {
		return false, err
	}
	return true, s.audit(ctx, tx, a, "campaign.start", "", c.ID, map[string]any{"campaign": c, "records": counts})
}

// CampaignTaskRun counts what a sync of owners' tasks did.
type CampaignTaskRun struct {
	Created  int `json:"created"`
	Closed   int `json:"closed"`
	Reopened int `json:"reopened"`
}

func (r *CampaignTaskRun) add(o CampaignTaskRun) {
	r.Created, r.Closed, r.Reopened = r.Created+o.Created, r.Closed+o.Closed, r.Reopened+o.Reopened
}

// syncCampaignTasks brings a campaign's owners' tasks in line with its
// records (of one owner when ownerID is set): an owner with records left
// to review has one open task (made once: review_tasks' key settles it,
// so two instances cannot both make it; reopened if it was closed and a
// record came to them since); an owner with none left, or any owner once
// the campaign is closed, has it closed.
func (s *Service) syncCampaignTasks(ctx context.Context, tx *store.Tx, c crm.Campaign, ownerID int64) (CampaignTaskRun, error) {
	var run CampaignTaskRun
	sys := access.System(campaignJob)
	left, err := tx.UnreviewedByOwner(ctx, c, ownerID)
	if err != nil {
		return run, err
	}
	tasks, err := tx.ReviewTasks(ctx, c.ID, ownerID)
	if err != nil {
		return run, err
	}
	open := c.Status == crm.CampaignOpen
	have := map[int64]bool{}
	for _, t := range tasks {
		have[t.OwnerID] = true
		changed, err := s.setCampaignTaskDone(ctx, tx, sys, t.TaskID, !open || left[t.OwnerID] == 0)
		if err != nil {
			return run, err
		}
		switch {
		case changed && (!open || left[t.OwnerID] == 0):
			run.Closed++
		case changed:
			run.Reopened++
		}
	}
	if !open {
		return run, nil
	}
	var owners []int64
	for owner, n := range left {
		if n > 0 && !have[owner] {
			owners = append(owners, owner)
		}
	}
	if len(owners) == 0 {
		return run, nil
	}
	slices.Sort(owners)
	users, err := tx.ListUsers(ctx)
	if err != nil {
		return run, err
	}
	langs := map[int64]string{}
	for _, u := range users {
		if !u.Disabled {
			langs[u.ID] = u.Lang
		}
	}
	for _, owner := range owners {
		lang, active := langs[owner]
		if !active {
			continue // a disabled owner's records wait for their hand-over
		}
		claimed, err := tx.ClaimReviewTask(ctx, c.ID, owner)
		if err != nil {
			return run, err
		}
		if !claimed {
			continue
		}
		if lang == "" {
			lang = i18n.ZH
		}
		due := c.DueAt
		title := fmt.Sprintf(i18n.T(lang, "campaign.task"), left[owner], c.Name, due.In(s.zone).Format("2006-01-02"))
		k, err := s.newTask(sys, crm.TaskFields{Title: title, DueAt: &due, AssigneeID: owner,
			Notes: "/quality/campaigns/" + strconv.FormatInt(c.ID, 10)}) // its page links to the owner's list per object
		if err != nil {
			return run, err
		}
		if err := s.insertTaskTx(ctx, tx, sys, &k); err != nil {
			return run, err
		}
		if err := tx.SetReviewTask(ctx, c.ID, store.ReviewTask{OwnerID: owner, TaskID: k.ID}); err != nil {
			return run, err
		}
		run.Created++
	}
	return run, nil
}

// setCampaignTaskDone marks an owner's campaign task done or open again,
// unless it is so already or gone; it reports whether it changed it.
func (s *Service) setCampaignTaskDone(ctx context.Context, tx *store.Tx, sys *access.Actor, taskID int64, done bool) (bool, error) {
	if taskID == 0 {
		return false, nil
	}
	k, err := tx.GetTask(ctx, taskID, store.TaskQuery{Scope: taskScope(sys)})
	if crm.IsCode(err, crm.NotFound) {
		return false, nil
	}
	if err != nil || k.Done == done {
		return false, err
	}
	if err := tx.SetTaskDone(ctx, taskID, done, sys.UserID, s.clock()); err != nil {
		return false, err
	}
	return true, s.audit(ctx, tx, sys, "task.done", crm.ObjTask, taskID, map[string]change{"done": {From: k.Done, To: done}})
}

// maxConfirm bounds the records one confirmation names.
const maxConfirm = 200

// ConfirmReview marks records of a campaign reviewed unchanged: each must
// be in the campaign and owned within the actor's scope (its owner, their
// manager, an administrator) — any other is "not found", like a missing
// one, and nothing is marked. Each record marked is audited as reviewed;
// an owner left with nothing to review has their task closed. It returns
// how many were marked (a record reviewed already counts no more).
func (s *Service) ConfirmReview(ctx context.Context, a *access.Actor, campaignID int64, o crm.Object, ids []int64) (int, error) {
	var p crm.Problems
	if !slices.Contains(crm.CampaignObjects(), o) {
		p.Add("object", "enum", crm.JoinObjects(crm.CampaignObjects()))
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	switch {
	case len(ids) == 0:
		p.Add("ids", "required")
	case len(ids) > maxConfirm:
		p.Add("ids", "too_many", strconv.Itoa(maxConfirm))
	case ids[0] <= 0:
		p.Add("ids", "not_found")
	}
	if err := p.Err(); err != nil {
		return 0, err
	}
	if err := s.require(ctx, a, o, crm.ActEdit); err != nil {
		return 0, err
	}
	marked := 0
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		c, err := tx.GetCampaign(ctx, campaignID)
		if err != nil {
			return err
		}
		if !slices.Contains(c.Objects, o) {
			return crm.ErrNotFound(string(o))
		}
		items, err := tx.CampaignItems(ctx, store.CampaignFilter{CampaignID: c.ID, Object: o, Scope: a.Scope(o), IDs: ids, Limit: len(ids)})
		if err != nil {
			return err
		}
		if len(items) != len(ids) {
			return crm.ErrNotFound(string(o))
		}
		if c.Status != crm.CampaignOpen || !s.clock().Before(c.DueAt) { // closed at its due date, job or not
			return errCampaignClosed
		}
		marks, err := tx.MarkReviewed(ctx, c.ID, o, ids, a.UserID, s.clock(), crm.ReviewConfirmed)
		if err != nil {
			return err
		}
		marked = len(marks)
		owners := map[int64]bool{}
		for _, it := range items {
			owners[it.OwnerID] = true
		}
		return s.reviewed(ctx, tx, a, o, marks, crm.ReviewConfirmed, owners)
	})
	return marked, err
}

// reviewedByEdit marks a record reviewed in the open campaigns holding it
// unreviewed: an edit through the record's normal, versioned and audited
// update is a correction. Objects no campaign reviews cost nothing.
func (s *Service) reviewedByEdit(ctx context.Context, tx *store.Tx, a *access.Actor, o crm.Object, id, ownerID int64) error {
	if !slices.Contains(crm.CampaignObjects(), o) {
		return nil
	}
	marks, err := tx.MarkReviewed(ctx, 0, o, []int64{id}, a.UserID, s.clock(), crm.ReviewCorrected)
	if err != nil || len(marks) == 0 {
		return err
	}
	return s.reviewed(ctx, tx, a, o, marks, crm.ReviewCorrected, map[int64]bool{ownerID: true})
}

// reviewed audits each record marked and closes the tasks of the owners
// left with nothing to review in the campaigns concerned.
func (s *Service) reviewed(ctx context.Context, tx *store.Tx, a *access.Actor, o crm.Object, marks []store.ReviewMark, outcome string, owners map[int64]bool) error {
	campaigns := map[int64]bool{}
	for _, m := range marks {
		campaigns[m.CampaignID] = true
		if err := s.audit(ctx, tx, a, string(o)+".reviewed", o, m.RecordID, map[string]any{"campaign": m.CampaignID, "outcome": outcome}); err != nil {
			return err
		}
	}
	for id := range campaigns {
		c, err := tx.GetCampaign(ctx, id)
		if err != nil {
			return err
		}
		for owner := range owners {
			if owner == 0 {
				continue
			}
			if _, err := s.syncCampaignTasks(ctx, tx, c, owner); err != nil {
				return err
			}
		}
	}
	return nil
}

// CampaignGroup is one owner's or one department's progress in a
// campaign; Overdue (owners) says the due date passed with records left,
// OverdueOwners (departments) counts such owners.
type CampaignGroup struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	Total         int    `json:"total"`
	Reviewed      int    `json:"reviewed"`
	Overdue       bool   `json:"overdue,omitempty"`
	OverdueOwners int    `json:"overdue_owners,omitempty"`
}

// CampaignReport is a campaign with its progress within the reader's
// scope: in all, per owner and per department (the owners' current ones).
type CampaignReport struct {
	crm.Campaign
	StarterName   string          `json:"started_by_name"`
	Total         int             `json:"total"`
	Reviewed      int             `json:"reviewed"`
	OverdueOwners int             `json:"overdue_owners"`
	Owners        []CampaignGroup `json:"owners"`
	Departments   []CampaignGroup `json:"departments"`
}

// Campaign returns a campaign with its progress within the actor's
// scope: the records each owner within it must review, whichever campaign
// they came from. Anyone who may read customers may ask; the figures
// count only records owned within the reader's scope.
func (s *Service) Campaign(ctx context.Context, a *access.Actor, id int64) (CampaignReport, error) {
	var rep CampaignReport
	if err := s.require(ctx, a, crm.ObjCustomer, crm.ActRead); err != nil {
		return rep, err
	}
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		c, err := tx.GetCampaign(ctx, id)
		if err != nil {
			return err
		}
		users, depts, err := directoryNames(ctx, tx)
		if err != nil {
			return err
		}
		rep, err = s.campaignReportTx(ctx, tx, a, c, users, depts)
		return err
	})
	return rep, err
}

// campaignReportTx sums a campaign's progress within the actor's scope.
func (s *Service) campaignReportTx(ctx context.Context, tx *store.Tx, a *access.Actor, c crm.Campaign, users, depts map[int64]string) (CampaignReport, error) {
	rep := CampaignReport{Campaign: c, StarterName: users[c.StartedBy], Owners: []CampaignGroup{}, Departments: []CampaignGroup{}}
	late := c.Status == crm.CampaignClosed || !s.clock().Before(c.DueAt)
	if late {
		rep.Status = crm.CampaignClosed // at its due date, before the job has closed its tasks
	}
	byOwner, byDept, deptOf := map[int64]int{}, map[int64]int{}, map[int64]int64{}
	for _, o := range c.Objects {
		if !a.Can(o, crm.ActRead) {
			continue
		}
		owners, err := tx.CampaignProgress(ctx, c.ID, o, a.Scope(o))
		if err != nil {
			return rep, err
		}
		for _, ow := range owners {
			i, ok := byOwner[ow.OwnerID]
			if !ok {
				i = len(rep.Owners)
				byOwner[ow.OwnerID] = i
				rep.Owners = append(rep.Owners, CampaignGroup{ID: ow.OwnerID, Name: users[ow.OwnerID]})
				deptOf[ow.OwnerID] = ow.DeptID
			}
			rep.Owners[i].Total += ow.Total
			rep.Owners[i].Reviewed += ow.Reviewed
		}
	}
	slices.SortFunc(rep.Owners, func(x, y CampaignGroup) int { return int(x.ID - y.ID) })
	for i := range rep.Owners {
		g := &rep.Owners[i]
		g.Overdue = late && g.Reviewed < g.Total
		rep.Total += g.Total
		rep.Reviewed += g.Reviewed
		d := deptOf[g.ID]
		j, ok := byDept[d]
		if !ok {
			j = len(rep.Departments)
			byDept[d] = j
			rep.Departments = append(rep.Departments, CampaignGroup{ID: d, Name: depts[d]})
		}
		rep.Departments[j].Total += g.Total
		rep.Departments[j].Reviewed += g.Reviewed
		if g.Overdue {
			rep.Departments[j].OverdueOwners++
			rep.OverdueOwners++
		}
	}
	return rep, nil
}

// maxCampaignsListed bounds the campaign list.
const maxCampaignsListed = 50

// Campaigns lists the newest campaigns with their progress within the
// actor's scope: those with records the reader's scope holds, and for
// administrators and their starters every one.
func (s *Service) Campaigns(ctx context.Context, a *access.Actor) ([]CampaignReport, error) {
	if err := s.require(ctx, a, crm.ObjCustomer, crm.ActRead); err != nil {
		return nil, err
	}
	out := []CampaignReport{}
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		cs, err := tx.ListCampaigns(ctx, store.CampaignQuery{Limit: maxCampaignsListed})
		if err != nil {
			return err
		}
		users, depts, err := directoryNames(ctx, tx)
		if err != nil {
			return err
		}
		for _, c := range cs {
			rep, err := s.campaignReportTx(ctx, tx, a, c, users, depts)
			if err != nil {
				return err
			}
			if rep.Total > 0 || a.IsAdmin() || c.StartedBy == a.UserID {
				out = append(out, rep)
			}
		}
		return nil
	})
	return out, err
}

// CampaignQuery selects a campaign's drill-down: one object's records, of
// an owner or a department, only the unreviewed ones when asked, after a
// record id.
type CampaignQuery struct {
	CampaignID int64      `json:"campaign_id"`
	Object     crm.Object `json:"object"`
	OwnerID    int64      `json:"owner_id"`
	DeptID     int64      `json:"department_id"`
	Unreviewed bool       `json:"unreviewed"`
	After      int64      `json:"after"`
	Limit      int        `json:"limit"`
}

// CampaignRow is one record of a campaign as the reader sees it.
type CampaignRow struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	OwnerID    int64      `json:"owner_id"`
	OwnerName  string     `json:"owner_name"`
	ReviewedAt *time.Time `json:"reviewed_at,omitempty"`
	Outcome    string     `json:"outcome,omitempty"`
}

// CampaignRecords is a page of a campaign's records; Next is the after
// of the next page, 0 at the end.
type CampaignRecords struct {
	Campaign crm.Campaign  `json:"campaign"`
	Items    []CampaignRow `json:"items"`
	Next     int64         `json:"next,omitempty"`
}

// CampaignRecords lists a campaign's records owned within the actor's
// scope — an owner's review list, or a manager's drill-down — named by the
// actor's field rules; the read is audited with the ids shown (refused if
// the event cannot be stored).
func (s *Service) CampaignRecords(ctx context.Context, a *access.Actor, q CampaignQuery) (CampaignRecords, error) {
	out := CampaignRecords{Items: []CampaignRow{}}
	var p crm.Problems
	if !slices.Contains(crm.CampaignObjects(), q.Object) {
		p.Add("object", "enum", crm.JoinObjects(crm.CampaignObjects()))
	}
	if q.Limit < 0 || q.After < 0 || q.OwnerID < 0 || q.DeptID < 0 {
		p.Add("limit", "number")
	}
	if err := p.Err(); err != nil {
		return out, err
	}
	if err := s.require(ctx, a, q.Object, crm.ActRead); err != nil {
		return out, err
	}
	if q.Limit == 0 || q.Limit > maxQualityRows {
		q.Limit = maxQualityRows
	}
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if out.Campaign, err = tx.GetCampaign(ctx, q.CampaignID); err != nil {
			return err
		}
		if !s.clock().Before(out.Campaign.DueAt) {
			out.Campaign.Status = crm.CampaignClosed // at its due date, before the job has run
		}
		if !slices.Contains(out.Campaign.Objects, q.Object) {
			return nil
		}
		items, err := tx.CampaignItems(ctx, store.CampaignFilter{CampaignID: q.CampaignID, Object: q.Object, Scope: a.Scope(q.Object),
			OwnerID: q.OwnerID, DeptID: q.DeptID, Unreviewed: q.Unreviewed, After: q.After, Limit: q.Limit + 1})
		if err != nil {
			return err
		}
		var ids []int64
		items, out.Next, ids = pageOf(items, q.Limit, func(it store.CampaignItem) int64 { return it.RecordID })
		names, err := s.recordNames(ctx, tx, a, q.Object, ids)
		if err != nil {
			return err
		}
		users, _, err := directoryNames(ctx, tx)
		if err != nil {
			return err
		}
		for _, it := range items {
			out.Items = append(out.Items, CampaignRow{ID: it.RecordID, Name: names[it.RecordID], OwnerID: it.OwnerID, OwnerName: users[it.OwnerID],
				ReviewedAt: it.ReviewedAt, Outcome: it.Outcome})
		}
		return nil
	})
	if err == nil {
		err = auditRows(ctx, s, a, "campaign.list", q.Object, out.Items, func(r CampaignRow) int64 { return r.ID })
	}
	if err != nil {
		return CampaignRecords{}, err
	}
	return out, nil
}

// CampaignRun says what a run of the campaign job did.
type CampaignRun struct {
	Skipped bool            `json:"skipped,omitempty"` // another instance holds the job's lease
	Closed  int             `json:"closed"`            // campaigns closed at their due date
	Started int             `json:"started"`           // recurrences started
	Tasks   CampaignTaskRun `json:"tasks"`
}

// RunCampaigns is the campaign job (hourly, on every instance): it closes
// the campaigns past their due date, starts the next one of each recurring
// campaign whose time has come, and brings the owners' tasks of the open
// ones in line with their records (a record handed over follows its new
// owner). One instance at a time runs it (holder names this one in the job
// lease); each step is a conditional write or a key besides, so a second
// run — or an instance whose lease expired under it — changes nothing.
func (s *Service) RunCampaigns(ctx context.Context, holder string) (CampaignRun, error) {
	run := CampaignRun{Skipped: true}
	var claimed bool
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		now := s.clock()
		var err error
		claimed, err = tx.ClaimLease(ctx, campaignJob, holder, now.Add(campaignLease), now)
		return err
	})
	if err != nil || !claimed {
		return run, err
	}
	defer func() {
		done := context.WithoutCancel(ctx)
		if err := s.db.WriteTx(done, func(tx *store.Tx) error { return tx.ReleaseLease(done, campaignJob, holder) }); err != nil {
			s.logger.Error("campaigns: release the job's lease", "err", err)
		}
	}()
	run.Skipped = false
	sys := access.System(campaignJob)
	var due, recurring, open []crm.Campaign
	if err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if due, err = tx.ListCampaigns(ctx, store.CampaignQuery{DueBy: s.clock(), Limit: 1000}); err != nil {
			return err
		}
		recurring, err = tx.ListCampaigns(ctx, store.CampaignQuery{Recurring: true, Limit: 1000})
		return err
	}); err != nil {
		return run, err
	}
	for _, c := range due {
		err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
			closed, err := tx.CloseCampaign(ctx, c.ID, s.clock())
			if err != nil || !closed {
				return err
			}
			c.Status = crm.CampaignClosed
			tasks, err := s.syncCampaignTasks(ctx, tx, c, 0)
			run.Tasks.add(tasks)
			run.Closed++
			if err != nil {
				return err
			}
			return s.audit(ctx, tx, sys, "campaign.close", "", c.ID, map[string]any{"due_at": c.DueAt, "tasks_closed": tasks.Closed})
		})
		if err != nil {
			return run, err
		}
	}
	for _, prev := range recurring {
		if s.clock().Before(prev.NextStart()) {
			continue
		}
		err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
			next := crm.Campaign{CampaignStart: prev.CampaignStart, ScopeKind: prev.ScopeKind, StartedBy: prev.StartedBy, PreviousID: prev.ID}
			// The next keeps the rhythm (it starts when due, not when the
			// hourly job noticed) and the span; one whose span has passed
			// already, after a long outage, gets the span from now.
			span := prev.DueAt.Sub(prev.StartedAt)
			next.StartedAt, next.DueAt = prev.NextStart(), prev.NextStart().Add(span)
			if !next.DueAt.After(s.clock()) {
				next.DueAt = s.clock().Add(span)
			}
			started, err := s.startCampaignTx(ctx, tx, sys, &next)
			if started {
				run.Started++
			}
			return err
		})
		if err != nil {
			return run, err
		}
	}
	if err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		cs, err := tx.ListCampaigns(ctx, store.CampaignQuery{Open: true, Limit: 1000})
		open = cs
		return err
	}); err != nil {
		return run, err
	}
	for _, c := range open {
		err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
			tasks, err := s.syncCampaignTasks(ctx, tx, c, 0)
			run.Tasks.add(tasks)
			return err
		})
		if err != nil {
			return run, err
		}
	}
	if run.Closed+run.Started+run.Tasks.Created+run.Tasks.Closed+run.Tasks.Reopened > 0 {
		err = s.db.WriteTx(ctx, func(tx *store.Tx) error { return s.audit(ctx, tx, sys, "campaign.run", "", 0, run) })
	}
	return run, err
}
