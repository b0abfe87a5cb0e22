package service

import (
	"context"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// DefaultRecycleRetention is how long a deleted record stays in the
// recycle bin, restorable, before the purge removes it for good.
const DefaultRecycleRetention = 90 * 24 * time.Hour

// purgeBatch bounds the records one purge transaction removes, so a large
// backlog (a bulk delete of thousands, a first run after an upgrade) never
// holds the writer for long.
const purgeBatch = 100

// PurgeReport counts, by object, the records a purge removed.
type PurgeReport struct {
	Purged map[crm.Object]int `json:"purged"`
	// Busy reports that another instance was purging; it finishes the
	// backlog, and this run stopped.
	Busy bool `json:"busy,omitempty"`
}

// Total is the number of records purged.
func (r PurgeReport) Total() int {
	n := 0
	for _, c := range r.Purged {
		n += c
	}
	return n
}

// purgeAt is when a record deleted at deletedAt leaves the recycle bin for
// good (at the purge job's first run after it: within the hour).
func (s *Service) purgeAt(deletedAt time.Time) time.Time { return deletedAt.Add(s.recycleRetention) }

// PurgeRecycleBin removes for good every record deleted longer ago than the
// retention window, with what hangs off it (its search terms, duplicate
// keys, shares, versions, stage history, the requested values of approval
// requests about it), in batches, as the system job "recycle-purge". Each
// purged record gets its <object>.purge event in the batch's transaction.
// It is idempotent, and with several instances on PostgreSQL one purges at
// a time (the others find the lock taken and stop).
func (s *Service) PurgeRecycleBin(ctx context.Context) (PurgeReport, error) {
	job := access.System("recycle-purge")
	now := s.clock()
	cutoff := now.Add(-s.recycleRetention)
	rep := PurgeReport{Purged: map[crm.Object]int{}}
	for {
		batch, locked, err := s.purgeBatch(ctx, job, cutoff, now)
		if err != nil {
			return rep, err
		}
		if !locked {
			rep.Busy = true
			return rep, nil
		}
		n := 0
		for o, c := range batch {
			rep.Purged[o] += c
			n += c
		}
		if n < purgeBatch {
			return rep, nil
		}
	}
}

// purgeBatch purges up to purgeBatch expired records, children before
// their customers, in one transaction.
func (s *Service) purgeBatch(ctx context.Context, job *access.Actor, cutoff, now time.Time) (map[crm.Object]int, bool, error) {
	var counts map[crm.Object]int
	var locked bool
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		counts, locked = map[crm.Object]int{}, false
		var err error
		if locked, err = tx.TryPurgeLock(ctx); err != nil || !locked {
			return err
		}
		left := purgeBatch
		for _, o := range store.PurgeOrder {
			if left == 0 {
				break
			}
			expired, err := tx.ExpiredRecords(ctx, o, cutoff, left)
			if err != nil {
				return err
			}
			for _, r := range expired {
				res, err := tx.PurgeRecord(ctx, o, r.ID, cutoff, now)
				if err != nil {
					return err
				}
				// Which record and when it was deleted; never its values.
				fields := map[string]any{"deleted_at": r.DeletedAt}
				if len(res.Unlinked) > 0 {
					fields["unlinked"] = res.Unlinked
				}
				if res.Approvals > 0 {
					fields["approval_requests_erased"] = res.Approvals
				}
				if err := s.audit(ctx, tx, job, string(o)+".purge", o, r.ID, fields); err != nil {
					return err
				}
				counts[o]++
				left--
			}
		}
		return nil
	})
	return counts, locked, err
}
