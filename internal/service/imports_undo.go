package service

import (
	"context"
	"errors"
	"slices"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// ImportUndo is what undoing an import did.
type ImportUndo struct {
	// Deleted counts the records moved to the recycle bin.
	Deleted int `json:"deleted"`
	// Changed lists the records the import created that were edited since:
	// kept unless the undo was confirmed for them.
	Changed []int64 `json:"changed,omitempty"`
	// Gone counts records already deleted since the import.
	Gone int `json:"gone"`
}

// UndoImport moves the records an import created to the recycle bin (all
// or nothing per batch, each with its delete event carrying the import).
// Records edited since the import are listed and kept unless confirm is
// set; records it updated keep their versions (restore one from its
// history). The import is then undone, and cannot be undone twice.
func (s *Service) UndoImport(ctx context.Context, a *access.Actor, id int64, confirm bool) (ImportUndo, error) {
	var out ImportUndo
	im, err := s.GetImport(ctx, a, id)
	if err != nil {
		return out, err
	}
	if err := s.require(ctx, a, im.Object, crm.ActDelete); err != nil {
		return out, err
	}
	if im.Status != crm.ImportDone && im.Status != crm.ImportFailed {
		return out, &crm.Error{Code: crm.Conflict, Key: "import_state", Message: "the import is " + string(im.Status) + " and cannot be undone"}
	}
	created, err := s.importCreated(ctx, a, id)
	if err != nil {
		return out, err
	}
	ia := importActor(a, id)
	for start := 0; start < len(created); start += importBatch {
		batch := created[start:min(start+importBatch, len(created))]
		var n, gone int
		var changed []int64
		err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
			n, gone, changed = 0, 0, nil
			now := s.clock()
			for _, rid := range batch {
				v, err := tx.LiveVersion(ctx, im.Object, rid)
				var ce *crm.Error
				if errors.As(err, &ce) && ce.Code == crm.NotFound {
					gone++
					continue
				}
				if err != nil {
					return err
				}
				if v > 1 && !confirm {
					changed = append(changed, rid)
					continue
				}
				if err := editableRecord(ctx, tx, ia, im.Object, rid); err != nil {
					return err
				}
				if err := s.softDelete(ctx, tx, ia, im.Object, rid, now); err != nil {
					return err
				}
				if err := s.audit(ctx, tx, ia, string(im.Object)+".delete", im.Object, rid, nil); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return out, err
		}
		out.Deleted, out.Gone, out.Changed = out.Deleted+n, out.Gone+gone, append(out.Changed, changed...)
	}
	err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
		moved, err := tx.MoveImport(ctx, id, crm.ImportUndone, s.clock(), crm.ImportDone, crm.ImportFailed)
		if err != nil {
			return err
		}
		if !moved {
			return &crm.Error{Code: crm.Conflict, Key: "import_state", Message: "the import changed while it was being undone"}
		}
		if err := tx.DropImportFile(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, ia, "import.undo", im.Object, 0, map[string]any{"import_id": id, "deleted": out.Deleted,
			"kept_changed": out.Changed, "already_deleted": out.Gone})
	})
	return out, err
}

// importCreated lists the records an import created, in file order.
func (s *Service) importCreated(ctx context.Context, a *access.Actor, id int64) ([]int64, error) {
	var ids []int64
	for after := 0; ; {
		rows, err := s.ImportRows(ctx, a, id, after, 1000, false)
		if err != nil {
			return nil, err
		}
		if len(rows) == 0 {
			return slices.Compact(ids), nil
		}
		for _, r := range rows {
			if r.Action == crm.RowCreate {
				ids = append(ids, r.RecordID)
			}
		}
		after = rows[len(rows)-1].Line
	}
}

// ImportKeepDays is how long the original cells of an import's problem
// rows stay readable (for its error report) after it ended.
const ImportKeepDays = 30

// ForgetOldImports destroys the key of every import that ended (done,
// undone, or failed and not resumed) more than ImportKeepDays ago, with the
// file and cells sealed under it, so a person erased
// later leaves nothing readable in an old import; the rows' outcomes and
// reasons stay. serve runs it with the hourly maintenance.
func (s *Service) ForgetOldImports(ctx context.Context) (int, error) {
	var old []crm.Import
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		old, err = tx.ImportsToForget(ctx, s.clock().AddDate(0, 0, -ImportKeepDays), 100)
		return err
	})
	if err != nil {
		return 0, err
	}
	job := access.System("import-forget")
	for _, im := range old {
		if err := s.vault.EraseKeys(ctx, []string{im.DataKey}); err != nil {
			return 0, err
		}
		err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
			if err := tx.ForgetImportData(ctx, im.ID); err != nil {
				return err
			}
			return s.audit(ctx, tx, job, "import.forget", im.Object, 0, map[string]any{"import_id": im.ID})
		})
		if err != nil {
			return 0, err
		}
	}
	return len(old), nil
}
