package service

import (
	"context"
	"encoding/json"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// What a salesperson refused as a duplicate may ask the owner for.
const (
	AccessShare    = "share"    // work on the record together (an edit share)
	AccessHandover = "handover" // take the record over
)

// AccessRequest asks the owner of the record a refused entry duplicated for
// a share or a hand-over. Fields are the values the form was refused with:
// the service finds the record again from them, so the requester never
// learns more than the refusal told them (who owns it).
type AccessRequest struct {
	Object crm.Object      `json:"object"`
	Fields json.RawMessage `json:"fields"`
	Access string          `json:"access"`
}

type accessPayload struct {
	Access string `json:"access"`
}

// RequestAccess files an access request with the owner of the live record
// that the given values duplicate (the next step the duplicate refusal
// offers). The owner decides it like any approval; approved, the owner
// shares the record with the requester (edit) or hands it over.
func (s *Service) RequestAccess(ctx context.Context, a *access.Actor, in AccessRequest) error {
	if err := s.mayImport(ctx, a, in.Object); err != nil {
		return err
	}
	var p crm.Problems
	in.Access = p.Enum("access", in.Access, true, []string{AccessShare, AccessHandover})
	if err := p.Err(); err != nil {
		return err
	}
	hooks := objectHooks[in.Object].imports
	// Finding the record from values is a lookup by them, like the entry
	// check it follows: audited and within the hourly limit, so the request
	// cannot be used to test values one after another.
	var hit *store.DuplicateHit
	var version int64
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		keys, err := hooks.check(ctx, s, tx, a, in.Fields, false)
		if err != nil {
			return err
		}
		blind := s.lookupKeys(checkedKeys(keys))
		looked, err := s.checkEntryLookups(ctx, tx, a, blind, in.Object, 0)
		if err != nil {
			return err
		}
		if hit, err = tx.FindDuplicate(ctx, blind, "", 0); err != nil {
			return err
		}
		if hit != nil && hit.OwnerName != "" {
			if version, err = tx.CurrentVersion(ctx, crm.Object(hit.Object), hit.RecordID); err != nil {
				return err
			}
		}
		if looked == nil {
			return nil
		}
		return looked.write(ctx, tx, false)
	})
	s.auditEntryLookups(ctx, err)
	if err != nil {
		return err
	}
	switch {
	case hit == nil:
		return &crm.Error{Code: crm.NotFound, Key: "not_found", Message: "no record holds these values any more: save it again"}
	case hit.OwnerName == "":
		return &crm.Error{Code: crm.Conflict, Key: "in_pool", Message: "the record is in the public pool: claim it"}
	}
	o := crm.Object(hit.Object)
	ospec, _ := crm.Spec(o)
	if in.Access == AccessShare && !ospec.Shareable || in.Access == AccessHandover && !ospec.Transferable {
		return &crm.Error{Code: crm.Invalid, Message: "this record cannot be shared or handed over that way",
			Fields: []crm.FieldError{{Field: "access", Rule: "enum", Param: AccessHandover}}}
	}
	policy := crm.ApprovalPolicy{Kind: crm.ApproveAccess, Steps: []crm.ApprovalStep{{Type: "owner"}}}
	err = needApproval(policy, o, hit.RecordID, version, accessPayload{Access: in.Access},
		"access to a "+string(o)+" owned by "+hit.OwnerName+": "+in.Access)
	return s.filed(ctx, a, err)
}
