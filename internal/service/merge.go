package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// Merging duplicates (issue 14 §3). A merge keeps one record (the
// survivor) and moves the other into the recycle bin, in one transaction:
//
//  1. both records are locked, within the actor's edit scope, at the
//     versions the user compared;
//  2. every row that points at the merged record is re-pointed to the
//     survivor (store.MoveMergedLinks);
//  3. what was sealed under the merged person's data key — the record, its
//     versions, the follow-ups about them, the lead they came from — is
//     re-sealed under the survivor's, and their consents, privacy requests
//     and legal hold follow, so erasing the survivor later erases all; a
//     customer's follow-ups move under the survivor customer's key;
//  4. the merged record goes to the recycle bin, and the survivor takes the
//     chosen fields through its normal edit (validated, duplicate-checked,
//     versioned, audited);
//  5. the merge is recorded with ids and field names only, for its undo.
//
// An undo reverses each step: the fields the survivor took go back unless
// changed since (those are kept and named), the rows return, the re-sealed
// rows go back under the merged person's key (kept until an erasure of the
// survivor destroys it with theirs) and the merged record is restored.

// mergeChoices checks a request's field choices against the object's
// mergeable fields and its custom fields.
func mergeChoices(o crm.Object, fields map[string]string, custom []crm.CustomField) error {
	spec, _ := crm.Spec(o)
	var p crm.Problems
	for name, keep := range fields {
		if keep != crm.KeepSurvivor && keep != crm.KeepMerged {
			p.Add("fields."+name, "enum", crm.KeepSurvivor+", "+crm.KeepMerged)
			continue
		}
		if key, ok := strings.CutPrefix(name, "custom."); ok {
			if !slices.ContainsFunc(custom, func(d crm.CustomField) bool { return d.Key == key }) {
				p.Add("fields."+name, "unknown")
			}
			continue
		}
		if f, ok := spec.Field(name); !ok || !f.Mergeable {
			p.Add("fields."+name, "unknown")
		}
	}
	return p.Err()
}

// MergeRecords merges one customer, contact or lead into another of the
// same object. The actor edits and deletes records of the object, and both
// records are within their edit scope.
func (s *Service) MergeRecords(ctx context.Context, a *access.Actor, o crm.Object, req crm.MergeRequest) (crm.Merge, error) {
	if !slices.Contains(DuplicateObjects, o) {
		return crm.Merge{}, objectProblem()
	}
	for _, act := range []crm.Action{crm.ActEdit, crm.ActDelete} {
		if err := s.require(ctx, a, o, act); err != nil {
			return crm.Merge{}, err
		}
	}
	var p crm.Problems
	if req.SurvivorID <= 0 {
		p.Add("survivor_id", "required")
	}
	if req.MergedID <= 0 {
		p.Add("merged_id", "required")
	} else if req.MergedID == req.SurvivorID {
		p.Add("merged_id", "same_record")
	}
	if err := p.Err(); err != nil {
		return crm.Merge{}, err
	}
	var m store.MergeRow
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		var err error
		m, err = s.mergeTx(ctx, tx, a, o, req)
		return err
	})
	if err != nil {
		return crm.Merge{}, s.filed(ctx, a, err)
	}
	return m.Merge, nil
}

// mergedPair is the two records of a merge, opened, with their fields as
// JSON values by name.
type mergedPair struct {
	survivor, merged             any
	survivorRec, mergedRec       *crm.Record
	survivorFields, mergedFields map[string]json.RawMessage
}

func (s *Service) mergeTx(ctx context.Context, tx *store.Tx, a *access.Actor, o crm.Object, req crm.MergeRequest) (store.MergeRow, error) {
	m := store.MergeRow{Merge: crm.Merge{Object: o, SurvivorID: req.SurvivorID, MergedID: req.MergedID,
		CreatedBy: a.UserID, CreatedAt: s.clock()}}
	defs, err := tx.ListCustomFields(ctx, o)
	if err != nil {
		return m, err
	}
	if err := mergeChoices(o, req.Fields, defs); err != nil {
		return m, err
	}
	pair, err := s.lockPair(ctx, tx, a, o, req, true)
	if err != nil {
		return m, err
	}
	update, taken := mergeUpdate(a, o, pair, req.Fields)
	m.SurvivorKey, m.MergedKey = dataKeyOf(pair.survivor), dataKeyOf(pair.merged)
	if o == crm.ObjCustomer { // the key of its follow-ups about no person
		if m.MergedKey, err = tx.CustomerDataKey(ctx, req.MergedID); err != nil {
			return m, err
		}
	}
	m.VersionBefore, m.Detail.Fields = pair.survivorRec.Version, taken
	if m.Detail.Moves, err = tx.MoveMergedLinks(ctx, o, req.MergedID, req.SurvivorID); err != nil {
		return m, err
	}
	if err := s.resealMerged(ctx, tx, a, &m); err != nil {
		return m, err
	}
	now := s.clock()
	if err := setRecordDeleted(ctx, tx, o, req.MergedID, a.UserID, &now, now); err != nil {
		return m, err
	}
	if len(taken) > 0 {
		update["version"] = pair.survivorRec.Version
		if err := s.editSurvivor(ctx, tx, a, o, req.SurvivorID, update, "merge"); err != nil {
			return m, err
		}
	}
	if m.VersionAfter, err = recordVersion(ctx, tx, o, req.SurvivorID); err != nil {
		return m, err
	}
	if err := recomputeMergedCustomers(ctx, tx, o, m); err != nil {
		return m, err
	}
	m.Fields, m.Moved = taken, len(m.Detail.Moves)
	if err := tx.InsertMerge(ctx, &m); err != nil {
		return m, err
	}
	if _, err := tx.SetDupPairStatus(ctx, o, req.MergedID, crm.DupPairOpen, crm.DupPairMerged); err != nil {
		return m, err
	}
	if err := s.audit(ctx, tx, a, string(o)+".merge", o, req.SurvivorID, map[string]any{"merge": m.ID,
		"merged_id": req.MergedID, "fields": taken, "moved": len(m.Detail.Moves), "resealed": len(m.Detail.Resealed)}); err != nil {
		return m, err
	}
	return m, s.audit(ctx, tx, a, string(o)+".merged_into", o, req.MergedID, map[string]any{"merge": m.ID, "survivor_id": req.SurvivorID})
}

// lockPair locks both records (in id order, so two merges of the same pair
// cannot wait on each other) within the actor's edit scope, checks the
// versions the user compared (versions false: a comparison, which has
// none) and opens them.
func (s *Service) lockPair(ctx context.Context, tx *store.Tx, a *access.Actor, o crm.Object, req crm.MergeRequest, versions bool) (mergedPair, error) {
	var pair mergedPair
	ids := []int64{min(req.SurvivorID, req.MergedID), max(req.SurvivorID, req.MergedID)}
	for _, id := range ids {
		if err := editableRecord(ctx, tx, a, o, id); err != nil {
			if id == req.MergedID {
				return pair, refError(err, "merged_id")
			}
			return pair, refError(err, "survivor_id")
		}
	}
	for _, r := range []struct {
		id, version int64
		field       string
		rec         *any
	}{{req.SurvivorID, req.SurvivorVersion, "survivor_version", &pair.survivor}, {req.MergedID, req.MergedVersion, "merged_version", &pair.merged}} {
		p, err := tx.AnyRecord(ctx, o, r.id)
		if err == nil {
			err = s.openRecord(ctx, p)
		}
		if err != nil {
			return pair, err
		}
		if err := checkVersion(r.version, recordOf(p).Version); versions && err != nil {
			return pair, renameField(err, "version", r.field)
		}
		*r.rec = p
	}
	pair.survivorRec, pair.mergedRec = recordOf(pair.survivor), recordOf(pair.merged)
	var err error
	if pair.survivorFields, err = fieldValues(pair.survivor); err != nil {
		return pair, err
	}
	pair.mergedFields, err = fieldValues(pair.merged)
	return pair, err
}

// editSurvivor changes the survivor's fields through its normal edit. A
// change a key-field approval policy holds is refused, not filed: an
// approval of the field alone would not be an approval of the merge (nor
// of its undo), and a merge must not be a way around the policy.
func (s *Service) editSurvivor(ctx context.Context, tx *store.Tx, a *access.Actor, o crm.Object, id int64, update map[string]any, what string) error {
	err := objectHooks[o].imports.update(ctx, s, tx, a, id, mustJSON(update))
	var need *approvalNeeded
	if errors.As(err, &need) {
		return &crm.Error{Code: crm.Conflict, Key: what + "_needs_approval", Message: "the " + what +
			" would change fields that need approval: keep the survivor's values for them and change them afterwards through the normal edit"}
	}
	return err
}

// fieldValues returns a record's fields as JSON values by name, its custom
// values as "custom.<key>".
func fieldValues(p any) (map[string]json.RawMessage, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(mustJSON(p), &all); err != nil {
		return nil, err
	}
	var custom map[string]json.RawMessage
	if raw, ok := all["custom"]; ok {
		if err := json.Unmarshal(raw, &custom); err != nil {
			return nil, err
		}
	}
	delete(all, "custom")
	for k, v := range custom {
		all["custom."+k] = v
	}
	return all, nil
}

// emptyValue reports a JSON value that holds nothing.
func emptyValue(v json.RawMessage) bool {
	switch string(bytes.TrimSpace(v)) {
	case "", "null", `""`, "0", "[]", "{}", "false":
		return true
	}
	return false
}

// mergeUpdate builds the survivor's update (JSON names, custom values
// under "custom") from the choices: a chosen field takes the merged
// record's value; one left out does when the survivor's is empty and the
// actor may edit it. It returns the fields that change.
func mergeUpdate(a *access.Actor, o crm.Object, pair mergedPair, choices map[string]string) (map[string]any, []string) {
	update, custom := map[string]any{}, map[string]any{}
	var taken []string
	for _, name := range mergeableNames(o, pair) {
		mine, theirs := pair.survivorFields[name], pair.mergedFields[name]
		keep := choices[name]
		if keep == "" && emptyValue(mine) && !emptyValue(theirs) && editableField(a, o, name) {
			keep = crm.KeepMerged
		}
		if keep != crm.KeepMerged || bytes.Equal(mine, theirs) {
			continue
		}
		taken = append(taken, name)
		if key, ok := strings.CutPrefix(name, "custom."); ok {
			custom[key] = theirs
		} else {
			update[name] = theirs
		}
	}
	if len(custom) > 0 {
		update["custom"] = custom
	}
	return update, taken
}

// mergeableNames lists the fields a merge compares: the object's mergeable
// fields in the registry's order, then the custom values either record
// holds, by key.
func mergeableNames(o crm.Object, pair mergedPair) []string {
	spec, _ := crm.Spec(o)
	var names, custom []string
	for _, f := range spec.Fields {
		if f.Mergeable {
			names = append(names, f.Name)
		}
	}
	for _, values := range []map[string]json.RawMessage{pair.survivorFields, pair.mergedFields} {
		for name := range values {
			if strings.HasPrefix(name, "custom.") && !slices.Contains(custom, name) {
				custom = append(custom, name)
			}
		}
	}
	slices.Sort(custom)
	return append(names, custom...)
}

// editableField reports whether the actor's field rules let them change a
// field (a custom value: its key).
func editableField(a *access.Actor, o crm.Object, name string) bool {
	if key, ok := strings.CutPrefix(name, "custom."); ok {
		return a.Field(o, key).Editable()
	}
	return a.Field(o, name).Editable()
}

// resealMerged moves what is sealed under the merged record's key to the
// survivor's. For a person: everything under their key, and their
// consents, privacy requests and legal hold. For a customer: the
// follow-ups the merge moved that were sealed under its key.
func (s *Service) resealMerged(ctx context.Context, tx *store.Tx, a *access.Actor, m *store.MergeRow) error {
	if m.Object == crm.ObjCustomer {
		return s.resealCustomerFollowUps(ctx, tx, m)
	}
	if m.MergedKey == "" || m.SurvivorKey == "" || m.MergedKey == m.SurvivorKey {
		return nil // a record from before person keys, or one person already
	}
	refs, err := tx.KeyHolders(ctx, []string{m.MergedKey})
	if err != nil {
		return err
	}
	for _, r := range refs {
		if r.Object == crm.ObjCustomer {
			continue // never under a person's key
		}
		if err := s.reseal(ctx, tx, r, m.MergedKey, m.SurvivorKey); err != nil {
			return err
		}
		m.Detail.Resealed = append(m.Detail.Resealed, crm.PersonRef{Object: r.Object, ID: r.ID})
	}
	m.Detail.Withdrawn, m.Detail.HoldAdded, err = tx.MoveConsentKeys(ctx, m.MergedKey, m.SurvivorKey, s.clock(), a.UserID)
	return err
}

// resealCustomerFollowUps moves the follow-ups a customer merge moved
// that were sealed under the merged customer's key (those about no
// person) under the survivor's, so purging the merged customer cannot take
// them with its key.
func (s *Service) resealCustomerFollowUps(ctx context.Context, tx *store.Tx, m *store.MergeRow) error {
	if m.MergedKey == "" {
		return nil
	}
	holders, err := tx.KeyHolders(ctx, []string{m.MergedKey})
	if err != nil {
		return err
	}
	survivorKey := ""
	for _, r := range holders {
		if r.Object != crm.ObjFollowUp {
			continue
		}
		if survivorKey == "" {
			if survivorKey, err = s.followUpKey(ctx, tx, "", m.SurvivorID); err != nil {
				return err
			}
			m.SurvivorKey = survivorKey
		}
		if err := s.reseal(ctx, tx, r, m.MergedKey, survivorKey); err != nil {
			return err
		}
		m.Detail.Resealed = append(m.Detail.Resealed, crm.PersonRef{Object: r.Object, ID: r.ID})
	}
	return nil
}

// setRecordDeleted moves a record into the recycle bin (at non-nil) or out
// of it; a customer's children stay where they are.
func setRecordDeleted(ctx context.Context, tx *store.Tx, o crm.Object, id, by int64, at *timeT, now timeT) error {
	if o == crm.ObjCustomer {
		return tx.SetCustomerDeleted(ctx, id, by, at, now)
	}
	return tx.SetDeleted(ctx, o, id, by, at, now)
}

// recordVersion reads a record's current version.
func recordVersion(ctx context.Context, tx *store.Tx, o crm.Object, id int64) (int64, error) {
	p, err := tx.AnyRecord(ctx, o, id)
	if err != nil {
		return 0, err
	}
	return recordOf(p).Version, nil
}

// recomputeMergedCustomers keeps the follow-up dates of the customers of a
// customer merge true: follow-ups moved between them.
func recomputeMergedCustomers(ctx context.Context, tx *store.Tx, o crm.Object, m store.MergeRow) error {
	if o != crm.ObjCustomer {
		return nil
	}
	for _, id := range []int64{m.SurvivorID, m.MergedID} {
		if err := tx.RecomputeCustomerFollowUp(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// recordOf returns the common part of a merged object's record.
func recordOf(p any) *crm.Record {
	switch r := p.(type) {
	case *crm.Customer:
		return &r.Record
	case *crm.Contact:
		return &r.Record
	case *crm.Lead:
		return &r.Record
	}
	return &crm.Record{}
}

// MergeField is one row of the comparison before a merge: the field (a
// custom value as "custom.<key>"), both values as the actor may see them,
// whether they differ, whether the actor may choose (their field rules let
// them edit it) and what a merge keeps when nobody chooses.
type MergeField struct {
	Name     string          `json:"name"`
	Survivor json.RawMessage `json:"survivor"`
	Merged   json.RawMessage `json:"merged"`
	Differs  bool            `json:"differs"`
	Editable bool            `json:"editable"`
	Default  string          `json:"default"`
}

// MergePreview is the comparison of two records before a merge: both as
// the actor may see them, field by field, and the related rows that would
// move (per table).
type MergePreview struct {
	Object   crm.Object     `json:"object"`
	Survivor any            `json:"survivor"`
	Merged   any            `json:"merged"`
	Fields   []MergeField   `json:"fields"`
	Moves    map[string]int `json:"moves"`
}

// PreviewMerge compares two records for a merge, within the actor's edit
// scope for both (what a merge needs), and records the view.
func (s *Service) PreviewMerge(ctx context.Context, a *access.Actor, o crm.Object, survivorID, mergedID int64) (MergePreview, error) {
	out := MergePreview{Object: o}
	if !slices.Contains(DuplicateObjects, o) {
		return out, objectProblem()
	}
	if err := s.require(ctx, a, o, crm.ActEdit); err != nil {
		return out, err
	}
	var pair mergedPair
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		pair, err = s.lockPair(ctx, tx, a, o, crm.MergeRequest{SurvivorID: survivorID, MergedID: mergedID}, false)
		if err != nil {
			return err
		}
		out.Moves, err = tx.CountMergedLinks(ctx, o, mergedID)
		return err
	})
	if err != nil {
		return MergePreview{}, err
	}
	_, defaults := mergeUpdate(a, o, pair, nil)
	s.shape(a, pair.survivor)
	s.shape(a, pair.merged)
	shownA, err := fieldValues(pair.survivor)
	if err != nil {
		return out, err
	}
	shownB, err := fieldValues(pair.merged)
	if err != nil {
		return out, err
	}
	for _, name := range mergeableNames(o, pair) {
		f := MergeField{Name: name, Survivor: shownA[name], Merged: shownB[name], Editable: editableField(a, o, name),
			Default: crm.KeepSurvivor}
		// Whether values the actor may not see differ is not theirs to know.
		if f.Editable {
			f.Differs = !bytes.Equal(pair.survivorFields[name], pair.mergedFields[name])
		} else {
			f.Differs = !bytes.Equal(f.Survivor, f.Merged)
		}
		if slices.Contains(defaults, name) {
			f.Default = crm.KeepMerged
		}
		out.Fields = append(out.Fields, f)
	}
	out.Survivor, out.Merged = pair.survivor, pair.merged
	return out, s.auditRead(ctx, a, string(o)+".merge_preview", o, survivorID, []int64{survivorID, mergedID})
}
