package service

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/i18n"
	"custos/internal/store"
)

// Data quality (issue 14 §4): completeness scores, stale records and
// missing or invalid key fields per owner and department, their drill-down,
// and fix-up tasks pushed to the owners. Every figure is computed in SQL
// (store/quality.go) within the actor's ownership scope of each object:
// quality is about the records people own, whom the fix-up tasks go to.

// staleDaysSetting is the settings row holding the stale window in days.
const staleDaysSetting = "quality.stale_days"

// qualitySettingsTx reads the configuration: the stale window and every
// quality object's weights (the registry's defaults where none are set).
func (s *Service) qualitySettingsTx(ctx context.Context, tx *store.Tx) (crm.QualitySettings, error) {
	q := crm.QualitySettings{StaleDays: crm.DefaultStaleDays, Weights: map[crm.Object][]crm.QualityWeight{}}
	v, err := tx.GetSetting(ctx, staleDaysSetting)
	if err != nil {
		return q, err
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		q.StaleDays = n
	}
	set, err := tx.QualityWeights(ctx)
	if err != nil {
		return q, err
	}
	for _, o := range crm.QualityObjects() {
		q.Weights[o] = set[o]
		if len(set[o]) == 0 {
			q.Weights[o] = crm.DefaultQualityWeights(o)
		}
	}
	return q, nil
}

// qualitySpec is what the store needs to compute an object's quality.
func (s *Service) qualitySpec(q crm.QualitySettings, o crm.Object) store.QualitySpec {
	return store.QualitySpec{Object: o, Weights: q.Weights[o], StaleBefore: s.clock().Add(-time.Duration(q.StaleDays) * 24 * time.Hour)}
}

// QualitySettings returns the data-quality configuration (administrators).
func (s *Service) QualitySettings(ctx context.Context, a *access.Actor) (crm.QualitySettings, error) {
	if err := s.requireAdmin(ctx, a, "quality.settings"); err != nil {
		return crm.QualitySettings{}, err
	}
	var q crm.QualitySettings
	err := s.db.ReadTx(ctx, func(tx *store.Tx) (err error) {
		q, err = s.qualitySettingsTx(ctx, tx)
		return err
	})
	return q, err
}

// SaveQualitySettings stores the stale window and the weights of the
// objects given (administrators); the change is audited.
func (s *Service) SaveQualitySettings(ctx context.Context, a *access.Actor, q crm.QualitySettings) error {
	if err := s.requireAdmin(ctx, a, "quality.settings"); err != nil {
		return err
	}
	if err := q.Validate().Err(); err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		old, err := s.qualitySettingsTx(ctx, tx)
		if err != nil {
			return err
		}
		if err := tx.PutSetting(ctx, staleDaysSetting, strconv.Itoa(q.StaleDays)); err != nil {
			return err
		}
		changes := map[string]change{}
		if old.StaleDays != q.StaleDays {
			changes["stale_days"] = change{From: old.StaleDays, To: q.StaleDays}
		}
		for _, o := range crm.QualityObjects() {
			ws, ok := q.Weights[o]
			if !ok {
				continue
			}
			if err := tx.PutQualityWeights(ctx, o, ws); err != nil {
				return err
			}
			if !slices.Equal(old.Weights[o], ws) {
				changes["weights."+string(o)] = change{From: old.Weights[o], To: ws}
			}
		}
		return s.audit(ctx, tx, a, "quality.settings", "", 0, changes)
	})
}

// QualityFigures sum the quality of a group of records.
type QualityFigures struct {
	Records int `json:"records"`
	// Completeness is the average completeness score, 0–100.
	Completeness float64 `json:"completeness"`
	Stale        int     `json:"stale"`
	Incomplete   int     `json:"incomplete"`
	Invalid      int     `json:"invalid"`
	// Duplicates counts the records in a pair of the latest duplicate scan
	// whose other record the reader may see too.
	Duplicates int `json:"duplicates"`
	scoreSum   float64
}

func (f *QualityFigures) add(o store.QualityOwner) {
	f.Records += o.Records
	f.scoreSum += o.ScoreSum
	f.Stale += o.Stale
	f.Incomplete += o.Incomplete
	f.Invalid += o.Invalid
	f.Duplicates += o.Duplicate
	f.Completeness = 0
	if f.Records > 0 {
		f.Completeness = float64(int(f.scoreSum/float64(f.Records)*10+0.5)) / 10
	}
}

// QualityGroup is the quality of one owner's or one department's records.
type QualityGroup struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	QualityFigures
}

// QualityObject is the quality of one object's records in the actor's
// scope: in all, per owner and per department (of the owners' current
// departments).
type QualityObject struct {
	Object      crm.Object     `json:"object"`
	Total       QualityFigures `json:"total"`
	Owners      []QualityGroup `json:"owners"`
	Departments []QualityGroup `json:"departments"`
}

// QualityReport is the quality page: per object the actor may read.
type QualityReport struct {
	StaleDays int             `json:"stale_days"`
	Objects   []QualityObject `json:"objects"`
}

// QualityReport computes the quality of the records in the actor's scope:
// a sales rep's own, a manager's subtree, an administrator's all. It needs
// the right to read customers; other objects count where readable.
func (s *Service) QualityReport(ctx context.Context, a *access.Actor) (QualityReport, error) {
	var rep QualityReport
	if err := s.require(ctx, a, crm.ObjCustomer, crm.ActRead); err != nil {
		return rep, err
	}
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		q, err := s.qualitySettingsTx(ctx, tx)
		if err != nil {
			return err
		}
		rep.StaleDays = q.StaleDays
		users, depts, err := directoryNames(ctx, tx)
		if err != nil {
			return err
		}
		for _, o := range crm.QualityObjects() {
			if !a.Can(o, crm.ActRead) {
				continue
			}
			spec := s.qualitySpec(q, o)
			if spec.Dups, err = dupScopeTx(ctx, tx, a, o); err != nil {
				return err
			}
			owners, err := tx.QualityByOwner(ctx, spec, a.Scope(o))
			if err != nil {
				return err
			}
			rep.Objects = append(rep.Objects, qualityObject(o, owners, users, depts))
		}
		return nil
	})
	return rep, err
}

// directoryNames names users and departments by id.
func directoryNames(ctx context.Context, tx *store.Tx) (users, depts map[int64]string, err error) {
	us, err := tx.ListUsers(ctx)
	if err != nil {
		return nil, nil, err
	}
	ds, err := tx.ListDepartments(ctx)
	if err != nil {
		return nil, nil, err
	}
	users, depts = map[int64]string{}, map[int64]string{}
	for _, u := range us {
		users[u.ID] = u.DisplayName
	}
	for _, d := range ds {
		depts[d.ID] = d.Name
	}
	return users, depts, nil
}

// qualityObject rolls owners' sums up into the object's figures.
func qualityObject(o crm.Object, owners []store.QualityOwner, users, depts map[int64]string) QualityObject {
	qo := QualityObject{Object: o, Owners: []QualityGroup{}, Departments: []QualityGroup{}}
	byDept := map[int64]int{}
	for _, ow := range owners {
		g := QualityGroup{ID: ow.OwnerID, Name: users[ow.OwnerID]}
		g.add(ow)
		qo.Owners = append(qo.Owners, g)
		qo.Total.add(ow)
		i, ok := byDept[ow.DeptID]
		if !ok {
			i = len(qo.Departments)
			byDept[ow.DeptID] = i
			qo.Departments = append(qo.Departments, QualityGroup{ID: ow.DeptID, Name: depts[ow.DeptID]})
		}
		qo.Departments[i].add(ow)
	}
	return qo
}

// QualityQuery selects a drill-down: an object's records with a problem
// (Issue; crm.IssueAll every record), of an owner or a department, after
// a record id.
type QualityQuery struct {
	Object  crm.Object       `json:"object"`
	Issue   crm.QualityIssue `json:"issue"`
	OwnerID int64            `json:"owner_id"`
	DeptID  int64            `json:"department_id"`
	After   int64            `json:"after"`
	Limit   int              `json:"limit"`
}

// QualityRow is one record of a drill-down: its name as the actor may see
// it, its owner, score and problems.
type QualityRow struct {
	ID         int64   `json:"id"`
	Name       string  `json:"name"`
	OwnerID    int64   `json:"owner_id"`
	Score      float64 `json:"score"`
	Stale      bool    `json:"stale"`
	Incomplete bool    `json:"incomplete"`
	Invalid    bool    `json:"invalid"`
	Duplicate  bool    `json:"duplicate"`
}

// QualityRecords is a page of a drill-down; Next is the after of the next
// page, 0 at the end.
type QualityRecords struct {
	Items []QualityRow `json:"items"`
	Next  int64        `json:"next,omitempty"`
}

// maxQualityRows bounds a drill-down page.
const maxQualityRows = 100

// QualityRecords lists the records behind a figure of the quality page,
// within the actor's scope; names are opened and shaped by the actor's
// field rules, and the read is audited with the ids shown (refused if the
// event cannot be stored), like a list.
func (s *Service) QualityRecords(ctx context.Context, a *access.Actor, q QualityQuery) (QualityRecords, error) {
	var out QualityRecords
	var p crm.Problems
	if !slices.Contains(crm.QualityObjects(), q.Object) {
		p.Add("object", "unknown")
	}
	if q.Issue != crm.IssueAll && q.Issue != "" && !slices.Contains(crm.QualityIssues, q.Issue) {
		p.Add("issue", "unknown")
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
		set, err := s.qualitySettingsTx(ctx, tx)
		if err != nil {
			return err
		}
		spec := s.qualitySpec(set, q.Object)
		if spec.Dups, err = dupScopeTx(ctx, tx, a, q.Object); err != nil {
			return err
		}
		recs, err := tx.QualityRecords(ctx, spec, store.QualityFilter{Scope: a.Scope(q.Object), Issue: q.Issue,
			OwnerID: q.OwnerID, DeptID: q.DeptID, After: q.After, Limit: q.Limit + 1})
		if err != nil {
			return err
		}
		var ids []int64
		recs, out.Next, ids = pageOf(recs, q.Limit, func(r store.QualityRecord) int64 { return r.ID })
		names, err := s.recordNames(ctx, tx, a, q.Object, ids)
		if err != nil {
			return err
		}
		out.Items = make([]QualityRow, len(recs))
		for i, r := range recs {
			out.Items[i] = QualityRow{ID: r.ID, Name: names[r.ID], OwnerID: r.OwnerID, Score: float64(int(r.Score*10+0.5)) / 10,
				Stale: r.Stale, Incomplete: r.Incomplete, Invalid: r.Invalid, Duplicate: r.Duplicate}
		}
		return nil
	})
	if err == nil {
		err = auditRows(ctx, s, a, "quality.list", q.Object, out.Items, func(r QualityRow) int64 { return r.ID })
	}
	if err != nil {
		return QualityRecords{}, err
	}
	return out, nil
}

// pageOf trims rows read with one extra to limit and returns them, the
// after of the next page (0 at the end) and the ids of the rows kept.
func pageOf[T any](rows []T, limit int, id func(T) int64) ([]T, int64, []int64) {
	var next int64
	if len(rows) > limit {
		rows = rows[:limit]
		next = id(rows[len(rows)-1])
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = id(r)
	}
	return rows, next, ids
}

// auditRows audits a drill-down's read with the ids of the rows shown;
// the caller serves the rows only if it succeeds.
func auditRows[T any](ctx context.Context, s *Service, a *access.Actor, action string, o crm.Object, rows []T, id func(T) int64) error {
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = id(r)
	}
	return s.auditRead(ctx, a, action, o, 0, ids)
}

// FixupRun says what a run of the fix-up job did.
type FixupRun struct {
	Created int `json:"created"`
	Closed  int `json:"closed"`
}

// fixupBatch is how many records one transaction of the job handles.
const fixupBatch = 200

// fixupReasons are the problems that become fix-up tasks.
var fixupReasons = []crm.QualityIssue{crm.IssueStale, crm.IssueIncomplete, crm.IssueInvalid}

// PushFixupTasks closes the fix-up tasks of records fixed since the last
// run and gives each owner a task per record and problem they have none
// open for (administrators, or the hourly job as a system actor). At most
// one fix-up per record and problem is open: quality_fixups' key settles
// it, so two instances running at once cannot both create one. A task an
// owner closed by hand stays the record's fix-up until the record is fixed.
func (s *Service) PushFixupTasks(ctx context.Context, a *access.Actor) (FixupRun, error) {
	var run FixupRun
	if err := s.requireAdmin(ctx, a, "quality.fixups"); err != nil {
		return run, err
	}
	sys := access.System("quality fix-ups")
	var set crm.QualitySettings
	var langs map[int64]string
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if set, err = s.qualitySettingsTx(ctx, tx); err != nil {
			return err
		}
		us, err := tx.ListUsers(ctx)
		langs = map[int64]string{}
		for _, u := range us {
			langs[u.ID] = u.Lang
		}
		return err
	})
	if err != nil {
		return run, err
	}
	for _, o := range crm.QualityObjects() {
		spec := s.qualitySpec(set, o)
		n, err := s.closeFixups(ctx, sys, spec)
		run.Closed += n
		if err != nil {
			return run, err
		}
		n, err = s.openFixups(ctx, sys, spec, langs)
		run.Created += n
		if err != nil {
			return run, err
		}
	}
	return run, nil
}

// hasIssue reports whether a record has a problem.
func hasIssue(r store.QualityRecord, issue crm.QualityIssue) bool {
	switch issue {
	case crm.IssueStale:
		return r.Stale
	case crm.IssueIncomplete:
		return r.Incomplete
	case crm.IssueInvalid:
		return r.Invalid
	}
	return false
}

// closeFixups ends the fix-ups of an object whose record no longer has
// the problem (fixed, deleted, or without owner), marking their tasks done.
func (s *Service) closeFixups(ctx context.Context, sys *access.Actor, spec store.QualitySpec) (int, error) {
	closed := 0
	var after int64
	for {
		var fixups []store.QualityFixup
		err := s.db.ReadTx(ctx, func(tx *store.Tx) (err error) {
			fixups, err = tx.ListFixups(ctx, spec.Object, after, fixupBatch)
			return err
		})
		if err != nil || len(fixups) == 0 {
			return closed, err
		}
		after = fixups[len(fixups)-1].RecordID
		err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
			ids := make([]int64, len(fixups))
			for i, f := range fixups {
				ids[i] = f.RecordID
			}
			recs, err := tx.QualityRecords(ctx, spec, store.QualityFilter{Scope: sys.Scope(spec.Object), Issue: crm.IssueAll, IDs: ids, Limit: len(ids)})
			if err != nil {
				return err
			}
			now := make(map[int64]store.QualityRecord, len(recs))
			for _, r := range recs {
				now[r.ID] = r
			}
			for _, f := range fixups {
				if r, ok := now[f.RecordID]; ok && hasIssue(r, f.Reason) {
					continue
				}
				gone, err := tx.DeleteFixup(ctx, f)
				if err != nil || !gone {
					return err
				}
				if err := s.closeFixupTask(ctx, tx, sys, f); err != nil {
					return err
				}
				closed++
			}
			return nil
		})
		if err != nil {
			return closed, err
		}
	}
}

// closeFixupTask marks a fix-up's task done, unless it is done or gone.
func (s *Service) closeFixupTask(ctx context.Context, tx *store.Tx, sys *access.Actor, f store.QualityFixup) error {
	if f.TaskID == 0 {
		return nil
	}
	k, err := tx.GetTask(ctx, f.TaskID, store.TaskQuery{Scope: taskScope(sys)})
	if crm.IsCode(err, crm.NotFound) {
		return nil
	}
	if err != nil || k.Done {
		return err
	}
	if err := tx.SetTaskDone(ctx, f.TaskID, true, sys.UserID, s.clock()); err != nil {
		return err
	}
	return s.audit(ctx, tx, sys, "task.done", crm.ObjTask, f.TaskID, map[string]change{"done": {From: false, To: true}})
}

// openFixups gives the owners of an object's records with problems a task
// per record and problem with no open fix-up.
func (s *Service) openFixups(ctx context.Context, sys *access.Actor, spec store.QualitySpec, langs map[int64]string) (int, error) {
	created := 0
	var after int64
	for {
		var recs []store.QualityRecord
		err := s.db.ReadTx(ctx, func(tx *store.Tx) (err error) {
			recs, err = tx.QualityRecords(ctx, spec, store.QualityFilter{Scope: sys.Scope(spec.Object), After: after, Limit: fixupBatch, LiveOwners: true})
			return err
		})
		if err != nil || len(recs) == 0 {
			return created, err
		}
		after = recs[len(recs)-1].ID
		err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
			for _, r := range recs {
				for _, reason := range fixupReasons {
					if !hasIssue(r, reason) {
						continue
					}
					f := store.QualityFixup{Object: spec.Object, RecordID: r.ID, Reason: reason}
					claimed, err := tx.ClaimFixup(ctx, f, s.clock())
					if err != nil {
						return err
					}
					if !claimed {
						continue
					}
					if f.TaskID, err = s.insertFixupTask(ctx, tx, sys, spec.Object, r, reason, langs[r.OwnerID]); err != nil {
						return err
					}
					if err := tx.SetFixupTask(ctx, f); err != nil {
						return err
					}
					created++
				}
			}
			return nil
		})
		if err != nil {
			return created, err
		}
	}
}

// insertFixupTask creates the owner's task for a record's problem, in the
// owner's language, through the tasks' own create.
func (s *Service) insertFixupTask(ctx context.Context, tx *store.Tx, sys *access.Actor, o crm.Object, r store.QualityRecord, reason crm.QualityIssue, lang string) (int64, error) {
	if lang == "" {
		lang = i18n.ZH
	}
	spec, _ := crm.Spec(o)
	title := fmt.Sprintf(i18n.T(lang, "quality.task."+string(reason)), i18n.T(lang, spec.Label), r.ID)
	k, err := s.newTask(sys, crm.TaskFields{Title: title, Notes: "/" + spec.Path + "/" + strconv.FormatInt(r.ID, 10),
		CustomerID: r.CustomerID, AssigneeID: r.OwnerID})
	if err != nil {
		return 0, err
	}
	if err := s.insertTaskTx(ctx, tx, sys, &k); err != nil {
		return 0, err
	}
	return k.ID, nil
}
