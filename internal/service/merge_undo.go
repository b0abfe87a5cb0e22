package service

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// MergeUndo is what an undo did: the merge, and the fields the survivor
// kept because they were changed after the merge (an undo never overwrites
// a later edit).
type MergeUndo struct {
	crm.Merge
	Kept []string `json:"kept,omitempty"`
}

// UndoMerge reverses a merge: the survivor's fields taken from the merged
// record go back (unless changed since), the rows moved return, what was
// re-sealed goes back under the merged person's key, and the merged record
// leaves the recycle bin. The actor needs the rights a merge needs, over
// both records; a merged record purged from the bin cannot come back.
func (s *Service) UndoMerge(ctx context.Context, a *access.Actor, id int64) (MergeUndo, error) {
	var out MergeUndo
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		m, err := tx.GetMerge(ctx, id)
		if err != nil {
			return err
		}
		for _, act := range []crm.Action{crm.ActEdit, crm.ActDelete} {
			if err := s.require(ctx, a, m.Object, act); err != nil {
				return err
			}
		}
		if m.UndoneAt != nil {
			return &crm.Error{Code: crm.Conflict, Key: "merge_undone", Message: "this merge has been undone already"}
		}
		out.Merge = m.Merge
		out.Kept, err = s.undoMergeTx(ctx, tx, a, m)
		if err != nil {
			return err
		}
		now := s.clock()
		if ok, err := tx.MarkMergeUndone(ctx, id, a.UserID, now); err != nil || !ok {
			return err
		}
		out.UndoneBy, out.UndoneAt = a.UserID, &now
		detail := map[string]any{"merge": id, "merged_id": m.MergedID, "kept": out.Kept}
		if err := s.audit(ctx, tx, a, string(m.Object)+".merge_undo", m.Object, m.SurvivorID, detail); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, string(m.Object)+".restore", m.Object, m.MergedID, map[string]any{"merge_undone": id})
	})
	return out, s.filed(ctx, a, err)
}

func (s *Service) undoMergeTx(ctx context.Context, tx *store.Tx, a *access.Actor, m store.MergeRow) ([]string, error) {
	o := m.Object
	if err := editableRecord(ctx, tx, a, o, m.SurvivorID); err != nil {
		return nil, err
	}
	if err := tx.LockRecord(ctx, o, m.MergedID); err != nil {
		return nil, err
	}
	if err := mergedInBin(ctx, tx, a, o, m.MergedID); err != nil {
		return nil, err
	}
	kept, err := s.revertSurvivor(ctx, tx, a, m)
	if err != nil {
		return nil, err
	}
	if err := tx.UnmoveMergedLinks(ctx, o, m.Detail.Moves, m.MergedID, m.SurvivorID); err != nil {
		return nil, err
	}
	if err := s.unsealMerged(ctx, tx, m); err != nil {
		return nil, err
	}
	keys, err := tx.RecordDedupKeys(ctx, o, m.MergedID)
	if err != nil {
		return nil, err
	}
	if err := checkDuplicate(ctx, tx, keys, o, m.MergedID); err != nil {
		return nil, err
	}
	if err := setRecordDeleted(ctx, tx, o, m.MergedID, a.UserID, nil, s.clock()); err != nil {
		return nil, err
	}
	if err := recomputeMergedCustomers(ctx, tx, o, m); err != nil {
		return nil, err
	}
	_, err = tx.SetDupPairStatus(ctx, o, m.MergedID, crm.DupPairMerged, crm.DupPairOpen)
	return kept, err
}

// mergedInBin checks that the merged record is still in the recycle bin,
// within the actor's scope.
func mergedInBin(ctx context.Context, tx *store.Tx, a *access.Actor, o crm.Object, id int64) error {
	var err error
	if o == crm.ObjCustomer {
		_, err = tx.GetCustomer(ctx, id, store.CustomerQuery{Scope: a.Scope(crm.ObjCustomer), Deleted: true})
	} else {
		err = tx.RecordInScope(ctx, o, id, recycleScope(a, o), true)
	}
	return notInBin(o, err)
}

// revertSurvivor gives the survivor back the values the merge replaced,
// for each field still as the merge left it, through its normal edit; it
// returns the fields changed since, which keep their newer value.
func (s *Service) revertSurvivor(ctx context.Context, tx *store.Tx, a *access.Actor, m store.MergeRow) ([]string, error) {
	if len(m.Detail.Fields) == 0 {
		return nil, nil
	}
	o := m.Object
	current, err := tx.AnyRecord(ctx, o, m.SurvivorID)
	if err == nil {
		err = s.openRecord(ctx, current)
	}
	if err != nil {
		return nil, err
	}
	key := dataKeyOf(current)
	before, err := s.versionValues(ctx, tx, o, m.SurvivorID, m.VersionBefore, key)
	if err != nil {
		return nil, err
	}
	after, err := s.versionValues(ctx, tx, o, m.SurvivorID, m.VersionAfter, key)
	if err != nil {
		return nil, err
	}
	now, err := fieldValues(current)
	if err != nil {
		return nil, err
	}
	update, custom := map[string]any{}, map[string]any{}
	var kept []string
	for _, name := range m.Detail.Fields {
		if !bytes.Equal(now[name], after[name]) {
			kept = append(kept, name)
			continue
		}
		old := before[name]
		if old == nil {
			old = json.RawMessage("null") // a custom value the survivor did not have
		}
		if k, ok := strings.CutPrefix(name, "custom."); ok {
			custom[k] = old
		} else {
			update[name] = old
		}
	}
	if len(custom) > 0 {
		update["custom"] = custom
	}
	if len(update) == 0 {
		return kept, nil
	}
	update["version"] = recordOf(current).Version
	return kept, s.editSurvivor(ctx, tx, a, o, m.SurvivorID, update, "undo")
}

// versionValues opens one stored version of a record and returns its
// fields by name (custom values as "custom.<key>").
func (s *Service) versionValues(ctx context.Context, tx *store.Tx, o crm.Object, id, version int64, key string) (map[string]json.RawMessage, error) {
	versions, err := tx.AllVersions(ctx, o, id)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(versions, func(v crm.RecordVersion) bool { return v.Version == version })
	if i < 0 {
		return nil, &crm.Error{Code: crm.Conflict, Key: "merge_version_gone",
			Message: "the survivor's version from before the merge is no longer kept: the merge cannot be undone"}
	}
	raw, err := s.openJSON(ctx, o, key, versions[i].Fields)
	if err != nil {
		return nil, err
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	return fieldValues(fields)
}

// unsealMerged puts what the merge re-sealed under the survivor's key back
// under the merged record's, with the merged person's consents, privacy
// requests and legal hold.
func (s *Service) unsealMerged(ctx context.Context, tx *store.Tx, m store.MergeRow) error {
	for _, r := range m.Detail.Resealed {
		p, err := tx.AnyRecord(ctx, r.Object, r.ID)
		if crm.IsCode(err, crm.NotFound) {
			continue // purged since
		}
		if err != nil {
			return err
		}
		if dataKeyOf(p) != m.SurvivorKey {
			continue // moved again since
		}
		if err := s.reseal(ctx, tx, r, m.SurvivorKey, m.MergedKey); err != nil {
			return err
		}
	}
	if m.Object == crm.ObjCustomer || m.MergedKey == "" || m.SurvivorKey == "" {
		return nil
	}
	var people []crm.PersonRef
	for _, r := range m.Detail.Resealed {
		if r.Object == crm.ObjContact || r.Object == crm.ObjLead {
			people = append(people, r)
		}
	}
	return tx.UnmoveConsentKeys(ctx, people, m.MergedKey, m.SurvivorKey, m.Detail.Withdrawn, m.Detail.HoldAdded)
}

// Merges lists an object's merges whose survivor the actor may see, newest
// first, with both records' names as the actor may see them.
func (s *Service) Merges(ctx context.Context, a *access.Actor, o crm.Object, limit int) ([]crm.Merge, error) {
	if !slices.Contains(DuplicateObjects, o) {
		return nil, objectProblem()
	}
	if err := s.require(ctx, a, o, crm.ActRead); err != nil {
		return nil, err
	}
	var out []crm.Merge
	var seen []int64
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		rows, err := tx.ListMerges(ctx, o, store.NameScope{Scope: a.SharedScope(o, false), Child: childScope(a, o, false),
			PoolVisible: a.Can(crm.ObjCustomer, crm.ActRead)}, limit)
		if err != nil || len(rows) == 0 {
			return err
		}
		for _, m := range rows {
			seen = append(seen, m.SurvivorID, m.MergedID)
		}
		names, err := s.recordNames(ctx, tx, a, o, seen)
		if err != nil {
			return err
		}
		for _, m := range rows {
			m.SurvivorTitle, m.MergedTitle = names[m.SurvivorID], names[m.MergedID]
			out = append(out, m.Merge)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, s.auditRead(ctx, a, "merges.list", o, 0, seen)
}

// DismissDuplicatePair marks a candidate pair as not a duplicate, so the
// review list and later scans leave it out. The actor must be able to edit
// both records.
func (s *Service) DismissDuplicatePair(ctx context.Context, a *access.Actor, o crm.Object, idA, idB int64) error {
	if !slices.Contains(DuplicateObjects, o) {
		return objectProblem()
	}
	if err := s.require(ctx, a, o, crm.ActEdit); err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		for _, id := range []int64{min(idA, idB), max(idA, idB)} {
			if err := editableRecord(ctx, tx, a, o, id); err != nil {
				return err
			}
		}
		ok, err := tx.DismissDupPair(ctx, o, idA, idB)
		if err != nil {
			return err
		}
		if !ok {
			return crm.ErrNotFound("duplicate pair")
		}
		return s.audit(ctx, tx, a, "duplicates.dismiss", o, min(idA, idB), map[string]any{"id_a": min(idA, idB), "id_b": max(idA, idB)})
	})
}
