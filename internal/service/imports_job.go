package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/transfer"
	"custos/internal/vault"
)

// importLease is how long a runner holds an import without renewing; each
// batch (well under a second) renews it, so a runner that died (kill -9)
// gives the import up to another within this time.
const importLease = 15 * time.Second

// ErrImportHeld reports an import another runner holds (its lease has not
// run out): nothing was done.
var ErrImportHeld = errors.New("service: another runner holds the import")

// CommitImport queues a previewed (or failed, to resume it) import for the
// job that commits it; an import above the bulk-import policy's threshold
// is filed for approval first.
func (s *Service) CommitImport(ctx context.Context, a *access.Actor, id int64) (crm.Import, error) {
	im, err := s.GetImport(ctx, a, id)
	if err != nil {
		return im, err
	}
	if im.CreatedBy != a.UserID {
		return im, crm.ErrForbidden()
	}
	if err := s.require(ctx, a, im.Object, crm.ActCreate); err != nil {
		return im, err
	}
	if im.Status != crm.ImportPreviewed && im.Status != crm.ImportFailed && !(carryingOut(ctx) && im.Status == crm.ImportAwaitingApproval) {
		return im, &crm.Error{Code: crm.Conflict, Key: "import_state", Message: "the import is " + string(im.Status) + " and cannot be committed"}
	}
	err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if !carryingOut(ctx) {
			p, on, err := activePolicy(ctx, tx, crm.ApproveBulkImport)
			if err != nil {
				return err
			}
			if on && int64(im.Total) > p.Threshold {
				return needApproval(p, im.Object, 0, 0, importCommit{ImportID: id},
					fmt.Sprintf("import %d: %s, %d rows", id, im.FileName, im.Total))
			}
		}
		from := []crm.ImportStatus{crm.ImportPreviewed, crm.ImportFailed}
		if carryingOut(ctx) {
			from = append(from, crm.ImportAwaitingApproval)
		}
		moved, err := tx.MoveImport(ctx, id, crm.ImportQueued, s.clock(), from...)
		if err != nil {
			return err
		}
		if !moved {
			return &crm.Error{Code: crm.Conflict, Key: "import_state", Message: "the import is " + string(im.Status) + " and cannot be committed"}
		}
		im.Status = crm.ImportQueued
		return s.audit(ctx, tx, importActor(a, id), "import.commit", im.Object, 0, importSummary(im))
	})
	err = s.filed(ctx, a, err)
	if crm.IsCode(err, crm.Pending) {
		// Filed: the import waits (a second commit is refused meanwhile).
		merr := s.db.WriteTx(ctx, func(tx *store.Tx) error {
			_, err := tx.MoveImport(ctx, id, crm.ImportAwaitingApproval, s.clock(), crm.ImportPreviewed, crm.ImportFailed)
			return err
		})
		im.Status = crm.ImportAwaitingApproval
		if merr != nil {
			return im, merr
		}
	}
	return im, err
}

// importCommit is the payload of a bulk-import approval.
type importCommit struct {
	ImportID int64 `json:"import_id"`
}

// RunQueuedImports commits every import waiting for the job (and resumes
// any whose runner died), one after another; serve calls it on a timer,
// the CLI once. holder names this runner in the leases.
func (s *Service) RunQueuedImports(ctx context.Context, holder string, progress func(crm.Import)) error {
	var ids []int64
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		for _, st := range []crm.ImportStatus{crm.ImportRunning, crm.ImportQueued} {
			more, err2 := tx.ImportsWithStatus(ctx, st, 20)
			ids, err = append(ids, more...), err2
			if err != nil {
				return err
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		if err := s.RunImport(ctx, id, holder, progress); !errors.Is(err, ErrImportHeld) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// RunImport commits one import in batches, resuming after the last batch
// that committed. It returns ErrImportHeld at once when another runner
// holds the import, and nil when the import is not waiting to run.
// A batch writes its rows, their outcomes and the resume point in one
// transaction: after kill -9 the import goes on where it stopped and no
// row is written twice.
func (s *Service) RunImport(ctx context.Context, id int64, holder string, progress func(crm.Import)) error {
	lease := "import:" + strconv.FormatInt(id, 10)
	var im crm.Import
	claimed := false
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		now := s.clock()
		ok, err := tx.ClaimLease(ctx, lease, holder, now.Add(importLease), now)
		if err != nil {
			return err
		}
		if !ok {
			return ErrImportHeld
		}
		moved, err := tx.MoveImport(ctx, id, crm.ImportRunning, now, crm.ImportQueued, crm.ImportRunning)
		if err != nil || !moved {
			return err
		}
		if im, err = tx.GetImport(ctx, id); err != nil {
			return err
		}
		claimed = true
		if im.DoneRows == 0 {
			im.ImportCounts = crm.ImportCounts{}
			return tx.ResetImportCounts(ctx, id)
		}
		return nil
	})
	if err != nil || !claimed {
		return err
	}
	runErr := s.runImport(ctx, im, holder, progress)
	return errors.Join(runErr, s.db.WriteTx(ctx, func(tx *store.Tx) error { return tx.ReleaseLease(ctx, lease, holder) }))
}

func (s *Service) runImport(ctx context.Context, im crm.Import, holder string, progress func(crm.Import)) error {
	a, err := s.UserActor(ctx, im.CreatedBy)
	if err != nil {
		return s.failImport(ctx, im, err)
	}
	a = importActor(a, im.ID)
	ctx = context.WithValue(ctx, importingKey{}, im.ID)
	hooks := objectHooks[im.Object].imports
	rd, err := s.openImportFile(ctx, im)
	if err != nil {
		return s.failImport(ctx, im, err)
	}
	defer rd.Close()
	customs, err := s.CustomFields(ctx, a, im.Object)
	if err != nil {
		return s.failImport(ctx, im, err)
	}
	plan, err := newImportPlan(im.Object, rd.Header(), im.Options, customs, s.Location(a))
	if err != nil {
		return s.failImport(ctx, im, err)
	}
	run := &importRun{s: s, a: a, im: im, plan: plan, hooks: hooks}
	if err := run.start(ctx); err != nil {
		return s.failImport(ctx, im, err)
	}
	// Rows committed by earlier runs are read past, not written again.
	if _, err := readBatch(rd, im.DoneRows); err != nil {
		return s.failImport(ctx, im, err)
	}
	run.turn = im.ImportCounts.Created
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch, err := readBatch(rd, importBatch)
		if err != nil {
			return s.failImport(ctx, im, err)
		}
		if len(batch) == 0 {
			break
		}
		if err := s.commitBatch(ctx, run, &im, batch, holder); err != nil {
			return s.failImport(ctx, im, err)
		}
		if progress != nil {
			progress(im)
		}
	}
	return s.finishImport(ctx, a, im)
}

// commitBatch writes one batch — its rows, their outcomes, the resume
// point and the renewed lease together: first without savepoints, and
// again with one per row if a row failed (importRun.careful).
func (s *Service) commitBatch(ctx context.Context, run *importRun, im *crm.Import, batch []fileRow, holder string) error {
	var counts crm.ImportCounts
	turn := run.turn
	run.careful = false
	write := func(tx *store.Tx) error {
		run.turn, counts = turn, crm.ImportCounts{}
		if err := run.findRisky(ctx, tx, batch); err != nil {
			return err
		}
		if err := run.preloadCustomers(ctx, tx, batch); err != nil {
			return err
		}
		defer func() { run.customers = nil }()
		rows := make([]crm.ImportRow, len(batch))
		raws := make([]string, len(batch))
		each := func() error {
			for i, in := range batch {
				var err error
				if rows[i], raws[i], err = run.one(ctx, tx, in, nil); err != nil {
					return err
				}
				counts.Add(rows[i].Action)
			}
			return nil
		}
		if run.careful {
			// Row by row: a row's own failure stays the row's.
			if err := each(); err != nil {
				return err
			}
		} else if err := tx.Bulk(ctx, each); err != nil {
			// A held row the database refused (an external id two rows
			// of the batch gave) is found out row by row.
			var ce *crm.Error
			if errors.As(err, &ce) && ce.Code == crm.Conflict {
				return errRowFailed
			}
			return err
		}
		if err := tx.PutImportRows(ctx, im.ID, rows, raws); err != nil {
			return err
		}
		now := s.clock()
		if ok, err := tx.ClaimLease(ctx, "import:"+strconv.FormatInt(im.ID, 10), holder, now.Add(importLease), now); err != nil || !ok {
			return errors.Join(err, errors.New("service: the import's lease was lost"))
		}
		return tx.AdvanceImport(ctx, im.ID, im.DoneRows, im.DoneRows+len(batch), counts)
	}
	if spec, _ := crm.Spec(im.Object); spec.Personal {
		// Each new person's key is made ahead, outside the transaction.
		if err := s.vault.ReservePersonKeys(ctx, len(batch)); err != nil {
			return err
		}
	}
	err := s.db.WriteTxAlone(ctx, write)
	if errors.Is(err, errRowFailed) {
		run.careful = true
		err = s.db.WriteTxAlone(ctx, write)
	}
	if err != nil {
		return err
	}
	im.DoneRows += len(batch)
	im.Created += counts.Created
	im.Updated += counts.Updated
	im.Skipped += counts.Skipped
	im.Failed += counts.Failed
	im.Duplicates += counts.Duplicates
	return nil
}

// findRisky notes the rows of the batch the preview planned not to create
// or update (or gave a warning): they run in a savepoint of their own from
// the first try, so a batch whose failing rows were foreseen runs once. A
// row that fails unforeseen still makes the batch run again carefully.
func (r *importRun) findRisky(ctx context.Context, tx *store.Tx, batch []fileRow) error {
	r.risky = map[int]bool{}
	if len(batch) == 0 || r.careful {
		return nil
	}
	last := batch[len(batch)-1].line
	rows, _, err := tx.ImportRows(ctx, r.im.ID, batch[0].line-1, len(batch), true)
	for _, row := range rows {
		if row.Line <= last {
			r.risky[row.Line] = true
		}
	}
	return err
}

// finishImport marks the import done, drops its stored file (the rows
// kept for the error report stay, sealed) and audits the outcome.
func (s *Service) finishImport(ctx context.Context, a *access.Actor, im crm.Import) error {
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		moved, err := tx.MoveImport(ctx, im.ID, crm.ImportDone, s.clock(), crm.ImportRunning)
		if err != nil || !moved {
			return err
		}
		if err := tx.DropImportFile(ctx, im.ID); err != nil {
			return err
		}
		im.Status = crm.ImportDone
		return s.audit(ctx, tx, a, "import.done", im.Object, 0, importSummary(im))
	})
}

// failImport marks the import failed with the reason (it can be committed
// again to resume) and returns the error.
func (s *Service) failImport(ctx context.Context, im crm.Import, cause error) error {
	ferr := s.db.WriteTx(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		return tx.FailImport(ctx, im.ID, cause.Error(), s.clock())
	})
	return errors.Join(fmt.Errorf("import %d: %w", im.ID, cause), ferr)
}

// openImportFile reads the import's stored file back through its key.
func (s *Service) openImportFile(ctx context.Context, im crm.Import) (*transfer.Reader, error) {
	ring, err := s.vault.DataKeys(ctx, []string{im.DataKey})
	if err != nil {
		return nil, err
	}
	f := &storedFile{ctx: ctx, s: s, im: im, ring: ring, seq: -1}
	rd, _, err := transfer.Open(f, im.FileSize, im.FileName, transfer.Options{Encoding: im.Options.Encoding, Sheet: im.Options.Sheet})
	return rd, err
}

// storedFile reads an import's sealed file piece by piece (one piece
// open at a time), so a large file is never whole in memory.
type storedFile struct {
	ctx  context.Context
	s    *Service
	im   crm.Import
	ring vault.KeyRing
	seq  int
	data []byte
}

// ReadAt implements io.ReaderAt over the stored pieces.
func (f *storedFile) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if pos >= f.im.FileSize {
			return n, io.EOF
		}
		seq := int(pos / importChunk)
		if seq != f.seq {
			if err := f.load(seq); err != nil {
				return n, err
			}
		}
		n += copy(p[n:], f.data[pos-int64(seq)*importChunk:])
	}
	return n, nil
}

func (f *storedFile) load(seq int) error {
	var sealed string
	err := f.s.db.ReadTx(f.ctx, func(tx *store.Tx) error {
		var err error
		sealed, err = tx.ImportChunk(f.ctx, f.im.ID, seq)
		return err
	})
	if err != nil {
		return err
	}
	plain, err := f.ring.Open(f.im.DataKey, "import.file", sealed)
	if err != nil {
		return err
	}
	f.seq, f.data = seq, []byte(plain)
	return nil
}
