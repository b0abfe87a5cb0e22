package service

import (
	"context"
	"slices"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// Possible duplicates on the quality page (issue 14 §4): a record counts
// when it is in an open pair of its object's latest finished duplicate scan
// and the reader may see the other record of the pair too — exactly the
// pairs the duplicate review page shows the reader. A record whose only
// match is hidden from the reader is not counted, so the figure never tells
// of a record the reader may not see (the entry check's "exists, owned by
// X" stays the only named read across scope).

// dupScopeTx returns how the reader counts duplicates of o, or nil when o
// is not scanned or was never scanned (no record is a possible duplicate).
func dupScopeTx(ctx context.Context, tx *store.Tx, a *access.Actor, o crm.Object) (*store.DupScope, error) {
	if !slices.Contains(DuplicateObjects, o) {
		return nil, nil
	}
	scan, err := tx.LatestDupScan(ctx, o)
	if crm.IsCode(err, crm.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &store.DupScope{ScanID: scan.ID, Partner: store.NameScope{Scope: a.SharedScope(o, false), Child: childScope(a, o, false),
		PoolVisible: a.Can(crm.ObjCustomer, crm.ActRead)}}, nil
}
