package service

import (
	"context"
	"encoding/json"
	"slices"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// Version history (issue 5): every create and edit of a customer, contact,
// lead, opportunity or follow-up keeps the user-editable fields as that version left
// them. Whoever may see the record compares versions (shaped by their field
// rules); whoever may edit it restores a field or a whole version, which is
// an ordinary edit — validated, duplicate-checked, guarded by field rules and
// approvals, audited — making a new version.

// versionObjects are the objects with version history.
var versionObjects = crm.ObjectsWhere(func(s crm.ObjectSpec) bool { return s.Versioned })

// keepVersion stores a version of a record inside the write's transaction.
// For a contact or lead, dataKey seals its personal fields in the version
// as in the record.
func (s *Service) keepVersion(ctx context.Context, tx *store.Tx, a *access.Actor, o crm.Object, id, version int64, dataKey string, fields any) error {
	b, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	if b, err = s.sealJSON(ctx, tx, o, dataKey, b); err != nil {
		return err
	}
	v := crm.RecordVersion{Version: version, Fields: b, At: s.clock()}
	if a != nil {
		v.ActorID, v.ActorName = a.UserID, a.Name
	}
	return tx.InsertVersion(ctx, o, id, v)
}

// Versions returns a record's versions, newest first, to whoever may see
// the record; values their role hides are left out and masked ones masked.
func (s *Service) Versions(ctx context.Context, a *access.Actor, o crm.Object, id int64) ([]crm.RecordVersion, error) {
	if !slices.Contains(versionObjects, o) {
		return nil, crm.ErrNotFound(string(o))
	}
	if err := s.require(ctx, a, o, crm.ActRead); err != nil {
		return nil, err
	}
	var out []crm.RecordVersion
	var pool bool
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		rec, err := s.readInScope(ctx, tx, a, o, id)
		if err != nil {
			return err
		}
		if out, err = tx.ListVersions(ctx, o, id); err != nil {
			return err
		}
		pool = isPool(rec)
		for i := range out {
			if out[i].Fields, err = s.openJSON(ctx, o, dataKeyOf(rec), out[i].Fields); err != nil {
				return err
			}
			out[i].Fields = s.shapeVersion(a, o, pool, out[i].Fields)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []crm.RecordVersion{}
	}
	e := s.event(a, string(o)+".versions", o, id)
	e.Fields = mustJSON(fieldsFor(a, o, pool))
	return out, s.recordRead(ctx, e)
}

// shapeVersion applies the field rules to one version's fields.
func (s *Service) shapeVersion(a *access.Actor, o crm.Object, pool bool, fields json.RawMessage) json.RawMessage {
	var m map[string]any
	if json.Unmarshal(fields, &m) != nil {
		return fields
	}
	for name, v := range m {
		if name == "custom" {
			if hidesCustom(a, o) {
				delete(m, name)
			}
			continue
		}
		switch fieldAccess(a, o, name, pool) {
		case crm.FieldHidden:
			delete(m, name)
		case crm.FieldMasked:
			if str, ok := v.(string); ok {
				m[name] = s.norm.Mask(maskKind(o, name), str)
			} else {
				delete(m, name)
			}
		}
	}
	return mustJSON(m)
}

// RestoreVersion brings back fields of an earlier version (all of them
// when fields is empty) through the object's normal edit, as a new version.
// current is the version the user is looking at, so a restore over someone
// else's newer edit is refused as stale.
func (s *Service) RestoreVersion(ctx context.Context, a *access.Actor, o crm.Object, id, version, current int64, fields []string) error {
	if !slices.Contains(versionObjects, o) {
		return crm.ErrNotFound(string(o))
	}
	if err := s.require(ctx, a, o, crm.ActEdit); err != nil {
		return err
	}
	var old crm.RecordVersion
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		rec, err := s.readInScope(ctx, tx, a, o, id)
		if err != nil {
			return err
		}
		versions, err := tx.AllVersions(ctx, o, id)
		for _, v := range versions {
			if v.Version == version {
				old = v
			}
		}
		if old.Version != 0 {
			if old.Fields, err = s.openJSON(ctx, o, dataKeyOf(rec), old.Fields); err != nil {
				return err
			}
		}
		if err == nil && old.Version == 0 {
			return &crm.Error{Code: crm.Invalid, Message: "no such version", Fields: []crm.FieldError{{Field: "version", Rule: "not_found"}}}
		}
		return err
	})
	if err != nil {
		return err
	}
	update, err := restoreUpdate(old.Fields, fields, current)
	if err != nil {
		return err
	}
	if err := s.updateFromJSON(ctx, a, o, id, update); err != nil {
		return err
	}
	e := s.event(a, string(o)+".version_restore", o, id)
	e.Fields = mustJSON(map[string]any{"from_version": version, "fields": fields})
	return s.db.WriteTx(ctx, func(tx *store.Tx) error { return s.insertEvent(ctx, tx, e) })
}

// restoreUpdate builds the JSON of a partial update that sets the chosen
// fields of an old version, at the current version.
func restoreUpdate(old json.RawMessage, fields []string, current int64) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(old, &m); err != nil {
		return nil, err
	}
	if len(fields) > 0 {
		var p crm.Problems
		for name := range m {
			if !slices.Contains(fields, name) {
				delete(m, name)
			}
		}
		for _, f := range fields {
			if _, ok := m[f]; !ok {
				p.Add("fields", "enum", f)
			}
		}
		if err := p.Err(); err != nil {
			return nil, err
		}
	}
	if c, ok := m["custom"].(map[string]any); ok && len(c) == 0 {
		delete(m, "custom")
	}
	m["version"] = current
	return json.Marshal(m)
}

// updateFromJSON runs an object's edit (or, for an opportunity with id 0,
// its creation) with a JSON update, for restores and approved requests.
func (s *Service) updateFromJSON(ctx context.Context, a *access.Actor, o crm.Object, id int64, update []byte) error {
	var err error
	if o == crm.ObjOpportunity && id == 0 {
		var f crm.OpportunityFields
		if err = json.Unmarshal(update, &f); err == nil {
			_, err = s.CreateOpportunity(ctx, a, f)
		}
		return err
	}
	h, ok := objectHooks[o]
	if !ok || h.edit == nil {
		return crm.ErrNotFound(string(o))
	}
	return h.edit(ctx, s, a, id, update)
}
